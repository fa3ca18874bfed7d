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

#include "temp_dir.hpp"
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

    // Waits for a child that reports on pipe `fd` (its write end already
    // closed here) and exited 0; returns what it wrote.
    std::string wait_for_report(int fd) {
        int status = wait();
        std::string msg;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
        return msg;
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
        // Gone, a zombie, or gone between open and read (ESRCH): dead.
        int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return true;
        char buf[1024];
        ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        if (n <= 0) return true;
        std::string stat(buf, static_cast<std::size_t>(n));
        auto paren = stat.rfind(')');
        if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z') return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

std::uint64_t usec(const timeval& tv) { return static_cast<std::uint64_t>(tv.tv_sec) * 1000000 + tv.tv_usec; }


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
    TempDir t("sandboxrun-cgtest");
    fs::create_directories(t.path / "unified/user.slice");
    fs::create_directories(t.path / "memory/process_api/ab");
    fs::create_directories(t.path / "pids");
    std::string mountinfo = "41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n" +
                            "35 31 0:32 / " + (t.path / "memory").string() + " rw - cgroup cgroup rw,memory\n" +
                            "39 31 0:36 / " + (t.path / "pids").string() + " rw - cgroup cgroup rw,pids\n";
    std::string own = "8:pids:/\n4:memory:/process_api/ab\n0::/user.slice\n";

    write_text(t.path / "unified/user.slice/cgroup.controllers", "cpuset cpu io memory pids\n");
    auto layout = cd::discover(mountinfo, own);
    CHECK(layout.v2_parent_dir == std::optional<std::string>((t.path / "unified/user.slice").string()));
    CHECK(layout.v2_is_own);
    CHECK(cd::choose(layout) == cd::Version::v2);

    // Hybrid like this machine: the cgroup2 mount has no controllers.
    write_text(t.path / "unified/user.slice/cgroup.controllers", "");
    layout = cd::discover(mountinfo, own);
    CHECK(cd::choose(layout) == cd::Version::v1);
    REQUIRE(layout.v1.size() == 2);
    CHECK(layout.v1[0].controllers == std::vector<std::string>{"memory"});
    CHECK(layout.v1[0].parent_dir == (t.path / "memory/process_api/ab").string());
    CHECK(layout.v1[1].parent_dir == (t.path / "pids").string());

    // Pure v2 with cpu not delegated: still v2, the only hierarchy there is.
    write_text(t.path / "unified/user.slice/cgroup.controllers", "memory pids\n");
    layout = cd::discover("41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n", own);
    CHECK(cd::choose(layout) == cd::Version::v2);
}

TEST_CASE("cgroup: v2 setup enables controllers and records limits it cannot set", "[cgroups]") {
    TempDir t("sandboxrun-cgtest");
    std::string own = (t.path / "own").string();
    fs::create_directories(t.path / "own/sandboxrun");
    Limits limits;
    limits.memory = 64 * MiB;
    limits.processes = 5;
    std::vector<std::string> warnings;

    // No cgroup.subtree_control in own: the warning names the directory and errno.
    CHECK(cd::create_v2(own, false, {"memory", "pids", "cpu"}, limits, "0123456789abcdef", warnings) == nullptr);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].rfind("cgroup v2: cannot enable controllers in " + own +
                                "/cgroup.subtree_control: No such file or directory; for memory/pids/cpu limits "
                                "pass --cgroup-parent DIR",
                            0) == 0);

    write_text(t.path / "own/cgroup.subtree_control", "");
    write_text(t.path / "own/sandboxrun/cgroup.subtree_control", "memory\n");
    warnings.clear();
    auto cg = cd::create_v2(own, false, {"memory", "pids", "cpu"}, limits, "0123456789abcdef", warnings);
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
    TempDir t("sandboxrun-cgtest");
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

// ---- --cgroup-parent and the v2 leaf (fake trees, no root needed) -------------

TEST_CASE("cgroup: a process in the leaf makes runs in the cgroup above it", "[cgroups]") {
    TempDir t("sandboxrun-cgtest");
    fs::create_directories(t.path / "unified/judge/sandboxrun-supervisor");
    std::string mountinfo = "41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n";
    auto layout = cd::discover(mountinfo, "0::/judge/sandboxrun-supervisor\n");
    CHECK(layout.v2_parent_dir == std::optional<std::string>((t.path / "unified/judge").string()));
    CHECK_FALSE(layout.v2_is_own);  // we are not in it: nothing to leave
    layout = cd::discover(mountinfo, "0::/judge\n");
    CHECK(layout.v2_parent_dir == std::optional<std::string>((t.path / "unified/judge").string()));
    CHECK(layout.v2_is_own);
    layout = cd::discover(mountinfo, "0::/sandboxrun-supervisor\n");
    CHECK(layout.v2_parent_dir == std::optional<std::string>((t.path / "unified").string()));
}

TEST_CASE("cgroup: --cgroup-parent is resolved on v2, v1 and relative to our own cgroups", "[cgroups]") {
    TempDir t("sandboxrun-cgtest");
    for (const char* d : {"unified/user.slice", "unified/judge", "memory/process_api/ab/box", "memory/judge",
                          "pids/box", "other/judge"})
        fs::create_directories(t.path / d);
    fs::create_directory_symlink(t.path / "memory", t.path / "memlink");
    write_text(t.path / "unified/judge/cgroup.controllers", "cpu memory pids\n");
    std::string mountinfo = "41 31 0:38 / " + (t.path / "unified").string() + " rw - cgroup2 cgroup2 rw\n" +
                            "35 31 0:32 / " + (t.path / "memory").string() + " rw - cgroup cgroup rw,memory\n" +
                            "39 31 0:36 / " + (t.path / "pids").string() + " rw - cgroup cgroup rw,pids\n";
    auto own = cd::discover(mountinfo, "8:pids:/\n4:memory:/process_api/ab\n0::/user.slice\n");
    REQUIRE(cd::choose(own) == cd::Version::v1);  // a hybrid host

    // A cgroup2 directory: v2 there, even on a hybrid host; never "ours" to leave.
    auto p = cd::with_parent(own, mountinfo, (t.path / "unified/judge").string());
    CHECK(cd::choose(p) == cd::Version::v2);
    CHECK(p.v2_parent_dir == std::optional<std::string>((t.path / "unified/judge").string()));
    CHECK_FALSE(p.v2_is_own);
    CHECK(p.v1.empty());
    CHECK(cd::base_dirs(p) == std::vector<std::string>{(t.path / "unified/judge/sandboxrun").string()});

    // A v1 directory (through a symlink): the same cgroup path in every hierarchy.
    CHECK_THROWS_WITH(cd::with_parent(own, mountinfo, (t.path / "memlink/judge").string()),
                      Catch::Contains((t.path / "pids/judge").string() + " does not exist"));
    fs::create_directories(t.path / "pids/judge");
    p = cd::with_parent(own, mountinfo, (t.path / "memlink/judge").string());
    CHECK(cd::choose(p) == cd::Version::v1);
    CHECK_FALSE(p.v2_parent_dir);
    CHECK(cd::base_dirs(p) == std::vector<std::string>{(t.path / "memory/judge/sandboxrun").string(),
                                                       (t.path / "pids/judge/sandboxrun").string()});

    // Relative: beneath our own cgroup in each hierarchy.
    p = cd::with_parent(own, mountinfo, "box");
    CHECK(cd::base_dirs(p) == std::vector<std::string>{(t.path / "memory/process_api/ab/box/sandboxrun").string(),
                                                       (t.path / "pids/box/sandboxrun").string()});
    CHECK_THROWS_WITH(cd::with_parent(own, mountinfo, "nothere"), Catch::Contains("does not exist"));
    CHECK_THROWS_WITH(cd::with_parent(own, mountinfo, "box/../.."), Catch::Contains("would leave our own cgroup"));

    // Not a cgroup directory at all.
    CHECK_THROWS_WITH(cd::with_parent(own, mountinfo, (t.path / "other/judge").string()),
                      Catch::Contains("is on no cgroup or cgroup2 mount"));
    CHECK_THROWS_WITH(cd::with_parent(own, mountinfo, (t.path / "unified/nothere").string()),
                      Catch::Contains("No such file or directory"));
    CHECK_THROWS(cd::with_parent(own, mountinfo, ""));
}

TEST_CASE("cgroup: v2 leaves its own cgroup for the leaf only when it is alone there", "[cgroups]") {
    TempDir t("sandboxrun-cgtest");
    std::string own = (t.path / "own").string(), leaf = own + "/sandboxrun-supervisor";
    fs::create_directories(t.path / "own");
    pid_t self = ::getpid();

    write_text(t.path / "own/cgroup.procs", "4242\n" + std::to_string(self) + "\n4343\n");
    std::string why = cd::leave_own_cgroup(own, self);
    CHECK_THAT(why, Catch::StartsWith("cgroup v2: cannot use " + own + " for run groups: its cgroup.procs lists 2 "
                                      "process(es) besides sandboxrun (pid " + std::to_string(self) + "): 4242 4343"));
    CHECK_THAT(why, Catch::Contains("--cgroup-parent") && Catch::Contains("Delegate=yes"));
    CHECK_FALSE(exists(leaf));

    write_text(t.path / "own/cgroup.procs", std::to_string(self) + "\n");
    CHECK_THAT(cd::leave_own_cgroup(own, self),  // a plain directory has no cgroup.procs to write
               Catch::Contains("cannot move sandboxrun (pid " + std::to_string(self) + ") by writing " + leaf +
                               "/cgroup.procs: No such file or directory"));
    write_text(leaf + "/cgroup.procs", "");  // the file the kernel makes with the cgroup
    CHECK(cd::leave_own_cgroup(own, self) == "");
    CHECK(read_text(leaf + "/cgroup.procs") == std::to_string(self));

    // Already moved (a second create in the same process): nothing to do.
    fs::remove_all(leaf);
    write_text(t.path / "own/cgroup.procs", "");
    CHECK(cd::leave_own_cgroup(own, self) == "");
    CHECK_FALSE(exists(leaf));
}

TEST_CASE("cgroup: v2 setup moves into the leaf before enabling controllers, not in the root", "[cgroups]") {
    TempDir t("sandboxrun-cgtest");
    std::string own = (t.path / "own").string();
    fs::create_directories(t.path / "own/sandboxrun");
    write_text(t.path / "own/cgroup.subtree_control", "");
    write_text(t.path / "own/sandboxrun/cgroup.subtree_control", "");
    std::string self = std::to_string(::getpid());
    write_text(t.path / "own/cgroup.procs", self + "\n");
    std::vector<std::string> warnings;

    // The real root (no cgroup.type) may keep processes: no leaf.
    auto cg = cd::create_v2(own, true, {"memory", "pids", "cpu"}, {}, "0123456789abcdef", warnings);
    REQUIRE(cg);
    CHECK_FALSE(exists(own + "/sandboxrun-supervisor"));
    cg.reset();

    write_text(t.path / "own/cgroup.type", "domain\n");
    write_text(t.path / "own/cgroup.subtree_control", "");
    fs::create_directory(own + "/sandboxrun-supervisor");
    write_text(own + "/sandboxrun-supervisor/cgroup.procs", "");  // as the kernel makes it
    // Not ours (an explicit parent): never moved out of, whatever it holds.
    cg = cd::create_v2(own, false, {"memory", "pids", "cpu"}, {}, "0123456789abcdef", warnings);
    REQUIRE(cg);
    CHECK(read_text(own + "/sandboxrun-supervisor/cgroup.procs") == "");
    cg.reset();

    write_text(t.path / "own/cgroup.subtree_control", "");
    cg = cd::create_v2(own, true, {"memory", "pids", "cpu"}, {}, "0123456789abcdef", warnings);
    REQUIRE(cg);
    CHECK(warnings.empty());
    CHECK(read_text(own + "/sandboxrun-supervisor/cgroup.procs") == self);
    CHECK(read_text(own + "/cgroup.subtree_control") == "+memory +pids +cpu");
    cg.reset();

    // Someone else is in it: no cgroup, and the warning says what to do.
    write_text(own + "/sandboxrun-supervisor/cgroup.procs", "");
    write_text(t.path / "own/cgroup.subtree_control", "");
    write_text(t.path / "own/cgroup.procs", self + "\n1\n");
    CHECK(cd::create_v2(own, true, {"memory", "pids", "cpu"}, {}, "0123456789abcdef", warnings) == nullptr);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("its cgroup.procs lists 1 process(es) besides sandboxrun"));
    CHECK(read_text(own + "/sandboxrun-supervisor/cgroup.procs") == "");
    CHECK_FALSE(exists(own + "/sandboxrun/0123456789abcdef"));
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
    // The child burns 300 ms by its own clock, a little of it before it
    // joined the group; under full emulation (the cgroup v2 VM without KVM)
    // those few instructions cost several times more.
    const char* accel = std::getenv("SBX_VM_ACCEL");
    const std::uint64_t margin = accel && std::string(accel) == "tcg" ? 20000 : 5000;
    CHECK(*u.cpu_usec >= 300000 - margin);
    CHECK(std::max(*u.cpu_usec, rusage_usec) - std::min(*u.cpu_usec, rusage_usec) < margin);
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
    CHECK(WEXITSTATUS(status) == 5);  // the child stands for the run's init, which the limit leaves out
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

namespace {

// What a killed supervisor leaves: its group directories and, if asked for,
// the pid of a process still running in them.
struct StaleGroup {
    pid_t sleeper = -1;
    std::vector<std::string> dirs;
};

// Forks a "supervisor" that makes a group beneath `parent` (beneath our own
// cgroup when none), optionally puts an exec'd sleeper in it, and dies
// without removing anything.
StaleGroup leave_stale_group(const std::optional<std::string>& parent, bool with_sleeper) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    // The id is drawn here: a forked child would repeat our next new_run_id().
    Child supervisor([w = p[1], parent, with_sleeper, id = new_run_id()] {
        std::vector<std::string> warnings;
        auto cg = Cgroup::create({}, id, warnings, parent);
        if (!cg) std::_Exit(1);
        pid_t sleeper = -1;
        if (with_sleeper) {
            sleeper = ::fork();
            if (sleeper == 0) {
                ::alarm(10);
                ::execl("/bin/sleep", "sleep", "10", static_cast<char*>(nullptr));
                ::_exit(127);
            }
            cg->add_process(sleeper);
        }
        std::string msg = std::to_string(sleeper);
        for (const auto& d : dynamic_cast<const cd::GroupBase&>(*cg).directories()) msg += "\n" + d;
        if (::write(w, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) std::_Exit(1);
        std::_Exit(0);  // no destructor runs: the group is left behind, unlocked
        return 0;
    });
    ::close(p[1]);
    supervisor.go();
    std::string msg = supervisor.wait_for_report(p[0]);
    auto lines = cd::words(msg);
    REQUIRE(lines.size() >= 2);
    return {std::stoi(lines[0]), {lines.begin() + 1, lines.end()}};
}

}  // namespace

TEST_CASE("cgroup: stale groups of a dead supervisor are cleaned up, live ones kept", "[cgroups][root]") {
    auto live = real_group();
    if (!live) return;
    auto [sleeper, stale] = leave_stale_group(std::nullopt, true);
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
    if (!layout.v2_parent_dir || std::any_of(c.begin(), c.end(), [](const std::string& s) {
            return s == "memory" || s == "pids" || s == "cpu";
        })) {
        WARN("skipped: needs a cgroup2 mount without memory/pids/cpu (a hybrid system)");
        return;
    }
    // None of memory/pids/cpu is available, so nothing is written to subtree_control.
    Limits limits;
    limits.memory = 64 * MiB;
    std::vector<std::string> warnings;
    auto cg = cd::create_v2(*layout.v2_parent_dir, false, layout.v2_controllers, limits, new_run_id(), warnings);
    REQUIRE(cg);
    CHECK(cg->unapplied() ==
          std::vector<std::string>{"memory: the memory controller is not available in " + *layout.v2_parent_dir});
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

// ---- --cgroup-parent on this machine's hierarchies (root) -------------------------

namespace {

// A parent made for the test beneath our own cgroup in each v1 hierarchy, so
// that "--cgroup-parent NAME" (relative) names it; removed at the end.
class TestParent {
public:
    TestParent() : name_("sbxtest-parent-" + new_run_id()) {
        if (::geteuid() != 0) {
            WARN("skipped: cgroup tests need root");
            return;
        }
        auto layout = cd::discover(cd::read_file("/proc/self/mountinfo").value_or(""),
                                   cd::read_file("/proc/self/cgroup").value_or(""));
        if (cd::choose(layout) != cd::Version::v1) {
            WARN("skipped: needs cgroup v1 (the v2 parent is covered by the VM and the fake trees)");
            return;
        }
        layout_ = layout;
        for (const auto& h : layout.v1) {
            dirs_.push_back(h.parent_dir + "/" + name_);
            REQUIRE(::mkdir(dirs_.back().c_str(), 0755) == 0);
        }
    }
    ~TestParent() {
        for (const auto& d : dirs_) {
            for (const auto& run : cd::sweep(d + "/sandboxrun", true)) WARN("left behind: " << d << "/" << run);
            ::rmdir((d + "/sandboxrun").c_str());
            ::rmdir(d.c_str());
        }
    }
    TestParent(const TestParent&) = delete;
    TestParent& operator=(const TestParent&) = delete;

    bool usable() const { return !dirs_.empty(); }
    const std::string& name() const { return name_; }
    const std::vector<std::string>& dirs() const { return dirs_; }
    const cd::Layout& layout() const { return layout_; }

private:
    std::string name_;
    std::vector<std::string> dirs_;
    cd::Layout layout_;
};

// Child groups of `dir`.
std::vector<std::string> groups_in(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        if (it->is_directory()) out.push_back(it->path().filename());
    return out;
}

}  // namespace

TEST_CASE("cgroup: v1 groups go beneath a relative --cgroup-parent and are removed", "[cgroups][root]") {
    TestParent parent;
    if (!parent.usable()) return;
    Limits limits;
    limits.memory = 64 * MiB;
    limits.processes = 7;
    std::vector<std::string> warnings;
    std::string id = new_run_id();
    auto cg = Cgroup::create(limits, id, warnings, parent.name());
    REQUIRE(cg);
    CHECK(warnings.empty());
    CHECK(cg->unapplied().empty());
    auto dirs = dirs_of(*cg);
    REQUIRE(dirs.size() == parent.dirs().size());
    for (std::size_t i = 0; i < dirs.size(); ++i) CHECK(dirs[i] == parent.dirs()[i] + "/sandboxrun/" + id);
    bool memory_seen = false;
    for (const auto& d : dirs)
        if (auto v = cd::read_number(d + "/memory.limit_in_bytes")) {
            CHECK(*v == 64 * MiB);
            memory_seen = true;
        }
    CHECK(memory_seen);

    Child child([] { return touch_memory(200 * MiB); });  // the limit holds there
    cg->add_process(child.pid());
    child.go();
    int status = child.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(cg->usage().oom_killed);

    cg.reset();
    for (const auto& d : parent.dirs()) {
        CHECK(groups_in(d + "/sandboxrun").empty());
        CHECK(exists(d + "/sandboxrun"));  // the shared parent stays
    }
}

TEST_CASE("cgroup: an absolute v1 --cgroup-parent needs the same cgroup path in every hierarchy", "[cgroups][root]") {
    TestParent parent;
    if (!parent.usable()) return;
    // Its cgroup path, as seen in the first hierarchy; the others have it too
    // only when our own v1 cgroups have the same path everywhere.
    const auto& first = parent.layout().v1.front().mount;
    std::string path = parent.dirs().front();
    std::string cgroup = (first.root == "/" ? "" : first.root) + path.substr(first.mount_point.size());
    std::string missing;  // the first hierarchy without it
    for (const auto& h : parent.layout().v1) {
        auto dir = cd::dir_through(h.mount, cgroup);
        if (missing.empty() && (!dir || !exists(*dir))) missing = dir.value_or(h.mount.mount_point);
    }
    bool everywhere = missing.empty();
    std::vector<std::string> warnings;
    std::string id = new_run_id();
    if (everywhere) {
        auto cg = Cgroup::create({}, id, warnings, path);
        REQUIRE(cg);
        auto dirs = dirs_of(*cg);
        for (std::size_t i = 0; i < dirs.size(); ++i) CHECK(dirs[i] == parent.dirs()[i] + "/sandboxrun/" + id);
    } else {
        INFO("own v1 cgroups differ between hierarchies; " << missing << " is missing");
        CHECK_THROWS_WITH(Cgroup::create({}, id, warnings, path), Catch::Contains(missing + " does not exist"));
    }
    CHECK_THROWS_WITH(Cgroup::create({}, id, warnings, std::string("/proc")),
                      Catch::Contains("is on no cgroup or cgroup2 mount"));
}

TEST_CASE("cgroup: stale groups beneath the --cgroup-parent are swept there", "[cgroups][root]") {
    TestParent parent;
    if (!parent.usable()) return;
    auto stale = leave_stale_group(parent.name(), false).dirs;
    REQUIRE(stale.size() == parent.dirs().size());
    for (const auto& d : stale) CHECK(exists(d));
    cleanup_stale_cgroups();  // our own cgroups only: not there
    for (const auto& d : stale) CHECK(exists(d));

    // The next create beneath the parent sweeps it.
    std::vector<std::string> warnings;
    auto cg = Cgroup::create({}, new_run_id(), warnings, parent.name());
    REQUIRE(cg);
    for (const auto& d : stale) CHECK_FALSE(exists(d));

    // And so does cleanup given the parent, while the live group stays.
    stale = leave_stale_group(parent.name(), false).dirs;
    for (const auto& d : stale) CHECK(exists(d));
    CHECK(cleanup_stale_cgroups(parent.name()) == 1);
    for (const auto& d : stale) CHECK_FALSE(exists(d));
    for (const auto& d : dirs_of(*cg)) CHECK(exists(d));
}

TEST_CASE("cgroup: on a real cgroup2 mount, only a process alone in its cgroup moves into the leaf",
          "[cgroups][root]") {
    if (::geteuid() != 0) {
        WARN("skipped: cgroup tests need root");
        return;
    }
    std::string mountinfo = cd::read_file("/proc/self/mountinfo").value_or("");
    auto layout = cd::discover(mountinfo, cd::read_file("/proc/self/cgroup").value_or(""));
    if (!layout.v2_parent_dir) {
        WARN("skipped: no cgroup2 mount shows our cgroup");
        return;
    }
    // A cgroup of the test's own, standing for the one a judge gives sandboxrun.
    std::string name = "sbxtest-own-" + new_run_id(), own = *layout.v2_parent_dir + "/" + name;
    std::string leaf = own + "/sandboxrun-supervisor";
    REQUIRE(::mkdir(own.c_str(), 0755) == 0);
    struct Guard {
        std::string own, leaf;
        ~Guard() {
            cd::kill_until_empty(own, cd::empty_budget);
            ::rmdir(leaf.c_str());
            ::rmdir(own.c_str());
        }
    } guard{own, leaf};

    // Runs leave_own_cgroup in a child placed in `own`; returns its warning
    // and its /proc/self/cgroup afterwards.
    auto try_leave = [&] {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        Child child([&, w = p[1]] {
            std::string msg = cd::leave_own_cgroup(own, ::getpid()) + "\n";
            msg += cd::read_file("/proc/self/cgroup").value_or("");  // after the move
            return ::write(w, msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()) ? 0 : 1;
        });
        ::close(p[1]);
        REQUIRE(cd::write_file(own + "/cgroup.procs", std::to_string(child.pid())) == 0);
        child.go();
        std::string msg = child.wait_for_report(p[0]);
        auto nl = msg.find('\n');
        return std::make_pair(msg.substr(0, nl), msg.substr(nl + 1));
    };

    {
        Child other([] { return ::pause(); });  // a second process in `own`
        REQUIRE(cd::write_file(own + "/cgroup.procs", std::to_string(other.pid())) == 0);
        auto [why, cgroups] = try_leave();
        CHECK_THAT(why, Catch::Contains("lists 1 process(es) besides sandboxrun") &&
                            Catch::Contains(std::to_string(other.pid())));
        CHECK_FALSE(exists(leaf));
    }

    auto [why, cgroups] = try_leave();
    CHECK(why == "");
    INFO(cgroups);
    CHECK(cgroups.find("0::") != std::string::npos);
    CHECK(cgroups.find("/" + name + "/sandboxrun-supervisor\n") != std::string::npos);
    // Seen from the leaf, the cgroup above is where runs go, and not ours to leave.
    auto moved = cd::discover(mountinfo, cgroups);
    CHECK(moved.v2_parent_dir == std::optional<std::string>(own));
    CHECK_FALSE(moved.v2_is_own);
}
