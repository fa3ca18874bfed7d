// Every capability goes, from every set, and no_new_privs makes sure nothing
// (setuid binaries, file capabilities) can give one back.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {

void drop_capabilities() {
    for (int cap = 0; cap <= 63; ++cap) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL) break;   // numbers are contiguous: past this kernel's last one
        throw sys_error("capabilities: drop from bounding set", std::to_string(cap));
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        throw sys_error("capabilities: clear ambient set");
    if (prctl(PR_SET_SECUREBITS, 0x2f /* NOROOT, NO_SETUID_FIXUP and KEEP_CAPS, each locked */, 0, 0, 0) != 0 &&
        errno != EPERM)
        throw sys_error("capabilities: securebits");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capset, &header, data) != 0) throw sys_error("capabilities: capset");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw sys_error("capabilities: no_new_privs");
}

}  // namespace sandboxrun
