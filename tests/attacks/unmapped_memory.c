// Holds argv[1] MiB in memory no process maps, 16 MiB at a time, alternating
// System V shared memory (attached, touched, detached) and memfd files
// (written, never mapped); then prints "held N MiB" and exits 0. A refused
// call prints "refused: CALL: ERROR" and exits 1. Judged on the verdict:
// memory_limit where a cgroup counts it, refused where only RLIMIT_AS
// stands in; never "ok" with more held than --memory.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define CHUNK (16 << 20)

int main(int argc, char** argv) {
    long mib = argc > 1 ? atol(argv[1]) : 256;
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    for (long held = 0, i = 0; held < mib; held += CHUNK >> 20, ++i) {
        if (i % 2 == 0) {
            int id = shmget(IPC_PRIVATE, CHUNK, IPC_CREAT | 0600);
            if (id < 0) { printf("refused: shmget: %s\n", strerror(errno)); return 1; }
            char* p = shmat(id, NULL, 0);
            if (p == (void*)-1) { printf("refused: shmat: %s\n", strerror(errno)); return 1; }
            memset(p, 'x', CHUNK);
            shmdt(p);
        } else {
            int fd = memfd_create("held", 0);
            if (fd < 0) { printf("refused: memfd_create: %s\n", strerror(errno)); return 1; }
            for (int k = 0; k < CHUNK / (int)sizeof block; ++k)
                if (write(fd, block, sizeof block) != sizeof block) { printf("refused: write: %s\n", strerror(errno)); return 1; }
        }
    }
    printf("held %ld MiB\n", mib);
    return 0;
}
