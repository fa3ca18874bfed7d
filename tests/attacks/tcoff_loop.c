// Stops the terminal's output on fd 2 (tcflow TCOOFF) again and again until a limit ends it; judged by the test: sandboxrun -v, writing its steps to that terminal, neither hangs nor leaves the output stopped.
#include <termios.h>

int main(void) {
    for (;;) tcflow(2, TCOOFF);
}
