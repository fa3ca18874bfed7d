// Per-process limits. The cgroup holds the run-wide ones (memory, tasks,
// CPU over all processes); rlimits bound each process and stand in for the
// cgroup where none could be made.
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

void set_limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
    rlimit rl{soft, hard};
    if (setrlimit(resource, &rl) == 0) return;
    int err = errno;
    rlimit host{};
    if (err == EPERM && getrlimit(resource, &host) == 0 && hard > host.rlim_max)
        throw Error(fmt::format("rlimits: {} of {} is above the hard limit {} sandboxrun was started with "
                                "(ulimit -H in the caller); raise that or lower the profile's limit",
                                name, hard, host.rlim_max));
    throw sys_error(std::string("rlimits: set ") + name, std::to_string(soft), err);
}

void set_limit(int resource, const char* name, rlim_t value) { set_limit(resource, name, value, value); }

// At most `value`, never above what the host allows.
void cap_at(int resource, const char* name, rlim_t value) {
    rlimit host{};
    if (getrlimit(resource, &host) == 0 && host.rlim_max < value) value = host.rlim_max;
    set_limit(resource, name, value);
}

}  // namespace

// A limit the policy leaves open is the host's hard limit, not whatever soft
// limit the caller's shell had (ulimit -s 8192, ulimit -v): the same run
// behaves the same from any shell. (Raising a hard limit needs privilege in
// the host's user namespace.)
void open_up(int resource) {
    rlimit rl{};
    if (getrlimit(resource, &rl) != 0 || rl.rlim_cur == rl.rlim_max) return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(resource, &rl);
}

std::vector<std::string> inherited_hard_limits(const Limits& limits, CgroupCover cgroup) {
    struct Open {
        int resource;
        const char* name;
        bool open;
        const char* unit;
    };
    const Open open[] = {
        {RLIMIT_CPU, "cpu_time", !limits.cpu_time, " s"},
        {RLIMIT_FSIZE, "file_size", !limits.file_size, " bytes"},
        {RLIMIT_STACK, "stack", !limits.stack, " bytes"},
        {RLIMIT_AS, "address space", !cgroup.memory_by_rlimit(limits), " bytes"},
        {RLIMIT_DATA, "data", true, " bytes"},
    };
    std::vector<std::string> warnings;
    for (const Open& o : open)
        if (rlimit rl{}; o.open && getrlimit(o.resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
            warnings.push_back(fmt::format("{}: none asked for, but the run has the hard limit sandboxrun was started "
                                           "with ({}{})",
                                           o.name, rl.rlim_max, o.unit));
    // Open where the pids cgroup counts; every host has some hard limit on it.
    if (rlimit rl{}; limits.processes && cgroup.processes && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
                     rl.rlim_max < *limits.processes + 1)
        warnings.push_back(fmt::format("processes: the run's uid can have no more than {} (the hard RLIMIT_NPROC "
                                       "sandboxrun was started with), below the limit of {}",
                                       rl.rlim_max, *limits.processes));
    return warnings;
}

void apply_rlimits(const Limits& limits, CgroupCover cgroup) {
    if (limits.cpu_time) {
        // Without a cgroup this is the limit; with one the supervisor enforces
        // CPU time over the whole run and this is only a backstop, far enough
        // out that it never fires first: the kernel's tick-sampled CPU of one
        // process runs up to a third ahead of the cgroup's exact count (seen
        // with cc1plus), and a compiler's child killed by it read as the
        // compiler's own error. The soft limit sends SIGXCPU, the hard SIGKILL.
        const auto limit = static_cast<rlim_t>((limits.cpu_time->count() + 999) / 1000);
        rlim_t secs = cgroup.cpu ? 2 * limit + 1 : limit, hard = secs + 1;
        // A caller's lower hard limit (ulimit -Ht) not below the limit draws
        // it in (without a cgroup SIGXCPU must still come first, at the limit).
        if (rlimit host{}; getrlimit(RLIMIT_CPU, &host) == 0 && host.rlim_max < hard) {
            // (Equal, the kernel's count, running ahead of the cgroup's, would
            // SIGKILL the run before the supervisor calls it time_limit.)
            if (const rlim_t least = limit + 1; host.rlim_max < least)
                throw Error(fmt::format("rlimits: --cpu-time {} s needs an RLIMIT_CPU of {} s, above the hard limit "
                                        "{} s sandboxrun was started with (ulimit -Ht in the caller); raise that or "
                                        "lower the CPU limit",
                                        limit, least, host.rlim_max));
            hard = host.rlim_max;
            secs = hard > limit ? hard - 1 : hard;
        }
        set_limit(RLIMIT_CPU, "RLIMIT_CPU", secs, hard);
    } else {
        open_up(RLIMIT_CPU);
    }
    if (limits.file_size) set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", *limits.file_size);
    else open_up(RLIMIT_FSIZE);
    // Without a memory cgroup nothing counts socket buffers (~200 KiB a
    // socket; RLIMIT_AS sees none), and they grow with processes times
    // descriptors: both are held to what the profiles had before they grew
    // for hosts with many CPUs.
    const bool unmetered = cgroup.memory_by_rlimit(limits);
    const auto held = [&](std::uint64_t n) { return unmetered ? std::min(n, unmetered_cap) : n; };
    if (limits.open_files) set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", held(*limits.open_files));
    else open_up(RLIMIT_NOFILE);
    if (limits.stack) set_limit(RLIMIT_STACK, "RLIMIT_STACK", *limits.stack);
    else open_up(RLIMIT_STACK);
    open_up(RLIMIT_DATA);
    if (unmetered) set_limit(RLIMIT_AS, "RLIMIT_AS", *limits.memory);
    else open_up(RLIMIT_AS);
    // Counted per user namespace (Linux 5.14+): this run's tasks only, pid 1
    // (ours, same uid) among them.
    if (limits.processes && !cgroup.processes) set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", held(*limits.processes) + 1);
    else open_up(RLIMIT_NPROC);   // (root's low soft limit never bit root, but binds the run's uid)
    // A crash must not write a core into the work dir, nor (a limit of 0
    // does not stop that) start the host's core_pattern pipe, apport or
    // systemd-coredump, as root outside the run's limits: 1 stops both.
    cap_at(RLIMIT_CORE, "RLIMIT_CORE", 1);
    // The kernel charges queued signals and POSIX message queues up to the
    // owner of the run's user namespace too (the invoking user; the run's own
    // uid when root starts us): concurrent runs share that owner's budget.
    cap_at(RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 1024);
    cap_at(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 64 << 10);
    // The caller's real-time policy (chrt -f) or negative nice is not the
    // run's: a SCHED_FIFO program pinned beside the supervisor (taskset)
    // would keep it from running, and its limits from being enforced, until
    // the RLIMIT_CPU backstop. (Lowering them needs no privilege.)
    if (const int policy = sched_getscheduler(0); policy != SCHED_OTHER && policy != SCHED_BATCH && policy != SCHED_IDLE) {
        sched_param none{};
        if (sched_setscheduler(0, SCHED_OTHER, &none) != 0) throw sys_error("rlimits: sched_setscheduler SCHED_OTHER");
    }
    errno = 0;
    if (getpriority(PRIO_PROCESS, 0) < 0 && errno == 0 && setpriority(PRIO_PROCESS, 0, 0) != 0)
        throw sys_error("rlimits: setpriority 0");
    // Nor its real-time I/O class (ionice -c1): best-effort, the default level.
    constexpr int ioprio_who_process = 1, ioprio_class_rt = 1, ioprio_class_be = 2, ioprio_class_shift = 13;
    if (const long io = syscall(SYS_ioprio_get, ioprio_who_process, 0);
        io >= 0 && (io >> ioprio_class_shift) == ioprio_class_rt &&
        syscall(SYS_ioprio_set, ioprio_who_process, 0, (ioprio_class_be << ioprio_class_shift) | 4) != 0)
        throw sys_error("rlimits: ioprio_set best-effort");
    // Priorities may only be lowered, whatever the caller had.
    set_limit(RLIMIT_NICE, "RLIMIT_NICE", 0);
    set_limit(RLIMIT_RTPRIO, "RLIMIT_RTPRIO", 0);
    // No locked memory: the profiles refuse mlock, and mmap(MAP_LOCKED) and
    // SHM_LOCK, which no filter sees, obey this limit (the caller's 8 MiB).
    set_limit(RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0);
}

}  // namespace sandboxrun
