// Looks for any open file descriptor besides 0, 1 and 2, by number (3..1023) and in /proc/self/fd; prints CONTAINED/ESCAPED per check, exit 0 when only 0, 1, 2 are open.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    int escaped = 0;
    for (int fd = 3; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            char link[64], target[512] = "";
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0) target[n] = '\0';
            printf("ESCAPED fd %d is open (%s)\n", fd, target);
            escaped = 1;
        }
    if (!escaped) printf("CONTAINED no fd open in 3..1023\n");

    DIR* d = opendir("/proc/self/fd");
    if (!d) {
        printf("ESCAPED cannot list /proc/self/fd\n");
        return 1;
    }
    int listed = 0;
    for (struct dirent* e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(d)) {
            printf("ESCAPED /proc/self/fd lists %d\n", fd);
            listed = 1;
        }
    }
    closedir(d);
    if (!listed) printf("CONTAINED /proc/self/fd lists only 0, 1, 2\n");
    return escaped || listed;
}
