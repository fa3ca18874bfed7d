// Writes to /proc/sys (hostname, core_pattern, drop_caches), /proc/sysrq-trigger, the run's own OOM score (lowered: the host's OOM killer would take the judge first) and peak RSS (reset: the report's max_rss too low), and reads /proc/kcore, /proc/timer_list, /proc/sched_debug, /proc/kallsyms addresses; existing files are only opened, never written. CONTAINED/ESCAPED per path, exit 0 when every one failed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int try_open(const char* path, int flags, const char* how) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) {
        printf("CONTAINED %s %s: %s\n", how, path, strerrorname_np(errno));
        return 0;
    }
    char buf[64];
    ssize_t n = flags == O_RDONLY ? read(fd, buf, sizeof buf) : 1;
    int err = errno;
    close(fd);
    if (n <= 0) {
        printf("CONTAINED %s %s: opens but reads nothing (%s)\n", how, path, n < 0 ? strerrorname_np(err) : "empty");
        return 0;
    }
    printf("ESCAPED %s %s\n", how, path);
    return 1;
}

// Written, and still in force: the file's value afterwards is `written`.
static int try_set(const char* path, const char* value) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("CONTAINED set %s: %s\n", path, strerrorname_np(errno));
        return 0;
    }
    ssize_t n = write(fd, value, strlen(value));
    int err = errno;
    char now[32] = "";
    if (n > 0 && pread(fd, now, sizeof now - 1, 0) > 0 && atoi(now) != atoi(value)) n = 0, err = EPERM;
    close(fd);
    if (n <= 0) {
        printf("CONTAINED set %s: %s\n", path, strerrorname_np(err));
        return 0;
    }
    printf("ESCAPED set %s to %s\n", path, value);
    return 1;
}

int main(void) {
    int escaped = 0;
    const char* writable[] = {"/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                              "/proc/sysrq-trigger", "/proc/sys/kernel/modprobe"};
    for (unsigned i = 0; i < sizeof writable / sizeof *writable; i++) escaped |= try_open(writable[i], O_WRONLY, "write");
    escaped |= try_set("/proc/self/oom_score_adj", "0");
    escaped |= try_set("/proc/self/clear_refs", "5");
    const char* secret[] = {"/proc/kcore", "/proc/timer_list", "/proc/sched_debug", "/proc/keys"};
    for (unsigned i = 0; i < sizeof secret / sizeof *secret; i++) escaped |= try_open(secret[i], O_RDONLY, "read");
    return escaped;
}
