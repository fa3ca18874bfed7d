// The supervisor: stays on the host side, outside every namespace of the
// run. It prepares each layer's plan, starts the child, watches the run
// (exit, wall clock, CPU time over all processes, seccomp violations), kills
// it whole, measures, and reports. The order of the run is this file.
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <initializer_list>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/cgroups.hpp"
#include "sandboxrun/error.hpp"
#include "sandboxrun/report.hpp"
#include "sandboxrun/seccomp.hpp"
#include "sandboxrun/syscall_groups.hpp"
#include "supervisor.hpp"
#include "unique_fd.hpp"

namespace sandboxrun {
namespace {

struct Pipe {
    UniqueFd read, write;
};

Pipe make_pipe(const char* what) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) throw sys_error(std::string("supervisor: pipe for ") + what);
    return {UniqueFd(p[0]), UniqueFd(p[1])};
}

std::string new_run_id() {
    std::uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) throw sys_error("supervisor: getrandom");
    return fmt::format("{:016x}", r);
}

bool same_file(int a, int b) {
    struct stat sa {}, sb {};
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

UniqueFd open_stdio(const std::optional<std::string>& path, int flags, const char* option, const Policy& policy) {
    if (!path) return {};
    UniqueFd fd = open_host_file(*path, flags, option, policy);
    // A file of /proc opened here is sandboxrun's own (/proc/self/mem: its
    // memory, as root), which the run would get. (/dev/stdin leads through
    // /proc to the caller's file, which is no /proc file.)
    struct statfs sfs {};
    if (fstatfs(fd.get(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
        throw Error(fmt::format("{}: {}: refused: a /proc file, opened by sandboxrun, would be its own", option, *path));
    // The run's output written into a kernel setting (as --report refuses).
    if ((flags & O_ACCMODE) != O_RDONLY &&
        (sfs.f_type == SYSFS_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC))
        throw Error(fmt::format("{}: {}: refused: a file of /sys would be a kernel setting", option, *path));
    if (struct stat st {}; fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(fmt::format("{}: {}: is a directory", option, *path));   // (the run could list it)
    return fd;
}

// The pipe, FIFO or terminal `fd` is, opened again (through /proc; non-
// blocking: a pipe whose reader has gone would block the open): an open file
// description of its own. -1 for anything else: a file's offset is shared
// with the caller on purpose, a socket cannot be opened, a pty's master
// would open as /dev/ptmx, a new pty.
UniqueFd open_again(int fd, int access) {
    struct stat st {}, now {};
    if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd)))) return {};
    if (unsigned n = 0; S_ISCHR(st.st_mode) && ioctl(fd, TIOCGPTN, &n) == 0) return {};
    UniqueFd again(open(fmt::format("/proc/self/fd/{}", fd).c_str(), access | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (again.get() < 0 || fstat(again.get(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
        now.st_rdev != st.st_rdev)
        return {};
    return again;
}

// An inherited pipe, FIFO or terminal gets a description of the run's own:
// status flags the run sets (O_NONBLOCK: node does on its stdio) would
// otherwise stay on the caller's for its own reads and writes and for later runs.
void own_description(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return;
    // A FIFO whose writer came and went (its end shows) keeps the caller's
    // description: one opened now, without a writer, would keep its end from
    // poll until a writer came (the kernel's rule), and node's and select()'s
    // readers waited for good. Its flags matter to no one after that.
    if (pollfd p{fd, POLLIN, 0}; (flags & O_ACCMODE) == O_RDONLY && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
        return;
    UniqueFd again = open_again(fd, flags & O_ACCMODE);
    if (again.get() >= 0 && fcntl(again.get(), F_SETFL, flags) == 0) dup2(again.get(), fd);
}

// Our stderr for -v: a non-blocking description of our own where it can be
// had (a file's writes never wait), else stderr itself.
UniqueFd nonblocking_stderr() {
    if (UniqueFd fd = open_again(2, O_WRONLY); fd.get() >= 0) return fd;
    return UniqueFd(fcntl(2, F_DUPFD_CLOEXEC, 3));
}

// A terminal among the run's stdio is the caller's: what the run sets on it
// (raw mode, no echo, TOSTOP, exclusive mode, output stopped with tcflow)
// would outlast the run (TOSTOP stops the judge's background writers).
// Saved before, put back as soon as the target has ended and when the run is
// over, also from the background (`timeout` puts us there; SIGTTOU is
// ignored): what the foreground set meanwhile is undone with it. (A window
// size the run set stays: the next resize replaces it, and one the user made
// must not be undone.)
class TerminalState {
public:
    void save(std::initializer_list<int> fds) {
        for (int fd : fds) {
            Saved t;
            struct stat st {};
            if (fd < 0 || tcgetattr(fd, &t.modes) != 0 || fstat(fd, &st) != 0) continue;   // (not a terminal)
            if (std::any_of(saved_.begin(), saved_.end(), [&](const Saved& s) { return s.rdev == st.st_rdev; })) continue;
            t.rdev = st.st_rdev;
            t.exclusive_known = ioctl(fd, TIOCGEXCL, &t.was_exclusive) == 0;
            t.fd.reset(fcntl(fd, F_DUPFD_CLOEXEC, 3));
            if (t.fd.get() >= 0) saved_.push_back(std::move(t));
        }
    }
    void restore() {
        for (Saved& t : saved_) {
            const int fd = t.fd.get();
            tcflow(fd, TCOON);
            tcsetattr(fd, TCSANOW, &t.modes);
            if (t.exclusive_known && !t.was_exclusive) ioctl(fd, TIOCNXCL);
        }
    }
    ~TerminalState() { restore(); }

private:
    struct Saved {
        UniqueFd fd;
        dev_t rdev = 0;
        termios modes {};
        bool exclusive_known = false;
        int was_exclusive = 0;
    };
    std::vector<Saved> saved_;
};

// Whether the profile allows syscall `name` (by name or in a group).
bool allows(const Syscalls& syscalls, std::string_view name) {
    return std::any_of(syscalls.allow.begin(), syscalls.allow.end(), [&](const std::string& a) {
        const SyscallGroup* g = find_syscall_group(a);
        return g ? group_includes(*g, name) : a == name;
    });
}

// A cgroup counter minus its value when the target started.
std::uint64_t since_setup(std::optional<std::uint64_t> total, std::optional<std::uint64_t> setup) {
    return total.value_or(0) - std::min(total.value_or(0), setup.value_or(0));
}

class Run {
public:
    Run(const Invocation& inv, Report& report) : inv_(inv), policy_(inv.policy), report_(report) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    // An error between clone and the end of the run must not leave the run behind.
    ~Run() {
        if (child_.pid > 0 && !reaped_) {
            kill_now();
            waitpid(child_.pid, nullptr, 0);
        }
    }

    int execute();

private:
    void log_step(const char* step) {
        // (Where no description of our own could be had, a full pipe or a
        // stopped terminal is seen before writing, and the line dropped.)
        if (!inv_.verbose) return;
        pollfd ready{verbose_fd_.get(), POLLOUT, 0};
        if (poll(&ready, 1, 0) == 1 && (ready.revents & POLLOUT)) print_step(t0_, step, verbose_fd_.get());
    }
    // pid 1 is asked to end the run: it kills every other process and reaps
    // them, so that what they used (their peak RSS; their CPU, all there is
    // without a cgroup) is in its rusage. watch() kills at once if it has not
    // ended within a second.
    void kill_run() {
        if (!kill_us_) kill_us_ = monotonic_us();
        if (killed_) return;
        // Before the hand-over pid 1 is still building the sandbox, with the
        // signal held: the target would start and run for that second.
        if (handover_sock_.get() >= 0) return kill_now();
        killed_ = true;
        kill_by_us_ = monotonic_us() + 1'000'000;
        syscall(SYS_pidfd_send_signal, child_.pidfd, SIGUSR1, nullptr, 0);
    }
    // SIGKILL to pid 1 of the run's pid namespace takes every process in it.
    void kill_now() {
        if (!kill_us_) kill_us_ = monotonic_us();
        killed_ = true;
        kill_by_us_ = 0;
        syscall(SYS_pidfd_send_signal, child_.pidfd, SIGKILL, nullptr, 0);
        if (cgroup_) cgroup_->kill_all();
    }
    void watch();
    // Whether a limit the supervisor watches is reached at `now`; lowers
    // `timeout_ms` to when it next needs a look.
    bool limit_reached(std::uint64_t now, long& timeout_ms);
    // Reads the target's wait status from pid 1 once; true if it was there.
    bool read_target_status() {
        TargetExit done;
        ssize_t n = read(status_read_.get(), &done, sizeof done);
        status_read_.reset();
        if (n != static_cast<ssize_t>(sizeof done)) return false;
        target_status_ = done.status;
        end_us_ = done.end_us;
        return true;
    }
    // The target has ended and its status waits to be read: no limit can be
    // reached any more, however late the supervisor looks.
    bool target_status_pending() const {
        pollfd p{status_read_.get(), POLLIN, 0};
        return status_read_.get() >= 0 && poll(&p, 1, 0) == 1;
    }
    void collect(const rusage& ru);
    // A --stdout/--stderr file at --file-size: the output limit, whether the
    // program died of SIGXFSZ or ignores it (the JVM does) and gets EFBIG.
    bool output_full() const;
    void log_to_syslog();

    const Invocation& inv_;
    const Policy& policy_;
    Report& report_;
    TerminalState terminal_;
    // -v prints here: a description of stderr of our own, non-blocking where
    // stderr is a terminal or pipe (the run may stop the terminal's output;
    // a line that cannot go out at once is dropped). Where stderr cannot be
    // opened again (another user's terminal), stderr itself.
    UniqueFd verbose_fd_;
    std::uint64_t t0_ = monotonic_us();
    std::unique_ptr<Cgroup> cgroup_;
    Child child_;
    UniqueFd pidfd_, handover_sock_, listener_, signal_fd_, status_read_;
    int output_fds_[2] = {-1, -1};   // --stdout, --stderr (owned by execute)
    std::vector<OutputRelay> relays_;
    bool killed_ = false;
    bool program_started_ = false;   // the hand-over said the target exec'd
    int late_stop_ = 0;   // a stop signal that came after the target ended
    std::uint64_t kill_by_us_ = 0;   // when a run asked to end is killed (0: not pending)
    std::uint64_t kill_us_ = 0;      // when we first decided to end the run (0: never)
    bool reaped_ = false;
    std::uint64_t start_us_ = 0, end_us_ = 0;
    // The target's wait status, and the counters read when it arrived: pid 1
    // writes it before its own exit, whose teardown is then neither the
    // program's time nor in the way.
    std::optional<int> target_status_;
    std::optional<CgroupUsage> final_usage_;
    // CPU the run spent before the target's execve (our own setup inside the
    // sandbox): not the program's, so neither charged nor reported.
    CgroupUsage setup_cpu_;
};

int Run::execute() {
    const Limits& limits = policy_.limits;
    // A run could put its own binary in our place, which the judge's next
    // call (as root) would run.
    std::error_code ec;
    if (const auto self = std::filesystem::read_symlink("/proc/self/exe", ec); !ec)
        if (auto w = WritableDirs(policy_).find(self.string()))
            throw Error(fmt::format("sandboxrun itself ({}) lies beneath {}, a directory runs can write: a run could "
                                    "replace it for the next call; install it elsewhere",
                                    self.string(), w->root));
    // 0. Host-side resources the target will use, opened before anything is built.
    UniqueFd in = open_stdio(inv_.stdin_path, O_RDONLY, "--stdin", policy_);
    UniqueFd out = open_stdio(inv_.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, "--stdout", policy_);
    UniqueFd err = open_stdio(inv_.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, "--stderr", policy_);
    // --stdout and --stderr naming one file: one open file, one offset, as
    // `>f 2>&1` would; two opens would overwrite each other's output.
    const bool err_is_out = out.get() >= 0 && err.get() >= 0 && same_file(out.get(), err.get());
    if (err_is_out) err.reset(dup(out.get()));
    for (int fd : {0, 1, 2}) {
        if ((fd == 0 ? in : fd == 1 ? out : err).get() >= 0) continue;
        // (As --stdin refuses one: Landlock does not check listing an open directory.)
        if (struct stat st {}; fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            throw Error(fmt::format("the caller's {} is a directory (the run could list it); give it a file",
                                    fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr"));
        own_description(fd);
    }
    // What the run gets as its fds 0, 1, 2: the named file, or the caller's own.
    const int given[3] = {in.get() >= 0 ? in.get() : 0, out.get() >= 0 ? out.get() : 1, err.get() >= 0 ? err.get() : 2};
    terminal_.save({given[0], given[1], given[2]});
    if (inv_.verbose) verbose_fd_ = nonblocking_stderr();
    output_fds_[0] = out.get();
    output_fds_[1] = err.get();
    // Output the kernel cannot count for --file-size goes through us. (One
    // relay for stdout and stderr that are one file: `>>log 2>&1`.)
    int run_output[3] = {-1, given[1], given[2]};
    relays_.reserve(2);
    for (int i : {1, 2}) {
        const bool named = (i == 1 ? out : err).get() >= 0;
        if (!limits.file_size || !OutputRelay::needed(run_output[i], named)) continue;
        if (i == 2 && !relays_.empty() && same_file(given[1], run_output[2])) {
            run_output[2] = relays_.back().run_end();
            continue;
        }
        run_output[i] = relays_.emplace_back(run_output[i], *limits.file_size).run_end();
    }
    // These files are the judge's, and the run may fchmod them through its
    // fds (unprivileged, its uid is their owner's): their modes are put back.
    // (Through fds of their own: as root the run's may be reopened through a
    // read-only idmapped mount, where a mode cannot be put back.)
    // So are inherited ones the caller owns (unprivileged, the run's uid):
    // `< tests/1.in` left at mode 000, a terminal left 0666 for anyone to read.
    struct StdioFile {
        UniqueFd fd;
        const std::optional<std::string>& path;
        const char* inherited;   // what it is, when no path names it
        std::optional<ModeRecord> mode{};
    };
    const auto dup_of = [](int fd) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3)); };
    StdioFile stdio_files[] = {{dup_of(given[0]), inv_.stdin_path, "stdin"},
                               {dup_of(given[1]), inv_.stdout_path, "stdout"},
                               {dup_of(given[2]), inv_.stderr_path, "stderr"}};
    Identity id = reserve_identity(inv_.uid_range);
    struct IdGuard {
        Identity& id;
        ~IdGuard() { release_identity(id); }
    } id_guard{id};
    log_step("identity");

    // Files changed after this may be the run's (inode timestamps follow the
    // coarse clock; what changed within this tick counts as the host's).
    timespec began{}, began_exact{};
    clock_gettime(CLOCK_REALTIME_COARSE, &began);
    clock_gettime(CLOCK_REALTIME, &began_exact);   // (file systems with fine timestamps: a file at the limit)
    char cwd_buf[4096] = "";
    if (policy_.fs.cwd != CwdMode::none && !getcwd(cwd_buf, sizeof cwd_buf))
        throw sys_error("supervisor: getcwd (the invoking directory is bound at " + policy_.fs.workdir + ")");
    // systemd starts services in /: bound writable (idmapped to its owner,
    // root) that would be the host's whole tree.
    if (policy_.fs.cwd != CwdMode::none && std::string_view(cwd_buf) == "/")
        throw Error("the invoking directory is /, which would be bound at " + policy_.fs.workdir +
                    ": start sandboxrun in the submission's directory, or use --cwd-mode none");
    MountPlan plan = plan_mounts(policy_, cwd_buf);
    struct PlanGuard {
        MountPlan& plan;
        ~PlanGuard() { close_prepared(plan); }
    } plan_guard{plan};
    // An output file of ours that no idmapped mount can pass (tmpfs before
    // Linux 6.3, overlayfs) is the run's uid's while it runs, so that it can
    // open /dev/stdout again (node's writeFileSync): given back after. (Not
    // an input: its owner could write it.)
    struct Lent {
        UniqueFd fd;
        uid_t uid;
        gid_t gid;
        Lent(UniqueFd f, uid_t u, gid_t g) : fd(std::move(f)), uid(u), gid(g) {}
        Lent(Lent&&) = default;
        ~Lent() {
            if (fd.get() >= 0) [[maybe_unused]] int rc = fchown(fd.get(), uid, gid);
        }
    };
    std::vector<Lent> lent;
    const auto lend_if_needed = [&](int fd, bool ours) {
        struct stat st {};
        if (!let_run_reopen(fd, ours, plan, id) && fstat(fd, &st) == 0 && fchown(fd, id.host_uid, st.st_gid) == 0)
            lent.emplace_back(dup_of(fd), st.st_uid, st.st_gid);
    };
    if (id.privileged) {
        for (std::string& w : prepare_binds(plan, id)) report_.warnings.push_back(std::move(w));
        let_run_reopen(given[0], in.get() >= 0, plan, id);
        lend_if_needed(given[1], out.get() >= 0);
        if (err_is_out) dup3(out.get(), err.get(), O_CLOEXEC);
        else lend_if_needed(given[2], err.get() >= 0);
        for (const OutputRelay& r : relays_) let_run_reopen(r.run_end(), true, plan, id);
    }
    for (StdioFile& f : stdio_files)   // (as the run gets them)
        if (struct stat st {}; f.fd.get() >= 0 && fstat(f.fd.get(), &st) == 0 &&
                               (f.path || (!id.privileged && st.st_uid == getuid() &&
                                           (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || isatty(f.fd.get())))))
            f.mode.emplace(st);
    const auto unshared = [](const ModeRecord& r) { return !r.shared(); };
    if (std::any_of(plan.modes.begin(), plan.modes.end(), unshared) ||
        std::any_of(std::begin(stdio_files), std::end(stdio_files), [&](const StdioFile& f) { return f.mode && unshared(*f.mode); }))
        report_.warnings.push_back(fmt::format("mode records: {} cannot be used ({}); without them concurrent runs "
                                               "in one directory cannot share what its mode was, so a changed mode "
                                               "is put back only where that takes no write permission away",
                                               mode_record_dir(), why_not_own_dir(mode_record_dir())));
    log_step("mount plan");

    // 1. A fresh cgroup beneath our own, or rlimits in its place.
    cgroup_ = Cgroup::create(limits, report_.run_id, report_.warnings, inv_.cgroup_parent);
    report_.cgroup = cgroup_ ? cgroup_->describe().substr(0, 2) : "none";
    // (A v2 parent may lack a controller: rlimits stand in for what the group does not hold.)
    const CgroupCover cover{cgroup_ != nullptr, cgroup_ && cgroup_->limits_memory, cgroup_ && cgroup_->limits_processes};
    const bool memory_by_rlimit = cover.memory_by_rlimit(limits);
    report_.memory_limit_by = !limits.memory ? "none" : memory_by_rlimit ? "rlimit-as" : "cgroup";
    if (cgroup_)
        for (const std::string& u : cgroup_->unapplied()) report_.unapplied.push_back(u);
    if (memory_by_rlimit)
        report_.unapplied.push_back("memory: no memory cgroup; RLIMIT_AS per process stands in (it counts address space, "
                                    "not memory: the run's tmpfs files count against their own sizes only, "
                                    "socket and pipe buffers not at all; shmget, msgget, semget and "
                                    "memfd_create, where the profile allows them, fail with ENOMEM; glibc's malloc "
                                    "gets MALLOC_ARENA_MAX=1)");
    if (limits.processes && !cover.processes)
        report_.unapplied.push_back("processes: no pids cgroup; RLIMIT_NPROC of the run's user namespace stands in");
    if (memory_by_rlimit &&
        (limits.open_files.value_or(0) > unmetered_cap || (!cover.processes && limits.processes.value_or(0) > unmetered_cap)))
    {
        report_.unapplied.push_back(fmt::format("open_files, processes: at most {} each without a memory cgroup (socket "
                                                "buffers, which no rlimit counts, grow with their product)",
                                                unmetered_cap));
        // The report's limits are the ones the run has.
        auto& held = report_.limits;
        if (held.open_files) held.open_files = std::min<std::uint64_t>(*held.open_files, unmetered_cap);
        if (held.processes && !cover.processes) held.processes = std::min<std::uint64_t>(*held.processes, unmetered_cap);
    }
    if (limits.cpu_time && !cover.cpu)
        report_.unapplied.push_back("cpu_time: no cgroup; RLIMIT_CPU per process stands in, in whole seconds, not the "
                                    "sum over the run (the verdict still compares the measured sum: every process the "
                                    "run's init or a parent reaps, not one the kernel reaps because its parent "
                                    "ignores SIGCHLD; the wall limit bounds those)");
    log_step("cgroup");

    // 2. The filter is compiled once, here, not in the child (or found
    // compiled: at build time for the stock profiles, in the cache for others).
    // Without a memory cgroup RLIMIT_AS stands in for the memory limit, and it
    // sees only what is mapped: System V shared memory, message queues and
    // semaphores, and memfd files, hold memory in no address space (GiBs under
    // --memory 64MiB, charged to the host). Where the profile allows them,
    // they fail as if memory ran out.
    Syscalls syscalls = policy_.syscalls;
    if (memory_by_rlimit)
        for (std::string_view name : {"shmget", "msgget", "semget", "memfd_create"})
            if (allows(syscalls, name)) syscalls.errno_rules.push_back({std::string(name), ENOMEM, "no memory cgroup"});
    SeccompProgram filter = compile_seccomp(syscalls, policy_.net, default_seccomp_cache_dir());
    log_step("seccomp compiled");
    LandlockStatus landlock = landlock_probe();
    if (landlock.abi > 0) report_.landlock_abi = landlock.abi;
    else report_.warnings.push_back("landlock: not applied: " + landlock.reason);
    if (auto gap = abstract_socket_gap(policy_, landlock.abi)) report_.unapplied.push_back(*gap);
    for (std::string& w : inherited_hard_limits(limits, cover)) report_.warnings.push_back(std::move(w));

    Pipe go = make_pipe("go"), failure = make_pipe("errors"), status = make_pipe("status");
    int sock[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) != 0) throw sys_error("supervisor: socketpair");
    handover_sock_.reset(sock[0]);
    UniqueFd child_handover_sock(sock[1]);

    // Signals that would end us end the run instead, cleanly (main holds
    // them from its start; held again here for callers that did not).
    const sigset_t stop_signals = hold_stop_signals();
    signal_fd_.reset(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (signalfd_siginfo si{}; read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
        report_.stopped_by = static_cast<int>(si.ssi_signo);
        throw Error(fmt::format("stopped by {} before the run started", signal_name(report_.stopped_by)));
    }

    UniqueFd self(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    if (self.get() < 0) throw sys_error("supervisor: pidfd_open of itself");

    ChildContext ctx;
    ctx.inv = &inv_;
    ctx.plan = &plan;
    ctx.filter = &filter;
    ctx.id = id;
    ctx.envp = build_environment(policy_.env, policy_.limits, environ);
    // Under RLIMIT_AS glibc's per-thread malloc arenas (64 MiB of address
    // space each, up to 8 per CPU) used up the limit of a program of a dozen
    // threads that allocated a few KiB: one arena, unless the profile says.
    if (memory_by_rlimit &&
        std::none_of(ctx.envp.begin(), ctx.envp.end(), [](const std::string& e) { return e.starts_with("MALLOC_ARENA_MAX="); }))
        ctx.envp.push_back("MALLOC_ARENA_MAX=1");
    ctx.cgroup = cover;
    if (cgroup_) ctx.cgroup_join = cgroup_->self_join_files();
    ctx.landlock_abi = landlock.abi;
    ctx.go_read = go.read.get();
    ctx.error_write = failure.write.get();
    ctx.status_write = status.write.get();
    ctx.handover_sock = child_handover_sock.get();
    ctx.supervisor_pidfd = self.get();
    if (inv_.verbose) ctx.verbose_t0 = t0_;
    ctx.stdio[0] = given[0];
    // A --stdin file whose owner the run is (unprivileged; root's reads it
    // through an idmapped mount) is read through a read-only mount. So is an
    // inherited one below Landlock ABI 3 (Linux 6.2), which cannot keep the
    // run from truncating it by path (truncate /dev/stdin, or an O_TRUNC open
    // for reading), whoever the run is; its offset is then no longer shared.
    if (struct stat st {}; fstat(given[0], &st) == 0 && S_ISREG(st.st_mode) &&
                           (in.get() >= 0 ? !id.privileged : landlock.abi < 3))
        ctx.stdin_read_only = true;
    ctx.stdio[1] = run_output[1];
    ctx.stdio[2] = run_output[2];

    // 3. Clone (the run's user namespace owned by the run's uid), map ids,
    // join the cgroup (v1: the child joins itself), release the child.
    bool born_in_cgroup = false;
    {
        RunOwner owner(id);
        if (cgroup_ && cgroup_->clone_into_fd() >= 0) {
            child_ = spawn_child(ctx, cgroup_->clone_into_fd());
            born_in_cgroup = child_.pid > 0;
        }
        if (!born_in_cgroup) child_ = spawn_child(ctx);
    }
    pidfd_.reset(child_.pidfd);
    log_step("cloned");
    go.read.reset();
    failure.write.reset();
    status.write.reset();
    status_read_ = std::move(status.read);
    child_handover_sock.reset();
    for (OutputRelay& r : relays_) r.close_run_end();
    close_prepared(plan);
    try {
        write_id_maps(child_.pid, id);
        pin_oom_score(child_.pid, id);
        log_step("id maps");
        if (cgroup_ && !born_in_cgroup && ctx.cgroup_join.empty()) cgroup_->add_process(child_.pid);
    } catch (...) {
        kill_now();
        waitpid(child_.pid, nullptr, 0);
        reaped_ = true;
        throw;
    }
    start_us_ = monotonic_us();
    if (write(go.write.get(), "g", 1) != 1) throw sys_error("supervisor: release child");
    go.write.reset();
    log_step("released");

    // 4. Watch until the child (pid 1 of the run) is gone.
    watch();
    // Held, it is pending again for what comes next (check and learn end on it).
    if (late_stop_) raise(late_stop_);
    int init_status = 0;
    rusage ru{};
    if (wait4(child_.pid, &init_status, 0, &ru) < 0) throw sys_error("supervisor: wait4");
    reaped_ = true;
    if (!target_status_) read_target_status();
    if (!end_us_) end_us_ = monotonic_us();
    // The run's stdio it may have left in flight (only sendmsg passes descriptors).
    if (allows(policy_.syscalls, "sendmsg") || allows(policy_.syscalls, "sendmmsg")) collect_unix_cycles();
    // What the run wrote last is still in the relays' pipes (its writers are gone).
    for (OutputRelay& r : relays_) {
        // (A stop signal, also one that came after the target ended, ends the wait.)
        if (!r.drain(monotonic_us() + (late_stop_ ? 0 : 5'000'000), signal_fd_.get()))
            report_.warnings.push_back("output: the run's output was not all taken within 5 s of its end "
                                       "(a FIFO's reader that does not read)");
        if (r.error())
            report_.warnings.push_back(fmt::format("output: writing the run's output failed ({}); it was cut there",
                                                   std::strerror(r.error())));
        if (r.over()) report_.evidence.output_limit_hit = true;
    }
    log_step("run ended");

    // A setup failure inside the child outranks whatever else happened.
    ChildFailure f{};
    if (read(failure.read.get(), &f, sizeof f) == sizeof f) {
        f.message[sizeof f.message - 1] = '\0';
        std::string message = f.message;
        if (!id.privileged) message += userns_restriction_hint(message);
        throw Error(message, f.exit_code);
    }
    if (target_status_) {
        if (WIFEXITED(*target_status_)) report_.evidence.exit_code = WEXITSTATUS(*target_status_);
        else if (WIFSIGNALED(*target_status_)) report_.evidence.signal = WTERMSIG(*target_status_);
    } else if (!killed_ && !program_started_ && cgroup_ && cgroup_->usage().oom_killed) {
        throw Error(fmt::format("the memory limit ({} bytes) is too small for the run's own setup: the OOM killer "
                                "ended it before the command started",
                                policy_.limits.memory.value_or(0)));
    } else if (killed_ || (cgroup_ && WIFSIGNALED(init_status) && WTERMSIG(init_status) == SIGKILL &&
                           cgroup_->usage().oom_killed)) {
        // We ended it, or the OOM killer took pid 1 (it picks the largest
        // task, and a program whose memory sits in tmpfs files is smaller than
        // our init): the target died with the run, a memory_limit then.
        report_.evidence.signal = SIGKILL;
    } else {
        throw Error(fmt::format("the run's init ended without reporting the target's status (wait status {})", init_status));
    }

    // 5. Measure, remove the cgroup, disarm what the run left on the host.
    collect(ru);
    cgroup_.reset();
    AfterRun tidied = tidy_writable_binds(plan, began, began_exact, policy_.limits.file_size);
    // A file the run wrote to exactly the limit hit it: a child the limit
    // stopped (a compiler's cc1plus) fails its parent, whose own error is then
    // not the story, and a program that ignores SIGXFSZ (the JVM) and its
    // write errors exits 0 with its output.txt cut. (One stopped writing
    // elsewhere, ld seeking past the limit, or in the run's /tmp, is not seen.)
    if (tidied.file_at_limit) report_.evidence.output_limit_hit = true;
    if (tidied.setid_cleared)
        report_.warnings.push_back(fmt::format("cleared the setuid/setgid bits of {} file(s) the run left in a writable bind",
                                               tidied.setid_cleared));
    for (const std::string& dir : tidied.walks_cut)
        report_.warnings.push_back("the after-run check of " + dir + " stopped after 100000 entries: setuid bits "
                                   "and a file at --file-size beyond them were not looked for");
    for (const std::string& dir : tidied.modes_restored)
        report_.warnings.push_back("the run changed the mode of " + dir + "; put back");
    const WritableDirs writable(policy_);
    for (const StdioFile& f : stdio_files) {
        struct stat st {}, now {};
        if (!f.mode || fstat(f.fd.get(), &st) != 0) continue;
        if (const mode_t put_back = f.mode->put_back(st.st_mode & 07777);
            (st.st_mode & 07777) != put_back && fchmod(f.fd.get(), put_back) == 0)
            report_.warnings.push_back("the run changed the mode of " +
                                       (f.path ? *f.path : std::string("the caller's ") + f.inherited) + "; put back");
        if (!f.path) continue;
        // In the work dir the run may have put something else at the name (a
        // link to /etc/shadow for a judge that reads the output back as root).
        const bool runs_write_there = [&] {
            try {
                return writable.find(*f.path).has_value();
            } catch (const Error&) {
                return true;   // a maze of links the run left
            }
        }();
        // (/proc/self/fd/1 names a different file in each process: not a name a run can change.)
        if (runs_write_there && !in_kernel_files(*f.path) &&
            (lstat(f.path->c_str(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino))
            report_.warnings.push_back("the run replaced " + *f.path + ": what is there now is not the file it was given");
    }
    log_step("accounted");
    report_.verdict = decide_verdict(report_.evidence);
    log_to_syslog();
    return exit_status(report_);
}

bool Run::limit_reached(std::uint64_t now, long& timeout_ms) {
    const auto& limits = policy_.limits;
    if (limits.wall_time) {
        // It counts from the command's execve: until the hand-over says that
        // happened, the run's setup (a few ms, more on a busy host) is not
        // the program's, and only a setup that hangs meets this deadline.
        constexpr std::uint64_t setup_allowance_us = 10'000'000;
        std::uint64_t deadline = start_us_ + static_cast<std::uint64_t>(limits.wall_time->count()) * 1000u +
                                 (program_started_ ? 0 : setup_allowance_us);
        if (now >= deadline) return report_.evidence.wall_limit_hit = true;
        timeout_ms = static_cast<long>((deadline - now + 999) / 1000);
    }
    // A program that ignores SIGXFSZ would write on into a full file
    // until another limit ends it: the output limit ends it at once.
    if (output_full()) return report_.evidence.output_limit_hit = true;
    if (limits.file_size && (output_fds_[0] >= 0 || output_fds_[1] >= 0))
        timeout_ms = timeout_ms < 0 ? 50 : std::min(timeout_ms, 50L);
    if (limits.cpu_time && cgroup_) {
        std::uint64_t used = since_setup(cgroup_->cpu_usec(), setup_cpu_.cpu_usec);
        std::uint64_t limit = static_cast<std::uint64_t>(limits.cpu_time->count()) * 1000u;
        if (used >= limit) return report_.evidence.cpu_limit_hit = true;
        // The soonest the limit can be reached is with every CPU busy.
        static const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
        long soonest = static_cast<long>((limit - used) / 1000u / static_cast<std::uint64_t>(cpus));
        long tick = std::clamp(soonest, 1L, 50L);
        timeout_ms = timeout_ms < 0 ? tick : std::min(timeout_ms, tick);
    }
    return false;
}

void Run::watch() {
    for (;;) {
        std::uint64_t now = monotonic_us();
        long timeout_ms = -1;
        if (killed_) {
            if (kill_by_us_ && now >= kill_by_us_) kill_now();
            if (kill_by_us_) timeout_ms = static_cast<long>((kill_by_us_ - now + 999) / 1000);
        } else if (!target_status_ && !target_status_pending() && limit_reached(now, timeout_ms)) {
            kill_run();
            continue;
        }
        pollfd fds[7] = {{pidfd_.get(), POLLIN, 0},
                         {handover_sock_.get(), POLLIN, 0},
                         {listener_.get(), POLLIN, 0},
                         {late_stop_ ? -1 : signal_fd_.get(), POLLIN, 0},
                         {status_read_.get(), POLLIN, 0},
                         {-1, 0, 0},
                         {-1, 0, 0}};
        for (std::size_t i = 0; i < relays_.size(); ++i)
            if (!relays_[i].over()) fds[5 + i] = relays_[i].wanted();
        int n = poll(fds, 7, static_cast<int>(std::min<long>(timeout_ms, INT_MAX)));   // (--wall-time 1000h)
        if (n < 0 && errno != EINTR) throw sys_error("supervisor: poll");
        if (n <= 0) continue;
        // In the order things happen: hand-over, violations, the target's
        // status, a stop signal, pid 1's exit; several can arrive at once.
        if (fds[1].revents) {
            // pid 1 sends the hand-over once the target has exec'd (or failed
            // before): the listener, and when the program began after how much
            // setup CPU. None arrives when the child failed earlier: the
            // failure pipe says why.
            std::optional<Handover> h = receive_handover(handover_sock_.get());
            handover_sock_.reset();
            if (h) {
                listener_.reset(h->listener);
                if (!h->quotas_capped)
                    report_.unapplied.push_back("inotify/fanotify quotas: /proc/sys/user could not be written in the "
                                                "run's user namespace; the run may use up the invoking user's");
                if (h->start_us) {
                    program_started_ = true;
                    start_us_ = h->start_us;
                    setup_cpu_.user_usec = h->setup_user_us;
                    setup_cpu_.system_usec = h->setup_system_us;
                    setup_cpu_.cpu_usec = h->setup_user_us + h->setup_system_us;
                    log_step("target: exec'd, listener received");
                }
            }
        }
        if (fds[2].revents & POLLIN) {
            // (Once the run is being killed, calls cut short are its end's.)
            if (auto v = read_seccomp_violation(listener_.get()); v && (!killed_ || v->number >= 0)) {
                report_.evidence.syscall_violation = true;
                if (v->number >= 0) report_.syscall_number = v->number;
                report_.syscall_name = v->name;
                kill_run();
            }
        } else if (fds[2].revents) {
            listener_.reset();   // every filtered process has exited
        }
        for (std::size_t i = 0; i < relays_.size(); ++i)
            if (fds[5 + i].revents && !relays_[i].pump() && !target_status_) {
                report_.evidence.output_limit_hit = true;
                kill_run();
            }
        if (fds[4].revents && read_target_status()) {
            terminal_.restore();
            if (cgroup_) final_usage_ = cgroup_->usage();
            log_step("target ended");
        }
        // A stop signal once the target has ended only hurries the end: the
        // run's result is whole and is reported as it is.
        if (fds[3].revents) {
            signalfd_siginfo si{};
            if (read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
                if (target_status_) {
                    late_stop_ = static_cast<int>(si.ssi_signo);
                } else {
                    report_.stopped_by = static_cast<int>(si.ssi_signo);
                    report_.message = fmt::format("stopped by {}; the run was killed",
                                                  signal_name(static_cast<int>(si.ssi_signo)));
                    report_.evidence.sandbox_failed = true;
                }
                kill_run();
            }
        }
        if (fds[0].revents) return;
    }
}

void Run::collect(const rusage& ru) {
    auto& ev = report_.evidence;
    // A run we ended ended then: tearing down hundreds of processes on a
    // starved CPU is not the program's wall time (5.4 s for a 3 s limit).
    report_.wall_us = std::min(end_us_, kill_us_ ? std::max(kill_us_, start_us_) : end_us_) - start_us_;
    // The run's CPU less the setup before the target's execve. The total is
    // exact; two counters' user/system splits are not (tick-sampled), so the
    // setup comes off the total and the split follows it.
    const auto set_cpu = [&](std::uint64_t user, std::uint64_t total) {
        total = since_setup(total, setup_cpu_.cpu_usec);
        report_.cpu_user_us = std::min(total, since_setup(user, setup_cpu_.user_usec));
        report_.cpu_system_us = total - report_.cpu_user_us;
    };
    // pid 1 and everything it reaped.
    set_cpu(timeval_us(ru.ru_utime), timeval_us(ru.ru_utime) + timeval_us(ru.ru_stime));
    report_.max_rss_kib = static_cast<std::uint64_t>(ru.ru_maxrss);
    report_.csw_voluntary = static_cast<std::uint64_t>(ru.ru_nvcsw);
    report_.csw_forced = static_cast<std::uint64_t>(ru.ru_nivcsw);
    const auto over_cpu_limit = [&](std::uint64_t us) {
        return policy_.limits.cpu_time && us >= static_cast<std::uint64_t>(policy_.limits.cpu_time->count()) * 1000u;
    };
    // All CPU of the run, our setup in the target included: what RLIMIT_CPU counts.
    std::uint64_t raw_cpu_us = timeval_us(ru.ru_utime) + timeval_us(ru.ru_stime);
    bool cpu_counted = false;
    if (cgroup_) {
        // The cgroup counts every task, also those killed before anyone reaped them.
        CgroupUsage u = final_usage_ ? *final_usage_ : cgroup_->usage();
        if (u.user_usec && u.cpu_usec) set_cpu(*u.user_usec, *u.cpu_usec);
        raw_cpu_us = std::max(raw_cpu_us, u.cpu_usec.value_or(0));
        if (u.cpu_usec) u.cpu_usec = since_setup(u.cpu_usec, setup_cpu_.cpu_usec);
        report_.peak_memory_kib = u.memory_peak ? std::optional(*u.memory_peak / 1024) : std::nullopt;
        // Only an OOM kill proves the memory limit: the peak also counts page
        // cache (the program's output files), which reaches the limit and is
        // reclaimed without harm. And only one at the run's own limit: the
        // OOM killer of a cgroup above (a judge's budget for its runs) or of
        // the host picks a task of a run that stayed within its limit too.
        if (u.oom_killed && !u.memory_limit_reached) {
            report_.message = "an OOM killer outside the run ended a task of it: the cgroup above the run's "
                              "or the host ran out of memory, not the run at its limit";
            ev.sandbox_failed = true;
        }
        ev.oom_killed = u.oom_killed && u.memory_limit_reached;
        // Not a verdict (the program may cope), but what its failure most likely comes from.
        if (u.pids_limit_hit && policy_.limits.processes)
            report_.warnings.push_back(fmt::format("the run reached its limit of {} processes and threads: a fork or "
                                                   "thread creation failed (EAGAIN)",
                                                   *policy_.limits.processes));
        cpu_counted = u.cpu_usec.has_value();
        if (u.cpu_usec && over_cpu_limit(*u.cpu_usec)) ev.cpu_limit_hit = true;
    }
    if (!report_.peak_memory_kib) report_.peak_memory_kib = report_.max_rss_kib;
    // Measured CPU over the limit, also without a cgroup, where RLIMIT_CPU
    // bounds each process only and a program may catch or ignore SIGXCPU.
    if (over_cpu_limit(report_.cpu_user_us + report_.cpu_system_us)) ev.cpu_limit_hit = true;
    if (policy_.limits.wall_time &&
        report_.wall_us >= static_cast<std::uint64_t>(policy_.limits.wall_time->count()) * 1000u)
        ev.wall_limit_hit = true;
    // RLIMIT_CPU's SIGXCPU (the limit without a cgroup, the backstop with
    // one), but not one the program raised itself. The kernel's sampled count
    // that fires it runs up to 15-30% ahead of the measured CPU on a loaded
    // machine, so without a cgroup "about at the limit" is half of it. With
    // the cgroup's count the backstop is at twice the limit (at the limit
    // only under a caller's lower hard limit): a third ahead is enough there,
    // and a SIGXCPU at half the limit is the program's own.
    if (ev.signal == SIGXCPU && over_cpu_limit(cpu_counted ? raw_cpu_us * 4 / 3 : 2 * raw_cpu_us))
        ev.cpu_limit_hit = true;
    // RLIMIT_FSIZE's SIGXFSZ (where some limit is: else the program raised
    // it); a program that ignores it gets EFBIG instead and may exit 0 with
    // its output cut, so a full --stdout/--stderr file counts too.
    rlimit fsize{};
    const bool file_limit = policy_.limits.file_size || (getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_max != RLIM_INFINITY);
    if ((ev.signal == SIGXFSZ && file_limit) || output_full()) ev.output_limit_hit = true;
}

bool Run::output_full() const {
    if (!policy_.limits.file_size) return false;
    for (int fd : output_fds_) {
        struct stat st {};
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            static_cast<std::uint64_t>(st.st_size) >= *policy_.limits.file_size)
            return true;
    }
    return false;
}

void Run::log_to_syslog() {
    const auto& ev = report_.evidence;
    if (!ev.syscall_violation && !killed_ && !ev.oom_killed) return;
    std::string command;
    for (const auto& a : inv_.argv) command += (command.empty() ? "" : " ") + a;
    openlog("sandboxrun", LOG_PID, LOG_AUTHPRIV);
    syslog(ev.syscall_violation ? LOG_WARNING : LOG_NOTICE, "run %s profile %s: %s%s%s; command: %s",
           report_.run_id.c_str(), report_.profile.c_str(), verdict_name(report_.verdict),
           ev.syscall_violation ? " syscall " : "", report_.syscall_name.c_str(), command.c_str());
    closelog();
}

// Returns false, having said why (unless `said` already did: the run's own
// error was this file), if the report or meta file could not be written.
bool write_text(const std::string& path, const std::string& text, const char* option, const Policy& policy,
                const std::string& said) {
    try {
        write_host_file(path, text, option, policy);
        return true;
    } catch (const Error& e) {
        if (e.what() != said) std::fprintf(stderr, "sandboxrun: %s\n", e.what());
        return false;
    }
}

}  // namespace

std::optional<std::string> abstract_socket_gap(const Policy& policy, int landlock_abi) {
    const auto& families = policy.syscalls.socket_families;
    if (!policy.net.enabled || landlock_abi >= 6 || std::find(families.begin(), families.end(), "AF_UNIX") == families.end())
        return std::nullopt;
    return fmt::format("abstract unix sockets: with --network the run shares the host's (an X server's, a session "
                       "bus's), and this kernel's Landlock (ABI {}; 6 needed) cannot keep the run from them",
                       landlock_abi);
}

sigset_t hold_stop_signals() {
    sigset_t stop;
    sigemptyset(&stop);
    // Every signal whose default action would end us (but SIGKILL, and the
    // faults that are our own bugs): a judge's or a shell's stray one, or
    // limits put on sandboxrun itself (SIGXFSZ, SIGXCPU). (Not SIGPIPE: main ignores it.)
    // One the caller left ignored stays so (nohup, `cmd &` in a script):
    // held, it would be queued and end the run.
    const auto hold = [&](int sig) {
        struct sigaction now {};
        if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler != SIG_IGN) sigaddset(&stop, sig);
    };
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF,
                    SIGXCPU, SIGXFSZ, SIGIO, SIGPWR, SIGSTKFLT})
        hold(sig);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) hold(sig);   // (their default ends a process too)
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    return stop;
}

int run_sandbox(const Invocation& inv, Report& report) {
    report.profile = inv.policy.name;
    report.command = inv.argv;
    report.limits = inv.policy.limits;
    report.cgroup = "none";
    report.memory_limit_by = "none";
    int status = exit_sandbox_error;
    try {
        if (inv.setup_error) throw Error(*inv.setup_error);
        if (inv.report_path) discard_host_file(*inv.report_path, "--report", inv.policy);
        if (inv.meta_path) discard_host_file(*inv.meta_path, "--meta", inv.policy);
        report.run_id = new_run_id();
        Run run(inv, report);
        status = run.execute();
    } catch (const Error& e) {
        report.evidence = Evidence{};
        report.evidence.sandbox_failed = true;
        report.verdict = Verdict::sandbox_error;
        report.message = e.what();   // only a setup failure sets it here
        status = e.exit_code();
    }
    return status;
}

int run_sandbox(const Invocation& inv) {
    Report report;
    int status = run_sandbox(inv, report);
    if (!report.message.empty()) std::fprintf(stderr, "sandboxrun: %s\n", report.message.c_str());
    if (!inv.quiet)
        for (const auto& w : report.warnings) std::fprintf(stderr, "sandboxrun: warning: %s\n", w.c_str());
    if (!inv.quiet)
        for (const auto& u : report.unapplied) std::fprintf(stderr, "sandboxrun: warning: not applied: %s\n", u.c_str());
    if (!inv.quiet && report.verdict != Verdict::ok && report.verdict != Verdict::sandbox_error)
        std::fprintf(stderr, "sandboxrun: %s\n", verdict_summary(report).c_str());
    // A judge reads the verdict from these: without them, the exit status must not say all went well.
    if (inv.report_path && !write_text(*inv.report_path, report_json(report), "--report", inv.policy, report.message)) status = exit_sandbox_error;
    if (inv.meta_path && !write_text(*inv.meta_path, report_meta(report), "--meta", inv.policy, report.message)) status = exit_sandbox_error;
    return status;
}

}  // namespace sandboxrun
