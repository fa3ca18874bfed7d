// Reads its input by opening /dev/stdin (as Node's readFileSync('/dev/stdin')
// and Python's open('/dev/stdin') do) and copies it to stdout; exit 1 with
// the error if the open fails. With an argument it writes to a /dev/stdout it
// opens itself (Node's writeFileSync('/dev/stdout')), first saying whether
// /dev/stdin also opens for writing (a judge's input file must not).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    (void)argv;
    FILE* in = fopen("/dev/stdin", "r");
    if (!in) {
        printf("open /dev/stdin: %s\n", strerror(errno));
        return 1;
    }
    FILE* out = stdout;
    if (argc > 1) {
        out = fopen("/dev/stdout", "w");
        if (!out) {
            printf("open /dev/stdout: %s\n", strerror(errno));
            return 1;
        }
        int w = open("/dev/stdin", O_WRONLY);   // (a pipe's write end held here would never let it end)
        fprintf(out, "write /dev/stdin: %s\n", w < 0 ? "refused" : "opened");
        if (w >= 0) close(w);
    }
    for (int c; (c = getc(in)) != EOF;) putc(c, out);
    return 0;
}
