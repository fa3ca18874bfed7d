// Limits, accounting and reports with real programs: every verdict, the
// measured figures against what the host measures, nothing of a run
// outliving it, no cgroup left behind. Tagged [limits]: the cgroup v2 VM
// runs exactly these.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace sbx;

namespace {

double number(const Result& r, const std::string& key) {
    std::string v = json_field(r.report, key);
    INFO(key << " in " << r.report);
    REQUIRE_FALSE(v.empty());
    REQUIRE(v != "null");
    return std::stod(v);
}

bool cgroups_expected() { return !unprivileged(); }

// The directories where sandboxrun makes its run groups: <parent>/sandboxrun,
// the parent being SANDBOXRUN_CGROUP_PARENT or our own cgroup (the one above
// it when we sit in sandboxrun's own supervisor leaf).
std::vector<fs::path> run_group_parents() {
    std::vector<fs::path> out;
    if (const char* parent = std::getenv("SANDBOXRUN_CGROUP_PARENT")) out.push_back(fs::path(parent) / "sandboxrun");
    std::istringstream in(read_file("/proc/self/cgroup"));
    for (std::string line; std::getline(in, line);) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        std::string ctrl = line.substr(a + 1, b - a - 1);
        fs::path path = line.substr(b + 2);
        if (path.filename() == "sandboxrun-supervisor") path = path.parent_path();
        if (ctrl.empty()) out.push_back(fs::path("/sys/fs/cgroup") / path / "sandboxrun");
        // Whole names in a comma-separated list ("cpu,cpuacct").
        const std::string list = "," + ctrl + ",";
        for (const char* c : {",memory,", ",pids,", ",cpuacct,"})
            if (list.find(c) != std::string::npos)
                out.push_back(fs::path("/sys/fs/cgroup") / ctrl / path / "sandboxrun");
    }
    return out;
}

// Run groups left behind: those no live supervisor holds its lock on. (Other
// runs on the machine may be live at the same time; theirs are locked.)
std::size_t leftover_groups() {
    std::size_t n = 0;
    for (const fs::path& parent : run_group_parents()) {
        std::error_code ec;
        for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator(); ++it) {
            if (!it->is_directory()) continue;
            int fd = open(it->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) continue;   // removed meanwhile
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) ++n;
            close(fd);
        }
    }
    return n;
}

// Host pids running the file `exe`: processes of a run that outlived it.
// Compared by inode: the path a sandboxed process shows is the one inside.
std::vector<pid_t> processes_running(const fs::path& exe) {
    std::vector<pid_t> out;
    struct stat want {};
    if (stat(exe.c_str(), &want) != 0) return out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st {};
        if (stat((e.path() / "exe").c_str(), &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            out.push_back(std::stoi(name));
    }
    return out;
}

Result run_limited(const WorkDir& dir, const std::string& program, std::vector<std::string> opts,
                   std::vector<std::string> program_args = {}) {
    dir.add_program(program);
    std::vector<std::string> args = {"--profile", "c"};
    args.insert(args.end(), opts.begin(), opts.end());
    args.push_back("--");
    args.push_back("./" + program);
    args.insert(args.end(), program_args.begin(), program_args.end());
    return run(dir, args);
}

}  // namespace

TEST_CASE("CPU time is measured exactly", "[limits]") {
    WorkDir dir;
    dir.add_program("cpu_burn");
    // What the host measures for the same program, outside any sandbox.
    pid_t pid = fork();
    if (pid == 0) {
        execl((dir.path() / "cpu_burn").c_str(), "cpu_burn", "300", nullptr);
        _exit(127);
    }
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
    double outside_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;

    Result r = run_limited(dir, "cpu_burn", {"--cpu-time", "5s"}, {"300"});
    REQUIRE(verdict(r) == "ok");
    double inside_ms = number(r, "cpu_time_ms");
    INFO("outside " << outside_ms << " ms, inside " << inside_ms << " ms");
    CHECK(std::abs(inside_ms - outside_ms) < 10.0 * slack());
    // One thread cannot burn more CPU than wall time. Under emulation pid 1's
    // few syscalls beside the burner take milliseconds and the CPU clock and
    // the wall clock drift apart by a few percent, hence the slack.
    double wall_ms = number(r, "wall_time_ms");
    INFO("wall " << wall_ms << " ms");
    CHECK(wall_ms >= inside_ms - 5 * slack());
}

TEST_CASE("a CPU limit ends a single-threaded burner", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "cpu_burn", {"--cpu-time", "500ms", "--wall-time", "10s", "--meta", ".meta"}, {"60000"});
    CHECK(verdict(r) == "time_limit");
    // Killed by the supervisor, or by RLIMIT_CPU's SIGXCPU where no cgroup counts the run.
    CHECK(r.status == 128 + (cgroups_expected() ? SIGKILL : SIGXCPU));
    CHECK(number(r, "cpu_time_ms") >= 500);
    CHECK(number(r, "cpu_time_ms") < (cgroups_expected() ? 500 + 100 * slack() : 2100));   // rlimit fallback: whole seconds
    std::string meta = dir.read(".meta");
    CHECK(meta.find("status:TO\n") != std::string::npos);
    CHECK(meta.find("killed:1\n") != std::string::npos);
    CHECK(meta.find("time:") != std::string::npos);
}

TEST_CASE("a CPU limit in whole seconds ends a burner as time_limit every time", "[limits]") {
    // Without a cgroup RLIMIT_CPU (1 s here) stops it; the kernel's sampled
    // count fires a few percent before the measured CPU reaches the limit.
    WorkDir dir;
    for (int i = 0; i < 3; ++i) {
        Result r = run_limited(dir, "cpu_burn", {"--cpu-time", "1s", "--wall-time", "20s"}, {"60000"});
        INFO(r.err << r.report);
        CHECK(verdict(r) == "time_limit");
    }
}

TEST_CASE("CPU time counts every thread of the run", "[limits]") {
    if (!cgroups_expected()) {
        WARN("unprivileged: no cgroup, the CPU limit is per process");
        return;
    }
    WorkDir dir;
    Result r = run_limited(dir, "cpu_threads", {"--cpu-time", "2s", "--wall-time", "20s"}, {"4"});
    CHECK(verdict(r) == "time_limit");
    double cpu = number(r, "cpu_time_ms"), wall = number(r, "wall_time_ms");
    INFO("cpu " << cpu << " ms, wall " << wall << " ms");
    // Counted per thread, four threads would reach 4 x 2 s before any was stopped.
    CHECK(cpu >= 2000);
    CHECK(cpu < 2000 + 300 * slack());
}

TEST_CASE("a run the supervisor kills still reports what its program used", "[limits]") {
    // The run's init kills and reaps everything itself: the killed program's
    // peak RSS (and without a cgroup its CPU) is in what the report reads.
    WorkDir dir;
    Result r = run_limited(dir, "mem_eat", {"--wall-time", "1s", "--cpu-time", "10s", "--memory", "512MiB", "--meta", ".meta"},
                           {"64", "spin"});
    INFO(r.err << r.report);
    CHECK(verdict(r) == "wall_time_limit");
    CHECK(number(r, "max_rss_kib") >= 64 * 1024);
    CHECK(number(r, "cpu_time_ms") >= 300);   // a spinning second, on a busy machine
    CHECK(dir.read(".meta").find("max-rss:") != std::string::npos);
}

TEST_CASE("a wall-clock limit ends a sleeper", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "sleeper", {"--wall-time", "500ms"}, {"30000"});
    CHECK(verdict(r) == "wall_time_limit");
    CHECK(number(r, "wall_time_ms") >= 500);
    CHECK(number(r, "wall_time_ms") < 500 + 300 * slack());
    CHECK(number(r, "cpu_time_ms") < 100 * slack());
}

TEST_CASE("a supervisor stopped for a while (job control) does not count its pause as the program's", "[limits]") {
    WorkDir dir;
    fs::path report = dir.path() / "r.json";
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        exec_as_runner({binary(), "--quiet", "--profile", "c", "--wall-time", "2s", "--report", report.string(), "--",
                        "/bin/sleep", "0.3"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(pid, SIGSTOP);   // the program sleeps on and ends meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    kill(pid, SIGCONT);
    int status = 0;
    waitpid(pid, &status, 0);
    std::string json = read_file(report);
    INFO(json);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(json_field(json, "verdict") == "\"ok\"");
    double wall = std::stod(json_field(json, "wall_time_ms"));
    CHECK(wall >= 300);
    CHECK(wall < 300 + 1000 * slack());
}

TEST_CASE("ordinary multithreaded code runs under a memory limit also where RLIMIT_AS stands in", "[limits]") {
    WorkDir dir;
    for (const char* memory : {"128MiB", "256MiB", "512MiB"}) {
        Result r = run_limited(dir, "thread_mallocs", {"--memory", memory});
        INFO(memory << ": " << r.out << r.err);
        CHECK(verdict(r) == "ok");
        CHECK(r.out == "ok\n");
    }
}

TEST_CASE("peak memory is measured", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "mem_eat", {"--memory", "512MiB"}, {"100"});
    INFO(r.err << r.report);
    REQUIRE(verdict(r) == "ok");
    double peak_mib = number(r, "peak_memory_kib") / 1024.0;
    CHECK(peak_mib >= 100);
    CHECK(peak_mib <= 110);
}

TEST_CASE("a memory limit ends a heap eater", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "mem_eat", {"--memory", "128MiB"}, {"400"});
    INFO(r.err << r.report);
    if (cgroups_expected()) {
        CHECK(verdict(r) == "memory_limit");
        CHECK(json_field(r.report, "memory_limit_by") == "\"cgroup\"");
        CHECK(number(r, "peak_memory_kib") <= 128 * 1024 + 64);
    } else {
        // No cgroup: RLIMIT_AS stands in, malloc fails, and the report says so.
        CHECK(verdict(r) == "runtime_error");
        CHECK(json_field(r.report, "memory_limit_by") == "\"rlimit-as\"");
        CHECK(json_field(r.report, "unapplied").find("memory") != std::string::npos);
        CHECK(r.err.find("warning") != std::string::npos);
    }
}

TEST_CASE("memory written to tmpfs counts against the run", "[limits]") {
    if (!cgroups_expected()) {
        WARN("unprivileged: no cgroup to charge tmpfs pages to");
        return;
    }
    WorkDir dir;
    Result r = run_limited(dir, "tmpfs_eat", {"--memory", "128MiB", "--tmpfs", "/dev/shm:1GiB", "--file-size", "1GiB"}, {"400", "/dev/shm"});
    INFO(r.out << r.err << r.report);
    CHECK(verdict(r) == "memory_limit");

    // A program far smaller than our init, its memory all in tmpfs: the OOM
    // killer takes pid 1 (the largest task); still memory_limit, not a sandbox error.
    Result tiny = run_limited(dir, "tmpfs_eat", {"--memory", "64MiB", "--tmpfs", "/dev/shm:1GiB", "--file-size", "1GiB"},
                              {"200", "/dev/shm", "4"});
    INFO(tiny.out << tiny.err << tiny.report);
    CHECK(verdict(tiny) == "memory_limit");
    CHECK(tiny.status == 137);
}

TEST_CASE("a sized tmpfs runs out of inodes long before kernel memory does", "[limits]") {
    // Empty files take no tmpfs size; unprivileged, nothing else would stop them.
    WorkDir dir;
    Result r = run_limited(dir, "tmpfs_inodes", {"--tmpfs", "/tmp:64MiB", "--memory", "512MiB", "--wall-time", "60s"},
                           {"/tmp", "100000"});
    INFO(r.out << r.err << r.report);
    CHECK(verdict(r) == "ok");
    REQUIRE(r.out.starts_with("created "));
    CHECK(std::stol(r.out.substr(8)) <= 64 * 1024 / 4);
    CHECK(r.out.find(": ENOSPC") != std::string::npos);
}

TEST_CASE("memory no process maps (System V shm, memfd) cannot get past the memory limit", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "unmapped_memory", {"--memory", "64MiB", "--file-size", "1GiB"}, {"256"});
    INFO(r.out << r.err << r.report);
    if (cgroups_expected()) {
        CHECK(verdict(r) == "memory_limit");   // the cgroup charges shm and memfd pages
    } else {
        // RLIMIT_AS would not see them: the calls fail as if memory ran out, and the report says so.
        CHECK(r.out == "refused: shmget: Cannot allocate memory\n");
        CHECK(verdict(r) == "runtime_error");
        CHECK(json_field(r.report, "unapplied").find("memfd_create") != std::string::npos);
    }
}

TEST_CASE("a run's user namespace is owned by the run's own uid, never root, so its quotas are not root's", "[limits]") {
    WorkDir dir;
    dir.add_program("sleeper");
    std::thread runner([&] { run(dir, {"--profile", "c", "--", "./sleeper", "3000"}); });
    std::vector<pid_t> pids;
    for (int i = 0; i < 200 && pids.empty(); ++i) {
        usleep(20 * 1000);
        pids = processes_running(dir.path() / "sleeper");
    }
    uid_t owner = 0;
    struct stat proc {};
    bool seen = false;
    if (!pids.empty()) {
        const std::string at = "/proc/" + std::to_string(pids[0]);
        int ns = open((at + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
        seen = ns >= 0 && ioctl(ns, NS_GET_OWNER_UID, &owner) == 0 && stat(at.c_str(), &proc) == 0;
        if (ns >= 0) close(ns);
    }
    runner.join();
    REQUIRE(seen);
    // The kernel charges inotify instances, pending signals and message
    // queues up to the namespace's owner: the run's uid, whose share is its own.
    CHECK(owner != 0);
    CHECK(owner == proc.st_uid);
}

TEST_CASE("a processes limit of N is N tasks for the program, our init not among them", "[limits]") {
    WorkDir dir;
    Result one = run_limited(dir, "exit3", {"--processes", "1"});
    INFO(one.err << one.report);
    CHECK(one.status == 3);
    CHECK(verdict(one) == "runtime_error");
    for (int n : {2, 5}) {
        Result r = run_limited(dir, "thread_count", {"--processes", std::to_string(n)});
        INFO(n << ": " << r.out << r.err << r.report);
        CHECK(r.status == 0);
        CHECK(r.out == "threads: " + std::to_string(n - 1) + "\n");
    }
    // A program that fails on the limit is told why (the cgroup counts the failed forks).
    if (!unprivileged()) {
        Result over = run(dir, {"--profile", "c", "--processes", "3", "--", "/bin/sh", "-c",
                                "for i in 1 2 3 4 5 6; do sleep 0.5 & done; wait"});
        INFO(over.err << over.report);
        CHECK(over.report.find("limit of 3 processes and threads") != std::string::npos);
    }
    Result huge = run_limited(dir, "exit3", {"--processes", "99999999999"});
    CHECK(huge.status == 125);
    CHECK(huge.err.find("limits.processes: at most") != std::string::npos);
}

TEST_CASE("a fork bomb is contained and leaves nothing behind", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "fork_bomb", {"--processes", "32", "--wall-time", "1s", "--cpu-time", "1s"});
    INFO(r.err << r.report);
    CHECK((verdict(r) == "wall_time_limit" || verdict(r) == "time_limit"));
    CHECK(processes_running(dir.path() / "fork_bomb").empty());
    CHECK(leftover_groups() == 0);
}

TEST_CASE("an output flood stops at the file-size limit", "[limits]") {
    WorkDir dir;
    fs::path out = dir.path() / "flood.txt";
    Result r = run_limited(dir, "output_flood", {"--file-size", "1MiB", "--stdout", out.string(), "--wall-time", "10s"});
    INFO(r.err << r.report);
    CHECK(verdict(r) == "output_limit");
    CHECK(fs::file_size(out) <= (1u << 20));
    CHECK(fs::file_size(out) > 0);

    // A program that ignores SIGXFSZ gets EFBIG, and may exit 0 with its output
    // cut: the limit's verdict, and not its exit status either (as if killed).
    Result quiet = run_limited(dir, "output_flood", {"--file-size", "1MiB", "--stdout", out.string(), "--wall-time", "10s"},
                               {"ignore-xfsz"});
    INFO(quiet.err << quiet.report);
    CHECK(quiet.status == 137);
    CHECK(verdict(quiet) == "output_limit");

    // One that ignores it and writes on (a Java flood) is ended by the output
    // limit as its file fills, not by the time limits much later.
    Result on = run_limited(dir, "output_flood", {"--file-size", "1MiB", "--stdout", out.string(), "--wall-time", "30s",
                                                  "--cpu-time", "30s"}, {"ignore-xfsz-write-on"});
    INFO(on.err << on.report);
    CHECK(verdict(on) == "output_limit");
    CHECK(on.status == 137);

    // A child stopped by the limit (a compiler's cc1plus writing a precompiled
    // header) fails its parent: a failed run that left a file at the limit.
    Result child = run(dir, {"--profile", "c", "--file-size", "1MiB", "--", "/bin/sh", "-c", "head -c 5242880 /dev/zero > big; exit 1"});
    INFO(child.err << child.report);
    CHECK(verdict(child) == "output_limit");
    CHECK(child.status == 137);
    // So does one that ignores SIGXFSZ and its write errors (the JVM, a
    // PrintWriter) and exits 0 with its output.txt cut at the limit.
    Result cut = run(dir, {"--profile", "c", "--file-size", "1MiB", "--", "/bin/sh", "-c",
                           "trap '' XFSZ; head -c 5242880 /dev/zero > output.txt; exit 0"});
    INFO(cut.err << cut.report);
    CHECK(fs::file_size(dir.path() / "output.txt") == (1u << 20));
    CHECK(verdict(cut) == "output_limit");
    // (A file of its own: where the work dir takes no idmapped mount, as in
    // the VM's tmpfs, the last run's file is another uid's.) The last run's
    // file at the limit is not this one's, even with its mtime set ahead
    // (utime: it made every later run in the directory output_limit).
    fs::remove(dir.path() / "big");
    const timespec ahead[2] = {{4102444800, 0}, {4102444800, 0}};   // 2100-01-01
    REQUIRE(utimensat(AT_FDCWD, (dir.path() / "output.txt").c_str(), ahead, 0) == 0);
    Result fine = run(dir, {"--profile", "c", "--file-size", "1MiB", "--", "/bin/sh", "-c", "head -c 1048575 /dev/zero > fine.txt"});
    INFO(fine.err);
    CHECK(verdict(fine) == "ok");
    CHECK(fs::file_size(out) == (1u << 20));
}

TEST_CASE("--file-size counts the run's own output: not what an inherited file held before, and a FIFO's too",
          "[limits]") {
    WorkDir dir, logs;
    // A judge's log of 2 MiB as the run's stdout and stderr (`>>log 2>&1`):
    // RLIMIT_FSIZE would count from its end and kill the first write.
    const fs::path log = logs.path() / "judge.log";
    std::ofstream(log) << std::string(2 << 20, 'x');
    auto to_log = [&] {
        int fd = open(log.c_str(), O_WRONLY | O_APPEND);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(203);
        close(fd);
    };
    Result line = run(dir, {"--profile", "c", "--file-size", "1MiB", "--", "/bin/sh", "-c", "echo out; echo err >&2"},
                      60, "", to_log);
    INFO(line.report);
    CHECK(verdict(line) == "ok");
    // (sandboxrun's own messages, if any, follow in the log)
    CHECK(read_file(log).substr(2u << 20, 8) == "out\nerr\n");
    const auto before = fs::file_size(log);
    Result flood = run(dir, {"--profile", "c", "--file-size", "1MiB", "--", "/bin/sh", "-c", "head -c 3000000 /dev/zero"},
                       60, "", to_log);
    INFO(flood.report);
    CHECK(verdict(flood) == "output_limit");
    const std::string after = read_file(log).substr(before);   // the run's first MiB, no more
    CHECK(after.find_first_not_of('\0') == (1u << 20));

    // A FIFO as --stdout: the kernel never limits a FIFO's writes.
    const fs::path fifo = logs.path() / "out.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0666) == 0);
    if (run_as() > 0) REQUIRE(chown(fifo.c_str(), run_as(), run_as()) == 0);
    std::size_t got = 0;
    std::thread reader([&] {
        std::ifstream in(fifo, std::ios::binary);
        char buf[65536];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) got += static_cast<std::size_t>(in.gcount());
    });
    Result piped = run(dir, {"--profile", "c", "--file-size", "1MiB", "--stdout", fifo.string(), "--", "/bin/sh", "-c",
                             "head -c 10000000 /dev/zero"});
    reader.join();
    INFO(piped.err << piped.report);
    CHECK(verdict(piped) == "output_limit");
    CHECK(got == (1u << 20));

    // The interactor's FIFO gets the answer, the judge's log the debug line.
    std::string answer;
    std::thread interactor([&] {
        std::ifstream in(fifo);
        std::getline(in, answer, '\0');
    });
    Result split = run(dir, {"--profile", "c", "--file-size", "1MiB", "--stdout", fifo.string(), "--", "/bin/sh", "-c",
                             "echo ANSWER; echo debug >&2"}, 60, "", to_log);
    interactor.join();
    CHECK(verdict(split) == "ok");
    CHECK(answer == "ANSWER\n");
    CHECK(read_file(log).find("debug\n") != std::string::npos);

    // A reader that leaves: the run's next write fails as it would on the
    // FIFO itself (SIGPIPE), not on a limit much later.
    std::thread quitter([&] {
        std::ifstream in(fifo);
        char first[10];
        in.read(first, sizeof first);
    });
    auto t0 = std::chrono::steady_clock::now();
    Result gone = run(dir, {"--profile", "c", "--file-size", "100MiB", "--wall-time", "20s", "--stdout", fifo.string(),
                            "--", "/usr/bin/yes"});
    quitter.join();
    INFO(gone.err << gone.report);
    CHECK(json_field(gone.report, "signal_name") == "\"SIGPIPE\"");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("a limit's verdict needs the limit reached, not just its signal", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "raise_signal", {"--cpu-time", "5s"}, {std::to_string(SIGXCPU)});
    INFO(r.err << r.report);
    CHECK(r.status == 128 + SIGXCPU);
    CHECK(verdict(r) == "signal");
    // Raised after half the limit: with the cgroup's exact count that is
    // still the program's own (RLIMIT_CPU is a backstop at twice the limit);
    // without one, RLIMIT_CPU's sampled count may run ahead, and half counts.
    Result late = run_limited(dir, "cpu_burn", {"--cpu-time", "3s", "--wall-time", "20s"}, {"1600", "then-xcpu"});
    INFO(late.out << late.err << late.report);
    CHECK(late.status == 128 + SIGXCPU);
    CHECK(verdict(late) == (cgroups_expected() ? "signal" : "time_limit"));

    // So is a SIGXFSZ where no file-size limit is (none asked for, none inherited).
    Result xfsz = run(dir, {"--profile", "c", "--file-size", "none", "--", "/bin/sh", "-c", "kill -XFSZ $$"});
    INFO(xfsz.err << xfsz.report);
    CHECK(xfsz.status == 128 + SIGXFSZ);
    CHECK(verdict(xfsz) == "signal");

    // The other way round: over the limit by measurement, whatever ended it
    // (without a cgroup RLIMIT_CPU's SIGXCPU can be ignored, and the program exits 0).
    Result over = run_limited(dir, "cpu_burn", {"--cpu-time", "1s", "--wall-time", "20s"},
                              {std::to_string(static_cast<int>(1500 * slack())), "ignore-xcpu"});
    INFO(over.out << over.err << over.report);
    CHECK(verdict(over) == "time_limit");

    // Page cache counts in the memory cgroup: writing far more than the limit
    // to a file reaches it without any harm. A failing exit stays runtime_error.
    struct statfs fs_info {};
    REQUIRE(statfs(dir.path().c_str(), &fs_info) == 0);
    if (fs_info.f_type == TMPFS_MAGIC) {
        WARN("the work dir is on tmpfs (as in the VM test): its files are memory, not page cache");
        return;
    }
    Result big = run_limited(dir, "tmpfs_eat", {"--memory", "64MiB", "--file-size", "none"}, {"200", "/box", "1024", "1"});
    INFO(big.out << big.err << big.report);
    CHECK(big.status == 1);
    CHECK(big.out.find("done") != std::string::npos);
    CHECK(verdict(big) == "runtime_error");
}

// The pids of processes that hold the pipe whose inode is `ino` open (ours
// excepted): what a killed supervisor left behind, to name and end.
std::vector<pid_t> holders_of_pipe(ino_t ino) {
    std::vector<pid_t> pids;
    const std::string want = "pipe:[" + std::to_string(ino) + "]";
    for (const auto& proc : fs::directory_iterator("/proc")) {
        pid_t pid = static_cast<pid_t>(std::atoi(proc.path().filename().c_str()));
        if (pid <= 0 || pid == getpid()) continue;
        std::error_code ec;
        for (const auto& fd : fs::directory_iterator(proc.path() / "fd", ec)) {
            char buf[64] = {};
            if (readlink(fd.path().c_str(), buf, sizeof buf - 1) > 0 && want == buf) {
                pids.push_back(pid);
                break;
            }
        }
    }
    return pids;
}

TEST_CASE("a supervisor killed at any point of setup leaves nothing that holds the caller's output", "[limits]") {
    WorkDir dir;
    dir.add_program("exit3");
    std::vector<std::string> args = {binary(), "--quiet", "--profile", "c", "--wall-time", "5s", "--", "./exit3"};
    int left = 0;
    for (int i = 0; i < 80; ++i) {
        int out[2];
        REQUIRE(pipe(out) == 0);
        struct stat pipe_st {};
        fstat(out[0], &pipe_st);
        // Catch2's handlers must not run in the child before its exec: it
        // takes SIGTERM with the default action, blocked until that is set.
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, &old);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGTERM, SIG_DFL);
            sigprocmask(SIG_SETMASK, &old, nullptr);
            if (chdir(dir.path().c_str()) != 0) _exit(200);
            dup2(out[1], 1);
            dup2(out[1], 2);
            close(out[0]);
            close(out[1]);
            exec_as_runner(args);
        }
        sigprocmask(SIG_SETMASK, &old, nullptr);
        close(out[1]);
        // Somewhere between exec and the run's end (a run here takes 5-10 ms).
        std::this_thread::sleep_for(std::chrono::microseconds(i * 97 % 4000));
        kill(pid, i % 2 ? SIGKILL : SIGTERM);
        waitpid(pid, nullptr, 0);
        // The caller reads to EOF: it comes once no process holds the pipe.
        pollfd p{out[0], POLLIN, 0};
        bool eof = false;
        for (auto t0 = std::chrono::steady_clock::now(); !eof && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3);) {
            char buf[256];
            if (poll(&p, 1, 100) > 0 && read(out[0], buf, sizeof buf) == 0) eof = true;
        }
        if (!eof) {
            ++left;
            for (pid_t holder : holders_of_pipe(pipe_st.st_ino)) kill(holder, SIGKILL);   // ours, by pid
        }
        close(out[0]);
    }
    CHECK(left == 0);   // (their cgroups stay until the next run or `sandboxrun cleanup` sweeps them)
}

TEST_CASE("a stray signal to the supervisor ends the run cleanly, with a report", "[limits]") {
    WorkDir dir;
    for (int sig : {SIGTERM, SIGUSR1, SIGALRM, SIGRTMIN + 1}) {   // (a real-time one ended us with no report)
        fs::path report = dir.path() / "r.json";
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(dir.path().c_str()) != 0) _exit(200);
            exec_as_runner({binary(), "--quiet", "--profile", "c", "--report", report.string(), "--", "/bin/sleep", "20"});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));   // the run is under way
        kill(pid, sig);
        int status = 0;
        waitpid(pid, &status, 0);
        INFO("signal " << sig);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 125));
        std::string json = read_file(report);
        CHECK(json_field(json, "verdict") == "\"sandbox_error\"");
        CHECK(json.find(sig > SIGRTMIN ? std::string("stopped by SIGRTMIN+1") : std::string("stopped by SIG") + sigabbrev_np(sig)) !=
              std::string::npos);
        CHECK(leftover_groups() == 0);
    }
}

TEST_CASE("a signal the caller left ignored stays ignored (nohup, a script's background job)", "[limits]") {
    WorkDir dir;
    for (int sig : {SIGHUP, SIGINT, SIGQUIT}) {
        fs::path report = dir.path() / "r.json";
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(dir.path().c_str()) != 0) _exit(200);
            signal(sig, SIG_IGN);
            exec_as_runner({binary(), "--quiet", "--profile", "c", "--report", report.string(), "--", "/bin/sleep", "1"});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));   // the run is under way
        kill(pid, sig);
        int status = 0;
        waitpid(pid, &status, 0);
        INFO("signal " << sig << ": " << read_file(report));
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        CHECK(json_field(read_file(report), "verdict") == "\"ok\"");
    }
}

TEST_CASE("the run groups' base is sandboxrun's alone, and a lock held on it fails the run instead of hanging it",
          "[limits]") {
    if (!cgroups_expected()) return;   // (unprivileged: no group of ours to lock)
    WorkDir dir;
    REQUIRE(run(dir, {"--profile", "c", "--", "/bin/true"}).status == 0);
    std::vector<int> held;
    for (const fs::path& base : run_group_parents()) {
        struct stat st {};
        if (stat(base.c_str(), &st) != 0) continue;   // (a hierarchy this host's runs do not use)
        CHECK((st.st_mode & 077) == 0);   // no other user can open it to lock it
        int fd = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(flock(fd, LOCK_EX) == 0);   // one opened before that, as a sweep would hold it
        held.push_back(fd);
    }
    REQUIRE_FALSE(held.empty());
    fs::path report = dir.path() / "r.json";
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        exec_as_runner({binary(), "--quiet", "--profile", "c", "--report", report.string(), "--", "/bin/true"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);   // a judge's timeout ends the wait
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 300 && (done = waitpid(pid, &status, WNOHANG)) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int fd : held) close(fd);
    if (done == 0) waitpid(pid, &status, 0);
    CHECK(done == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 125));
    CHECK(read_file(report).find("waiting for its lock") != std::string::npos);
    CHECK(leftover_groups() == 0);
}

TEST_CASE("a double-forked daemon dies with the run", "[limits]") {
    WorkDir dir;
    auto t0 = std::chrono::steady_clock::now();
    Result r = run_limited(dir, "daemon", {"--wall-time", "20s"}, {"/box/daemon.pid"});
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(verdict(r) == "ok");
    CHECK(took < std::chrono::seconds(5));   // the run ended with the target, not with the daemon
    CHECK_FALSE(dir.read("daemon.pid").empty());
    CHECK(processes_running(dir.path() / "daemon").empty());
    CHECK(leftover_groups() == 0);
}

TEST_CASE("stdin, stdout and stderr files are opened on the host side", "[limits]") {
    WorkDir dir;
    dir.write("input.txt", "from a file\n");
    dir.add_program("cat_upper");
    fs::path out = dir.path() / "answer.txt";
    Result r = run(dir, {"--profile", "c", "--stdin", (dir.path() / "input.txt").string(), "--stdout", out.string(),
                         "--", "./cat_upper"});
    CHECK(r.status == 0);
    CHECK(read_file(out) == "FROM A FILE\n");
    Result missing = run(dir, {"--profile", "c", "--stdin", "/nonexistent-sbx-input", "--", "./cat_upper"});
    CHECK(missing.status == 125);
    CHECK(missing.err.find("/nonexistent-sbx-input") != std::string::npos);
}

TEST_CASE("a wall limit shorter than the run's setup still lets the command run", "[limits]") {
    // --wall-time counts from the command's execve: a setup that took longer
    // than the limit (here 600 mounts, ~20 ms) killed the run before its command.
    WorkDir dir;
    std::vector<std::string> args = {"--profile", "c", "--wall-time", std::to_string(static_cast<int>(10 * slack())) + "ms"};
    for (int i = 0; i < 600; ++i) args.insert(args.end(), {"--tmpfs", "/t" + std::to_string(i)});
    args.insert(args.end(), {"--", "/bin/true"});
    Result r = run(dir, args);
    INFO(r.err << r.report);
    CHECK(verdict(r) == "ok");
}

TEST_CASE("the caller's soft rlimits do not leak into the run; a hard one below the profile is named", "[limits]") {
    WorkDir dir;
    dir.add_program("print_rlimits");
    auto shell_limits = [] {   // like `ulimit -s 8192 -v 204800 -Su 77 -Sn 200` in the judge's shell
        rlimit stack{8u << 20, RLIM_INFINITY}, as{200u << 20, RLIM_INFINITY};
        setrlimit(RLIMIT_STACK, &stack);
        setrlimit(RLIMIT_AS, &as);
        rlimit nproc{}, nofile{};
        getrlimit(RLIMIT_NPROC, &nproc);
        getrlimit(RLIMIT_NOFILE, &nofile);
        nproc.rlim_cur = std::min<rlim_t>(77, nproc.rlim_max);
        nofile.rlim_cur = std::min<rlim_t>(200, nofile.rlim_max);
        setrlimit(RLIMIT_NPROC, &nproc);
        setrlimit(RLIMIT_NOFILE, &nofile);
    };
    Result r = run(dir, {"--profile", "c", "--cpu-time", "5s", "--", "./print_rlimits"}, 60, "", shell_limits);
    INFO(r.err << r.report);
    CHECK(r.status == 0);
    CHECK(r.out.find("stack: unlimited\n") != std::string::npos);
    CHECK(r.out.find("data: unlimited\n") != std::string::npos);
    // Root never felt its low soft nproc; the run's uid would (its forks failing under "processes = 256").
    CHECK(r.out.find("nproc: 77\n") == std::string::npos);
    Result open = run(dir, {"--profile", "c", "--open-files", "none", "--memory", "none", "--", "./print_rlimits"}, 60, "",
                      shell_limits);
    INFO(open.err);
    CHECK(open.out.find("nofile: 200\n") == std::string::npos);
    CHECK(open.out.find("nofile: ") != std::string::npos);
    if (!unprivileged()) CHECK(r.out.find("as: unlimited\n") != std::string::npos);   // else the memory limit
    // With a cgroup RLIMIT_CPU is only a backstop, far out (2 x 5 s + 1 s): the
    // kernel's sampled CPU runs ahead of the cgroup's count. Without, the limit.
    CHECK(r.out.find(unprivileged() ? "cpu: 5\n" : "cpu: 11\n") != std::string::npos);
    // Quotas the kernel charges to the invoking user too stay small.
    CHECK(r.out.find("sigpending: 1024\n") != std::string::npos);
    CHECK(r.out.find("msgqueue: 65536\n") != std::string::npos);
    // Not 0: that starts a piped core_pattern (apport, systemd-coredump) as root for every crash.
    CHECK(r.out.find("core: 1\n") != std::string::npos);
    CHECK(r.out.find("oom_score_adj: 1000\n") != std::string::npos);   // the run before the judge
    CHECK(r.out.find("inotify: 4\n") != std::string::npos);
    CHECK(r.err.find("inotify/fanotify quotas") == std::string::npos);
    Result stack = run(dir, {"--profile", "c", "--stack", "64MiB", "--", "./print_rlimits"}, 60, "", shell_limits);
    CHECK(stack.out.find("stack: 67108864\n") != std::string::npos);
    // Without a memory cgroup, socket buffers grow unseen with processes x
    // descriptors: both are held to 64 then (the profile gives 256 and 1024).
    CHECK(r.out.find(unprivileged() ? "nofile: 64\n" : "nofile: 1024\n") != std::string::npos);
    if (unprivileged()) {
        CHECK(r.out.find("nproc: 65\n") != std::string::npos);   // (our init among them)
        CHECK(r.report.find("at most 64 each") != std::string::npos);
        CHECK(r.report.find("\"processes\": 64,") != std::string::npos);   // the limits the run has
        CHECK(r.report.find("\"open_files\": 64,") != std::string::npos);
        Result unlimited = run(dir, {"--profile", "c", "--memory", "none", "--", "./print_rlimits"});
        CHECK(unlimited.out.find("nofile: 1024\n") != std::string::npos);
        CHECK(unlimited.out.find("nproc: 257\n") != std::string::npos);
    }

    // Nor the judge's real-time policy or negative nice (`chrt -f 10`, `nice -n -5`):
    // a SCHED_FIFO run on the supervisor's CPU kept it from enforcing any limit.
    if (!unprivileged()) {
        Result rt = run(dir, {"--profile", "c", "--", "./print_rlimits"}, 60, "", [] {
            sched_param fifo{10};
            if (sched_setscheduler(0, SCHED_FIFO, &fifo) != 0 || setpriority(PRIO_PROCESS, 0, -5) != 0) _exit(99);
        });
        INFO(rt.err);
        CHECK(rt.out.find("policy: 0\nnice: 0\n") != std::string::npos);
    }

    // Nor its real-time I/O class (`ionice -c1`).
    if (!unprivileged()) {
        WorkDir profiles;
        profiles.write("io.toml", "extends = \"c\"\n[syscalls]\nallow = [\"ioprio_get\"]\n");
        Result io = run(dir, {"--profile", (profiles.path() / "io.toml").string(), "--", "/usr/bin/ionice"}, 60, "", [] {
            if (syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 3) != 0) _exit(99);   // realtime, level 3
        });
        INFO(io.err << io.report);
        CHECK(io.out == "best-effort: prio 4\n");
    }

    // `ulimit -Sn 12` in the judge's shell is not sandboxrun's limit either:
    // a step of its own failed on it, or the run quietly lost its cgroup.
    Result few = run(dir, {"--profile", "c", "--", "./print_rlimits"}, 60, "", [] {
        rlimit nofile{};
        getrlimit(RLIMIT_NOFILE, &nofile);
        nofile.rlim_cur = 12;
        setrlimit(RLIMIT_NOFILE, &nofile);
    });
    INFO(few.err);
    CHECK(few.status == 0);
    if (cgroups_expected()) CHECK(json_field(few.report, "cgroup") != "\"none\"");

    // `ulimit -t N` in the judge's shell: soft and hard.
    auto cpu_limit = [](rlim_t seconds) {
        return [seconds] {
            rlimit cpu{seconds, seconds};
            setrlimit(RLIMIT_CPU, &cpu);
        };
    };
    Result low = run(dir, {"--profile", "c", "--cpu-time", "5s", "--", "./print_rlimits"}, 60, "", cpu_limit(1));
    INFO(low.err);
    CHECK(low.status == 125);
    CHECK(low.err.find("RLIMIT_CPU") != std::string::npos);
    CHECK(low.err.find("hard limit 1 s") != std::string::npos);
    CHECK(low.err.find("--cpu-time 5 s") != std::string::npos);   // the limit asked for, not the backstop
    // A hard limit above the CPU limit only draws the backstop in (`ulimit -t 5`, --cpu-time 3s).
    Result drawn_in = run(dir, {"--profile", "c", "--cpu-time", "3s", "--", "./print_rlimits"}, 60, "", cpu_limit(5));
    INFO(drawn_in.err);
    CHECK(drawn_in.status == 0);
    CHECK(drawn_in.out.find(unprivileged() ? "cpu: 3\n" : "cpu: 4\n") != std::string::npos);
    // No CPU limit asked for: the caller's hard one still holds, and the report says so.
    Result unlimited_cpu = run(dir, {"--profile", "c", "--cpu-time", "none", "--", "./print_rlimits"}, 60, "", cpu_limit(5));
    CHECK(unlimited_cpu.out.find("cpu: 5\n") != std::string::npos);
    CHECK(unlimited_cpu.report.find("cpu_time: none asked for, but the run has the hard limit") != std::string::npos);
    // A hard limit equal to the CPU limit (`ulimit -t 3`, --cpu-time 2500ms) is
    // refused with a cgroup too: the kernel's count, ahead of the cgroup's,
    // SIGKILLed a run at 1.96 s of a 2 s limit (verdict `signal`).
    Result equal = run(dir, {"--profile", "c", "--cpu-time", "2500ms", "--", "./print_rlimits"}, 60, "", cpu_limit(3));
    CHECK(equal.status == 125);
    CHECK(equal.err.find("needs an RLIMIT_CPU of 4 s, above the hard limit 3 s") != std::string::npos);

    // bash's plain `ulimit -s 8192 -v 204800 -u 20` sets hard limits: they
    // bound the run, and the report names each.
    Result hard = run(dir, {"--profile", "c", "--memory", "none", "--", "./print_rlimits"}, 60, "", [] {
        for (auto [resource, value] : {std::pair{RLIMIT_STACK, rlim_t{8} << 20}, std::pair{RLIMIT_AS, rlim_t{200} << 20},
                                       std::pair{RLIMIT_DATA, rlim_t{100} << 20}, std::pair{RLIMIT_NPROC, rlim_t{20}}}) {
            rlimit rl{value, value};
            // (Unprivileged RLIMIT_NPROC is the process limit: 20 is below it, a refusal.)
            if (resource != RLIMIT_NPROC || cgroups_expected()) setrlimit(resource, &rl);
        }
    });
    INFO(hard.err << hard.report);
    CHECK(hard.out.find("stack: 8388608\n") != std::string::npos);
    CHECK(hard.report.find("stack: none asked for, but the run has the hard limit sandboxrun was started with (8388608 bytes)") !=
          std::string::npos);
    CHECK(hard.report.find("address space: none asked for, but the run has the hard limit sandboxrun was started with "
                           "(209715200 bytes)") != std::string::npos);
    CHECK(hard.report.find("data: none asked for") != std::string::npos);
    if (cgroups_expected())
        CHECK(hard.report.find("processes: the run's uid can have no more than 20 (the hard RLIMIT_NPROC") !=
              std::string::npos);
}

TEST_CASE("a --stdin file outside the work dir can be reopened as /dev/stdin", "[limits]") {
    WorkDir tests, dir;
    tests.write("1.in", "judge input\n");
    dir.add_program("reopen_stdin");
    Result r = run(dir, {"--profile", "c", "--stdin", (tests.path() / "1.in").string(), "--", "./reopen_stdin"});
    INFO(r.err << r.report);
    CHECK(r.out == "judge input\n");
    CHECK(r.status == 0);

    // So can a FIFO (an interactor's), named or inherited: Landlock refused it (EACCES).
    fs::path fifo = tests.path() / "in.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0666) == 0);
    for (bool named : {true, false}) {
        std::thread writer([&] {   // (open until the run has reopened its end: a FIFO without writers blocks that)
            int fd = open(fifo.c_str(), O_WRONLY);
            if (fd >= 0) {
                [[maybe_unused]] ssize_t n = write(fd, "from the interactor\n", 20);
                std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 * slack())));
                close(fd);
            }
        });
        std::vector<std::string> args = {"--profile", "c", "--", "./reopen_stdin"};
        if (named) args.insert(args.begin(), {"--stdin", fifo.string()});
        Result f = run(dir, args, 60, "", [&] {
            if (!named)
                if (int fd = open(fifo.c_str(), O_RDONLY); fd >= 0) dup2(fd, 0);
        });
        writer.join();
        INFO(named << ": " << f.out << f.err << f.report);
        CHECK(f.out == "from the interactor\n");
        CHECK(f.status == 0);
    }
}

TEST_CASE("the run reopens /dev/stdin and /dev/stdout whoever owns its files and pipes", "[limits]") {
    // Started by root, the run's uid is none of the caller's: the reopen
    // checks the file's owner and mode (0600 input, root's new output file,
    // root's 0600 pipes) against it.
    WorkDir tests, dir;
    tests.write("1.in", "judge input\n");
    fs::permissions(tests.path() / "1.in", fs::perms::owner_read | fs::perms::owner_write);
    dir.add_program("reopen_stdin");
    Result r = run(dir, {"--profile", "c", "--stdin", (tests.path() / "1.in").string(), "--stdout",
                         (tests.path() / "1.out").string(), "--", "./reopen_stdin", "reopen-out"});
    INFO(r.out << r.err << r.report);
    // (The files are passed through an idmapped mount of each: a file system
    // without them, as in the cgroup v2 VM, leaves the files as they are.)
    if (r.err.find("no idmapped mount") != std::string::npos) {
        WARN("the work dir's file system takes no idmapped mounts: files not tested");
    } else {
        CHECK(r.status == 0);
        CHECK(tests.read("1.out") == "write /dev/stdin: refused\njudge input\n");
    }
    CHECK(tests.read("1.in") == "judge input\n");
    CHECK((fs::status(tests.path() / "1.in").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    struct stat out_st {};
    CHECK(stat((tests.path() / "1.out").c_str(), &out_st) == 0);
    CHECK(out_st.st_uid == (run_as() > 0 ? static_cast<uid_t>(run_as()) : geteuid()));

    // A problem without input: the host's /dev/null (a device outside the sandbox's root).
    Result null_in = run(dir, {"--profile", "c", "--stdin", "/dev/null", "--", "./reopen_stdin"});
    INFO(null_in.out << null_in.err);
    CHECK(null_in.status == 0);
    CHECK(null_in.out.empty());

    // `echo ... | sandboxrun ... | judge`: both pipes are the caller's, mode 0600.
    int in_pipe[2], out_pipe[2];
    REQUIRE(pipe(in_pipe) == 0);
    REQUIRE(pipe(out_pipe) == 0);
    const std::string piped = "piped input\n";
    REQUIRE(write(in_pipe[1], piped.data(), piped.size()) == static_cast<ssize_t>(piped.size()));
    close(in_pipe[1]);
    if (run_as() > 0) {   // a user's pipes are the user's
        REQUIRE(fchown(in_pipe[0], run_as(), run_as()) == 0);
        REQUIRE(fchown(out_pipe[1], run_as(), run_as()) == 0);
    }
    Result p = run(dir, {"--profile", "c", "--", "./reopen_stdin", "reopen-out"}, 60, "", [&] {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
    });
    close(in_pipe[0]);
    close(out_pipe[1]);
    std::string got(4096, '\0');
    ssize_t n = read(out_pipe[0], got.data(), got.size());
    close(out_pipe[0]);
    got.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    INFO(got << p.err << p.report);
    CHECK(p.status == 0);
    CHECK(got.ends_with("\npiped input\n"));
}

TEST_CASE("open_files = 4 leaves the program exactly one descriptor beyond stdio, files as stdio too", "[limits]") {
    WorkDir dir;
    dir.add_program("open_files");
    dir.write("input.txt", "in\n");
    for (bool files : {false, true}) {
        INFO((files ? "stdio from files" : "stdio inherited"));
        std::vector<std::string> args = {"--profile", "c", "--open-files", "4"};
        if (files)
            for (const char* a : {"--stdin", "input.txt", "--stdout", "answer.txt", "--stderr", "errors.txt"}) args.push_back(a);
        for (const char* a : {"--", "./open_files"}) args.push_back(a);
        Result r = run(dir, args, 60, "in\n");
        INFO(r.err << r.report);
        CHECK(verdict(r) == "runtime_error");
        CHECK((files ? dir.read("answer.txt") : r.out) == "in\nfd 3\n");
        CHECK((files ? dir.read("errors.txt") : r.err).find("open: Too many open files") != std::string::npos);
    }
    Result three = run(dir, {"--profile", "c", "--open-files", "3", "--", "./open_files"});
    CHECK(three.status == 125);
    CHECK(three.err.find("open_files: must be at least 4") != std::string::npos);
}

TEST_CASE("the JSON report and the meta file carry the figures", "[limits]") {
    WorkDir dir;
    Result r = run_limited(dir, "exit3", {"--meta", ".meta"});
    for (const char* key : {"verdict", "exit_code", "signal", "cpu_time_ms", "cpu_user_ms", "cpu_system_ms",
                            "wall_time_ms", "peak_memory_kib", "limits", "unapplied", "syscall"})
        CHECK_FALSE(json_field(r.report, key).empty());
    std::string meta = dir.read(".meta");
    for (const char* line : {"time:", "time-wall:", "max-rss:", "exitcode:3", "status:RE"})
        CHECK(meta.find(line) != std::string::npos);
}

TEST_CASE("50 runs at once do not interfere", "[limits]") {
    constexpr int runs = 50;
    std::vector<std::unique_ptr<WorkDir>> dirs;
    std::vector<std::thread> threads;
    std::vector<Result> results(runs);
    for (int i = 0; i < runs; ++i) {
        dirs.push_back(std::make_unique<WorkDir>());
        dirs.back()->add_program("cat_upper");
    }
    for (int i = 0; i < runs; ++i)
        threads.emplace_back([&, i] {
            results[i] = run(*dirs[i], {"--profile", "c", "--memory", "64MiB", "--", "./cat_upper"},
                             static_cast<int>(120 * slack()),
                             "run " + std::to_string(i) + "\n");
        });
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    for (int i = 0; i < runs; ++i) {
        INFO("run " << i << ": " << results[i].err);
        CHECK(results[i].status == 0);
        CHECK(results[i].out == "RUN " + std::to_string(i) + "\n");
        ids.insert(json_field(results[i].report, "run_id"));
    }
    CHECK(ids.size() == runs);
    CHECK(leftover_groups() == 0);
}

TEST_CASE("killing the supervisor kills the run; the next run cleans up", "[limits]") {
    WorkDir dir;
    dir.add_program("sleeper");
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        become_runner();
        execl(binary().c_str(), "sandboxrun", "-q", "--profile", "c", "--", "./sleeper", "60000", nullptr);
        _exit(127);
    }
    fs::path exe = dir.path() / "sleeper";
    for (int i = 0; i < 200 && processes_running(exe).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(processes_running(exe).empty());
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    for (int i = 0; i < 200 && !processes_running(exe).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(processes_running(exe).empty());

    // The killed supervisor's group may still be there; the next run removes it.
    Result next = run(dir, {"--profile", "c", "--", "./sleeper", "1"});
    CHECK(next.status == 0);
    CHECK(leftover_groups() == 0);
}
