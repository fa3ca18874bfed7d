// Reads its input by opening /dev/stdin (as Node's readFileSync('/dev/stdin')
// and Python's open('/dev/stdin') do) and copies it to stdout; exit 1 with
// the error if the open fails.
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    FILE* in = fopen("/dev/stdin", "r");
    if (!in) {
        printf("open /dev/stdin: %s\n", strerror(errno));
        return 1;
    }
    for (int c; (c = getc(in)) != EOF;) putchar(c);
    return 0;
}
