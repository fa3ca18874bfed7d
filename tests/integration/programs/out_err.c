// Writes "out 1", "err", "out 2" to stdout, stderr, stdout in that order
// (unbuffered): with --stdout and --stderr naming one file, all three lines
// must arrive in order, as with `>f 2>&1`.
#include <unistd.h>

int main(void) {
    write(1, "out 1\n", 6);
    write(2, "err\n", 4);
    write(1, "out 2\n", 6);
    return 0;
}
