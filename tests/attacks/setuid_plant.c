// Tries to leave a setuid/setgid file in the work dir, as an attacker planting a binary that
// is root's on the host would: argv[1] "create" opens it with mode 06755, "chmod" creates it
// 0755 and then chmods it 06755. Must end in a syscall violation; judged on the host: the file
// must not carry either bit.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int create = argc > 1 && !strcmp(argv[1], "create");
    int fd = open("planted", O_WRONLY | O_CREAT | O_TRUNC, create ? 06755 : 0755);
    if (fd < 0) { perror("open"); return 1; }
    close(fd);
    if (chmod("planted", 06755) != 0) perror("chmod");
    struct stat st;
    if (stat("planted", &st) == 0) printf("mode %o\n", (unsigned)(st.st_mode & 07777));
    return 0;
}
