// Profiles: units, stock profiles, inheritance, explain round trip, and the
// exact file:line:column of every kind of bad input.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "temp_dir.hpp"

#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"

using namespace sandboxrun;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// Profiles held in memory; "name" is found as source "name.toml".
ProfileResolver map_resolver(std::map<std::string, std::string> files) {
    return [files = std::move(files)](const std::string& name) -> std::optional<ProfileText> {
        auto it = files.find(name);
        if (it == files.end()) return std::nullopt;
        return ProfileText{name + ".toml", it->second};
    };
}

Policy load_text(const std::string& text) { return load_profile("p", map_resolver({{"p", text}})); }

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        CHECK(e.exit_code() == exit_sandbox_error);
        return e.what();
    }
    FAIL("no error thrown");
    return {};
}

std::string load_error(const std::string& text) {
    return error_of([&] { load_text(text); });
}

std::string validate_error(const std::string& text) {
    return error_of([&] { validate_policy(load_text(text)); });
}

// Equal as far as any layer can tell; origins and sources name the file and differ.
void require_same_policy(const Policy& a, const Policy& b) {
    CHECK(a.description == b.description);
    CHECK(a.hostname == b.hostname);
    CHECK(a.limits.cpu_time == b.limits.cpu_time);
    CHECK(a.limits.wall_time == b.limits.wall_time);
    CHECK(a.limits.memory == b.limits.memory);
    CHECK(a.limits.processes == b.limits.processes);
    CHECK(a.limits.file_size == b.limits.file_size);
    CHECK(a.limits.open_files == b.limits.open_files);
    CHECK(a.limits.stack == b.limits.stack);
    REQUIRE(a.fs.binds.size() == b.fs.binds.size());
    for (std::size_t i = 0; i < a.fs.binds.size(); ++i) {
        CHECK(a.fs.binds[i].source == b.fs.binds[i].source);
        CHECK(a.fs.binds[i].target == b.fs.binds[i].target);
        CHECK(a.fs.binds[i].writable == b.fs.binds[i].writable);
        CHECK(a.fs.binds[i].optional == b.fs.binds[i].optional);
    }
    REQUIRE(a.fs.tmpfs.size() == b.fs.tmpfs.size());
    for (std::size_t i = 0; i < a.fs.tmpfs.size(); ++i) {
        CHECK(a.fs.tmpfs[i].target == b.fs.tmpfs[i].target);
        CHECK(a.fs.tmpfs[i].size == b.fs.tmpfs[i].size);
    }
    CHECK(a.fs.cwd == b.fs.cwd);
    CHECK(a.fs.workdir == b.fs.workdir);
    CHECK(a.fs.chdir == b.fs.chdir);
    CHECK(a.fs.proc == b.fs.proc);
    CHECK(a.fs.dev_pts == b.fs.dev_pts);
    CHECK(a.fs.sys == b.fs.sys);
    CHECK(a.net.enabled == b.net.enabled);
    CHECK(a.net.loopback == b.net.loopback);
    CHECK(a.env.pass == b.env.pass);
    CHECK(a.env.set == b.env.set);
    CHECK(a.syscalls.allow == b.syscalls.allow);
    CHECK(a.syscalls.socket_families == b.syscalls.socket_families);
    REQUIRE(a.syscalls.errno_rules.size() == b.syscalls.errno_rules.size());
    for (std::size_t i = 0; i < a.syscalls.errno_rules.size(); ++i) {
        CHECK(a.syscalls.errno_rules[i].name == b.syscalls.errno_rules[i].name);
        CHECK(a.syscalls.errno_rules[i].errno_value == b.syscalls.errno_rules[i].errno_value);
    }
}


}  // namespace

TEST_CASE("parse_size reads binary units and plain bytes", "[profile][units]") {
    CHECK(parse_size("4096") == 4096);
    CHECK(parse_size("0") == 0);
    CHECK(parse_size("1B") == 1);
    CHECK(parse_size("1K") == 1024);
    CHECK(parse_size("1KB") == 1024);
    CHECK(parse_size("1KiB") == 1024);
    CHECK(parse_size("256MiB") == 256ULL << 20);
    CHECK(parse_size("256M") == 256ULL << 20);
    CHECK(parse_size("256mb") == 256ULL << 20);
    CHECK(parse_size("1G") == 1ULL << 30);
    CHECK(parse_size("1.5GiB") == 3ULL << 29);
    CHECK(parse_size("2TiB") == 2ULL << 40);
    CHECK(parse_size(" 64 MiB ") == 64ULL << 20);
}

TEST_CASE("parse_size rejects each bad form with the text in the message", "[profile][units]") {
    CHECK(error_of([] { parse_size(""); }) == "bad size \"\": empty");
    CHECK_THAT(error_of([] { parse_size("abc"); }), StartsWith("bad size \"abc\": expected a number"));
    CHECK_THAT(error_of([] { parse_size("-5"); }), StartsWith("bad size \"-5\": expected a number"));
    CHECK_THAT(error_of([] { parse_size("12XB"); }), StartsWith("bad size \"12XB\": unknown unit \"XB\""));
    CHECK_THAT(error_of([] { parse_size("1.5B"); }), StartsWith("bad size \"1.5B\": not a whole number of bytes"));
    CHECK_THAT(error_of([] { parse_size("1."); }), StartsWith("bad size \"1.\": expected a number"));
    CHECK_THAT(error_of([] { parse_size("99999999999TiB"); }), Contains("too large"));
    CHECK_THAT(error_of([] { parse_size("1.0000000000000000000000000000000GiB"); }), Contains("too many digits"));
    CHECK_THAT(error_of([] { parse_size("1e3"); }), Contains("unknown unit \"e3\""));
}

TEST_CASE("parse_duration needs a unit and whole milliseconds", "[profile][units]") {
    CHECK(parse_duration("1500ms") == 1500ms);
    CHECK(parse_duration("2s") == 2000ms);
    CHECK(parse_duration("1.5s") == 1500ms);
    CHECK(parse_duration("0.001s") == 1ms);
    CHECK(parse_duration("2m") == 120000ms);
    CHECK(parse_duration("3min") == 180000ms);
    CHECK(parse_duration("1h") == 3600000ms);

    CHECK_THAT(error_of([] { parse_duration("5"); }), StartsWith("bad duration \"5\": a unit is required"));
    CHECK_THAT(error_of([] { parse_duration("2x"); }), StartsWith("bad duration \"2x\": unknown unit \"x\""));
    CHECK_THAT(error_of([] { parse_duration("1.0001s"); }), Contains("not a whole number of milliseconds"));
    CHECK_THAT(error_of([] { parse_duration("s"); }), StartsWith("bad duration \"s\": expected a number"));
    CHECK_THAT(error_of([] { parse_duration("-1s"); }), StartsWith("bad duration \"-1s\": expected a number"));
    CHECK(error_of([] { parse_duration(""); }) == "bad duration \"\": empty");
    // Huge values overflowed the supervisor's microsecond deadlines and ended runs at once.
    CHECK(parse_duration("1000h") == 3'600'000'000ms);
    CHECK_THAT(error_of([] { parse_duration("1001h"); }), Contains("too large (at most 1000h)"));
    CHECK_THAT(error_of([] { parse_duration("9223372036854775807ms"); }), Contains("too large"));
    CHECK_THAT(error_of([] { parse_duration("18446744073709552ms"); }), Contains("too large"));
}

TEST_CASE("format_size and format_duration read back to the same value", "[profile][units]") {
    CHECK(format_size(64ULL << 20) == "64MiB");
    CHECK(format_size(1536) == "1536B");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2000ms) == "2s");
    for (std::uint64_t v : {0ULL, 1ULL, 1023ULL, 1024ULL, 3ULL << 29, 5ULL << 40, 123456789ULL})
        CHECK(parse_size(format_size(v)) == v);
    for (auto d : {1ms, 999ms, 1000ms, 61000ms, 120000ms, 7200000ms})
        CHECK(parse_duration(format_duration(d)) == d);
}

TEST_CASE("paths and binds", "[profile]") {
    CHECK(normalize_path("/a//b/./c/") == "/a/b/c");
    CHECK(normalize_path("/") == "/");
    CHECK_THAT(error_of([] { normalize_path("a/b"); }), Contains("not an absolute path"));
    CHECK_THAT(error_of([] { normalize_path("/a/../b"); }), Contains("\"..\" is not allowed"));

    Bind b = parse_bind("?/host/src:/inside/dst", true, "here");
    CHECK(b.optional);
    CHECK(b.writable);
    CHECK(b.source == "/host/src");
    CHECK(b.target == "/inside/dst");
    CHECK(b.origin == "here");
    Bind same = parse_bind("/usr/", false, "");
    CHECK(same.source == "/usr");
    CHECK(same.target == "/usr");
    CHECK_FALSE(same.optional);
    CHECK_THAT(error_of([] { parse_bind("/a:/b:/c", false, ""); }), Contains("more than one ':'"));
    CHECK_THAT(error_of([] { parse_bind("/a:b", false, ""); }), Contains("\"b\" is not an absolute path"));

    Filesystem fs;
    add_bind(fs, parse_bind("/usr/lib:/x/y", false, "1"));
    add_bind(fs, parse_bind("/usr", false, "2"));
    add_bind(fs, parse_bind("/opt:/x", false, "3"));
    add_bind(fs, parse_bind("/srv:/usr", true, "4"));   // same target: replaces "2"
    REQUIRE(fs.binds.size() == 3);
    CHECK(fs.binds[0].target == "/usr");   // parents before what sits inside them
    CHECK(fs.binds[0].origin == "4");
    CHECK(fs.binds[0].writable);
    CHECK(fs.binds[1].target == "/x");
    CHECK(fs.binds[2].target == "/x/y");

    // Across kinds too: a bind at an inherited tmpfs's target replaces it, and back.
    add_tmpfs(fs, Tmpfs{"/tmp", 1 << 20, "5"});
    add_bind(fs, parse_bind("/srv:/tmp", true, "6"));
    CHECK(fs.tmpfs.empty());
    CHECK(fs.binds.size() == 4);
    add_tmpfs(fs, Tmpfs{"/x", 1 << 20, "7"});
    CHECK(fs.binds.size() == 3);
    CHECK(fs.tmpfs.size() == 1);
}

TEST_CASE("every stock profile loads and validates", "[profile][stock]") {
    auto names = stock_profile_names();
    CHECK(names == std::vector<std::string>{"minimal", "base", "c", "cpp", "python", "c-run", "cpp-run", "java",
                                             "csharp", "javascript", "go", "go-run", "pascal", "pascal-run"});
    auto resolve = stock_resolver();
    for (const auto& name : names) {
        INFO(name);
        REQUIRE(stock_profile_text(name));
        Policy p = load_profile(name, resolve);
        CHECK(p.name == name);
        CHECK(p.sources.back() == "<stock>/" + name + ".toml");
        CHECK_FALSE(p.description.empty());
        CHECK(p.syscalls.allow_origins.size() == p.syscalls.allow.size());
        validate_policy(p);
    }
    CHECK_FALSE(stock_profile_text("nosuch"));

    Policy minimal = load_profile("minimal", resolve);
    CHECK(minimal.fs.binds.empty());
    CHECK(minimal.fs.cwd == CwdMode::rw);
    CHECK(minimal.env.set == std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}});
    CHECK(minimal.syscalls.socket_families.empty());
    REQUIRE(minimal.syscalls.errno_rules.size() == 1);
    CHECK(minimal.syscalls.errno_rules[0].name == "clone3");
    CHECK(minimal.syscalls.errno_rules[0].errno_value == ENOSYS);

    Policy c = load_profile("c", resolve);
    CHECK(c.sources == std::vector<std::string>{"<stock>/minimal.toml", "<stock>/base.toml", "<stock>/c.toml"});
    CHECK(c.limits.memory == 1ULL << 30);
    CHECK(c.limits.processes == 256U);     // from base
    CHECK(c.limits.cpu_time == 10000ms);   // from base
    CHECK(c.limits.open_files == 1024U);   // from base, over minimal's
    auto has = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    CHECK(has(c.syscalls.allow, "@process"));
    CHECK(has(c.syscalls.allow, "@ipc"));
    CHECK(has(c.syscalls.allow, "@io-event"));
    CHECK(has(c.syscalls.allow, "@basic-io"));
    auto usr = std::find_if(c.fs.binds.begin(), c.fs.binds.end(), [](const Bind& b) { return b.target == "/usr"; });
    REQUIRE(usr != c.fs.binds.end());
    CHECK_FALSE(usr->writable);
    CHECK_FALSE(usr->optional);
    CHECK_THAT(usr->origin, StartsWith("<stock>/base.toml:"));

    Policy python = load_profile("python", resolve);
    CHECK(python.syscalls.socket_families == std::vector<std::string>{"AF_UNIX"});
    CHECK(python.env.set.at("PYTHONDONTWRITEBYTECODE") == "1");
    CHECK(python.env.set.at("HOME") == "/tmp");
}

TEST_CASE("extends: scalars override, lists append, tables merge, deny removes", "[profile][extends]") {
    auto resolve = map_resolver({
        {"parent", R"(description = "parent"
hostname = "p"
[limits]
memory = "1MiB"
cpu_time = "1s"
wall_time = "5s"
[filesystem]
ro = ["/usr", "/bin"]
tmpfs = { "/tmp" = "1MiB", "/var/tmp" = "2MiB" }
workdir = "/work"
[environment]
pass = ["A"]
set = { X = "1", Y = "2" }
[syscalls]
allow = ["@default", "read", "write"]
errno = { clone3 = "ENOSYS", open = "EACCES" }
socket_families = ["AF_UNIX"]
)"},
        {"child", R"(extends = "parent"
[limits]
memory = "2MiB"
wall_time = "none"
[filesystem]
ro = ["/lib", "/usr"]
rw = ["/bin"]
tmpfs = { "/tmp" = "4MiB" }
[environment]
pass = ["B", "A"]
set = { Y = "3", Z = "4" }
[syscalls]
deny = ["write"]
allow = ["@io-event", "read"]
errno = { clone3 = 1 }
socket_families = ["AF_INET", "AF_UNIX"]
)"},
    });
    Policy p = load_profile("child", resolve);
    CHECK(p.name == "child");
    CHECK(p.sources == std::vector<std::string>{"parent.toml", "child.toml"});
    CHECK(p.description == "parent");
    CHECK(p.hostname == "p");
    CHECK(p.limits.memory == 2ULL << 20);
    CHECK(p.limits.cpu_time == 1000ms);
    CHECK_FALSE(p.limits.wall_time);
    CHECK(p.fs.workdir == "/work");

    REQUIRE(p.fs.binds.size() == 3);
    CHECK(p.fs.binds[0].target == "/bin");
    CHECK(p.fs.binds[0].writable);
    CHECK(p.fs.binds[0].origin == "child.toml:7:7");
    CHECK(p.fs.binds[1].target == "/lib");
    CHECK(p.fs.binds[2].target == "/usr");
    CHECK_FALSE(p.fs.binds[2].writable);

    REQUIRE(p.fs.tmpfs.size() == 2);
    CHECK(p.fs.tmpfs[0].target == "/tmp");
    CHECK(p.fs.tmpfs[0].size == 4ULL << 20);
    CHECK(p.fs.tmpfs[0].origin == "child.toml:8:20");
    CHECK(p.fs.tmpfs[1].target == "/var/tmp");
    CHECK(p.fs.tmpfs[1].size == 2ULL << 20);

    CHECK(p.env.pass == std::vector<std::string>{"A", "B"});
    CHECK(p.env.set == std::map<std::string, std::string>{{"X", "1"}, {"Y", "3"}, {"Z", "4"}});

    CHECK(p.syscalls.allow == std::vector<std::string>{"@default", "read", "@io-event"});
    REQUIRE(p.syscalls.allow_origins.size() == 3);
    CHECK(p.syscalls.allow_origins[0] == "parent.toml:15:10");
    CHECK(p.syscalls.allow_origins[2] == "child.toml:14:10");
    REQUIRE(p.syscalls.errno_rules.size() == 2);
    CHECK(p.syscalls.errno_rules[0].name == "clone3");
    CHECK(p.syscalls.errno_rules[0].errno_value == 1);
    CHECK(p.syscalls.errno_rules[0].origin == "child.toml:15:20");
    CHECK(p.syscalls.errno_rules[1].name == "open");
    CHECK(p.syscalls.errno_rules[1].errno_value == EACCES);
    CHECK(p.syscalls.socket_families == std::vector<std::string>{"AF_UNIX", "AF_INET"});
}

TEST_CASE("extends: cycles and unknown parents are errors at the extends value", "[profile][extends]") {
    auto resolve = map_resolver({{"a", "extends = \"b\"\n"}, {"b", "extends = \"a\"\n"}, {"self", "extends = \"self\""},
                                 {"orphan", "\n extends = \"zzz\""}});
    CHECK(error_of([&] { load_profile("a", resolve); }) ==
          "b.toml:1:11: extends: cycle: a.toml -> b.toml -> a.toml");
    CHECK(error_of([&] { load_profile("self", resolve); }) == "self.toml:1:11: extends: cycle: self.toml -> self.toml");
    CHECK(error_of([&] { load_profile("orphan", resolve); }) == "orphan.toml:2:12: extends: profile \"zzz\" not found");
    CHECK(error_of([&] { load_profile("nothing", resolve); }) == "profile \"nothing\" not found");
}

TEST_CASE("bad profile input is reported at its file:line:column", "[profile][errors]") {
    // malformed TOML: the parser's own position
    CHECK_THAT(load_error("[limits]\nmemory = \"1MiB\n"), StartsWith("p.toml:2:"));
    CHECK_THAT(load_error("hostname = \n"), StartsWith("p.toml:1:"));
    // unknown keys, top level and nested
    CHECK_THAT(load_error("hostname = \"x\"\nhostnme = \"x\""), StartsWith("p.toml:2:1: unknown key \"hostnme\""));
    CHECK_THAT(load_error("[limits]\ncpu = \"1s\""), StartsWith("p.toml:2:1: unknown key \"limits.cpu\""));
    CHECK_THAT(load_error("[limitz]\n"), StartsWith("p.toml:1:2: unknown key \"limitz\""));
    CHECK_THAT(load_error("[filesystem]\nproc = true\n  devpts = true"),
               StartsWith("p.toml:3:3: unknown key \"filesystem.devpts\""));
    // wrong types
    CHECK(load_error("[limits]\nprocesses = \"many\"") ==
          "p.toml:2:13: limits.processes: expected an integer, got a string");
    CHECK(load_error("limits = 5") == "p.toml:1:10: limits: expected a table, got an integer");
    CHECK(load_error("[filesystem]\nproc = \"yes\"") == "p.toml:2:8: filesystem.proc: expected a boolean, got a string");
    CHECK(load_error("[filesystem]\nro = \"/usr\"") ==
          "p.toml:2:6: filesystem.ro: expected an array of strings, got a string");
    CHECK(load_error("[environment]\npass = [\"A\", 3]") == "p.toml:2:14: environment.pass: expected a string, got an integer");
    CHECK(load_error("extends = 3") == "p.toml:1:11: extends: expected a string, got an integer");
    // sizes, durations, counts
    CHECK_THAT(load_error("[limits]\nmemory = \"12XB\""),
               StartsWith("p.toml:2:10: limits.memory: bad size \"12XB\": unknown unit \"XB\""));
    CHECK(load_error("[limits]\nmemory = -1") == "p.toml:2:10: limits.memory: a size cannot be negative");
    CHECK_THAT(load_error("[limits]\ncpu_time = 2"), StartsWith("p.toml:2:12: limits.cpu_time: a duration needs a unit"));
    CHECK_THAT(load_error("[limits]\nwall_time = \"2 parsecs\""),
               StartsWith("p.toml:2:13: limits.wall_time: bad duration \"2 parsecs\": unknown unit"));
    CHECK(load_error("[limits]\nprocesses = 0") == "p.toml:2:13: limits.processes: must be greater than 0");
    CHECK(load_error("[limits]\nprocesses = 4194304") ==
          "p.toml:2:13: limits.processes: at most 4194303 (the kernel's limit on pids, less the run's init), not 4194304");
    CHECK(load_error("[limits]\nopen_files = -5") == "p.toml:2:14: limits.open_files: cannot be negative");
    CHECK(load_error("[limits]\nopen_files = 3") ==
          "p.toml:2:14: limits.open_files: must be at least 4 (stdin, stdout, stderr and one the sandbox needs "
          "while it sets up), not 3");
    CHECK(load_error("[filesystem]\ntmpfs = { \"/tmp\" = \"0\" }") ==
          "p.toml:2:20: filesystem.tmpfs.\"/tmp\": size must be greater than 0");
    // paths
    CHECK(load_error("[filesystem]\nro = [\"/usr\", \"lib\"]") ==
          "p.toml:2:15: filesystem.ro: bad bind \"lib\": \"lib\" is not an absolute path");
    CHECK_THAT(load_error("[filesystem]\nworkdir = \"/box/../etc\""),
               StartsWith("p.toml:2:11: filesystem.workdir: \"/box/../etc\": \"..\" is not allowed"));
    CHECK_THAT(load_error("[filesystem]\ntmpfs = { \"tmp\" = \"1MiB\" }"),
               StartsWith("p.toml:2:11: filesystem.tmpfs.\"tmp\": \"tmp\" is not an absolute path"));
    CHECK(load_error("[filesystem]\ncwd = \"yes\"") == "p.toml:2:7: filesystem.cwd: \"yes\" is not one of rw, ro, none");
    // syscalls and environment
    CHECK(load_error("[syscalls]\nerrno = { clone3 = \"ENOPE\" }") ==
          "p.toml:2:20: syscalls.errno.clone3: unknown errno name \"ENOPE\"");
    CHECK(load_error("[syscalls]\nerrno = { clone3 = 5000 }") == "p.toml:2:20: syscalls.errno.clone3: errno 5000 is not in 1..4094");
    CHECK(load_error("[syscalls]\nerrno = { clone3 = 4095 }") == "p.toml:2:20: syscalls.errno.clone3: errno 4095 is not in 1..4094");
    CHECK_THAT(load_error("[syscalls]\nsocket_families = [\"AF_PACKET\"]"),
               StartsWith("p.toml:2:20: syscalls.socket_families: unknown family \"AF_PACKET\""));
    CHECK_THAT(load_error("[syscalls]\nallow = [\"read\"]\ndeny = [\"read\"]"),
               StartsWith("p.toml:3:9: syscalls.deny: \"read\" is not in the inherited allow list"));
    CHECK(load_error("[syscalls]\nallow = [\"Read Me\"]") == "p.toml:2:10: syscalls.allow: \"Read Me\" is not a syscall or @group name");
    CHECK(load_error("[environment]\nset = { \"A-B\" = \"1\" }") == "p.toml:2:9: environment.set: \"A-B\" is not a variable name");
    CHECK(load_error("hostname = \"a b\"") == "p.toml:1:12: hostname: \"a b\" may only contain letters, digits, '-' and '.'");
}

TEST_CASE("validate_policy reports host problems at the profile line", "[profile][errors]") {
    CHECK(validate_error("[filesystem]\nro = [\"/nonexistent-sandboxrun-test\"]") ==
          "p.toml:2:7: bind source /nonexistent-sandboxrun-test does not exist: No such file or directory");
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nro = [\"?/nonexistent-sandboxrun-test\"]")));
    auto message = validate_error("[syscalls]\nallow = [\"@default\", \"frobnicate\"]");
    CHECK_THAT(message, StartsWith("p.toml:2:22"));
    CHECK_THAT(message, Contains("frobnicate"));
    CHECK_THAT(validate_error("[syscalls]\nallow = [\"@nosuchgroup\"]"), StartsWith("p.toml:2:10"));

    Policy p = load_text("");
    p.fs.tmpfs.push_back(Tmpfs{"/t", 0, "--tmpfs"});
    CHECK(error_of([&] { validate_policy(p); }) == "--tmpfs: tmpfs /t: size must be greater than 0");
    p = load_text("");
    p.limits.processes = 0;
    CHECK(error_of([&] { validate_policy(p); }) == "limits.processes: must be greater than 0");
    p = load_text("");
    p.fs.chdir = "rel";
    CHECK_THAT(error_of([&] { validate_policy(p); }), StartsWith("filesystem.chdir: \"rel\" is not an absolute path"));
}

TEST_CASE("validate_policy refuses binds and tmpfs where sandboxrun mounts its own", "[profile][errors]") {
    CHECK(validate_error("[filesystem]\nro = [\"/etc:/proc\"]") ==
          "p.toml:2:7: bind target /proc: the run's own /proc is mounted there (filesystem.proc)");
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/etc:/proc/x\"]"), StartsWith("p.toml:2:7: bind target /proc/x:"));
    CHECK_THAT(validate_error("[filesystem]\ntmpfs = { \"/\" = \"1MiB\" }"), StartsWith("p.toml:2:17: tmpfs /: the root is"));
    CHECK_THAT(validate_error("[filesystem]\nrw = [\"/tmp:/dev\"]"), StartsWith("p.toml:2:7: bind target /dev:"));
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/etc:/box\"]"), StartsWith("p.toml:2:7: bind target /box:"));
    CHECK_THAT(validate_error("[filesystem]\nworkdir = \"/w\"\ntmpfs = { \"/w\" = \"1MiB\" }"), StartsWith("p.toml:3:18: tmpfs /w:"));
    CHECK_THAT(validate_error("[filesystem]\nsys = true\nro = [\"/etc:/sys/x\"]"), StartsWith("p.toml:3:7: bind target /sys/x:"));
    CHECK_THAT(validate_error("[filesystem]\ndev_pts = true\ntmpfs = { \"/dev/pts\" = \"1MiB\" }"), StartsWith("p.toml:3:24: tmpfs /dev/pts:"));
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/etc:/box/etc\"]"), StartsWith("p.toml:2:7: bind target /box/etc: its mount point"));
    CHECK_THAT(validate_error("[filesystem]\ncwd = \"ro\"\nro = [\"/etc:/box/etc\"]"), StartsWith("p.toml:3:7: bind target /box/etc:"));
    CHECK(validate_error("[filesystem]\nworkdir = \"/dev\"") == "p.toml:2:11: filesystem.workdir: /dev: sandboxrun mounts its own /dev there");
    CHECK_THAT(validate_error("[filesystem]\nworkdir = \"/proc/x\""), StartsWith("p.toml:2:11: filesystem.workdir: /proc/x:"));
    CHECK_THAT(validate_error("[filesystem]\nworkdir = \"/\""), StartsWith("p.toml:2:11: filesystem.workdir: /: the root"));
    // A tmpfs over the workdir names both places (the tmpfs may come from a profile extended).
    CHECK_THAT(validate_error("[filesystem]\nworkdir = \"/w\"\ntmpfs = { \"/w\" = \"1MiB\" }"),
               Contains("(p.toml:2:11: filesystem.workdir;"));
    // Beneath a directory bound writable the mount point would be made in the host's directory.
    CHECK_THAT(validate_error("[filesystem]\nrw = [\"/tmp:/data\"]\nro = [\"/etc:/data/etc\"]"),
               StartsWith("p.toml:3:7: bind target /data/etc: its mount point would be made (or found, through whatever "
                          "a run left there) in the host directory /tmp bound writable at /data (p.toml:2:7)"));
    CHECK_THAT(validate_error("[filesystem]\nrw = [\"/tmp:/data\", \"/var/tmp:/data/x\"]"), StartsWith("p.toml:2:21: bind target /data/x: its mount point"));
    CHECK_THAT(validate_error("[filesystem]\nrw = [\"/tmp:/data\"]\ntmpfs = { \"/data/t\" = \"1MiB\" }"), StartsWith("p.toml:3:23: tmpfs /data/t: its mount point"));
    CHECK_THAT(validate_error("[filesystem]\nrw = [\"/tmp:/data\"]\nworkdir = \"/data/w\""), StartsWith("p.toml:3:11: filesystem.workdir: /data/w: its mount point"));
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nrw = [\"/tmp:/data\"]\nro = [\"/etc:/data2\", \"/var:/x/data\"]")));
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nro = [\"/usr:/data\", \"/etc:/data/lib\"]")));   // read-only: made nowhere on the host
    // In a read-only bind a mount point can be made nowhere: the host must have it.
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/usr:/data\", \"/etc:/data/no-such-sbx\"]"),
               StartsWith("p.toml:2:21: bind target /data/no-such-sbx: its mount point cannot be made in /data, bound "
                          "read-only from /usr (p.toml:2:7), which has no no-such-sbx"));
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/usr:/data\"]\ntmpfs = { \"/data/t\" = \"1MiB\" }"), StartsWith("p.toml:3:23: tmpfs /data/t: its mount point cannot be made"));
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/usr:/data\"]\nworkdir = \"/data/w\""), StartsWith("p.toml:3:11: filesystem.workdir: /data/w: its mount point cannot be made"));
    CHECK_THAT(validate_error("[filesystem]\nro = [\"/usr:/data\", \"?/etc:/data/none\"]"), StartsWith("p.toml:2:21: bind target /data/none: its mount point cannot be made"));
    // (An optional bind without its source is left out; beneath a tmpfs a mount point can be made.)
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nro = [\"?/no-such-sbx-src:/opt/x\"]\ntmpfs = { \"/opt/x/t\" = \"1MiB\" }")));
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nro = [\"/usr:/data\", \"?/no-such-sbx-src:/data/none\", \"/etc:/data/lib/etc\"]\ntmpfs = { \"/data/lib\" = \"1MiB\" }")));
    // Where sandboxrun mounts nothing of its own, the same targets are the operator's.
    CHECK_NOTHROW(validate_policy(load_text("[filesystem]\nproc = false\ncwd = \"none\"\nro = [\"/etc:/proc\", \"/usr:/box\", \"/etc:/sys\"]\ntmpfs = { \"/dev/shm\" = \"1MiB\", \"/procx\" = \"1MiB\", \"/box/lib\" = \"1MiB\" }\nworkdir = \"/dev/w\"")));
}

TEST_CASE("profiles on disk: search order, paths, relative extends, where it looked", "[profile][resolver]") {
    TempDir first("sandboxrun-profile"), second("sandboxrun-profile");
    first.write("mine.toml", "extends = \"c\"\nhostname = \"first\"\n");
    second.write("mine.toml", "hostname = \"second\"\n");
    second.write("other.toml", "extends = \"./sub/parent.toml\"\n");
    std::filesystem::create_directory(second.path / "sub");
    second.write("sub/parent.toml", "hostname = \"parent\"\n");
    first.write("c.toml", "hostname = \"shadow\"\n");   // a directory entry shadows the stock profile

    auto resolve = default_resolver({first.path.string(), second.path.string()});
    Policy mine = load_profile("mine", resolve);
    CHECK(mine.hostname == "first");
    CHECK(mine.sources == std::vector<std::string>{(first.path / "c.toml").string(), (first.path / "mine.toml").string()});

    Policy other = load_profile((second.path / "other.toml").string(), resolve);
    CHECK(other.hostname == "parent");
    CHECK(other.sources.front() == (second.path / "sub/parent.toml").string());

    // A bare file name in extends is next to the profile too, never in the
    // directory we happen to run in (a judge's is often the submission's).
    second.write("bare.toml", "extends = \"sibling.toml\"\n");
    second.write("sibling.toml", "hostname = \"sibling\"\n");
    first.write("sibling.toml", "hostname = \"planted\"\n");
    auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(first.path);
    Policy bare = load_profile((second.path / "bare.toml").string(), resolve);
    std::filesystem::current_path(cwd);
    CHECK(bare.hostname == "sibling");

    // Only regular files are read: a FIFO would block forever, a device never end.
    REQUIRE(::mkfifo((first.path / "fifo.toml").c_str(), 0600) == 0);
    CHECK_THAT(error_of([&] { load_profile((first.path / "fifo.toml").string(), resolve); }),
               Contains("not a regular file"));
    CHECK_THAT(error_of([&] { load_profile("/dev/zero", resolve); }), Contains("not a regular file"));
    {   // a sparse 4 GiB file is refused, not read into memory
        TempDir big("sandboxrun-profile");
        std::filesystem::path huge = big.path / "huge.toml";
        std::ofstream(huge) << "# x\n";
        std::filesystem::resize_file(huge, 4ULL << 30);
        CHECK_THAT(error_of([&] { load_profile(huge.string(), resolve); }), Contains("larger than 1 MiB"));
    }

    auto message = error_of([&] { load_profile("nosuch", resolve); });
    CHECK_THAT(message, StartsWith("profile \"nosuch\" not found; looked in "));
    CHECK_THAT(message, Contains((first.path / "nosuch.toml").string()));
    CHECK_THAT(message, Contains((second.path / "nosuch.toml").string()));
    CHECK_THAT(message, Contains("/etc/sandboxrun/profiles/nosuch.toml"));
    CHECK_THAT(message, Contains("stock profiles (minimal, base, c, cpp, python, c-run, "));

    CHECK_THAT(error_of([&] { load_profile((first.path / "missing.toml").string(), resolve); }),
               Contains("No such file or directory"));

    // After every directory: the stock profiles, under their own name.
    if (!std::filesystem::exists("/etc/sandboxrun/profiles/minimal.toml"))
        CHECK(load_profile("minimal", resolve).sources == std::vector<std::string>{"<stock>/minimal.toml"});

    // $SANDBOXRUN_PROFILE_PATH comes after the explicit directories.
    ::setenv("SANDBOXRUN_PROFILE_PATH", (":" + second.path.string()).c_str(), 1);
    auto env_resolve = default_resolver({});
    ::unsetenv("SANDBOXRUN_PROFILE_PATH");
    CHECK(load_profile("mine", env_resolve).hostname == "second");

    // Errors in a file on disk name that file.
    first.write("broken.toml", "[limits]\nmemory = true\n");
    CHECK(error_of([&] { load_profile("broken", resolve); }) ==
          (first.path / "broken.toml").string() + ":2:10: limits.memory: expected a size such as \"256MiB\" or an "
                                                  "integer number of bytes, got a boolean");
}

TEST_CASE("explain_policy prints TOML that loads back to the same policy", "[profile][explain]") {
    auto resolve = stock_resolver();
    std::vector<Policy> policies;
    for (const auto& name : stock_profile_names()) policies.push_back(load_profile(name, resolve));
    policies.push_back(load_text(R"(description = "quote \" and\nnewline"
hostname = "h-1"
[limits]
cpu_time = "1500ms"
stack = 12345
[filesystem]
ro = ["/usr", "?/opt/x:/y"]
rw = ["/srv:/a/b", "/tmp:/a"]
tmpfs = { "/a/b/c" = "3KiB", "/scratch" = "1GiB" }
cwd = "none"
chdir = "/y"
proc = false
dev_pts = true
sys = true
[network]
enabled = true
loopback = false
[environment]
pass = ["Z", "A"]
set = { "A" = "=x y", "B" = "\nlead", "C" = "a'''\nb" }
[syscalls]
allow = ["read", "@default"]
errno = { clone3 = "ENOSYS", "open" = 4000 }
)"));
    for (const Policy& p : policies) {
        INFO(p.name);
        std::string text = explain_policy(p);
        INFO(text);
        CHECK_THAT(text, Contains(p.sources.back()));
        Policy back = load_profile("explained", map_resolver({{"explained", text}}));
        require_same_policy(p, back);
        CHECK(back.sources == std::vector<std::string>{"explained.toml"});
    }
}

// Inputs the fuzzer (tests/fuzz) found: each tripped an assertion or an
// unreachable path inside toml++ 3.3 (its issues #190 and #295). The release
// library must still reject them as an Error with a location, never crash.
TEST_CASE("malformed text the fuzzer found is rejected cleanly", "[profile][errors][fuzz]") {
    const std::vector<std::string> inputs = {
        "#\n[#",                                   // table header that opens a comment
        "a.#",                                     // dotted key that opens a comment
        "description = \"x\"\xd2\x90\n",           // U+0490 where whitespace is expected
        "\xc2\xa7 = 1\n",                          // U+00A7 starting a line
        "s = \"\"\"\\\n\xc2\xa7\"\"\"\n",          // line-ending backslash, then U+00A7
    };
    for (const std::string& text : inputs) {
        INFO(text);
        try {
            load_profile("fuzz", map_resolver({{"fuzz", text}}));
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), StartsWith("fuzz.toml:"));
        }
    }
}

// toml++ recurses once per part of a dotted key: 250,000 parts crashed us
// (SIGSEGV, exit 139, no report). Dots in strings and comments are not keys.
TEST_CASE("keys nested too deeply are refused, dots in strings are not counted", "[profile][errors]") {
    std::string deep;
    for (int i = 0; i < 300000; ++i) deep += "a.";
    CHECK_THAT(load_error("\n[" + deep + "a]\n"), StartsWith("p.toml:2:8195: more than 4096 '.' outside strings"));
    CHECK_THAT(load_error("x = 1\n" + deep + "a = 1\n"), StartsWith("p.toml:2:8194: more than 4096"));

    // A multi-line string that ends in quotes of its own ("""a"""") still ends there.
    CHECK_THAT(load_error("s = \"\"\"a\"\"\"\"\n" + deep + "a = 1\n"), StartsWith("p.toml:2:8194: more than 4096"));
    CHECK_THAT(load_error("s = '''a'''''\n" + deep + "a = 1\n"), StartsWith("p.toml:2:8194: more than 4096"));

    std::string dots(20000, '.');
    Policy p = load_text("description = \"" + dots + "\" # " + dots + "\nhostname = 'a'\n[environment.set]\nA = '''" +
                         dots + "'''\nB = \"\"\"\\\"" + dots + "\"\"\"\n");
    CHECK(p.hostname == "a");
    CHECK(p.env.set.at("A") == dots);
    CHECK(p.env.set.at("B") == "\"" + dots);
}

// TOML holds UTF-8 text only: toml++ printed the byte 0xff as U+00FF, which
// loaded back as another value (a bind source that no longer existed).
TEST_CASE("explain refuses a value that is not UTF-8 rather than print another", "[profile][explain]") {
    Policy p = load_text("hostname = 'box'\n");
    p.env.set["X"] = "caf\xc3\xa9";   // UTF-8: printed
    CHECK(explain_policy(p).find("X = \"caf\xc3\xa9\"") != std::string::npos);
    p.env.set["X"] = "\xff\xfe";
    CHECK_THAT(error_of([&] { explain_policy(p); }), StartsWith("explain: \"\\xff\\xfe\" is not UTF-8 text"));
}
