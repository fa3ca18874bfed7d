// Echoes the first line of stdin, then opens /dev/null until that fails,
// printing each descriptor it got and, on stderr, why it stopped. Exits 1 when
// it stopped (verdict runtime_error), 0 if 64 opens all succeeded.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char line[256];
    if (fgets(line, sizeof line, stdin)) fputs(line, stdout);
    for (int i = 0; i < 64; ++i) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "open: %s\n", strerror(errno));
            return 1;
        }
        printf("fd %d\n", fd);
    }
    return 0;
}
