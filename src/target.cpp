// The target's own steps, in order, ending in execve. The seccomp filter
// comes last so that every step before it may use whatever it needs.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

void setup_stdio(const ChildContext& ctx) {
    for (int fd = 0; fd < 3; ++fd)
        if (ctx.stdio[fd] != fd && dup2(ctx.stdio[fd], fd) != fd) throw sys_error("target: dup2", std::to_string(fd));
    // The sources are no use to pid 1 either, with whom we share the table.
    for (int fd : ctx.stdio)
        if (fd > 2) close(fd);
    // Only 0, 1 and 2 may reach the program; the pipes it still needs until
    // execve close themselves there.
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0) throw sys_error("target: close_range");
}

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) throw sys_error("target: sigprocmask");
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
}

// Finds the command as the shell would, inside the sandbox, before the
// filter is live: missing is 127, present but not runnable is 126.
std::string resolve_command(const std::string& command, const std::vector<std::string>& envp) {
    std::string path_var = "/usr/bin:/bin";
    for (const std::string& e : envp)
        if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
    std::vector<std::string> candidates;
    if (command.find('/') != std::string::npos) {
        candidates.push_back(command);
    } else {
        for (std::size_t start = 0; start <= path_var.size();) {
            std::size_t end = path_var.find(':', start);
            if (end == std::string::npos) end = path_var.size();
            std::string dir = path_var.substr(start, end - start);
            candidates.push_back((dir.empty() ? "." : dir) + "/" + command);
            start = end + 1;
        }
    }
    int first_error = ENOENT;
    for (const std::string& path : candidates) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) continue;
        if (!S_ISDIR(st.st_mode) && access(path.c_str(), X_OK) == 0) return path;
        first_error = S_ISDIR(st.st_mode) ? EISDIR : errno;
    }
    if (first_error == ENOENT) throw Error("command not found: " + command + " (in the sandbox)", exit_not_found);
    throw Error("cannot run " + command + ": " + std::strerror(first_error), exit_cannot_run);
}

// The #! line of `path`, printable ("\\r" for a carriage return), or "" if it
// has none: named when the interpreter turns out missing (a script saved
// with Windows line ends asks for "python3\r").
std::string interpreter_of(const std::string& path) {
    char head[128];
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0) close(fd);
    if (n < 3 || head[0] != '#' || head[1] != '!') return {};
    std::string out;
    for (ssize_t i = 2; i < n && head[i] != '\n'; ++i) {
        const auto c = static_cast<unsigned char>(head[i]);
        if (c == '\r') out += "\\r";
        else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
        else if (!(out.empty() && c == ' ')) out += static_cast<char>(c);
    }
    return out;
}

}  // namespace

[[noreturn]] void exec_target(const ChildContext& ctx, Handover& handover) {
    const Invocation& inv = *ctx.inv;
    std::vector<char*> argv, envp;
    for (const std::string& a : inv.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const std::string& e : ctx.envp) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::string exec_path, interpreter;
    try {
        // d. a new session without a controlling terminal, fds, work dir
        // The last step that may still print: stderr becomes the program's below.
        if (ctx.verbose_t0) print_step(ctx.verbose_t0, "target: forked", 2);
        if (setsid() < 0) throw sys_error("target: setsid");
        reset_signals();
        setup_stdio(ctx);
        if (chdir(ctx.plan->chdir.c_str()) != 0) throw sys_error("target: chdir", ctx.plan->chdir);
        exec_path = resolve_command(inv.argv[0], ctx.envp);
        interpreter = interpreter_of(exec_path);
        // e. no capability, no way to gain one, Landlock
        drop_capabilities();
        apply_landlock(*ctx.plan, inv.policy.net, ctx.landlock_abi);
        // Limits after Landlock, whose ruleset needs fds beside the program's
        // stdio: open_files may leave room for one more only (the listener).
        apply_rlimits(inv.policy.limits, ctx.cgroup);
    } catch (const Error& e) {
        fail_child(ctx.error_write, e.exit_code(), e.what());
    }
    // The program's time starts here: what we spent so far is setup.
    add_own_cpu(handover);
    handover.start_us = monotonic_us();
    // f. the filter, last; from here on only what the profile allows may run.
    if (apply_seccomp(*ctx.filter, handover.listener) != 0)
        fail_child(ctx.error_write, exit_sandbox_error, std::string("seccomp: install filter: ") + std::strerror(errno));
    execve(exec_path.c_str(), argv.data(), envp.data());
    // The command was found above: ENOENT now is its #! interpreter or ELF
    // loader that the sandbox lacks ("bad interpreter", 126, as a shell says).
    int err = errno;
    std::string why;
    if (err == ENOENT && !interpreter.empty())
        why = fmt::format(" (its #! interpreter, \"{}\", is not in the sandbox{})", interpreter,
                          interpreter.find("\\r") != std::string::npos ? ": the script has Windows line ends" : "");
    else if (err == ENOENT)
        why = " (its ELF loader is not in the sandbox)";
    fail_child(ctx.error_write, exit_cannot_run, "execve: " + inv.argv[0] + ": " + std::strerror(err) + why);
}

}  // namespace sandboxrun
