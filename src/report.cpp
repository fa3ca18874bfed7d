// Verdict from evidence, exit status, and the JSON and isolate-meta renderings.
//
// Both renderings return whole file contents ending in a newline. Numbers that
// are measured in microseconds are printed with integer arithmetic so that
// "3 decimals" never suffers from floating-point rounding.
#include "sandboxrun/report.hpp"

#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "sandboxrun/error.hpp"
#include "utf8.hpp"

namespace sandboxrun {

const char* verdict_name(Verdict v) {
    switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::runtime_error: return "runtime_error";
    case Verdict::signal: return "signal";
    case Verdict::time_limit: return "time_limit";
    case Verdict::wall_time_limit: return "wall_time_limit";
    case Verdict::memory_limit: return "memory_limit";
    case Verdict::output_limit: return "output_limit";
    case Verdict::syscall_violation: return "syscall_violation";
    case Verdict::sandbox_error: return "sandbox_error";
    }
    return "sandbox_error";
}

Verdict decide_verdict(const Evidence& e) {
    if (e.sandbox_failed) return Verdict::sandbox_error;
    if (e.syscall_violation) return Verdict::syscall_violation;
    // Limits only from what was measured (collect() in supervisor.cpp turns
    // SIGXCPU and SIGXFSZ into evidence where they prove a limit).
    if (e.oom_killed) return Verdict::memory_limit;
    if (e.cpu_limit_hit) return Verdict::time_limit;
    if (e.wall_limit_hit) return Verdict::wall_time_limit;
    if (e.output_limit_hit) return Verdict::output_limit;
    if (e.signal) return Verdict::signal;
    if (e.exit_code) return *e.exit_code == 0 ? Verdict::ok : Verdict::runtime_error;
    return Verdict::sandbox_error;
}

int exit_status(const Report& r) {
    if (r.verdict == Verdict::sandbox_error || r.evidence.sandbox_failed) return exit_sandbox_error;
    if (r.evidence.signal) return 128 + *r.evidence.signal;
    // The command's own status only where the verdict is its own: a limit hit
    // by a child it survived (an OOM kill, a CPU sum over the limit) or a
    // violation must not read as its success. As if killed, then.
    const bool own = r.verdict == Verdict::ok || r.verdict == Verdict::runtime_error;
    if (own && r.evidence.exit_code) return *r.evidence.exit_code;
    return 128 + SIGKILL;
}

std::string signal_name(int sig) {
    if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
    if (sig == SIGRTMIN) return "SIGRTMIN";
    if (sig > SIGRTMIN && sig <= SIGRTMAX) return fmt::format("SIGRTMIN+{}", sig - SIGRTMIN);
    // 32 and 33: the kernel's first real-time signals, which glibc keeps for itself.
    if (sig > 0 && sig < SIGRTMIN) return fmt::format("SIG{}", sig);
    return "";
}

namespace {

// The isolate-style one-line summary when the supervisor gave none.
std::string default_message(const Report& r) {
    const Evidence& e = r.evidence;
    switch (r.verdict) {
    case Verdict::ok: return {};
    case Verdict::runtime_error: return fmt::format("Exited with error status {}", e.exit_code.value_or(0));
    case Verdict::signal: return fmt::format("Caught fatal signal {}", e.signal.value_or(0));
    case Verdict::time_limit: return "Time limit exceeded";
    case Verdict::wall_time_limit: return "Time limit exceeded (wall clock)";
    case Verdict::memory_limit: return "Memory limit exceeded";
    case Verdict::output_limit: return "Output limit exceeded";
    case Verdict::syscall_violation:
        if (!r.syscall_name.empty()) return "Forbidden syscall " + r.syscall_name;
        if (r.syscall_number) return fmt::format("Forbidden syscall {}", *r.syscall_number);
        return "Forbidden syscall";
    case Verdict::sandbox_error: return "Internal error of the sandbox";
    }
    return {};
}

std::string message_of(const Report& r) {
    return r.message.empty() ? default_message(r) : r.message;
}

void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '"': out += "\\\""; ++i; continue;
        case '\\': out += "\\\\"; ++i; continue;
        case '\b': out += "\\b"; ++i; continue;
        case '\f': out += "\\f"; ++i; continue;
        case '\n': out += "\\n"; ++i; continue;
        case '\r': out += "\\r"; ++i; continue;
        case '\t': out += "\\t"; ++i; continue;
        default: break;
        }
        std::size_t n = utf8_length(s, i);
        if (c < 0x20 || c == 0x7f || n == 0) {
            // Control bytes and bytes that are not UTF-8 (paths, argv, error
            // text can hold anything): shown as the Latin-1 code point.
            out += fmt::format("\\u{:04x}", c);
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    out += '"';
}

std::string json_string(const std::string& s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

template <typename T>
std::string json_opt(const std::optional<T>& v) {
    return v ? fmt::format("{}", *v) : "null";
}

std::string json_opt_ms(const std::optional<Duration>& d) {
    return d ? fmt::format("{}", d->count()) : "null";
}

std::string json_string_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        append_json_string(out, items[i]);
    }
    return out + "]";
}

// Microseconds as milliseconds with exactly three decimals.
std::string us_as_ms(std::uint64_t us) {
    return fmt::format("{}.{:03}", us / 1000, us % 1000);
}

// Microseconds as seconds with three decimals, truncated like isolate does.
std::string us_as_seconds(std::uint64_t us) {
    std::uint64_t ms = us / 1000;
    return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

std::string signal_name_json(const std::optional<int>& sig) {
    const std::string name = sig ? signal_name(*sig) : "";
    return name.empty() ? "null" : json_string(name);
}

std::string syscall_json(const Report& r) {
    if (!r.syscall_number) return "null";
    return fmt::format("{{\"number\": {}, \"name\": {}}}", *r.syscall_number,
                       r.syscall_name.empty() ? "null" : json_string(r.syscall_name));
}

std::string limits_json(const Limits& l) {
    return fmt::format(
        "{{\"cpu_time_ms\": {}, \"wall_time_ms\": {}, \"memory_bytes\": {}, \"processes\": {}, "
        "\"file_size_bytes\": {}, \"open_files\": {}, \"stack_bytes\": {}}}",
        json_opt_ms(l.cpu_time), json_opt_ms(l.wall_time), json_opt(l.memory), json_opt(l.processes),
        json_opt(l.file_size), json_opt(l.open_files), json_opt(l.stack));
}

bool killed_by_sandbox(Verdict v) {
    switch (v) {
    case Verdict::time_limit:
    case Verdict::wall_time_limit:
    case Verdict::memory_limit:
    case Verdict::output_limit:
    case Verdict::syscall_violation: return true;
    default: return false;
    }
}

const char* isolate_status(Verdict v) {
    switch (v) {
    case Verdict::ok: return nullptr;
    case Verdict::runtime_error: return "RE";
    case Verdict::time_limit:
    case Verdict::wall_time_limit: return "TO";
    case Verdict::sandbox_error: return "XX";
    default: return "SG";
    }
}

}  // namespace

std::string report_json(const Report& r) {
    const Evidence& e = r.evidence;
    std::string out = "{\n";
    auto field = [&](const char* key, const std::string& value, bool last = false) {
        out += fmt::format("  \"{}\": {}{}\n", key, value, last ? "" : ",");
    };
    field("run_id", json_string(r.run_id));
    field("profile", json_string(r.profile));
    field("command", json_string_array(r.command));
    field("verdict", json_string(verdict_name(r.verdict)));
    field("exit_code", json_opt(e.exit_code));
    field("signal", json_opt(e.signal));
    field("signal_name", signal_name_json(e.signal));
    field("cpu_time_ms", us_as_ms(r.cpu_user_us + r.cpu_system_us));
    field("cpu_user_ms", us_as_ms(r.cpu_user_us));
    field("cpu_system_ms", us_as_ms(r.cpu_system_us));
    field("wall_time_ms", us_as_ms(r.wall_us));
    field("peak_memory_kib", json_opt(r.peak_memory_kib));
    field("max_rss_kib", json_opt(r.max_rss_kib));
    field("csw_voluntary", fmt::format("{}", r.csw_voluntary));
    field("csw_forced", fmt::format("{}", r.csw_forced));
    field("syscall", syscall_json(r));
    field("cgroup", json_string(r.cgroup));
    field("memory_limit_by", json_string(r.memory_limit_by));
    field("landlock_abi", json_opt(r.landlock_abi));
    field("limits", limits_json(r.limits));
    field("unapplied", json_string_array(r.unapplied));
    field("warnings", json_string_array(r.warnings));
    field("message", json_string(message_of(r)), true);
    out += "}\n";
    return out;
}

std::string report_meta(const Report& r) {
    const Evidence& e = r.evidence;
    std::string out;
    auto line = [&](const char* key, const std::string& value) {
        out += fmt::format("{}:{}\n", key, value);
    };
    line("time", us_as_seconds(r.cpu_user_us + r.cpu_system_us));
    line("time-wall", us_as_seconds(r.wall_us));
    if (r.max_rss_kib) line("max-rss", std::to_string(*r.max_rss_kib));
    line("csw-voluntary", std::to_string(r.csw_voluntary));
    line("csw-forced", std::to_string(r.csw_forced));
    if (r.peak_memory_kib && !r.cgroup.empty() && r.cgroup != "none")
        line("cg-mem", std::to_string(*r.peak_memory_kib));
    if (e.oom_killed) line("cg-oom-killed", "1");
    const char* status = isolate_status(r.verdict);
    if (e.exit_code) line("exitcode", std::to_string(*e.exit_code));
    if (e.signal) line("exitsig", std::to_string(*e.signal));
    // A limit or violation the program outlived (a child OOM-killed, output
    // cut by EFBIG): SIGKILL, as the exit status (137) says, so that readers of
    // "status:SG" find its signal.
    else if (status && std::string_view(status) == "SG") line("exitsig", std::to_string(SIGKILL));
    // Killed, not ended on its own (a program that ignored SIGXFSZ and exited
    // 0 was not); also by us on a judge's stop signal.
    if ((killed_by_sandbox(r.verdict) || (r.stopped_by && e.signal)) && !e.exit_code) line("killed", "1");
    if (status) line("status", status);
    // The meta format is one key per line: the message must stay on one line.
    std::string msg = message_of(r);
    for (char& c : msg)
        if (c == '\n' || c == '\r') c = ' ';
    if (!msg.empty()) line("message", msg);
    return out;
}

std::string verdict_summary(const Report& r) { return std::string(verdict_name(r.verdict)) + ": " + message_of(r); }

}  // namespace sandboxrun
