// For each path in argv: create it (or, if a directory, a file try_write.probe inside it) or open an existing file for writing without changing it; prints "OK path" or "DENIED path ERRNO"; verdict ok; judged by the test comparing lines with the profile's binds.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

// Existing files are only opened, never written, so a broken sandbox cannot damage the host.
static int try_open(const char* path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
        ssize_t n = write(fd, "x", 1);
        int err = n == 1 ? 0 : errno;
        close(fd);
        return err;
    }
    if (errno == EEXIST) fd = open(path, O_WRONLY);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

int main(int argc, char** argv) {
    char probe[4096];
    for (int i = 1; i < argc; i++) {
        int err = try_open(argv[i]);
        if (err == EISDIR) {
            snprintf(probe, sizeof probe, "%s/try_write.probe", argv[i]);
            err = try_open(probe);
        }
        if (err) printf("DENIED %s %s\n", argv[i], strerrorname_np(err));
        else printf("OK %s\n", argv[i]);
    }
    return 0;
}
