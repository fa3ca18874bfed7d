// Network off means a fresh net namespace: no interface but lo, which comes
// up only if the profile asks (programs that talk to themselves need it).
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {

void setup_network(const Network& net) {
    if (net.enabled || !net.loopback) return;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw sys_error("network: socket for lo");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_UP | IFF_RUNNING;
    int rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    int err = errno;
    close(fd);
    if (rc != 0) throw sys_error("network: bring up", "lo", err);
}

}  // namespace sandboxrun
