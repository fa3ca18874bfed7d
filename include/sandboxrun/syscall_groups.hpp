// The table behind seccomp.hpp: named groups of syscalls ("@basic-io") and the
// argument checks some syscalls carry when allowed. Read-only data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandboxrun {

// What an allowed syscall's arguments must satisfy. `standard` means "the
// syscall's own check" (none for most syscalls, see standard_arg_check).
enum class ArgCheck {
    standard,
    none,
    clone_no_namespace,   // clone: no CLONE_NEW* flag
    clone_thread,         // clone: CLONE_THREAD set and no CLONE_NEW* flag
    ioctl_safe_request,   // ioctl: a listed request (others ENOTTY); TIOCSTI, file-system setters... violations
    socket_family,        // socket, socketpair: family in Syscalls::socket_families
    personality_query,    // personality: 0 (PER_LINUX) or 0xffffffff (query) only
    mode_no_setid,        // chmod, fchmod, fchmodat, creat: no setuid/setgid bit in the mode
    create_no_setid,      // open, openat: no O_CREAT/O_TMPFILE, or no setuid/setgid bit in the mode
    enosys,               // openat2: its flags and mode live in memory; ENOSYS makes callers fall back
    own_process,          // prlimit64: pid 0 (the caller) only; another pid gets EPERM
    allocate_in_size,     // fallocate: modes that allocate no block beyond the file's size
    no_lease,             // fcntl: not F_SETLEASE (a lease blocks the host's opens); record locks ENOLCK, O_ASYNC EPERM
    no_own_filter,        // prctl: not PR_SET_SECCOMP (a filter of its own would hide violations)
};

struct GroupMember {
    std::string_view name;    // a syscall or "@group"
    ArgCheck check = ArgCheck::standard;
};

struct SyscallGroup {
    std::string_view name;           // "@basic-io"
    std::string_view description;
    bool dangerous;                  // no stock profile may allow any of its members
    std::span<const GroupMember> members;
};

std::span<const SyscallGroup> syscall_groups();
const SyscallGroup* find_syscall_group(std::string_view name);

// Whether `name` is a member of `g`, directly or through the groups it
// includes (a group that includes itself again ends the walk there).
bool group_includes(const SyscallGroup& g, std::string_view name);

// The check a syscall gets when allowed by name or by a group member with
// ArgCheck::standard.
ArgCheck standard_arg_check(std::string_view syscall);

// Syscalls the target needs once its filter is live: execve, or a write of
// why it failed and exit_group. Allowed whatever the profile says.
std::span<const std::string_view> always_allowed_syscalls();

// Syscalls no profile may allow: creating or entering namespaces is the
// sandbox's own job, and clone3 keeps its flags in memory the filter cannot read.
std::span<const std::string_view> never_allowed_syscalls();

// One allowed (syscall, check) pair after group expansion; a syscall may
// appear twice with different checks (clone from @thread and @process).
struct AllowedSyscall {
    std::string name;
    int number;           // on the native arch
    ArgCheck check;       // never ArgCheck::standard
};

// Expands groups recursively. Names unknown to libseccomp and unknown groups
// throw Error; names that exist only on other arches are skipped.
std::vector<AllowedSyscall> expand_allowed(const std::vector<std::string>& allow);

// A hash of the groups and the standard argument checks: part of a compiled
// program's key, so that no program cached by an older build is reused.
std::uint64_t syscall_rules_fingerprint();

// Native syscall number, -1 when the name exists only on other arches;
// throws Error when libseccomp does not know the name at all.
int native_syscall_number(std::string_view name);

// "AF_UNIX" -> AF_UNIX; -1 when unknown.
int socket_family_number(std::string_view name);


}  // namespace sandboxrun
