// The real binary, asserting from inside the sandbox what the issue asks,
// and on the host that nothing changed. Registered twice in meson: as root
// and as an unprivileged user (SBX_AS_USER).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace sbx;

namespace {

Result run_program(const WorkDir& dir, const std::string& program, std::vector<std::string> extra = {},
                   std::vector<std::string> program_args = {}, const std::string& profile = "c") {
    dir.add_program(program);
    std::vector<std::string> args = {"--profile", profile};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--");
    args.push_back("./" + program);
    args.insert(args.end(), program_args.begin(), program_args.end());
    return run(dir, args);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the exit status and the signal of the target are mirrored") {
    WorkDir dir;
    Result ok = run_program(dir, "exit3");
    CHECK(ok.status == 3);
    CHECK(verdict(ok) == "runtime_error");
    CHECK(json_field(ok.report, "exit_code") == "3");

    Result segv = run_program(dir, "segv");
    CHECK(segv.status == 128 + 11);
    CHECK(verdict(segv) == "signal");
    CHECK(json_field(segv.report, "signal") == "11");

    // A verdict other than ok is summed up on stderr, unless --quiet.
    CHECK(ok.err.find("sandboxrun: runtime_error: Exited with error status 3\n") != std::string::npos);
    CHECK(segv.err.find("sandboxrun: signal: Caught fatal signal 11\n") != std::string::npos);
    dir.add_program("cat_upper");
    std::istringstream ok_err(run(dir, {"--profile", "c", "--", "./cat_upper"}).err);
    for (std::string line; std::getline(ok_err, line);) CHECK(line.rfind("sandboxrun: warning: ", 0) == 0);
    CHECK(run(dir, {"--profile", "c", "--quiet", "--", "./exit3"}).err.empty());
}

TEST_CASE("with -v every setup step is timed, on both sides of clone, never into the program's stderr") {
    WorkDir dir;
    Result r = run(dir, {"-v", "--profile", "c", "--stderr", "prog.err", "--", "/bin/sh", "-c", "echo oops >&2"});
    REQUIRE(r.status == 0);
    CHECK(dir.read("prog.err") == "oops\n");
    std::size_t at = 0;
    for (const char* step : {"identity", "seccomp compiled", "cloned", "child: in its cgroup, credentials set",
                             "child: root built, network up", "target: forked",
                             "target: exec'd, listener received", "target ended", "run ended", "accounted"}) {
        INFO(r.err);
        std::string line = " ms  ";   // (one append at a time: GCC 12 warns falsely on literal + string)
        line.append(step).append("\n");
        std::size_t found = r.err.find(line, at);
        CHECK(found != std::string::npos);
        if (found != std::string::npos) at = found;
    }
}

TEST_CASE("output and input pass through") {
    WorkDir dir;
    dir.add_program("cat_upper");
    Result r = run(dir, {"--profile", "c", "--", "./cat_upper"}, 60, "hello judge\n");
    CHECK(r.status == 0);
    CHECK(r.out == "HELLO JUDGE\n");
    CHECK(verdict(r) == "ok");

    // One file for both streams keeps every line, in order (`>f 2>&1`).
    dir.add_program("out_err");
    Result both = run(dir, {"--profile", "c", "--stdout", "both.txt", "--stderr", "both.txt", "--", "./out_err"});
    CHECK(both.status == 0);
    CHECK(dir.read("both.txt") == "out 1\nerr\nout 2\n");
}

TEST_CASE("started with stdin, stdout and stderr closed, --stdout and --stderr files still get the output") {
    WorkDir dir;
    dir.add_program("out_err");
    for (int closed : {2, 3}) {   // 0-1 closed, then 0-2
        Result r = run(dir, {"--profile", "c", "--stdout", "o.txt", "--stderr", "e.txt", "--", "./out_err"}, 60, {},
                       [closed] { for (int fd = 0; fd < closed; ++fd) close(fd); });
        INFO("fds 0-" << closed - 1 << " closed: " << r.report);
        CHECK(r.status == 0);
        CHECK(dir.read("o.txt") == "out 1\nout 2\n");
        CHECK(dir.read("e.txt") == "err\n");
    }
}

TEST_CASE("started in a directory that was removed: a clear error, or a run that does not need it") {
    WorkDir dir;
    fs::path gone = dir.path() / "gone";
    auto in_removed_dir = [gone] {
        fs::create_directory(gone);
        if (chdir(gone.c_str()) != 0 || rmdir(gone.c_str()) != 0) _exit(205);
    };
    Result bound = run(dir, {"--profile", "c", "--", "/bin/echo", "hi"}, 60, {}, in_removed_dir);
    CHECK(bound.status == 125);
    CHECK(bound.err.find("getcwd") != std::string::npos);
    CHECK(verdict(bound) == "sandbox_error");   // the report is written all the same
    Result unbound = run(dir, {"--profile", "c", "--cwd-mode", "none", "--", "/bin/echo", "hi"}, 60, {}, in_removed_dir);
    INFO(unbound.err);
    CHECK(unbound.status == 0);
    CHECK(unbound.out == "hi\n");
    CHECK(verdict(unbound) == "ok");
}

TEST_CASE("a supervisor killed before it wrote its report leaves no earlier report behind") {
    WorkDir dir;
    dir.write(".report.json", "{\"verdict\": \"ok\"}\n");   // the last test's, say
    Result r = run(dir, {"--profile", "c", "--", "/bin/sleep", "30"}, 2);   // SIGKILLed by timeout at 2 s
    CHECK(r.status == 128 + SIGKILL);
    CHECK(r.report.empty());
}

TEST_CASE("refused input still writes the report, so an earlier run's verdict is never read") {
    WorkDir dir;
    const std::vector<std::vector<std::string>> refused = {
        {"--uid-range", "5", "--", "true"},
        {"--stdin", "", "--", "true"},
        {"--frobnicate", "--", "true"},
        {"--profile", "c"},
        {"--profile", "c", "--", ""},
    };
    for (const auto& args : refused) {
        dir.write(".report.json", "{\"verdict\": \"ok\"}\n");   // the last test's
        Result r = run(dir, args);
        INFO(args[0] << ": " << r.err);
        CHECK(r.status == 125);
        CHECK(verdict(r) == "sandbox_error");
    }

    // A report in a directory that does not exist is refused before the run, not after it.
    fs::path meta = dir.path() / "m.txt";
    Result r = run(dir, {"--meta", meta.string(), "--report", (dir.path() / "nodir" / "r.json").string(), "--profile", "c",
                         "--wall-time", "2s", "--", "/bin/sleep", "30"});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK(contains(r.err, "--report: directory"));
    CHECK(contains(dir.read("m.txt"), "status:XX\n"));   // not TO: the command never ran
}

TEST_CASE("a caller that ignores SIGCHLD, or has umask 0177, gets the run it asked for") {
    WorkDir dir;
    fs::path report = dir.path() / "r.json";
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        signal(SIGCHLD, SIG_IGN);   // kept across exec, as a daemonized judge may have it
        alarm(60);
        exec_as_runner({binary(), "--quiet", "--report", report.string(), "--profile", "c", "--", "/bin/sh", "-c", "exit 3"});
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 3);
    CHECK(json_field(read_file(report), "verdict") == "\"runtime_error\"");

    // The root's directories keep their modes; the program starts with umask 022.
    Result r = run(dir, {"--profile", "c", "--", "/bin/sh", "-c", "umask"}, 60, {}, [] { umask(0177); });
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "0022\n");
}

TEST_CASE("hosts it cannot serve are named before the run: a work dir on overlayfs, a container's masked /proc") {
    WorkDir dir, layers;
    for (const char* d : {"lower", "upper", "work"}) fs::create_directory(layers.path() / d);
    const int st = in_own_mount_namespace([&] {
        std::ofstream out(layers.path() / "result.txt");
        if (!unprivileged()) {   // root's runs write as their own uid where no idmapped mount can be had
            const std::string l = layers.path().string();
            const std::string opts = "lowerdir=" + l + "/lower,upperdir=" + l + "/upper,workdir=" + l + "/work";
            if (mount("overlay", dir.path().c_str(), "overlay", 0, opts.c_str()) != 0 || chmod(dir.path().c_str(), 0755) != 0)
                _exit(77);
            Result r = run(dir, {"--profile", "c", "--", "/bin/sh", "-c", "echo x > f"});
            // A kernel that idmaps overlayfs lets the run write; one that does not must say so, not fail the command.
            out << "overlay " << (r.status == 0 && fs::exists(dir.path() / "f") ? "written" : std::to_string(r.status)) << " "
                << (contains(r.err, "takes no idmapped mount") ? "named" : "unnamed") << "\n";
            if (umount2(dir.path().c_str(), MNT_DETACH) != 0) {
                out.close();
                _exit(78);
            }
        }
        if (mount("/proc/sys", "/proc/sys", nullptr, MS_BIND, nullptr) != 0 ||
            mount(nullptr, "/proc/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
            _exit(77);
        Result proc = run(dir, {"--profile", "c", "--", "/bin/true"});
        out << "proc " << proc.status << " " << (contains(proc.err, "fully visible") ? "named" : "unnamed") << "\n";
    });
    if (st == 77) {
        WARN("cannot make a private overlay or /proc/sys mount here");
        return;
    }
    std::string result = layers.read("result.txt");
    INFO(result);
    if (!unprivileged()) CHECK((contains(result, "overlay written") || contains(result, "overlay 125 named")));
    CHECK(contains(result, "proc 125 named"));
}

TEST_CASE("a FIFO given as --stdin is waited for, and a stop signal ends the wait cleanly") {
    WorkDir dir, fifos;   // the FIFO outside the work dir: the operator's path
    fs::path fifo = fifos.path() / "in.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0666) == 0);
    if (run_as() > 0) [[maybe_unused]] int rc = chown(fifo.c_str(), run_as(), run_as());

    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        int fd = open(fifo.c_str(), O_WRONLY);
        if (fd >= 0) {
            [[maybe_unused]] ssize_t n = write(fd, "hello\n", 6);
            close(fd);
        }
    });
    Result r = run(dir, {"--profile", "c", "--stdin", fifo.string(), "--", "/bin/cat"});
    writer.join();
    CHECK(r.status == 0);
    CHECK(r.out == "hello\n");

    // No writer ever: a judge's timeout (SIGTERM) ends the wait with a report.
    fs::path report = dir.path() / "r.json";
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        exec_as_runner({binary(), "--quiet", "--report", report.string(), "--stdin", fifo.string(), "--", "/bin/cat"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 125));
    CHECK(read_file(report).find("waiting for the FIFO") != std::string::npos);

    // A stop signal that came before the wait (held, pending) ends it at once.
    fs::remove(report);
    auto t0 = std::chrono::steady_clock::now();
    pid = fork();
    if (pid == 0) {
        if (chdir(dir.path().c_str()) != 0) _exit(200);
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, nullptr);   // blocked and pending across exec
        kill(getpid(), SIGTERM);
        exec_as_runner({binary(), "--quiet", "--report", report.string(), "--stdin", fifo.string(), "--", "/bin/cat"});
    }
    while (waitpid(pid, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (kill(pid, 0) == 0) {   // still waiting: ours, by pid
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 125));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));

    // A wall limit bounds the wait: an interactor that died before opening
    // its end hung the judge (and an orphaned sandboxrun stayed for good).
    // (Also the report, written after the run to a FIFO no one reads.)
    t0 = std::chrono::steady_clock::now();
    Result bounded = run(dir, {"--profile", "c", "--wall-time", "300ms", "--stdin", fifo.string(), "--", "/bin/cat"}, 20);
    CHECK(bounded.status == 125);
    CHECK(contains(bounded.err, "its other end did not open within the wall limit (300 ms)"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    // Also where the caller ignores the timer's signal (SIGRTMIN), which is
    // then no stop signal of ours.
    Result ignoring = run(dir, {"--profile", "c", "--wall-time", "300ms", "--stdin", fifo.string(), "--", "/bin/cat"}, 20,
                          "", [] { signal(SIGRTMIN, SIG_IGN); });
    CHECK(ignoring.status == 125);
    CHECK(contains(ignoring.err, "its other end did not open within the wall limit (300 ms)"));
    fs::path report_fifo = fifos.path() / "report.fifo";
    REQUIRE(mkfifo(report_fifo.c_str(), 0666) == 0);
    if (run_as() > 0) [[maybe_unused]] int rc = chown(report_fifo.c_str(), run_as(), run_as());
    Result unread = run(dir, {"--profile", "c", "--wall-time", "300ms", "--meta", report_fifo.string(), "--", "/bin/true"}, 20);
    CHECK(unread.status == 125);
    CHECK(contains(unread.err, "did not open within the wall limit"));
}

TEST_CASE("an inherited stdin file keeps its mode, whoever the run is", "[defense]") {
    // Unprivileged the run is the judge's uid, the owner of `< tests/1.in`:
    // its chmod 000 lasted, and failed every later run on that input.
    WorkDir dir, tests;
    tests.write("1.in", "input\n");
    fs::path input = tests.path() / "1.in";
    if (run_as() > 0) REQUIRE(chown(input.c_str(), run_as(), run_as()) == 0);
    fs::permissions(input, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    Result r = run(dir, {"--profile", "c", "--", "/bin/sh", "-c", "chmod 000 /dev/stdin; cat"}, 60, "", [&] {
        if (int fd = open(input.c_str(), O_RDONLY); fd >= 0) dup2(fd, 0);
    });
    INFO(r.err << r.report);
    struct stat st {};
    REQUIRE(stat(input.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    if (unprivileged()) CHECK(contains(r.report, "the run changed the mode of the caller's stdin; put back"));
}

TEST_CASE("without Landlock (or below ABI 3) an inherited stdin file cannot be emptied", "[defense]") {
    // Landlock guards truncation by path only from ABI 3 (Linux 6.2): below
    // it `truncate /dev/stdin` or an O_TRUNC open for reading emptied the
    // judge's input (unprivileged, the run is its owner; as root, a 0666 one).
    WorkDir dir, tests;
    tests.write("1.in", "input\n");
    fs::path input = tests.path() / "1.in";
    if (run_as() > 0) REQUIRE(chown(input.c_str(), run_as(), run_as()) == 0);
    else fs::permissions(input, fs::perms::all & ~(fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec));
    const std::string bin = binary(), no_landlock = (fs::path(programs()) / "no_landlock").string();
    Result r = run(dir, {}, 60, "", [&] {
        if (int fd = open(input.c_str(), O_RDONLY); fd >= 0) dup2(fd, 0);
        exec_as_runner({no_landlock, bin, "--profile", "c", "--", "/bin/sh", "-c",
                        "truncate -s 0 /dev/stdin; (: >/dev/stdin); python3 -c 'import os; os.open(\"/dev/stdin\", os.O_RDONLY | "
                        "os.O_TRUNC)'; read line; echo \"$line\""});
    });
    INFO(r.out << r.err);
    CHECK(r.out == "input\n");
    CHECK(read_file(input) == "input\n");
}

TEST_CASE("an inherited FIFO whose writer is done before the run still ends for poll and select") {
    // The run's own description of it, opened without a writer, kept its end
    // from poll until a writer came (the kernel's rule): node's and select()
    // readers waited for good, wall_time_limit for a correct program.
    WorkDir dir, fifos;
    fs::path fifo = fifos.path() / "in.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0666) == 0);
    int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    int writer = open(fifo.c_str(), O_WRONLY);
    REQUIRE(writer >= 0);
    REQUIRE(write(writer, "1 2 3\n", 6) == 6);
    close(writer);
    REQUIRE(fcntl(reader, F_SETFL, O_RDONLY) == 0);
    Result r = run(dir, {"--profile", "python", "--wall-time", "20s", "--", "/usr/bin/python3", "-c",
                         "import os, select, sys\n"
                         "data = b''\n"
                         "while select.select([0], [], [], 5)[0]:\n"
                         "    chunk = os.read(0, 4096)\n"
                         "    if not chunk: print(data.decode().strip()); sys.exit(0)\n"
                         "    data += chunk\n"
                         "print('no end'); sys.exit(1)\n"},
                   60, "", [&] { dup2(reader, 0); });
    close(reader);
    INFO(r.err << r.report);
    CHECK(r.out == "1 2 3\n");
    CHECK(verdict(r) == "ok");
}

TEST_CASE("a --stdin file is read-only to the run, even one the run's uid owns", "[defense]") {
    // Unprivileged the run is the owner of the judge's input: its chmod 000
    // failed every concurrent run on that input while it ran, its futimens lasted.
    WorkDir dir, tests;
    tests.write("1.in", "input\n");
    fs::path input = tests.path() / "1.in";
    if (run_as() > 0) REQUIRE(chown(input.c_str(), run_as(), run_as()) == 0);
    struct stat before {};
    REQUIRE(stat(input.c_str(), &before) == 0);
    Result r = run(dir, {"--profile", "c", "--stdin", input.string(), "--", "/bin/sh", "-c",
                         "chmod 000 /dev/stdin 2>/dev/null && echo chmod done; touch /dev/stdin 2>/dev/null && "
                         "echo touch done; cat"});
    INFO(r.err << r.report);
    CHECK(r.out == "input\n");
    struct stat after {};
    REQUIRE(stat(input.c_str(), &after) == 0);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

TEST_CASE("flags the run sets on an inherited pipe stay off the caller's end of it", "[defense]") {
    WorkDir dir;
    dir.add_program("set_nonblock");
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    if (run_as() > 0) {   // the runner's own pipes, as a judge's would be
        for (int fd : {in[0], out[1]}) REQUIRE(fchown(fd, run_as(), run_as()) == 0);
    }
    Result r = run(dir, {"--profile", "c", "--", "./set_nonblock"}, 60, {}, [&] {
        dup2(in[0], 0);
        dup2(out[1], 1);
    });
    INFO(r.err);
    CHECK(r.status == 0);
    // (fds of one pipe end share their flags: these are the judge's own.)
    CHECK((fcntl(in[0], F_GETFL) & O_NONBLOCK) == 0);
    CHECK((fcntl(out[1], F_GETFL) & O_NONBLOCK) == 0);
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
}

TEST_CASE("a socket as stdout can be asked what it is, as node's libuv does before writing there") {
    WorkDir dir;
    dir.add_program("stdio_socket");
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    Result r = run(dir, {"--profile", "c", "--", "./stdio_socket"}, 60, {}, [&] { dup2(pair[0], 1); });
    close(pair[0]);
    INFO(r.err << r.report);
    CHECK(r.status == 0);
    char buf[16] = "";
    CHECK(recv(pair[1], buf, sizeof buf - 1, MSG_DONTWAIT) == 2);
    CHECK(std::string(buf) == "hi");
    close(pair[1]);
}

TEST_CASE("a pty's master as stdout is written to as it is, not opened again (that would make a new pty)") {
    WorkDir dir;
    const Pty pty;
    REQUIRE(pty.slave >= 0);
    const int master = pty.master, slave = pty.slave;
    Result r = run(dir, {"--profile", "c", "--", "/bin/echo", "hi"}, 60, {}, [&] { dup2(master, 1); });
    INFO(r.err);
    CHECK(r.status == 0);
    fcntl(slave, F_SETFL, O_NONBLOCK);
    char buf[64] = "";
    CHECK(read(slave, buf, sizeof buf - 1) > 0);
    CHECK(contains(buf, "hi"));
}

TEST_CASE("--stdout /proc/self/fd/1 is the caller's own stdout, with no warning that the run replaced it") {
    WorkDir dir;   // run() points sandboxrun's stdout at a file of the work dir
    Result r = run(dir, {"--profile", "c", "--stdout", "/proc/self/fd/1", "--", "/bin/echo", "x"});
    CHECK(r.status == 0);
    CHECK(r.out == "x\n");
    CHECK(r.err.find("replaced") == std::string::npos);
}

TEST_CASE("the judge's --stdin and --stdout files keep their modes whatever the run does to its fds") {
    WorkDir dir, data;   // unprivileged, the run's uid owns them and chmod through /dev/stdin works
    data.write("in.txt", "data\n");
    for (const char* name : {"in.txt", "out.txt"}) {
        fs::path p = data.path() / name;
        if (!fs::exists(p)) data.write(name, "");
        REQUIRE(chmod(p.c_str(), 0644) == 0);
    }
    Result r = run(dir, {"--profile", "c", "--stdin", (data.path() / "in.txt").string(), "--stdout",
                         (data.path() / "out.txt").string(), "--", "/bin/sh", "-c", "chmod 0 /dev/stdin /dev/stdout; echo x"});
    INFO(r.err << r.report);
    CHECK(r.status == 0);
    for (const char* name : {"in.txt", "out.txt"}) {
        struct stat st {};
        REQUIRE(stat((data.path() / name).c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0644);
    }
    CHECK(data.read("out.txt") == "x\n");

    // A --stdout in the work dir that the run replaced (by a link to a host
    // file the judge would read back) is named.
    Result swapped = run(dir, {"--profile", "c", "--stdout", "out.txt", "--", "/bin/sh", "-c",
                               "echo x; rm out.txt; ln -s /etc/hostname out.txt"});
    INFO(swapped.err);
    CHECK(swapped.status == 0);
    CHECK(contains(swapped.err, "the run replaced out.txt"));
    CHECK(contains(swapped.report, "the run replaced out.txt"));
    Result kept = run(dir, {"--profile", "c", "--stdout", "kept.txt", "--", "/bin/echo", "x"});
    CHECK_FALSE(contains(kept.err, "replaced"));
}

TEST_CASE("a writable bind of a single file") {
    WorkDir dir, data;
    data.write("f.txt", "old\n");
    Result r = run(dir, {"--profile", "c", "--rw-bind", (data.path() / "f.txt").string() + ":/data.txt", "--", "/bin/sh",
                         "-c", "cat /data.txt; echo new > /data.txt"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "old\n");
    CHECK(data.read("f.txt") == "new\n");
}

TEST_CASE("a file bound over its own copy inside a read-only bind") {
    // base binds ?/etc/ld.so.cache; --ro-bind /etc puts a read-only copy of it there first.
    WorkDir dir;
    Result r = run(dir, {"--profile", "c", "--ro-bind", "/etc", "--", "/bin/cat", "/etc/hostname"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == read_file("/etc/hostname"));
}

TEST_CASE("the attempts of `check` refuse to run outside a sandbox") {
    // socket-packet is harmless where it works: a raw socket opened and dropped.
    WorkDir dir;
    fs::path err = dir.path() / "err.txt";
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || dup2(fd, 2) != 2) _exit(200);
        exec_as_runner({binary(), "__attempt", "socket-packet"});
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 125));
    CHECK(read_file(err).find("only inside its sandbox") != std::string::npos);
}

TEST_CASE("the target is never host root and sees only its own processes") {
    WorkDir dir;
    Result r = run_program(dir, "whoami");
    REQUIRE(r.status == 0);
    INFO(r.out << r.err);
    auto map = values(r.out, "uid_map");
    REQUIRE(map.size() == 1);
    std::istringstream fields(map[0]);
    long inside = -1, outside = -1, count = -1;
    fields >> inside >> outside >> count;
    CHECK(count == 1);
    CHECK(outside != 0);                                   // never host root
    if (unprivileged()) CHECK(outside == run_as());        // the caller's own uid
    CHECK(values(r.out, "uid")[0] != "0");
    CHECK(values(r.out, "hostname")[0] == "sandbox");
    // A user database of its own names the run's uid, and no host account.
    CHECK(values(r.out, "user").at(0).rfind("sandbox /", 0) == 0);
    REQUIRE_FALSE(values(r.out, "passwd").empty());
    for (const auto& entry : values(r.out, "passwd")) {
        std::string name = entry.substr(0, entry.find(':'));
        CHECK((name == "root" || name == "sandbox" || name == "nobody"));
    }

    // pid 1 is the run's init; the target and nothing else of the host.
    std::istringstream pids(values(r.out, "pids").at(0));
    std::vector<int> seen;
    for (int p; pids >> p;) seen.push_back(p);
    CHECK(seen.size() <= 2);
    for (int p : seen) CHECK(p <= 2);
}

TEST_CASE("every capability is dropped, no_new_privs and the filter are set") {
    WorkDir dir;
    Result r = run_program(dir, "whoami");
    REQUIRE(r.status == 0);
    INFO(r.out);
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
        REQUIRE(values(r.out, set).size() == 1);
        CHECK(values(r.out, set)[0] == "0000000000000000");
    }
    CHECK(values(r.out, "NoNewPrivs").at(0) == "1");
    CHECK(values(r.out, "Seccomp").at(0) == "2");   // filter mode
}

TEST_CASE("no network interface but lo") {
    WorkDir dir;
    Result r = run_program(dir, "whoami");
    REQUIRE(r.status == 0);
    auto ifs = values(r.out, "if");
    REQUIRE_FALSE(ifs.empty());
    for (const auto& i : ifs) CHECK(i == "lo");

    // --network shares the host's interfaces.
    std::set<std::string> host_ifs;
    if (struct if_nameindex* list = if_nameindex()) {
        for (auto* i = list; i->if_index != 0; ++i) host_ifs.insert(i->if_name);
        if_freenameindex(list);
    }
    Result shared = run_program(dir, "whoami", {"--network"});
    REQUIRE(shared.status == 0);
    auto shared_ifs = values(shared.out, "if");
    CHECK(std::set<std::string>(shared_ifs.begin(), shared_ifs.end()) == host_ifs);
}

TEST_CASE("the environment holds only what the profile allows") {
    WorkDir dir;
    setenv("SBX_SECRET", "host-secret", 1);
    setenv("LANG", "POSIX", 1);
    Result r = run_program(dir, "whoami", {"--env", "ADDED=1"});
    REQUIRE(r.status == 0);
    std::set<std::string> names;
    for (const auto& e : values(r.out, "env")) names.insert(e.substr(0, e.find('=')));
    CHECK(names.count("SBX_SECRET") == 0);
    CHECK(names.count("PATH") == 1);
    CHECK(names.count("ADDED") == 1);
    // Set by the base profile whatever the judge's own is (none under systemd):
    // javac and mono would read and write ASCII only.
    CHECK(contains(r.out, "env: LANG=C.UTF-8"));
    for (const auto& n : names)
        CHECK((n == "PATH" || n == "HOME" || n == "ADDED" || n == "LANG" || n == "LC_ALL" || n == "TZ" || n == "ASAN_OPTIONS" ||
               n == "LSAN_OPTIONS" || n == "KMP_AFFINITY" ||   // (the c profile's, for sanitizers and OpenMP)
               (n == "MALLOC_ARENA_MAX" && unprivileged())));   // (one malloc arena under RLIMIT_AS)

    Result passed = run_program(dir, "whoami", {"--env-pass", "SBX_SECRET"});
    CHECK(contains(passed.out, "env: SBX_SECRET=host-secret"));
    unsetenv("SBX_SECRET");
}

TEST_CASE("secrets of the host are absent") {
    WorkDir dir;
    // (/etc/passwd is the run's own: the identity test checks it.)
    Result r = run_program(dir, "try_read", {}, {"/etc/shadow", "/root", "/home", "/usr/bin/env"});
    INFO(r.out << r.err);
    CHECK(contains(r.out, "DENIED /etc/shadow"));
    CHECK(contains(r.out, "DENIED /root"));
    CHECK(contains(r.out, "DENIED /home"));
    CHECK(contains(r.out, "OK /usr/bin/env"));   // the test itself can tell reading from not reading
}

TEST_CASE("writes outside the allowed paths fail and leave the host unchanged") {
    WorkDir dir;
    std::string probe = "sbx-probe-" + std::to_string(getpid());
    Result r = run_program(dir, "try_write", {},
                           {"/usr/" + probe, "/etc/" + probe, "/" + probe, "/bin/" + probe, "/proc/sys/kernel/hostname",
                            "/tmp/" + probe, "/box/" + probe, "/proc/pressure/cpu"});
    INFO(r.out << r.err);
    CHECK(contains(r.out, "DENIED /usr/" + probe));
    CHECK(contains(r.out, "DENIED /etc/" + probe));
    CHECK(contains(r.out, "DENIED /" + probe));
    CHECK(contains(r.out, "DENIED /bin/" + probe));
    CHECK(contains(r.out, "DENIED /proc/sys/kernel/hostname"));
    // A PSI trigger watches the whole host (where the kernel has PSI at all).
    if (fs::exists("/proc/pressure/cpu")) CHECK(contains(r.out, "DENIED /proc/pressure/cpu"));
    CHECK(contains(r.out, "OK /tmp/" + probe));   // the run's own tmpfs
    CHECK(contains(r.out, "OK /box/" + probe));   // the work dir, read-write by default
    for (const char* host_dir : {"/usr/", "/etc/", "/", "/usr/bin/"}) CHECK_FALSE(fs::exists(host_dir + probe));
    CHECK_FALSE(fs::exists("/tmp/" + probe));      // the sandbox's /tmp is not the host's
    CHECK(fs::exists(dir.path() / probe));         // and the work dir is the host's
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    CHECK(std::string(host) != "sandbox");
}

TEST_CASE("files the target writes in the work dir belong to the work dir's owner") {
    WorkDir dir;
    std::string probe = "owned-" + std::to_string(getpid());
    Result r = run_program(dir, "try_write", {}, {"/box/" + probe});
    REQUIRE(contains(r.out, "OK /box/" + probe));
    struct stat file {}, owner {};
    REQUIRE(stat((dir.path() / probe).c_str(), &file) == 0);
    REQUIRE(stat(dir.path().c_str(), &owner) == 0);
    CHECK(file.st_uid == owner.st_uid);
}

TEST_CASE("a read-only work dir reads as its owner, a private one (mkdtemp) and a 0600 submission too") {
    WorkDir dir;
    REQUIRE(chmod(dir.path().c_str(), 0700) == 0);
    dir.write("sol.txt", "submitted\n");
    REQUIRE(chmod((dir.path() / "sol.txt").c_str(), 0600) == 0);
    Result r = run(dir, {"--profile", "c", "--cwd-mode", "ro", "--", "/bin/sh", "-c", "cat sol.txt; touch new; chmod 777 ."});
    INFO(r.err);
    CHECK(r.out == "submitted\n");
    CHECK(contains(r.err, "Read-only file system"));   // still read-only, its mode the host's
    CHECK_FALSE(fs::exists(dir.path() / "new"));
    struct stat st {};
    REQUIRE(stat(dir.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
}

TEST_CASE("a disallowed syscall kills the run and is named") {
    WorkDir dir;
    Result r = run_program(dir, "forbidden_syscall", {}, {"ptrace"});
    INFO(r.err << r.report);
    CHECK(verdict(r) == "syscall_violation");
    CHECK(json_field(r.report, "name") == "\"ptrace\"");
    CHECK(r.status == 128 + 9);
}

TEST_CASE("a custom profile's filter is cached (root: 0600 in a 0700 dir) and still enforced from the cache") {
    WorkDir dir, profiles;   // (profiles may not lie where runs write)
    // An errno rule no stock profile has: the build-time table holds no program for it.
    // (Allowing sched_setscheduler instead would hit the table: that is the pascal profile.)
    profiles.write("custom.toml", "extends = \"c\"\n[syscalls]\nerrno = { sched_setscheduler = \"EPERM\" }\n");
    dir.add_program("forbidden_syscall");
    for (int round = 0; round < 2; ++round) {
        Result r = run(dir, {"--profile", (profiles.path() / "custom.toml").string(), "--", "./forbidden_syscall", "ptrace"});
        INFO("round " << round << ": " << r.err << r.report);
        CHECK(verdict(r) == "syscall_violation");
        CHECK(json_field(r.report, "name") == "\"ptrace\"");
    }
    if (unprivileged()) return;   // the cache lives in $XDG_RUNTIME_DIR there, if anywhere
    const fs::path cache = "/run/sandboxrun/bpf";
    struct stat st {};
    REQUIRE(::stat(cache.c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
    CHECK((st.st_mode & 0777) == 0700);
    bool found = false;
    for (const auto& e : fs::directory_iterator(cache)) {
        if (read_file(e.path()).find("sched_setscheduler") == std::string::npos) continue;
        found = true;
        REQUIRE(::stat(e.path().c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
    }
    CHECK(found);
}

TEST_CASE("a program compiled inside the sandbox runs inside it") {
    WorkDir dir;
    dir.write("main.cpp", "#include <iostream>\nint main(){std::string s; std::cin >> s; std::cout << \"hi \" << s << '\\n';}\n");
    Result cc = run(dir, {"--profile", "cpp", "--", "g++", "-O2", "-o", "main", "main.cpp"}, 120);
    INFO(cc.err);
    REQUIRE(cc.status == 0);
    REQUIRE(fs::exists(dir.path() / "main"));
    Result r = run(dir, {"--profile", "cpp", "--", "./main"}, 60, "judge\n");
    CHECK(r.status == 0);
    CHECK(r.out == "hi judge\n");
}

TEST_CASE("python runs with the python profile") {
    WorkDir dir;
    dir.write("solution.py", "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n");
    Result r = run(dir, {"--profile", "python", "--", "/usr/bin/python3", "solution.py"}, 60, "1 2 3\n");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "6\n");
}

TEST_CASE("the run's stdio ends with the run, also sent in a cycle of unix sockets", "[defense]") {
    // Sent over a socket pair together with the pair itself, the run's stdout
    // and stderr stayed open in the kernel after the run, until some unix
    // socket on the host was released: the judge's pipe saw no end (an
    // interactor waiting for it reached its wall limit) and a relayed stderr
    // held the supervisor 5 s.
    WorkDir dir;
    dir.write("cycle.py", "import socket\nprint('out', flush=True)\na, b = socket.socketpair()\n"
                          "socket.send_fds(a, [b'x'], [a.fileno(), b.fileno(), 1, 2])\n");
    dir.write("log.txt", "earlier\n");   // appended to: the run's stderr is relayed into it
    for (int i = 0; i < 3; ++i) {
        int p[2];
        REQUIRE(pipe2(p, O_CLOEXEC) == 0);
        const auto began = std::chrono::steady_clock::now();
        Result r = run(dir, {"--profile", "python", "--", "/usr/bin/python3", "cycle.py"}, 60, "", [&] {
            dup2(p[1], 1);
            if (int log = open((dir.path() / "log.txt").c_str(), O_WRONLY | O_APPEND); log >= 0) dup2(log, 2);
        });
        const auto took = std::chrono::steady_clock::now() - began;
        close(p[1]);
        std::string out;
        bool ended = false;
        for (pollfd pf{p[0], POLLIN, 0}; !ended && poll(&pf, 1, 3000) > 0;) {
            char buf[256];
            const ssize_t n = read(p[0], buf, sizeof buf);
            if (n <= 0) ended = true;
            else out.append(buf, static_cast<std::size_t>(n));
        }
        close(p[0]);
        INFO(r.report);
        CHECK(verdict(r) == "ok");
        CHECK(out == "out\n");
        CHECK(ended);
        CHECK(took < std::chrono::seconds(3));
    }
}

TEST_CASE("root of a user namespace that does not map the uid range is told so, not a permission error") {
    WorkDir dir;
    const std::string bin = binary();
    Result r = run(dir, {}, 60, "", [&] {
        exec_as_runner({"unshare", "--user", "--map-root-user", bin, "--profile", "c", "--", "/bin/true"});
    });
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK(contains(r.err, "is not mapped in this user namespace"));
}

TEST_CASE("uid 0 without CAP_SYS_ADMIN (a container's root) is told so") {
    if (unprivileged()) return;   // (another user takes the unprivileged path anyway)
    WorkDir dir;
    const std::string bin = binary();
    Result r = run(dir, {}, 60, "", [&] {
        exec_as_runner({"setpriv", "--bounding-set=-sys_admin", bin, "--profile", "c", "--", "/bin/true"});
    });
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK(contains(r.err, "running as uid 0 without CAP_SYS_ADMIN"));
}

TEST_CASE("where no idmapped mount can pass an output file, the run can still open /dev/stdout") {
    if (unprivileged()) return;   // (mounting overlayfs needs root; unprivileged the run owns its files)
    // overlayfs (a container's root) takes no idmapped mount: node's
    // writeFileSync('/dev/stdout') of a correct program was runtime_error.
    WorkDir dir;
    const std::string bin = binary(), d = dir.path().string();
    Result r = run(dir, {}, 60, "", [&] {
        exec_as_runner({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                        "mkdir l u w m && mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m && "
                        "chmod 1777 m && cd m && \"$1\" --quiet --profile c --stdout o.txt -- /bin/sh -c "
                        "'echo via-path > /dev/stdout' && cat o.txt && stat -c %u o.txt",
                        "sh", bin});
    });
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "via-path\n0\n");   // and the file is given back to its owner
}

TEST_CASE("a work dir on a read-only mount is refused for a writable bind, not blamed on the program") {
    if (unprivileged()) return;   // (mounting it read-only needs root)
    // A file system the kernel remounted read-only after an I/O error failed
    // every compile as the program's runtime_error.
    WorkDir dir;
    const std::string bin = binary(), d = dir.path().string();
    for (const std::string mode : {"rw", "ro"}) {
        Result r = run(dir, {}, 60, "", [&] {
            exec_as_runner({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                            "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && cd \"$1\" && "
                            "exec \"$2\" --cwd-mode \"$3\" --profile c -- /bin/true",
                            "sh", d, bin, mode});
        });
        INFO(mode << ": " << r.err);
        if (mode == "ro") {
            CHECK(r.status == 0);
            continue;
        }
        CHECK(r.status == 125);
        CHECK(contains(r.err, "is on a read-only mount, and the bind is to be writable"));
    }
}

TEST_CASE("a report never replaces the caller's stdin or stdout, the command, a profile or a file the run reads") {
    WorkDir dir, profiles;
    dir.write("in.txt", "judge input\n");
    dir.add_program("exit3");
    profiles.write("judge.toml", "extends = \"c\"\n");
    const std::string profile = (profiles.path() / "judge.toml").string();
    const auto program_size = fs::file_size(dir.path() / "exit3");
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    // (A later --report wins over the harness's own.)
    for (const Case& c : std::vector<Case>{
             {{"--report", "/dev/stdin", "--", "/bin/cat"}, "is the caller's stdin"},
             {{"--report", "/dev/stdout", "--", "/bin/echo", "output"}, "is the caller's stdout"},
             {{"--meta", "./exit3", "--", "./exit3"}, "is the command"},
             {{"--profile", profile, "--report", profile, "--", "/bin/true"}, "is the profile"},
             {{"--stdin", "in.txt", "--report", "in.txt", "--", "/bin/cat"}, "name the same file"}}) {
        Result r = run(dir, c.args, 60, "caller's input\n");
        INFO(c.args[0] << " " << c.args[1] << ": " << r.out << r.err);
        CHECK(r.status == 125);
        CHECK(contains(r.err, c.message));
        CHECK(r.out.empty());   // neither the command's output nor a report
    }
    CHECK(dir.read("in.txt") == "judge input\n");
    CHECK(fs::file_size(dir.path() / "exit3") == program_size);
    CHECK(read_file(profile) == "extends = \"c\"\n");

    // Where the run's output goes elsewhere, the caller's stdout is the
    // report's (`--stdout out.txt --report /dev/stdout > r.json`), written
    // through the caller's descriptor, as it would go through a pipe.
    for (const char* name : {"/dev/stdout", "/proc/self/fd/1"}) {
        Result r = run(dir, {"--stdout", "answer.txt", "--report", name, "--", "/bin/echo", "answer"});
        INFO(name << ": " << r.err);
        CHECK(r.status == 0);
        CHECK(contains(r.out, "\"verdict\": \"ok\""));
        CHECK(dir.read("answer.txt") == "answer\n");
    }
}

TEST_CASE("profiles where runs write and / as the invoking directory are refused") {
    // A run that rewrites /box/judge.toml (rw = ["/:/host"]) escapes in the next run that loads it.
    WorkDir dir, profiles;
    dir.write("judge.toml", "extends = \"c\"\n");
    fs::create_directory(dir.path() / "profiles");
    profiles.write("judge.toml", "extends = \"c\"\n");
    const std::string outside = (profiles.path() / "judge.toml").string();
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"--profile", "./judge.toml"},
             {"--profile", "judge", "--profile-path", "."},
             {"--profile", "c", "--profile-path", (dir.path() / "profiles").string()},   // a run can put judge.toml there
             {"--profile", outside, "--rw-bind", profiles.path().string() + ":/data"},
             {"--profile", "./judge.toml", "--cwd-mode", "none"}}) {
        std::vector<std::string> a = args;
        a.insert(a.end(), {"--", "/bin/true"});
        Result r = run(dir, a);
        INFO(a[0] << " " << a[1] << " " << a[2] << ": " << r.err);
        CHECK(r.status == 125);
        CHECK(contains(r.err, "a directory runs can write"));
        CHECK(verdict(r) == "sandbox_error");
    }
    // So is sandboxrun's own binary, which a run could replace for the next call.
    const fs::path copy = dir.path() / "sandboxrun";
    fs::copy_file(binary(), copy);
    Result self = run(dir, {}, 60, "", [&] { exec_as_runner({copy.string(), "--profile", "c", "--", "/bin/true"}); });
    INFO(self.err);
    CHECK(self.status == 125);
    CHECK(contains(self.err, "sandboxrun itself"));
    fs::remove(copy);
    Result ok = run(dir, {"--profile", outside, "--", "/bin/true"});
    INFO(ok.err);
    CHECK(ok.status == 0);

    // Started in / (systemd's default), the work dir bind would be the host's whole tree.
    auto in_root = [] { [[maybe_unused]] int rc = chdir("/"); };
    Result root = run(dir, {"--profile", "c", "--report", (dir.path() / "r.json").string(), "--", "/bin/true"}, 60, "", in_root);
    INFO(root.err);
    CHECK(root.status == 125);
    CHECK(contains(root.err, "the invoking directory is /"));
    Result none = run(dir, {"--profile", "c", "--cwd-mode", "none", "--", "/bin/true"}, 60, "", in_root);
    INFO(none.err);
    CHECK(none.status == 0);
}

TEST_CASE("bad input: one clear message, exit 125/126/127, nothing left behind") {
    WorkDir dir;
    std::string mounts_before = host_mounts();
    dir.write("bad.toml", "[limits]\nmemory = \"12XB\"\n");
    dir.write("broken.toml", "[limits\n");
    dir.write("unknown.toml", "[filesystem]\nrox = []\n");
    dir.write("notexec", "data\n");
    dir.write("in.txt", "judge input\n");
    fs::create_directory(dir.path() / "sub");
    fs::create_hard_link(dir.path() / "in.txt", dir.path() / "in_link.txt");
    dir.write("badinterp", "#!/nonexistent-sbx-interpreter\n");
    fs::permissions(dir.path() / "badinterp", fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);
    dir.write("crlf.sh", "#!/bin/sh\r\necho hi\r\n");   // saved on Windows
    fs::permissions(dir.path() / "crlf.sh", fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);

    struct Case {
        std::vector<std::string> args;
        int status;
        std::string message;
    };
    std::vector<Case> cases = {
        {{"--profile", "no-such-profile", "--", "/bin/true"}, 125, "no-such-profile"},
        {{"--profile", "./broken.toml", "--", "/bin/true"}, 125, "broken.toml:1:"},
        {{"--profile", "./bad.toml", "--", "/bin/true"}, 125, "bad.toml:2:"},
        {{"--profile", "./unknown.toml", "--", "/bin/true"}, 125, "unknown.toml:2:1"},
        {{"--memory", "lots", "--", "/bin/true"}, 125, "--memory"},
        {{"--wall-time", "5 parsecs", "--", "/bin/true"}, 125, "--wall-time"},
        {{"--ro-bind", "/nonexistent-sbx-src:/x", "--", "/bin/true"}, 125, "/nonexistent-sbx-src"},
        {{"--profile", "c"}, 125, "command"},
        {{"--stdout", "/proc/self/mem", "--", "/bin/true"}, 125, "/proc/self/mem: refused"},   // sandboxrun's own memory
        {{"--stdin", "in.txt", "--stdout", "./in.txt", "--", "/bin/cat"}, 125, "--stdin and --stdout name the same file"},
        {{"--profile-path", "/nonexistent-sbx-profiles", "--", "/bin/true"}, 125, "/nonexistent-sbx-profiles: No such file"},
        {{"--ro-bind", "/etc/hostname:/usr/lib", "--", "/bin/true"}, 125, "--ro-bind: mounts: create mount point: /usr/lib"},
        {{"--meta", "sub/m.txt", "--", "/bin/true"}, 125, "sub/m.txt: refused: in a subdirectory of"},   // a run can swap sub
        {{"--stdin", "in.txt", "--stdout", "in_link.txt", "--", "/bin/cat"}, 125, "name the same file"},   // a hard link
        {{"--stdin", "/etc", "--", "/bin/true"}, 125, "--stdin: /etc: is a directory"},
        {{"--", "no-such-command-sbx"}, 127, "no-such-command-sbx"},
        {{"--", "./notexec"}, 126, "notexec"},
        {{"--ro-bind", "/etc:/dev/null", "--", "/bin/true"}, 125, "a directory cannot be bound where the sandbox has a file"},
        {{"--", "./badinterp"}, 126, "/nonexistent-sbx-interpreter"},   // its #! interpreter, named
        {{"--", "./crlf.sh"}, 126, "is not in the sandbox: the script has Windows line ends"},
    };
    // (Root alone may open it: a kernel setting the command's output would set.)
    if (!unprivileged() && fs::exists("/sys/kernel/mm/transparent_hugepage/enabled"))
        cases.push_back({{"--stdout", "/sys/kernel/mm/transparent_hugepage/enabled", "--", "/bin/true"}, 125,
                         "refused: a file of /sys would be a kernel setting"});
    for (const Case& c : cases) {
        Result r = run(dir, c.args);
        INFO(c.args[0] << " " << c.args[1] << ": " << r.err);
        CHECK(r.status == c.status);
        CHECK(contains(r.err, c.message));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') >= 1);
        // The report says so too (the harness always asks for one), unless
        // the command line itself could not be read.
        if (c.args.size() > 1 && c.args[1] != "c") {
            CHECK(verdict(r) == "sandbox_error");
            CHECK(contains(r.report, c.message));
        }
    }
    CHECK(dir.read("in.txt") == "judge input\n");   // not truncated by the --stdout naming it
    // An inherited stdin that is a directory is refused as --stdin's is: the run could list it.
    Result listed = run(dir, {"--", "/bin/true"}, 60, "", [] {
        if (int fd = open("/etc", O_RDONLY | O_DIRECTORY); fd >= 0) dup2(fd, 0);
    });
    CHECK(listed.status == 125);
    CHECK(contains(listed.err, "the caller's stdin is a directory"));
    // A policy or cleanup summary that could not be written is no success (`--explain > judge.toml`, disk full).
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--explain"}, {"cleanup"}}) {
        Result full = run(dir, args, 60, "", [] {
            if (int fd = open("/dev/full", O_WRONLY); fd >= 0) dup2(fd, 1);
        });
        CHECK(full.status == 125);
        CHECK(contains(full.err, "writing to stdout: No space left on device"));
    }
    // Out of descriptors is said so, not blamed on the file system (`ulimit -n 10`).
    Result few = run(dir, {"--", "/bin/true"}, 60, "", [] {
        rlimit ten{10, 10};
        setrlimit(RLIMIT_NOFILE, &ten);
    });
    CHECK(few.status == 125);
    CHECK(contains(few.err, "Too many open files"));
    CHECK_FALSE(contains(few.err, "idmapped"));
    // --stderr /dev/stderr is the judge's own log, kept as it is (opened again it was truncated).
    Result log = run(dir, {"--stderr", "/dev/stderr", "--", "/bin/sh", "-c", "echo from the run >&2"}, 60, "", [] {
        [[maybe_unused]] ssize_t n = write(2, "judge log\n", 10);
    });
    CHECK(log.status == 0);
    CHECK(log.err.starts_with("judge log\nfrom the run\n"));   // (then warnings, unprivileged)
    CHECK(run(dir, {"--stdout", "/dev/stderr", "--", "/bin/true"}).status == 125);   // (1>&2 in the shell)
    // /dev/null for several of them spoils nothing (a compile step's).
    Result null = run(dir, {"--stdin", "/dev/null", "--stdout", "/dev/null", "--stderr", "/dev/null", "--meta",
                            "/dev/null", "--", "/bin/true"});
    INFO(null.err);
    CHECK(null.status == 0);
    // A --meta that cannot be written is found before the run, not after it.
    WorkDir elsewhere;
    fs::create_directory(elsewhere.path() / "meta");
    Result meta = run(dir, {"--meta", (elsewhere.path() / "meta").string(), "--", "/bin/touch", "ran"});
    INFO(meta.err);
    CHECK(meta.status == 125);
    CHECK(contains(meta.err, "meta is a directory"));
    CHECK_FALSE(fs::exists(dir.path() / "ran"));
    // A bind that fails only while the root is built is named at its profile line.
    elsewhere.write("file_on_dir.toml", "extends = \"c\"\n[filesystem]\nro = [\"/etc/hostname:/usr/lib\"]\n");
    const std::string profile = (elsewhere.path() / "file_on_dir.toml").string();
    Result at_line = run(dir, {"--profile", profile, "--", "/bin/true"});
    CHECK(at_line.status == 125);
    CHECK(contains(at_line.err, profile + ":3:7: mounts: create mount point: /usr/lib"));
    CHECK(host_mounts() == mounts_before);
}
