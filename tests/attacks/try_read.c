// For each path in argv: list it if a directory, else read one byte; prints "OK path" or "DENIED path ERRNO" (ENOENT when hidden); verdict ok; judged by the test comparing lines with the profile's binds.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int try_read(const char* path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    char byte;
    int err = 0;
    if (read(fd, &byte, 1) < 0) {
        err = errno;
        if (err == EISDIR) {
            // Directories count as readable only if they can be listed.
            DIR* d = fdopendir(fd);
            if (!d) return errno;
            errno = 0;
            err = readdir(d) ? 0 : (errno ? errno : EACCES);
            closedir(d);
            return err;
        }
    }
    close(fd);
    return err;
}

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        int err = try_read(argv[i]);
        if (err) printf("DENIED %s %s\n", argv[i], strerrorname_np(err));
        else printf("OK %s\n", argv[i]);
    }
    return 0;
}
