// Prints the soft limits it was started with: "stack: N|unlimited", "as: ...",
// "data: ...", "cpu: ...", "nofile: ...", "nproc: ...", "core: ...", the quotas, the scheduling policy and nice value: judged against the profile, whatever the caller's shell had.
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>

static void show(const char* name, int resource) {
    struct rlimit rl;
    getrlimit(resource, &rl);
    if (rl.rlim_cur == RLIM_INFINITY) printf("%s: unlimited\n", name);
    else printf("%s: %llu\n", name, (unsigned long long)rl.rlim_cur);
}

int main(void) {
    show("stack", RLIMIT_STACK);
    show("as", RLIMIT_AS);
    show("data", RLIMIT_DATA);
    show("cpu", RLIMIT_CPU);
    show("nofile", RLIMIT_NOFILE);
    show("nproc", RLIMIT_NPROC);
    show("sigpending", RLIMIT_SIGPENDING);
    show("msgqueue", RLIMIT_MSGQUEUE);
    show("core", RLIMIT_CORE);
    // The run's own user namespace's quota (not the host's 128).
    FILE* f = fopen("/proc/sys/user/max_inotify_instances", "r");
    unsigned long long n = 0;
    if (f && fscanf(f, "%llu", &n) == 1) printf("inotify: %llu\n", n);
    if (f) fclose(f);
    // Who a host short of memory kills first.
    f = fopen("/proc/self/oom_score_adj", "r");
    long adj = 0;
    if (f && fscanf(f, "%ld", &adj) == 1) printf("oom_score_adj: %ld\n", adj);
    if (f) fclose(f);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    printf("policy: %d\nnice: %d\n", sched_getscheduler(0), errno ? 99 : nice);
    return 0;
}
