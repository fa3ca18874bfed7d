// Writes to stdout forever: output_limit (SIGXFSZ or the stream cap) when stdout is a capped file, otherwise a time or wall limit; judged on verdict and the output file never exceeding the cap. Never run unbounded.
// With "ignore-xfsz" it ignores SIGXFSZ and exits 0 at the first failed write,
// as the JVM and Go runtimes do with their output cut; with "ignore-xfsz-write-on"
// it ignores it and keeps writing (a Java flood): the output limit must end it.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int ignore = argc > 1 && strcmp(argv[1], "ignore-xfsz") == 0;
    int write_on = argc > 1 && strcmp(argv[1], "ignore-xfsz-write-on") == 0;
    if (ignore || write_on) signal(SIGXFSZ, SIG_IGN);
    static char line[4096];
    memset(line, 'A', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (;;) {
        if (write(1, line, sizeof line) < 0 && errno != EINTR && !write_on) {
            fprintf(stderr, "write failed: %s\n", strerror(errno));
            return ignore ? 0 : 1;
        }
    }
}
