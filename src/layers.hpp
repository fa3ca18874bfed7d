// Entry points of the isolation layers, one per source file. The order in
// which they run lives in supervisor.cpp (host side) and target.cpp (inside).
#pragma once

#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <optional>
#include <string>
#include <vector>

#include "sandboxrun/cgroups.hpp"
#include "sandboxrun/cli.hpp"
#include "sandboxrun/policy.hpp"
#include "sandboxrun/seccomp.hpp"
#include "unique_fd.hpp"

namespace sandboxrun {

// ---- host_files.cpp: host paths resolved for the run -------------------------
// Beneath a directory the run can write (the invoking directory, writable
// binds) a path is resolved with no symlink and no "..": what runs planted
// there must not redirect us. Elsewhere it is the operator's path.
struct WritablePath {
    std::string root;   // the writable directory
    std::string rest;   // the path beneath it
};
class WritableDirs {
public:
    explicit WritableDirs(const Policy& policy);
    // Where `path` lies beneath one of them, if it does.
    std::optional<WritablePath> find(const std::string& path) const;

private:
    std::string cwd_;
    std::vector<std::string> roots_;
};
int openat_beneath(const WritablePath& where, int flags);   // -1 with errno (ELOOP: a symlink)
UniqueFd open_beneath(const WritablePath& where, int flags, const char* what, const std::string& path);

// Opens --stdin/--stdout/--stderr/--report/--meta: beneath a writable
// directory as above and only a regular file, elsewhere as given.
UniqueFd open_host_file(const std::string& path, int flags, const char* option, const Policy& policy);
// Writes --report/--meta after the run: beneath a writable directory as a new
// file renamed over the name, elsewhere (a pipe, /dev/stdout) opened as given.
void write_host_file(const std::string& path, const std::string& text, const char* option, const Policy& policy);
// 1 or 2 when `path` names our own stdout or stderr (/dev/stdout, /dev/fd/2,
// /proc/self/fd/1...), the caller's open file: written through as it is,
// never opened again (that would truncate it); -1 for any other path.
int caller_output_fd(const std::string& path);
// Removes (beneath a writable directory) or empties (a regular file elsewhere)
// what an earlier run left at --report/--meta, so that a judge never reads a
// stale verdict if this run ends without writing one (SIGKILL). Best effort;
// but a directory of the path that does not exist is an error, before the run.
void discard_host_file(const std::string& path, const char* option, const Policy& policy);
// Whether the file `path` names lies in /proc or /sys (there a name may be a
// magic link or a kernel setting).
bool in_kernel_files(const std::string& path);

// ---- identity.cpp: which host uid/gid the run gets ---------------------------
struct Identity {
    uid_t host_uid = 0;        // what the sandbox's processes are on the host
    gid_t host_gid = 0;
    uid_t inside_uid = 1000;   // what they see inside
    gid_t inside_gid = 1000;
    bool privileged = false;   // sandboxrun was started by root: per-run uid from the range
    int slot_lock = -1;        // flock held on the uid slot while the run lives
};

// Root: reserves a free uid from `range` (flock on /run/sandboxrun/uids/N).
// Anyone else: maps the caller's own uid.
Identity reserve_identity(const UidRange& range);
void release_identity(Identity& id);

// Writes uid_map/gid_map (and setgroups) of the freshly cloned child.
void write_id_maps(pid_t child, const Identity& id);

// Root: makes the child's OOM score 1000 the floor of every process of the
// run (inherited at fork), so that none can make the host's OOM killer take
// the judge first. Unprivileged, pid 1 raises it and Landlock keeps /proc read-only.
void pin_oom_score(pid_t child, const Identity& id);

// While alive (root only): our effective uid is the run's host uid, while
// the file-system uid and the capabilities stay root's. A user namespace made
// meanwhile (the run's clone) is owned by the run's uid, so the kernel charges
// the run's per-user quotas (inotify, pending signals, message queues) to that
// uid and not to root's share, which the host's daemons need.
class RunOwner {
public:
    explicit RunOwner(const Identity& id);
    ~RunOwner();
    RunOwner(const RunOwner&) = delete;
    RunOwner& operator=(const RunOwner&) = delete;

private:
    bool switched_ = false;
    int securebits_ = 0;
};

// Run by pid 1, with its capabilities, inside the run's user namespace:
// small inotify and fanotify quotas of its own. False if they could not be set.
bool cap_user_quotas();

// A user namespace mapping on-disk owner `disk` to the run's host ids, for
// idmapped mounts. Returns an fd of it. The helper process that held it is
// killed but not waited for (its exit costs a wakeup): its pid goes to
// `helpers`, for the caller to reap later.
int idmap_userns(uid_t disk_uid, gid_t disk_gid, const Identity& id, std::vector<pid_t>& helpers);

// ---- mounts.cpp: the new root, as a plan (data) and its application --------
struct MountOp {
    enum class Kind { bind, tmpfs, symlink, proc, dev, devpts, sys };
    Kind kind;
    std::string source;       // host path for bind/sys; link text for symlink
    std::string target;       // path inside the sandbox
    bool writable = false;
    bool optional = false;    // bind: skip a missing source
    std::uint64_t size = 0;   // tmpfs
    int fd = -1;              // bind: a detached mount the supervisor already opened
    std::optional<WritablePath> beneath{};   // bind: the source lies beneath a directory runs can write
    mode_t mode = 0;          // bind: the source's permission bits before the run
    bool mode_shared = true;  // bind: `mode` is the runs' shared record (ModeRecord::shared)
    bool owner_mapped = false;  // bind: idmapped to its owner (the work dir; writable binds are anyway)
    std::string origin{};     // "file:line:column" or the option, for errors
};

// ---- mode_record.cpp: the mode to put back after runs -----------------------
// The mode `st` (a file or directory runs can chmod) had before the runs now
// using it began: concurrent runs share one record, held while they run.
class ModeRecord {
public:
    explicit ModeRecord(const struct stat& st);
    ~ModeRecord();
    ModeRecord(ModeRecord&&) = default;
    ModeRecord& operator=(ModeRecord&&) = default;
    mode_t mode() const { return mode_; }
    // False when the records' directory could not be used (someone else's):
    // this run's own view of the mode is all there is.
    bool shared() const { return fd_.get() >= 0; }
    // The mode to put back on a file that has `now`: the record. A run's own
    // view may be a concurrent run's chmod 777, so it only narrows: it never
    // gives group or others a write bit the file does not have now.
    static mode_t put_back(mode_t recorded, bool shared, mode_t now) {
        return shared ? recorded : recorded & (now | ~mode_t(S_IWGRP | S_IWOTH));
    }
    mode_t put_back(mode_t now) const { return put_back(mode_, shared(), now); }

private:
    mode_t mode_;
    UniqueFd dir_, fd_;
    std::string dir_path_, name_;
};
// Where the records are kept: sandboxrun's own state, no run may write there.
std::string mode_record_dir();
// Removes the records supervisors killed by SIGKILL left (no run holds them).
void remove_stale_mode_records();

struct MountPlan {
    std::vector<MountOp> ops;           // applied in order
    std::string chdir;                  // the target's starting directory
    std::vector<pid_t> idmap_helpers;   // killed, reaped by close_prepared
    // One idmap user namespace per on-disk owner, closed by close_prepared.
    std::vector<std::pair<std::pair<uid_t, gid_t>, int>> idmaps;
    std::vector<ModeRecord> modes;      // of writable binds: held until the plan goes
    // Small files made in the new root where no bind provides them: a user
    // database naming the run's uid (Java's user.name, node's os.userInfo()).
    std::vector<std::pair<std::string, std::string>> files;
};

// Resolves bind sources (symlinks among them are recreated, not followed);
// one beneath a directory runs can write is pinned by an O_PATH fd.
MountPlan plan_mounts(const Policy& policy, const std::string& host_cwd);

// A detached, recursive copy of a bind op's source (read-only unless
// writable; nosuid, nodev), idmapped through `idmap_userns` when that is >= 0.
// -1 with errno.
int open_bind_tree(const MountOp& op, int idmap_userns);

// Root only: opens every bind in the supervisor, where host root can reach
// any source, and idmaps writable ones so that files the run creates belong
// to the directory's owner on the host. Returns warnings for binds it could
// not idmap (they stay plain binds).
std::vector<std::string> prepare_binds(MountPlan& plan, const Identity& id);
// Root only: lets the run reopen its stdio through /dev/stdin, /dev/stdout
// (/proc/self/fd), which checks the file's owner and mode against the run's
// uid. `fd` (to become the target's stdio) is replaced in place: a file
// sandboxrun opened (`ours`) by the same file opened through an idmapped
// mount of it alone (read-only for reading), a pipe by itself with the
// run's access added. Nothing else, and nothing where the run has access.
// False when a file of ours was to be reopened and could not be (no idmapped
// mounts on its file system).
bool let_run_reopen(int fd, bool ours, MountPlan& plan, const Identity& id);
// Closes the prepared fds and idmaps, and reaps the idmap helpers.
void close_prepared(MountPlan& plan);

// Child side, in the new mount namespace: builds the root and pivots into it.
void apply_mounts(const MountPlan& plan);
// In the run's mount namespace (pid 1, before the root is built): `fd`, a
// regular file, opened again through a read-only clone of its mount. Left as
// it is where that cannot be done.
void reopen_read_only(int fd);

// Host side, after the run, in its writable binds: clears setuid/setgid bits
// on files the run left, i.e. changed since `run_began` (they are nosuid
// inside, but not on the host, where a file in a root-owned work dir belongs
// to root), and puts back the mode of each bind's top directory (the run owns
// it inside: chmod 0777 would open the work dir to every local user).
struct AfterRun {
    int setid_cleared = 0;
    bool file_at_limit = false;                // the run wrote a file exactly --file-size long
    std::vector<std::string> modes_restored;   // host paths
    std::vector<std::string> walks_cut;        // host paths walked only in part (too many entries)
};
AfterRun tidy_writable_binds(const MountPlan& plan, timespec run_began, timespec written_after,
                             std::optional<std::uint64_t> file_size);

// ---- output_relay.cpp: output the supervisor copies and counts --------------
// A run may leave its stdout and stderr in flight in a cycle of unix
// sockets (each sent over the other with SCM_RIGHTS): nothing closes them,
// and the judge's pipe sees no end, until the kernel's collector runs, which
// only the release of some unix socket on the host starts (at once before
// Linux 6.10, queued after). Releasing one of ours starts it.
void collect_unix_cycles();

class OutputRelay {
public:
    // Whether the run's output `fd` needs one: a FIFO named by --stdout or
    // --stderr (`named`), or an inherited regular file that already holds
    // output where the run would write (O_APPEND, or an offset past 0).
    static bool needed(int fd, bool named);
    // A pipe for the run; what comes through it goes to `dest` (not owned),
    // at most `limit` bytes.
    OutputRelay(int dest, std::uint64_t limit);
    int run_end() const { return run_end_.get(); }
    void close_run_end() { run_end_.reset(); }
    // What to poll for: the pipe's data, or room at the destination.
    pollfd wanted() const;
    // Copies what is ready; false once the output reached the limit.
    bool pump();
    // After the run: what is left in the pipe, until `deadline_us`
    // (monotonic) or `stop_fd` is readable; false if a FIFO's reader did not
    // take it all by then.
    bool drain(std::uint64_t deadline_us, int stop_fd);
    bool over() const { return over_; }
    int error() const { return error_; }   // why the destination took no more (0: it did)

private:
    UniqueFd from_, run_end_;
    int dest_;
    std::uint64_t limit_, copied_ = 0;
    std::string pending_;
    bool over_ = false;
    int error_ = 0;
};

// ---- supervisor.cpp -------------------------------------------------------------
// With the host's network a run that may make AF_UNIX sockets shares the
// host's abstract ones, which only Landlock's scope (ABI 6) closes: the
// `unapplied` line that says so, if it applies.
std::optional<std::string> abstract_socket_gap(const Policy& policy, int landlock_abi);

// ---- network.cpp --------------------------------------------------------------
void setup_network(const Network& net);   // loopback up in the fresh net namespace

// ---- rlimits.cpp --------------------------------------------------------------
// Without a cgroup, RLIMIT_AS, RLIMIT_NPROC and a tight RLIMIT_CPU stand in
// for the run-wide memory, task and CPU limits.
// What the run's cgroup enforces; rlimits stand in for the rest.
struct CgroupCover {
    bool cpu = false, memory = false, processes = false;
    // A memory limit no memory cgroup holds: RLIMIT_AS stands in.
    bool memory_by_rlimit(const Limits& limits) const { return limits.memory && !memory; }
};
// Open files, and processes where RLIMIT_NPROC stands in, when a memory limit
// has no memory cgroup (socket buffers grow with their product).
constexpr std::uint64_t unmetered_cap = 64;
void apply_rlimits(const Limits& limits, CgroupCover cgroup);
// Warnings naming the caller's hard limits a run gets where the policy leaves
// a limit open (bash's plain `ulimit -s 8192` sets the hard limit too): the
// SIGKILL, SIGXFSZ, SIGSEGV or failed fork they bring must not be a mystery.
std::vector<std::string> inherited_hard_limits(const Limits& limits, CgroupCover cgroup);
// Raises the soft limit of `resource` to its hard limit.
void open_up(int resource);

// ---- capabilities.cpp ---------------------------------------------------------
// Drops every capability from every set and sets no_new_privs.
void drop_capabilities();

// ---- landlock.cpp -------------------------------------------------------------
struct LandlockStatus {
    int abi = 0;               // 0: not applied
    std::string reason;        // why not, when abi == 0
};
LandlockStatus landlock_probe();
// Restricts the filesystem to the plan's paths (read-only where the mount is)
// and, with the network off, TCP bind/connect. Child side, after mounts.
void apply_landlock(const MountPlan& plan, const Network& net, int abi);

// ---- environment.cpp ----------------------------------------------------------
// Fixed values may reference the run's memory limit: ${memory} (bytes),
// ${memory_mib} (MiB); a variable whose reference has no limit is left out.
std::vector<std::string> build_environment(const Environment& env, const Limits& limits,
                                           char** caller_env);
// Throws Error naming `var` when `value` has an unknown or unterminated
// reference: checked where the profile or command line is read.
void check_environment_value(const std::string& var, const std::string& value);

// ---- namespaces.cpp: the child (pid 1 of the run) and its birth -------------
// Everything the child and the target need, prepared by the supervisor
// before clone so the child allocates and decides as little as possible.
// pid 1 -> supervisor when the target has ended. The time is pid 1's: a
// supervisor stopped meanwhile (SIGSTOP, a judge's job control) would
// otherwise count its own pause as the program's wall time.
struct TargetExit {
    int status = 0;             // as from waitpid
    std::uint64_t end_us = 0;   // CLOCK_MONOTONIC
};

struct ChildContext {
    const Invocation* inv = nullptr;
    const MountPlan* plan = nullptr;
    const SeccompProgram* filter = nullptr;
    Identity id;
    std::vector<std::string> envp;
    CgroupCover cgroup;             // rlimits stand in for what it does not cover
    std::vector<TasksFile> cgroup_join;   // v1: the child moves itself into these groups
    int landlock_abi = 0;
    int go_read = -1;               // supervisor -> child: maps written (v2: cgroup joined)
    int error_write = -1;           // child/target -> supervisor: why setup failed
    int status_write = -1;          // child -> supervisor: a TargetExit
    int handover_sock = -1;         // pid 1 -> supervisor: the hand-over (listener, start)
    int supervisor_pidfd = -1;      // readable once the supervisor has exited
    int stdio[3] = {0, 1, 2};       // what becomes the target's fds 0, 1, 2
    bool stdin_read_only = false;   // stdio[0] is a --stdin file the run owns: pid 1 reopens it read-only
    std::uint64_t verbose_t0 = 0;   // -v: the supervisor's start time; 0: quiet
};

// Microseconds on the monotonic clock, and the -v line for a setup step at
// `now` since `t0` (the supervisor's start): one format on both sides of
// clone, written to `fd` in one write (a line that cannot go out is lost).
std::uint64_t monotonic_us();
void print_step(std::uint64_t t0, const char* step, int fd);
inline std::uint64_t timeval_us(const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1000000u + static_cast<std::uint64_t>(tv.tv_usec);
}
// Adds the calling process's CPU time so far to the hand-over's setup.
void add_own_cpu(Handover& h);

struct Child {
    pid_t pid = -1;
    int pidfd = -1;
};

// clone()s into fresh user, mount, pid, net, ipc and uts namespaces; the child
// runs run_child and never returns. With cgroup_fd >= 0 the child is born in
// that cgroup (v2); returns pid -1 if the kernel refuses that, so the caller
// can clone plainly and move the child. The cgroup namespace comes later,
// once the child is in its cgroup.
Child spawn_child(const ChildContext& ctx, int cgroup_fd = -1);

// A setup failure inside the sandbox, carried to the supervisor over error_write.
struct ChildFailure {
    int exit_code;
    char message[1020];
};
[[noreturn]] void fail_child(int error_fd, int exit_code, const std::string& message);
// What to add to an unprivileged run's setup failure when the host lets users
// make user namespaces but denies them capabilities inside (Ubuntu 23.10+:
// kernel.apparmor_restrict_unprivileged_userns = 1, read from `sysctl`); "" otherwise.
std::string userns_restriction_hint(const std::string& failure,
                                    const char* sysctl = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
// Which namespace count limits (/proc/sys/user/max_*_namespaces) are 0, for
// an ENOSPC from clone3 or unshare: the user namespace is not the only one.
std::string namespace_count_limits(const std::string& dir = "/proc/sys/user");

// ---- report.cpp ----------------------------------------------------------------
// "SIGTERM", "SIGRTMIN+3", "SIG32"; "" for a number that is no signal.
std::string signal_name(int sig);

// ---- target.cpp: the target's own steps, ending in execve --------------------
// Runs sharing pid 1's memory and fd table (CLONE_VM | CLONE_VFORK |
// CLONE_FILES): fills in `handover` (start, setup CPU, listener) for pid 1 to send.
[[noreturn]] void exec_target(const ChildContext& ctx, Handover& handover);

}  // namespace sandboxrun
