// What a submission would do to make the judge write elsewhere after the run:
// plant_link LINK TARGET replaces LINK (in the work dir) by a symlink to TARGET.
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    unlink(argv[1]);
    if (symlink(argv[2], argv[1]) != 0) return perror("symlink"), 1;
    return 0;
}
