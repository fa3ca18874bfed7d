// Cost of a system call: times N getppid() calls (the cheapest syscall with
// no argument checks) and N/10 ioctl(FIONREAD) calls on /dev/null (a syscall
// that sandbox filters check by argument; the answer, ENOTTY, does not matter), optionally after installing a seccomp
// filter that allows everything: the kernel's floor for having any filter.
//   syscall_loop [N] [none|allow-all]
// Prints: getppid_ns=<ns per call> ioctl_ns=<ns per call>
// The calls run in 100 batches timed with this thread's CPU clock; the
// fastest batch counts, so that other load on a shared machine (preemption,
// a neighbour's cache traffic) does not land in the result.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { batches = 100 };

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void allow_all(void) {
    struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {1, code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("seccomp allow-all");
        exit(1);
    }
}

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    if (argc > 2 && strcmp(argv[2], "allow-all") == 0) allow_all();
    int null = open("/dev/null", O_RDONLY);
    if (null < 0) return perror("/dev/null"), 1;
    // Warm up caches and the branch predictor before timing.
    for (long i = 0; i < n / batches; ++i) syscall(SYS_getppid);
    double best_getppid = 1e18, best_ioctl = 1e18;
    long per = n / batches, per_ioctl = per / 10, avail;
    for (int b = 0; b < batches; ++b) {
        double t0 = now_ns();
        for (long i = 0; i < per; ++i) syscall(SYS_getppid);
        double t1 = now_ns();
        for (long i = 0; i < per_ioctl; ++i) ioctl(null, FIONREAD, &avail);
        double t2 = now_ns();
        if ((t1 - t0) / per < best_getppid) best_getppid = (t1 - t0) / per;
        if ((t2 - t1) / per_ioctl < best_ioctl) best_ioctl = (t2 - t1) / per_ioctl;
    }
    printf("getppid_ns=%.2f ioctl_ns=%.2f\n", best_getppid, best_ioctl);
    return 0;
}
