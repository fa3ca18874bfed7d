// Cgroups: parsers and version choice on fake trees (anyone), and real groups
// on this machine's hierarchies (root only; skipped with a warning otherwise).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "sandboxrun/cgroup_detail.hpp"
#include "sandboxrun/cgroups.hpp"

using namespace sandboxrun;
namespace cd = sandboxrun::cgroup_detail;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

std::string new_run_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

// A real group, or nullptr after a WARN saying why the test is skipped.
std::unique_ptr<Cgroup> real_group(const Limits& limits = {}) {
    if (::geteuid() != 0) {
        WARN("skipped: cgroup tests need root");
        return nullptr;
    }
    std::vector<std::string> warnings;
    auto cg = Cgroup::create(limits, new_run_id(), warnings);
    if (!cg) {
        std::string all;
        for (const auto& w : warnings) all += w + "\n";
        WARN("skipped: no cgroup could be made here: " << all);
    }
    return cg;
}

std::vector<std::string> dirs_of(const Cgroup& cg) {
    return dynamic_cast<const cd::GroupBase&>(cg).directories();
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// A forked child that runs `body` once go() is called (after it has been put
// in the group); killed and reaped if the test ends early.
class Child {
public:
    explicit Child(const std::function<int()>& body) {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::alarm(10);
            ::close(p[1]);
            char c;
            if (::read(p[0], &c, 1) != 1) ::_exit(99);
            ::_exit(body());
        }
        ::close(p[0]);
        go_ = p[1];
    }
    ~Child() {
        if (go_ >= 0) ::close(go_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void go() {
        char c = 1;
        REQUIRE(::write(go_, &c, 1) == 1);
        ::close(go_);
        go_ = -1;
    }
    int wait(rusage* ru = nullptr) {
        int status = 0;
        REQUIRE(::wait4(pid_, &status, 0, ru) == pid_);
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
};

int burn_cpu(std::chrono::milliseconds amount) {
    volatile std::uint64_t x = 0;
    timespec ts{};
    do {
        for (int i = 0; i < 100000; ++i) x = x + 1;
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < amount.count());
    return 0;
}

int touch_memory(std::uint64_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    for (std::uint64_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(p)[off] = 1;
    return 0;
}

// True once `pid` is dead (a zombie or reaped) within `budget`.
bool dies_within(pid_t pid, std::chrono::milliseconds budget) {
    auto deadline = std::chrono::steady_clock::now() + budget;
    do {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto paren = stat.rfind(')');
        if (!in || paren == std::string::npos || stat.substr(paren + 2, 1) == "Z") return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

std::uint64_t usec(const timeval& tv) { return static_cast<std::uint64_t>(tv.tv_sec) * 1000000 + tv.tv_usec; }

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/sandboxrun-cgtest-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p) << text;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

// ---- parsing and the version choice (no root needed) -------------------------

TEST_CASE("cgroup: mountinfo and /proc/self/cgroup are parsed", "[cgroups]") {
    auto mounts = cd::parse_mountinfo(
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
        "41 31 0:38 /ns/x /mnt/my\\040cg rw - cgroup2 cgroup2 rw,nsdelegate\n");
    REQUIRE(mounts.size() == 2);
    CHECK(mounts[0].mount_point == "/sys/fs/cgroup/cpu,cpuacct");
    CHECK(mounts[0].super_options == std::vector<std::string>{"rw", "cpu", "cpuacct"});
    CHECK(mounts[1].fstype == "cgroup2");
    CHECK(mounts[1].mount_point == "/mnt/my cg");
    CHECK(cd::dir_through(mounts[1], "/ns/x/a/b") == std::optional<std::string>("/mnt/my cg/a/b"));
    CHECK(cd::dir_through(mounts[1], "/ns/x") == std::optional<std::string>("/mnt/my cg"));
    CHECK_FALSE(cd::dir_through(mounts[1], "/ns/xy"));
    CHECK(cd::dir_through(mounts[0], "/") == std::optional<std::string>("/sys/fs/cgroup/cpu,cpuacct"));

    auto own = cd::parse_proc_cgroup("4:memory:/process_api/ab\n2:cpu,cpuacct:/\n0::/user.slice/a:b\n");
    REQUIRE(own.size() == 3);
    CHECK(own[1].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(own[2].hierarchy_id == "0");
    CHECK(own[2].controllers.empty());
    CHECK(own[2].path == "/user.slice/a:b");

    CHECK(cd::keyed_value("usage_usec 123\nuser_usec 100\n", "user_usec") == std::optional<std::uint64_t>(100));
    CHECK_FALSE(cd::keyed_value("oom 1\n", "oom_kill"));
}

TEST_CASE("cgroup: v2 is chosen only when it carries memory, pids and cpu", "[cgroups]") {
    TempDir t;
    fs::create_directories(t.path / "unified/user.slice");
    fs::create_directories(t.path / "memory/process_api/ab");
    fs::create_directories(t.path / "pids");
    std::string mountinfo = "41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n" +
                            "35 31 0:32 / " + (t.path / "memory").string() + " rw - cgroup cgroup rw,memory\n" +
                            "39 31 0:36 / " + (t.path / "pids").string() + " rw - cgroup cgroup rw,pids\n";
    std::string own = "8:pids:/\n4:memory:/process_api/ab\n0::/user.slice\n";

    write_text(t.path / "unified/user.slice/cgroup.controllers", "cpuset cpu io memory pids\n");
    auto layout = cd::discover(mountinfo, own);
    CHECK(layout.v2_own_dir == std::optional<std::string>((t.path / "unified/user.slice").string()));
    CHECK(cd::choose(layout) == cd::Version::v2);

    // Hybrid like this machine: the cgroup2 mount has no controllers.
    write_text(t.path / "unified/user.slice/cgroup.controllers", "");
    layout = cd::discover(mountinfo, own);
    CHECK(cd::choose(layout) == cd::Version::v1);
    REQUIRE(layout.v1.size() == 2);
    CHECK(layout.v1[0].controllers == std::vector<std::string>{"memory"});
    CHECK(layout.v1[0].own_dir == (t.path / "memory/process_api/ab").string());
    CHECK(layout.v1[1].own_dir == (t.path / "pids").string());

    // Pure v2 with cpu not delegated: still v2, the only hierarchy there is.
    write_text(t.path / "unified/user.slice/cgroup.controllers", "memory pids\n");
    layout = cd::discover("41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n", own);
    CHECK(cd::choose(layout) == cd::Version::v2);
}

TEST_CASE("cgroup: v2 setup enables controllers and records limits it cannot set", "[cgroups]") {
    TempDir t;
    std::string own = (t.path / "own").string();
    fs::create_directories(t.path / "own/sandboxrun");
    Limits limits;
    limits.memory = 64 * MiB;
    limits.processes = 5;
    std::vector<std::string> warnings;

    // No cgroup.subtree_control in own: the warning names the directory and errno.
    CHECK(cd::create_v2(own, {"memory", "pids", "cpu"}, limits, "0123456789abcdef", warnings) == nullptr);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0] == "cgroup v2: cannot enable controllers in " + own +
                             ": No such file or directory; run sandboxrun from a delegated cgroup "
                             "(systemd Delegate=yes) to get memory/pids/cpu limits");

    write_text(t.path / "own/cgroup.subtree_control", "");
    write_text(t.path / "own/sandboxrun/cgroup.subtree_control", "memory\n");
    warnings.clear();
    auto cg = cd::create_v2(own, {"memory", "pids", "cpu"}, limits, "0123456789abcdef", warnings);
    REQUIRE(cg);
    CHECK(warnings.empty());
    CHECK(read_text(t.path / "own/cgroup.subtree_control") == "+memory +pids +cpu");
    CHECK(read_text(t.path / "own/sandboxrun/cgroup.subtree_control").rfind("+pids +cpu", 0) == 0);
    std::string dir = own + "/sandboxrun/0123456789abcdef";
    CHECK(cg->describe() == "v2: " + dir);
    // A plain directory has no memory.max: recorded, not fatal.
    CHECK(cg->unapplied() == std::vector<std::string>{"memory: cannot write memory.max: No such file or directory",
                                                      "processes: cannot write pids.max: No such file or directory"});
    CHECK(exists(dir));
    cg.reset();
    CHECK_FALSE(exists(dir));
    CHECK(exists(own + "/sandboxrun"));  // the shared parent stays
}

TEST_CASE("cgroup: a sweep removes unlocked groups and keeps locked ones", "[cgroups]") {
    TempDir t;
    fs::create_directories(t.path / "sandboxrun/dead/child");
    fs::create_directories(t.path / "sandboxrun/live");
    int held = ::open((t.path / "sandboxrun/live").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(held >= 0);
    REQUIRE(::flock(held, LOCK_EX) == 0);
    auto removed = cd::sweep((t.path / "sandboxrun").string(), true);
    CHECK(removed == std::vector<std::string>{"dead"});
    CHECK_FALSE(exists((t.path / "sandboxrun/dead").string()));
    CHECK(exists((t.path / "sandboxrun/live").string()));
    ::close(held);  // the owner dies
    CHECK(cd::sweep((t.path / "sandboxrun").string(), false) == std::vector<std::string>{"live"});
    CHECK_FALSE(exists((t.path / "sandboxrun/live").string()));
}

// ---- real groups ------------------------------------------------------------------

TEST_CASE("cgroup: CPU time of the group matches the child's rusage", "[cgroups][root]") {
    auto cg = real_group();
    if (!cg) return;
    INFO(cg->describe());
    Child child([] { return burn_cpu(std::chrono::milliseconds(300)); });
    cg->add_process(child.pid());
    child.go();
    rusage ru{};
    int status = child.wait(&ru);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    std::uint64_t rusage_usec = usec(ru.ru_utime) + usec(ru.ru_stime);
    auto u = cg->usage();
    REQUIRE(u.cpu_usec);
    CHECK(*u.cpu_usec >= 300000);
    CHECK(std::max(*u.cpu_usec, rusage_usec) - std::min(*u.cpu_usec, rusage_usec) < 5000);
    CHECK(cg->cpu_usec() == u.cpu_usec);
    REQUIRE(u.user_usec);
    REQUIRE(u.system_usec);
    CHECK(*u.user_usec + *u.system_usec == *u.cpu_usec);
    CHECK(*u.user_usec > 200000);  // a busy loop is user time
    CHECK_FALSE(u.oom_killed);
    CHECK_FALSE(u.pids_limit_hit);
}

TEST_CASE("cgroup: memory peak of a child touching 100 MiB", "[cgroups][root]") {
    auto cg = real_group();
    if (!cg) return;
    Child child([] { return touch_memory(100 * MiB); });
    cg->add_process(child.pid());
    child.go();
    int status = child.wait();
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto u = cg->usage();
    REQUIRE(u.memory_peak);
    INFO("peak " << *u.memory_peak / 1024 << " KiB");
    CHECK(*u.memory_peak >= 100 * MiB);
    CHECK(*u.memory_peak <= 110 * MiB);
    CHECK_FALSE(u.oom_killed);
}

TEST_CASE("cgroup: memory limit OOM-kills and is reported", "[cgroups][root]") {
    Limits limits;
    limits.memory = 64 * MiB;
    auto cg = real_group(limits);
    if (!cg) return;
    REQUIRE(cg->unapplied().empty());
    Child child([] { return touch_memory(200 * MiB); });
    cg->add_process(child.pid());
    child.go();
    int status = child.wait();
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    auto u = cg->usage();
    CHECK(u.oom_killed);
    REQUIRE(u.memory_peak);
    CHECK(*u.memory_peak <= 64 * MiB);
}

TEST_CASE("cgroup: process limit makes forks fail and is reported", "[cgroups][root]") {
    Limits limits;
    limits.processes = 5;
    auto cg = real_group(limits);
    if (!cg) return;
    REQUIRE(cg->unapplied().empty());
    Child child([] {
        int forked = 0;
        for (int i = 0; i < 20; ++i) {
            pid_t p = ::fork();
            if (p == 0) {
                ::alarm(10);
                ::pause();
                ::_exit(0);
            }
            if (p > 0) ++forked;
        }
        return forked;
    });
    cg->add_process(child.pid());
    child.go();
    int status = child.wait();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 4);  // the child itself is the fifth task
    CHECK(cg->usage().pids_limit_hit);
    cg->kill_all();
    for (const auto& d : dirs_of(*cg)) CHECK(cd::read_file(d + "/cgroup.procs") == std::optional<std::string>(""));
}

TEST_CASE("cgroup: kill_all reaches a setsid'd double-forked grandchild", "[cgroups][root]") {
    auto cg = real_group();
    if (!cg) return;
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    Child child([w = p[1]] {
        pid_t mid = ::fork();
        if (mid == 0) {
            ::setsid();
            if (::fork() == 0) {
                ::alarm(10);
                pid_t self = ::getpid();
                if (::write(w, &self, sizeof self) != sizeof self) ::_exit(1);
                ::pause();
            }
            ::_exit(0);
        }
        ::waitpid(mid, nullptr, 0);
        ::pause();
        return 0;
    });
    ::close(p[1]);
    cg->add_process(child.pid());
    child.go();
    pid_t grandchild = 0;
    REQUIRE(::read(p[0], &grandchild, sizeof grandchild) == sizeof grandchild);
    ::close(p[0]);
    REQUIRE(grandchild > 0);
    REQUIRE_FALSE(dies_within(grandchild, std::chrono::milliseconds(50)));  // alive before kill_all

    cg->kill_all();
    CHECK(dies_within(grandchild, std::chrono::milliseconds(1000)));
    int status = child.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("cgroup: destruction kills what is left and removes the group", "[cgroups][root]") {
    auto cg = real_group();
    if (!cg) return;
    auto dirs = dirs_of(*cg);
    REQUIRE_FALSE(dirs.empty());
    for (const auto& d : dirs) CHECK(exists(d));
    Child child([] { return ::pause(); });
    cg->add_process(child.pid());
    child.go();
    cg.reset();
    for (const auto& d : dirs) CHECK_FALSE(exists(d));
    int status = child.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("cgroup: 20 groups made at once are distinct", "[cgroups][root]") {
    if (!real_group()) return;
    std::vector<std::unique_ptr<Cgroup>> groups(20);
    std::vector<std::thread> threads;
    for (auto& g : groups)
        threads.emplace_back([&g] {
            std::vector<std::string> warnings;
            g = Cgroup::create({}, new_run_id(), warnings);
        });
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    std::vector<std::string> listed;
    for (const auto& g : groups) {
        REQUIRE(g);
        for (const auto& d : dirs_of(*g)) {
            CHECK(exists(d));
            all.insert(d);
            listed.push_back(d);
        }
    }
    CHECK(all.size() == listed.size());
    CHECK(all.size() >= 20);
    groups.clear();
    for (const auto& d : listed) CHECK_FALSE(exists(d));
}

TEST_CASE("cgroup: stale groups of a dead supervisor are cleaned up, live ones kept", "[cgroups][root]") {
    auto live = real_group();
    if (!live) return;
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    // The "supervisor" makes a group, puts an exec'd process in it and dies
    // without destroying anything.
    Child supervisor([w = p[1]] {
        std::vector<std::string> warnings;
        auto cg = Cgroup::create({}, new_run_id(), warnings);
        if (!cg) std::_Exit(1);
        pid_t sleeper = ::fork();
        if (sleeper == 0) {
            ::alarm(10);
            ::execl("/bin/sleep", "sleep", "10", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        cg->add_process(sleeper);
        std::string msg = std::to_string(sleeper);
        for (const auto& d : dynamic_cast<const cd::GroupBase&>(*cg).directories()) msg += "\n" + d;
        if (::write(w, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) std::_Exit(1);
        std::_Exit(0);  // no destructor runs: the group is left behind, unlocked
        return 0;
    });
    ::close(p[1]);
    supervisor.go();
    int status = supervisor.wait();
    std::string msg;
    char buf[4096];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto lines = cd::words(msg);
    REQUIRE(lines.size() >= 2);
    pid_t sleeper = std::stoi(lines[0]);
    std::vector<std::string> stale(lines.begin() + 1, lines.end());
    struct Guard {  // removes the stale groups even when a check below fails
        std::vector<std::string> dirs;
        ~Guard() { for (const auto& d : dirs) cd::destroy_group(d); }
    } guard{stale};
    bool alive = !dies_within(sleeper, std::chrono::milliseconds(0));
    bool still_there = std::all_of(stale.begin(), stale.end(), exists);

    int removed = cleanup_stale_cgroups();
    // A concurrent sandboxrun may sweep it first, which is correct too; the
    // count itself is checked race-free on a fake tree below.
    if (!alive || !still_there || removed == 0) WARN("the stale group was swept by a concurrent sandboxrun");
    for (const auto& d : stale) CHECK_FALSE(exists(d));
    CHECK(dies_within(sleeper, std::chrono::milliseconds(1000)));
    for (const auto& d : dirs_of(*live)) CHECK(exists(d));  // its lock is held: not stale
}

TEST_CASE("cgroup: the v2 code on this machine's cgroup2 mount without controllers", "[cgroups][root]") {
    if (::geteuid() != 0) {
        WARN("skipped: cgroup tests need root");
        return;
    }
    auto layout = cd::discover(cd::read_file("/proc/self/mountinfo").value_or(""),
                               cd::read_file("/proc/self/cgroup").value_or(""));
    auto& c = layout.v2_controllers;
    if (!layout.v2_own_dir || std::any_of(c.begin(), c.end(), [](const std::string& s) {
            return s == "memory" || s == "pids" || s == "cpu";
        })) {
        WARN("skipped: needs a cgroup2 mount without memory/pids/cpu (a hybrid system)");
        return;
    }
    // None of memory/pids/cpu is available, so nothing is written to subtree_control.
    Limits limits;
    limits.memory = 64 * MiB;
    std::vector<std::string> warnings;
    auto cg = cd::create_v2(*layout.v2_own_dir, layout.v2_controllers, limits, new_run_id(), warnings);
    REQUIRE(cg);
    CHECK(cg->unapplied() ==
          std::vector<std::string>{"memory: the memory controller is not available in " + *layout.v2_own_dir});
    Child burner([] { return burn_cpu(std::chrono::milliseconds(100)); });
    cg->add_process(burner.pid());
    burner.go();
    rusage ru{};
    REQUIRE(WIFEXITED(burner.wait(&ru)));
    auto cpu = cg->cpu_usec();  // cpu.stat's usage_usec exists without the cpu controller
    REQUIRE(cpu);
    std::uint64_t rusage_usec = usec(ru.ru_utime) + usec(ru.ru_stime);
    CHECK(std::max(*cpu, rusage_usec) - std::min(*cpu, rusage_usec) < 5000);

    Child sleeper([] { return ::pause(); });
    cg->add_process(sleeper.pid());
    sleeper.go();
    cg->kill_all();  // cgroup.kill
    int status = sleeper.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    std::string dir = dirs_of(*cg).at(0);
    cg.reset();
    CHECK_FALSE(exists(dir));
}
