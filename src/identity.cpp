// Which host uid/gid the run's processes have. Never host root: invoked by
// root, each run reserves its own unprivileged uid from a range (like
// isolate's boxes), so concurrent runs cannot signal or trace each other.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

constexpr const char* slot_dir = "/run/sandboxrun/uids";

void write_file(const std::string& path, const std::string& text, const char* step = "user namespace") {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error(std::string(step) + ": open", path);
    ssize_t n = write(fd, text.data(), text.size());
    int err = errno;
    close(fd);
    if (n != static_cast<ssize_t>(text.size()))
        throw sys_error(std::string(step) + ": write \"" + text.substr(0, text.find('\n')) + "\" to", path, err);
}

// Whether /proc/self/uid_map (and gid_map) map all of first..first+count-1.
bool maps_uids(std::uint32_t first, std::uint32_t count) {
    for (const char* map : {"/proc/self/uid_map", "/proc/self/gid_map"}) {
        std::ifstream in(map);
        std::uint64_t inside = 0, outside = 0, length = 0;
        bool covered = !in;   // (no map to read: assume the host's)
        while (!covered && in >> inside >> outside >> length)
            covered = first >= inside && std::uint64_t(first) + count <= inside + length;
        if (!covered) return false;
    }
    return true;
}

// The capabilities root's path needs (mounts and cgroups, the range's id
// maps) that uid 0 may lack: a container's root, setpriv --bounding-set.
std::string missing_root_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2]{};
    if (syscall(SYS_capget, &header, caps) != 0) return {};
    std::string missing;
    for (auto [cap, name] : {std::pair{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}, {CAP_SETUID, "CAP_SETUID"},
                             {CAP_SETGID, "CAP_SETGID"}})
        if (!(caps[cap / 32].effective & (1u << (cap % 32))))
            missing += (missing.empty() ? "" : ", ") + std::string(name);
    return missing;
}

}  // namespace

Identity reserve_identity(const UidRange& range) {
    Identity id;
    if (geteuid() != 0) {
        id.host_uid = geteuid();
        id.host_gid = getegid();
        return id;
    }
    id.privileged = true;
    if (const std::string missing = missing_root_capabilities(); !missing.empty())
        throw Error("running as uid 0 without " + missing + " (a container's root, or capabilities dropped): give "
                    "sandboxrun those, or start it as another user (it isolates through user namespaces then)");
    if (range.count == 0) throw Error("uid range: no uids to hand out (--uid-range FIRST:COUNT)");
    if (range.first == 0 || range.count > 0xFFFFFFFFu - range.first)
        throw Error("uid range: must not start at 0 or wrap past the largest uid (the run would be host root)");
    // Root of a user namespace (a rootless container) has only the uids its
    // map gives it: every one of the range must be among them.
    if (!maps_uids(range.first, range.count))
        throw Error(fmt::format("uid range: {}-{} is not mapped in this user namespace (sandboxrun runs as root of a "
                                "container's user namespace, see /proc/self/uid_map): pass a --uid-range of mapped "
                                "uids, or run sandboxrun as a user other than root",
                                range.first, range.first + range.count - 1));
    if (mkdir("/run/sandboxrun", 0755) != 0 && errno != EEXIST) throw sys_error("uid range: mkdir", "/run/sandboxrun");
    if (mkdir(slot_dir, 0700) != 0 && errno != EEXIST) throw sys_error("uid range: mkdir", slot_dir);

    // Start at a random slot so concurrent runs rarely contend for the same lock.
    // (getrandom, not std::random_device: that probes the CPU with cpuid, a
    // trap to the hypervisor in a VM.)
    std::uint32_t start = 0;
    if (getrandom(&start, sizeof start, 0) != sizeof start) throw sys_error("uid range: getrandom");
    start %= range.count;
    for (std::uint32_t i = 0; i < range.count; ++i) {
        std::uint32_t slot = (start + i) % range.count;
        std::string path = std::string(slot_dir) + "/" + std::to_string(range.first + slot);
        int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) throw sys_error("uid range: open", path);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            id.host_uid = range.first + slot;
            id.host_gid = range.first + slot;
            id.slot_lock = fd;
            return id;
        }
        close(fd);
    }
    throw Error("uid range: all " + std::to_string(range.count) + " uids from " +
                std::to_string(range.first) + " are in use by other runs");
}

void release_identity(Identity& id) {
    if (id.slot_lock >= 0) close(id.slot_lock);   // dropping the flock frees the slot
    id.slot_lock = -1;
}

void write_id_maps(pid_t child, const Identity& id) {
    std::string proc = "/proc/" + std::to_string(child);
    // Unprivileged writers must deny setgroups before mapping gids; root keeps
    // it so the run can drop root's supplementary groups.
    if (!id.privileged) write_file(proc + "/setgroups", "deny");
    write_file(proc + "/uid_map", std::to_string(id.inside_uid) + " " + std::to_string(id.host_uid) + " 1\n");
    write_file(proc + "/gid_map", std::to_string(id.inside_gid) + " " + std::to_string(id.host_gid) + " 1\n");
}

void pin_oom_score(pid_t child, const Identity& id) {
    // Only a writer with CAP_SYS_RESOURCE in the host's user namespace sets
    // the floor; pid 1's own write (from inside) raises the score but a run
    // could lower it again.
    if (id.privileged) write_file("/proc/" + std::to_string(child) + "/oom_score_adj", "1000", "oom score");
}

}  // namespace sandboxrun

namespace sandboxrun {

RunOwner::RunOwner(const Identity& id) {
    if (!id.privileged) return;   // the caller's own uid owns it anyway
    securebits_ = prctl(PR_GET_SECUREBITS);
    // Keep the capabilities across the change of effective uid, so that the
    // file-system uid can go back to root's (CLONE_INTO_CGROUP checks it).
    // The child inherits the bit; pid 1 changes its ids once, keeping its
    // capabilities anyway, and the target holds none for it to keep.
    if (securebits_ < 0 || prctl(PR_SET_SECUREBITS, securebits_ | SECBIT_NO_SETUID_FIXUP) != 0)
        throw sys_error("identity: keep capabilities (PR_SET_SECUREBITS)");
    if (setresuid(static_cast<uid_t>(-1), id.host_uid, static_cast<uid_t>(-1)) != 0) {
        int err = errno;
        prctl(PR_SET_SECUREBITS, securebits_);
        throw sys_error("identity: effective uid", std::to_string(id.host_uid), err);
    }
    switched_ = true;
    setfsuid(0);
}

RunOwner::~RunOwner() {
    if (!switched_) return;
    // Both cannot fail: our real and saved uid are 0, and we hold CAP_SETPCAP.
    [[maybe_unused]] int rc = setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1));
    prctl(PR_SET_SECUREBITS, securebits_);
}

bool cap_user_quotas() {
    // The kernel counts these per user namespace and again at its owner's
    // level: a run's are charged to the invoking user too (to the run's own
    // uid when root starts us: RunOwner), whose 128 inotify instances by
    // default its other processes and concurrent runs share. The sysctl set
    // written is the writer's namespace's, through whichever procfs.
    struct Quota {
        const char* name;
        const char* value;
        bool required;   // fanotify may be compiled out
    };
    // Few: concurrent runs of one user share that user's 128 instances, and
    // judged programs and their compilers watch no files.
    static constexpr Quota quotas[] = {{"max_inotify_instances", "4", true},
                                       {"max_inotify_watches", "1024", true},
                                       {"max_fanotify_groups", "4", false},
                                       {"max_fanotify_marks", "1024", false}};
    bool all = true;
    for (const Quota& q : quotas) {
        int fd = open((std::string("/proc/sys/user/") + q.name).c_str(), O_WRONLY | O_CLOEXEC);
        const std::size_t len = std::strlen(q.value);
        bool done = fd >= 0 && write(fd, q.value, len) == static_cast<ssize_t>(len);
        if (fd < 0 && errno == ENOENT && !q.required) done = true;
        if (fd >= 0) close(fd);
        all = all && done;
    }
    return all;
}

int idmap_userns(uid_t disk_uid, gid_t disk_gid, const Identity& id, std::vector<pid_t>& helpers) {
    // A child born in a new user namespace holds it open while we map it and
    // take an fd. Sharing our memory (CLONE_VM) spares copying page tables:
    // on a small stack of its own it only asks to die with us (it holds
    // copies of all our fds: the uid slot's lock, the caller's stdout) and
    // pauses.
    alignas(16) static thread_local char stack[16 * 1024];
    static thread_local pid_t parent;
    parent = getpid();
    pid_t pid = clone(
        [](void*) -> int {
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) syscall(SYS_exit, 0);
            for (;;) pause();
        },
        stack + sizeof stack, CLONE_NEWUSER | CLONE_VM | SIGCHLD, nullptr);
    if (pid < 0) throw sys_error("idmap: clone a user namespace");
    int fd = -1, err = 0;
    std::string proc = "/proc/" + std::to_string(pid);
    try {
        write_file(proc + "/uid_map", std::to_string(disk_uid) + " " + std::to_string(id.host_uid) + " 1\n");
        write_file(proc + "/gid_map", std::to_string(disk_gid) + " " + std::to_string(id.host_gid) + " 1\n");
        fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) err = errno;
    } catch (const Error&) {
        err = errno ? errno : EPERM;
    }
    // Killed in pause(), it never runs on the shared stack again.
    kill(pid, SIGKILL);
    helpers.push_back(pid);
    if (fd < 0) throw sys_error("idmap: user namespace for owner " + std::to_string(disk_uid), "", err);
    return fd;
}

}  // namespace sandboxrun
