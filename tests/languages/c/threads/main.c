#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
enum { N = 2000000, T = 4 };
static long part[T];
static void* work(void* arg) {
    long t = (long)arg, s = 0;
    for (long i = t * (N / T) + 1; i <= (t + 1) * (N / T); ++i) s += i % 1000;
    part[t] = s;
    return NULL;
}
static int cmp(const void* a, const void* b) { return *(const int*)a - *(const int*)b; }
int main(void) {
    pthread_t th[T];
    for (long t = 0; t < T; ++t) if (pthread_create(&th[t], NULL, work, (void*)t)) return 1;
    long sum = 0;
    for (int t = 0; t < T; ++t) { pthread_join(th[t], NULL); sum += part[t]; }
    int* k = malloc(100000 * sizeof *k);
    for (int i = 0; i < 100000; ++i) k[i] = (int)((long)i * 7919 % 1000);
    qsort(k, 100000, sizeof *k, cmp);
    int keys = 0, zero = 0;
    for (int i = 0; i < 100000; ++i) { if (i == 0 || k[i] != k[i - 1]) ++keys; if (k[i] == 0) ++zero; }
    printf("sum %ld\nkeys %d\nzero %d\n", sum, keys, zero);
    free(k);
    return 0;
}
