// Syscall groups in the spirit of systemd's seccomp-util: each group names the
// syscalls one kind of program behaviour needs; groups may include groups. A
// name libseccomp knows but this arch lacks (e.g. "ulimit" on x86_64) is
// skipped, so the table can stay arch-neutral. docs/syscall-groups.md explains
// each group and each argument check.
#include "sandboxrun/syscall_groups.hpp"

#include <seccomp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <utility>

#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

using M = GroupMember;
using A = ArgCheck;

// --- groups stock profiles use ----------------------------------------------

constexpr M default_members[] = {
    {"execve"}, {"execveat"}, {"exit"}, {"exit_group"}, {"brk"}, {"arch_prctl"},
    {"set_tid_address"}, {"set_robust_list"}, {"get_robust_list"}, {"rseq"},
    {"rt_sigreturn"}, {"rt_sigprocmask"}, {"rt_sigaction"}, {"restart_syscall"},
    {"getrandom"}, {"futex"}, {"uname"}, {"getpid"}, {"gettid"}, {"getppid"}, {"getpgrp"},
    {"access"}, {"faccessat"}, {"faccessat2"}, {"prlimit64"}, {"getrlimit"},
    {"mmap"}, {"munmap"}, {"mprotect"}, {"read"}, {"write"}, {"close"},
    {"clock_gettime"}, {"sched_yield"}, {"sched_getaffinity"},
};

constexpr M basic_io_members[] = {
    {"read"}, {"write"}, {"readv"}, {"writev"}, {"pread64"}, {"pwrite64"},
    {"preadv"}, {"pwritev"}, {"preadv2"}, {"pwritev2"}, {"lseek"}, {"close"},
    {"close_range"}, {"dup"}, {"dup2"}, {"dup3"}, {"fcntl"}, {"ioctl"},
    {"sendfile"}, {"splice"}, {"tee"}, {"vmsplice"},
};

constexpr M file_system_members[] = {
    {"open"}, {"openat"}, {"openat2"}, {"creat"}, {"stat"}, {"fstat"}, {"lstat"},
    {"newfstatat"}, {"statx"}, {"getdents"}, {"getdents64"}, {"readlink"}, {"readlinkat"},
    {"mkdir"}, {"mkdirat"}, {"rmdir"}, {"unlink"}, {"unlinkat"}, {"rename"}, {"renameat"},
    {"renameat2"}, {"chdir"}, {"fchdir"}, {"getcwd"}, {"chmod"}, {"fchmod"}, {"fchmodat"},
    {"fchmodat2"}, {"umask"}, {"utime"}, {"utimes"}, {"utimensat"}, {"futimesat"},
    {"truncate"}, {"ftruncate"}, {"fallocate"}, {"fadvise64"}, {"copy_file_range"},
    {"symlink"}, {"symlinkat"}, {"link"}, {"linkat"}, {"statfs"}, {"fstatfs"}, {"flock"},
    {"access"}, {"faccessat"}, {"faccessat2"},
    {"getxattr"}, {"lgetxattr"}, {"fgetxattr"}, {"listxattr"}, {"llistxattr"}, {"flistxattr"},
    {"inotify_init"}, {"inotify_init1"}, {"inotify_add_watch"}, {"inotify_rm_watch"},
};

constexpr M io_event_members[] = {
    {"poll"}, {"ppoll"}, {"select"}, {"pselect6"}, {"epoll_create"}, {"epoll_create1"},
    {"epoll_ctl"}, {"epoll_wait"}, {"epoll_pwait"}, {"epoll_pwait2"}, {"eventfd"}, {"eventfd2"},
};

constexpr M ipc_members[] = {
    {"pipe"}, {"pipe2"}, {"eventfd"}, {"eventfd2"}, {"memfd_create"},
    {"msgget"}, {"msgsnd"}, {"msgrcv"}, {"msgctl"},
    {"semget"}, {"semop"}, {"semtimedop"}, {"semctl"},
    {"shmget"}, {"shmat"}, {"shmdt"}, {"shmctl"},
};

constexpr M memory_members[] = {
    {"mmap"}, {"munmap"}, {"mprotect"}, {"mremap"}, {"madvise"}, {"brk"}, {"mincore"},
    {"membarrier"}, {"get_mempolicy"}, {"pkey_alloc"}, {"pkey_free"}, {"pkey_mprotect"},
};

// prctl's dangerous options need capabilities the target has dropped; its
// PR_SET_SECCOMP (a filter of the program's own, whose errors would outrank
// our violation report) is refused by its standard check.
constexpr M process_members[] = {
    {"@signal"},
    {"clone", A::clone_no_namespace}, {"fork"}, {"vfork"}, {"execve"}, {"execveat"},
    {"wait4"}, {"waitid"}, {"setpgid"}, {"getpgid"}, {"getpgrp"}, {"setsid"}, {"getsid"},
    {"prctl"}, {"pidfd_open"}, {"pidfd_send_signal"},
};

constexpr M thread_members[] = {
    {"clone", A::clone_thread}, {"futex"}, {"futex_waitv"}, {"set_robust_list"},
    {"get_robust_list"}, {"set_tid_address"}, {"gettid"}, {"sched_yield"},
    {"sched_getaffinity"}, {"sched_getparam"}, {"sched_getscheduler"},
    {"sched_get_priority_min"}, {"sched_get_priority_max"},
};

// kill/tgkill/tkill live here rather than in @process: abort() and raise()
// signal the caller itself, and the run's pid namespace lets a target see
// (and so signal) only processes of the same run.
constexpr M signal_members[] = {
    {"rt_sigaction"}, {"rt_sigprocmask"}, {"rt_sigreturn"}, {"rt_sigpending"},
    {"rt_sigsuspend"}, {"rt_sigtimedwait"}, {"rt_sigqueueinfo"}, {"rt_tgsigqueueinfo"},
    {"sigaltstack"}, {"signalfd"}, {"signalfd4"}, {"kill"}, {"tgkill"}, {"tkill"},
    {"pause"}, {"restart_syscall"},
};

constexpr M timer_members[] = {
    {"clock_gettime"}, {"clock_getres"}, {"clock_nanosleep"}, {"nanosleep"},
    {"gettimeofday"}, {"time"}, {"timerfd_create"}, {"timerfd_settime"}, {"timerfd_gettime"},
    {"timer_create"}, {"timer_settime"}, {"timer_gettime"}, {"timer_getoverrun"},
    {"timer_delete"}, {"alarm"}, {"setitimer"}, {"getitimer"},
};

constexpr M network_io_members[] = {
    {"socket"}, {"socketpair"}, {"connect"}, {"bind"}, {"listen"}, {"accept"}, {"accept4"},
    {"sendto"}, {"recvfrom"}, {"sendmsg"}, {"recvmsg"}, {"sendmmsg"}, {"recvmmsg"},
    {"shutdown"}, {"getsockopt"}, {"setsockopt"}, {"getsockname"}, {"getpeername"},
};

constexpr M system_info_members[] = {
    {"uname"}, {"sysinfo"}, {"getrusage"}, {"times"}, {"getcpu"}, {"sched_getaffinity"},
    {"personality"},
};

constexpr M credentials_members[] = {
    {"getuid"}, {"geteuid"}, {"getgid"}, {"getegid"}, {"getresuid"}, {"getresgid"},
    {"getgroups"}, {"capget"},
};

// Raising a hard limit needs CAP_SYS_RESOURCE in the initial user namespace,
// which a target never has. prlimit64 reaches only the caller (pid 0): the
// run's pid 1 has the target's uid, and a hard RLIMIT_CPU of 1 s set on it
// got it killed mid-run.
constexpr M resources_members[] = {
    {"getrlimit"}, {"setrlimit"}, {"prlimit64"}, {"getpriority"},
};

// Without capabilities (the target has none) these can only move among the
// ids the process already has, and a run has one uid and one gid. make's
// posix_spawn(POSIX_SPAWN_RESETIDS) sets them so.
constexpr M own_ids_members[] = {
    {"setuid"}, {"setgid"}, {"setreuid"}, {"setregid"}, {"setresuid"}, {"setresgid"},
    {"setfsuid"}, {"setfsgid"},
};

constexpr M sync_members[] = {
    {"fsync"}, {"fdatasync"}, {"sync_file_range"}, {"msync"},
};

// --- dangerous groups: named so deny lists and --explain can use them -------

constexpr M mount_members[] = {
    {"mount"}, {"umount"}, {"umount2"}, {"pivot_root"}, {"chroot"}, {"move_mount"},
    {"open_tree"}, {"fsopen"}, {"fsmount"}, {"fsconfig"}, {"fspick"}, {"mount_setattr"},
};

constexpr M debug_members[] = {
    {"ptrace"}, {"process_vm_readv"}, {"process_vm_writev"}, {"perf_event_open"},
    {"kcmp"}, {"pidfd_getfd"}, {"process_madvise"}, {"lookup_dcookie"},
};

constexpr M module_members[] = {
    {"init_module"}, {"finit_module"}, {"delete_module"},
};

constexpr M reboot_members[] = {
    {"reboot"}, {"kexec_load"}, {"kexec_file_load"},
};

constexpr M swap_members[] = {
    {"swapon"}, {"swapoff"},
};

constexpr M clock_members[] = {
    {"settimeofday"}, {"clock_settime"}, {"clock_adjtime"}, {"adjtimex"},
};

constexpr M keyring_members[] = {
    {"keyctl"}, {"add_key"}, {"request_key"},
};

constexpr M obsolete_members[] = {
    {"_sysctl"}, {"afs_syscall"}, {"bdflush"}, {"break"}, {"create_module"}, {"ftime"},
    {"get_kernel_syms"}, {"getpmsg"}, {"gtty"}, {"idle"}, {"lock"}, {"mpx"}, {"prof"},
    {"profil"}, {"putpmsg"}, {"query_module"}, {"security"}, {"sgetmask"}, {"ssetmask"},
    {"stime"}, {"stty"}, {"sysfs"}, {"tuxcall"}, {"ulimit"}, {"uselib"}, {"ustat"},
    {"vserver"},
};

constexpr M raw_io_members[] = {
    {"iopl"}, {"ioperm"}, {"pciconfig_iobase"}, {"pciconfig_read"}, {"pciconfig_write"},
};

constexpr M cpu_emulation_members[] = {
    {"modify_ldt"}, {"subpage_prot"}, {"switch_endian"}, {"vm86"}, {"vm86old"},
};

constexpr M dangerous_interfaces_members[] = {
    {"io_uring_setup"}, {"io_uring_enter"}, {"io_uring_register"}, {"userfaultfd"},
    {"bpf"}, {"open_by_handle_at"}, {"name_to_handle_at"}, {"quotactl"}, {"quotactl_fd"},
    {"unshare"}, {"setns"},
};

constexpr M privileged_members[] = {
    {"@mount"}, {"@module"}, {"@reboot"}, {"@swap"}, {"@clock"}, {"@raw-io"},
    {"capset"}, {"setgroups"}, {"sethostname"},
    {"setdomainname"}, {"acct"}, {"vhangup"}, {"nfsservctl"}, {"fanotify_init"},
    {"mknod"}, {"mknodat"}, {"syslog"},
};

constexpr SyscallGroup groups[] = {
    {"@default", "what every process needs to start, map memory and exit", false, default_members},
    {"@basic-io", "reading, writing and duplicating open descriptors", false, basic_io_members},
    {"@file-system", "opening, inspecting and changing files and directories", false,
     file_system_members},
    {"@io-event", "waiting for descriptors: poll, select, epoll, eventfd", false, io_event_members},
    {"@ipc", "pipes, memfd and System V IPC between processes of the run", false, ipc_members},
    {"@memory", "mapping and advising memory (no locking)", false, memory_members},
    {"@process", "starting, waiting for and grouping child processes (includes @signal)", false,
     process_members},
    {"@thread", "starting and synchronising threads", false, thread_members},
    {"@signal", "handling, blocking and sending signals", false, signal_members},
    {"@timer", "reading clocks, sleeping and timers", false, timer_members},
    {"@network-io", "sockets of the families in socket_families", false, network_io_members},
    {"@system-info", "uname, sysinfo, resource usage, querying the personality", false,
     system_info_members},
    {"@credentials", "reading (not changing) user and group ids and capabilities", false,
     credentials_members},
    {"@resources", "reading and lowering resource limits", false, resources_members},
    {"@sync", "flushing files to storage", false, sync_members},
    {"@own-ids", "setting the user and group ids a process already has (nothing else without "
     "capabilities)", false, own_ids_members},
    {"@mount", "mounting, pivot_root and chroot", true, mount_members},
    {"@debug", "tracing and reading other processes", true, debug_members},
    {"@module", "loading kernel modules", true, module_members},
    {"@reboot", "rebooting and kexec", true, reboot_members},
    {"@swap", "enabling and disabling swap", true, swap_members},
    {"@clock", "setting the system clock", true, clock_members},
    {"@keyring", "the kernel keyring", true, keyring_members},
    {"@obsolete", "syscalls unused for decades", true, obsolete_members},
    {"@raw-io", "port and PCI I/O", true, raw_io_members},
    {"@cpu-emulation", "LDT and vm86 tricks", true, cpu_emulation_members},
    {"@dangerous-interfaces",
     "large kernel attack surface or sandbox escape: io_uring, bpf, userfaultfd, handles, "
     "namespaces",
     true, dangerous_interfaces_members},
    {"@privileged", "changing groups, capabilities, host names and devices (includes @mount, @module, "
     "@reboot, @swap, @clock, @raw-io)",
     true, privileged_members},
};

// A setuid file left in a writable bind keeps its bit on the host, where a
// root-owned work dir makes it root's: the mode checks refuse to create one.
constexpr std::array<std::pair<std::string_view, ArgCheck>, 17> standard_checks{{
    {"clone", A::clone_no_namespace},
    {"ioctl", A::ioctl_safe_request},
    {"socket", A::socket_family},
    {"socketpair", A::socket_family},
    {"personality", A::personality_query},
    {"chmod", A::mode_no_setid},
    {"fchmod", A::mode_no_setid},
    {"fchmodat", A::mode_no_setid},
    {"fchmodat2", A::mode_no_setid},
    {"creat", A::mode_no_setid},
    {"open", A::create_no_setid},
    {"openat", A::create_no_setid},
    {"openat2", A::enosys},
    {"prlimit64", A::own_process},
    {"fallocate", A::allocate_in_size},
    {"fcntl", A::no_lease},
    {"prctl", A::no_own_filter},
}};

constexpr std::string_view always_allowed[] = {"write", "execve", "exit_group"};
constexpr std::string_view never_allowed[] = {"unshare", "setns", "clone3"};

// The names the profile loader accepts (src/profile.cpp).
constexpr std::array<std::pair<std::string_view, int>, 4> families{{
    {"AF_UNIX", AF_UNIX}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6}, {"AF_NETLINK", AF_NETLINK},
}};

}  // namespace

std::span<const SyscallGroup> syscall_groups() { return groups; }

std::uint64_t syscall_rules_fingerprint() {
    static const std::uint64_t value = [] {
        std::uint64_t h = 0xcbf29ce484222325ull;   // FNV-1a
        auto mix = [&](std::string_view text) {
            for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
            h = (h ^ 0xff) * 0x100000001b3ull;
        };
        for (const auto& g : groups) {
            mix(g.name);
            for (const auto& m : g.members) {
                mix(m.name);
                mix(std::to_string(static_cast<int>(m.check)));
            }
        }
        for (const auto& [name, check] : standard_checks) {
            mix(name);
            mix(std::to_string(static_cast<int>(check)));
        }
        return h;
    }();
    return value;
}

const SyscallGroup* find_syscall_group(std::string_view name) {
    for (const auto& g : groups)
        if (g.name == name) return &g;
    return nullptr;
}

namespace {
bool includes(const SyscallGroup& g, std::string_view name, std::size_t depth) {
    if (depth > std::size(groups)) return false;   // only a cycle goes this deep
    for (const auto& m : g.members) {
        if (m.name == name) return true;
        const SyscallGroup* sub = m.name.starts_with('@') ? find_syscall_group(m.name) : nullptr;
        if (sub && includes(*sub, name, depth + 1)) return true;
    }
    return false;
}
}  // namespace

bool group_includes(const SyscallGroup& g, std::string_view name) { return includes(g, name, 0); }

ArgCheck standard_arg_check(std::string_view syscall) {
    for (const auto& [name, check] : standard_checks)
        if (name == syscall) return check;
    return ArgCheck::none;
}

std::span<const std::string_view> always_allowed_syscalls() { return always_allowed; }
std::span<const std::string_view> never_allowed_syscalls() { return never_allowed; }

int native_syscall_number(std::string_view name) {
    const std::string s(name);
    const int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, s.c_str());
    if (nr >= 0) return nr;
    // Known on some arch (a pseudo number here) or not at all?
    if (nr == __NR_SCMP_ERROR) throw Error("unknown syscall \"" + s + "\"");
    return -1;
}

int socket_family_number(std::string_view name) {
    for (const auto& [n, family] : families)
        if (n == name) return family;
    return -1;
}

std::vector<AllowedSyscall> expand_allowed(const std::vector<std::string>& allow) {
    std::vector<AllowedSyscall> out;
    std::set<std::pair<std::string, ArgCheck>> seen;
    std::set<std::string_view> visiting;   // guards against a group including itself

    auto add_syscall = [&](std::string_view name, ArgCheck check) {
        if (check == ArgCheck::standard) check = standard_arg_check(name);
        const int nr = native_syscall_number(name);
        if (nr < 0) return;   // exists only on other arches
        if (seen.emplace(std::string(name), check).second)
            out.push_back({std::string(name), nr, check});
    };
    std::function<void(std::string_view, ArgCheck)> add = [&](std::string_view name,
                                                               ArgCheck check) {
        if (!name.starts_with('@')) return add_syscall(name, check);
        const SyscallGroup* g = find_syscall_group(name);
        if (!g) throw Error("unknown syscall group \"" + std::string(name) + "\"");
        if (!visiting.insert(g->name).second) return;
        for (const auto& m : g->members) add(m.name, m.check);
        visiting.erase(g->name);
    };
    for (const auto& name : allow) add(name, ArgCheck::standard);
    return out;
}

}  // namespace sandboxrun
