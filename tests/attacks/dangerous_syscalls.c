// Makes ONE dangerous call named by argv[1] (a violation kills the run, so the test loops over names). Expected: the filter kills the run (syscall_violation); a call that fails prints CONTAINED (exit 0), one that succeeds ESCAPED (exit 1). Arguments are chosen so that a call that does get through changes nothing that matters.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long child_in_namespace(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid;
}

static long clone3_in_namespace(void) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid;
}

static long call(const char* name) {
    char buf[256] = {0};
    struct timespec now;
    if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, buf);
    if (!strcmp(name, "userfaultfd")) return syscall(SYS_userfaultfd, O_CLOEXEC);
    if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, buf, 0);
    if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, buf, 0, -1, -1, 0);
    if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
    if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "sbx-probe", "x", 1, -3);
    if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
    if (!strcmp(name, "init_module")) return syscall(SYS_init_module, buf, 0, "");
    if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
    if (!strcmp(name, "umount2")) return umount2("/proc", MNT_DETACH);
    if (!strcmp(name, "chroot")) return chroot("/tmp");
    if (!strcmp(name, "ext4_setversion")) {   // a file's generation number, ext4's own request
        int fd = open("generation", O_WRONLY | O_CREAT, 0644);
        long version = 12345;
        if (fd < 0) return -1;
        return ioctl(fd, _IOW('f', 4, long), &version);
    }
    if (!strcmp(name, "fs_setflags")) {   // synchronous writes on the work dir, inherited by every later file
        int dir = open(".", O_RDONLY | O_DIRECTORY);
        int flags = 0;
        if (dir < 0 || ioctl(dir, FS_IOC_GETFLAGS, &flags) != 0) return -1;
        flags |= FS_SYNC_FL | FS_DIRSYNC_FL;
        return ioctl(dir, FS_IOC_SETFLAGS, &flags);
    }
#ifdef __x86_64__
    if (!strcmp(name, "int80_getpid")) {   // the i386 table, past a filter written for x86_64
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        return ret < 0 ? -1 : 0;
    }
#endif
    if (!strcmp(name, "tiocsig")) return ioctl(1, TIOCSIG, SIGINT);   // a pty master as stdout: signals the host's side
    if (!strcmp(name, "pivot_root")) return syscall(SYS_pivot_root, ".", ".");
    if (!strcmp(name, "ptrace")) return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    if (!strcmp(name, "process_vm_readv")) {
        struct iovec local = {buf, 8}, remote = {buf + 8, 8};
        return process_vm_readv(getppid(), &local, 1, &remote, 1, 0);
    }
    if (!strcmp(name, "reboot")) return syscall(SYS_reboot, 0, 0, RB_AUTOBOOT, NULL);   // bad magic: EINVAL
    if (!strcmp(name, "clock_settime")) {
        clock_gettime(CLOCK_REALTIME, &now);
        return clock_settime(CLOCK_REALTIME, &now);
    }
    if (!strcmp(name, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
    if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/nonexistent-sbx-swap", 0);
    if (!strcmp(name, "quotactl")) return quotactl(QCMD(Q_GETINFO, USRQUOTA), "/dev/null", 0, buf);
    if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY);
    if (!strcmp(name, "unshare_user")) return unshare(CLONE_NEWUSER);
    if (!strcmp(name, "unshare_net")) return unshare(CLONE_NEWNET);
    if (!strcmp(name, "clone_newns")) return child_in_namespace(CLONE_NEWNS);
    if (!strcmp(name, "clone_newuser")) return child_in_namespace(CLONE_NEWUSER);
    if (!strcmp(name, "clone3_newuser")) return clone3_in_namespace();
    if (!strcmp(name, "setns")) return setns(0, CLONE_NEWNS);
    if (!strcmp(name, "personality")) return personality(READ_IMPLIES_EXEC) < 0 ? -1 : 0;
    if (!strcmp(name, "socket_netlink")) return socket(AF_NETLINK, SOCK_RAW, 0);
    if (!strcmp(name, "socket_packet")) return socket(AF_PACKET, SOCK_RAW, 0);
    if (!strcmp(name, "socket_inet")) return socket(AF_INET, SOCK_STREAM, 0);
    if (!strcmp(name, "sethostname")) return sethostname("escaped", 7);
    if (!strcmp(name, "syslog")) return syscall(SYS_syslog, 3 /* READ_ALL */, buf, sizeof buf);
    if (!strcmp(name, "acct")) return acct(NULL);
    if (!strcmp(name, "prlimit_init")) {   // a hard CPU limit on the run's pid 1 got it killed mid-run
        struct rlimit cpu;
        if (prlimit(1, RLIMIT_CPU, NULL, &cpu) != 0) return -1;
        return prlimit(1, RLIMIT_CPU, &cpu, NULL);   // no change even if it got through
    }
    if (!strcmp(name, "fallocate_keep_size")) {   // blocks past the end, unseen by RLIMIT_FSIZE
        int fd = open("fallocate-probe", O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd < 0) return -1;
        unlink("fallocate-probe");
        return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20);
    }
    if (!strncmp(name, "ioc_resvsp", 10) || !strcmp(name, "ioc_zero_range")) {   // fallocate(KEEP_SIZE) as an ioctl
        struct {   // the kernel's struct space_resv (48 bytes)
            short type, whence;
            long long start, len;
            int sysid, pid, pad[4];
        } range = {0, SEEK_SET, 0, 1 << 20, 0, 0, {0}};
        unsigned nr = !strcmp(name, "ioc_resvsp") ? 40 : !strcmp(name, "ioc_resvsp64") ? 42 : 57;
        int fd = open("resvsp-probe", O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd < 0) return -1;
        unlink("resvsp-probe");
        return ioctl(fd, _IOC(_IOC_WRITE, 'X', nr, sizeof range), &range);
    }
    if (!strcmp(name, "record_lock") || !strcmp(name, "ofd_lock")) {   // kernel memory no memory cgroup counts
        int fd = open("lock-probe", O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (fd < 0) return -1;
        unlink("lock-probe");
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        return fcntl(fd, !strcmp(name, "ofd_lock") ? F_OFD_SETLK : F_SETLK, &lock);
    }
    if (!strcmp(name, "mlock")) {   // pinned memory: refused as without CAP_IPC_LOCK, not a violation
        static char page[4096];
        return mlock(page, sizeof page);
    }
    if (!strcmp(name, "map_locked")) {   // pinned memory through mmap, which no filter sees: RLIMIT_MEMLOCK 0
        void* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
        return p == MAP_FAILED ? -1 : 0;
    }
    if (!strcmp(name, "mkfifo")) {   // make 4.4's jobserver (it takes a pipe instead); a FIFO left would hang a judge
        unlink("fifo-probe");
        return mkfifo("fifo-probe", 0600);
    }
    if (!strcmp(name, "o_async")) {   // on a terminal: SIGIO (or F_SETSIG's) to its foreground group, the host's
        int fd = open("async-probe", O_CREAT | O_RDWR, 0600);
        return fd < 0 ? -1 : fcntl(fd, F_SETFL, O_ASYNC);
    }
    if (!strcmp(name, "set_mempolicy")) return syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0);
    if (!strcmp(name, "unlisted_ioctl")) {   // a request the kernel answers anywhere (NS_GET_NSTYPE), not listed
        int fd = open("/proc/self/ns/pid", O_RDONLY);
        return fd < 0 ? -1 : ioctl(fd, NS_GET_NSTYPE);
    }
    if (!strcmp(name, "set_lease")) {   // a write lease on a work-dir file blocks the host's opens of it
        int fd = open("lease-probe", O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd < 0) return -1;
        unlink("lease-probe");
        return fcntl(fd, F_SETLEASE, F_WRLCK);
    }
    if (!strcmp(name, "own_filter")) {   // a filter of its own would answer forbidden calls before ours
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {1, &allow};
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    }
    errno = ENOSYS;
    return -2;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dangerous_syscalls NAME\n");
        return 64;
    }
    fflush(stdout);
    errno = 0;
    long ret = call(argv[1]);
    if (ret == -2) {
        fprintf(stderr, "unknown call %s\n", argv[1]);
        return 64;
    }
    if (ret < 0) {
        printf("CONTAINED %s: %s\n", argv[1], strerrorname_np(errno));
        return 0;
    }
    printf("ESCAPED %s returned %ld\n", argv[1], ret);
    return 1;
}
