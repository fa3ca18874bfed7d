// Writes to stdout forever: output_limit (SIGXFSZ or the stream cap) when stdout is a capped file, otherwise a time or wall limit; judged on verdict and the output file never exceeding the cap. Never run unbounded.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    static char line[4096];
    memset(line, 'A', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (;;) {
        if (write(1, line, sizeof line) < 0 && errno != EINTR) {
            fprintf(stderr, "write failed: %s\n", strerror(errno));
            return 1;
        }
    }
}
