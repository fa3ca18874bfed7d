// Writes a Docker-default-like seccomp allowlist (default action EPERM,
// ~155 syscalls allowed by number, no argument checks) as raw BPF to stdout,
// for `bwrap --seccomp FD`: the filter a typical peer sandbox runs under.
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

static const char* const allowed[] = {
    "accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "clock_getres", "clock_gettime", "clock_nanosleep", "clone", "close",
    "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_wait", "eventfd", "eventfd2", "execve",
    "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir",
    "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fdatasync", "flock", "fork", "fstat",
    "fstatfs", "fsync", "ftruncate", "futex", "getcwd", "getdents", "getdents64", "getegid",
    "geteuid", "getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "getrusage",
    "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "ioctl", "kill",
    "lchown", "link", "linkat", "listen", "lseek", "lstat", "madvise", "membarrier", "memfd_create",
    "mincore", "mkdir", "mkdirat", "mlock", "mmap", "mprotect", "mremap", "msync", "munlock",
    "munmap", "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pipe", "pipe2",
    "poll", "ppoll", "prctl", "pread64", "preadv", "prlimit64", "pselect6", "pwrite64", "pwritev",
    "read", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "sched_getaffinity", "sched_yield", "select", "sendfile", "sendmmsg", "sendmsg", "sendto",
    "set_robust_list", "set_tid_address", "setitimer", "setpgid", "setsid", "setsockopt",
    "shutdown", "sigaltstack", "socket", "socketpair", "stat", "statfs", "statx", "symlink",
    "symlinkat", "sysinfo", "tgkill", "time", "timerfd_create", "timerfd_gettime",
    "timerfd_settime", "truncate", "umask", "uname", "unlink", "unlinkat", "utimensat", "vfork",
    "wait4", "waitid", "write", "writev",
};

int main(void) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(1));
    if (!ctx) return 1;
    // The same binary-tree layout sandboxrun asks for: a fair comparison.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    int count = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; ++i) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR) continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0) ++count;
    }
    fprintf(stderr, "docker_filter: %d syscalls allowed\n", count);
    int rc = seccomp_export_bpf(ctx, STDOUT_FILENO);
    seccomp_release(ctx);
    return rc < 0;
}
