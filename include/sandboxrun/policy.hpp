// The policy of one run: plain data, built by the profile loader and the
// command line, validated before the first namespace is created, and read
// (never changed) by every isolation layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sandboxrun {

using Duration = std::chrono::milliseconds;

struct Limits {
    std::optional<Duration> cpu_time;        // over every process and thread of the run
    std::optional<Duration> wall_time;
    std::optional<std::uint64_t> memory;     // bytes; cgroup, RLIMIT_AS only as fallback
    std::optional<std::uint64_t> processes;  // tasks (processes and threads) alive at once
    std::optional<std::uint64_t> file_size;  // bytes; RLIMIT_FSIZE and redirected stdout/stderr
    std::optional<std::uint64_t> open_files; // RLIMIT_NOFILE
    std::optional<std::uint64_t> stack;      // bytes; RLIMIT_STACK
};

struct Bind {
    std::string source;       // host path
    std::string target;       // absolute path inside the sandbox
    bool writable = false;
    bool optional = false;    // a missing source is skipped instead of being an error
    std::string origin;       // "file:line:column" or "--ro-bind", for error messages
};

struct Tmpfs {
    std::string target;
    std::uint64_t size = 0;   // bytes
    std::string origin;
};

// How the directory sandboxrun was started in appears inside the sandbox.
enum class CwdMode { rw, ro, none };

struct Filesystem {
    std::vector<Bind> binds;      // in order; later binds may sit inside earlier ones
    std::vector<Tmpfs> tmpfs;
    CwdMode cwd = CwdMode::rw;
    std::string workdir = "/box"; // where the invoking directory is bound
    std::string workdir_origin = "filesystem.workdir";   // where it was set, for error messages
    std::optional<std::string> chdir; // where the target starts; default: workdir
    bool proc = true;             // fresh procfs for the run's pid namespace
    bool dev_pts = false;         // /dev/pts and /dev/ptmx (new devpts instance)
    bool sys = false;             // /sys, read-only
};

struct Network {
    bool enabled = false;         // false: a fresh net namespace with no interface but lo
    bool loopback = true;         // bring lo up inside the fresh namespace
};

struct Environment {
    std::vector<std::string> pass;            // names copied from the caller's environment
    std::map<std::string, std::string> set;   // fixed values (win over pass)
};

struct SyscallErrno {
    std::string name;
    int errno_value = 0;
    std::string origin;
};

struct Syscalls {
    // Group names ("@basic-io") and syscall names; everything else is a violation.
    std::vector<std::string> allow;
    // Answered with an errno instead of a violation (syscalls libc probes, e.g. clone3 -> ENOSYS).
    std::vector<SyscallErrno> errno_rules;
    // Address families socket() may use; network off removes AF_INET/AF_INET6 regardless.
    std::vector<std::string> socket_families;
    std::vector<std::string> allow_origins;   // parallel to allow, for error messages
};

struct Policy {
    std::string name;                       // profile name as asked for
    std::vector<std::string> sources;       // profile files in inheritance order
    std::string description;
    std::string hostname = "sandbox";
    Limits limits;
    Filesystem fs;
    Network net;
    Environment env;
    Syscalls syscalls;
};

}  // namespace sandboxrun
