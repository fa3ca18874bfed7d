// Signals everything it can: kill(-1, SIGKILL), kill(1, SIGKILL) and kill(PID, SIGKILL) for each host pid in argv (they must not even be visible). Then checks that it and the run's init still live. CONTAINED/ESCAPED per step, exit 0 when nothing outside the target died.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int escaped = 0;
    for (int i = 1; i < argc; i++) {
        pid_t pid = (pid_t)atoi(argv[i]);
        if (pid <= 1 || pid == getpid()) continue;   // the same number may exist inside; never ourselves
        if (kill(pid, SIGKILL) == 0) {
            printf("ESCAPED kill(%d, SIGKILL) delivered\n", pid);
            escaped = 1;
        } else {
            printf("CONTAINED kill(%d): %s\n", pid, strerrorname_np(errno));
        }
    }
    errno = 0;
    int all = kill(-1, SIGKILL);   // everything we may signal but ourselves and init
    printf("CONTAINED kill(-1, SIGKILL) returned %d %s; we survive\n", all, all ? strerrorname_np(errno) : "");
    int init = kill(1, SIGKILL);
    int init_errno = errno;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    // Had init died, the kernel would have killed us with the whole pid namespace.
    if (getppid() == 0 || (kill(1, 0) != 0 && errno == ESRCH)) {
        printf("ESCAPED init is gone\n");
        escaped = 1;
    } else {
        printf("CONTAINED kill(1, SIGKILL) %s; init lives\n", init ? strerrorname_np(init_errno) : "ignored");
    }
    return escaped;
}
