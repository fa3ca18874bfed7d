// sandboxrun: parse the command line, then do the one thing it asks.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "sandboxrun/cgroups.hpp"
#include "sandboxrun/cli.hpp"
#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"
#include "check.hpp"
#include "layers.hpp"
#include "learn.hpp"
#include "supervisor.hpp"

namespace {

// What we print is what a judge saves (`--explain > judge.toml`): a write
// that failed (a full disk) must not pass for done.
int flushed(int status) {
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return status;
    std::fprintf(stderr, "sandboxrun: writing to stdout: %s\n", std::strerror(errno));
    return sandboxrun::exit_sandbox_error;
}

// The stop signals are held before the C++ runtime starts (its constructors
// and the first page faults of a 4 MiB binary take milliseconds on a loaded
// host), not only from main: a judge's SIGTERM there ended us with no report
// written and the last run's left at --report.
[[gnu::used, gnu::section(".preinit_array")]] void (*const hold_early)(int, char**, char**) = [](int, char**, char**) {
    sandboxrun::hold_stop_signals();
};

}  // namespace

int main(int argc, char** argv) {
    using namespace sandboxrun;
    // The hidden mode `sandboxrun check` runs inside its sandboxes (as their target: nothing held).
    if (argc >= 3 && std::string_view(argv[1]) == "__attempt") {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        return run_attempt(argc - 2, argv + 2);
    }
    // A judge may start us with 0-2 closed: a --stdout file opened onto fd 1
    // would be taken for the inherited stdout (and closed at exec).
    for (int fd = 0; fd < 3; ++fd)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) {
            std::fprintf(stderr, "sandboxrun: fd %d is closed, and /dev/null cannot stand in for it: %s\n", fd,
                         std::strerror(errno));
            return exit_sandbox_error;
        }
    // A judge that ignores SIGCHLD (kept across exec) would have the kernel
    // reap the run's pid 1 before we can wait for it.
    signal(SIGCHLD, SIG_DFL);
    // A reader of our stderr that goes away (`-v 2>&1 | head`) must cost us
    // our messages only, not the run (the command's signals are reset at exec).
    signal(SIGPIPE, SIG_IGN);
    // Started in a background process group (a judge's `timeout`), writing to
    // or restoring a terminal must not stop us: a run may set TOSTOP there.
    signal(SIGTTOU, SIG_IGN);
    // A stop signal during setup must not kill us half-way (cgroups left,
    // no report): held from here, a run ends cleanly on it.
    const sigset_t stop_signals = hold_stop_signals();
    // A caller's low soft limit on files (ulimit -n 20) must not fail a step
    // of ours half-way, or quietly cost the run its cgroup: the hard one is
    // ours to take (the run's own limit is set for it).
    open_up(RLIMIT_NOFILE);
    try {
        Invocation inv = parse_command_line(argc, argv);
        // `check` and `learn` are runs too: one held there ends them, whichever step it arrives in.
        const bool runs = inv.command == Command::run || inv.command == Command::check || inv.command == Command::learn;
        if (!runs) sigprocmask(SIG_UNBLOCK, &stop_signals, nullptr);
        if (inv.exit_now) return flushed(*inv.exit_now);
        switch (inv.command) {
            case Command::run: return run_sandbox(inv);
            case Command::explain: std::fputs(explain_policy(inv.policy).c_str(), stdout); return flushed(0);
            case Command::cleanup: {
                std::vector<std::string> left;
                int removed = cleanup_stale_cgroups(inv.cgroup_parent, &left);
                remove_stale_mode_records();
                remove_stale_seccomp_temps();
                std::printf("removed %d stale cgroup(s)\n", removed);
                for (const std::string& l : left) std::fprintf(stderr, "sandboxrun: cleanup: cannot remove %s\n", l.c_str());
                return flushed(left.empty() ? 0 : 1);
            }
            case Command::check: return flushed(run_check(inv, argc, argv));
            case Command::learn: return flushed(run_learn(inv));
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "sandboxrun: %s\n", e.what());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sandboxrun: internal error: %s\n", e.what());
    }
    return exit_sandbox_error;
}
