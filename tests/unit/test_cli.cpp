// The command line: overrides win over the profile, subcommands, and every
// bad value names its option.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "sandboxrun/cli.hpp"
#include "sandboxrun/error.hpp"

using namespace sandboxrun;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Invocation parse(std::vector<std::string> args) {
    args.insert(args.begin(), "sandboxrun");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(args.size()), argv.data());
}

std::string parse_error(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const Error& e) {
        CHECK(e.exit_code() == exit_sandbox_error);
        return e.what();
    }
    FAIL("no error thrown");
    return {};
}

// stdout of parse(), for --help and --version.
std::pair<Invocation, std::string> parse_capturing(std::vector<std::string> args) {
    std::ostringstream out;
    auto* old = std::cout.rdbuf(out.rdbuf());
    Invocation inv;
    try {
        inv = parse(std::move(args));
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
    return {inv, out.str()};
}

const Bind* find_bind(const Policy& p, const std::string& target) {
    for (const auto& b : p.fs.binds)
        if (b.target == target) return &b;
    return nullptr;
}

}  // namespace

TEST_CASE("cli: the command after -- and the default profile", "[cli]") {
    Invocation inv = parse({"--", "./main", "--flag", "--", "x"});
    CHECK(inv.command == Command::run);
    CHECK(inv.argv == std::vector<std::string>{"./main", "--flag", "--", "x"});
    CHECK(inv.policy.name == "base");
    CHECK(inv.uid_range.first == 60000);
    CHECK(inv.uid_range.count == 5000);
    CHECK_FALSE(inv.exit_now);
    CHECK_FALSE(inv.stdin_path);
}

TEST_CASE("cli: limit options override the profile", "[cli]") {
    Invocation inv = parse({"--profile", "c", "--memory", "256MiB", "--cpu-time", "2s", "--processes", "5",
                            "--wall-time", "none", "--stack", "16MiB", "--open-files", "10", "--file-size", "1KiB",
                            "--", "./main"});
    CHECK(inv.policy.name == "c");
    CHECK(inv.policy.limits.memory == 256ULL << 20);   // profile c says 1GiB
    CHECK(inv.policy.limits.cpu_time == 2000ms);
    CHECK(inv.policy.limits.processes == 5U);
    CHECK_FALSE(inv.policy.limits.wall_time);          // profile base says 30s
    CHECK(inv.policy.limits.stack == 16ULL << 20);
    CHECK(inv.policy.limits.open_files == 10U);
    CHECK(inv.policy.limits.file_size == 1024U);

    Invocation unlimited = parse({"--profile", "c", "--memory", "unlimited", "--", "./main"});   // ulimit's word
    CHECK_FALSE(unlimited.policy.limits.memory);   // profile c says 1GiB

    Invocation plain = parse({"--profile", "c", "--", "./main"});
    CHECK(plain.policy.limits.memory == 1ULL << 30);
    CHECK(plain.policy.limits.wall_time == 30000ms);

    // A judge's defaults, then a problem's overrides: the last one counts;
    // repeatable options keep every one.
    Invocation twice = parse({"--profile", "c-run", "--cpu-time", "1s", "--stdout", "a", "--profile", "c",
                              "--cpu-time", "2s", "--stdout", "b", "--ro-bind", "/etc:/e1", "--ro-bind", "/usr:/e2",
                              "--", "./main"});
    CHECK(twice.policy.name == "c");
    CHECK(twice.policy.limits.cpu_time == 2000ms);
    CHECK(twice.stdout_path == "b");
    int binds = 0;
    for (const Bind& b : twice.policy.fs.binds) binds += b.target == "/e1" || b.target == "/e2";
    CHECK(binds == 2);
}

TEST_CASE("cli: filesystem, environment and network overrides", "[cli]") {
    Invocation inv = parse({"--ro-bind", "/usr/share:/data", "--rw-bind", "/usr", "--rw-bind", "/tmp:/x",
                            "--ro-bind", "/tmp:/x", "--ro-bind", "?/nonexistent-sandboxrun:/opt/none",
                            "--ro-bind", ".:/cwd", "--tmpfs", "/scratch:1MiB", "--tmpfs", "/tmp",
                            "--cwd-mode", "ro", "--workdir", "/w", "--chdir", "/w/sub",
                            "--env", "A=1=2", "--env", "PATH=/x", "--env-pass", "TERM", "--env-pass", "LANG",
                            "--network", "--no-loopback", "--hostname", "judge", "--", "true"});
    const Policy& p = inv.policy;
    const Bind* data = find_bind(p, "/data");
    REQUIRE(data);
    CHECK(data->source == "/usr/share");
    CHECK_FALSE(data->writable);
    CHECK(data->origin == "--ro-bind");
    const Bind* usr = find_bind(p, "/usr");   // profile base binds /usr read-only
    REQUIRE(usr);
    CHECK(usr->writable);
    CHECK(usr->origin == "--rw-bind");
    const Bind* x = find_bind(p, "/x");       // the later of two options with the same target wins
    REQUIRE(x);
    CHECK_FALSE(x->writable);
    const Bind* none = find_bind(p, "/opt/none");
    REQUIRE(none);
    CHECK(none->optional);
    const Bind* cwd = find_bind(p, "/cwd");
    REQUIRE(cwd);
    CHECK(cwd->source == std::filesystem::current_path().lexically_normal().string());

    auto tmpfs = [&](const std::string& target) -> const Tmpfs* {
        for (const auto& t : p.fs.tmpfs)
            if (t.target == target) return &t;
        return nullptr;
    };
    REQUIRE(tmpfs("/scratch"));
    CHECK(tmpfs("/scratch")->size == 1ULL << 20);
    CHECK(tmpfs("/scratch")->origin == "--tmpfs");
    REQUIRE(tmpfs("/tmp"));
    CHECK(tmpfs("/tmp")->origin == "--tmpfs");   // replaced the profile's /tmp
    CHECK(tmpfs("/tmp")->size == 64ULL << 20);

    CHECK(p.fs.cwd == CwdMode::ro);
    CHECK(p.fs.workdir == "/w");
    CHECK(p.fs.chdir == "/w/sub");
    CHECK(p.env.set.at("A") == "1=2");
    CHECK(p.env.set.at("PATH") == "/x");
    CHECK(p.env.set.at("HOME") == "/tmp");   // still from the profile
    CHECK(std::count(p.env.pass.begin(), p.env.pass.end(), "LANG") == 1);
    CHECK(std::count(p.env.pass.begin(), p.env.pass.end(), "TERM") == 1);
    CHECK(p.net.enabled);
    CHECK_FALSE(p.net.loopback);
    CHECK(p.hostname == "judge");

    // --env-pass wins over the profile's value where the variable is set (else that stays); --env over both.
    TempDir tmp("sandboxrun-cli");
    tmp.write("with_env.toml", "extends = \"minimal\"\n[environment.set]\nSBX_PASSED = \"profile\"\n"
                               "SBX_UNSET = \"profile\"\nSBX_BOTH = \"profile\"\n");
    setenv("SBX_PASSED", "from the caller", 1);
    setenv("SBX_BOTH", "from the caller", 1);
    unsetenv("SBX_UNSET");
    Invocation pass = parse({"--profile-path", tmp.path.string(), "--profile", "with_env", "--env-pass",
                             "SBX_PASSED", "--env-pass", "SBX_UNSET", "--env-pass", "SBX_BOTH", "--env",
                             "SBX_BOTH=cli", "--", "true"});
    CHECK_FALSE(pass.policy.env.set.contains("SBX_PASSED"));
    CHECK(pass.policy.env.set.at("SBX_UNSET") == "profile");
    CHECK(pass.policy.env.set.at("SBX_BOTH") == "cli");

    Invocation off = parse({"--network", "--no-network", "--", "true"});
    CHECK_FALSE(off.policy.net.enabled);
    CHECK(off.policy.net.loopback);
    Invocation on = parse({"--no-network", "--no-loopback", "--network", "--loopback", "--", "true"});
    CHECK(on.policy.net.enabled);
    CHECK(on.policy.net.loopback);
}

TEST_CASE("cli: io, reports, uid range, verbosity", "[cli]") {
    Invocation inv = parse({"--stdin", "in.txt", "--stdout", "out.txt", "--stderr", "err.txt", "--report", "r.json",
                            "--meta", "m.txt", "--uid-range", "100000:10", "-v", "--", "true"});
    CHECK(inv.stdin_path == "in.txt");
    CHECK(inv.stdout_path == "out.txt");
    CHECK(inv.stderr_path == "err.txt");
    CHECK(inv.report_path == "r.json");
    CHECK(inv.meta_path == "m.txt");
    CHECK(inv.uid_range.first == 100000);
    CHECK(inv.uid_range.count == 10);
    CHECK(inv.verbose);
    CHECK_FALSE(inv.quiet);
    CHECK(parse({"-q", "--", "true"}).quiet);

    ::setenv("SANDBOXRUN_UID_RANGE", "200000:20", 1);
    Invocation env = parse({"--", "true"});
    ::unsetenv("SANDBOXRUN_UID_RANGE");
    CHECK(env.uid_range.first == 200000);
    CHECK(env.uid_range.count == 20);
    // Its errors name where the range came from.
    ::setenv("SANDBOXRUN_UID_RANGE", "0:20", 1);
    std::string from_env = parse_error({"--", "true"}), from_flag = parse_error({"--uid-range", "0:20", "--", "true"});
    ::unsetenv("SANDBOXRUN_UID_RANGE");
    CHECK_THAT(from_env, StartsWith("SANDBOXRUN_UID_RANGE: bad range \"0:20\""));
    CHECK_THAT(from_flag, StartsWith("--uid-range: bad range \"0:20\""));
}

TEST_CASE("cli: explain, subcommands, missing command", "[cli]") {
    Invocation explain = parse({"--profile", "python", "--explain"});
    CHECK(explain.command == Command::explain);
    CHECK(explain.argv.empty());
    CHECK(explain.policy.name == "python");

    CHECK(parse_error({"--profile", "c"}) == "no command given: put it after \"--\", e.g. sandboxrun --profile c -- ./main");
    CHECK_THAT(parse_error({"--profile", "c", "./main"}), Contains("put the command after \"--\""));

    Invocation cleanup = parse({"cleanup"});
    CHECK(cleanup.command == Command::cleanup);
    CHECK(cleanup.policy.sources.empty());   // no profile needed

    Invocation check = parse({"check", "--profile", "cpp"});
    CHECK(check.command == Command::check);
    CHECK(check.policy.name == "cpp");

    Invocation learn = parse({"learn", "--profile", "c", "--", "./main"});
    CHECK(learn.command == Command::learn);
    CHECK(learn.argv == std::vector<std::string>{"./main"});
    CHECK_THAT(parse_error({"learn"}), StartsWith("no command given"));
    // What a subcommand would ignore is refused, not taken for done.
    CHECK(parse_error({"cleanup", "--", "true"}) == "cleanup takes no command");
    CHECK(parse_error({"cleanup", "--profile", "cpp"}) == "cleanup does not take --profile");
    CHECK(parse_error({"cleanup", "--memory", "1GiB"}) == "cleanup does not take --memory");
    CHECK(parse_error({"cleanup", "--ro-bind", "/etc"}) == "cleanup does not take --ro-bind");
    CHECK_NOTHROW(parse({"cleanup", "-q", "--cgroup-parent", "."}));
    CHECK(parse_error({"check", "--", "true"}) == "check takes no command");
    CHECK(parse_error({"check", "--stdout", "o.txt"}) == "check does not take --stdout");
    CHECK(parse_error({"learn", "--explain", "--", "true"}) == "learn does not take --explain");
    CHECK(parse_error({"--explain", "--", "./main"}) == "--explain takes no command");
    CHECK(parse_error({"--explain", "--stdin", "in.txt"}) == "--explain does not take --stdin");
}

TEST_CASE("cli: bad values name the option and the value", "[cli]") {
    CHECK_THAT(parse_error({"--memory", "12XB", "--", "true"}), StartsWith("--memory: bad size \"12XB\": unknown unit"));
    CHECK_THAT(parse_error({"--cpu-time", "5", "--", "true"}), StartsWith("--cpu-time: bad duration \"5\": a unit is required"));
    CHECK(parse_error({"--processes", "abc", "--", "true"}) == "--processes: bad number \"abc\"");
    CHECK(parse_error({"--processes", "0", "--", "true"}) == "--processes: \"0\" must be greater than 0");
    CHECK(parse_error({"--wall-time", "0s", "--", "true"}) == "--wall-time: \"0s\" must be greater than 0");
    CHECK(parse_error({"--cwd-mode", "maybe", "--", "true"}) == "--cwd-mode: bad value \"maybe\": use rw, ro or none");
    CHECK_THAT(parse_error({"--tmpfs", "scratch", "--", "true"}), StartsWith("--tmpfs: \"scratch\": \"scratch\" is not an absolute path"));
    CHECK_THAT(parse_error({"--tmpfs", "/s:lots", "--", "true"}), StartsWith("--tmpfs: \"/s:lots\": bad size \"lots\""));
    CHECK(parse_error({"--env", "NOEQUALS", "--", "true"}) == "--env: bad value \"NOEQUALS\": expected NAME=VALUE");
    CHECK(parse_error({"--env-pass", "A=B", "--", "true"}) == "--env-pass: \"A=B\" is not a variable name");
    CHECK_THAT(parse_error({"--workdir", "box", "--", "true"}), StartsWith("--workdir: \"box\" is not an absolute path"));
    CHECK(parse_error({"--ro-bind", "/usr:data", "--", "true"}) ==
          "--ro-bind: bad bind \"/usr:data\": DST \"data\" is not an absolute path");
    CHECK(parse_error({"--ro-bind", "/nonexistent-sandboxrun", "--", "true"}) ==
          "--ro-bind: bind source /nonexistent-sandboxrun does not exist: No such file or directory");
    CHECK_THAT(parse_error({"--uid-range", "0:10", "--", "true"}), StartsWith("--uid-range: bad range \"0:10\""));
    CHECK_THAT(parse_error({"--uid-range", "5", "--", "true"}), StartsWith("--uid-range: bad range \"5\""));
    CHECK_THAT(parse_error({"--uid-range", "1:0", "--", "true"}), StartsWith("--uid-range: bad range \"1:0\""));
    CHECK_THAT(parse_error({"--uid-range", "4294967290:10", "--", "true"}), Contains("past the largest uid"));
    // A sum that wraps around 2^64 must not slip through to uid 0.
    CHECK_THAT(parse_error({"--uid-range", "18446744073709551615:2", "--", "true"}), Contains("past the largest uid"));
    CHECK_THAT(parse_error({"--uid-range", "4294967295:1", "--", "true"}), Contains("past the largest uid"));
    CHECK_THAT(parse_error({"--uid-range", "1:18446744073709551615", "--", "true"}), Contains("past the largest uid"));
    CHECK_THAT(parse_error({"--uid-range", "65534:1", "--", "true"}), Contains("65534 (nobody)"));
    CHECK_THAT(parse_error({"--uid-range", "60000:5535", "--", "true"}), Contains("65534 (nobody)"));
    CHECK_NOTHROW(parse({"--uid-range", "60000:5534", "--", "true"}));
    CHECK_NOTHROW(parse({"--uid-range", "65535:10", "--", "true"}));
    CHECK_THAT(parse_error({"--frobnicate", "--", "true"}), Contains("--frobnicate"));
    CHECK_THAT(parse_error({"--profile", "nosuch-profile", "--", "true"}),
               StartsWith("profile \"nosuch-profile\" not found; looked in "));
}

TEST_CASE("cli: --profile-path finds a profile on disk", "[cli]") {
    TempDir tmp("sandboxrun-cli");
    const std::string dir = tmp.path.string();
    tmp.write("judge.toml", "extends = \"minimal\"\n[limits]\nmemory = \"3MiB\"\n");
    Invocation inv = parse({"--profile-path", dir, "--profile", "judge", "--", "true"});
    tmp.write("bad.toml", "[limits]\nmemory = \"3XB\"\n");
    auto message = parse_error({"--profile-path", dir, "--profile", "bad", "--", "true"});
    CHECK(inv.policy.limits.memory == 3ULL << 20);
    CHECK(inv.policy.sources.back() == dir + "/judge.toml");
    CHECK_THAT(message, StartsWith(dir + "/bad.toml:2:10: limits.memory: bad size"));
}

TEST_CASE("cli: --help and --version print and ask to exit 0", "[cli]") {
    auto [help, text] = parse_capturing({"--help"});
    CHECK(help.exit_now == 0);
    for (const char* needle : {"--profile", "--profile-path", "--explain", "--cpu-time", "--wall-time", "--memory",
                               "--processes", "--file-size", "--open-files", "--stack", "--ro-bind", "--rw-bind",
                               "--tmpfs", "--cwd-mode", "--workdir", "--chdir", "--env", "--env-pass", "--network",
                               "--no-network", "--loopback", "--hostname", "--stdin", "--stdout", "--stderr",
                               "--report", "--meta", "--uid-range", "--verbose", "--quiet", "--version", "cleanup",
                               "check", "learn", "125", "126", "127", "128+N", "SANDBOXRUN_PROFILE_PATH",
                               "/etc/sandboxrun/profiles"})
        CHECK_THAT(text, Contains(needle));

    auto [version, vtext] = parse_capturing({"--version"});
    CHECK(version.exit_now == 0);
    CHECK_THAT(vtext, StartsWith("sandboxrun "));
}

TEST_CASE("cli: an unknown option is named as one; a command without -- is told where to go", "[cli]") {
    CHECK_THAT(parse_error({"--bogus-option", "--", "true"}), StartsWith("unknown option --bogus-option"));
    CHECK_THAT(parse_error({"--profile", "c", "ls"}), Contains("put the command after \"--\""));
}
