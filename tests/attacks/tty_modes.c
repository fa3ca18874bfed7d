// Changes the terminal it is given on fd 0 as a program could before quitting: raw mode without echo, a tiny window size (which stays), exclusive mode, output stopped; prints DONE; judged by the test comparing the caller's terminal before and after the run.
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
    struct termios t;
    if (tcgetattr(0, &t) != 0) return 2;
    t.c_lflag &= ~(ECHO | ICANON | ISIG);
    tcsetattr(0, TCSANOW, &t);
    struct winsize w = {5, 7, 0, 0};
    ioctl(0, TIOCSWINSZ, &w);
    ioctl(0, TIOCEXCL);
    puts("DONE");
    fflush(stdout);
    tcflow(0, TCOOFF);
    return 0;
}
