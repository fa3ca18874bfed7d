// Double-forks and setsids; the grandchild (comm "sbx_daemon") writes its pid to argv[1] and sleeps 60 s, the parent exits 0 once the pid is written: verdict ok at once; judged by no "sbx_daemon" process surviving the run on the host.
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const char* pidfile = argc > 1 ? argv[1] : "daemon.pid";
    int ready[2];
    char byte;
    if (pipe(ready) < 0) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child > 0) {
        // Leave only once the grandchild is set up, so the pid file always exists.
        close(ready[1]);
        waitpid(child, NULL, 0);
        return read(ready[0], &byte, 1) == 1 ? 0 : 1;
    }
    setsid();
    signal(SIGHUP, SIG_IGN);
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild < 0);
    prctl(PR_SET_NAME, "sbx_daemon");
    FILE* f = fopen(pidfile, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    close(0);
    close(1);
    close(2);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    close(ready[1]);
    sleep(60);
    _exit(0);
}
