// Tries to push "id\n" into a terminal's input queue: argv[1] is 0, 1 or 2 (TIOCSTI on that fd), "tty" (open /dev/tty) or "tioclinux" (TIOCLINUX on fd 0). The filter is expected to kill the run (syscall_violation); a refused call prints CONTAINED (exit 0), an accepted one ESCAPED (exit 1).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int push(int fd, const char* what) {
    const char* text = "id\n";
    fflush(stdout);
    for (const char* c = text; *c; c++)
        if (ioctl(fd, TIOCSTI, c) != 0) {
            printf("CONTAINED %s: TIOCSTI refused: %s\n", what, strerrorname_np(errno));
            return 0;
        }
    printf("ESCAPED %s: TIOCSTI injected input\n", what);
    return 1;
}

int main(int argc, char** argv) {
    const char* how = argc > 1 ? argv[1] : "0";
    if (!strcmp(how, "tty")) {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
        if (fd < 0) {
            printf("CONTAINED /dev/tty: %s\n", strerrorname_np(errno));
            return 0;
        }
        return push(fd, "/dev/tty");
    }
    if (!strcmp(how, "tioclinux")) {
        char sel[2] = {2 /* TIOCL_SETSEL */, 0};
        fflush(stdout);
        if (ioctl(0, TIOCLINUX, sel) != 0) {
            printf("CONTAINED TIOCLINUX refused: %s\n", strerrorname_np(errno));
            return 0;
        }
        printf("ESCAPED TIOCLINUX accepted\n");
        return 1;
    }
    char what[16];
    snprintf(what, sizeof what, "fd %d", atoi(how));
    return push(atoi(how), what);
}
