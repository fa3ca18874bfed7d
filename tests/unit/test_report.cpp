// Verdict precedence, exit status, and the JSON and meta renderings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sandboxrun/error.hpp"
#include "sandboxrun/report.hpp"

using namespace sandboxrun;

namespace {

// A strict little JSON parser (RFC 8259 subset we need: everything except
// \uXXXX above the BMP), so the tests check validity and read fields back.
struct Json {
    enum Kind { null, boolean, number, string, array, object } kind = null;
    std::string text;   // string value, or the number's literal
    std::vector<Json> items;
    std::map<std::string, Json> fields;
    std::vector<std::string> order;  // object keys in document order

    const Json& operator[](const std::string& k) const {
        auto it = fields.find(k);
        if (it == fields.end()) throw std::runtime_error("no key " + k);
        return it->second;
    }
};

class Parser {
public:
    explicit Parser(const std::string& s) : s_(s) {}

    Json document() {
        Json v = value();
        ws();
        if (i_ != s_.size()) fail("trailing data");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& why) {
        throw std::runtime_error(why + " at offset " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    char peek() {
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected ") + c);
        ++i_;
    }
    bool literal(const char* word) {
        std::string w(word);
        if (s_.compare(i_, w.size(), w) != 0) return false;
        i_ += w.size();
        return true;
    }
    Json value() {
        Json v;
        char c = peek();
        if (c == '{') {
            v.kind = Json::object;
            ++i_;
            if (peek() == '}') { ++i_; return v; }
            for (;;) {
                if (peek() != '"') fail("expected key");
                std::string k = str();
                if (v.fields.count(k)) fail("duplicate key " + k);
                expect(':');
                v.fields[k] = value();
                v.order.push_back(k);
                if (peek() == ',') { ++i_; continue; }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = Json::array;
            ++i_;
            if (peek() == ']') { ++i_; return v; }
            for (;;) {
                v.items.push_back(value());
                if (peek() == ',') { ++i_; continue; }
                expect(']');
                return v;
            }
        }
        if (c == '"') { v.kind = Json::string; v.text = str(); return v; }
        if (literal("null")) return v;
        if (literal("true") || literal("false")) { v.kind = Json::boolean; return v; }
        v.kind = Json::number;
        std::size_t start = i_;
        if (s_[i_] == '-') ++i_;
        auto digits = [&] {
            std::size_t d = i_;
            while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
            if (d == i_) fail("expected digit");
        };
        if (s_[i_] == '0') ++i_; else digits();
        if (i_ < s_.size() && s_[i_] == '.') { ++i_; digits(); }
        v.text = s_.substr(start, i_ - start);
        return v;
    }
    std::string str() {
        ++i_;  // opening quote
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail("unterminated string");
            unsigned char c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return out;
            if (c < 0x20) fail("raw control character in string");
            if (c != '\\') { out += static_cast<char>(c); continue; }
            char e = s_.at(i_++);
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
                i_ += 4;
                if (cp < 0x80) out += static_cast<char>(cp);
                else if (cp < 0x800) { out += static_cast<char>(0xc0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3f)); }
                else fail("test parser: \\u above U+07FF not needed");
                break;
            }
            default: fail("bad escape");
            }
        }
    }

    const std::string& s_;
    std::size_t i_ = 0;
};

Json parse(const std::string& s) { return Parser(s).document(); }

Evidence exited(int code) { Evidence e; e.exit_code = code; return e; }
Evidence killed(int sig) { Evidence e; e.signal = sig; return e; }

Report make_report(Evidence e) {
    Report r;
    r.run_id = "run-1";
    r.profile = "c";
    r.command = {"./a.out", "arg"};
    r.evidence = e;
    r.verdict = decide_verdict(e);
    r.cgroup = "v1";
    r.memory_limit_by = "cgroup";
    return r;
}

std::map<std::string, std::string> meta_map(const std::string& meta, std::vector<std::string>* keys = nullptr) {
    std::map<std::string, std::string> m;
    std::istringstream in(meta);
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        std::string k = line.substr(0, colon);
        REQUIRE(m.count(k) == 0);
        m[k] = line.substr(colon + 1);
        if (keys) keys->push_back(k);
    }
    return m;
}

}  // namespace

TEST_CASE("verdict names", "[report]") {
    CHECK(std::string(verdict_name(Verdict::ok)) == "ok");
    CHECK(std::string(verdict_name(Verdict::runtime_error)) == "runtime_error");
    CHECK(std::string(verdict_name(Verdict::signal)) == "signal");
    CHECK(std::string(verdict_name(Verdict::time_limit)) == "time_limit");
    CHECK(std::string(verdict_name(Verdict::wall_time_limit)) == "wall_time_limit");
    CHECK(std::string(verdict_name(Verdict::memory_limit)) == "memory_limit");
    CHECK(std::string(verdict_name(Verdict::output_limit)) == "output_limit");
    CHECK(std::string(verdict_name(Verdict::syscall_violation)) == "syscall_violation");
    CHECK(std::string(verdict_name(Verdict::sandbox_error)) == "sandbox_error");
}

TEST_CASE("each piece of evidence alone gives its verdict", "[report]") {
    CHECK(decide_verdict(exited(0)) == Verdict::ok);
    CHECK(decide_verdict(exited(3)) == Verdict::runtime_error);
    CHECK(decide_verdict(killed(SIGSEGV)) == Verdict::signal);
    // SIGXCPU and SIGXFSZ alone prove nothing: a program can raise them itself
    // (the supervisor turns them into evidence where the measurements agree).
    CHECK(decide_verdict(killed(SIGXCPU)) == Verdict::signal);
    CHECK(decide_verdict(killed(SIGXFSZ)) == Verdict::signal);
    CHECK(decide_verdict(Evidence{}) == Verdict::sandbox_error);

    Evidence e = killed(SIGKILL);
    SECTION("cpu") { e.cpu_limit_hit = true; CHECK(decide_verdict(e) == Verdict::time_limit); }
    SECTION("wall") { e.wall_limit_hit = true; CHECK(decide_verdict(e) == Verdict::wall_time_limit); }
    SECTION("oom") { e.oom_killed = true; CHECK(decide_verdict(e) == Verdict::memory_limit); }
    SECTION("output") { e.output_limit_hit = true; CHECK(decide_verdict(e) == Verdict::output_limit); }
    SECTION("violation") {
        e.signal = SIGSYS;
        e.syscall_violation = true;
        CHECK(decide_verdict(e) == Verdict::syscall_violation);
    }
    SECTION("sandbox") { e.sandbox_failed = true; CHECK(decide_verdict(e) == Verdict::sandbox_error); }
}

TEST_CASE("verdict precedence when evidence piles up", "[report]") {
    Evidence e = killed(SIGKILL);
    e.cpu_limit_hit = e.wall_limit_hit = e.output_limit_hit = e.oom_killed = e.syscall_violation = true;
    e.sandbox_failed = true;
    CHECK(decide_verdict(e) == Verdict::sandbox_error);
    e.sandbox_failed = false;
    CHECK(decide_verdict(e) == Verdict::syscall_violation);
    e.syscall_violation = false;
    CHECK(decide_verdict(e) == Verdict::memory_limit);
    e.oom_killed = false;
    CHECK(decide_verdict(e) == Verdict::time_limit);
    e.cpu_limit_hit = false;
    CHECK(decide_verdict(e) == Verdict::wall_time_limit);
    e.wall_limit_hit = false;
    CHECK(decide_verdict(e) == Verdict::output_limit);
    e.output_limit_hit = false;
    CHECK(decide_verdict(e) == Verdict::signal);

    // A signal outranks the exit code (both set would be a supervisor bug, but
    // the signal is the stronger evidence of how it ended).
    Evidence both = exited(1);
    both.signal = SIGABRT;
    CHECK(decide_verdict(both) == Verdict::signal);

    // Limits outrank a plain nonzero exit.
    Evidence tle = exited(1);
    tle.cpu_limit_hit = true;
    CHECK(decide_verdict(tle) == Verdict::time_limit);
}

TEST_CASE("memory_limit comes from an OOM kill, whatever the exit", "[report]") {
    Evidence oom = exited(0);
    oom.oom_killed = true;  // a child was OOM-killed even though the main process exited 0
    CHECK(decide_verdict(oom) == Verdict::memory_limit);
    Evidence failed = exited(1);
    CHECK(decide_verdict(failed) == Verdict::runtime_error);
}

TEST_CASE("exit status", "[report]") {
    CHECK(exit_status(make_report(exited(0))) == 0);
    CHECK(exit_status(make_report(exited(3))) == 3);
    CHECK(exit_status(make_report(killed(SIGSEGV))) == 128 + SIGSEGV);

    Evidence tle = killed(SIGKILL);
    tle.cpu_limit_hit = true;
    CHECK(exit_status(make_report(tle)) == 137);

    Evidence tle_no_status;
    tle_no_status.wall_limit_hit = true;
    Report r = make_report(tle_no_status);
    REQUIRE(r.verdict == Verdict::wall_time_limit);
    CHECK(exit_status(r) == 137);

    // A limit the command survived (a child OOM-killed, a CPU sum over the
    // limit), or a violation, never exits with its own status.
    for (int code : {0, 3}) {
        Evidence oom = exited(code);
        oom.oom_killed = true;
        CHECK(exit_status(make_report(oom)) == 137);
        Evidence cpu = exited(code);
        cpu.cpu_limit_hit = true;
        CHECK(exit_status(make_report(cpu)) == 137);
        Evidence violation = exited(code);
        violation.syscall_violation = true;
        CHECK(exit_status(make_report(violation)) == 137);
    }

    Evidence failed = exited(0);
    failed.sandbox_failed = true;
    CHECK(exit_status(make_report(failed)) == exit_sandbox_error);
    CHECK(exit_status(make_report(Evidence{})) == 125);
}

TEST_CASE("JSON report has every key, in order, with the right types", "[report]") {
    Evidence e = killed(SIGKILL);
    e.syscall_violation = true;
    Report r = make_report(e);
    r.cpu_user_us = 1234567;
    r.cpu_system_us = 1001;
    r.wall_us = 2000999;
    r.peak_memory_kib = 4096;
    r.csw_voluntary = 7;
    r.csw_forced = 8;
    r.syscall_number = 101;
    r.syscall_name = "ptrace";
    r.landlock_abi = 7;
    r.limits.cpu_time = Duration(1500);
    r.limits.memory = 256ull << 20;
    r.limits.open_files = 64;
    r.unapplied = {"memory: no cgroup: EPERM"};
    r.warnings = {"w1", "w2"};

    Json j = parse(report_json(r));
    REQUIRE(j.kind == Json::object);
    std::vector<std::string> expected = {
        "run_id", "profile", "command", "verdict", "exit_code", "signal", "signal_name",
        "cpu_time_ms", "cpu_user_ms", "cpu_system_ms", "wall_time_ms", "peak_memory_kib",
        "max_rss_kib", "csw_voluntary", "csw_forced", "syscall", "cgroup", "memory_limit_by",
        "landlock_abi", "limits", "unapplied", "warnings", "message"};
    CHECK(j.order == expected);

    CHECK(j["run_id"].text == "run-1");
    REQUIRE(j["command"].items.size() == 2);
    CHECK(j["command"].items[1].text == "arg");
    CHECK(j["verdict"].text == "syscall_violation");
    CHECK(j["exit_code"].kind == Json::null);
    CHECK(j["signal"].text == "9");
    CHECK(j["signal_name"].text == "SIGKILL");
    CHECK(j["cpu_time_ms"].text == "1235.568");
    CHECK(j["cpu_user_ms"].text == "1234.567");
    CHECK(j["cpu_system_ms"].text == "1.001");
    CHECK(j["wall_time_ms"].text == "2000.999");
    CHECK(j["peak_memory_kib"].text == "4096");
    CHECK(j["max_rss_kib"].kind == Json::null);
    CHECK(j["csw_voluntary"].text == "7");
    CHECK(j["csw_forced"].text == "8");
    CHECK(j["syscall"]["number"].text == "101");
    CHECK(j["syscall"]["name"].text == "ptrace");
    CHECK(j["cgroup"].text == "v1");
    CHECK(j["memory_limit_by"].text == "cgroup");
    CHECK(j["landlock_abi"].text == "7");
    const Json& l = j["limits"];
    CHECK(l["cpu_time_ms"].text == "1500");
    CHECK(l["wall_time_ms"].kind == Json::null);
    CHECK(l["memory_bytes"].text == "268435456");
    CHECK(l["processes"].kind == Json::null);
    CHECK(l["file_size_bytes"].kind == Json::null);
    CHECK(l["open_files"].text == "64");
    CHECK(l["stack_bytes"].kind == Json::null);
    CHECK(l.order.size() == 7);
    REQUIRE(j["unapplied"].items.size() == 1);
    CHECK(j["unapplied"].items[0].text == "memory: no cgroup: EPERM");
    CHECK(j["warnings"].items.size() == 2);
    CHECK(j["message"].text == "Forbidden syscall ptrace");
}

TEST_CASE("JSON nulls for an exited run without syscall or landlock", "[report]") {
    Report r = make_report(exited(0));
    r.command.clear();
    Json j = parse(report_json(r));
    CHECK(j["verdict"].text == "ok");
    CHECK(j["exit_code"].text == "0");
    CHECK(j["signal"].kind == Json::null);
    CHECK(j["signal_name"].kind == Json::null);
    CHECK(j["syscall"].kind == Json::null);
    CHECK(j["landlock_abi"].kind == Json::null);
    CHECK(j["command"].kind == Json::array);
    CHECK(j["command"].items.empty());
    CHECK(j["cpu_time_ms"].text == "0.000");
}

TEST_CASE("JSON strings are escaped and survive a round trip", "[report]") {
    const std::string nasty = std::string("q\"b\\s/ nl\n cr\r tab\t bell\a nul") + '\0' + " del\x7f esc\x1b";
    const std::string utf8 = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";  // é € 😀
    Report r = make_report(exited(1));
    r.command = {nasty, utf8};
    r.message = "line1\nline2";
    std::string text = report_json(r);

    // Raw control characters never reach the output except the layout newlines.
    CHECK(std::none_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\n'; }));
    CHECK(text.find("\\u0000") != std::string::npos);
    CHECK(text.find("\\u0007") != std::string::npos);
    CHECK(text.find("\\u007f") != std::string::npos);
    CHECK(text.find(utf8) != std::string::npos);  // valid UTF-8 passes through untouched

    Json j = parse(text);
    CHECK(j["command"].items[0].text == nasty);
    CHECK(j["command"].items[1].text == utf8);
    CHECK(j["message"].text == "line1\nline2");
}

TEST_CASE("JSON escapes bytes that are not UTF-8", "[report]") {
    std::vector<std::pair<std::string, std::string>> cases = {
        {"a\xff" "b", "a\\u00ffb"},             // never valid
        {"\xc3", "\\u00c3"},                     // truncated sequence
        {"\xc0\xaf", "\\u00c0\\u00af"},          // overlong '/'
        {"\xed\xa0\x80", "\\u00ed\\u00a0\\u0080"},  // UTF-16 surrogate
        {"\xe0\x80\xaf", "\\u00e0\\u0080\\u00af"},  // overlong 3-byte '/'
        {"\xf0\x82\x82\xac", "\\u00f0\\u0082\\u0082\\u00ac"},  // overlong 4-byte euro sign
        {"\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"},  // above U+10FFFF
        {"\xe2\x28\xa1", "\\u00e2(\\u00a1"},     // bad continuation
    };
    for (const auto& [raw, escaped] : cases) {
        Report r = make_report(exited(0));
        r.run_id = raw;
        std::string text = report_json(r);
        INFO(escaped);
        CHECK(text.find("\"run_id\": \"" + escaped + "\"") != std::string::npos);
        CHECK_NOTHROW(parse(text));
    }
}

TEST_CASE("meta: ok run", "[report]") {
    Report r = make_report(exited(0));
    r.cpu_user_us = 1500000;
    r.cpu_system_us = 499;  // truncated away: isolate prints whole milliseconds
    r.wall_us = 61234567;
    r.max_rss_kib = 1024;
    r.peak_memory_kib = 2048;
    r.csw_voluntary = 3;
    r.csw_forced = 4;
    std::vector<std::string> keys;
    auto m = meta_map(report_meta(r), &keys);
    CHECK(keys == std::vector<std::string>{"time", "time-wall", "max-rss", "csw-voluntary", "csw-forced",
                                           "cg-mem", "exitcode"});
    CHECK(m["time"] == "1.500");
    CHECK(m["time-wall"] == "61.234");
    CHECK(m["max-rss"] == "1024");
    CHECK(m["csw-voluntary"] == "3");
    CHECK(m["csw-forced"] == "4");
    CHECK(m["cg-mem"] == "2048");
    CHECK(m["exitcode"] == "0");
}

TEST_CASE("meta: no cg-mem without a cgroup", "[report]") {
    Report r = make_report(exited(0));
    r.peak_memory_kib = 2048;
    r.cgroup = "none";
    CHECK(meta_map(report_meta(r)).count("cg-mem") == 0);
}

TEST_CASE("meta: status, killed and message for each verdict", "[report]") {
    struct Case {
        Evidence e;
        const char* status;
        bool killed;
        std::string message;
    };
    Evidence tle = killed(SIGKILL); tle.cpu_limit_hit = true;
    Evidence wall = killed(SIGKILL); wall.wall_limit_hit = true;
    Evidence mle = killed(SIGKILL); mle.oom_killed = true;
    Evidence ole = killed(SIGXFSZ); ole.output_limit_hit = true;
    Evidence full = exited(0); full.output_limit_hit = true;   // ignored SIGXFSZ, ended on its own
    Evidence sys = killed(SIGSYS); sys.syscall_violation = true;
    Evidence err; err.sandbox_failed = true;
    std::vector<Case> cases = {
        {exited(3), "RE", false, "Exited with error status 3"},
        {killed(SIGSEGV), "SG", false, "Caught fatal signal 11"},
        {tle, "TO", true, "Time limit exceeded"},
        {wall, "TO", true, "Time limit exceeded (wall clock)"},
        {mle, "SG", true, "Memory limit exceeded"},
        {ole, "SG", true, "Output limit exceeded"},
        {full, "SG", false, "Output limit exceeded"},
        {sys, "SG", true, "Forbidden syscall ptrace"},
        {err, "XX", false, "Internal error of the sandbox"},
    };
    for (const auto& c : cases) {
        Report r = make_report(c.e);
        r.syscall_number = 101;
        r.syscall_name = "ptrace";
        INFO(verdict_name(r.verdict));
        auto m = meta_map(report_meta(r));
        CHECK(m["status"] == c.status);
        CHECK(m.count("killed") == (c.killed ? 1u : 0u));
        if (c.killed) CHECK(m["killed"] == "1");
        CHECK(m["message"] == c.message);
        CHECK(m.count("exitcode") == (c.e.exit_code ? 1u : 0u));
        // Every SG names a signal: a limit the program outlived says SIGKILL, as its exit status 137.
        const bool sg = std::string(c.status) == "SG";
        CHECK(m.count("exitsig") == (c.e.signal || sg ? 1u : 0u));
        if (c.e.signal) CHECK(m["exitsig"] == std::to_string(*c.e.signal));
        else if (sg) CHECK(m["exitsig"] == "9");
        CHECK(m.count("cg-oom-killed") == (c.e.oom_killed ? 1u : 0u));
    }

    // A run we killed because the judge sent us SIGTERM: killed:1 too.
    Evidence stopped = killed(SIGKILL);
    stopped.sandbox_failed = true;
    Report r = make_report(stopped);
    r.stopped_by = SIGTERM;
    auto m = meta_map(report_meta(r));
    CHECK(m["status"] == "XX");
    CHECK(m["killed"] == "1");
}

TEST_CASE("meta: ok has no status or message; key order with every key", "[report]") {
    Report ok = make_report(exited(0));
    auto m = meta_map(report_meta(ok));
    CHECK(m.count("status") == 0);
    CHECK(m.count("message") == 0);
    CHECK(m.count("killed") == 0);

    Evidence e = killed(SIGKILL);
    e.oom_killed = true;
    Report r = make_report(e);
    r.max_rss_kib = 1;
    r.peak_memory_kib = 2;
    std::vector<std::string> keys;
    meta_map(report_meta(r), &keys);
    CHECK(keys == std::vector<std::string>{"time", "time-wall", "max-rss", "csw-voluntary", "csw-forced",
                                           "cg-mem", "cg-oom-killed", "exitsig", "killed", "status",
                                           "message"});
}

TEST_CASE("meta: supervisor's message wins and stays on one line", "[report]") {
    Evidence e;
    e.sandbox_failed = true;
    Report r = make_report(e);
    r.message = "mount: /proc:\nPermission denied\r\n";
    std::string meta = report_meta(r);
    auto m = meta_map(meta);
    CHECK(m["status"] == "XX");
    CHECK(m["message"] == "mount: /proc: Permission denied  ");
    CHECK(meta.back() == '\n');
    CHECK(parse(report_json(r))["message"].text == r.message);
}

TEST_CASE("real-time signals are named relative to SIGRTMIN", "[report]") {
    Evidence e;
    e.signal = SIGRTMIN + 3;
    CHECK(parse(report_json(make_report(e)))["signal_name"].text == "SIGRTMIN+3");
    e.signal = 32;   // glibc's own, below its SIGRTMIN
    CHECK(parse(report_json(make_report(e)))["signal_name"].text == "SIG32");
    e.signal = SIGRTMIN;
    CHECK(parse(report_json(make_report(e)))["signal_name"].text == "SIGRTMIN");
    e.signal = SIGUSR1;
    CHECK(parse(report_json(make_report(e)))["signal_name"].text == "SIGUSR1");
}
