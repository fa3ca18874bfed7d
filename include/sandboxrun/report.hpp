// What a judge reads after a run: the verdict, the measured figures, and the
// JSON (--report) and isolate-compatible key:value (--meta) renderings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandboxrun/policy.hpp"

namespace sandboxrun {

enum class Verdict {
    ok,
    runtime_error,
    signal,
    time_limit,
    wall_time_limit,
    memory_limit,
    output_limit,
    syscall_violation,
    sandbox_error,
};

const char* verdict_name(Verdict v);

// Everything the supervisor observed; the verdict is derived from it.
struct Evidence {
    std::optional<int> exit_code;        // target exited normally with this
    std::optional<int> signal;           // target was killed by this signal
    bool syscall_violation = false;
    bool oom_killed = false;             // cgroup memory.events oom_kill / v1 oom_control
    bool cpu_limit_hit = false;          // supervisor or RLIMIT_CPU ended it on CPU time
    bool wall_limit_hit = false;
    bool output_limit_hit = false;       // SIGXFSZ or a redirected stream reached the cap
    bool sandbox_failed = false;         // setup failed; message says why
};

// Order of evidence: syscall violation, memory, time, wall time, output,
// signal, runtime error, ok. A sandbox failure outranks everything.
Verdict decide_verdict(const Evidence& e);

struct Report {
    std::string run_id;
    std::string profile;
    std::vector<std::string> command;
    Verdict verdict = Verdict::sandbox_error;
    Evidence evidence;
    std::uint64_t cpu_user_us = 0;
    std::uint64_t cpu_system_us = 0;
    std::uint64_t wall_us = 0;
    std::optional<std::uint64_t> peak_memory_kib;   // from the cgroup (or rusage max-rss)
    std::optional<std::uint64_t> max_rss_kib;       // largest single process (rusage)
    std::uint64_t csw_voluntary = 0;
    std::uint64_t csw_forced = 0;
    std::optional<int> syscall_number;
    std::string syscall_name;
    std::string cgroup;                  // "v1", "v2" or "none"
    std::string memory_limit_by;         // "cgroup", "rlimit-as" or "none"
    std::optional<int> landlock_abi;
    Limits limits;                       // the limits that applied
    std::vector<std::string> unapplied;  // "memory: no cgroup: ...", one line each
    std::vector<std::string> warnings;
    std::string message;                 // human summary, e.g. "Time limit exceeded"
    int stopped_by = 0;                  // the stop signal (SIGTERM...) that ended the run, if one did
};

// sandboxrun's exit status for the run: the target's own (where the verdict
// is ok or runtime_error), 128+N for signal N, 125 for a sandbox error.
int exit_status(const Report& r);

std::string report_json(const Report& r);
std::string report_meta(const Report& r);   // isolate's meta format
// "time_limit: Time limit exceeded": the line stderr gets for a verdict other than ok.
std::string verdict_summary(const Report& r);

}  // namespace sandboxrun
