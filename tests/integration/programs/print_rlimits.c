// Prints the soft limits it was started with: "stack: N|unlimited", "as: ...",
// "data: ...", "cpu: ...": judged against the profile, whatever the caller's shell had.
#include <stdio.h>
#include <sys/resource.h>

static void show(const char* name, int resource) {
    struct rlimit rl;
    getrlimit(resource, &rl);
    if (rl.rlim_cur == RLIM_INFINITY) printf("%s: unlimited\n", name);
    else printf("%s: %llu\n", name, (unsigned long long)rl.rlim_cur);
}

int main(void) {
    show("stack", RLIMIT_STACK);
    show("as", RLIMIT_AS);
    show("data", RLIMIT_DATA);
    show("cpu", RLIMIT_CPU);
    return 0;
}
