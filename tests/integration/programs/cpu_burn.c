// Burns argv[1] ms of CPU (one thread, polling getrusage) then prints "burned" and exits 0: ok under a larger cpu limit, time_limit under a smaller one; judged on verdict and cpu_time_ms.
// With "ignore-xcpu" it ignores SIGXCPU (RLIMIT_CPU's soft limit) and goes on;
// with "then-xcpu" it raises SIGXCPU itself once it has burned that much.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>

static long cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L;
}

int main(int argc, char** argv) {
    long target = argc > 1 ? atol(argv[1]) : 1000;
    if (argc > 2 && strcmp(argv[2], "ignore-xcpu") == 0) signal(SIGXCPU, SIG_IGN);
    volatile unsigned long spin = 0;
    while (cpu_ms() < target)
        for (int i = 0; i < 100000; i++) spin++;
    printf("burned %ld ms\n", cpu_ms());
    if (argc > 2 && strcmp(argv[2], "then-xcpu") == 0) {
        fflush(stdout);
        raise(SIGXCPU);
    }
    return 0;
}
