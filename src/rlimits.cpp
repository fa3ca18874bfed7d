// Per-process limits. The cgroup holds the run-wide ones (memory, tasks,
// CPU over all processes); rlimits bound each process and stand in for the
// cgroup where none could be made.
#include <sys/resource.h>

#include <string>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

void set_limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
    rlimit rl{soft, hard};
    if (setrlimit(resource, &rl) != 0) throw sys_error(std::string("rlimits: set ") + name, std::to_string(soft));
}

void set_limit(int resource, const char* name, rlim_t value) { set_limit(resource, name, value, value); }

}  // namespace

void apply_rlimits(const Limits& limits, bool have_cgroup) {
    if (limits.cpu_time) {
        // With a cgroup the supervisor enforces CPU time over the whole run and
        // this is only a backstop, a second late; without one it is the limit.
        // The soft limit sends SIGXCPU (a time_limit verdict), the hard one SIGKILL.
        auto secs = static_cast<rlim_t>((limits.cpu_time->count() + 999) / 1000 + (have_cgroup ? 1 : 0));
        set_limit(RLIMIT_CPU, "RLIMIT_CPU", secs, secs + 1);
    }
    if (limits.file_size) set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", *limits.file_size);
    if (limits.open_files) set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", *limits.open_files);
    if (limits.stack) set_limit(RLIMIT_STACK, "RLIMIT_STACK", *limits.stack);
    if (!have_cgroup) {
        if (limits.memory) set_limit(RLIMIT_AS, "RLIMIT_AS", *limits.memory);
        // Counted per user namespace (Linux 5.14+): this run's tasks only,
        // pid 1 (ours, same uid) among them.
        if (limits.processes) set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", *limits.processes + 1);
    }
    set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);   // a crash must not write a core into the work dir
}

}  // namespace sandboxrun
