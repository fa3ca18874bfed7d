// Writes argv[1] MiB into argv[2]/tmpfs_eat.bin (e.g. /tmp or /dev/shm), argv[3] KiB per write (default 1024; a small block keeps the program itself tiny), then exits argv[4] (default 0): memory_limit or a failed write ("write failed", exit 1) when the tmpfs is capped, "done" otherwise; judged on verdict/output and that the host's tmpfs never filled.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    long mib = argc > 1 ? atol(argv[1]) : 64;
    char path[4096];
    static char block[1 << 20];
    snprintf(path, sizeof path, "%s/tmpfs_eat.bin", argc > 2 ? argv[2] : "/tmp");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        printf("open failed: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t size = argc > 3 ? (size_t)atol(argv[3]) * 1024 : sizeof block;
    if (size == 0 || size > sizeof block || sizeof block % size) return 2;
    memset(block, 'x', size);   // only these pages become resident
    for (long i = 0; i < mib * (long)(sizeof block / size); i++) {
        for (size_t off = 0; off < size;) {
            ssize_t n = write(fd, block + off, size - off);
            if (n < 0) {
                printf("write failed after %ld KiB: %s\n", i * (long)(size / 1024), strerror(errno));
                return 1;
            }
            off += (size_t)n;
        }
    }
    close(fd);
    puts("done");
    return argc > 4 ? atoi(argv[4]) : 0;
}
