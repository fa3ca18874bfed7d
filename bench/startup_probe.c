// Times the start-up steps sandboxrun could do differently, one at a time,
// as root, each repeated N times (median and max, microseconds):
//   v1-move-child   write a fresh child's pid into memory, pids, cpuacct (v1)
//   v1-self-procs   move ourselves (cgroup.procs) into the three groups, clone, move back
//   v1-self-tasks   the same through `tasks`: a single thread moving itself
//                   skips the cgroup_threadgroup_rwsem write lock
//   v2-move-child   write a fresh child's pid into a cgroup2 group
//   v2-clone-into   clone3(CLONE_INTO_CGROUP): the child is born in the group
//   clone-ns        clone3 with user/mnt/pid/ipc/uts namespaces, child exits
//   clone-ns-net    the same plus CLONE_NEWNET
//   clone-ns-net-gap  the same, 100 ms after the previous run's teardown
//   idmap-userns    clone(CLONE_NEWUSER|CLONE_VM), map one uid, open ns/user
// Every cgroup case waits 30 ms first, as a judge's runs are spaced: the
// rwsem's RCU state goes idle and the next writer waits a grace period.
// Usage: startup_probe [N]   (bench/run does not need it; docs/performance.md does)
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static void report(const char* what, double* t, int n) {
    qsort(t, n, sizeof *t, cmp);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += t[i];
    printf("%-18s median %9.1f us  mean %9.1f us  max %9.1f us\n", what, t[n / 2], sum / n, t[n - 1]);
}

static void write_str(const char* path, const char* s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
        perror(path);
        exit(1);
    }
    close(fd);
}

// A child that waits on a pipe until we close it.
static pid_t idle_child(int* release) {
    int p[2];
    if (pipe(p) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    *release = p[1];
    return pid;
}

static const char* v1_parent[3];
static const char* v1_home[3];
static char v1_group[3][512];

static void v1_paths(void) {
    // The memory group of this process, pids and cpuacct at their roots (as on this host).
    static char mem[512], memhome[512];
    FILE* f = fopen("/proc/self/cgroup", "r");
    char line[512];
    strcpy(memhome, "/sys/fs/cgroup/memory");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(strchr(line, ':') + 1, "memory:", 7) == 0) {
            line[strcspn(line, "\n")] = 0;
            snprintf(memhome, sizeof memhome, "/sys/fs/cgroup/memory%s", strchr(strchr(line, ':') + 1, ':') + 1);
        }
    if (f) fclose(f);
    snprintf(mem, sizeof mem, "%s", memhome);
    v1_parent[0] = mem;
    v1_parent[1] = "/sys/fs/cgroup/pids";
    v1_parent[2] = "/sys/fs/cgroup/cpuacct";
    for (int i = 0; i < 3; ++i) v1_home[i] = v1_parent[i];
}

static void v1_make(int run) {
    for (int i = 0; i < 3; ++i) {
        snprintf(v1_group[i], sizeof v1_group[i], "%s/probe-%d-%d", v1_parent[i], getpid(), run);
        if (mkdir(v1_group[i], 0755) != 0) {
            perror(v1_group[i]);
            exit(1);
        }
    }
}

static void v1_remove(void) {
    for (int i = 0; i < 3; ++i) rmdir(v1_group[i]);
}

static void move_to(const char* group, const char* file, pid_t pid) {
    char path[1600], s[32];
    snprintf(path, sizeof path, "%s/%s", group, file);
    snprintf(s, sizeof s, "%d", pid);
    write_str(path, s);
}

static void move(const char* group, pid_t pid) { move_to(group, "cgroup.procs", pid); }

// Lets the cgroup rwsem's RCU state go idle again, as between a judge's runs.
static int gap_ms = 30;

static pid_t clone3_flags(uint64_t flags, int cgroup_fd) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = flags;
    a.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) a.cgroup = (uint64_t)cgroup_fd;
    return (pid_t)syscall(SYS_clone3, &a, sizeof a);
}

int main(int argc, char** argv) {
    int n = argc > 1 ? atoi(argv[1]) : 30;
    double* t = calloc(n, sizeof *t);
    int release;
    v1_paths();

    for (int r = 0; r < n; ++r) {   // v1: move a fresh child, once per hierarchy
        usleep(gap_ms * 1000);
        v1_make(r);
        pid_t c = idle_child(&release);
        double t0 = now_us();
        for (int i = 0; i < 3; ++i) move(v1_group[i], c);
        t[r] = now_us() - t0;
        close(release);
        waitpid(c, NULL, 0);
        v1_remove();
    }
    report("v1-move-child", t, n);

    for (int k = 0; k < 2; ++k) {   // v1: move ourselves, clone, move back
        const char* file = k == 0 ? "cgroup.procs" : "tasks";
        for (int r = 0; r < n; ++r) {
            usleep(gap_ms * 1000);
            v1_make(r);
            double t0 = now_us();
            for (int i = 0; i < 3; ++i) move_to(v1_group[i], file, 0);
            pid_t c = idle_child(&release);
            for (int i = 0; i < 3; ++i) move_to(v1_home[i], file, 0);
            t[r] = now_us() - t0;
            close(release);
            waitpid(c, NULL, 0);
            v1_remove();
        }
        report(k == 0 ? "v1-self-procs" : "v1-self-tasks", t, n);
    }

    // cgroup2: a group beneath ours in the unified hierarchy.
    char v2[512], v2path[600];
    snprintf(v2, sizeof v2, "/sys/fs/cgroup/unified/probe-%d", getpid());
    for (int r = 0; r < n; ++r) {
        usleep(gap_ms * 1000);
        if (mkdir(v2, 0755) != 0) return perror(v2), 1;
        pid_t c = idle_child(&release);
        double t0 = now_us();
        move(v2, c);
        t[r] = now_us() - t0;
        close(release);
        waitpid(c, NULL, 0);
        rmdir(v2);
    }
    report("v2-move-child", t, n);
    for (int r = 0; r < n; ++r) {
        usleep(gap_ms * 1000);
        if (mkdir(v2, 0755) != 0) return perror(v2), 1;
        int fd = open(v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        double t0 = now_us();
        pid_t c = clone3_flags(CLONE_INTO_CGROUP, fd);
        if (c == 0) _exit(0);
        t[r] = now_us() - t0;
        if (c < 0) return perror("clone3 CLONE_INTO_CGROUP"), 1;
        waitpid(c, NULL, 0);
        close(fd);
        snprintf(v2path, sizeof v2path, "%s", v2);
        rmdir(v2path);
    }
    report("v2-clone-into", t, n);

    // Namespaces: the clone3 call itself, the child exits at once.
    const uint64_t ns = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    struct { const char* name; uint64_t flags; int gap_ms; } cases[] = {
        {"clone-ns", ns, 0}, {"clone-ns-net", ns | CLONE_NEWNET, 0}, {"clone-ns-net-gap", ns | CLONE_NEWNET, 100}};
    for (unsigned k = 0; k < sizeof cases / sizeof *cases; ++k) {
        for (int r = 0; r < n; ++r) {
            if (cases[k].gap_ms) usleep(cases[k].gap_ms * 1000);
            double t0 = now_us();
            pid_t c = clone3_flags(cases[k].flags, -1);
            if (c == 0) _exit(0);
            t[r] = now_us() - t0;
            if (c < 0) return perror("clone3"), 1;
            waitpid(c, NULL, 0);
        }
        report(cases[k].name, t, n);
    }

    // The idmap user namespace sandboxrun builds for a writable bind as root.
    static char stack[16384] __attribute__((aligned(16)));
    for (int r = 0; r < n; ++r) {
        double t0 = now_us();
        pid_t c = clone((int (*)(void*))pause, stack + sizeof stack, CLONE_NEWUSER | CLONE_VM | SIGCHLD, NULL);
        if (c < 0) return perror("clone"), 1;
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/uid_map", c);
        write_str(p, "0 60000 1\n");
        snprintf(p, sizeof p, "/proc/%d/gid_map", c);
        write_str(p, "0 60000 1\n");
        snprintf(p, sizeof p, "/proc/%d/ns/user", c);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        t[r] = now_us() - t0;
        close(fd);
    }
    report("idmap-userns", t, n);
    return 0;
}
