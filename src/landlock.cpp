// Landlock, a second wall behind the mounts: even if a bind were ever
// writable by mistake, the target may only write where the policy allows,
// and with the network off it may not bind or connect TCP. The ABI is
// probed at run time; the definitions are ours because Debian 12's headers
// stop at ABI 2.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;   // ABI 4
    std::uint64_t scoped;               // ABI 6
};
struct PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
} __attribute__((packed));
struct NetPortAttr {
    std::uint64_t allowed_access;
    std::uint64_t port;
};

constexpr std::uint32_t create_ruleset_version = 1u << 0;
constexpr int rule_path_beneath = 1;
constexpr std::uint64_t fs_execute = 1ull << 0, fs_write_file = 1ull << 1, fs_read_file = 1ull << 2,
                        fs_read_dir = 1ull << 3, fs_refer = 1ull << 13, fs_truncate = 1ull << 14,
                        fs_ioctl_dev = 1ull << 15;
constexpr std::uint64_t net_bind_tcp = 1ull << 0, net_connect_tcp = 1ull << 1;
constexpr std::uint64_t scope_abstract_unix = 1ull << 0, scope_signal = 1ull << 1;

std::uint64_t fs_access_for(int abi) {
    std::uint64_t all = (1ull << 13) - 1;   // ABI 1: execute .. make_sym
    if (abi >= 2) all |= fs_refer;
    if (abi >= 3) all |= fs_truncate;
    if (abi >= 5) all |= fs_ioctl_dev;
    return all;
}

void allow_path(int ruleset, const std::string& path, std::uint64_t access) {
    int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return;   // optional paths that are not there need no rule
    if (fd < 0) throw sys_error("landlock: open", path);
    // A rule on a file (a bind of one) may hold file rights only.
    struct stat st {};
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        access &= fs_execute | fs_write_file | fs_read_file | fs_truncate | fs_ioctl_dev;
    PathBeneathAttr attr{access, fd};
    long rc = syscall(SYS_landlock_add_rule, ruleset, rule_path_beneath, &attr, 0);
    int err = errno;
    close(fd);
    if (rc != 0) throw sys_error("landlock: add rule", path, err);
}

// Character devices a judge passes as stdio that are harmless to open again:
// null, zero, full, random, urandom (major 1; not mem, kmem, port).
bool plain_device(const struct stat& st) {
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1) return false;
    const unsigned minor_number = minor(st.st_rdev);
    return minor_number == 3 || minor_number == 5 || minor_number == 7 || minor_number == 8 || minor_number == 9;
}

// The program's stdio files may lie outside its root (--stdin FILE, an
// inherited file or FIFO, the host's /dev/null or terminal). Reopening one
// through /dev/stdin (/proc/self/fd/0), as Node's readFileSync('/dev/stdin')
// does, gets what the fd already gives.
void allow_stdio(int ruleset, int abi) {
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st {};
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fstat(fd, &st) != 0 ||
            !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || plain_device(st) || (S_ISCHR(st.st_mode) && isatty(fd))))
            continue;
        std::uint64_t access = 0;
        if ((flags & O_ACCMODE) != O_WRONLY) access |= fs_read_file;
        if ((flags & O_ACCMODE) != O_RDONLY) access |= fs_write_file | (abi >= 3 ? fs_truncate : 0);
        PathBeneathAttr attr{access, fd};
        // (A pipe is no FIFO of a file system: it has no path to allow, nor needs one.)
        if (syscall(SYS_landlock_add_rule, ruleset, rule_path_beneath, &attr, 0) != 0 &&
            !(errno == EBADFD && S_ISFIFO(st.st_mode)))
            throw sys_error("landlock: add rule for stdio fd " + std::to_string(fd));
    }
}

}  // namespace

LandlockStatus landlock_probe() {
    long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, create_ruleset_version);
    if (abi > 0) return {static_cast<int>(abi), {}};
    if (errno == ENOSYS) return {0, "the kernel has no Landlock (built without CONFIG_SECURITY_LANDLOCK)"};
    if (errno == EOPNOTSUPP) return {0, "Landlock is disabled at boot (add landlock to the lsm= kernel parameter)"};
    return {0, std::string("landlock_create_ruleset: ") + std::strerror(errno)};
}

void apply_landlock(const MountPlan& plan, const Network& net, int abi) {
    if (abi <= 0) return;
    const std::uint64_t all = fs_access_for(abi);
    const std::uint64_t read = fs_execute | fs_read_file | fs_read_dir;
    RulesetAttr attr{all, 0, 0};
    std::size_t size = sizeof(std::uint64_t);
    if (abi >= 4 && !net.enabled) {
        attr.handled_access_net = net_bind_tcp | net_connect_tcp;   // handled and never allowed
        size = 2 * sizeof(std::uint64_t);
    }
    if (abi >= 6) {
        // Signals and abstract unix sockets stay inside the run's own domain.
        attr.scoped = scope_abstract_unix | scope_signal;
        size = sizeof attr;
    }
    int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
    if (ruleset < 0) throw sys_error("landlock: create ruleset");
    try {
        allow_path(ruleset, "/", read);
        allow_path(ruleset, "/dev", read | fs_write_file | (abi >= 5 ? fs_ioctl_dev : 0) | (abi >= 3 ? fs_truncate : 0));
        // /proc is read-only: its files of the run's own processes set what
        // the run must not (oom_score_adj, clear_refs resetting the peak RSS).
        allow_path(ruleset, "/proc", read);
        allow_stdio(ruleset, abi);
        for (const MountOp& op : plan.ops) {
            bool writable = (op.kind == MountOp::Kind::bind && op.writable) || op.kind == MountOp::Kind::tmpfs ||
                            (op.kind == MountOp::Kind::dev && op.writable);
            if (!writable) continue;
            allow_path(ruleset, op.kind == MountOp::Kind::dev ? "/dev/shm" : op.target, all);
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw sys_error("landlock: no_new_privs");
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) throw sys_error("landlock: restrict_self");
    } catch (...) {
        close(ruleset);
        throw;
    }
    close(ruleset);
}

}  // namespace sandboxrun
