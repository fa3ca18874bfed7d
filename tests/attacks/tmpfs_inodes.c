// Creates empty files in argv[1] (e.g. /tmp) until argv[2] of them exist or one cannot be made, then prints "created N" and why it stopped. Empty files take no size from a tmpfs but each costs kernel memory (an inode and a dentry), which RLIMIT_AS never sees: judged on the tmpfs refusing (ENOSPC) long before argv[2].
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) return 64;
    long want = atol(argv[2]), n = 0;
    char path[4096];
    for (; n < want; n++) {
        snprintf(path, sizeof path, "%s/i%ld", argv[1], n);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            printf("created %ld: %s\n", n, strerrorname_np(errno));
            return 0;
        }
        close(fd);
    }
    printf("created %ld: all\n", n);
    return 0;
}
