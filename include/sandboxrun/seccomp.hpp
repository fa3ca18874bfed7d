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

// A cache file's name and contents for `key` (exposed for the tests).
std::string seccomp_cache_name(const std::string& key);
std::string seccomp_cache_entry(const std::string& key, const SeccompProgram& program);

// Throws Error naming the origin of the first unknown group or syscall name.
void validate_syscalls(const Syscalls& syscalls);

// Every name in `allow` with groups expanded (for --explain and tests).
std::vector<std::string> expand_syscalls(const std::vector<std::string>& allow);

// Target side, after every other step: installs the filter with no_new_privs
// already set. When program.notify, hands the listener fd to the supervisor
// over `notify_sock` and waits for it to be received. Returns -1 with errno
// on failure; allocates nothing (runs after fork).
int apply_seccomp(const SeccompProgram& program, int notify_sock);

// Supervisor side, before fork: `supervisor_end` is the supervisor's end of an
// AF_UNIX SOCK_SEQPACKET socketpair whose other end goes to the target.
// Sets SO_PASSCRED so the kernel tells the supervisor the target's pid (in the
// supervisor's pid namespace) with the message apply_seccomp writes. Throws Error.
void prepare_seccomp_socket(int supervisor_end);

// Supervisor side: receives the listener fd that apply_seccomp sent (its
// number in the target plus the sender's credentials), copies it out of the
// target with pidfd_getfd and acknowledges, which lets the target go on.
// Returns the listener (O_CLOEXEC), or -1 when the target closed its end
// without sending one (it failed or exited before its filter). Blocks until
// the target writes or exits; close the target's end in the supervisor first,
// or a dead target means a hang. Throws Error on anything else.
int receive_seccomp_listener(int notify_sock);

struct SyscallViolation {
    int number = -1;
    std::string name;
    std::uint32_t arch = 0;
    pid_t pid = 0;            // in the supervisor's pid namespace, 0 if unknown
};

// Supervisor side: reads one notification from the listener (call when it is readable).
std::optional<SyscallViolation> read_seccomp_violation(int listener_fd);

std::string syscall_name(int number);

}  // namespace sandboxrun
