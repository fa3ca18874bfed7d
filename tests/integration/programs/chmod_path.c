// chmod_path PATH OCTAL: what a run can do to the top of its own (idmapped)
// work dir; judged on the host's mode after the run.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    if (chmod(argv[1], (mode_t)strtol(argv[2], NULL, 8)) != 0) return perror("chmod"), 1;
    return 0;
}
