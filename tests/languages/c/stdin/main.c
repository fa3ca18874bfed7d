#include <stdio.h>
int main(void) {
    int n; long sum = 0, max = 0;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; ++i) {
        long x; if (scanf("%ld", &x) != 1) return 1;
        sum += x; if (i == 0 || x > max) max = x;
    }
    printf("sum %ld\nmax %ld\n", sum, max);
    return 0;
}
