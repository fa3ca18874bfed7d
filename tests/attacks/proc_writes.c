// Writes to /proc/sys (hostname, core_pattern, drop_caches), /proc/sysrq-trigger, and reads /proc/kcore, /proc/timer_list, /proc/sched_debug, /proc/kallsyms addresses; existing files are only opened, never written. CONTAINED/ESCAPED per path, exit 0 when every one failed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

int main(void) {
    int escaped = 0;
    const char* writable[] = {"/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                              "/proc/sysrq-trigger", "/proc/sys/kernel/modprobe"};
    for (unsigned i = 0; i < sizeof writable / sizeof *writable; i++) escaped |= try_open(writable[i], O_WRONLY, "write");
    const char* secret[] = {"/proc/kcore", "/proc/timer_list", "/proc/sched_debug", "/proc/keys"};
    for (unsigned i = 0; i < sizeof secret / sizeof *secret; i++) escaped |= try_open(secret[i], O_RDONLY, "read");
    return escaped;
}
