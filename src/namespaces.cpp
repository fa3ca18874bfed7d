// The child: born into fresh user, mount, pid, net, ipc and uts namespaces,
// it becomes pid 1 of the run. It builds the root, forks the target and then
// only reaps; when the target is gone (or the supervisor asks) it kills every
// other process in the pid namespace, double-forked daemons and setsid()ed
// children included, and reaps them too before it exits.
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/cgroup_detail.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

// Steps of the child, top to bottom; any failure ends the run with a message.
// Returns whether the run's own user quotas could be set.
bool setup_child(const ChildContext& ctx) {
    // The supervisor's death before "go" must end us too: we hold copies of
    // its pipe ends, so the read below would never see EOF. (A change of
    // credentials clears this; it is set again after ours.)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(exit_sandbox_error);
    pollfd supervisor{ctx.supervisor_pidfd, POLLIN, 0};
    if (poll(&supervisor, 1, 0) != 0) _exit(exit_sandbox_error);
    char go = 0;
    if (read(ctx.go_read, &go, 1) != 1) _exit(exit_sandbox_error);   // supervisor gone or failed
    close(ctx.go_read);

    // v1: into the run's groups by our own hand (see Cgroup::self_join_files),
    // before anything of the run's is done.
    for (const TasksFile& t : ctx.cgroup_join) {
        if (write(t.fd, "0", 1) != 1) throw sys_error("child: join cgroup", t.path);
        close(t.fd);
    }
    // A host short of memory kills the run's processes first, not the judge's
    // or the user's (without a memory cgroup a run may hold processes x
    // memory). Raising it needs no privilege; root's supervisor also made it
    // the floor (pin_oom_score), and Landlock keeps /proc read-only for the run.
    if (int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
        [[maybe_unused]] ssize_t n = write(fd, "1000", 4);
        close(fd);
    }
    // Only now are we in the run's cgroup, so the new cgroup namespace is rooted there.
    if (unshare(CLONE_NEWCGROUP) != 0) {
        const int err = errno;
        throw sys_error(err == ENOSPC ? "child: unshare(CLONE_NEWCGROUP) (" + namespace_count_limits() + ")"
                                      : std::string("child: unshare(CLONE_NEWCGROUP)"),
                        {}, err);
    }

    // Become the mapped uid. Invoked by root we still carry host uid 0 until
    // here; keep the capabilities of this user namespace across the switch.
    if (prctl(PR_SET_KEEPCAPS, 1) != 0) throw sys_error("child: PR_SET_KEEPCAPS");
    if (ctx.id.privileged && setgroups(0, nullptr) != 0) throw sys_error("child: setgroups");
    if (setresgid(ctx.id.inside_gid, ctx.id.inside_gid, ctx.id.inside_gid) != 0) throw sys_error("child: setresgid");
    if (setresuid(ctx.id.inside_uid, ctx.id.inside_uid, ctx.id.inside_uid) != 0) throw sys_error("child: setresuid");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2]{};
    if (syscall(SYS_capget, &header, caps) != 0) throw sys_error("child: capget");
    for (auto& c : caps) c.effective = c.permitted;
    if (syscall(SYS_capset, &header, caps) != 0) throw sys_error("child: capset");

    // The supervisor's death must end the run even if it is SIGKILLed: set
    // again, as the change of credentials cleared it. If the supervisor died
    // before this line, its pidfd says so.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) throw sys_error("child: PR_SET_PDEATHSIG");
    if (poll(&supervisor, 1, 0) != 0) _exit(exit_sandbox_error);
    // With our capabilities in the run's user namespace, and the host's
    // /proc still in view.
    const bool quotas_capped = cap_user_quotas();
    if (ctx.verbose_t0) print_step(ctx.verbose_t0, "child: in its cgroup, credentials set", 2);

    // The root's directories need their modes whatever the judge's umask
    // (0177 would leave them unsearchable); the program starts with this one too.
    umask(022);
    // A stdin file the run could change (as its owner, or below Landlock ABI
    // 3 by truncating it: the supervisor decides) comes through a read-only mount.
    if (ctx.stdin_read_only) reopen_read_only(ctx.stdio[0]);
    apply_mounts(*ctx.plan);
    const std::string& hostname = ctx.inv->policy.hostname;
    if (sethostname(hostname.data(), hostname.size()) != 0) throw sys_error("child: sethostname", hostname);
    setup_network(ctx.inv->policy.net);
    if (ctx.verbose_t0) print_step(ctx.verbose_t0, "child: root built, network up", 2);
    return quotas_capped;
}

// The target shares our memory and fd table until its execve, as with
// posix_spawn (CLONE_VM | CLONE_VFORK, and CLONE_FILES): no page tables to
// copy, no copy-on-write faults, and the seccomp listener it creates stays
// here when its execve drops the shared table. We sleep until it has exec'd
// or failed; it runs on a stack of its own, so nothing of ours is overwritten.
pid_t spawn_target(const ChildContext& ctx, Handover& handover) {
    struct Start {
        const ChildContext& ctx;
        Handover& handover;
    } start{ctx, handover};
    constexpr std::size_t stack_size = 1 << 20;
    void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    auto run = [](void* arg) -> int {
        auto* s = static_cast<Start*>(arg);
        exec_target(s->ctx, s->handover);
    };
    pid_t pid = clone(run, static_cast<char*>(stack) + stack_size, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &start);
    int err = errno;
    munmap(stack, stack_size);
    errno = err;
    return pid;
}

// Closes every fd but `keep` (negative entries are ignored).
void close_all_but(std::vector<int> keep) {
    std::erase_if(keep, [](int fd) { return fd < 0; });
    std::sort(keep.begin(), keep.end());
    unsigned from = 0;
    for (int fd : keep) {
        const auto kept = static_cast<unsigned>(fd);
        if (kept > from) close_range(from, kept - 1, 0);
        from = std::max(from, kept + 1);
    }
    close_range(from, ~0u, 0);
}

// pid 1: start the target, hand its listener over, reap everything, report
// the target's status, exit.
[[noreturn]] void reap(const ChildContext& inherited, bool quotas_capped) {
    // The target shares our fd table, and under open_files = 4 its listener
    // must find fd 3 free: our three pipes move up out of the way, the stdio
    // sources go once the target has dup2'd them, and nothing else stays
    // open but 0-2 (where -v still prints): not the supervisor's locks, not
    // its other files.
    ChildContext ctx = inherited;
    for (int* fd : {&ctx.error_write, &ctx.status_write, &ctx.handover_sock})
        if (int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 10); moved >= 0) *fd = moved;
    close_all_but({0, 1, 2, ctx.stdio[0], ctx.stdio[1], ctx.stdio[2], ctx.error_write, ctx.status_write,
                   ctx.handover_sock});
    // Not dumpable: the target cannot ptrace us or open our /proc/1/mem or exe
    // for writing. Set first: the flag is the memory's, which the target
    // shares until its execve.
    prctl(PR_SET_DUMPABLE, 0);
    // The supervisor ends a run (a limit, a violation) with SIGUSR1: we kill
    // everything else and go on reaping, so that what the killed processes
    // used (their peak RSS, and without a cgroup their CPU) is in our rusage.
    // (The target's copy of the handler is gone at its execve.)
    struct sigaction end{};
    end.sa_handler = [](int) { kill(-1, SIGKILL); };
    end.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &end, nullptr);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr1, nullptr);   // held by the supervisor, whose mask we inherit
    Handover handover;
    handover.quotas_capped = quotas_capped;
    pid_t target = spawn_target(ctx, handover);
    if (target < 0) fail_child(ctx.error_write, exit_sandbox_error, std::string("child: start target: ") + std::strerror(errno));

    // Our own CPU so far is setup too. Without the listener the supervisor
    // would never hear of a violation, so a failed send ends the run.
    add_own_cpu(handover);
    // The kernel refuses to pass an fd while the sending user has more fds in
    // flight than our soft RLIMIT_NOFILE. Unprivileged, every run is that one
    // user: a run's sockets holding hundreds must not fail another's hand-over.
    open_up(RLIMIT_NOFILE);
    if (send_handover(ctx.handover_sock, handover) != 0) {
        int err = errno;
        kill(target, SIGKILL);
        fail_child(ctx.error_write, exit_sandbox_error, std::string("child: hand-over to the supervisor: ") + std::strerror(err));
    }

    // From here on only the status pipe: not the listener, not the program's stdio.
    close_all_but({ctx.status_write});
    for (;;) {
        TargetExit done;
        pid_t pid = waitpid(-1, &done.status, __WALL);
        if (pid == target) {
            // The target is done; whatever else runs is killed and reaped
            // here rather than by our exit, for the same reason.
            done.end_us = monotonic_us();
            if (write(ctx.status_write, &done, sizeof done) != sizeof done) _exit(exit_sandbox_error);
            kill(-1, SIGKILL);
            while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
            }
            _exit(0);
        }
        if (pid < 0 && errno == ECHILD) _exit(exit_sandbox_error);
    }
}

[[noreturn]] void run_child(const ChildContext& ctx) {
    bool quotas_capped = false;
    try {
        quotas_capped = setup_child(ctx);
    } catch (const Error& e) {
        fail_child(ctx.error_write, e.exit_code(), e.what());
    } catch (const std::exception& e) {
        fail_child(ctx.error_write, exit_sandbox_error, e.what());
    }
    reap(ctx, quotas_capped);
}

}  // namespace

namespace {
std::uint64_t clock_us(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}
}  // namespace

std::uint64_t monotonic_us() { return clock_us(CLOCK_MONOTONIC); }

void add_own_cpu(Handover& h) {
    // The CPU clock includes the slice still running; getrusage leaves it out
    // (up to a tick, which the cgroup's counter has), so it only splits.
    const std::uint64_t total = clock_us(CLOCK_PROCESS_CPUTIME_ID);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const std::uint64_t user = std::min(total, timeval_us(ru.ru_utime));
    h.setup_user_us += user;
    h.setup_system_us += total - user;
}

void print_step(std::uint64_t t0, const char* step, int fd) {
    char line[256];
    const int n = std::snprintf(line, sizeof line, "sandboxrun: %8.3f ms  %s\n",
                                static_cast<double>(monotonic_us() - t0) / 1000.0, step);
    [[maybe_unused]] ssize_t written = write(fd, line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
}

std::string userns_restriction_hint(const std::string& failure, const char* sysctl) {
    const bool denied = failure.find(std::strerror(EPERM)) != std::string::npos ||
                        failure.find(std::strerror(EACCES)) != std::string::npos;
    auto restricted = denied ? cgroup_detail::read_file(sysctl) : std::nullopt;
    if (!restricted || restricted->substr(0, 1) != "1") return {};
    return fmt::format(" ({} is 1: this host's AppArmor gives an unprivileged user's namespaces no capabilities, so "
                       "sandboxrun cannot build its root; run it as root, or load an AppArmor profile that allows "
                       "`userns` for the sandboxrun binary)", sysctl);
}

[[noreturn]] void fail_child(int error_fd, int exit_code, const std::string& message) {
    ChildFailure f{};
    f.exit_code = exit_code;
    std::strncpy(f.message, message.c_str(), sizeof f.message - 1);
    // One write below PIPE_BUF is atomic: the supervisor reads all of it or nothing.
    [[maybe_unused]] ssize_t n = write(error_fd, &f, sizeof f);
    _exit(exit_code);
}

Child spawn_child(const ChildContext& ctx, int cgroup_fd) {
    clone_args args{};
    int pidfd = -1;
    args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD;
    // Network on shares the host's (the run cannot configure it: the host's
    // user namespace owns it); off is a namespace of the run's own.
    if (!ctx.inv->policy.net.enabled) args.flags |= CLONE_NEWNET;
    args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && cgroup_fd >= 0) return {};   // let the caller clone plainly and move the child
    if (pid < 0) {
        if (errno == ENOSPC) throw sys_error("namespaces: clone3 (" + namespace_count_limits() + ")", {}, ENOSPC);
        if (errno == EPERM || errno == EINVAL || errno == EACCES)
            throw sys_error("namespaces: clone3 (are unprivileged user namespaces enabled? see "
                            "/proc/sys/user/max_user_namespaces and kernel.unprivileged_userns_clone; an LSM, "
                            "AppArmor or SELinux, may refuse them: sandboxrun check names what this host has)");
        throw sys_error("namespaces: clone3");
    }
    if (pid == 0) run_child(ctx);
    return {static_cast<pid_t>(pid), pidfd};
}

std::string namespace_count_limits(const std::string& dir) {
    std::vector<std::string> zero;
    for (const char* kind : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"}) {
        const std::string name = fmt::format("max_{}_namespaces", kind);
        if (cgroup_detail::read_file(dir + "/" + name).value_or("") == "0\n") zero.push_back("user." + name + " is 0");
    }
    if (zero.empty()) return fmt::format("a namespace count limit is reached: see {}/max_*_namespaces", dir);
    return fmt::format("{}: see {}", fmt::join(zero, ", "), dir);
}

}  // namespace sandboxrun
