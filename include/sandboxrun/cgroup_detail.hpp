// Internals shared by cgroups.cpp, cgroup_v1.cpp and cgroup_v2.cpp, and
// reachable from the unit tests (parsers, discovery on fake trees, the group
// directories of a live Cgroup). Not a contract for other layers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandboxrun/cgroups.hpp"

namespace sandboxrun::cgroup_detail {

// The shared parent of every run group, beneath the cgroup sandboxrun runs in
// (or the --cgroup-parent).
inline constexpr const char* base_name = "sandboxrun";
// On v2, the leaf sandboxrun moves itself into when it is alone in its own
// cgroup, so that cgroup may hand controllers down. A process sitting in a
// cgroup of this name counts the cgroup above as its own.
inline constexpr const char* leaf_name = "sandboxrun-supervisor";
// How long kill_all/destruction/stale cleanup wait for a group to empty.
inline constexpr std::chrono::milliseconds empty_budget{2000};

// ---- small file I/O (cgroupfs files are read and written in one syscall) ---
std::optional<std::string> read_file(const std::string& path);  // nullopt: errno set
int write_file(const std::string& path, const std::string& text); // 0 or errno
// The number after `key` in "key value" lines (cpu.stat, memory.events, ...).
std::optional<std::uint64_t> keyed_value(const std::string& text, const std::string& key);
std::optional<std::uint64_t> read_number(const std::string& path);
// The same, relative to an open directory of the group: no walk of the long
// cgroupfs path on every read of a run's counters.
std::optional<std::string> read_file_at(int dir_fd, const char* name);
int write_file_at(int dir_fd, const char* name, const std::string& text);
std::optional<std::uint64_t> read_number_at(int dir_fd, const char* name);
std::vector<std::string> words(const std::string& text);

// ---- where the hierarchies are ----------------------------------------------
struct Mount {
    std::string root;           // the hierarchy path the mount shows
    std::string mount_point;
    std::string fstype;         // "cgroup" or "cgroup2"
    std::vector<std::string> super_options;
};
std::vector<Mount> parse_mountinfo(const std::string& text);   // cgroup mounts only

struct ProcCgroup {
    std::string hierarchy_id;                // "0" is the v2 hierarchy
    std::vector<std::string> controllers;    // empty for v2
    std::string path;
};
std::vector<ProcCgroup> parse_proc_cgroup(const std::string& text);

// The directory of cgroup `path` seen through mount `m`, if `m` shows it.
std::optional<std::string> dir_through(const Mount& m, const std::string& path);

// In each hierarchy, parent_dir is where sandboxrun/ is made: our own cgroup,
// or the --cgroup-parent.
struct V1Hierarchy {
    std::vector<std::string> controllers;  // of memory/pids/cpuacct, those it carries
    Mount mount;                           // the mount it is reached through
    std::string parent_dir;
};

struct Layout {
    std::optional<std::string> v2_parent_dir;
    std::vector<std::string> v2_controllers;   // cgroup.controllers of v2_parent_dir
    bool v2_is_own = false;                    // v2_parent_dir is the cgroup we are in
    std::vector<V1Hierarchy> v1;               // deduplicated by mount
};

enum class Version { none, v1, v2 };

// Reads cgroup.controllers under the v2 mount (so fake trees work in tests).
Layout discover(const std::string& mountinfo, const std::string& proc_cgroup);
// `own` (from discover) with every parent_dir replaced by the --cgroup-parent
// (docs/cgroups.md says how it is resolved). Throws Error when it names no
// cgroup directory.
Layout with_parent(const Layout& own, const std::string& mountinfo, const std::string& parent);
Version choose(const Layout& layout);
// Why a process in v2 cgroup `from` cannot be moved into `to` (directories
// of one mount), or nullopt if it can.
std::optional<std::string> cannot_move(const std::string& from, const std::string& to);

// ---- one run group directory and the cleanup protocol (docs/cgroups.md) -----
class GroupDir {
public:
    GroupDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
    GroupDir(GroupDir&& o) noexcept : path_(std::move(o.path_)), lock_fd_(o.lock_fd_) { o.lock_fd_ = -1; }
    GroupDir& operator=(GroupDir&&) = delete;
    ~GroupDir();                 // releases the lock (the directory stays)
    const std::string& path() const { return path_; }
    int fd() const { return lock_fd_; }   // an fd of the directory itself

private:
    std::string path_;
    int lock_fd_;                // flock(LOCK_EX) held while the run lives
};

// mkdir <parent_dir>/sandboxrun/<run_id> and lock it; first sweeps stale
// siblings when nobody else is creating. Throws Error on failure.
GroupDir make_group(const std::string& parent_dir, const std::string& run_id);

// Removes the unlocked groups beneath `base_dir`; returns their names.
// wait: block for the base lock instead of giving up when it is busy.
std::vector<std::string> sweep(const std::string& base_dir, bool wait, std::vector<std::string>* left = nullptr);

// SIGKILLs every task of `dir` and its child groups (cgroup.kill first where
// the kernel has it) until all are gone or `budget` runs out. True: empty.
bool kill_until_empty(const std::string& dir, std::chrono::milliseconds budget);
// Kills, then rmdirs child groups depth first and `dir` itself. True: removed.
bool destroy_group(const std::string& dir);

// ---- the two implementations ---------------------------------------------------
class GroupBase : public Cgroup {
public:
    virtual std::vector<std::string> directories() const = 0;
    // Where a cgroup above holds the run's memory below its own limit: a run
    // that alone fills it is at its limit, as far as it can tell.
    std::optional<std::uint64_t> memory_held_at;
    // A peak that reached `limit` (within a huge page: a charge that size
    // fails while the rest still fits).
    static bool reached(std::optional<std::uint64_t> peak, std::optional<std::uint64_t> limit) {
        return peak && limit && *peak + (2 << 20) >= *limit;
    }
    // Warns where a cgroup above, from `dir` up, holds the run below its
    // memory limit (through `memory_file`, if given) or its processes (through
    // `pids_file`), and keeps the memory one in memory_held_at.
    void note_held(const std::string& dir, const char* memory_file, const char* pids_file, const Limits& limits,
                   std::vector<std::string>& warnings);
};

std::unique_ptr<Cgroup> create_v1(const std::vector<V1Hierarchy>& hierarchies, const Limits& limits,
                                  const std::string& run_id, std::vector<std::string>& warnings);
// is_own: parent_dir is the cgroup we are in, which we may leave for the leaf.
std::unique_ptr<Cgroup> create_v2(const std::string& parent_dir, bool is_own,
                                  const std::vector<std::string>& available, const Limits& limits,
                                  const std::string& run_id, std::vector<std::string>& warnings);

// Before controllers are enabled in `own_dir` (a non-root v2 cgroup we are
// in): moves process `self` into <own_dir>/sandboxrun-supervisor when no
// other process is in own_dir. Returns "" or the warning that says why not.
std::string leave_own_cgroup(const std::string& own_dir, pid_t self);
// The real root cgroup, the only one cgroup v2 lets hold processes while it
// hands controllers down (it alone has no cgroup.type).
bool is_root_cgroup(const std::string& dir);

// The base directories (<parent>/sandboxrun) of every hierarchy in `layout`.
std::vector<std::string> base_dirs(const Layout& layout);

}  // namespace sandboxrun::cgroup_detail
