// Makes one forbidden call named by argv[1] (ptrace|mount|socket_inet|unshare|io_uring|bpf|userfaultfd|keyctl|tiocsti, default ptrace): expected syscall_violation; "ALLOWED" (exit 0) or "DENIED <errno>" (exit 2) means it got through the filter.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const char* name = argc > 1 ? argv[1] : "ptrace";
    char params[120] = {0};  // struct io_uring_params, zeroed
    char c = 'x';
    long ret;
    // Each call is harmless if it does run (missing mount point, stdin should be /dev/null when run by hand).
    if (!strcmp(name, "ptrace")) ret = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    else if (!strcmp(name, "mount")) ret = mount("none", "/nonexistent-sandboxrun-probe", "tmpfs", 0, NULL);
    else if (!strcmp(name, "socket_inet")) ret = socket(AF_INET, SOCK_STREAM, 0);
    else if (!strcmp(name, "unshare")) ret = unshare(CLONE_NEWUSER);
    else if (!strcmp(name, "io_uring")) ret = syscall(__NR_io_uring_setup, 1, params);
    else if (!strcmp(name, "bpf")) ret = syscall(__NR_bpf, 0, NULL, 0);
    else if (!strcmp(name, "userfaultfd")) ret = syscall(__NR_userfaultfd, 0);
    else if (!strcmp(name, "keyctl")) ret = syscall(__NR_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
    else if (!strcmp(name, "tiocsti")) ret = ioctl(0, TIOCSTI, &c);
    else {
        fprintf(stderr, "unknown call %s\n", name);
        return 64;
    }
    if (ret < 0) {
        printf("DENIED %s %s\n", name, strerrorname_np(errno));
        return 2;
    }
    printf("ALLOWED %s\n", name);
    return 0;
}
