// Allocates and touches argv[1] MiB, 1 MiB at a time, then prints "done": memory_limit when above the limit (or exit 1 "malloc failed" under rlimit-as), ok below it; judged on verdict and peak_memory_kib. With "spin" it then burns CPU until killed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    long mib = argc > 1 ? atol(argv[1]) : 64;
    for (long i = 0; i < mib; i++) {
        char* chunk = malloc(1 << 20);
        if (!chunk) {
            printf("malloc failed after %ld MiB\n", i);
            return 1;
        }
        memset(chunk, (int)(i & 0xff) | 1, 1 << 20);  // nonzero so no page stays shared with the zero page
    }
    puts("done");
    fflush(stdout);
    if (argc > 2 && strcmp(argv[2], "spin") == 0)
        for (volatile unsigned long n = 0;; n++) {
        }
    return 0;
}
