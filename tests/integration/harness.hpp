// Runs the real sandboxrun binary the way a judge script would, as root or
// (SBX_AS_USER=uid) as an unprivileged user, always under `timeout` so that
// a bug in sandboxrun cannot hang the suite.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace sbx {

namespace fs = std::filesystem;

inline std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

inline std::string programs() { return env_or("SBX_PROGS", "."); }
// The uid sandboxrun runs as; -1: as we are (root in CI).
inline int run_as() { return std::atoi(env_or("SBX_AS_USER", "-1").c_str()); }

// The build tree may sit where the unprivileged user cannot reach (/root/...),
// so that user runs a copy of the binary from a directory of its own.
inline std::string binary() {
    static const std::string path = [] {
        std::string built = env_or("SBX_BIN", "sandboxrun");
        if (run_as() <= 0) return built;
        // Removed when the test binary exits.
        static const struct TempDir {
            fs::path path;
            TempDir() {
                char tmpl[] = "/tmp/sbx-bin-XXXXXX";
                path = mkdtemp(tmpl);
                chmod(path.c_str(), 0755);
            }
            ~TempDir() {
                std::error_code ec;
                fs::remove_all(path, ec);
            }
        } dir;
        fs::copy_file(built, dir.path / "sandboxrun", fs::copy_options::overwrite_existing);
        return (dir.path / "sandboxrun").string();
    }();
    return path;
}
inline bool unprivileged() { return run_as() > 0 || geteuid() != 0; }
// Timing margins widen under full emulation (the cgroup v2 VM without KVM),
// where every instruction of setup and teardown costs several times more.
inline double slack() { return env_or("SBX_VM_ACCEL", "") == "tcg" ? 4.0 : 1.0; }

inline std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// A fresh working directory, owned by whoever runs sandboxrun, removed at the end.
class WorkDir {
public:
    WorkDir() {
        char tmpl[] = "/tmp/sbx-it-XXXXXX";
        path_ = mkdtemp(tmpl);
        // SBX_WORKDIR_MODE: where the work dir cannot be idmapped (tmpfs before
        // Linux 6.3, as in the VM test), let the run's own uid write there.
        chmod(path_.c_str(), static_cast<mode_t>(std::stoul(env_or("SBX_WORKDIR_MODE", "0755"), nullptr, 8)));
        if (run_as() > 0) [[maybe_unused]] int rc = chown(path_.c_str(), run_as(), run_as());
    }
    ~WorkDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    // Copies a built test program in, so the sandbox sees it at /box/NAME.
    void add_program(const std::string& name) const {
        fs::copy_file(fs::path(programs()) / name, path_ / name, fs::copy_options::overwrite_existing);
        own(path_ / name);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name) << text;
        own(path_ / name);
    }
    std::string read(const std::string& name) const { return read_file(path_ / name); }

private:
    static void own(const fs::path& p) {
        if (run_as() > 0) [[maybe_unused]] int rc = chown(p.c_str(), run_as(), run_as());
    }
    fs::path path_;
};

struct Result {
    int status = -1;          // exit status of sandboxrun (128+N if it died by a signal)
    std::string out, err;
    std::string report;       // the --report JSON
};

// In a forked child: become the unprivileged user the suite runs sandboxrun as
// (SBX_AS_USER), if any; exits the child when that fails.
inline void become_runner() {
    if (run_as() > 0 && (setgroups(0, nullptr) != 0 || setresgid(run_as(), run_as(), run_as()) != 0 ||
                         setresuid(run_as(), run_as(), run_as()) != 0))
        _exit(203);
}

// In a forked child: become the runner and exec `argv` (searched in PATH).
[[noreturn]] inline void exec_as_runner(std::vector<std::string> argv) {
    become_runner();
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execvp(cargv[0], cargv.data());
    _exit(204);
}

// A pseudo-terminal pair, close-on-exec (only what a test hands on reaches
// sandboxrun), closed when it goes; -1s where none could be opened.
struct Pty {
    int master = -1, slave = -1;
    Pty() {
        if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return;
        fcntl(master, F_SETFD, FD_CLOEXEC);
        fcntl(slave, F_SETFD, FD_CLOEXEC);
    }
    ~Pty() {
        if (master >= 0) close(master);
        if (slave >= 0) close(slave);
    }
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;
};

// Runs `body` in a forked child in a mount namespace of its own, where it may
// mount what a test needs (as a container would; nothing reaches the host's
// mounts). Returns the child's exit status: 0 when `body` returns, 77 where
// no such namespace can be made (not root) or when `body` exits 77 itself.
inline int in_own_mount_namespace(const std::function<void()>& body) {
    binary();   // the unprivileged copy is made here: the child's exit would leave it
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(77);
        body();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Runs `sandboxrun ARGS...` in `dir`, with a JSON report, under timeout.
// `prepare`, if given, runs in the child just before it becomes the runner
// and execs: it may replace fds 0-2 or change the session.
inline Result run(const WorkDir& dir, const std::vector<std::string>& args, int timeout_s = 60,
                  const std::string& stdin_text = {}, const std::function<void()>& prepare = {}) {
    Result r;
    fs::path out = dir.path() / ".out", err = dir.path() / ".err", in = dir.path() / ".in",
             report = dir.path() / ".report.json";
    std::ofstream(in) << stdin_text;
    std::vector<std::string> argv = {"timeout", "-s", "KILL", std::to_string(timeout_s), binary(),
                                     "--report", report.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        int i = open(in.c_str(), O_RDONLY), o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
            e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (i < 0 || o < 0 || e < 0) _exit(201);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        close(i);
        close(o);
        close(e);
        if (run_as() > 0 && (fchown(1, run_as(), run_as()) != 0 || fchown(2, run_as(), run_as()) != 0)) _exit(202);
        if (prepare) prepare();
        exec_as_runner(argv);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = read_file(out);
    r.err = read_file(err);
    r.report = read_file(report);
    for (const fs::path& p : {out, err, in, report}) fs::remove(p);
    return r;
}

// The value of "key" in a flat JSON object, as its raw text ("\"ok\"", "3", "null").
inline std::string json_field(const std::string& json, const std::string& key) {
    auto pos = json.find("\"" + key + "\":");
    if (pos == std::string::npos) return {};
    pos = json.find_first_not_of(' ', pos + key.size() + 3);
    auto end = pos;
    if (json[pos] == '"') {
        end = json.find('"', pos + 1) + 1;
    } else {
        int depth = 0;
        for (; end < json.size(); ++end) {
            char c = json[end];
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') {
                if (depth == 0) break;
                --depth;
            }
            if (c == ',' && depth == 0) break;
        }
    }
    return json.substr(pos, end - pos);
}

inline std::string verdict(const Result& r) {
    std::string v = json_field(r.report, "verdict");
    return v.size() >= 2 ? v.substr(1, v.size() - 2) : v;
}

// Lines of `text` that start with "key: ".
inline std::vector<std::string> values(const std::string& text, const std::string& key) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ": ", 0) == 0) out.push_back(line.substr(key.size() + 2));
    return out;
}

// Mount table of the host, for "nothing left behind" checks.
inline std::string host_mounts() { return read_file("/proc/self/mountinfo"); }

}  // namespace sbx
