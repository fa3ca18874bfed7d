// Raises signal argv[1] at itself at once (default SIGXCPU): a program
// dressing up as a limit it never reached; judged on the verdict being "signal".
#include <signal.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    int sig = argc > 1 ? atoi(argv[1]) : SIGXCPU;
    signal(sig, SIG_DFL);
    raise(sig);
    return 0;
}
