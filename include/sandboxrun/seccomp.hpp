// The syscall filter: compiled once in the supervisor before clone, applied
// last in the target just before execve.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandboxrun/policy.hpp"

namespace sandboxrun {

// The largest errno a rule may answer with (libseccomp refuses the kernel's
// MAX_ERRNO, 4095). The profile loader and the compiler both check it.
constexpr int max_errno_answer = 4094;

struct SeccompProgram {
    std::vector<sock_filter> code;     // BPF exported by libseccomp
    bool notify = false;               // violations go to a user-notification listener
};

// The program for this policy: the build-time table's when it has one, else
// the run-time cache's in `cache_dir` (empty: no cache), else
// compile_seccomp_fresh, whose program is then stored there. Nothing in the
// cache is trusted (nor written) unless the directory belongs to our euid with
// no access for anyone else, and the file to our euid with no write for
// anyone else; a stored program must carry exactly this policy's key, and a
// bad or short file is ignored. Throws Error.
SeccompProgram compile_seccomp(const Syscalls& syscalls, const Network& net, const std::string& cache_dir = "");

// Resolves groups, names and argument conditions into BPF with libseccomp,
// never looking at the table. Throws Error.
SeccompProgram compile_seccomp_fresh(const Syscalls& syscalls, const Network& net);

// Everything compile_seccomp_fresh reads, as text compared exactly: the
// sandboxrun version, libseccomp's version and native arch, the always-allowed
// syscalls, allow names, errno rules (name and errno) and socket families, each
// in order, and the network switch. Origins only name places in messages and
// are left out, so a profile that extends a stock one and changes only limits
// or mounts has the stock profile's key. The group tables and argument checks
// are code, not input: the same build compiles the table from them (meson
// reruns the generator when the core library changes), and the unit tests
// compare every stored program with a fresh compile.
std::string seccomp_key(const Syscalls& syscalls, const Network& net);

// One program compiled at build time (src/precompile_filters.cpp).
struct PrecompiledFilter {
    std::string_view key;              // seccomp_key of the policy it was compiled from
    std::span<const sock_filter> code;
    bool notify = false;
};

// The table of stock-profile programs. Defined in the generated
// precompiled_filters.cpp, which only sandboxrun and the unit tests link, and
// empty in src/precompiled_none.cpp, which the generator itself links.
std::span<const PrecompiledFilter> precompiled_filters();

// A copy of the table's program for `key` (a seccomp_key), or nullopt when
// the table has none or this kernel lacks an action it returns (then
// compile_seccomp_fresh fails as it always did, with its own message).
std::optional<SeccompProgram> precompiled_seccomp(const std::string& key);

// A stored program (table or cache) skips libseccomp and with it
// seccomp_init's check that this kernel has the actions the program returns.
bool seccomp_actions_available(bool notify);

// /run/sandboxrun/bpf for root, $XDG_RUNTIME_DIR/sandboxrun-bpf for others,
// "" (no cache) when neither applies.
std::string default_seccomp_cache_dir();

// A directory of sandboxrun's own state (the cache, the mode records),
// created 0700 if missing; -1 when it is not ours alone (owned by our euid,
// closed to group and others).
int open_own_dir(const std::string& dir);
// Removes the half-written cache files of supervisors killed while storing.
void remove_stale_seccomp_temps();

// Why open_own_dir refused `dir`, in a few words.
std::string why_not_own_dir(const std::string& dir);

// A cache file's name and contents for `key` (exposed for the tests).
std::string seccomp_cache_name(const std::string& key);
std::string seccomp_cache_entry(const std::string& key, const SeccompProgram& program);

// Throws Error naming the origin of the first unknown group or syscall name.
void validate_syscalls(const Syscalls& syscalls);

// Every name in `allow` with groups expanded (for --explain and tests).
std::vector<std::string> expand_syscalls(const std::vector<std::string>& allow);

// Target side, after every other step: installs the filter with no_new_privs
// already set. `listener` gets the notification fd (O_CLOEXEC) when
// program.notify, else -1. The target shares its fd table with the run's
// pid 1 until execve (CLONE_FILES), so the listener stays behind with pid 1,
// which hands it to the supervisor: the program never holds it. Returns -1
// with errno on failure; allocates nothing.
int apply_seccomp(const SeccompProgram& program, int& listener);

// What the run's pid 1 sends the supervisor once the target has exec'd (or
// failed before): the listener, and when and after how much CPU of setup
// (pid 1's and the target's) the program began.
struct Handover {
    int listener = -1;                  // -1: none (no notify, or no filter yet)
    std::uint64_t start_us = 0;         // CLOCK_MONOTONIC; 0: the target never got there
    std::uint64_t setup_user_us = 0;
    std::uint64_t setup_system_us = 0;
    bool quotas_capped = false;         // pid 1 set the run's inotify/fanotify quotas
};

// pid 1 side, over an AF_UNIX SOCK_SEQPACKET socket: the listener travels as
// SCM_RIGHTS. Returns -1 with errno.
int send_handover(int sock, const Handover& h);

// Supervisor side: nullopt when the sender closed its end without sending;
// the listener arrives O_CLOEXEC. Throws Error on a malformed message.
std::optional<Handover> receive_handover(int sock);

struct SyscallViolation {
    int number = -1;          // -1, name empty: gone before it could be read
    std::string name;
    std::uint32_t arch = 0;
    pid_t pid = 0;            // in the supervisor's pid namespace, 0 if unknown
};

// Supervisor side: reads one notification from the listener (call when it is readable).
std::optional<SyscallViolation> read_seccomp_violation(int listener_fd);

std::string syscall_name(int number);

}  // namespace sandboxrun
