// With the network off: socket(AF_INET) (a violation in the stock profiles), then bind 127.0.0.1:PORT and connect to 127.0.0.1:PORT (argv[1], default 8080), which Landlock denies where it handles TCP. CONTAINED/ESCAPED per step, exit 0 when every step failed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fflush(stdout);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        printf("CONTAINED socket(AF_INET): %s\n", strerrorname_np(errno));
        return 0;
    }
    int escaped = 0;
    if (bind(s, (struct sockaddr*)&addr, sizeof addr) == 0) {
        printf("ESCAPED bind 127.0.0.1:%d\n", port);
        escaped = 1;
    } else {
        printf("CONTAINED bind 127.0.0.1:%d: %s\n", port, strerrorname_np(errno));
    }
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr*)&addr, sizeof addr) == 0) {
        printf("ESCAPED connect 127.0.0.1:%d\n", port);
        escaped = 1;
    } else {
        printf("CONTAINED connect 127.0.0.1:%d: %s\n", port, strerrorname_np(errno));
    }
    close(s);
    return escaped;
}
