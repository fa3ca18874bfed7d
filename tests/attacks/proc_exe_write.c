// runc CVE-2019-5736 and friends: argv[1] "files" opens /proc/1/exe and /proc/self/exe for writing and /proc/1/mem for reading and writing; "ptrace" attaches to pid 1 (expected: syscall_violation). CONTAINED/ESCAPED per attempt, exit 0 when every one failed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

static int try_open(const char* path, int flags) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) {
        printf("CONTAINED open %s: %s\n", path, strerrorname_np(errno));
        return 0;
    }
    close(fd);   // opened, never written
    printf("ESCAPED open %s for writing\n", path);
    return 1;
}

int main(int argc, char** argv) {
    const char* how = argc > 1 ? argv[1] : "files";
    if (!strcmp(how, "ptrace")) {
        fflush(stdout);
        if (ptrace(PTRACE_ATTACH, 1, NULL, NULL) != 0) {
            printf("CONTAINED ptrace(PTRACE_ATTACH, 1): %s\n", strerrorname_np(errno));
            return 0;
        }
        printf("ESCAPED ptrace(PTRACE_ATTACH, 1)\n");
        return 1;
    }
    int escaped = 0;
    escaped |= try_open("/proc/1/exe", O_WRONLY);
    escaped |= try_open("/proc/self/exe", O_WRONLY);
    escaped |= try_open("/proc/1/mem", O_RDWR);
    return escaped;
}
