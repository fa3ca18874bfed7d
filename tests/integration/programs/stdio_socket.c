// Asks what its stdout is, as libuv does before it writes there (getsockname, then getsockopt SO_TYPE), and writes "hi" to it if it is a unix stream socket; judged by the test reading the other end of the socketpair it gave as stdout.
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(1, (struct sockaddr*)&ss, &len) != 0) return 2;
    int type = 0;
    len = sizeof type;
    if (getsockopt(1, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return 3;
    if (ss.ss_family != AF_UNIX || type != SOCK_STREAM) return 4;
    return write(1, "hi", 2) == 2 ? 0 : 5;
}
