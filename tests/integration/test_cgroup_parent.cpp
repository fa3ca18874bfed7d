// --cgroup-parent through the real binary (root only): the run's group is made
// beneath the parent and carries the limits, nothing is left there afterwards,
// `cleanup` sweeps it, and a parent that is no cgroup is refused. On cgroup v1
// the parent is a name made beneath our own cgroup in each hierarchy; on pure
// v2 a top-level cgroup (the root hands memory/pids/cpu down; any cgroup of
// ours holds processes and could not).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "harness.hpp"

using namespace sbx;

namespace {

bool is_run_id(const std::string& name) {
    return name.size() == 16 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::vector<std::string> run_groups_in(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        if (it->is_directory() && is_run_id(it->path().filename())) out.push_back(it->path().filename());
    return out;
}

// The parent made for one test: its --cgroup-parent value, the directory it
// is in each hierarchy, and which of them has the memory limit file.
class Parent {
public:
    Parent() {
        std::mt19937_64 rng{std::random_device{}()};
        char name[32];
        std::snprintf(name, sizeof name, "sbx-it-%012llx", static_cast<unsigned long long>(rng() >> 16));
        std::string v2_own;
        std::istringstream in(read_file("/proc/self/cgroup"));
        for (std::string line; std::getline(in, line);) {
            auto a = line.find(':'), b = line.find(':', a + 1);
            std::string ctrl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
            if (ctrl.empty()) v2_own = path;
            for (const char* c : {"memory", "pids", "cpuacct"})
                if (ctrl == c || ctrl.find(std::string(c) + ",") != std::string::npos ||
                    ctrl.find("," + std::string(c)) != std::string::npos) {
                    dirs_.push_back(fs::path("/sys/fs/cgroup") / ctrl / path.substr(1) / name);
                    if (std::string(c) == "memory") memory_file_ = dirs_.back() / "sandboxrun/%s/memory.limit_in_bytes";
                }
        }
        if (!dirs_.empty()) {
            value_ = name;  // v1: relative, beneath our own cgroup in each hierarchy
        } else if (read_file("/sys/fs/cgroup/cgroup.subtree_control").find("memory") != std::string::npos) {
            dirs_.push_back(fs::path("/sys/fs/cgroup") / name);
            value_ = dirs_.back().string();
            memory_file_ = dirs_.back() / "sandboxrun/%s/memory.max";
        }
        for (const auto& d : dirs_) REQUIRE(mkdir(d.c_str(), 0755) == 0);
    }
    ~Parent() {
        for (const auto& d : dirs_) {
            for (const auto& g : run_groups_in(d / "sandboxrun")) rmdir((d / "sandboxrun" / g).c_str());
            rmdir((d / "sandboxrun").c_str());
            rmdir(d.c_str());
        }
    }
    Parent(const Parent&) = delete;
    Parent& operator=(const Parent&) = delete;

    bool usable() const { return !value_.empty(); }
    const std::string& value() const { return value_; }
    const std::vector<fs::path>& dirs() const { return dirs_; }
    // The memory limit file of run `id`.
    fs::path memory_file(const std::string& id) const {
        std::string f = memory_file_.string();
        return f.replace(f.find("%s"), 2, id);
    }

private:
    std::string value_;
    std::vector<fs::path> dirs_;
    fs::path memory_file_;
};

bool skip_unless_root() {
    if (!unprivileged()) return false;
    WARN("skipped: --cgroup-parent tests need root");
    return true;
}

// Runs a 1.5 s sleeper with --memory 64MiB and `opts`, and watches the
// parent meanwhile: returns the run group seen there and its memory limit.
struct Seen {
    Result result;
    std::vector<std::string> groups;
    std::string memory_limit;
};
Seen run_and_watch(const Parent& parent, const std::vector<std::string>& opts) {
    WorkDir dir;
    dir.add_program("sleeper");
    std::vector<std::string> args = {"--profile", "c", "--memory", "64MiB"};
    args.insert(args.end(), opts.begin(), opts.end());
    args.insert(args.end(), {"--", "./sleeper", "1500"});
    Seen seen;
    std::thread runner([&] { seen.result = run(dir, args); });
    // The group appears before its limit is written: watch until both are there.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1400);
    while (seen.memory_limit != std::to_string(64 << 20) + "\n" && std::chrono::steady_clock::now() < deadline) {
        seen.groups = run_groups_in(parent.dirs().front() / "sandboxrun");
        if (seen.groups.size() == 1) seen.memory_limit = read_file(parent.memory_file(seen.groups[0]));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    runner.join();
    return seen;
}

void check_run(const Parent& parent, const Seen& seen) {
    INFO(seen.result.err << seen.result.report);
    CHECK(verdict(seen.result) == "ok");
    REQUIRE(seen.groups.size() == 1);
    CHECK(json_field(seen.result.report, "run_id") == "\"" + seen.groups[0] + "\"");
    CHECK(seen.memory_limit == std::to_string(64 << 20) + "\n");
    CHECK(seen.result.err.find("cgroup") == std::string::npos);  // no cgroup warning
    for (const auto& d : parent.dirs()) {
        CHECK(run_groups_in(d / "sandboxrun").empty());  // nothing left behind
        CHECK(fs::is_directory(d / "sandboxrun"));
    }
}

}  // namespace

TEST_CASE("--cgroup-parent puts the run's group there and leaves nothing", "[limits][cgroup-parent]") {
    if (skip_unless_root()) return;
    Parent parent;
    if (!parent.usable()) {
        WARN("skipped: no v1 memory hierarchy and no memory controller in the v2 root");
        return;
    }
    check_run(parent, run_and_watch(parent, {"--cgroup-parent", parent.value()}));
}

TEST_CASE("SANDBOXRUN_CGROUP_PARENT does the same", "[limits][cgroup-parent]") {
    if (skip_unless_root()) return;
    Parent parent;
    if (!parent.usable()) return;
    const char* before = std::getenv("SANDBOXRUN_CGROUP_PARENT");
    std::string saved = before ? before : "";
    setenv("SANDBOXRUN_CGROUP_PARENT", parent.value().c_str(), 1);
    Seen seen = run_and_watch(parent, {});
    if (before) setenv("SANDBOXRUN_CGROUP_PARENT", saved.c_str(), 1);
    else unsetenv("SANDBOXRUN_CGROUP_PARENT");
    check_run(parent, seen);
}

TEST_CASE("cleanup --cgroup-parent sweeps stale groups there; a bad parent is refused", "[cgroup-parent]") {
    if (skip_unless_root()) return;
    Parent parent;
    if (!parent.usable()) return;
    // A group nobody holds a lock on: what a SIGKILLed supervisor leaves.
    for (const auto& d : parent.dirs()) {
        REQUIRE(mkdir((d / "sandboxrun").c_str(), 0755) == 0);
        REQUIRE(mkdir((d / "sandboxrun/00000000deadbeef").c_str(), 0755) == 0);
    }
    WorkDir dir;
    // A user who cannot remove root's groups is told so, with a failing status.
    Result nobody = run(dir, {"cleanup", "--cgroup-parent", parent.value()}, 60, "", [] {
        if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(206);
    });
    INFO(nobody.err);
    CHECK(nobody.status == 1);
    CHECK(nobody.err.find("cannot remove") != std::string::npos);
    Result r = run(dir, {"cleanup", "--cgroup-parent", parent.value()});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "removed 1 stale cgroup(s)\n");
    for (const auto& d : parent.dirs()) CHECK_FALSE(fs::exists(d / "sandboxrun/00000000deadbeef"));

    dir.add_program("sleeper");
    r = run(dir, {"--cgroup-parent", "/proc", "--", "./sleeper", "10"});
    CHECK(r.status == 125);
    CHECK(r.err.find("cgroup parent \"/proc\": /proc is on no cgroup or cgroup2 mount") != std::string::npos);
}

TEST_CASE("a parent that holds the run below its limits is named in the warnings", "[limits][cgroup-parent]") {
    if (skip_unless_root()) return;
    Parent parent;
    if (!parent.usable()) return;
    // A judge's slice with MemoryMax=32M and TasksMax=10, the run asking for more.
    for (const auto& d : parent.dirs()) {
        for (const char* memory : {"memory.limit_in_bytes", "memory.max"})
            if (fs::exists(d / memory)) std::ofstream(d / memory) << (32 << 20);
        if (fs::exists(d / "pids.max")) std::ofstream(d / "pids.max") << 10;
    }
    WorkDir dir;
    Result r = run(dir, {"--profile", "c", "--memory", "64MiB", "--processes", "100", "--cgroup-parent", parent.value(),
                         "--", "/bin/true"});
    INFO(r.err << r.report);
    CHECK(verdict(r) == "ok");
    CHECK(r.report.find("holds the run (and what else is beneath it) to 33554432, below its limit of 67108864") != std::string::npos);
    CHECK(r.report.find("holds the run (and what else is beneath it) to 10, below its limit of 100") != std::string::npos);
    // Limits at or below the parent's: no warning.
    Result fits = run(dir, {"--profile", "c", "--memory", "16MiB", "--processes", "5", "--cgroup-parent", parent.value(),
                            "--", "/bin/true"});
    CHECK(fits.report.find("holds the run") == std::string::npos);
    // A run that alone fills the parent holding it below its limit is at its
    // limit, as far as it can tell: memory_limit, as at its own.
    dir.add_program("mem_eat");
    for (const char* memory : {"64MiB", "16MiB"}) {
        Result r = run(dir, {"--profile", "c", "--memory", memory, "--cgroup-parent", parent.value(), "--", "./mem_eat", "48"});
        INFO(memory << ": " << r.err << r.report);
        CHECK(verdict(r) == "memory_limit");
    }
}

TEST_CASE("an OOM kill by a cgroup above, the run below its own limit, is sandbox_error", "[limits][cgroup-parent]") {
    if (skip_unless_root()) return;
    Parent parent;
    if (!parent.usable()) return;
    // The parent holds 64 MiB for all it has; another tenant (a judge's other
    // run) holds 40 of them.
    fs::path memory_dir;
    for (const auto& d : parent.dirs())
        for (const char* memory : {"memory.limit_in_bytes", "memory.max"})
            if (fs::exists(d / memory)) {
                std::ofstream(d / memory) << (64 << 20);
                memory_dir = d;
            }
    REQUIRE(!memory_dir.empty());
    if (fs::exists(memory_dir / "cgroup.subtree_control")) std::ofstream(memory_dir / "cgroup.subtree_control") << "+memory";
    const fs::path tenant_dir = memory_dir / "tenant";
    REQUIRE(mkdir(tenant_dir.c_str(), 0755) == 0);
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t tenant = fork();
    if (tenant == 0) {
        std::ofstream(tenant_dir / "cgroup.procs") << getpid();
        std::vector<char> held(40 << 20, 1);
        [[maybe_unused]] ssize_t n = write(ready[1], "r", 1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    REQUIRE(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    WorkDir dir;
    dir.add_program("mem_eat");
    // The parent's OOM killer takes the run at ~24 MiB: not the program's
    // memory_limit (a judge runs a sandbox_error again). At its own 16 MiB
    // (16 + 40 fit in the parent) it is.
    Result outside = run(dir, {"--profile", "c", "--memory", "64MiB", "--cgroup-parent", parent.value(), "--", "./mem_eat", "48"});
    Result own = run(dir, {"--profile", "c", "--memory", "16MiB", "--cgroup-parent", parent.value(), "--", "./mem_eat", "48"});
    kill(tenant, SIGKILL);   // ours, by pid
    waitpid(tenant, nullptr, 0);
    rmdir(tenant_dir.c_str());
    INFO(outside.err << outside.report);
    CHECK(verdict(outside) == "sandbox_error");
    CHECK(outside.report.find("an OOM killer outside the run ended a task of it") != std::string::npos);
    INFO(own.err << own.report);
    CHECK(verdict(own) == "memory_limit");
}
