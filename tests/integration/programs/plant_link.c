// What a submission would do to make the judge write, bind or walk elsewhere
// after the run: plant_link LINK TARGET moves LINK aside (to LINK.old, if it
// is there) and makes it a symlink to TARGET.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    char aside[4096];
    snprintf(aside, sizeof aside, "%s.old", argv[1]);
    if (rename(argv[1], aside) != 0) unlink(argv[1]);
    if (symlink(argv[2], argv[1]) != 0) return perror("symlink"), 1;
    return 0;
}
