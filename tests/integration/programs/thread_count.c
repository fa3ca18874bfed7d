// Starts threads (each waits forever) until pthread_create fails and prints
// "threads: N", the number it got beside the main thread: judged against --processes.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void* wait_forever(void* arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(void) {
    int n = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (pthread_t t; n < 10000 && pthread_create(&t, &attr, wait_forever, NULL) == 0;) n++;
    printf("threads: %d\n", n);
    fflush(stdout);
    _exit(0);
}
