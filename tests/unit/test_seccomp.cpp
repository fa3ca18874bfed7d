// Syscall groups, validation, compilation, and the filter at work in forked
// children: each child installs a compiled filter while sharing the parent's
// fd table, exactly as the target does with the run's pid 1.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sockios.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <sched.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>

#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"
#include "sandboxrun/seccomp.hpp"
#include "sandboxrun/syscall_groups.hpp"

using namespace sandboxrun;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

Policy stock(const std::string& name) { return load_profile(name, stock_resolver()); }

bool same_code(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0;
}

Syscalls minimal_syscalls() {
    Syscalls s;
    s.allow = {"@default", "@basic-io", "@file-system", "@memory", "@signal", "@timer",
               "@thread", "@system-info", "@credentials", "@resources", "@sync"};
    s.allow_origins.assign(s.allow.size(), "test");
    return s;
}

struct Outcome {
    std::optional<SyscallViolation> violation;
    int status = -1;     // wait status when the child ended by itself
    pid_t pid = -1;
};

// Starts a child sharing our fd table (CLONE_FILES), as the target shares
// pid 1's: it sets no_new_privs, installs `program`, tells us the listener's
// number over a pipe (write is always allowed) and runs `body`, exiting with
// its result. The listener is then ours as well, and stays ours when the child
// exits or execs. Returns the child's pid and the listener (-1: none).
std::pair<pid_t, int> start_filtered(const SeccompProgram& program, const std::function<int()>& body) {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    struct Start {
        const SeccompProgram& program;
        const std::function<int()>& body;
        int report;
    } start{program, body, p[1]};
    alignas(16) static char stack[256 * 1024];   // copied with the rest of our memory
    auto run = [](void* arg) -> int {
        auto* s = static_cast<Start*>(arg);
        alarm(10);
        int listener = -1;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || apply_seccomp(s->program, listener) != 0) listener = -2;
        if (write(s->report, &listener, sizeof listener) != sizeof listener || listener == -2) _exit(91);
        _exit(s->body());
    };
    const pid_t pid = clone(run, stack + sizeof stack, CLONE_FILES | SIGCHLD, &start);
    REQUIRE(pid > 0);
    int listener = -3;
    pollfd pf{p[0], POLLIN, 0};
    if (poll(&pf, 1, 15000) != 1 || read(p[0], &listener, sizeof listener) != sizeof listener || listener < -1) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        FAIL("the filtered child reported no listener (" << listener << ")");
    }
    close(p[0]);
    close(p[1]);
    return {pid, listener};
}

// Runs `body` under `program` (start_filtered), then either reads a violation
// (and kills the child) or waits for the child to exit. The child is always
// reaped; alarm() in the child and a deadline here bound everything.
Outcome run_filtered(const SeccompProgram& program, const std::function<int()>& body) {
    const auto [pid, listener] = start_filtered(program, body);
    Outcome out;
    out.pid = pid;
    REQUIRE(listener >= 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (true) {
        pollfd p{listener, POLLIN, 0};
        const int r = poll(&p, 1, 100);
        if (r > 0 && (p.revents & POLLIN)) {
            out.violation = read_seccomp_violation(listener);
            if (out.violation) {
                kill(pid, SIGKILL);
                waitpid(pid, nullptr, 0);
                break;
            }
        }
        if (waitpid(pid, &out.status, WNOHANG) == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &out.status, 0);
            break;
        }
    }
    close(listener);
    return out;
}

bool exited_with(const Outcome& o, int code) {
    return !o.violation && WIFEXITED(o.status) && WEXITSTATUS(o.status) == code;
}

}  // namespace

TEST_CASE("groups expand recursively without duplicates", "[seccomp]") {
    const auto names = expand_syscalls({"@process"});
    CHECK(contains(names, "fork"));
    CHECK(contains(names, "rt_sigaction"));   // from @signal, which @process includes
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());

    const auto both = expand_syscalls({"@default", "@basic-io", "read", "@memory"});
    CHECK(std::set<std::string>(both.begin(), both.end()).size() == both.size());
    CHECK(std::count(both.begin(), both.end(), "read") == 1);

    const auto priv = expand_syscalls({"@privileged"});
    CHECK(contains(priv, "mount"));     // via @mount
    CHECK(contains(priv, "reboot"));    // via @reboot
    CHECK(contains(priv, "setgroups"));
    CHECK_FALSE(contains(priv, "setuid"));   // @own-ids: harmless without capabilities
}

TEST_CASE("names that exist only on other arches are skipped", "[seccomp]") {
    // "ulimit" and "vm86" are i386-only; libseccomp knows them, x86_64 lacks them.
    const auto names = expand_syscalls({"@obsolete", "@cpu-emulation"});
    CHECK_FALSE(contains(names, "ulimit"));
    CHECK_FALSE(contains(names, "vm86"));
    CHECK(contains(names, "modify_ldt"));
}

TEST_CASE("every group member is a name libseccomp knows", "[seccomp]") {
    for (const auto& g : syscall_groups())
        for (const auto& m : g.members) {
            INFO(g.name << ": " << m.name);
            if (m.name.starts_with('@')) CHECK(find_syscall_group(m.name) != nullptr);
            else CHECK(seccomp_syscall_resolve_name(std::string(m.name).c_str()) != __NR_SCMP_ERROR);
        }
}

TEST_CASE("unknown names are errors that name their origin", "[seccomp]") {
    Syscalls s = minimal_syscalls();
    s.allow.push_back("@no-such-group");
    s.allow_origins.push_back("c.toml:12:3");
    CHECK_THROWS_WITH(validate_syscalls(s), Catch::Contains("c.toml:12:3") &&
                                                Catch::Contains("@no-such-group"));
    s.allow.back() = "no_such_syscall";
    CHECK_THROWS_WITH(validate_syscalls(s), Catch::Contains("c.toml:12:3") &&
                                                Catch::Contains("no_such_syscall"));
    CHECK_THROWS_AS(compile_seccomp(s, Network{}), Error);

    Syscalls e = minimal_syscalls();
    e.errno_rules.push_back({"no_such_syscall", EPERM, "x.toml:3:1"});
    CHECK_THROWS_WITH(validate_syscalls(e), Catch::Contains("x.toml:3:1"));
    CHECK_NOTHROW(validate_syscalls(minimal_syscalls()));
}

TEST_CASE("namespace syscalls and errno on needed syscalls are refused", "[seccomp]") {
    for (std::string name : {"unshare", "setns", "clone3", "@dangerous-interfaces"}) {
        Syscalls s = minimal_syscalls();
        s.allow.push_back(name);
        s.allow_origins.push_back("p.toml:1:1");
        INFO(name);
        CHECK_THROWS_WITH(validate_syscalls(s), Catch::Contains("p.toml:1:1"));
    }
    Syscalls e = minimal_syscalls();
    e.errno_rules.push_back({"execve", EPERM, "p.toml:2:1"});
    CHECK_THROWS_WITH(validate_syscalls(e), Catch::Contains("execve"));
}

TEST_CASE("dangerous groups are in no stock profile's expansion", "[seccomp]") {
    std::set<std::string> dangerous;
    for (const auto& g : syscall_groups())
        if (g.dangerous)
            for (const auto& name : expand_syscalls({std::string(g.name)})) dangerous.insert(name);
    REQUIRE(dangerous.count("ptrace") == 1);
    REQUIRE(dangerous.count("mount") == 1);
    const auto names = stock_profile_names();
    REQUIRE(names.size() >= 5);
    for (const auto& profile : names) {
        const Policy p = stock(profile);
        for (const auto& name : expand_syscalls(p.syscalls.allow)) {
            INFO(profile << " allows " << name);
            CHECK(dangerous.count(name) == 0);
        }
        CHECK_NOTHROW(compile_seccomp(p.syscalls, p.net));
    }
}

TEST_CASE("compile produces BPF with the notify default", "[seccomp]") {
    const auto p = compile_seccomp(minimal_syscalls(), Network{});
    CHECK(p.notify);
    REQUIRE(p.code.size() > 10);
    // The last instruction of a libseccomp filter returns the default action.
    bool has_notify = std::any_of(p.code.begin(), p.code.end(), [](const sock_filter& i) {
        return i.code == (BPF_RET | BPF_K) && i.k == SCMP_ACT_NOTIFY;
    });
    CHECK(has_notify);
    CHECK(syscall_name(SYS_getpid) == "getpid");
}

TEST_CASE("an allowed syscall works under the filter", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    const auto o = run_filtered(program, [] {
        int fds[2];
        if (pipe2(fds, 0) == 0) return 10;   // pipe2 is @ipc, not in minimal: would not return
        return 1;
    });
    // pipe2 is not allowed: must be a violation, not an exit.
    REQUIRE(o.violation);
    CHECK(o.violation->name == "pipe2");

    const auto ok = run_filtered(program, [] {
        if (getpid() <= 0) return 1;
        char buf[8];
        int fd = open("/dev/null", O_RDONLY);   // openat, @file-system
        if (fd < 0 || read(fd, buf, sizeof buf) != 0) return 2;
        close(fd);
        struct termios t;
        if (tcgetattr(fd, &t) == 0 || errno != EBADF) return 3;   // ioctl TCGETS allowed
        return 42;
    });
    CHECK(exited_with(ok, 42));
}

TEST_CASE("clone3 answers ENOSYS", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    const auto o = run_filtered(program, [] {
        // Without the filter this is EINVAL or EFAULT, never ENOSYS on 5.3+.
        long r = syscall(SYS_clone3, nullptr, 0);
        return r == -1 && errno == ENOSYS ? 7 : 1;
    });
    CHECK(exited_with(o, 7));
}

TEST_CASE("clone: threads allowed, namespaces are violations", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    const auto newuser = run_filtered(program, [] {
        long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(0);   // must never get here; keep a stray child harmless
        return 1;
    });
    REQUIRE(newuser.violation);
    CHECK(newuser.violation->name == "clone");
    CHECK(newuser.violation->pid == newuser.pid);

    // @thread without @process: a plain fork-style clone is a violation too.
    const auto fork_clone = run_filtered(program, [] {
        long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(0);
        return 1;
    });
    CHECK(fork_clone.violation);

    Syscalls with_process = minimal_syscalls();
    with_process.allow.push_back("@process");
    const auto p2 = compile_seccomp(with_process, Network{});
    const auto forked = run_filtered(p2, [] {
        long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(5);
        int st = 0;
        if (r < 0 || waitpid(static_cast<pid_t>(r), &st, 0) != r) return 1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 5 ? 9 : 2;
    });
    CHECK(exited_with(forked, 9));
    const auto ns = run_filtered(p2, [] {
        long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(0);
        return 1;
    });
    REQUIRE(ns.violation);
    CHECK(ns.violation->name == "clone");
}

TEST_CASE("ioctl TIOCSTI, TIOCLINUX and TIOCSETD are violations, even with junk in the high half", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    for (unsigned long request : {TIOCSTI, TIOCLINUX, TIOCSETD}) {
        INFO("request " << request);
        const auto o = run_filtered(program, [request] {
            char c = 'x';
            syscall(SYS_ioctl, 0, request, &c);
            return 1;
        });
        REQUIRE(o.violation);
        CHECK(o.violation->name == "ioctl");
    }
    const auto high = run_filtered(program, [] {
        char c = 'x';
        syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c);
        return 1;
    });
    CHECK(high.violation);
    const auto fionread = run_filtered(program, [] {
        int n = 0;
        return syscall(SYS_ioctl, -1, FIONREAD, &n) == -1 && errno == EBADF ? 4 : 1;
    });
    CHECK(exited_with(fionread, 4));
}

TEST_CASE("ioctl requests off the list answer ENOTTY from the filter; listed ones reach the kernel", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    // On fd -1 the kernel answers EBADF: ENOTTY can only be the filter's.
    // The first and the last of the list, one between, one with junk in the high half.
    for (unsigned long request : {static_cast<unsigned long>(TCGETS), static_cast<unsigned long>(SIOCOUTQNSD),
                                  static_cast<unsigned long>(RNDGETENTCNT), (1UL << 32) | FIONREAD}) {
        INFO("listed request " << request);
        const auto o = run_filtered(program, [request] {
            int n = 0;
            return syscall(SYS_ioctl, -1, request, &n) == -1 && errno == EBADF ? 4 : 1;
        });
        CHECK(exited_with(o, 4));
    }
    // BTRFS_IOC_SUBVOL_CREATE, ext4's GET_ENCRYPTION_PWSALT, NS_GET_NSTYPE, FIOASYNC.
    for (unsigned long request : {0x5000940eUL, 0x40106614UL, static_cast<unsigned long>(NS_GET_NSTYPE),
                                  static_cast<unsigned long>(FIOASYNC)}) {
        INFO("unlisted request " << request);
        const auto o = run_filtered(program, [request] {
            char buf[4096] = {};
            return syscall(SYS_ioctl, -1, request, buf) == -1 && errno == ENOTTY ? 4 : 1;
        });
        CHECK_FALSE(o.violation);
        CHECK(exited_with(o, 4));
    }
}

TEST_CASE("fcntl F_SETFL with O_ASYNC answers EPERM; other flags reach the kernel", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    const auto async = run_filtered(program, [] {
        return syscall(SYS_fcntl, -1, F_SETFL, O_ASYNC | O_NONBLOCK) == -1 && errno == EPERM ? 4 : 1;
    });
    CHECK_FALSE(async.violation);
    CHECK(exited_with(async, 4));
    for (long flags : {static_cast<long>(O_NONBLOCK), static_cast<long>(O_ASYNC) << 32}) {   // (the high half: ignored)
        INFO("flags " << flags);
        const auto o = run_filtered(program, [flags] { return syscall(SYS_fcntl, -1, F_SETFL, flags) == -1 && errno == EBADF ? 4 : 1; });
        CHECK(exited_with(o, 4));
    }
    const auto getfl = run_filtered(program, [] { return syscall(SYS_fcntl, -1, F_GETFL, O_ASYNC) == -1 && errno == EBADF ? 4 : 1; });
    CHECK(exited_with(getfl, 4));
}

TEST_CASE("socket families follow socket_families and the network switch", "[seccomp][fork]") {
    Syscalls s = minimal_syscalls();
    s.allow.push_back("@network-io");
    s.socket_families = {"AF_UNIX", "AF_INET"};
    auto inet = [] {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0) close(fd);
        return 6;   // allowed: whatever the kernel answered, we got here
    };
    const auto off = run_filtered(compile_seccomp(s, Network{.enabled = false}), inet);
    REQUIRE(off.violation);
    CHECK(off.violation->name == "socket");
    const auto on = run_filtered(compile_seccomp(s, Network{.enabled = true}), inet);
    CHECK(exited_with(on, 6));
    const auto unix_pair = run_filtered(compile_seccomp(s, Network{}), [] {
        int sv[2];
        return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? 8 : 1;
    });
    CHECK(exited_with(unix_pair, 8));
    const auto packet = run_filtered(compile_seccomp(s, Network{}), [] {
        socket(AF_PACKET, SOCK_RAW, 0);
        return 1;
    });
    CHECK(packet.violation);
}

TEST_CASE("errno rules answer instead of a violation", "[seccomp][fork]") {
    Syscalls s = minimal_syscalls();
    s.errno_rules.push_back({"ptrace", EPERM, "t"});
    const auto o = run_filtered(compile_seccomp(s, Network{}), [] {
        return syscall(SYS_ptrace, 0, 0, 0, 0) == -1 && errno == EPERM ? 3 : 1;
    });
    CHECK(exited_with(o, 3));
    const auto v = run_filtered(compile_seccomp(minimal_syscalls(), Network{}), [] {
        syscall(SYS_ptrace, 0, 0, 0, 0);
        return 1;
    });
    REQUIRE(v.violation);
    CHECK(v.violation->name == "ptrace");
    CHECK(v.violation->number == SYS_ptrace);
    CHECK(v.violation->arch == SCMP_ARCH_X86_64);
}

TEST_CASE("x32 and i386 syscalls are violations, named by their arch's table", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    const auto x32 = run_filtered(program, [] {
        syscall(0x40000000 | SYS_getpid);   // __X32_SYSCALL_BIT
        return 1;
    });
    REQUIRE(x32.violation);
    CHECK_THAT(x32.violation->name, Catch::Matchers::EndsWith("(x32)"));
    auto i386_getpid = [] {
        signal(SIGSEGV, SIG_DFL);   // not Catch's handler, which would report from the child
        long r;
        asm volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        return 1;
    };
    const auto i386 = run_filtered(program, i386_getpid);
    // Some kernels have no i386 entry at all (ia32_emulation=0, some VMs):
    // int 0x80 is then SIGSEGV before any filter runs, with or without one.
    pid_t bare = fork();
    REQUIRE(bare >= 0);
    if (bare == 0) _exit(i386_getpid());
    int bare_status = 0;
    waitpid(bare, &bare_status, 0);
    if (WIFSIGNALED(bare_status) && WTERMSIG(bare_status) == SIGSEGV) {
        CHECK((WIFSIGNALED(i386.status) && WTERMSIG(i386.status) == SIGSEGV));
    } else {
        REQUIRE(i386.violation);
        CHECK(i386.violation->name == "getpid (i386)");
    }
}

TEST_CASE("hand-over reaches an unprivileged supervisor from pid 1 of new user and pid "
          "namespaces", "[seccomp][fork]") {
    const auto program = compile_seccomp(minimal_syscalls(), Network{});
    // A plays the supervisor as nobody; B enters new user+pid namespaces and
    // forks C, pid 1 there, which starts D sharing its fds, as the target
    // shares pid 1's. D installs the filter and trips on ptrace; C sends D's
    // listener to A, which must see the violation with D's pid in A's pid
    // namespace. A reports through its exit status: 0 when all that held.
    const pid_t a = fork();
    REQUIRE(a >= 0);
    if (a == 0) {
        alarm(20);
        if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0)
            _exit(10);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) _exit(11);
        const pid_t b = fork();
        if (b < 0) _exit(12);
        if (b == 0) {
            close(sv[0]);
            if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) _exit(20);
            const pid_t c = fork();
            if (c == 0) {
                if (getpid() != 1) _exit(30);
                const auto [d, listener] = start_filtered(program, [] {
                    syscall(SYS_ptrace, 0, 0, 0, 0);
                    return 32;
                });
                Handover h;
                h.listener = listener;
                h.start_us = 7;
                if (send_handover(sv[1], h) != 0) _exit(31);
                int st = 0;
                waitpid(d, &st, 0);   // A kills D once it has seen the violation
                _exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 33);
            }
            int st = 0;
            waitpid(c, &st, 0);
            _exit(c > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 21);
        }
        close(sv[1]);
        int code = 0;
        try {
            const auto h = receive_handover(sv[0]);
            pollfd p{h ? h->listener : -1, POLLIN, 0};
            const auto v = h && poll(&p, 1, 10000) == 1 ? read_seccomp_violation(h->listener) : std::nullopt;
            if (!h || h->listener < 0 || h->start_us != 7) code = 13;
            else if (!v) code = 14;
            else if (v->name != "ptrace") code = 15;
            else if (v->pid <= 1 || kill(v->pid, SIGKILL) != 0) code = 16;
        } catch (const Error& e) {
            fprintf(stderr, "supervisor side: %s\n", e.what());
            code = 17;
        }
        int st = 0;
        if (code != 0) kill(b, SIGKILL);
        waitpid(b, &st, 0);
        if (code == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) code = 18;
        _exit(code);
    }
    int st = 0;
    REQUIRE(waitpid(a, &st, 0) == a);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("after execve the program does not hold the listener; its starter does", "[seccomp][fork]") {
    if (access("/bin/sleep", X_OK) != 0) return;
    const Policy p = stock("c");
    const auto [pid, listener] = start_filtered(compile_seccomp(p.syscalls, p.net), [] {
        execl("/bin/sleep", "sleep", "10", nullptr);
        return 99;
    });
    REQUIRE(listener >= 0);
    auto link = [](const std::string& path) {
        char buf[256];
        const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    };
    const std::string proc = "/proc/" + std::to_string(pid);
    for (int i = 0; i < 500 && link(proc + "/exe") != "/usr/bin/sleep"; ++i) usleep(10000);
    REQUIRE(link(proc + "/exe") == "/usr/bin/sleep");
    std::vector<std::string> targets;
    for (const auto& e : std::filesystem::directory_iterator(proc + "/fd")) targets.push_back(link(e.path()));
    CHECK_FALSE(targets.empty());
    for (const auto& t : targets) CHECK(t.find("seccomp") == std::string::npos);
    CHECK(link("/proc/self/fd/" + std::to_string(listener)).find("seccomp") != std::string::npos);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(listener);
}

TEST_CASE("stock profiles run real dynamic programs without violations", "[seccomp][fork]") {
    struct Case {
        const char* profile;
        std::vector<const char*> argv;
    };
    const std::vector<Case> cases = {
        {"base", {"/bin/true", nullptr}},
        {"c", {"/bin/sh", "-c", "/bin/ls / > /dev/null && echo ok > /dev/null", nullptr}},
        {"python", {"/usr/bin/python3", "-c",
                    "import os, subprocess, threading, socket, time\n"
                    "subprocess.run(['/bin/true'], check=True)\n"
                    "t = threading.Thread(target=time.sleep, args=(0.01,)); t.start(); t.join()\n"
                    "socket.socketpair()\n",
                    nullptr}},
    };
    for (const auto& c : cases) {
        if (access(c.argv[0], X_OK) != 0) continue;
        const Policy p = stock(c.profile);
        const auto program = compile_seccomp(p.syscalls, p.net);
        const auto o = run_filtered(program, [&] {
            execv(c.argv[0], const_cast<char* const*>(c.argv.data()));
            return 99;
        });
        INFO(c.profile << ": " << c.argv[0] << " violation: "
                       << (o.violation ? o.violation->name : std::string("none")));
        CHECK(exited_with(o, 0));
    }
}

TEST_CASE("a hand-over without a listener arrives as -1; none at all as nullopt", "[seccomp]") {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    Handover sent;
    sent.start_us = 123;
    sent.setup_user_us = 4;
    sent.setup_system_us = 5;
    REQUIRE(send_handover(sv[1], sent) == 0);
    const auto got = receive_handover(sv[0]);
    REQUIRE(got);
    CHECK(got->listener == -1);
    CHECK(got->start_us == 123);
    CHECK(got->setup_user_us == 4);
    CHECK(got->setup_system_us == 5);
    close(sv[1]);
    CHECK_FALSE(receive_handover(sv[0]));
    close(sv[0]);
}

// --- programs precompiled at build time (src/precompile_filters.cpp) --------

TEST_CASE("every stock profile's precompiled program is what libseccomp compiles now",
          "[seccomp][precompiled]") {
    const auto names = stock_profile_names();
    REQUIRE(names.size() >= 5);
    for (const auto& name : names) {
        INFO(name);
        const Policy p = stock(name);
        const auto precompiled = precompiled_seccomp(seccomp_key(p.syscalls, p.net));
        if (!precompiled) {
            // The generator leaves a profile out only when it cannot compile it.
            CHECK_THROWS_AS(compile_seccomp_fresh(p.syscalls, p.net), Error);
            continue;
        }
        const SeccompProgram fresh = compile_seccomp_fresh(p.syscalls, p.net);
        CHECK(precompiled->notify == fresh.notify);
        CHECK(precompiled->code.size() == fresh.code.size());
        CHECK(same_code(precompiled->code, fresh.code));
        CHECK(same_code(compile_seccomp(p.syscalls, p.net).code, fresh.code));
    }
}

TEST_CASE("the table holds one entry per distinct key", "[seccomp][precompiled]") {
    std::set<std::string_view> keys;
    for (const auto& filter : precompiled_filters()) {
        CHECK(keys.insert(filter.key).second);
        CHECK(!filter.code.empty());
    }
}

TEST_CASE("a policy one input away from a stock profile misses the table and still compiles",
          "[seccomp][precompiled]") {
    const Policy p = stock("cpp-run");
    const auto stock_program = precompiled_seccomp(seccomp_key(p.syscalls, p.net));
    REQUIRE(stock_program);
    // setsid, not pipe2: javascript is exactly cpp-run's syscalls plus pipe2 (a hit).
    REQUIRE_FALSE(contains(expand_syscalls(p.syscalls.allow), "setsid"));

    Syscalls more = p.syscalls;
    more.allow.push_back("setsid");
    more.allow_origins.push_back("test");
    Syscalls with_errno = p.syscalls;
    with_errno.errno_rules.push_back({"ptrace", EPERM, "test"});
    for (const Syscalls& s : {more, with_errno}) {
        CHECK_FALSE(precompiled_seccomp(seccomp_key(s, p.net)));
        const SeccompProgram compiled = compile_seccomp(s, p.net);
        CHECK(same_code(compiled.code, compile_seccomp_fresh(s, p.net).code));
        CHECK_FALSE(same_code(compiled.code, stock_program->code));
    }
    // Network on: no stock profile allows an IP socket family, so the program
    // comes out the same; the key still differs (with AF_INET allowed it would not be).
    const Network on{.enabled = true};
    CHECK_FALSE(precompiled_seccomp(seccomp_key(p.syscalls, on)));
    CHECK(same_code(compile_seccomp(p.syscalls, on).code, stock_program->code));
}

TEST_CASE("a profile extending a stock one with other limits and mounts gets the stock program",
          "[seccomp][precompiled]") {
    const ProfileResolver resolve = [](const std::string& name) -> std::optional<ProfileText> {
        if (name == "judge")
            return ProfileText{"/etc/sandboxrun/profiles/judge.toml",
                               "extends = \"cpp-run\"\n"
                               "[limits]\nmemory = \"1GiB\"\ncpu_time = \"2s\"\n"
                               "[filesystem]\nro = [\"/opt\"]\ntmpfs = { \"/scratch\" = \"16MiB\" }\n"};
        return stock_resolver()(name);
    };
    const Policy judge = load_profile("judge", resolve);
    const Policy cpp_run = stock("cpp-run");
    REQUIRE(judge.limits.memory != cpp_run.limits.memory);
    CHECK(seccomp_key(judge.syscalls, judge.net) == seccomp_key(cpp_run.syscalls, cpp_run.net));
    const auto program = precompiled_seccomp(seccomp_key(judge.syscalls, judge.net));
    REQUIRE(program);
    CHECK(same_code(program->code, compile_seccomp_fresh(cpp_run.syscalls, cpp_run.net).code));
}

TEST_CASE("the key changes with every input and not with origins", "[seccomp][precompiled]") {
    Syscalls base = minimal_syscalls();
    base.errno_rules = {{"ptrace", EPERM, "a.toml:1:1"}, {"kcmp", EACCES, "a.toml:2:1"}};
    base.socket_families = {"AF_UNIX", "AF_INET"};
    const Network net{};
    const std::string key = seccomp_key(base, net);

    const scmp_version* lib = seccomp_version();
    CHECK_THAT(key, Catch::Contains("sandboxrun " SANDBOXRUN_VERSION ";"));
    CHECK_THAT(key, Catch::Contains("libseccomp " + std::to_string(lib->major) + "." +
                                    std::to_string(lib->minor) + "." + std::to_string(lib->micro)));
    for (auto name : always_allowed_syscalls()) CHECK_THAT(key, Catch::Contains(std::string(name)));

    using Change = std::function<void(Syscalls&, Network&)>;
    const std::vector<std::pair<const char*, Change>> changes = {
        {"one more allowed name", [](Syscalls& s, Network&) { s.allow.push_back("pipe2"); }},
        {"one allowed name fewer", [](Syscalls& s, Network&) { s.allow.pop_back(); }},
        {"an allowed name replaced", [](Syscalls& s, Network&) { s.allow.back() = "@ipc"; }},
        {"allow order", [](Syscalls& s, Network&) { std::swap(s.allow[0], s.allow[1]); }},
        {"an errno value", [](Syscalls& s, Network&) { s.errno_rules[0].errno_value = EACCES; }},
        {"an errno name", [](Syscalls& s, Network&) { s.errno_rules[0].name = "syslog"; }},
        {"one more errno rule", [](Syscalls& s, Network&) { s.errno_rules.push_back({"bpf", EPERM, ""}); }},
        {"no errno rules", [](Syscalls& s, Network&) { s.errno_rules.clear(); }},
        {"errno order", [](Syscalls& s, Network&) { std::swap(s.errno_rules[0], s.errno_rules[1]); }},
        {"one family fewer", [](Syscalls& s, Network&) { s.socket_families.pop_back(); }},
        {"family order", [](Syscalls& s, Network&) { std::swap(s.socket_families[0], s.socket_families[1]); }},
        {"network on", [](Syscalls&, Network& n) { n.enabled = true; }},
        {"an errno name moved to allow",
         [](Syscalls& s, Network&) {
             s.allow.push_back(s.errno_rules.back().name);
             s.errno_rules.pop_back();
         }},
    };
    for (const auto& [what, change] : changes) {
        INFO(what);
        Syscalls s = base;
        Network n = net;
        change(s, n);
        CHECK(seccomp_key(s, n) != key);
    }

    // Names cannot run into each other.
    Syscalls ab = base, a = base;
    ab.allow = {"ab", "c"};
    a.allow = {"a", "bc"};
    CHECK(seccomp_key(ab, net) != seccomp_key(a, net));

    // Origins and loopback change messages and the network namespace, not the program.
    Syscalls origins = base;
    for (auto& o : origins.allow_origins) o = "elsewhere.toml:9:9";
    origins.allow_origins.push_back("one more");
    for (auto& r : origins.errno_rules) r.origin = "--learn";
    CHECK(seccomp_key(origins, net) == key);
    CHECK(seccomp_key(base, Network{.enabled = false, .loopback = !net.loopback}) == key);
}

namespace {


// A policy the build-time table cannot hold.
Syscalls custom_syscalls() {
    Syscalls s = minimal_syscalls();
    s.allow.push_back("@process");
    s.allow_origins.push_back("test");
    return s;
}

void write_entry(const std::string& path, const std::string& entry, mode_t mode = 0600) {
    ::unlink(path.c_str());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size()));
    ::close(fd);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

TEST_CASE("the run-time cache stores a compiled policy and serves it back", "[seccomp]") {
    TempDir dir("sandboxrun-bpf-test");   // mkdtemp makes it 0700, as the cache needs
    const Syscalls s = custom_syscalls();
    REQUIRE_FALSE(precompiled_seccomp(seccomp_key(s, Network{})));   // else the table answers, not the cache
    const auto fresh = compile_seccomp_fresh(s, Network{});
    CHECK(same_code(compile_seccomp(s, Network{}, dir.path.string()).code, fresh.code));

    const std::string key = seccomp_key(s, Network{});
    const std::string file = dir.path / seccomp_cache_name(key);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(st.st_uid == ::geteuid());

    // What comes back is what the file holds: plant another valid program under this key.
    const auto other = compile_seccomp_fresh(minimal_syscalls(), Network{});
    REQUIRE_FALSE(same_code(other.code, fresh.code));
    write_entry(file, seccomp_cache_entry(key, other));
    CHECK(same_code(compile_seccomp(s, Network{}, dir.path.string()).code, other.code));
    // No cache: always compiled.
    CHECK(same_code(compile_seccomp(s, Network{}, "").code, fresh.code));
}

TEST_CASE("the cache is not trusted where someone else could have written, nor a wrong file", "[seccomp]") {
    TempDir dir("sandboxrun-bpf-test");   // mkdtemp makes it 0700, as the cache needs
    const Syscalls s = custom_syscalls();
    const std::string key = seccomp_key(s, Network{});
    const std::string file = dir.path / seccomp_cache_name(key);
    const auto fresh = compile_seccomp_fresh(s, Network{});
    const auto other = compile_seccomp_fresh(minimal_syscalls(), Network{});
    const std::string good = seccomp_cache_entry(key, other);
    write_entry(file, good);
    REQUIRE(same_code(compile_seccomp(s, Network{}, dir.path.string()).code, other.code));   // trusted as is

    SECTION("the file is writable by its group") { write_entry(file, good, 0620); }
    SECTION("the file is writable by others") { write_entry(file, good, 0602); }
    SECTION("the directory is open to others") { REQUIRE(::chmod(dir.path.c_str(), 0755) == 0); }
    SECTION("the file holds another key") { write_entry(file, seccomp_cache_entry(key + " ", other)); }
    SECTION("the file is cut short") { write_entry(file, good.substr(0, good.size() - 3)); }
    SECTION("the file is a symlink to a good entry") {
        write_entry(dir.path / "elsewhere", good);
        ::unlink(file.c_str());
        REQUIRE(::symlink((dir.path / "elsewhere").c_str(), file.c_str()) == 0);
    }
    SECTION("the file belongs to another uid") {
        if (::geteuid() != 0) return;   // only root can give it away
        REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    }
    CHECK(same_code(compile_seccomp(s, Network{}, dir.path.string()).code, fresh.code));
}

TEST_CASE("a state directory a caller's umask made unusable is mended; one of someone else's is refused, and said why",
          "[seccomp]") {
    TempDir dir("sandboxrun-state-test");
    const std::string state = (dir.path / "modes").string();
    REQUIRE(::mkdir(state.c_str(), 0) == 0);   // as under umask 0777
    int fd = open_own_dir(state);
    CHECK(fd >= 0);
    if (fd >= 0) ::close(fd);
    struct stat st {};
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);

    const std::string link = (dir.path / "link").string();
    REQUIRE(::symlink(state.c_str(), link.c_str()) == 0);
    CHECK(open_own_dir(link) == -1);
    CHECK(why_not_own_dir(link) == "a symbolic link");
    REQUIRE(::chmod(state.c_str(), 0777) == 0);
    CHECK(open_own_dir(state) == -1);
    CHECK(why_not_own_dir(state) == "mode 0777");
}

namespace {

// The kernel's check for its per-syscall action cache (seccomp_is_const_allow,
// kernel/seccomp.c): the program run with only the arch and the syscall number
// known; true when it reaches RET_ALLOW without looking at an argument.
bool kernel_caches_allow(const std::vector<sock_filter>& code, int nr) {
    std::uint32_t a = 0;
    for (std::size_t pc = 0; pc < code.size(); ++pc) {
        const sock_filter& insn = code[pc];
        switch (insn.code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (insn.k == offsetof(seccomp_data, nr)) a = static_cast<std::uint32_t>(nr);
            else if (insn.k == offsetof(seccomp_data, arch)) a = seccomp_arch_native();
            else return false;   // an argument: not the same answer for every call
            break;
        case BPF_RET | BPF_K: return insn.k == SECCOMP_RET_ALLOW;
        case BPF_JMP | BPF_JA: pc += insn.k; break;
        case BPF_JMP | BPF_JEQ | BPF_K: pc += a == insn.k ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JGE | BPF_K: pc += a >= insn.k ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JGT | BPF_K: pc += a > insn.k ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: pc += (a & insn.k) ? insn.jt : insn.jf; break;
        case BPF_ALU | BPF_AND | BPF_K: a &= insn.k; break;
        default: return false;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("the kernel's action cache answers every syscall a stock profile allows without an argument check",
          "[seccomp]") {
    for (const std::string name : {"cpp-run", "python", "java"}) {
        const Policy p = stock(name);
        const SeccompProgram program = compile_seccomp(p.syscalls, p.net);
        std::set<std::string> errnos;
        for (const auto& rule : p.syscalls.errno_rules) errnos.insert(rule.name);
        int cached = 0;
        for (const std::string& syscall : expand_syscalls(p.syscalls.allow)) {
            const int nr = seccomp_syscall_resolve_name(syscall.c_str());
            if (nr < 0 || errnos.contains(syscall)) continue;
            INFO(name << ": " << syscall);
            if (standard_arg_check(syscall) != ArgCheck::none || syscall == "clone") {
                CHECK_FALSE(kernel_caches_allow(program.code, nr));   // its arguments are read
                continue;
            }
            CHECK(kernel_caches_allow(program.code, nr));
            ++cached;
        }
        CHECK(cached > 100);
    }
}

TEST_CASE("a compiled program's key changes with the rules and code that make it, not only with the policy",
          "[seccomp]") {
    // A program cached by an older build (other groups, checks or prefix) must not be reused.
    const Policy p = stock("cpp-run");
    const std::string key = seccomp_key(p.syscalls, p.net);
    char rules[32];
    std::snprintf(rules, sizeof rules, "rules %016llx", static_cast<unsigned long long>(syscall_rules_fingerprint()));
    CHECK(key.find(rules) != std::string::npos);
    CHECK(key.find("; format ") != std::string::npos);
    CHECK(key.find(std::to_string(F_SETLEASE)) != std::string::npos);   // the values the prefix refuses
}
