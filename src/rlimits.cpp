// Per-process limits. The cgroup holds the run-wide ones (memory, tasks,
// CPU over all processes); rlimits bound each process and stand in for the
// cgroup where none could be made.
#include <sys/resource.h>

#include <string>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

void set_limit(int resource, const char* name, rlim_t value) {
    rlimit rl{value, value};
    if (setrlimit(resource, &rl) != 0) throw sys_error(std::string("rlimits: set ") + name, std::to_string(value));
}

}  // namespace

void apply_rlimits(const Limits& limits, bool memory_by_rlimit) {
    if (limits.cpu_time) {
        // Backstop only: the supervisor enforces CPU time over the whole run.
        // Rounded up plus a second so it never fires before the supervisor does.
        auto secs = static_cast<rlim_t>((limits.cpu_time->count() + 999) / 1000 + 1);
        set_limit(RLIMIT_CPU, "RLIMIT_CPU", secs);
    }
    if (limits.file_size) set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", *limits.file_size);
    if (limits.open_files) set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", *limits.open_files);
    if (limits.stack) set_limit(RLIMIT_STACK, "RLIMIT_STACK", *limits.stack);
    if (limits.memory && memory_by_rlimit) set_limit(RLIMIT_AS, "RLIMIT_AS", *limits.memory);
    set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);   // a crash must not write a core into the work dir
}

}  // namespace sandboxrun
