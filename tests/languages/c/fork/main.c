/* Forks one child that exits 7 and reports it: allowed by the compile
   profiles (c, cpp, pascal, go), a syscall violation under the -run ones. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) _exit(7);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
    printf("child exited %d\n", WEXITSTATUS(status));
    return 0;
}
