// sethostname must fail (or the filter kill the run) and uname must show the sandbox's own name; CONTAINED/ESCAPED, exit 0 when contained. The test compares the host's hostname before and after.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
    struct utsname u;
    uname(&u);
    printf("nodename %s\n", u.nodename);
    fflush(stdout);
    if (sethostname("sbx-escaped", 11) == 0) {
        printf("ESCAPED sethostname\n");
        return 1;
    }
    printf("CONTAINED sethostname: %s\n", strerrorname_np(errno));
    return 0;
}
