// `sandboxrun check`: first what the host lacks and what that costs, then a
// built-in set of escape attempts. Each attempt is sandboxrun itself,
// re-executed as `sandboxrun __attempt NAME` inside a sandbox built from the
// profile by the normal run path, so the installed binary needs nothing else.
// The binary and the libraries it was loaded with are bound read-only under
// /.sandboxrun-check and started through their dynamic loader, so even a
// profile without /usr (minimal) can run it. A run killed for a syscall
// violation counts as contained: the filter stopped the attempt.
#include "check.hpp"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/cgroups.hpp"
#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"
#include "sandboxrun/report.hpp"
#include "supervisor.hpp"

namespace sandboxrun {
namespace {

namespace fs = std::filesystem;

constexpr const char* check_root = "/.sandboxrun-check";

// ---- inside the sandbox -------------------------------------------------------

// Lines go out unbuffered: the next call may be the one the filter kills us for.
class Out {
public:
    void contained(const std::string& what) { say("CONTAINED " + what); }
    void escaped(const std::string& what) {
        say("ESCAPED " + what);
        escaped_ = true;
    }
    // A call that failed is contained; one that succeeded escaped.
    void call(long result, const std::string& what) {
        if (result < 0) contained(what + ": " + errno_name(errno));
        else escaped(what + " succeeded");
    }
    int status() const { return escaped_ ? 1 : 0; }
    static std::string errno_name(int err) {
        const char* name = strerrorname_np(err);
        return name ? name : std::to_string(err);
    }

private:
    static void say(const std::string& line) {
        std::string l = line + "\n";
        [[maybe_unused]] ssize_t n = write(1, l.data(), l.size());
    }
    bool escaped_ = false;
};

void try_open(Out& out, const char* path, int flags, const char* how) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return out.contained(fmt::format("{} {}: {}", how, path, Out::errno_name(errno)));
    char byte;
    bool read_ok = (flags & O_ACCMODE) != O_RDONLY || read(fd, &byte, 1) == 1;
    close(fd);   // opened, never written
    if (read_ok) out.escaped(fmt::format("{} {}", how, path));
    else out.contained(fmt::format("{} {}: opens, reads nothing", how, path));
}

void fd_leak(Out& out, const std::string&) {
    bool any = false;
    for (int fd = 3; fd < 1024; ++fd)
        if (fcntl(fd, F_GETFD) >= 0) {
            out.escaped(fmt::format("fd {} is open", fd));
            any = true;
        }
    if (!any) out.contained("no fd above 2 is open");
}

void tiocsti(Out& out, const std::string&) {
    char c = ' ';
    out.call(ioctl(0, TIOCSTI, &c), "ioctl(0, TIOCSTI)");
}

void tioclinux(Out& out, const std::string&) {
    char sel[8] = {2};   // TIOCL_SETSEL, selection all zero
    out.call(ioctl(0, TIOCLINUX, sel), "ioctl(0, TIOCLINUX)");
}

void dev_tty(Out& out, const std::string&) {
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    out.call(fd, "open /dev/tty (a controlling terminal)");
}

void proc_exe(Out& out, const std::string&) {
    try_open(out, "/proc/1/exe", O_WRONLY, "write");
    try_open(out, "/proc/self/exe", O_WRONLY, "write");
    try_open(out, "/proc/1/mem", O_RDWR, "write");
}

void proc_writes(Out& out, const std::string&) {
    for (const char* path : {"/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                             "/proc/sysrq-trigger"})
        try_open(out, path, O_WRONLY, "write");
    try_open(out, "/proc/kcore", O_RDONLY, "read");
}

void sys(Out& out, const std::string& mode) {
    if (mode == "ro") {
        for (const char* path : {"/sys/kernel/uevent_helper", "/sys/power/state"}) try_open(out, path, O_WRONLY, "write");
        return;
    }
    struct stat st {};
    if (stat("/sys", &st) == 0) out.escaped("/sys exists");
    else out.contained("/sys: " + Out::errno_name(errno));
}

// setuid and file capabilities need a mount without nosuid and a process without no_new_privs.
void setuid_bits(Out& out, const std::string&) {
    std::ifstream mounts("/proc/self/mountinfo");
    int count = 0;
    for (std::string line; std::getline(mounts, line); ++count) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, point, options;
        fields >> id >> parent >> dev >> root >> point >> options;
        if (("," + options + ",").find(",nosuid,") == std::string::npos) out.escaped(point + " is mounted without nosuid");
    }
    if (count == 0) out.escaped("cannot read /proc/self/mountinfo");
    else out.contained(fmt::format("{} mounts checked for nosuid", count));
    // From /proc rather than prctl, which some profiles do not allow.
    std::ifstream status("/proc/self/status");
    bool no_new_privs = false;
    for (std::string line; std::getline(status, line);)
        if (line.rfind("NoNewPrivs:", 0) == 0) no_new_privs = line.find('1') != std::string::npos;
    if (no_new_privs) out.contained("no_new_privs is set");
    else out.escaped("no_new_privs is not set");
}

void signal_outside(Out& out, const std::string& host_pid) {
    // The host pid means nothing here; a process of that number inside is ours.
    pid_t pid = static_cast<pid_t>(std::atol(host_pid.c_str()));
    if (pid > 1 && pid != getpid()) out.call(kill(pid, 0) == 0 ? 0 : -1, fmt::format("see host pid {}", pid));
    int all = kill(-1, SIGKILL);   // every process we may signal, but ourselves and init
    int init = kill(1, SIGKILL);
    int init_errno = errno;
    timespec pause{0, 100'000'000};
    nanosleep(&pause, nullptr);
    // Had init died, the kernel would have killed us with the whole pid namespace.
    if (kill(1, 0) != 0 && errno == ESRCH) out.escaped("kill(1, SIGKILL) ended the run's init");
    else out.contained(fmt::format("kill(-1) {}, kill(1) {}: init lives", all, init ? Out::errno_name(init_errno) : "ignored"));
}

void tcp(Out& out, const std::string&) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return out.contained("socket(AF_INET): " + Out::errno_name(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(8080);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out.call(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind 127.0.0.1:8080");
    close(s);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    // Nothing listens in the run's own network namespace: refused means the connect itself was allowed.
    if (rc == 0 || errno == ECONNREFUSED) out.escaped("connect 127.0.0.1:8080 was attempted (" + Out::errno_name(errno) + ")");
    else out.contained("connect 127.0.0.1:8080: " + Out::errno_name(errno));
    close(s);
}

long clone_child(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return pid;
}

long clone3_child(std::uint64_t flags) {
    clone_args args{};
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return pid;
}

// Arguments are chosen so that a call that does get through changes nothing
// that matters; `buf` is zeroed scratch memory for those that take a struct.
using Call = std::function<long(char* buf)>;
struct Dangerous {
    const char* name;
    Call call;
};

std::vector<Dangerous> dangerous_calls() {
    return {
        {"io_uring_setup", [](char* buf) { return syscall(SYS_io_uring_setup, 1, buf); }},
        {"userfaultfd", [](char*) { return syscall(SYS_userfaultfd, O_CLOEXEC); }},
        {"bpf", [](char* buf) { return syscall(SYS_bpf, 0, buf, 0); }},
        {"perf_event_open", [](char* buf) { return syscall(SYS_perf_event_open, buf, 0, -1, -1, 0); }},
        {"keyctl", [](char*) { return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0); }},
        {"add_key", [](char*) { return syscall(SYS_add_key, "user", "sandboxrun-check", "x", 1, -3); }},
        {"kexec_load", [](char*) { return syscall(SYS_kexec_load, 0, 0, nullptr, 0); }},
        {"init_module", [](char* buf) { return syscall(SYS_init_module, buf, 0, ""); }},
        {"mount", [](char*) { return static_cast<long>(mount("none", "/tmp", "tmpfs", 0, nullptr)); }},
        {"umount2", [](char*) { return static_cast<long>(umount2("/proc", MNT_DETACH)); }},
        {"chroot", [](char*) { return static_cast<long>(chroot("/")); }},
        {"pivot_root", [](char*) { return syscall(SYS_pivot_root, ".", "."); }},
        {"ptrace", [](char*) { return ptrace(PTRACE_ATTACH, 1, nullptr, nullptr); }},
        {"process_vm_readv", [](char* buf) {
             iovec local{buf, 8}, remote{buf + 8, 8};
             return static_cast<long>(process_vm_readv(1, &local, 1, &remote, 1, 0));
         }},
        {"reboot", [](char*) { return syscall(SYS_reboot, 0, 0, RB_AUTOBOOT, nullptr); }},   // bad magic
        {"clock_settime", [](char*) {
             timespec now{};
             clock_gettime(CLOCK_REALTIME, &now);
             return static_cast<long>(clock_settime(CLOCK_REALTIME, &now));
         }},
        {"swapon", [](char*) { return syscall(SYS_swapon, "/nonexistent-sandboxrun-swap", 0); }},
        {"quotactl", [](char* buf) { return static_cast<long>(quotactl(QCMD(Q_GETINFO, USRQUOTA), "/dev/null", 0, buf)); }},
        {"open_by_handle_at", [](char* buf) { return syscall(SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY); }},
        {"unshare-user", [](char*) { return static_cast<long>(unshare(CLONE_NEWUSER)); }},
        {"clone-newns", [](char*) { return clone_child(CLONE_NEWNS); }},
        {"clone-newuser", [](char*) { return clone_child(CLONE_NEWUSER); }},
        {"clone3-newuser", [](char*) { return clone3_child(CLONE_NEWUSER); }},
        {"setns", [](char*) { return static_cast<long>(setns(0, CLONE_NEWNS)); }},
        {"personality", [](char*) { return static_cast<long>(personality(READ_IMPLIES_EXEC)); }},
        {"socket-netlink", [](char*) { return static_cast<long>(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)); }},
        {"socket-packet", [](char*) { return static_cast<long>(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)); }},
        {"sethostname", [](char*) { return static_cast<long>(sethostname("escaped", 7)); }},
    };
}

struct Attempt {
    const char* name;
    std::function<void(Out&, const std::string&)> run;
};

std::vector<Attempt> attempts() {
    std::vector<Attempt> all = {
        {"fd-leak", fd_leak},         {"tiocsti", tiocsti},         {"tioclinux", tioclinux},
        {"dev-tty", dev_tty},         {"proc-exe-write", proc_exe}, {"proc-writes", proc_writes},
        {"sys", sys},                 {"setuid", setuid_bits},           {"signal-outside", signal_outside},
        {"tcp", tcp},
    };
    for (const Dangerous& d : dangerous_calls())
        all.push_back({d.name, [call = d.call, name = std::string(d.name)](Out& out, const std::string&) {
                           char buf[256] = {};
                           out.call(call(buf), name);
                       }});
    return all;
}

// ---- host side ------------------------------------------------------------------

std::optional<std::string> read_line(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    if (!f || !std::getline(f, line)) return std::nullopt;
    return line;
}

void audit_line(const std::string& topic, const std::string& text) { std::printf("  %-18s %s\n", topic.c_str(), text.c_str()); }

bool audit_user_namespaces() {
    auto max = read_line("/proc/sys/user/max_user_namespaces");
    auto clone = read_line("/proc/sys/kernel/unprivileged_userns_clone");
    auto apparmor = read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : errno);
    int st = 0;
    waitpid(pid, &st, 0);
    int err = WIFEXITED(st) ? WEXITSTATUS(st) : EINVAL;
    std::string text = err == 0 ? "available to us" : "NOT available to us (" + Out::errno_name(err) + "): sandboxrun cannot run here";
    text += fmt::format("; max_user_namespaces={}", max.value_or("?"));
    if (clone) text += fmt::format(", kernel.unprivileged_userns_clone={}", *clone);
    if (apparmor) text += fmt::format(", apparmor_restrict_unprivileged_userns={}", *apparmor);
    if ((clone && *clone == "0") || (apparmor && *apparmor == "1"))
        text += "; unprivileged users cannot run sandboxrun, root can";
    audit_line("user namespaces", text);
    return err == 0;
}

void audit_cgroups(const std::optional<std::string>& parent) {
    Limits limits;
    limits.memory = 64ull << 20;
    limits.processes = 16;
    std::vector<std::string> warnings;
    std::unique_ptr<Cgroup> group;
    try {
        group = Cgroup::create(limits, fmt::format("check-{}", getpid()), warnings, parent);
    } catch (const Error& e) {
        if (parent) throw;   // a --cgroup-parent every run would refuse: so does check, before its attempts
        warnings.push_back(e.what());
    }
    if (group) {
        std::string text = "can create a group: " + group->describe();
        for (const std::string& u : group->unapplied()) text += "; not applied: " + u;
        audit_line("cgroups", text);
    } else {
        std::string text = "no group can be made here; memory, processes and CPU time fall back to rlimits per process";
        for (const std::string& w : warnings) text += " (" + w + ")";
        audit_line("cgroups", text);
    }
}

void audit_landlock() {
    LandlockStatus s = landlock_probe();
    if (s.abi > 0)
        audit_line("landlock", fmt::format("ABI {}: filesystem access limited to the mounts{}{}", s.abi,
                                           s.abi >= 4 ? ", TCP bind/connect denied with the network off" : "",
                                           s.abi >= 6 ? ", signals and abstract sockets scoped to the run" : ""));
    else audit_line("landlock", "none (" + s.reason + "): the mounts and the filter are the only walls");
}

void audit_seccomp() {
    std::ifstream f("/proc/sys/kernel/seccomp/actions_avail");
    std::string actions((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (actions.find("user_notif") != std::string::npos)
        audit_line("seccomp", "filters with user notification: violations are named and kill the run");
    else if (!actions.empty())
        audit_line("seccomp", "NO user notification (actions: " + actions.substr(0, actions.find('\n')) +
                                  "): sandboxrun cannot install its filter");
    else audit_line("seccomp", "NOT available: sandboxrun cannot run here");
}

// Programs the kernel starts as root, outside any run's limits, on a run's behalf.
void audit_kernel_helpers() {
    const auto pattern = read_line("/proc/sys/kernel/core_pattern").value_or("");
    if (pattern.starts_with("|"))
        audit_line("core dumps", "piped to " + pattern.substr(1) + ", as root: runs start with RLIMIT_CORE 1, which "
                                 "stops it, but a program that lowers it to 0 starts it once per crash (set "
                                 "kernel.core_pipe_limit, or a file pattern, on judge hosts)");
    else audit_line("core dumps", "to files (\"" + pattern + "\"): none is written (RLIMIT_CORE 1)");
    const auto modprobe = read_line("/proc/sys/kernel/modprobe").value_or("");
    const auto disabled = read_line("/proc/sys/kernel/modules_disabled").value_or("1");
    if (!modprobe.empty() && disabled == "0" && access("/proc/modules", F_OK) == 0)
        audit_line("module autoload", modprobe + " runs as root for every exec of a file whose format the kernel "
                                      "does not know (binfmt-XXXX), outside the run's limits; set "
                                      "kernel.modules_disabled=1 once the host's modules are loaded");
    else audit_line("module autoload", "off: a run cannot make the kernel start modprobe");
}

// What every attempt's sandbox adds to the profile: this binary, its libraries
// and its loader, read-only under /.sandboxrun-check, and a private work dir.
struct Staging {
    fs::path dir;                       // private: work dir and output files
    std::vector<Bind> binds;
    std::vector<std::string> argv;      // up to and including the binary

    Staging() {
        sweep_stale();
        char tmpl[] = "/tmp/sandboxrun-check-XXXXXX";
        if (!mkdtemp(tmpl)) throw sys_error("check: mkdtemp", tmpl);
        dir = tmpl;
        lock.reset(open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC));   // held while we use it
        if (lock.get() < 0 || flock(lock.get(), LOCK_EX) != 0) throw sys_error("check: lock", tmpl);
        fs::create_directory(dir / "box");
        // Writable to the attempts also where /tmp takes no idmapped mount
        // (tmpfs before Linux 6.3, overlayfs): only we can reach it (0700 above).
        fs::permissions(dir / "box", fs::perms::all);
        char exe[PATH_MAX];
        if (!realpath("/proc/self/exe", exe)) throw sys_error("check: realpath", "/proc/self/exe");
        std::string root = check_root;
        binds.push_back({exe, root + "/sandboxrun", false, false, "sandboxrun check"});
        struct Loaded {
            std::vector<std::string> libs;
            std::string interp;
        } loaded;
        dl_iterate_phdr(
            [](dl_phdr_info* info, std::size_t, void* data) {
                auto* l = static_cast<Loaded*>(data);
                if (!info->dlpi_name || !*info->dlpi_name) {   // the program itself: its loader
                    for (int i = 0; i < info->dlpi_phnum; ++i)
                        if (info->dlpi_phdr[i].p_type == PT_INTERP)
                            l->interp = reinterpret_cast<const char*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
                } else if (std::strchr(info->dlpi_name, '/')) {
                    l->libs.emplace_back(info->dlpi_name);   // the vdso has no path
                }
                return 0;
            },
            &loaded);
        if (!loaded.interp.empty()) loaded.libs.push_back(loaded.interp);
        for (const std::string& lib : loaded.libs) {
            char real[PATH_MAX];
            if (!realpath(lib.c_str(), real)) throw sys_error("check: realpath", lib);
            binds.push_back({real, root + "/lib/" + fs::path(lib).filename().string(), false, false, "sandboxrun check"});
        }
        if (!loaded.interp.empty())
            argv = {root + "/lib/" + fs::path(loaded.interp).filename().string(), "--library-path", root + "/lib"};
        argv.push_back(root + "/sandboxrun");
    }
    ~Staging() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    // Those a check killed by SIGKILL left: ours, and no check holds them.
    static void sweep_stale() {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/tmp", ec)) {
            if (!e.path().filename().string().starts_with("sandboxrun-check-")) continue;
            UniqueFd held(open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            struct stat st {};
            // (A minute old: one just made is locked a moment later.)
            if (held.get() < 0 || fstat(held.get(), &st) != 0 || st.st_uid != geteuid() ||
                time(nullptr) - st.st_ctime < 60 || flock(held.get(), LOCK_EX | LOCK_NB) != 0)
                continue;
            fs::remove_all(e.path(), ec);
        }
    }
    UniqueFd lock;
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
};

struct Outcome {
    enum Kind { contained, escaped, failed } kind;
    std::string detail;
};

// A host process the attempt is told about and must not be able to kill.
class Canary {
public:
    Canary() {
        pid_ = fork();
        if (pid_ < 0) throw sys_error("check: fork canary");
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
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
    pid_t pid_;
};

Outcome run_attempt_in_sandbox(const Invocation& base, const Policy& policy, const Staging& staging,
                               const std::string& name) {
    Invocation inv = base;   // host-wide settings (uid range, cgroup parent) as given
    inv.command = Command::run;
    inv.policy = policy;
    for (const Bind& b : staging.binds) add_bind(inv.policy.fs, b);
    inv.stdin_path.reset();
    inv.report_path.reset();
    inv.meta_path.reset();
    inv.verbose = false;
    inv.quiet = true;
    inv.stdout_path = (staging.dir / "out").string();
    inv.stderr_path = (staging.dir / "err").string();
    inv.argv = staging.argv;
    inv.argv.push_back("__attempt");
    inv.argv.push_back(name);

    std::optional<Canary> canary;
    if (name == "signal-outside") {
        canary.emplace();
        inv.argv.push_back(std::to_string(canary->pid()));
    } else if (name == "sys") {
        inv.argv.push_back(policy.fs.sys ? "ro" : "absent");
    }
    char host_before[256] = "", host_after[256] = "";
    gethostname(host_before, sizeof host_before - 1);

    Report report;
    int status = run_sandbox(inv, report);
    // A judge's or a user's stop signal ends `check` too, not just this attempt.
    if (report.stopped_by) throw Error(report.message, 128 + report.stopped_by);
    std::ifstream f(staging.dir / "out");
    std::string out((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());

    gethostname(host_after, sizeof host_after - 1);
    if (std::strcmp(host_before, host_after) != 0) return {Outcome::escaped, "the host's hostname changed"};
    if (canary && !canary->alive()) return {Outcome::escaped, "a host process was killed"};

    std::vector<std::string> contained, escaped;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("CONTAINED ", 0) == 0) contained.push_back(line.substr(10));
        if (line.rfind("ESCAPED ", 0) == 0) escaped.push_back(line.substr(8));
    }
    auto join = [](const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, "; ")); };
    if (!escaped.empty()) return {Outcome::escaped, join(escaped)};
    if (report.verdict == Verdict::syscall_violation)
        return {Outcome::contained, "killed by the filter at " + report.syscall_name};
    if (status == 0 && !contained.empty()) return {Outcome::contained, join(contained)};
    std::string why = report.message.empty() ? fmt::format("exit status {}, verdict {}", status, verdict_name(report.verdict))
                                             : report.message;
    return {Outcome::failed, "could not run: " + why};
}

bool profile_given(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") break;
        if (a == "--profile" || a.rfind("--profile=", 0) == 0) return true;
    }
    return false;
}

}  // namespace

int run_attempt(int argc, char** argv) {
    if (argc < 1) return 64;
    // Attempts are hostile on purpose (kill(-1), mounts over /tmp): only as
    // the target of a run, pid 2 of its own pid namespace, which no process
    // on a host can be (pid 2 is the kernel's kthreadd).
    if (getpid() != 2) {
        std::fprintf(stderr, "sandboxrun: __attempt is internal to `sandboxrun check` and runs only inside its sandbox\n");
        return exit_sandbox_error;
    }
    const std::string name = argv[0], arg = argc > 1 ? argv[1] : "";
    for (const Attempt& a : attempts())
        if (name == a.name) {
            Out out;
            a.run(out, arg);
            return out.status();
        }
    std::fprintf(stderr, "sandboxrun: unknown attempt %s\n", name.c_str());
    return 64;
}

int run_check(const Invocation& inv, int argc, char** argv) {
    std::printf("host:\n");
    const bool namespaces = audit_user_namespaces();
    audit_cgroups(inv.cgroup_parent);
    audit_landlock();
    audit_seccomp();
    audit_kernel_helpers();
    if (!namespaces) {   // every attempt would fail the same way
        std::printf("summary: no user namespace, so no sandbox: no attempt was run\n");
        return 1;
    }
    std::fflush(stdout);

    std::vector<Policy> policies;
    if (profile_given(argc, argv)) {
        policies.push_back(inv.policy);
    } else {
        for (const std::string& name : stock_profile_names()) policies.push_back(load_profile(name, default_resolver({})));
    }

    Staging staging;
    // The work dir of every attempt: private, never the directory check was started in.
    fs::current_path(staging.dir / "box");
    int contained = 0, escaped = 0, failed = 0;
    for (const Policy& policy : policies) {
        std::printf("profile %s:\n", policy.name.c_str());
        for (const Attempt& a : attempts()) {
            if (std::string_view(a.name) == "tcp" && policy.net.enabled) continue;   // the profile shares the host's network
            Outcome o = run_attempt_in_sandbox(inv, policy, staging, a.name);
            const char* label = o.kind == Outcome::contained ? "contained" : o.kind == Outcome::escaped ? "NOT CONTAINED" : "ERROR";
            (o.kind == Outcome::contained ? contained : o.kind == Outcome::escaped ? escaped : failed)++;
            std::printf("  %-14s %-18s %s\n", label, a.name, o.detail.c_str());
            std::fflush(stdout);
        }
    }
    std::printf("summary: %zu profile(s), %d attempts: %d contained, %d escaped, %d could not run\n", policies.size(),
                contained + escaped + failed, contained, escaped, failed);
    return escaped == 0 && failed == 0 ? 0 : 1;
}

}  // namespace sandboxrun
