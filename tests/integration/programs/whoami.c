// Prints what the target can see of its identity: uids, user name, user database, uid_map, hostname, /proc pids, environment, network interfaces; verdict ok; judged by the test comparing each "key: value" line with the profile.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

static void print_file(const char* key, const char* path) {
    char line[256];
    FILE* f = fopen(path, "r");
    if (!f) {
        printf("%s: unreadable\n", key);
        return;
    }
    while (fgets(line, sizeof line, f)) printf("%s: %s", key, line);
    fclose(f);
}

int main(void) {
    char host[256] = "";
    printf("uid: %d\neuid: %d\ngid: %d\n", (int)getuid(), (int)geteuid(), (int)getgid());
    // Java's user.name and node's os.userInfo() ask the user database.
    struct passwd* pw = getpwuid(getuid());
    printf("user: %s %s\n", pw ? pw->pw_name : "none", pw ? pw->pw_dir : "");
    print_file("passwd", "/etc/passwd");
    print_file("uid_map", "/proc/self/uid_map");
    print_file("gid_map", "/proc/self/gid_map");
    gethostname(host, sizeof host - 1);
    printf("hostname: %s\n", host);

    // Capability sets, no_new_privs and seccomp mode, as the kernel reports them.
    FILE* status = fopen("/proc/self/status", "r");
    char sline[256];
    while (status && fgets(sline, sizeof sline, status))
        if (!strncmp(sline, "Cap", 3) || !strncmp(sline, "NoNewPrivs", 10) || !strncmp(sline, "Seccomp:", 8)) {
            char* colon = strchr(sline, ':');
            *colon = '\0';
            printf("%s: %s", sline, colon + 1 + strspn(colon + 1, " \t"));
        }
    if (status) fclose(status);

    printf("pids:");
    DIR* d = opendir("/proc");
    for (struct dirent* e; d && (e = readdir(d));)
        if (isdigit((unsigned char)e->d_name[0])) printf(" %s", e->d_name);
    if (d) closedir(d);
    printf("\n");

    for (char** env = environ; *env; env++) printf("env: %s\n", *env);

    // /proc/net/dev rather than if_nameindex(): that needs a netlink socket,
    // which the run profiles rightly forbid.
    FILE* dev = fopen("/proc/net/dev", "r");
    char line[512];
    for (int n = 0; dev && fgets(line, sizeof line, dev); n++) {
        char name[64];
        if (n >= 2 && sscanf(line, " %63[^:]:", name) == 1) printf("if: %s\n", name);
    }
    if (dev) fclose(dev);
    return 0;
}
