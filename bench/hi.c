// A static `echo hi` for the `minimal` profile: busybox sh is static too, but
// calls prctl(PR_SET_NAME), which `minimal` does not allow.
#include <unistd.h>
int main(void) { return write(1, "hi\n", 3) == 3 ? 0 : 1; }
