// Starts 16 threads that each make 1000 small allocations at once, as ordinary multithreaded code does, and prints "ok"; judged by the test: it passes under a memory limit far above what it uses, also where RLIMIT_AS stands in for the limit.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 16
static pthread_barrier_t together;

static void* work(void* arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++)
        if (!malloc(40)) {
            printf("malloc failed at %d\n", i);
            exit(3);
        }
    pthread_barrier_wait(&together);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    pthread_barrier_init(&together, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, NULL) != 0) {
            puts("thread creation failed");
            return 4;
        }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    puts("ok");
    return 0;
}
