// The mount plan is data: these tests check it without any privilege.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../../src/layers.hpp"
#include "temp_dir.hpp"
#include "sandboxrun/error.hpp"

using namespace sandboxrun;
using Kind = MountOp::Kind;

namespace {

const MountOp* find(const MountPlan& plan, const std::string& target) {
    for (const MountOp& op : plan.ops)
        if (op.target == target) return &op;
    return nullptr;
}

std::size_t index_of(const MountPlan& plan, const std::string& target) {
    for (std::size_t i = 0; i < plan.ops.size(); ++i)
        if (plan.ops[i].target == target) return i;
    FAIL("no op for " << target);
    return 0;
}

}  // namespace

TEST_CASE("symlinked sources are recreated as symlinks, not followed") {
    namespace fs = std::filesystem;
    TempDir tmp("sbx-mounts");   // removed however the test ends
    const fs::path dir = tmp.path;
    fs::create_directories(dir / "usr/bin");
    fs::create_directory_symlink("usr/bin", dir / "bin");
    Policy p;
    p.fs.binds.push_back({(dir / "bin").string(), "/bin", false, false, "test:1:1"});
    p.fs.binds.push_back({(dir / "usr").string(), "/usr", false, false, "test:2:1"});
    MountPlan plan = plan_mounts(p, "/somewhere");
    const MountOp* bin = find(plan, "/bin");
    REQUIRE(bin);
    CHECK(bin->kind == Kind::symlink);
    CHECK(bin->source == "usr/bin");
    REQUIRE(find(plan, "/usr"));
    CHECK(find(plan, "/usr")->kind == Kind::bind);
    CHECK_FALSE(find(plan, "/usr")->writable);
}

TEST_CASE("the run's user database names its uid with the profile's HOME, never extra entries") {
    Policy p;
    p.fs.cwd = CwdMode::none;
    auto passwd = [&] {
        for (const auto& [path, content] : plan_mounts(p, "/").files)
            if (path == "/etc/passwd") return content;
        return std::string();
    };
    p.env.set["HOME"] = "/home/run";
    CHECK(passwd().find("sandbox:x:1000:1000:sandbox:/home/run:/bin/sh\n") != std::string::npos);
    // A HOME holding the file's separators would add an entry (uid 0) of its own.
    p.env.set["HOME"] = "/x:y\nevil::0:0::/:/bin/sh";
    CHECK(passwd().find("evil") == std::string::npos);
    CHECK(passwd().find("sandbox:x:1000:1000:sandbox:/:/bin/sh\n") != std::string::npos);
}

TEST_CASE("a missing bind source is an error naming its origin, unless optional") {
    Policy p;
    p.fs.binds.push_back({"/nonexistent/sbx-source", "/x", false, true, "test:3:5"});
    CHECK_NOTHROW(plan_mounts(p, "/"));
    CHECK(find(plan_mounts(p, "/"), "/x") == nullptr);
    p.fs.binds[0].optional = false;
    try {
        plan_mounts(p, "/");
        FAIL("no error for a missing bind source");
    } catch (const Error& e) {
        std::string msg = e.what();
        CHECK(msg.find("test:3:5") != std::string::npos);
        CHECK(msg.find("/nonexistent/sbx-source") != std::string::npos);
        CHECK(msg.find("No such file or directory") != std::string::npos);
        CHECK(e.exit_code() == exit_sandbox_error);
    }
}

TEST_CASE("parents are mounted before what sits inside them") {
    Policy p;
    p.fs.tmpfs.push_back({"/tmp/inner", 1 << 20, "t"});
    p.fs.tmpfs.push_back({"/tmp", 1 << 20, "t"});
    p.fs.binds.push_back({"/usr/lib", "/usr/lib", false, false, "t"});
    p.fs.binds.push_back({"/usr", "/usr", false, false, "t"});
    MountPlan plan = plan_mounts(p, "/");
    CHECK(index_of(plan, "/tmp") < index_of(plan, "/tmp/inner"));
    CHECK(index_of(plan, "/usr") < index_of(plan, "/usr/lib"));
}

TEST_CASE("the invoking directory is bound at workdir as the profile says") {
    Policy p;
    p.fs.workdir = "/box";
    MountPlan rw = plan_mounts(p, "/home/judge/sub1");
    REQUIRE(find(rw, "/box"));
    CHECK(find(rw, "/box")->source == "/home/judge/sub1");
    CHECK(find(rw, "/box")->writable);
    CHECK(rw.chdir == "/box");

    p.fs.cwd = CwdMode::ro;
    CHECK_FALSE(find(plan_mounts(p, "/x"), "/box")->writable);

    p.fs.cwd = CwdMode::none;
    MountPlan none = plan_mounts(p, "/x");
    CHECK(find(none, "/box") == nullptr);
    CHECK(none.chdir == "/");

    p.fs.chdir = "/tmp";
    CHECK(plan_mounts(p, "/x").chdir == "/tmp");
}

TEST_CASE("proc, dev, devpts and sys follow the policy") {
    Policy p;
    MountPlan plan = plan_mounts(p, "/");
    REQUIRE(find(plan, "/proc"));
    REQUIRE(find(plan, "/dev"));
    CHECK(find(plan, "/dev")->writable);   // makes its own /dev/shm
    CHECK(find(plan, "/dev/pts") == nullptr);
    CHECK(find(plan, "/sys") == nullptr);

    p.fs.proc = false;
    p.fs.dev_pts = true;
    p.fs.sys = true;
    p.fs.tmpfs.push_back({"/dev/shm", 8 << 20, "t"});
    plan = plan_mounts(p, "/");
    CHECK(find(plan, "/proc") == nullptr);
    CHECK(find(plan, "/dev/pts"));
    CHECK(find(plan, "/sys"));
    CHECK_FALSE(find(plan, "/dev")->writable);   // the profile's /dev/shm tmpfs replaces the default
    CHECK(find(plan, "/dev/shm")->size == (8u << 20));
}

TEST_CASE("setuid and setgid bits left in writable binds are cleared after the run") {
    namespace fs = std::filesystem;
    TempDir tmp("sbx-disarm"), tmp_outside("sbx-disarm-outside");   // removed however the test ends
    const fs::path dir = tmp.path;
    fs::create_directories(dir / "sub");
    auto make = [&](const fs::path& p, mode_t mode) {
        std::ofstream(p) << "x";
        REQUIRE(chmod(p.c_str(), mode) == 0);
    };
    make(dir / "suid", 04755);
    make(dir / "sub/sgid", 02755);
    make(dir / "lock", 02644);   // setgid without group execute: mandatory locking, not privilege
    make(dir / "plain", 0755);
    fs::create_symlink("/usr/bin/su", dir / "link");   // never followed
    const fs::path outside = tmp_outside.path;         // nor a link to a directory
    make(outside / "host_suid", 04755);
    fs::create_directory_symlink(outside, dir / "dirlink");
    struct stat su {};
    bool su_setuid = stat("/usr/bin/su", &su) == 0 && (su.st_mode & S_ISUID);

    auto mode = [](const fs::path& p) {
        struct stat st {};
        stat(p.c_str(), &st);
        return st.st_mode & 07777;
    };
    MountPlan plan;
    plan.ops.push_back({MountOp::Kind::bind, dir.string(), "/box", true});
    // Files older than the run are the host's own (a setuid /usr/bin/su in
    // a writable bind of /usr): untouched.
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    timespec later = now;
    later.tv_sec += 5;
    CHECK(tidy_writable_binds(plan, later, later, std::nullopt).setid_cleared == 0);
    CHECK((mode(dir / "suid") & S_ISUID) != 0);
    timespec before = now;
    before.tv_sec -= 5;
    CHECK(tidy_writable_binds(plan, before, before, std::nullopt).setid_cleared == 2);
    CHECK(mode(dir / "suid") == 0755);
    CHECK(mode(dir / "sub/sgid") == 0755);
    CHECK(mode(dir / "lock") == 02644);
    CHECK(mode(dir / "plain") == 0755);
    if (su_setuid) CHECK((mode("/usr/bin/su") & S_ISUID) != 0);
    CHECK(mode(outside / "host_suid") == 04755);

    // A file written to exactly --file-size during the run is noted (a child
    // the limit stopped); one only chmodded or renamed, or of another size, is not.
    std::ofstream(dir / "sub" / "at_limit") << std::string(4096, 'x');
    CHECK(tidy_writable_binds(plan, before, before, 4096).file_at_limit);
    CHECK_FALSE(tidy_writable_binds(plan, before, before, 4095).file_at_limit);
    CHECK_FALSE(tidy_writable_binds(plan, later, later, 4096).file_at_limit);   // written before the run
    timespec old_times[2] = {{1, 0}, {1, 0}};
    REQUIRE(utimensat(AT_FDCWD, (dir / "sub" / "at_limit").c_str(), old_times, 0) == 0);
    REQUIRE(chmod((dir / "sub" / "at_limit").c_str(), 0600) == 0);   // its change time is the run's, not its data
    CHECK_FALSE(tidy_writable_binds(plan, before, before, 4096).file_at_limit);

    // A run's 100000 hard links are not walked by every later run: the walk
    // stops and says so.
    CHECK(tidy_writable_binds(plan, before, before, std::nullopt).walks_cut.empty());
    fs::create_directory(dir / "links");
    std::ofstream(dir / "links" / "a").put('a');
    std::ofstream(dir / "links" / "b").put('b');
    for (int i = 0; i < 100'000; ++i)   // (ext4 allows 65000 links per file)
        REQUIRE(link((dir / "links" / (i % 2 ? "a" : "b")).c_str(), (dir / "links" / std::to_string(i)).c_str()) == 0);
    AfterRun cut = tidy_writable_binds(plan, before, before, std::nullopt);
    REQUIRE(cut.walks_cut.size() == 1);
    CHECK(cut.walks_cut[0] == dir.string());
    fs::remove_all(dir / "links");

    plan.ops[0].writable = false;   // read-only binds are not walked
    make(dir / "suid", 04755);
    CHECK(tidy_writable_binds(plan, before, before, std::nullopt).setid_cleared == 0);
}

TEST_CASE("an unprivileged setup failure names AppArmor's user-namespace restriction when the host has it on",
          "[namespaces]") {
    TempDir dir;
    const std::string sysctl = (dir.path / "apparmor_restrict_unprivileged_userns").string();
    const std::string denied = std::string("mounts: make / private: ") + std::strerror(EPERM);
    CHECK(sandboxrun::userns_restriction_hint(denied, sysctl.c_str()).empty());   // no such sysctl: not Ubuntu's
    dir.write("apparmor_restrict_unprivileged_userns", "0\n");
    CHECK(sandboxrun::userns_restriction_hint(denied, sysctl.c_str()).empty());
    dir.write("apparmor_restrict_unprivileged_userns", "1\n");
    const std::string hint = sandboxrun::userns_restriction_hint(denied, sysctl.c_str());
    CHECK(hint.find("AppArmor") != std::string::npos);
    CHECK(hint.find(sysctl) != std::string::npos);
    CHECK(sandboxrun::userns_restriction_hint(std::string("x: ") + std::strerror(EACCES), sysctl.c_str()) == hint);
    // A failure that is not a refused permission is not blamed on it.
    CHECK(sandboxrun::userns_restriction_hint(std::string("mounts: /usr: ") + std::strerror(ENOENT), sysctl.c_str()).empty());
}

TEST_CASE("a namespace count limit at 0 is named, not blamed on user namespaces", "[namespaces]") {
    TempDir dir;
    for (const char* kind : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"})
        dir.write(std::string("max_") + kind + "_namespaces", "7808\n");
    CHECK(sandboxrun::namespace_count_limits(dir.path.string()).starts_with("a namespace count limit is reached"));
    dir.write("max_net_namespaces", "0\n");
    dir.write("max_cgroup_namespaces", "0\n");
    CHECK(sandboxrun::namespace_count_limits(dir.path.string()) ==
          "user.max_net_namespaces is 0, user.max_cgroup_namespaces is 0: see " + dir.path.string());
}

TEST_CASE("a mode put back from a run's own view never gives group or others write", "[mounts]") {
    using sandboxrun::ModeRecord;
    CHECK(ModeRecord::put_back(0755, true, 0777) == 0755);    // shared: the record
    CHECK(ModeRecord::put_back(0777, true, 0755) == 0777);
    CHECK(ModeRecord::put_back(0777, false, 0755) == 0755);   // seen while a concurrent run had it at 0777
    CHECK(ModeRecord::put_back(0755, false, 0700) == 0755);   // narrowed by the run: put back
    CHECK(ModeRecord::put_back(0775, false, 0700) == 0755);
    CHECK(ModeRecord::put_back(01777, false, 01777) == 01777);
}

TEST_CASE("with the host's network, AF_UNIX and a Landlock too old to scope abstract sockets, the report says so",
          "[landlock]") {
    sandboxrun::Policy p;
    p.syscalls.socket_families = {"AF_UNIX"};
    CHECK_FALSE(sandboxrun::abstract_socket_gap(p, 2));   // network off: a namespace of its own
    p.net.enabled = true;
    CHECK(sandboxrun::abstract_socket_gap(p, 2).value_or("").find("abstract unix sockets") != std::string::npos);
    CHECK_FALSE(sandboxrun::abstract_socket_gap(p, 6));
    p.syscalls.socket_families = {"AF_INET"};
    CHECK_FALSE(sandboxrun::abstract_socket_gap(p, 2));
}
