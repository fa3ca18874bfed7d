// Sleeps argv[1] ms using almost no CPU, then prints "slept" and exits 0: wall_time_limit under a smaller wall limit (never time_limit); judged on verdict, wall_time_ms and a near-zero cpu_time_ms.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
    long ms = argc > 1 ? atol(argv[1]) : 1000;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    puts("slept");
    return 0;
}
