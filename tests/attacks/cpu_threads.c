// Runs argv[1] (default 4) threads that spin forever: time_limit once CPU summed over all threads passes the cpu limit (well before the wall limit); judged on verdict and cpu_time_ms > wall_time_ms on a multi-core machine.
#include <pthread.h>
#include <stdlib.h>

static void* spin(void* arg) {
    volatile unsigned long* n = arg;
    for (;;) (*n)++;
    return NULL;
}

int main(int argc, char** argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    static volatile unsigned long counters[256];
    if (threads < 1 || threads > 256) return 2;
    for (int i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, spin, (void*)&counters[i]) != 0) return 1;
    }
    spin((void*)&counters[0]);
    return 0;
}
