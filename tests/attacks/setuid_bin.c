// setuid and file capabilities must have no effect. With a path in argv[1] (a setuid-root or file-capability copy of this program that the test placed in the work dir) it execs that copy, which reports: CONTAINED when its effective uid is its real uid, not 0, and it holds no capability; ESCAPED otherwise (exit 1).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int report(void) {
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    char line[256], caps[32] = "?";
    FILE* f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %31s", caps) == 1) break;
    if (f) fclose(f);
    if (e != r || s != r || e == 0 || strcmp(caps, "0000000000000000") != 0) {
        printf("ESCAPED uid %u euid %u suid %u CapEff %s\n", r, e, s, caps);
        return 1;
    }
    printf("CONTAINED uid %u euid %u CapEff %s\n", r, e, caps);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) return report();
    fflush(stdout);
    execl(argv[1], argv[1], (char*)NULL);
    printf("CONTAINED exec %s: %s\n", argv[1], strerrorname_np(errno));
    return 0;
}
