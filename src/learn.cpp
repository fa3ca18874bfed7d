// sandboxrun learn: evidence for a new toolchain's profile without ptrace.
// The filter already reports the first syscall outside the allow list through
// its user notification (the run's verdict names it); learn re-runs the
// command with that syscall allowed until a run ends without a violation. One
// syscall per attempt, so the command must be repeatable (give --stdin FILE).
#include "learn.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sandboxrun/error.hpp"
#include "sandboxrun/report.hpp"
#include "sandboxrun/syscall_groups.hpp"
#include "supervisor.hpp"

namespace sandboxrun {
namespace {

constexpr int max_attempts = 100;

// The groups (safe ones first) that contain `name`, for the fragment's comments.
std::string groups_of(const std::string& name, bool& dangerous) {
    std::string out;
    dangerous = false;
    for (const auto& g : syscall_groups()) {
        if (!group_includes(g, name)) continue;
        dangerous = dangerous || g.dangerous;
        out += (out.empty() ? "" : ", ") + std::string(g.name);
    }
    return out.empty() ? "no group" : out;
}

// What learn allowed so far, in the order it found it out.
struct Learned {
    std::vector<std::string> allow;
    bool unix_sockets = false;        // socket_families += AF_UNIX
    bool socket_errno = false;        // errno = { socket = "EAFNOSUPPORT" }
};

// `ended`: the last attempt's verdict; it ran to its end only when ok.
std::string fragment(const std::string& profile, const Learned& l, Verdict ended) {
    std::string out = "# syscalls `sandboxrun learn` saw the command need beyond profile \"" + profile + "\"\n";
    out += "[syscalls]\n";
    std::vector<std::string> allow;
    for (const auto& name : l.allow)
        if (!(l.socket_errno && name == "socket")) allow.push_back(name);
    if (allow.empty() && !l.socket_errno)
        return out + (ended == Verdict::ok ? "# none: it ran under the profile as it is\n"
                                           : fmt::format("# none so far: it ended {} before needing one\n",
                                                         verdict_name(ended)));
    for (const auto& name : allow) {
        bool dangerous = false;
        out += "#   " + name + ": " + groups_of(name, dangerous) + "\n";
    }
    if (!allow.empty()) {
        out += "allow = [";
        for (std::size_t i = 0; i < allow.size(); ++i) out += (i ? ", \"" : "\"") + allow[i] + "\"";
        out += "]\n";
    }
    if (l.unix_sockets) out += "socket_families = [\"AF_UNIX\"]\n";
    if (l.socket_errno)
        out += "# socket() with a family the sandbox refuses (an IP socket with the network off)\n"
               "errno = { socket = \"EAFNOSUPPORT\" }\n";
    return out;
}

}  // namespace

int run_learn(const Invocation& inv) {
    Invocation attempt = inv;
    // The target's output would repeat with every attempt; stdout carries the fragment.
    if (!attempt.stdout_path) attempt.stdout_path = "/dev/null";
    attempt.report_path.reset();
    attempt.meta_path.reset();
    Learned learned;
    Syscalls& sc = attempt.policy.syscalls;
    for (int i = 0; i < max_attempts; ++i) {
        Report report;
        int status = run_sandbox(attempt, report);
        if (report.stopped_by) throw Error(report.message, 128 + report.stopped_by);   // as check does
        if (report.verdict == Verdict::sandbox_error) {
            std::fprintf(stderr, "sandboxrun: learn: %s\n", report.message.c_str());
            return status;
        }
        if (report.verdict != Verdict::syscall_violation) {
            std::fputs(fragment(inv.policy.name, learned, report.verdict).c_str(), stdout);
            std::fprintf(stderr, "sandboxrun: learn: %d attempt(s); the last ended %s\n", i + 1,
                         verdict_name(report.verdict));
            return status;
        }
        const std::string& name = report.syscall_name;
        if (name.empty()) continue;   // interrupted before it could be named: it comes again
        if (name.find(' ') != std::string::npos)   // "getpid (i386)": no profile allows another arch
            throw Error("learn: the command makes a syscall of another arch, " + name + ", which no profile can allow");
        bool dangerous = false;
        groups_of(name, dangerous);
        const auto never = never_allowed_syscalls();
        if (dangerous || std::find(never.begin(), never.end(), name) != never.end())
            throw Error("learn: the command needs " + name + ", which sandboxrun does not allow in stock "
                        "profiles (" + groups_of(name, dangerous) + ")");
        std::string step;
        if (std::find(learned.allow.begin(), learned.allow.end(), name) == learned.allow.end()) {
            learned.allow.push_back(name);
            sc.allow.push_back(name);
            sc.allow_origins.push_back("sandboxrun learn");
            step = name;
        } else if ((name == "socket" || name == "socketpair") && !learned.unix_sockets) {
            // Refused for its family: unix sockets are the only ones a run without network may have.
            learned.unix_sockets = true;
            sc.socket_families.push_back("AF_UNIX");
            step = name + " for AF_UNIX";
        } else if (name == "socket" && !learned.socket_errno) {
            // Still refused: an IP socket with the network off. Runtimes that probe
            // with throw-away sockets (the JDK) fall back when it fails.
            learned.socket_errno = true;
            sc.errno_rules.push_back({"socket", EAFNOSUPPORT, "sandboxrun learn"});
            step = "socket to fail with EAFNOSUPPORT";
        } else {
            throw Error("learn: " + name + " was refused again once allowed: its arguments fail the "
                        "profile's check (e.g. clone with CLONE_NEW* flags, a TIOCSTI ioctl)");
        }
        std::fprintf(stderr, "sandboxrun: learn: attempt %d needed %s\n", i + 1, step.c_str());
    }
    throw Error("learn: still refused after " + std::to_string(max_attempts) + " attempts");
}

}  // namespace sandboxrun
