// /sys must not exist unless the profile asks for it; when it does (argv[1] == "ro") nothing in it may be opened for writing. CONTAINED/ESCAPED, exit 0 when contained.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
    struct stat st;
    if (argc > 1 && !strcmp(argv[1], "ro")) {
        const char* paths[] = {"/sys/kernel/uevent_helper", "/sys/fs/cgroup/cgroup.procs", "/sys/power/state"};
        int escaped = 0;
        for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
            int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
            if (fd < 0) {
                printf("CONTAINED write %s: %s\n", paths[i], strerrorname_np(errno));
                continue;
            }
            close(fd);
            printf("ESCAPED write %s\n", paths[i]);
            escaped = 1;
        }
        return escaped;
    }
    if (stat("/sys", &st) == 0) {
        printf("ESCAPED /sys exists\n");
        return 1;
    }
    printf("CONTAINED /sys: %s\n", strerrorname_np(errno));
    return 0;
}
