// cgroup v2 and v1 behind one interface: one fresh group per run, beneath
// the cgroup sandboxrun itself runs in (or --cgroup-parent), removed when the
// Cgroup is destroyed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandboxrun/policy.hpp"

namespace sandboxrun {

// An open `tasks` file of a v1 group: a thread that writes "0" to it moves
// itself into the group.
struct TasksFile {
    int fd;
    std::string path;   // for messages
};

struct CgroupUsage {
    std::optional<std::uint64_t> cpu_usec;      // user + system, all tasks of the run
    std::optional<std::uint64_t> user_usec;
    std::optional<std::uint64_t> system_usec;
    std::optional<std::uint64_t> memory_peak;   // bytes
    bool oom_killed = false;                    // the kernel OOM-killed a task of the run
    bool memory_limit_reached = false;          // after an OOM kill: at the run's own limit (not a parent's, the host's)
    bool pids_limit_hit = false;                // a fork failed on the pids limit
};

class Cgroup {
public:
    virtual ~Cgroup() = default;   // kills what is left and removes the group
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;

    // Creates the group and sets memory/pids limits. Returns nullptr when no
    // cgroup can be made here (no permission, no delegation, no controller),
    // after appending a warning that says what and why. `parent`
    // (--cgroup-parent): make the group beneath it instead of beneath our own
    // cgroup; throws Error when it names no cgroup directory.
    static std::unique_ptr<Cgroup> create(const Limits& limits, const std::string& run_id,
                                          std::vector<std::string>& warnings,
                                          const std::optional<std::string>& parent = std::nullopt);

    virtual void add_process(pid_t pid) = 0;
    // v2: an fd of the group for clone3(CLONE_INTO_CGROUP), so the child is
    // born in it instead of being moved (a move waits for an RCU grace
    // period, milliseconds per run). -1 where that is not possible (v1).
    virtual int clone_into_fd() const { return -1; }
    // v1: the group's `tasks` files, opened here. Moving another process in
    // (add_process) takes the threadgroup lock, whose first writer after a
    // quiet spell waits an RCU grace period (5-15 ms per run); a thread that
    // writes "0" moves only itself and skips that lock. So the child joins
    // on its own, first thing, before it runs anything of the target's.
    // Empty where that is not possible (v2).
    virtual std::vector<TasksFile> self_join_files() const { return {}; }
    virtual std::optional<std::uint64_t> cpu_usec() = 0;   // live, for the CPU limit
    virtual CgroupUsage usage() = 0;
    virtual void kill_all() = 0;
    virtual std::string describe() const = 0;            // "v1: /sys/fs/cgroup/memory/...; ..."
    virtual std::vector<std::string> unapplied() const = 0; // limits asked for but not set, with why
    // The limits the group holds (a v2 parent may lack a controller): rlimits stand in for the others.
    bool limits_memory = false, limits_processes = false;

protected:
    Cgroup() = default;
};

// Removes groups left by supervisors that died (SIGKILL), beneath our own
// cgroups and beneath `parent` (--cgroup-parent). Returns how many; those it
// could not remove go to `left` ("DIR: why").
int cleanup_stale_cgroups(const std::optional<std::string>& parent = std::nullopt,
                          std::vector<std::string>* left = nullptr);

}  // namespace sandboxrun
