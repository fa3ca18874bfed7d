// The stock language profiles (docs/profiles.md) with real toolchains: every
// language compiles and runs the programs of tests/languages/<lang>/ inside
// the sandbox (1 GiB for compile steps, 256 MiB for runs) and their output is
// compared; every profile turns what it does not allow into a violation.
//
// A toolchain that is not installed is skipped with a warning, unless
// SBX_LANG_REQUIRED is set (CI), when it fails. Without a cgroup (the
// unprivileged pass) the memory limit becomes RLIMIT_AS, which the JVM, Go and
// node cannot start under (they reserve gigabytes of address space they never
// touch), and under which mono, told the limit as its heap cap, runs out of
// address space before its GC would collect (docs/profiles.md): those four then
// run without a memory limit, with a warning, and everything else about their
// profiles is still checked.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <functional>

#include "harness.hpp"

using namespace sbx;

namespace {

fs::path languages_dir() {
    std::string dir = env_or("SBX_LANGS", "");
    if (!dir.empty()) return dir;
    return fs::path(__FILE__).parent_path().parent_path() / "languages";
}

// Copies tests/languages/<lang>/<program> into the work dir, owned by the user
// that runs sandboxrun; returns the copied files' paths, relative and sorted.
std::vector<std::string> copy_sources(const WorkDir& dir, const fs::path& from) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(from)) {
        fs::path rel = fs::relative(e.path(), from), to = dir.path() / rel;
        if (e.is_directory()) fs::create_directories(to);
        else {
            fs::copy_file(e.path(), to, fs::copy_options::overwrite_existing);
            files.push_back(rel.string());
        }
        if (run_as() > 0) [[maybe_unused]] int rc = chown(to.c_str(), run_as(), run_as());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> with_suffix(const std::vector<std::string>& files, const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& f : files)
        if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(f);
    return out;
}

struct Language {
    std::string name;                // directory under tests/languages
    std::string tool;                // what must be installed
    std::string compile_profile;     // empty: nothing to compile
    std::function<std::vector<std::string>(const std::vector<std::string>& files)> compile;
    std::string run_profile;
    std::vector<std::string> run;
    bool reserves_address_space;     // cannot work under RLIMIT_AS at judge limits
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<Language>& languages() {
    static const std::vector<Language> all = {
        {"c", "/usr/bin/gcc", "c",
         [](auto& f) { return concat({"gcc", "-O2", "-pthread", "-o", "main"}, with_suffix(f, ".c")); },
         "c-run", {"./main"}, false},
        {"cpp", "/usr/bin/g++", "cpp",
         [](auto& f) { return concat({"g++", "-O2", "-pthread", "-o", "main"}, with_suffix(f, ".cpp")); },
         "cpp-run", {"./main"}, false},
        // Java and C# compile through a shell, as judges' compile scripts do (dash forks for javac).
        {"java", "/usr/bin/javac", "java",
         [](auto& f) { return concat({"/bin/sh", "-c", "javac -d . \"$@\"", "sh"}, with_suffix(f, ".java")); },
         "java", {"java", "-cp", ".", "Main"}, true},
        {"csharp", "/usr/bin/mcs", "csharp",
         [](auto& f) { return concat({"/bin/sh", "-c", "mcs -out:main.exe \"$@\"", "sh"}, with_suffix(f, ".cs")); },
         "csharp", {"mono", "main.exe"}, true},   // its heap cap is the limit; address space is more
        {"python", "/usr/bin/python3", "", nullptr, "python", {"/usr/bin/python3", "main.py"}, false},
        {"javascript", "/usr/bin/node", "", nullptr, "javascript", {"node", "main.js"}, true},
        {"go", "/usr/bin/go", "go", [](auto&) { return std::vector<std::string>{"go", "build", "-o", "main", "."}; },
         "go-run", {"./main"}, true},
        {"pascal", "/usr/bin/fpc", "pascal",
         [](auto&) { return std::vector<std::string>{"fpc", "-O2", "-omain", "main.pas"}; }, "pascal-run",
         {"./main"}, false},
    };
    return all;
}

const Language& language(const std::string& name) {
    for (const auto& l : languages())
        if (l.name == name) return l;
    throw std::runtime_error("no language " + name);
}

// False (after a warning) when the toolchain is missing and may be.
bool installed(const Language& lang) {
    if (fs::exists(lang.tool)) return true;
    if (std::getenv("SBX_LANG_REQUIRED")) FAIL(lang.tool << " is not installed and SBX_LANG_REQUIRED is set");
    WARN(lang.name << " skipped: " << lang.tool << " is not installed (set SBX_LANG_REQUIRED to fail instead)");
    return false;
}

void compile_and_run(const std::string& name) {
    const Language& lang = language(name);
    if (!installed(lang)) return;
    std::vector<std::string> compile_memory = {"--memory", "1GiB"}, run_memory = {"--memory", "256MiB"};
    if (lang.reserves_address_space && unprivileged()) {
        WARN(lang.name << ": no memory limit in this pass: without a cgroup it would be RLIMIT_AS, "
                          "which this runtime cannot start under");
        compile_memory = run_memory = {"--memory", "none"};
    }
    const fs::path expected = languages_dir() / "expected";
    for (const std::string program : {"hello", "stdin", "multi", "threads"}) {
        INFO(name << "/" << program);
        WorkDir dir;
        auto files = copy_sources(dir, languages_dir() / name / program);
        REQUIRE_FALSE(files.empty());
        if (lang.compile) {
            auto args = concat(concat({"--profile", lang.compile_profile}, compile_memory), {"--"});
            Result cc = run(dir, concat(args, lang.compile(files)), 180);
            INFO("compile: " << cc.err << cc.report);
            CHECK(verdict(cc) == "ok");
            CHECK(cc.status == 0);
            if (cc.status != 0) continue;
        }
        std::string input;
        if (fs::exists(expected / (program + ".in"))) input = read_file(expected / (program + ".in"));
        auto args = concat(concat({"--profile", lang.run_profile}, run_memory), {"--"});
        Result r = run(dir, concat(args, lang.run), 120, input);
        INFO("run: " << r.err << r.report);
        CHECK(verdict(r) == "ok");
        CHECK(r.status == 0);
        CHECK(r.out == read_file(expected / (program + ".out")));
    }
}

}  // namespace

TEST_CASE("C programs compile (c) and run (c-run)", "[languages]") { compile_and_run("c"); }
TEST_CASE("C++ programs compile (cpp) and run (cpp-run)", "[languages]") { compile_and_run("cpp"); }
TEST_CASE("Java programs compile and run (java)", "[languages]") { compile_and_run("java"); }
TEST_CASE("C# programs compile and run (csharp)", "[languages]") { compile_and_run("csharp"); }
TEST_CASE("Python programs run (python)", "[languages]") { compile_and_run("python"); }
TEST_CASE("JavaScript programs run (javascript)", "[languages]") { compile_and_run("javascript"); }
TEST_CASE("Go programs build (go) and run (go-run)", "[languages]") { compile_and_run("go"); }
TEST_CASE("Pascal programs compile (pascal) and run (pascal-run)", "[languages]") { compile_and_run("pascal"); }

TEST_CASE("every language profile turns ptrace and mount into a violation, and no IP socket is made", "[languages]") {
    // base answers socket() with EAFNOSUPPORT (glibc's nscd lookups, the JDK's
    // probes fall back); python allows AF_UNIX sockets only.
    const std::vector<std::string> socket_violation = {"python"};
    for (const std::string profile : {"c", "c-run", "cpp", "cpp-run", "java", "csharp", "python", "javascript",
                                      "go", "go-run", "pascal", "pascal-run"}) {
        WorkDir dir;
        dir.add_program("forbidden_syscall");
        for (const std::string call : {"ptrace", "mount", "socket_inet"}) {
            Result r = run(dir, {"--profile", profile, "--", "./forbidden_syscall", call});
            INFO(profile << " " << call << ": " << r.out << r.err << r.report);
            bool refused_by_errno =
                call == "socket_inet" &&
                std::find(socket_violation.begin(), socket_violation.end(), profile) == socket_violation.end();
            if (refused_by_errno) {
                CHECK(r.out == "DENIED socket_inet EAFNOSUPPORT\n");
                CHECK(r.status == 2);
            } else {
                CHECK(verdict(r) == "syscall_violation");
                CHECK(json_field(r.report, "name") == "\"" + std::string(call == "socket_inet" ? "socket" : call) + "\"");
            }
        }
    }
}

TEST_CASE("a run may lower its own priority (nice, SCHED_OTHER, SCHED_IDLE), never raise it", "[languages]") {
    WorkDir dir;
    Result r = run(dir, {"--profile", "c", "--", "/bin/sh", "-c",
                         "nice -n 5 true && chrt -o 0 true && chrt -i 0 true && echo lowered; "
                         "chrt -f 1 true 2>/dev/null || echo no-raise; nice -n -5 true 2>/dev/null; echo nice $?"});
    INFO(r.err << r.report);
    CHECK(r.out == "lowered\nno-raise\nnice 0\n");
    CHECK(verdict(r) == "ok");
}

TEST_CASE("run profiles refuse to fork where the compile profiles allow it", "[languages]") {
    WorkDir dir;
    copy_sources(dir, languages_dir() / "c" / "fork");
    Result cc = run(dir, {"--profile", "c", "--", "gcc", "-o", "fork", "main.c"}, 120);
    INFO(cc.err);
    REQUIRE(cc.status == 0);
    for (const std::string lang : {"c", "cpp", "go", "pascal"}) {
        Result allowed = run(dir, {"--profile", lang, "--", "./fork"});
        INFO(lang << ": " << allowed.err << allowed.report);
        CHECK(allowed.out == "child exited 7\n");
        CHECK(verdict(allowed) == "ok");

        Result refused = run(dir, {"--profile", lang + "-run", "--", "./fork"});
        INFO(lang << "-run: " << refused.out << refused.err << refused.report);
        CHECK(refused.out.empty());
        CHECK(verdict(refused) == "syscall_violation");
        CHECK(json_field(refused.report, "name") == "\"clone\"");   // glibc's fork()
    }
}

TEST_CASE("runtime heap settings follow the run's memory limit", "[languages]") {
    WorkDir dir;
    dir.add_program("whoami");
    struct Case {
        std::string profile, expected;
    };
    for (const Case& c : std::vector<Case>{
             {"java", "env: JAVA_TOOL_OPTIONS=-XX:MaxRAM=314572800 "},
             {"csharp", "env: MONO_GC_PARAMS=max-heap-size=314572800\n"},
             {"javascript", "env: NODE_OPTIONS=--max-old-space-size=300\n"},
             {"go", "env: GOMEMLIMIT=314572800\n"},
             {"go-run", "env: GOMEMLIMIT=314572800\n"},
         }) {
        Result limited = run(dir, {"--profile", c.profile, "--memory", "300MiB", "--", "./whoami"});
        INFO(c.profile << ": " << limited.out << limited.err);
        CHECK(limited.out.find(c.expected) != std::string::npos);
        // No limit: the variable is left out rather than given a hole.
        Result unlimited = run(dir, {"--profile", c.profile, "--memory", "none", "--", "./whoami"});
        std::string name = c.expected.substr(0, c.expected.find('='));
        CHECK(unlimited.status == 0);
        CHECK(unlimited.out.find(name + "=") == std::string::npos);
    }

    // And the JVM really takes it as its machine size: three quarters of it for the heap.
    const Language& java = language("java");
    if (unprivileged() || !installed(java)) return;   // RLIMIT_AS: see the top of this file
    // (Below 256 MiB it takes MinRAMPercentage, 50 by default, unless told.)
    for (auto [limit, heap] : {std::pair{"128MiB", "100663296"}, std::pair{"256MiB", "201326592"},
                               std::pair{"512MiB", "402653184"}}) {
        Result r = run(dir, {"--profile", "java", "--memory", limit, "--", "java", "-XX:+PrintFlagsFinal", "-version"});
        INFO(r.err);
        CHECK(r.status == 0);
        auto line = r.out.find(" MaxHeapSize ");
        REQUIRE(line != std::string::npos);
        std::istringstream fields(r.out.substr(line, r.out.find('\n', line) - line));
        std::string name, eq, value;
        fields >> name >> eq >> value;
        CHECK(value == heap);
    }
}

TEST_CASE("learn names the syscalls a command needs beyond its profile, as a fragment that works", "[languages][learn]") {
    WorkDir dir;
    copy_sources(dir, languages_dir() / "c" / "fork");
    Result cc = run(dir, {"--profile", "c", "--", "gcc", "-o", "fork", "main.c"}, 120);
    REQUIRE(cc.status == 0);

    Result learned = run(dir, {"learn", "--profile", "base", "--", "./fork"}, 120);
    INFO(learned.out << learned.err);
    CHECK(learned.status == 0);
    CHECK(learned.out.find("child exited") == std::string::npos);   // the target's output is not the fragment
    auto allow = learned.out.find("\nallow = [");
    REQUIRE(allow != std::string::npos);
    std::string line = learned.out.substr(allow + 1, learned.out.find('\n', allow + 1) - allow - 1);
    CHECK(line.find("\"clone\"") != std::string::npos);
    CHECK(line.find("\"wait4\"") != std::string::npos);

    // base plus the fragment runs the command; base alone does not.
    WorkDir profiles;
    profiles.write("learned.toml", "extends = \"base\"\n" + learned.out);
    Result with = run(dir, {"--profile", (profiles.path() / "learned.toml").string(), "--", "./fork"});
    INFO(with.err << with.report);
    CHECK(verdict(with) == "ok");
    CHECK(with.out == "child exited 7\n");
    CHECK(verdict(run(dir, {"--profile", "base", "--", "./fork"})) == "syscall_violation");

    // What no stock profile allows is an error, not a suggestion.
    dir.add_program("forbidden_syscall");
    Result ptrace = run(dir, {"learn", "--profile", "base", "--", "./forbidden_syscall", "ptrace"});
    CHECK(ptrace.status == 125);
    CHECK(ptrace.err.find("needs ptrace") != std::string::npos);

    // A command that never got to the end is not said to run as it is.
    Result cut = run(dir, {"learn", "--profile", "base", "--wall-time", "1s", "--", "/bin/sleep", "5"});
    CHECK(cut.out.find("none so far: it ended wall_time_limit") != std::string::npos);
    CHECK(cut.out.find("it ran under the profile as it is") == std::string::npos);
}

TEST_CASE("everyday build and run steps are not violations", "[languages]") {
    if (!installed(language("cpp"))) return;
    WorkDir dir;
    dir.write("a.cpp", "#include <cstdio>\nint f(int);\nint main() { std::printf(\"%d\\n\", f(21)); }\n");
    dir.write("b.cpp", "int f(int x) { return 2 * x; }\n");
    dir.write("Makefile", "main: a.o b.o\n\t$(CXX) -o $@ $^\n");
    // Only 1 MiB is live at a time; ASan's default quarantine kept 256 MB of freed blocks.
    dir.write("churn.cpp", "#include <cstdio>\n#include <vector>\nint main() { long s = 0;\n"
                           "for (int i = 0; i < 2000; ++i) { std::vector<unsigned char> v(1 << 20, i % 256); s += v[i]; }\n"
                           "std::printf(\"%ld\\n\", s); }\n");
    struct Step {
        std::string what;
        std::vector<std::string> args;
        std::string out;
    };
    const std::vector<Step> steps = {
        // make spawns recipes with POSIX_SPAWN_RESETIDS (setresuid to the ids it has).
        {"make", {"--profile", "cpp", "--", "make"}, ""},
        // Grading scripts and build files start make from the other profiles too.
        {"make under java", {"--profile", "java", "--", "make", "-B"}, ""},
        {"make under csharp", {"--profile", "csharp", "--", "make", "-B"}, ""},
        {"make under python", {"--profile", "python", "--", "make", "-B"}, ""},
        // sh makes a pipe for a pipeline or a here-document.
        {"a pipeline under csharp", {"--profile", "csharp", "--", "sh", "-c", "echo 42 | cat"}, "42\n"},
        // bash asks getpeername(0) at start; mv from /tmp (tmpfs) copies and keeps attributes.
        {"bash, mv across file systems",
         {"--profile", "cpp", "--", "bash", "-c", "g++ -o /tmp/m a.cpp b.cpp && mv /tmp/m ./moved && ./moved"}, "42\n"},
        {"ubsan build", {"--profile", "cpp", "--", "g++", "-fsanitize=address,undefined", "-o", "san", "a.cpp", "b.cpp"}, ""},
        // UBSan probes memory through pipe2; LeakSanitizer would ptrace at exit.
        // ASan reserves terabytes of shadow: no RLIMIT_AS (unprivileged) for it.
        {"ubsan run", {"--profile", "cpp-run", "--memory", unprivileged() ? "none" : "256MiB", "--", "./san"}, "42\n"},
        {"asan build", {"--profile", "cpp", "--", "g++", "-O1", "-fsanitize=address", "-o", "churn", "churn.cpp"}, ""},
        {"asan run freeing memory", {"--profile", "cpp-run", "--memory", unprivileged() ? "none" : "256MiB", "--", "./churn"},
         "250008\n"},
        {"ls -l looks up user names", {"--profile", "cpp-run", "--", "/bin/ls", "-l", "b.cpp"}, ""},
    };
    for (const Step& step : steps) {
        Result r = run(dir, step.args, 180);
        INFO(step.what << ": " << r.out << r.err << r.report);
        CHECK(verdict(r) == "ok");
        if (!step.out.empty()) CHECK(r.out == step.out);
    }

    if (!installed(language("java")) || unprivileged()) return;   // RLIMIT_AS: see the top of this file
    dir.write("Big.java", "public class Big { public static void main(String[] a) throws Exception {\n"
                          "  java.nio.channels.Pipe.open();\n"
                          "  long[] x = new long[15_000_000]; x[x.length - 1] = 7; System.out.println(x[x.length - 1]); } }\n");
    Result cc = run(dir, {"--profile", "java", "--", "javac", "Big.java"}, 180);
    INFO(cc.err << cc.report);
    REQUIRE(cc.status == 0);
    // A 120 MB array under 256 MiB, and a collector of the judge's choosing.
    Result big = run(dir, {"--profile", "java", "--memory", "256MiB", "--", "java", "-XX:+UseParallelGC", "-cp", ".", "Big"}, 180);
    INFO(big.err << big.report);
    CHECK(verdict(big) == "ok");
    CHECK(big.out == "7\n");
}

TEST_CASE("real code past the stock programs: clang's OpenMP and sanitizers, mono's crash, node's title, vendored Go",
          "[languages]") {
    // Runtimes that reserve address space get no RLIMIT_AS (see the top of this file).
    const std::vector<std::string> roomy = {"--memory", unprivileged() ? "none" : "512MiB"};
    const auto step = [&](WorkDir& dir, const std::string& what, std::vector<std::string> args, const std::string& want,
                          const std::string& out = "") {
        Result r = run(dir, args, 180);
        INFO(what << ": " << r.out << r.err << r.report);
        CHECK(verdict(r) == want);
        if (!out.empty()) CHECK(r.out == out);
        return r;
    };
    if (installed(Language{"clang", "/usr/bin/clang", "", nullptr, "", {}, false})) {
        WorkDir dir;
        // LLVM's OpenMP runtime pins itself to each CPU in turn at start; a refusal was fatal (SIGABRT).
        dir.write("omp.c", "#include <stdio.h>\nint main() { long s = 0;\n#pragma omp parallel for reduction(+:s)\n"
                           "for (int i = 0; i < 1000; i++) s += i;\nprintf(\"%ld\\n\", s); }\n");
        step(dir, "clang -fopenmp", {"--profile", "c", "--", "clang", "-fopenmp", "-O2", "-o", "omp", "omp.c"}, "ok");
        step(dir, "clang OpenMP run", {"--profile", "c-run", "--", "./omp"}, "ok", "499500\n");
        // An ASan report forked llvm-symbolizer: a violation under the run profiles instead of the crash.
        dir.write("over.c", "#include <stdlib.h>\nint main(int c, char** v) { int* p = malloc(4 * sizeof *p); "
                            "return p[c + 3]; }\n");
        step(dir, "clang -fsanitize=address", {"--profile", "c", "--", "clang", "-g", "-fsanitize=address", "-o", "over", "over.c"}, "ok");
        Result asan = step(dir, "ASan report", concat(concat({"--profile", "c-run"}, roomy), {"--", "./over"}), "runtime_error");
        CHECK(asan.err.find("heap-buffer-overflow") != std::string::npos);
    }
    if (installed(language("cpp"))) {
        // 100 MB of initialized globals: the assembler's object file in /tmp is that big.
        WorkDir dir;
        dir.write("dp.cpp", "#include <cstdio>\nint dp[5000][5000] = {{1}};\n"
                            "int main() { std::printf(\"%d\\n\", dp[0][0] + dp[4999][4999]); }\n");
        step(dir, "a 100 MB .data", concat(concat({"--profile", "cpp"}, roomy), {"--", "g++", "-o", "dp", "dp.cpp"}), "ok");
    }
    if (installed(language("go"))) {
        WorkDir dir;
        dir.write("go.mod", "module example.com/big\n\ngo 1.19\n");
        dir.write("main.go", "package main\n\nimport \"fmt\"\n\nvar dp = [20000000]int32{1}\n\n"
                             "func main() { fmt.Println(dp[0] + dp[19999999]) }\n");
        step(dir, "a Go binary of 80 MB", concat(concat({"--profile", "go"}, roomy), {"--", "go", "build", "-o", "big", "."}), "ok");
    }
    if (installed(language("cpp"))) {
        // Standalone LeakSanitizer reads LSAN_OPTIONS, not ASAN_OPTIONS, and ptraced (or cloned) at exit.
        WorkDir dir;
        dir.write("a.c", "int main() { return 0; }\n");
        step(dir, "gcc -fsanitize=leak", {"--profile", "c", "--", "gcc", "-fsanitize=leak", "-o", "lsan", "a.c"}, "ok");
        step(dir, "LeakSanitizer run", concat(concat({"--profile", "c-run"}, roomy), {"--", "./lsan"}), "ok");
    }
    if (installed(language("csharp"))) {
        // A crashing mono ran gdb for a backtrace: pipe2, a violation instead of the crash.
        WorkDir dir;
        dir.write("ff.cs", "class P { static void Main() { System.Environment.FailFast(\"boom\"); } }\n");
        step(dir, "mcs", concat(concat({"--profile", "csharp"}, roomy), {"--", "mcs", "-out:ff.exe", "ff.cs"}), "ok");
        step(dir, "mono FailFast", concat(concat({"--profile", "csharp"}, roomy), {"--", "mono", "ff.exe"}), "signal");
    }
    if (installed(language("javascript"))) {
        WorkDir dir;
        dir.write("t.js", "process.title = 'judge'; console.log('titled');\n");
        step(dir, "process.title", concat(concat({"--profile", "javascript"}, roomy), {"--", "node", "t.js"}), "ok", "titled\n");
    }
    if (installed(language("go"))) {
        // Vendored dependencies build offline, as go picks -mod=vendor itself.
        WorkDir dir;
        dir.write("go.mod", "module example.com/app\n\ngo 1.19\n\nrequire example.com/dep v1.0.0\n");
        dir.write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/dep\"\n)\n\nfunc main() { fmt.Println(dep.Answer()) }\n");
        fs::create_directories(dir.path() / "vendor" / "example.com" / "dep");
        dir.write("vendor/modules.txt", "# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n");
        dir.write("vendor/example.com/dep/dep.go", "package dep\n\nfunc Answer() int { return 42 }\n");
        if (run_as() > 0)
            for (const auto& e : fs::recursive_directory_iterator(dir.path()))
                [[maybe_unused]] int rc = chown(e.path().c_str(), run_as(), run_as());
        step(dir, "go build with vendor/", concat(concat({"--profile", "go"}, roomy), {"--", "go", "build", "-o", "app", "."}), "ok");
        step(dir, "vendored run", concat(concat({"--profile", "go-run"}, roomy), {"--", "./app"}), "ok", "42\n");
    }
}
