// Defense in depth: each attack program of tests/attacks runs inside the
// sandbox with the stock profiles; the verdict is checked, and so is the
// host, for what the attack would have changed (files, processes, terminal
// input, hostname). Then `sandboxrun check`, and the syslog line a violation
// leaves. Tagged [defense].
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>

#include "harness.hpp"

using namespace sbx;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// For tests that need root (its state in /run/sandboxrun, or another user to play): false, after a warning, otherwise.
bool as_root(const char* why) {
    if (!unprivileged()) return true;
    WARN("skipped: " << why);
    return false;
}

Result attack(const WorkDir& dir, const std::string& program, const std::vector<std::string>& args = {},
              const std::string& profile = "c") {
    dir.add_program(program);
    std::vector<std::string> a = {"--profile", profile, "--", "./" + program};
    a.insert(a.end(), args.begin(), args.end());
    return run(dir, a);
}

// Contained: the filter killed the run, or the program ran and every attempt failed.
void check_contained(const Result& r) {
    INFO(r.out << r.err << r.report);
    CHECK_FALSE(contains(r.out, "ESCAPED"));
    if (verdict(r) == "syscall_violation") {
        CHECK(r.status == 128 + 9);
        return;
    }
    CHECK(verdict(r) == "ok");
    CHECK(r.status == 0);
    CHECK(contains(r.out, "CONTAINED"));
}

std::string syscall_of(const Result& r) {
    std::string s = json_field(json_field(r.report, "syscall"), "name");
    return s.size() >= 2 ? s.substr(1, s.size() - 2) : s;
}

std::string host_hostname() {
    char name[256] = "";
    gethostname(name, sizeof name - 1);
    return name;
}

std::size_t file_hash(const fs::path& p) { return std::hash<std::string>{}(read_file(p)); }

// A host process of the run's caller that the attack is told about and must not kill.
class Canary {
public:
    Canary() {
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            become_runner();
            for (;;) pause();
        }
    }
    ~Canary() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    bool alive() const { return waitpid(pid_, nullptr, WNOHANG) == 0; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("only stdin, stdout and stderr reach the target, even when the caller leaks fds", "[defense]") {
    WorkDir dir;
    dir.add_program("fd_leak");
    for (const char* profile : {"c", "python"}) {
        // fd 7: a host file the caller forgot to close; sandboxrun must not pass it on.
        Result r = run(dir, {"--profile", profile, "--", "./fd_leak"}, 60, {}, [] {
            int fd = open("/etc/hostname", O_RDONLY);
            if (fd >= 0 && fd != 7) {
                dup2(fd, 7);
                close(fd);
            }
        });
        INFO(profile << ": " << r.out << r.err);
        CHECK(r.status == 0);
        CHECK(contains(r.out, "CONTAINED no fd open in 3..1023"));
        CHECK(contains(r.out, "CONTAINED /proc/self/fd lists only 0, 1, 2"));
        CHECK_FALSE(contains(r.out, "ESCAPED"));
    }
}

TEST_CASE("a run that fills its work dir's file system leaves no report of its own making", "[defense]") {
    WorkDir dir, results;
    const int st = in_own_mount_namespace([&] {
        // A small tmpfs work dir, as judges use.
        if (mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=4m,nr_inodes=64,mode=0755") != 0) _exit(77);
        if (run_as() > 0 && chown(dir.path().c_str(), run_as(), run_as()) != 0) _exit(78);
        dir.add_program("forge_report");
        Result r = run(dir, {"--profile", "c", "--", "./forge_report", ".report.json"});
        std::ofstream(results.path() / "status") << r.status;
        std::ofstream(results.path() / "report") << r.report;
        std::ofstream(results.path() / "err") << r.err;
    });
    if (st == 77) {
        WARN("cannot mount a tmpfs in a mount namespace of our own here");
        return;
    }
    REQUIRE(st == 0);
    INFO(results.read("err") << results.read("report"));
    CHECK(results.read("status") == "125");   // no room for the report: sandboxrun failed
    CHECK_FALSE(contains(results.read("report"), "forged"));
}

TEST_CASE("TIOCSTI and TIOCLINUX cannot push input into the caller's terminal", "[defense]") {
    WorkDir dir;
    dir.add_program("tiocsti");
    for (const char* how : {"0", "1", "2", "tty", "tioclinux"}) {
        const Pty pty;
        REQUIRE(pty.slave >= 0);
        const int master = pty.master, slave = pty.slave;
        termios raw{};
        tcgetattr(slave, &raw);
        cfmakeraw(&raw);
        tcsetattr(slave, TCSANOW, &raw);
        int pending = -1;
        // The detector itself: where the kernel still allows TIOCSTI (as root), a pushed byte shows up.
        char probe = 'x';
        if (ioctl(slave, TIOCSTI, &probe) == 0) {
            REQUIRE(ioctl(slave, FIONREAD, &pending) == 0);
            CHECK(pending == 1);
            tcflush(slave, TCIFLUSH);
        }

        // The sandbox runs the way a user at that terminal would start it: the pty is its controlling terminal.
        Result r = run(dir, {"--profile", "c", "--", "./tiocsti", how}, 60, {}, [slave] {
            setsid();
            ioctl(slave, TIOCSCTTY, 0);
            dup2(slave, 0);
            dup2(slave, 1);
        });
        fcntl(master, F_SETFL, O_NONBLOCK);
        std::string out;
        char buf[512];
        for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        REQUIRE(ioctl(slave, FIONREAD, &pending) == 0);
        INFO(how << ": " << out << r.err << r.report);
        CHECK(pending == 0);   // nothing was typed into the terminal
        CHECK_FALSE(contains(out, "ESCAPED"));
        if (std::string_view(how) == "tty") {
            CHECK(verdict(r) == "ok");   // no controlling terminal in the sandbox, and no /dev/tty
            CHECK(contains(out, "CONTAINED /dev/tty"));
        } else {
            CHECK(verdict(r) == "syscall_violation");
            CHECK(syscall_of(r) == "ioctl");
        }
    }
}

TEST_CASE("what the run sets on the caller's terminal is put back after it", "[defense]") {
    WorkDir dir;
    dir.add_program("tty_modes");
    const Pty pty;
    REQUIRE(pty.slave >= 0);
    const int master = pty.master, slave = pty.slave;
    termios before{};
    REQUIRE(tcgetattr(slave, &before) == 0);
    REQUIRE((before.c_lflag & (ECHO | ICANON)) == (ECHO | ICANON));   // the program's changes would show
    Result r = run(dir, {"--profile", "c", "--", "./tty_modes"}, 60, {}, [slave] {
        dup2(slave, 0);
        dup2(slave, 1);
    });
    INFO(r.err << r.report);
    CHECK(verdict(r) == "ok");
    termios after{};
    REQUIRE(tcgetattr(slave, &after) == 0);
    CHECK(after.c_lflag == before.c_lflag);
    int exclusive = -1;
    REQUIRE(ioctl(slave, TIOCGEXCL, &exclusive) == 0);
    CHECK(exclusive == 0);
    // Output flows again: what is written now reaches the other side.
    fcntl(master, F_SETFL, O_NONBLOCK);
    char buf[512];
    while (read(master, buf, sizeof buf) > 0) {
    }
    REQUIRE(write(slave, "after\n", 6) == 6);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(read(master, buf, sizeof buf) > 0);
}

TEST_CASE("a run that keeps stopping the terminal's output cannot hang sandboxrun -v writing there", "[defense]") {
    WorkDir dir;
    dir.add_program("tcoff_loop");
    for (int i = 0; i < 4; ++i) {   // (a race: where -v blocked, a stop before its step hung it)
        const Pty pty;
        REQUIRE(pty.slave >= 0);
        const int slave = pty.slave;
        termios modes{};
        tcgetattr(slave, &modes);
        modes.c_iflag &= ~static_cast<tcflag_t>(IXON);   // (else any byte typed there restarts output)
        tcsetattr(slave, TCSANOW, &modes);
        Result r = run(dir, {"-v", "--profile", "c", "--cpu-time", "1s", "--wall-time", "2s", "--", "./tcoff_loop"}, 20, {},
                       [slave] { dup2(slave, 2); });
        INFO(r.report);
        // A limit (unprivileged RLIMIT_CPU's SIGXCPU may come first), not
        // timeout's SIGKILL of a hung sandboxrun (also 137: the report tells).
        CHECK((r.status == 137 || (unprivileged() && r.status == 152)));
        CHECK((verdict(r) == "time_limit" || verdict(r) == "wall_time_limit"));
    }
}

TEST_CASE("the run's init cannot be written, traced or read through /proc (runc CVE-2019-5736)", "[defense]") {
    WorkDir dir;
    dir.add_program("proc_exe_write");
    std::size_t program = file_hash(dir.path() / "proc_exe_write"), binary_hash = file_hash(binary());
    for (const char* profile : {"c", "python"}) {
        Result files = run(dir, {"--profile", profile, "--", "./proc_exe_write", "files"});
        INFO(profile << ": " << files.out << files.err);
        check_contained(files);
        CHECK(verdict(files) == "ok");
        CHECK(contains(files.out, "CONTAINED open /proc/1/exe"));
        CHECK(contains(files.out, "CONTAINED open /proc/self/exe"));
        CHECK(contains(files.out, "CONTAINED open /proc/1/mem"));

        Result trace = run(dir, {"--profile", profile, "--", "./proc_exe_write", "ptrace"});
        CHECK(verdict(trace) == "syscall_violation");
        CHECK(syscall_of(trace) == "ptrace");
    }
    CHECK(file_hash(dir.path() / "proc_exe_write") == program);
    CHECK(file_hash(binary()) == binary_hash);
}

TEST_CASE("/proc/sys and friends are read-only, host-wide /proc files masked, /sys absent", "[defense]") {
    WorkDir dir;
    std::string hostname = host_hostname(), core_pattern = read_file("/proc/sys/kernel/core_pattern");
    for (const char* profile : {"c", "python"}) {
        Result r = attack(dir, "proc_writes", {}, profile);
        INFO(profile << ": " << r.out << r.err);
        check_contained(r);
        CHECK(contains(r.out, "CONTAINED write /proc/sys/kernel/hostname"));
        CHECK(contains(r.out, "CONTAINED write /proc/sys/kernel/core_pattern"));
        CHECK(contains(r.out, "CONTAINED read /proc/timer_list"));
        CHECK(contains(r.out, "CONTAINED set /proc/self/oom_score_adj"));
        CHECK(contains(r.out, "CONTAINED set /proc/self/clear_refs"));

        Result sys = attack(dir, "sys_absent", {}, profile);
        check_contained(sys);
        CHECK(contains(sys.out, "CONTAINED /sys: ENOENT"));
    }
    CHECK(host_hostname() == hostname);
    CHECK(read_file("/proc/sys/kernel/core_pattern") == core_pattern);

    // A profile that asks for /sys gets it read-only.
    WorkDir profiles;
    profiles.write("with_sys.toml", "extends = \"c\"\n[filesystem]\nsys = true\n");
    Result ro = attack(dir, "sys_absent", {"ro"}, (profiles.path() / "with_sys.toml").string());
    INFO(ro.out << ro.err);
    check_contained(ro);
    CHECK(contains(ro.out, "CONTAINED write /sys/"));
}

TEST_CASE("a run with its own devpts takes at most 64 ptys of the host's shared pool", "[defense]") {
    // (Unprivileged, 64 descriptors hold a run to 30 anyway.)
    if (!fs::exists("/usr/bin/python3") || unprivileged()) return;
    WorkDir dir, profiles;
    profiles.write("pts.toml", "extends = \"python\"\n[filesystem]\ndev_pts = true\n");
    dir.write("ptys.py", "import os\nn = 0\ntry:\n    while n < 200:\n        os.openpty()\n        n += 1\n"
                         "except OSError:\n    pass\nprint(n)\n");
    Result r = run(dir, {"--profile", (profiles.path() / "pts.toml").string(), "--open-files", "1024", "--",
                         "/usr/bin/python3", "ptys.py"});
    INFO(r.err << r.report);
    CHECK(r.status == 0);
    CHECK(r.out == "64\n");
}

TEST_CASE("the caller's keys are not listed to the run", "[defense]") {
    // Unprivileged the run is the caller's uid: /proc/keys listed the judge's session keyring.
    WorkDir dir;
    // (Keys of the runner's uid: made in a child that became it; their
    // default permissions let that uid view them whatever its keyrings.)
    if (pid_t pid = fork(); pid == 0) {
        if (run_as() > 0 && (setresgid(run_as(), run_as(), run_as()) != 0 || setresuid(run_as(), run_as(), run_as()) != 0))
            _exit(1);
        syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "sbx-judge-session");
        _exit(syscall(SYS_add_key, "user", "sbx-judge-token", "secret", 6, KEY_SPEC_SESSION_KEYRING) > 0 ? 0 : 1);
    } else {
        int st = 0;
        waitpid(pid, &st, 0);
        REQUIRE((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    }
    Result r = run(dir, {"--profile", "c", "--", "/bin/cat", "/proc/keys", "/proc/key-users"});
    INFO(r.out << r.err);
    CHECK_FALSE(contains(r.out, "sbx-judge"));   // (masked: reading them fails)
}

TEST_CASE("setuid-root and file-capability binaries gain nothing", "[defense]") {
    WorkDir dir;
    dir.add_program("setuid_bin");
    // Placed by host root, so they are what an attacker could only hope for.
    fs::copy_file(dir.path() / "setuid_bin", dir.path() / "suid_copy");
    REQUIRE(chown((dir.path() / "suid_copy").c_str(), 0, 0) == 0);
    REQUIRE(chmod((dir.path() / "suid_copy").c_str(), 04755) == 0);
    struct stat st {};
    REQUIRE(stat((dir.path() / "suid_copy").c_str(), &st) == 0);
    REQUIRE((st.st_mode & S_ISUID) != 0);
    std::vector<std::string> copies = {"./suid_copy"};

    fs::copy_file(dir.path() / "setuid_bin", dir.path() / "fcap_copy");
    chmod((dir.path() / "fcap_copy").c_str(), 0755);
    vfs_cap_data caps{};
    caps.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    caps.data[0].permitted = (1u << CAP_SYS_ADMIN) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_SETUID);
    if (setxattr((dir.path() / "fcap_copy").c_str(), "security.capability", &caps, XATTR_CAPS_SZ_2, 0) == 0)
        copies.push_back("./fcap_copy");
    else
        WARN("cannot give fcap_copy file capabilities here (" << std::strerror(errno) << "); only setuid is tried");

    for (const std::string& copy : copies) {
        Result r = run(dir, {"--profile", "c", "--", "./setuid_bin", copy});
        INFO(copy << ": " << r.out << r.err);
        check_contained(r);
        CHECK(verdict(r) == "ok");
        CHECK(contains(r.out, "CONTAINED uid "));
        CHECK_FALSE(contains(r.out, "euid 0 "));
    }
}

TEST_CASE("every dangerous syscall kills the run in the stock profiles", "[defense]") {
    WorkDir dir;
    dir.add_program("dangerous_syscalls");
    // attempt -> the syscall the report must name
    const std::map<std::string, std::string> calls = {
        {"io_uring_setup", "io_uring_setup"}, {"userfaultfd", "userfaultfd"}, {"bpf", "bpf"},
        {"perf_event_open", "perf_event_open"}, {"keyctl", "keyctl"}, {"add_key", "add_key"},
        {"kexec_load", "kexec_load"}, {"init_module", "init_module"}, {"mount", "mount"}, {"umount2", "umount2"},
        {"chroot", "chroot"}, {"pivot_root", "pivot_root"}, {"ptrace", "ptrace"},
        {"process_vm_readv", "process_vm_readv"}, {"reboot", "reboot"}, {"clock_settime", "clock_settime"},
        {"settimeofday", "settimeofday"}, {"swapon", "swapon"}, {"quotactl", "quotactl"},
        {"open_by_handle_at", "open_by_handle_at"}, {"unshare_user", "unshare"}, {"unshare_net", "unshare"},
        {"clone_newns", "clone"}, {"clone_newuser", "clone"}, {"setns", "setns"}, {"personality", "personality"},
        {"socket_netlink", "socket"}, {"socket_packet", "socket"}, {"socket_inet", "socket"},
        {"sethostname", "sethostname"}, {"syslog", "syslog"}, {"acct", "acct"}, {"fs_setflags", "ioctl"},
        {"ext4_setversion", "ioctl"}, {"fallocate_keep_size", "fallocate"}, {"ioc_resvsp", "ioctl"},
        {"ioc_resvsp64", "ioctl"}, {"ioc_zero_range", "ioctl"}, {"set_lease", "fcntl"},
        {"own_filter", "prctl"}, {"tiocsig", "ioctl"},
#ifdef __x86_64__
        {"int80_getpid", "getpid (i386)"},
#endif
    };
    for (const std::string profile : {"c", "python"}) {
        for (const auto& [name, syscall] : calls) {
            Result r = run(dir, {"--profile", profile, "--", "./dangerous_syscalls", name});
            INFO(profile << " " << name << ": " << r.out << r.err << r.report);
            CHECK_FALSE(contains(r.out, "ESCAPED"));
            if (profile == "c" && syscall == "socket") {
                // base answers socket() with an errno (nscd lookups, the JDK's probes).
                CHECK(contains(r.out, "CONTAINED " + name + ": EAFNOSUPPORT"));
                continue;
            }
            CHECK(verdict(r) == "syscall_violation");
            CHECK(syscall_of(r) == syscall);
        }
        // The work dir keeps no inode flag a run tried to set (checked on the host).
        int flags = 0;
        if (int fd = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
            if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) flags = 0;
            close(fd);
        }
        CHECK((flags & (FS_SYNC_FL | FS_DIRSYNC_FL)) == 0);
        // Refused with an errno, not violations: call -> errno.
        const std::pair<const char*, const char*> refused[] = {
            // clone3 keeps its flags in memory the filter cannot read.
            {"clone3_newuser", "ENOSYS"},
            // Record locks: their kernel memory is charged to no cgroup (1.3 GB
            // of the host's under --memory 64MiB).
            {"record_lock", "ENOLCK"}, {"ofd_lock", "ENOLCK"},
            // Locked memory (base; libraries go on without), also through
            // mmap(MAP_LOCKED) (RLIMIT_MEMLOCK 0); FIFOs (make falls back to a
            // pipe); memory policies (the JVM's NUMA collectors run without);
            // signal-driven I/O.
            {"mlock", "EPERM"}, {"map_locked", "EPERM"}, {"mkfifo", "EPERM"}, {"set_mempolicy", "EPERM"},
            {"o_async", "EPERM"},
            // ioctl requests off the list fail as the kernel fails one a file
            // does not know (a btrfs subvolume or ext4's superblock salt would
            // outlive the run).
            {"unlisted_ioctl", "ENOTTY"},
            // prlimit64 reaches the caller only: the run's pid 1 has the target's uid.
            {"prlimit_init", "EPERM"},
        };
        for (const auto& [call, err] : refused) {
            Result rf = run(dir, {"--profile", profile, "--", "./dangerous_syscalls", call});
            INFO(profile << " " << call << ": " << rf.out << rf.err);
            CHECK(rf.status == 0);
            CHECK(contains(rf.out, std::string("CONTAINED ") + call + ": " + err));
        }
    }
}

TEST_CASE("with the network off there is no TCP, even for a profile that lists AF_INET", "[defense]") {
    WorkDir dir, profiles;
    profiles.write("inet.toml", "extends = \"python\"\n[syscalls]\nsocket_families = [\"AF_UNIX\", \"AF_INET\"]\n");
    for (const std::string& profile : {std::string("c"), std::string("python"), (profiles.path() / "inet.toml").string()}) {
        Result r = attack(dir, "tcp_connect", {"8080"}, profile);
        INFO(profile << ": " << r.out << r.err);
        check_contained(r);
        if (profile == "c") {   // base answers socket() with EAFNOSUPPORT
            CHECK(contains(r.out, "EAFNOSUPPORT"));
            continue;
        }
        CHECK(verdict(r) == "syscall_violation");
        CHECK(syscall_of(r) == "socket");
    }
}

TEST_CASE("the target cannot signal the run's init or any host process", "[defense]") {
    WorkDir dir;
    Canary canary;
    REQUIRE(canary.alive());
    for (const char* profile : {"c", "python"}) {
        Result r = attack(dir, "signal_outside", {std::to_string(canary.pid()), std::to_string(getpid())}, profile);
        INFO(profile << ": " << r.out << r.err);
        check_contained(r);
        CHECK(verdict(r) == "ok");
        CHECK(contains(r.out, "init lives"));
        CHECK(canary.alive());
    }
}

TEST_CASE("the host's hostname cannot be changed", "[defense]") {
    WorkDir dir;
    std::string before = host_hostname();
    for (const char* profile : {"c", "python"}) {
        Result r = attack(dir, "hostname", {}, profile);
        INFO(profile << ": " << r.out << r.err);
        check_contained(r);
        CHECK(contains(r.out, "nodename sandbox"));
        CHECK(host_hostname() == before);
    }
}

TEST_CASE("sandboxrun check contains every attempt with every stock profile", "[defense][check]") {
    WorkDir dir;
    Result r = run(dir, {"check"}, 600);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK_FALSE(contains(r.out, "NOT CONTAINED"));
    CHECK_FALSE(contains(r.out, "ERROR"));
    CHECK(contains(r.out, "summary:"));
    CHECK(contains(r.out, " 0 escaped, 0 could not run"));
    for (const char* line : {"user namespaces", "cgroups", "landlock", "seccomp", "profile c:", "profile python:",
                             "contained      fd-leak", "contained      tiocsti", "contained      signal-outside"})
        CHECK(contains(r.out, line));

    // And it can tell: a profile that lets netlink sockets through is reported, exit 1.
    WorkDir profiles;
    profiles.write("leaky.toml", "extends = \"python\"\n[syscalls]\nsocket_families = [\"AF_UNIX\", \"AF_NETLINK\"]\n");
    Result leaky = run(dir, {"--profile", (profiles.path() / "leaky.toml").string(), "check"}, 300);
    INFO(leaky.out << leaky.err);
    CHECK(leaky.status == 1);
    CHECK(contains(leaky.out, "NOT CONTAINED  socket-netlink"));
    // A --cgroup-parent every run would refuse is refused before the attempts (each failed on it, ~6 s).
    Result parent = run(dir, {"check", "--cgroup-parent", "/nonexistent-sbx-parent", "--profile", "c-run"}, 60);
    CHECK(parent.status == 125);
    CHECK(contains(parent.err, "cgroup parent: /nonexistent-sbx-parent: No such file or directory"));
    CHECK_FALSE(contains(parent.out, "CONTAINED"));
}

TEST_CASE("a stop signal ends sandboxrun check and learn, not just the run it arrived in", "[defense][check]") {
    WorkDir dir;
    fs::path out = dir.path() / "check.out";
    // SIGALRM (a stop signal) after 2 s, kept across exec: in the middle of check's attempts, or of learn's run.
    for (const std::vector<std::string>& args : {std::vector<std::string>{"check"},
                                                 std::vector<std::string>{"learn", "--profile", "c", "--", "/bin/sleep", "30"}}) {
        std::vector<std::string> argv = {binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(dir.path().c_str()) != 0) _exit(200);
            int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (fd < 0 || dup2(fd, 1) != 1 || dup2(fd, 2) != 2) _exit(201);
            alarm(2);
            exec_as_runner(argv);
        }
        int st = 0;
        for (int i = 0; i < 1200 && waitpid(pid, &st, WNOHANG) == 0; ++i) usleep(100 * 1000);   // at most 120 s
        if (kill(pid, 0) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
        std::string text = read_file(out);
        INFO(args[0] << ": " << text);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 128 + SIGALRM);
        CHECK(contains(text, "stopped by SIGALRM"));
        CHECK_FALSE(contains(text, "summary:"));   // check did not carry on through the other attempts
    }
}

TEST_CASE("a violation and a limit kill are written to syslog with the run's id", "[defense]") {
    WorkDir dir;
    dir.add_program("forbidden_syscall");
    dir.add_program("sleeper");
    binary();   // the unprivileged copy is made here, not in the child below
    char tmpl[] = "/tmp/sbx-olddev-XXXXXX";   // where the child sees the host's /dev
    REQUIRE(mkdtemp(tmpl));
    pid_t pid = fork();
    if (pid == 0) {
        // A private mount namespace whose /dev holds the host's device nodes and our own /dev/log.
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("/dev", tmpl, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
            mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755") != 0)
            _exit(77);
        for (const char* node : {"null", "zero", "full", "random", "urandom"}) {
            std::string to = std::string("/dev/") + node;
            close(open(to.c_str(), O_WRONLY | O_CREAT, 0666));
            if (mount((std::string(tmpl) + "/" + node).c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) _exit(77);
        }
        int log = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, "/dev/log");
        if (log < 0 || bind(log, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || chmod("/dev/log", 0666) != 0)
            _exit(77);
        Result violation = run(dir, {"--profile", "c", "--", "./forbidden_syscall", "ptrace"});
        Result wall = run(dir, {"--profile", "c", "--wall-time", "300ms", "--", "./sleeper", "5000"});
        std::string messages;
        pollfd p{log, POLLIN, 0};
        while (poll(&p, 1, 2000) > 0) {
            char buf[2048];
            ssize_t n = recv(log, buf, sizeof buf, 0);
            if (n <= 0) break;
            messages.append(buf, static_cast<std::size_t>(n)).append("\n");
        }
        std::ofstream(dir.path() / "syslog.txt") << messages;
        std::ofstream(dir.path() / "violation.json") << violation.report;
        std::ofstream(dir.path() / "wall.json") << wall.report;
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    rmdir(tmpl);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        WARN("cannot make a private /dev/log here; the syslog lines are not observed");
        return;
    }
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    std::string messages = dir.read("syslog.txt");
    std::string violation_id = json_field(dir.read("violation.json"), "run_id"),
                wall_id = json_field(dir.read("wall.json"), "run_id");
    INFO(messages);
    REQUIRE(violation_id.size() > 2);
    REQUIRE(wall_id.size() > 2);
    CHECK(contains(messages, "run " + violation_id.substr(1, violation_id.size() - 2) +
                                 " profile c: syscall_violation syscall ptrace; command: ./forbidden_syscall ptrace"));
    CHECK(contains(messages, "run " + wall_id.substr(1, wall_id.size() - 2) + " profile c: wall_time_limit"));
    CHECK(contains(messages, "sandboxrun["));
}

TEST_CASE("a setuid file cannot be planted in the work dir", "[defense]") {
    for (const char* how : {"create", "chmod"}) {
        WorkDir dir;
        dir.add_program("setuid_plant");
        Result r = run(dir, {"--profile", "c", "--", "./setuid_plant", how});
        INFO(how << ": " << r.out << r.err << r.report);
        CHECK(verdict(r) == "syscall_violation");
        CHECK(syscall_of(r) == (std::string(how) == "create" ? "openat" : "chmod"));
        struct stat st {};
        if (stat((dir.path() / "planted").c_str(), &st) == 0) CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
    }
}

TEST_CASE("setuid files the host had in a writable bind before the run keep their bits", "[defense]") {
    WorkDir dir, rw;
    dir.add_program("cat_upper");
    for (const WorkDir* d : {&dir, &rw}) {
        d->write("tool", "#!/bin/sh\n");
        REQUIRE(chmod((d->path() / "tool").c_str(), 04755) == 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));   // past the inode clock's tick
    Result r = run(dir, {"--profile", "c", "--rw-bind", rw.path().string() + ":/data", "--", "./cat_upper"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_FALSE(contains(r.err, "cleared"));
    for (const WorkDir* d : {&dir, &rw}) {
        struct stat st {};
        REQUIRE(stat((d->path() / "tool").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 04755);
    }
}

TEST_CASE("a run that opens its work dir to everyone, or closes it to its owner, has its mode put back", "[defense]") {
    WorkDir dir;
    dir.add_program("chmod_path");
    struct stat before {};
    REQUIRE(stat(dir.path().c_str(), &before) == 0);
    // (0: unprivileged, the supervisor is the owner, without the right to read it)
    for (const char* mode : {"777", "0"}) {
        Result r = run(dir, {"--profile", "c", "--", "./chmod_path", "/box", mode});
        INFO(mode << ": " << r.err << r.report);
        CHECK(r.status == 0);   // it may: inside, the work dir is its own
        CHECK(contains(r.err, "changed the mode of " + dir.path().string()));
        struct stat after {};
        REQUIRE(stat(dir.path().c_str(), &after) == 0);
        CHECK((after.st_mode & 07777) == (before.st_mode & 07777));
        chmod(dir.path().c_str(), before.st_mode & 07777);
    }
}

TEST_CASE("binds and the after-run walk never follow a link a run planted", "[defense]") {
    // A directory elsewhere on the host, with a setuid file the walk must not touch.
    WorkDir elsewhere;
    fs::create_directories(elsewhere.path() / "sub");
    elsewhere.write("sub/secret", "host secret\n");
    elsewhere.write("sub/tool", "#!/bin/sh\n");
    REQUIRE(chmod((elsewhere.path() / "sub/tool").c_str(), 04755) == 0);
    WorkDir dir;
    dir.add_program("plant_link");
    dir.add_program("cat_upper");
    fs::create_directories(dir.path() / "results/sub");
    if (run_as() > 0) {
        [[maybe_unused]] int rc = chown((dir.path() / "results").c_str(), run_as(), run_as());
        rc = chown((dir.path() / "results/sub").c_str(), run_as(), run_as());
    }

    SECTION("a bind source through a link planted by an earlier run") {
        REQUIRE(run(dir, {"--profile", "c", "--", "./plant_link", "/box/results", elsewhere.path().string()}).status == 0);
        for (const char* option : {"--rw-bind", "--ro-bind"})
            for (const char* mode : {"rw", "none"}) {
                Result r = run(dir, {"--profile", "c", "--cwd-mode", mode, option, "results/sub:/out", "--stdin",
                                     "/dev/null", "--", "/bin/cat"});
                INFO(option << " --cwd-mode " << mode << ": " << r.err);
                CHECK(r.status == 125);
                CHECK(r.err.find("refused") != std::string::npos);
            }
    }
    SECTION("a writable bind's way swapped for a link during the run") {
        Result r = run(dir, {"--profile", "c", "--rw-bind", "results/sub:/out", "--", "./plant_link", "/box/results",
                             elsewhere.path().string()});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(fs::is_symlink(dir.path() / "results"));
        struct stat st {};
        REQUIRE(stat((elsewhere.path() / "sub/tool").c_str(), &st) == 0);
        CHECK((st.st_mode & S_ISUID) != 0);   // the after-run walk did not go there
    }
    CHECK(read_file(elsewhere.path() / "sub/secret") == "host secret\n");
}

TEST_CASE("files sandboxrun opens for a run never go through a link or FIFO a run planted", "[defense]") {
    // A victim outside the work dir that the runner could write: refusing must
    // come from sandboxrun's rules, not from permissions.
    WorkDir elsewhere;
    fs::path victim = elsewhere.path() / "victim.txt";
    elsewhere.write("victim.txt", "host data\n");
    WorkDir dir;
    dir.add_program("cat_upper");
    dir.add_program("plant_link");

    SECTION("links the host side finds in the work dir, whatever this step's cwd mode") {
        // An earlier step had the directory writable even if this one does not.
        fs::create_symlink(victim, dir.path() / "out.txt");
        fs::create_symlink(victim, dir.path() / "in.txt");
        fs::create_symlink(victim, dir.path() / "meta.txt");
        for (const char* mode : {"rw", "ro", "none"}) {
            INFO("--cwd-mode " << mode);
            // An output name is replaced by a new file (refusing would let one
            // run fail every later run writing there); an input one is refused.
            Result out = run(dir, {"--profile", "c", "--cwd-mode", mode, "--stdout", (dir.path() / "out.txt").string(),
                                   "--", "/bin/cat"}, 60, "x\n");
            CHECK(out.status == 0);
            CHECK(fs::is_regular_file(fs::symlink_status(dir.path() / "out.txt")));
            CHECK(dir.read("out.txt") == "x\n");
            fs::remove(dir.path() / "out.txt");
            fs::create_symlink(victim, dir.path() / "out.txt");
            Result in = run(dir, {"--profile", "c", "--cwd-mode", mode, "--stdin", "in.txt", "--", "/bin/cat"});
            CHECK(in.status == 125);
            CHECK(in.out.empty());
            Result meta = run(dir, {"--profile", "c", "--cwd-mode", mode, "--meta", "meta.txt", "--", "/bin/true"});
            CHECK(meta.status == 0);
            CHECK(fs::is_regular_file(fs::symlink_status(dir.path() / "meta.txt")));   // replaced, not followed
            fs::remove(dir.path() / "meta.txt");
            fs::create_symlink(victim, dir.path() / "meta.txt");
        }
    }
    SECTION("a hard link the run planted at the next step's --stdout name is replaced, not written through") {
        dir.write("answer.txt", "42\n");   // the judge's file in the work dir
        dir.write("plant.sh", "ln answer.txt out.txt\n");
        REQUIRE(run(dir, {"--profile", "c", "--", "/bin/sh", "plant.sh"}).status == 0);
        Result out = run(dir, {"--profile", "c", "--stdout", "out.txt", "--", "/bin/echo", "3"});
        INFO(out.err);
        CHECK(out.status == 0);
        CHECK(dir.read("out.txt") == "3\n");
        CHECK(dir.read("answer.txt") == "42\n");
    }
    SECTION("the report, planted by the run itself, is replaced: no forged report survives") {
        Result r = run(dir, {"--profile", "c", "--", "./plant_link", "/box/.report.json", victim.string()});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(verdict(r) == "ok");
        dir.write("forge.sh", "echo '{\"verdict\": \"ok\"}' > .report.json; chmod 444 .report.json; exit 3\n");
        Result forged = run(dir, {"--profile", "c", "--", "/bin/sh", "forge.sh"});
        CHECK(forged.status == 3);
        CHECK(verdict(forged) == "runtime_error");
        // A directory in its place (to turn any verdict into 125, no report)
        // is swapped out: the report is there, with the run's own verdict.
        dir.write("block.sh", "mkdir -p .report.json/sub meta.txt/sub; exit 3\n");
        Result blocked = run(dir, {"--profile", "c", "--meta", "meta.txt", "--", "/bin/sh", "block.sh"});
        INFO(blocked.err);
        CHECK(blocked.status == 3);
        CHECK(verdict(blocked) == "runtime_error");
        CHECK(dir.read("meta.txt").find("exitcode:3\n") != std::string::npos);
    }
    SECTION("a directory link the run planted, used by the next run's --stdout, --meta and --report") {
        REQUIRE(run(dir, {"--profile", "c", "--", "./plant_link", "/box/sub", elsewhere.path().string()}).status == 0);
        REQUIRE(fs::is_symlink(dir.path() / "sub"));
        for (const char* option : {"--stdout", "--meta", "--stdin"}) {
            Result r = run(dir, {"--profile", "c", option, "sub/victim.txt", "--", "./cat_upper"}, 60, "owned\n");
            INFO(option << ": " << r.err);
            CHECK(r.status == 125);
            CHECK(r.err.find("refused") != std::string::npos);
        }
        // Through an absolute path too.
        Result abs = run(dir, {"--profile", "c", "--stdout", (dir.path() / "sub" / "victim.txt").string(), "--", "./cat_upper"});
        CHECK(abs.status == 125);
        // A ".." is taken by the text, never after the planted link: "sub/.."
        // is the work dir. One that climbs out of the work dir leaves from its
        // real path, to the operator's file.
        const std::string sibling = elsewhere.path().filename().string();
        dir.write("in.txt", "mine\n");
        Result inside = run(dir, {"--profile", "c", "--stdin", "sub/../in.txt", "--", "./cat_upper"});
        CHECK(inside.status == 0);
        CHECK(inside.out == "MINE\n");
        Result up = run(dir, {"--profile", "c", "--stdin", "../" + sibling + "/victim.txt", "--", "./cat_upper"});
        CHECK(up.status == 0);
        CHECK(up.out == "HOST DATA\n");
    }
    CHECK(read_file(victim) == "host data\n");

    SECTION("an operator's link into the work dir, whose directory a run swapped for a link") {
        fs::create_directory(dir.path() / "outdir");
        fs::path judge_out = elsewhere.path() / "judge_out";   // the judge's convenience link
        fs::create_directory_symlink(dir.path() / "outdir", judge_out);
        REQUIRE(run(dir, {"--profile", "c", "--", "/bin/sh", "-c",
                          "rmdir outdir && ln -s " + elsewhere.path().string() + " outdir"}).status == 0);
        for (const char* option : {"--stdout", "--stdin"}) {
            Result r = run(dir, {"--profile", "c", option, (judge_out / "victim.txt").string(), "--", "./cat_upper"},
                           60, "owned\n");
            INFO(option << ": " << r.err);
            CHECK(r.status == 125);
            CHECK(r.err.find("refused") != std::string::npos);
            CHECK(r.out.empty());
        }
    }
    SECTION("a FIFO would block the supervisor forever on open") {
        REQUIRE(mkfifo((dir.path() / "fifo").c_str(), 0666) == 0);
        auto t0 = std::chrono::steady_clock::now();
        Result r = run(dir, {"--profile", "c", "--stdin", (dir.path() / "fifo").string(), "--", "./cat_upper"}, 20);
        INFO(r.err);
        CHECK(r.status == 125);
        CHECK(r.err.find("fifo") != std::string::npos);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
        // Output files are new files renamed over the name: the FIFO goes.
        for (const char* option : {"--stdout", "--meta"}) {
            Result out = run(dir, {"--profile", "c", option, "fifo", "--", "./cat_upper"}, 20, "x\n");
            INFO(option << ": " << out.err);
            CHECK(out.status == 0);
            CHECK(fs::is_regular_file(fs::symlink_status(dir.path() / "fifo")));
            fs::remove(dir.path() / "fifo");
            REQUIRE(mkfifo((dir.path() / "fifo").c_str(), 0666) == 0);
        }
    }
    SECTION("what a run leaves at its --stdout name (a directory, a link) fails no later run") {
        dir.write("plant.sh", "echo 1; rm -f out.txt err.txt; mkdir -p out.txt/sub; ln -s /etc/passwd err.txt\n");
        Result planted = run(dir, {"--profile", "c", "--stdout", "out.txt", "--stderr", "err.txt", "--", "/bin/sh",
                                   "plant.sh"});
        REQUIRE(planted.status == 0);
        REQUIRE(fs::is_directory(dir.path() / "out.txt"));
        Result next = run(dir, {"--profile", "c", "--stdout", "out.txt", "--stderr", "err.txt", "--", "./cat_upper"},
                          60, "next\n");
        INFO(next.err);
        CHECK(next.status == 0);
        CHECK(verdict(next) == "ok");
        CHECK(dir.read("out.txt") == "NEXT\n");
        CHECK(fs::is_regular_file(fs::symlink_status(dir.path() / "err.txt")));
    }
    SECTION("outside the directories runs can write, paths are the operator's") {
        CHECK(run(dir, {"--profile", "c", "--stdout", "/dev/null", "--", "./cat_upper"}).status == 0);
        fs::create_symlink(victim, elsewhere.path() / "link.txt");
        Result r = run(dir, {"--profile", "c", "--stdin", (elsewhere.path() / "link.txt").string(), "--", "./cat_upper"});
        CHECK(r.status == 0);
        CHECK(r.out == "HOST DATA\n");
    }
}

TEST_CASE("a work dir inside a writable bind, moved away by its run, is not what the after-run check changes", "[defense]") {
    // The judge works in outer/w2 and binds outer writable: the run can move
    // w2 aside and leave a link to any host directory at its name.
    WorkDir outer, victim;
    REQUIRE(chmod(victim.path().c_str(), 0700) == 0);
    fs::create_directory(outer.path() / "w2");
    REQUIRE(chmod((outer.path() / "w2").c_str(), 0755) == 0);
    if (run_as() > 0) [[maybe_unused]] int rc = chown((outer.path() / "w2").c_str(), run_as(), run_as());
    outer.add_program("plant_link");
    Result r = run(outer, {"--profile", "c", "--rw-bind", outer.path().string() + ":/shared", "--", "/shared/plant_link",
                           "/shared/w2", victim.path().string()},
                   60, "", [&] {
                       if (chdir("w2") != 0) _exit(205);
                   });
    INFO(r.err << r.report);
    CHECK(r.status == 0);
    CHECK(fs::is_symlink(outer.path() / "w2"));
    struct stat st {};
    REQUIRE(stat(victim.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);   // not w2's 0755 put "back" on it
}

TEST_CASE("a refused run's report never goes through a link an earlier run planted in a writable bind", "[defense]") {
    WorkDir dir, shared, elsewhere;
    elsewhere.write("victim.txt", "host data\n");
    dir.add_program("plant_link");
    const std::string bind = shared.path().string() + ":/shared";
    REQUIRE(run(dir, {"--profile", "c", "--rw-bind", bind, "--", "./plant_link", "/shared/r.json",
                      (elsewhere.path() / "victim.txt").string()})
                .status == 0);
    REQUIRE(fs::is_symlink(shared.path() / "r.json"));
    // Refused input (a bad --memory, read before the binds) still gets a report.
    Result r = run(dir, {"--profile", "c", "--rw-bind", bind, "--memory", "lots", "--report",
                         (shared.path() / "r.json").string(), "--", "/bin/true"});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK(elsewhere.read("victim.txt") == "host data\n");
    CHECK(fs::is_regular_file(fs::symlink_status(shared.path() / "r.json")));
    CHECK(contains(shared.read("r.json"), "sandbox_error"));
}

TEST_CASE("modes a run changes through a writable file bind or its --stdin are put back", "[defense]") {
    WorkDir dir;
    dir.add_program("chmod_path");
    dir.write("data.txt", "d\n");
    dir.write("in.txt", "i\n");
    REQUIRE(chmod((dir.path() / "data.txt").c_str(), 0644) == 0);
    REQUIRE(chmod((dir.path() / "in.txt").c_str(), 0600) == 0);
    Result bound = run(dir, {"--profile", "c", "--rw-bind", "data.txt:/data.txt", "--", "./chmod_path", "/data.txt", "666"});
    INFO(bound.err);
    CHECK(bound.status == 0);
    CHECK(contains(bound.err, "changed the mode of"));
    // The input file reaches the run through a read-only (idmapped) mount as root: put back all the same.
    Result in = run(dir, {"--profile", "c", "--stdin", "in.txt", "--", "./chmod_path", "/box/in.txt", "666"});
    INFO(in.err);
    CHECK(in.status == 0);
    struct stat data {}, input {};
    REQUIRE(stat((dir.path() / "data.txt").c_str(), &data) == 0);
    REQUIRE(stat((dir.path() / "in.txt").c_str(), &input) == 0);
    CHECK((data.st_mode & 07777) == 0644);
    CHECK((input.st_mode & 07777) == 0600);
}

TEST_CASE("no directory runs can write may hold sandboxrun's own state (its compiled filters, its uid slots)", "[defense]") {
    WorkDir dir;
    // Root's state is in /run/sandboxrun; an unprivileged runner's (no
    // $XDG_RUNTIME_DIR) in /tmp/sandboxrun-modes-UID. (Root's is not the
    // runner's: it cannot write there, a run of its cannot either.)
    const std::string state_parent = run_as() > 0 && !std::getenv("XDG_RUNTIME_DIR") ? "/tmp" : "/run";
    Result bound = run(dir, {"--profile", "c", "--rw-bind", state_parent + ":/r", "--", "/bin/true"});
    INFO(bound.err);
    CHECK(bound.status == 125);
    CHECK(contains(bound.err, "sandboxrun's own state"));
    Result started = run(dir, {"--profile", "c", "--", "/bin/true"}, 60, "", [&] {
        if (chdir(state_parent.c_str()) != 0) _exit(205);
    });
    INFO(started.err);
    CHECK(started.status == 125);
    CHECK(contains(started.err, "sandboxrun's own state"));
}

TEST_CASE("a file of sandboxrun's own state cannot be bound writable either", "[defense]") {
    if (!as_root("root's state lives in /run/sandboxrun")) return;
    fs::create_directories("/run/sandboxrun/modes");
    std::ofstream("/run/sandboxrun/modes/0-sbx-bound") << "755\n";
    WorkDir dir;
    Result r = run(dir, {"--profile", "c", "--rw-bind", "/run/sandboxrun/modes/0-sbx-bound:/f", "--", "/bin/true"});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK(contains(r.err, "sandboxrun's own state"));
    fs::remove("/run/sandboxrun/modes/0-sbx-bound");
}

TEST_CASE("a records directory someone else made is not used, and the run says so", "[defense]") {
    if (!as_root("needs root to play the other user")) return;
    // Another local user squats the records directory of uid 65534 (no XDG_RUNTIME_DIR).
    const fs::path squat = "/tmp/sandboxrun-modes-65534";
    fs::remove_all(squat);
    REQUIRE(mkdir(squat.c_str(), 0700) == 0);
    REQUIRE(chown(squat.c_str(), 1000, 1000) == 0);
    WorkDir dir;
    REQUIRE(chown(dir.path().c_str(), 65534, 65534) == 0);
    Result r = run(dir, {"--profile", "c", "--", "/bin/true"}, 60, "", [] {
        unsetenv("XDG_RUNTIME_DIR");
        if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(206);
    });
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(contains(r.err, "cannot be used (owned by uid"));
    fs::remove_all(squat);
}

TEST_CASE("a reader of sandboxrun's stderr that goes away costs the messages, not the run", "[defense]") {
    WorkDir dir;
    // -v writes a line per setup step to a pipe nobody reads any more.
    Result r = run(dir, {"-v", "--profile", "c", "--", "/bin/true"}, 60, "", [] {
        int p[2];
        if (pipe(p) != 0) _exit(205);
        close(p[0]);
        dup2(p[1], 2);
        close(p[1]);
    });
    INFO(r.report);
    CHECK(r.status == 0);
    CHECK(verdict(r) == "ok");
}

TEST_CASE("a report or meta file in /proc or /sys is refused: it would be a kernel setting", "[defense]") {
    WorkDir dir;
    const std::string before = read_file("/proc/sys/kernel/domainname");
    for (const char* option : {"--report", "--meta"}) {
        Result r = run(dir, {"--profile", "c", option, "/proc/sys/kernel/domainname", "--", "/bin/true"});
        INFO(option << ": " << r.err);
        CHECK(r.status == 125);
        CHECK(contains(r.err, "kernel setting"));
    }
    CHECK(read_file("/proc/sys/kernel/domainname") == before);
}

TEST_CASE("concurrent runs in one directory leave it the mode it had, whatever one of them did to it", "[defense]") {
    // Also when the records cannot be shared: another user planted a link
    // where an unprivileged runner keeps them (no $XDG_RUNTIME_DIR). Then no
    // run is refused for it, and a mode is put back only where that takes
    // write permission away.
    const bool can_plant = run_as() > 0 && !std::getenv("XDG_RUNTIME_DIR");
    enum Planted { nothing, link, foreign_dir };
    for (Planted planted : {nothing, link, foreign_dir}) {
        if (planted && !can_plant) break;
        WorkDir shared, first, second;   // the runs work in `shared`; the others hold what run() captures
        REQUIRE(chmod(shared.path().c_str(), 0755) == 0);
        const fs::path records = "/tmp/sandboxrun-modes-" + std::to_string(run_as()), aside = records.string() + ".sbx-aside";
        if (planted) {
            if (fs::exists(fs::symlink_status(records))) fs::rename(records, aside);
            if (planted == link) fs::create_directory_symlink(shared.path(), records);   // (root's: not the runner's)
            else fs::create_directory(records);
        }
        auto in_shared = [&] {
            if (chdir(shared.path().c_str()) != 0) _exit(205);
        };
        // The second starts while the first has the directory at 0777: that is
        // not the mode to put back after the first has put back 0755.
        Result a, b;
        std::thread opener([&] {
            a = run(first, {"--profile", "c", "--", "/bin/sh", "-c", "chmod 777 /box && sleep 2"}, 60, "", in_shared);
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        b = run(second, {"--profile", "c", "--", "/bin/sh", "-c", "sleep 2"}, 60, "", in_shared);
        opener.join();
        if (planted) {
            fs::remove_all(records);
            if (fs::exists(fs::symlink_status(aside))) fs::rename(aside, records);
        }
        INFO("records planted: " << planted << "\n" << a.err << b.err);
        CHECK(a.status == 0);
        CHECK(b.status == 0);
        struct stat st {};
        REQUIRE(stat(shared.path().c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0755);
        if (planted) CHECK(b.err.find(planted == link ? "a symbolic link" : "owned by uid 0") != std::string::npos);
    }
}

TEST_CASE("cleanup removes the mode records killed supervisors left, never one a live run holds", "[defense]") {
    if (!as_root("root's records live in /run/sandboxrun/modes")) return;
    const fs::path records = "/run/sandboxrun/modes";
    fs::create_directories(records);
    REQUIRE(chmod(records.c_str(), 0700) == 0);
    std::ofstream(records / "0-sbx-stale") << "755\n";
    std::ofstream(records / "0-sbx-held") << "755\n";
    int held = open((records / "0-sbx-held").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(held >= 0);
    REQUIRE(flock(held, LOCK_SH) == 0);   // as a run does while it runs
    WorkDir dir;
    Result r = run(dir, {"cleanup"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_FALSE(fs::exists(records / "0-sbx-stale"));
    CHECK(fs::exists(records / "0-sbx-held"));
    close(held);
    for (const char* name : {"0-sbx-held", "0-sbx-stale"}) fs::remove(records / name);

    // And the half-written filters of supervisors killed while caching one.
    const fs::path bpf = "/run/sandboxrun/bpf";
    fs::create_directories(bpf);
    REQUIRE(chmod(bpf.c_str(), 0700) == 0);
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    waitpid(gone, nullptr, 0);
    const fs::path stale = bpf / (".00000000sbxtest.bpf." + std::to_string(gone)),
                   live = bpf / (".00000000sbxtest.bpf." + std::to_string(getpid()));
    std::ofstream(stale) << "x";
    std::ofstream(live) << "x";
    Result again = run(dir, {"cleanup"});
    CHECK(again.status == 0);
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(live));
    fs::remove(live);
}
