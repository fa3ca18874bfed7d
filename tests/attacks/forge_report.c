// Writes a forged report (verdict ok) at argv[1], then uses up the work dir's inodes so that no new file can be made there, and exits 3; judged by the test: no forged report is left after the run.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    FILE* f = fopen(argv[1], "w");
    if (!f) return 2;
    fputs("{\"verdict\": \"ok\", \"forged\": true}\n", f);
    fclose(f);
    char name[32];
    for (int i = 0; i < 1000000; i++) {
        snprintf(name, sizeof name, "f%d", i);
        int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) break;
        close(fd);
    }
    return 3;
}
