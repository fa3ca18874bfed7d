// The syscall filter. compile_seccomp runs in the supervisor before the first
// fork and turns the policy into BPF with libseccomp; apply_seccomp runs in the
// target as the last step before execve and only issues syscalls.
//
// Actions: allowed syscalls -> ALLOW; errno rules -> ERRNO(n); everything else
// -> USER_NOTIF, so the supervisor, holding the listener, learns which syscall
// was attempted, names it and kills the run. Other arches (i386 via int 0x80,
// x32) kill the process: their syscall numbers mean different things.
//
// The stock profiles' programs are compiled at build time (precompile_filters),
// others are cached at run time: compile_seccomp (seccomp_cache.cpp) looks a
// policy's key up in both first, since libseccomp costs 1-2 ms of a run's start.
#include "sandboxrun/seccomp.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <linux/sched.h>
#include <linux/random.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>

#include <fmt/format.h>

#include "sandboxrun/error.hpp"
#include "sandboxrun/syscall_groups.hpp"
#include "unique_fd.hpp"

#ifndef SANDBOXRUN_VERSION
#error "SANDBOXRUN_VERSION must be defined (meson sets it to the project version)"
#endif

namespace sandboxrun {
namespace {

constexpr std::uint64_t namespace_flags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                          CLONE_NEWCGROUP | CLONE_NEWTIME;

// TIOCSTI pushes input into a terminal the target may share with the caller
// (typing commands into the caller's shell); TIOCLINUX does the same through
// the console selection; TIOCSETD swaps a terminal's line discipline (and may
// load a module); TIOCSIG on a pty master (a judge's, passed as stdio) signals
// the host processes in the foreground of its slave, past the pid namespace.
// The file-system ones change what outlives the run in a writable bind, where
// the run is the files' owner: inode flags (synchronous writes that every
// later file in the work dir inherits), project ids, a verity seal or an
// encryption policy no one can take back. No judged program needs them; they
// are violations (named in the report), where other unlisted requests below
// only fail.
constexpr std::uint32_t forbidden_ioctls[] = {
    TIOCSTI, TIOCLINUX, TIOCSETD, TIOCSIG,
    FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR, FS_IOC_SETVERSION, FS_IOC32_SETVERSION,
    _IOW('f', 4, long), _IOW('f', 4, int),   // ext4's own EXT4_IOC_SETVERSION (and its 32-bit form)
    FS_IOC_ENABLE_VERITY, FS_IOC_SET_ENCRYPTION_POLICY, FS_IOC_ADD_ENCRYPTION_KEY,
    // The old ioctl forms of fallocate(FALLOC_FL_KEEP_SIZE) (below), on any file
    // system: FS_IOC_RESVSP, FS_IOC_RESVSP64, FS_IOC_ZERO_RANGE. Not in uapi headers;
    // the argument is the kernel's 48-byte struct space_resv.
    _IOC(_IOC_WRITE, 'X', 40, 48), _IOC(_IOC_WRITE, 'X', 42, 48), _IOC(_IOC_WRITE, 'X', 57, 48),
};

// The requests a run may make; any other answers ENOTTY, the kernel's own
// "not for this file", which programs take as a feature missing. A list of
// what is forbidden cannot keep up: each file system adds its own requests
// that change the host for good (a btrfs subvolume made read-only, which the
// judge's rm cannot remove, or one that escapes the work dir's quota; ext4's
// GET_ENCRYPTION_PWSALT writes the superblock). What runtimes and compilers
// use is short: terminals (isatty, window size, raw mode, ptys of their own),
// non-blocking and close-on-exec, bytes pending, and read-only queries of
// files and sockets. The most common come first (tried in a row).
constexpr std::uint32_t allowed_ioctls[] = {
    TCGETS, FIONREAD, FIONBIO, FIOCLEX, TIOCGWINSZ, TIOCGPGRP, FIONCLEX, TCSETS, TCSETSW, TCSETSF,
    // terminals
    TCGETA, TCSETA, TCSETAW, TCSETAF, TCSBRK, TCSBRKP, TCXONC, TCFLSH, TIOCSWINSZ, TIOCSPGRP, TIOCGSID,
    TIOCOUTQ, TIOCEXCL, TIOCNXCL, TIOCGEXCL, TIOCSCTTY, TIOCNOTTY, TIOCPKT, TIOCGPKT, TIOCGETD, TIOCSBRK,
    TIOCCBRK, TIOCMGET, TIOCMSET, TIOCMBIS, TIOCMBIC, TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, TIOCGDEV,
    // TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 (struct termios2 is 44 bytes; glibc's termios.h hides it)
    _IOC(_IOC_READ, 'T', 0x2A, 44), _IOC(_IOC_WRITE, 'T', 0x2B, 44), _IOC(_IOC_WRITE, 'T', 0x2C, 44),
    _IOC(_IOC_WRITE, 'T', 0x2D, 44),
    // any descriptor (not FIOASYNC: see forbidden_fcntls)
    FIOQSIZE, FIOSETOWN, FIOGETOWN,
    // files: read-only queries
    FIGETBSZ, FS_IOC_GETFLAGS, FS_IOC32_GETFLAGS, FS_IOC_GETVERSION, FS_IOC32_GETVERSION, FS_IOC_FIEMAP,
    FS_IOC_FSGETXATTR,
    // sockets: read-only queries (the run's own network namespace)
    SIOCATMARK, SIOCGPGRP, SIOCSPGRP, SIOCGSTAMP_OLD, SIOCGSTAMPNS_OLD, SIOCGSTAMP_NEW, SIOCGSTAMPNS_NEW,
    SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK,
    SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFTXQLEN, SIOCOUTQNSD,
    RNDGETENTCNT,   // /dev/urandom's entropy count (older OpenSSL asks)
};

// Bumped whenever the code that turns a policy into BPF changes (the prefix,
// add_allow): programs cached by a build before the change are then not reused.
constexpr int filter_format = 6;

// A lease on a file of the work dir (the run owns it through the idmap)
// blocks the host's opens of it for the lease-break time; a filter of the
// program's own would answer before ours and hide its violations.
constexpr std::uint32_t forbidden_fcntls[] = {F_SETLEASE};
// Record locks cost kernel memory no memory cgroup counts (since Linux 5.16),
// ~200 bytes each, and OFD locks outlive their descriptor through an mmap: a
// run held 1.3 GB of the host's under --memory 64MiB. They answer ENOLCK, as
// where the kernel has none to give (judged programs take none; flock stays).
constexpr std::uint32_t unlocked_fcntls[] = {F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW};
// Signal-driven I/O on a terminal without an owner signals the terminal's
// foreground process group: the host's job (the judge, sandboxrun), with
// any signal F_SETSIG names, where Landlock has no signal scope (before ABI 6)
// and the run has the caller's uid. F_SETFL with O_ASYNC answers EPERM (and
// FIOASYNC is off the ioctl list).
constexpr std::uint32_t async_flag = O_ASYNC;
constexpr std::uint32_t forbidden_prctls[] = {PR_SET_SECCOMP};

// Values personality() may take: 0 (PER_LINUX, the default) and 0xffffffff
// (query only). Everything else changes how the kernel treats the process
// (READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, ADDR_NO_RANDOMIZE) or emulates other
// systems; a judged program needs none of that.
constexpr std::uint32_t allowed_personalities[] = {0, 0xffffffff};

// fallocate modes that respect RLIMIT_FSIZE: a plain allocation (what
// posix_fallocate and linkers ask for), zeroing that may grow the file, and
// punching holes (cp's sparse copies). FALLOC_FL_KEEP_SIZE alone allocates
// blocks past the end that the file-size limit never sees (gigabytes of the
// host's disk in one call), INSERT_RANGE grows a file past the limit.
constexpr std::uint32_t allowed_fallocate_modes[] = {0, FALLOC_FL_ZERO_RANGE,
                                                     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE};

struct FilterCtx {
    scmp_filter_ctx ctx;
    explicit FilterCtx(std::uint32_t def) : ctx(seccomp_init(def)) {
        if (!ctx) throw Error("seccomp: seccomp_init failed (kernel without user notification?)");
    }
    ~FilterCtx() { seccomp_release(ctx); }
    FilterCtx(const FilterCtx&) = delete;
    FilterCtx& operator=(const FilterCtx&) = delete;
};

void check(int rc, const std::string& step) {
    if (rc < 0) throw sys_error("seccomp: " + step, {}, -rc);
}

constexpr std::uint32_t setid_bits = S_ISUID | S_ISGID;
constexpr std::uint32_t creating_flags = O_CREAT | __O_TMPFILE;

void add_rule(scmp_filter_ctx ctx, std::uint32_t action, const AllowedSyscall& s,
              std::vector<scmp_arg_cmp> conds = {}) {
    check(seccomp_rule_add_array(ctx, action, s.number, static_cast<unsigned>(conds.size()),
                                 conds.data()),
          "adding a rule for " + s.name);
}

// One or more ALLOW rules (ORed) expressing `s.check`.
void add_allow(scmp_filter_ctx ctx, const AllowedSyscall& s, const std::vector<int>& families) {
    switch (s.check) {
    case ArgCheck::standard:
    case ArgCheck::none:
        return add_rule(ctx, SCMP_ACT_ALLOW, s);
    case ArgCheck::clone_no_namespace:
        return add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags, 0)});
    case ArgCheck::clone_thread:
        return add_rule(ctx, SCMP_ACT_ALLOW, s,
                        {SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags | CLONE_THREAD,
                                 CLONE_THREAD)});
    case ArgCheck::ioctl_safe_request:   // the requests are checked by checks_prefix
        return add_rule(ctx, SCMP_ACT_ALLOW, s);
    case ArgCheck::socket_family:
        for (int family : families)
            add_rule(ctx, SCMP_ACT_ALLOW, s,
                     {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, static_cast<std::uint32_t>(family))});
        return;
    case ArgCheck::personality_query:
        for (auto value : allowed_personalities)
            add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, value)});
        return;
    case ArgCheck::mode_no_setid: {
        // The mode is the last argument of each.
        const unsigned mode_arg = s.name == "fchmodat" || s.name == "fchmodat2" ? 2 : 1;
        return add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_CMP(mode_arg, SCMP_CMP_MASKED_EQ, setid_bits, 0)});
    }
    case ArgCheck::create_no_setid: {
        // The mode is read only when a file is created; otherwise it may be anything.
        const unsigned flags_arg = s.name == "openat" ? 2 : 1;
        add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_CMP(flags_arg, SCMP_CMP_MASKED_EQ, creating_flags, 0)});
        return add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_CMP(flags_arg + 1, SCMP_CMP_MASKED_EQ, setid_bits, 0)});
    }
    case ArgCheck::enosys:
        return add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), s);
    case ArgCheck::own_process:
        add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_A0(SCMP_CMP_EQ, 0)});
        return add_rule(ctx, SCMP_ACT_ERRNO(EPERM), s, {SCMP_A0(SCMP_CMP_NE, 0)});
    case ArgCheck::allocate_in_size:
        for (auto mode : allowed_fallocate_modes)
            add_rule(ctx, SCMP_ACT_ALLOW, s, {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, mode)});
        return;
    case ArgCheck::no_lease:        // checked by checks_prefix, as the ioctl requests
    case ArgCheck::no_own_filter:
        return add_rule(ctx, SCMP_ACT_ALLOW, s);
    }
}

// Argument checks of the form "anything but these values" (or "only these"),
// put in front of libseccomp's program. libseccomp can say "none of these"
// only as its complement: for ioctl 38 masked comparisons tried in a row (a
// third of the program), for one value 32. Here it is one comparison per forbidden value,
// and the syscall is decided without running the rest of the program. Classic
// BPF jumps are relative, so prepending is safe (a second, stacked filter
// would add the kernel's per-filter cost to every syscall instead). Any other
// syscall, and these of another arch, falls through after a few loads and
// jumps, which the kernel's action cache emulates: their verdicts stay cached.
// A forbidden value gets the filter's default action (the violation); a
// value outside an allowed list, an errno.
struct PrefixCheck {
    int nr;
    unsigned arg;                                // its low 32 bits: an int, the kernel ignores the rest
    std::span<const std::uint32_t> forbidden;
    std::span<const std::uint32_t> refused{};   // answered with `refused_errno`, not a violation
    int refused_errno = 0;
    std::span<const std::uint32_t> allowed{};   // if given, any other value answers `unlisted_errno`
    int unlisted_errno = 0;
    // If set (and no `allowed` list): the value `flag_value` answers
    // `flag_errno` when argument `flag_arg` has any bit of `flag_mask`.
    std::uint32_t flag_value = 0, flag_mask = 0;
    unsigned flag_arg = 0;
    int flag_errno = 0;
};

std::vector<sock_filter> checks_prefix(const std::vector<PrefixCheck>& checks) {
    const auto low_word = [](unsigned arg) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * arg);
#else
        return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * arg + 4);
#endif
    };
    // Classic BPF jumps reach at most 255 instructions ahead.
    const auto offset = [](std::size_t from, std::size_t to) {
        if (to <= from || to - from - 1 > 255) throw Error("seccomp: argument checks too long for a BPF jump");
        return static_cast<std::uint8_t>(to - from - 1);
    };
    std::vector<sock_filter> p = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 0, 0),   // jf: past the prefix
    };
    std::vector<std::size_t> to_deny;
    for (const PrefixCheck& c : checks) {
        p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
        const std::size_t next_check = p.size();
        p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(c.nr), 0, 0));   // jf: next check
        p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low_word(c.arg)));
        for (std::uint32_t value : c.forbidden) {
            to_deny.push_back(p.size());
            p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 0));   // jt: the deny
        }
        for (std::uint32_t value : c.refused) {
            p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1));
            p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(c.refused_errno)));
        }
        if (c.flag_mask) {
            if (!c.allowed.empty()) throw Error("seccomp: a flag check and an allowed list on one syscall");
            p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c.flag_value, 0, 3));   // jf: to the ALLOW
            p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low_word(c.flag_arg)));
            p.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, c.flag_mask, 0, 1));
            p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(c.flag_errno)));
        }
        const std::size_t first_allowed = p.size();
        for (std::uint32_t value : c.allowed) p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 0));
        if (!c.allowed.empty())
            p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(c.unlisted_errno)));
        for (std::size_t at = first_allowed; at < first_allowed + c.allowed.size(); ++at)
            p[at].jt = offset(at, p.size());   // to the ALLOW below
        p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        p[next_check].jf = offset(next_check, p.size());
    }
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, 1, 0, 0));   // none of them: libseccomp's program
    const std::size_t deny = p.size();
    p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));   // the filter's default action
    for (std::size_t at : to_deny) p[at].jt = offset(at, deny);
    p[1].jf = offset(1, deny + 1);
    return p;
}

std::string with_origin(const std::string& origin, const std::string& message) {
    return origin.empty() ? message : origin + ": " + message;
}

std::vector<int> allowed_families(const Syscalls& syscalls, const Network& net) {
    std::set<int> out;
    for (const auto& name : syscalls.socket_families) {
        const int family = socket_family_number(name);
        if (family < 0) throw Error("socket_families: unknown address family \"" + name + "\"");
        if (!net.enabled && (family == AF_INET || family == AF_INET6)) continue;
        out.insert(family);
    }
    return {out.begin(), out.end()};
}

std::vector<sock_filter> export_bpf(scmp_filter_ctx ctx) {
    UniqueFd mem(memfd_create("sandboxrun-seccomp", MFD_CLOEXEC));
    if (mem.get() < 0) throw sys_error("seccomp: memfd_create");
    check(seccomp_export_bpf(ctx, mem.get()), "exporting BPF");
    struct stat st {};
    if (fstat(mem.get(), &st) < 0) throw sys_error("seccomp: fstat memfd");
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0)
        throw Error("seccomp: exported BPF has an odd size: " + std::to_string(size));
    std::vector<sock_filter> code(size / sizeof(sock_filter));
    if (pread(mem.get(), code.data(), size, 0) != static_cast<ssize_t>(size))
        throw sys_error("seccomp: reading the exported BPF");
    if (code.size() > BPF_MAXINSNS)
        throw Error("seccomp: filter too long: " + std::to_string(code.size()) + " instructions");
    return code;
}

// One field of the key: its length first, so no name can run into the next.
void put_field(std::string& key, std::string_view text) {
    key += ' ';
    key += std::to_string(text.size());
    key += ':';
    key += text;
}

}  // namespace

bool seccomp_actions_available(bool notify) {
    auto available = [](std::uint32_t action) {
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
    };
    return available(SECCOMP_RET_KILL_PROCESS) && (!notify || available(SECCOMP_RET_USER_NOTIF));
}

void validate_syscalls(const Syscalls& syscalls) {
    // The first of `banned` that `name` (a syscall or a group) stands for, found
    // without expanding groups: this runs on every start. Group members are
    // names libseccomp knows (a unit test checks), so only a profile's own
    // names are resolved.
    auto banned_member = [](const std::string& name, const std::string& origin,
                            std::span<const std::string_view> banned) -> std::optional<std::string_view> {
        try {
            const SyscallGroup* g = nullptr;
            if (name.starts_with('@')) {
                g = find_syscall_group(name);
                if (!g) throw Error("unknown syscall group \"" + name + "\"");
            } else {
                native_syscall_number(name);   // throws if unknown on every arch
            }
            for (std::string_view b : banned)
                if (g ? group_includes(*g, b) : name == b) return b;
            return std::nullopt;
        } catch (const Error& e) {
            throw Error(with_origin(origin, e.what()));
        }
    };
    for (std::size_t i = 0; i < syscalls.allow.size(); ++i) {
        const std::string& name = syscalls.allow[i];
        const std::string origin = i < syscalls.allow_origins.size() ? syscalls.allow_origins[i] : "";
        if (auto hit = banned_member(name, origin, never_allowed_syscalls()))
            throw Error(with_origin(origin, "\"" + name + "\" allows " + std::string(*hit) +
                                                ", which no profile may allow"));
    }
    for (const auto& rule : syscalls.errno_rules) {
        if (rule.errno_value < 1 || rule.errno_value > max_errno_answer)
            throw Error(with_origin(rule.origin, fmt::format("errno for \"{}\" must be between 1 and {}", rule.name,
                                                             max_errno_answer)));
        if (auto hit = banned_member(rule.name, rule.origin, always_allowed_syscalls()))
            throw Error(with_origin(rule.origin, std::string(*hit) +
                                                     " cannot get an errno: sandboxrun needs it "
                                                     "to start the target"));
    }
    for (const auto& name : syscalls.socket_families)
        if (socket_family_number(name) < 0)
            throw Error("socket_families: unknown address family \"" + name + "\"");
}

std::string seccomp_key(const Syscalls& syscalls, const Network& net) {
    const scmp_version* lib = seccomp_version();
    // What else makes the program: the groups and checks (hashed), the
    // values the prefix refuses, and the code that turns them into BPF.
    std::string rules = fmt::format("; rules {:016x}; format {}; refused", syscall_rules_fingerprint(), filter_format);
    for (auto values : {std::span<const std::uint32_t>(forbidden_ioctls), std::span<const std::uint32_t>(allowed_ioctls),
                        std::span<const std::uint32_t>(forbidden_fcntls),
                        std::span<const std::uint32_t>(unlocked_fcntls), std::span<const std::uint32_t>(&async_flag, 1),
                        std::span<const std::uint32_t>(forbidden_prctls), std::span<const std::uint32_t>(allowed_personalities),
                        std::span<const std::uint32_t>(allowed_fallocate_modes)})
        rules += fmt::format(" {}", fmt::join(values, ","));
    std::string key = "sandboxrun " SANDBOXRUN_VERSION "; libseccomp " + std::to_string(lib->major) + "." +
                      std::to_string(lib->minor) + "." + std::to_string(lib->micro) + "; arch " +
                      std::to_string(seccomp_arch_native()) + rules + "\nalways";
    for (const auto& name : always_allowed_syscalls()) put_field(key, name);
    key += "\nallow";
    for (const auto& name : syscalls.allow) put_field(key, name);
    key += "\nerrno";
    for (const auto& rule : syscalls.errno_rules) {
        put_field(key, rule.name);
        key += '=';
        key += std::to_string(rule.errno_value);
    }
    key += "\nfamilies";
    for (const auto& name : syscalls.socket_families) put_field(key, name);
    key += net.enabled ? "\nnetwork on\n" : "\nnetwork off\n";
    return key;
}

std::optional<SeccompProgram> precompiled_seccomp(const std::string& key) {
    for (const auto& filter : precompiled_filters())
        if (filter.key == key) {
            if (!seccomp_actions_available(filter.notify)) return std::nullopt;
            return SeccompProgram{{filter.code.begin(), filter.code.end()}, filter.notify};
        }
    return std::nullopt;
}

SeccompProgram compile_seccomp_fresh(const Syscalls& syscalls, const Network& net) {
    validate_syscalls(syscalls);
    FilterCtx f(SCMP_ACT_NOTIFY);
    // A call of another arch (int 0x80, x32) is a violation like any other,
    // named by its arch's table: killed silently, a child's went unseen.
    check(seccomp_attr_set(f.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY), "setting the bad-arch action");
    // Binary tree of syscall numbers instead of a linear scan.
    check(seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "setting optimize level");

    // errno rules win over allow; clone3 answers ENOSYS unless a rule says otherwise.
    std::map<int, std::pair<std::string, int>> errnos;
    for (const auto& rule : syscalls.errno_rules)
        for (const auto& s : expand_allowed({rule.name}))
            errnos[s.number] = {s.name, rule.errno_value};
    const int clone3 = native_syscall_number("clone3");
    if (clone3 >= 0 && !errnos.contains(clone3)) errnos[clone3] = {"clone3", ENOSYS};

    std::vector<std::string> allow(always_allowed_syscalls().begin(),
                                   always_allowed_syscalls().end());
    allow.insert(allow.end(), syscalls.allow.begin(), syscalls.allow.end());
    auto allowed = expand_allowed(allow);
    // An unconditional rule makes conditional ones for the same syscall moot,
    // and clone_no_namespace covers clone_thread.
    std::set<std::pair<int, ArgCheck>> present;
    for (const auto& s : allowed) present.emplace(s.number, s.check);
    std::erase_if(allowed, [&](const AllowedSyscall& s) {
        if (errnos.contains(s.number)) return true;
        if (s.check != ArgCheck::none && present.contains({s.number, ArgCheck::none})) return true;
        return s.check == ArgCheck::clone_thread &&
               present.contains({s.number, ArgCheck::clone_no_namespace});
    });

    const auto families = allowed_families(syscalls, net);
    for (const auto& s : allowed) add_allow(f.ctx, s, families);
    for (const auto& [nr, rule] : errnos)
        add_rule(f.ctx, SCMP_ACT_ERRNO(static_cast<std::uint16_t>(rule.second)),
                 {rule.first, nr, ArgCheck::none});

    std::vector<sock_filter> code = export_bpf(f.ctx);
    std::vector<PrefixCheck> checks;
    for (const AllowedSyscall& s : allowed) {
        if (s.check == ArgCheck::ioctl_safe_request)
            checks.push_back({.nr = s.number, .arg = 1, .forbidden = forbidden_ioctls, .allowed = allowed_ioctls,
                              .unlisted_errno = ENOTTY});
        if (s.check == ArgCheck::no_lease)
            checks.push_back({.nr = s.number, .arg = 1, .forbidden = forbidden_fcntls, .refused = unlocked_fcntls,
                              .refused_errno = ENOLCK, .flag_value = F_SETFL, .flag_mask = async_flag, .flag_arg = 2,
                              .flag_errno = EPERM});
        if (s.check == ArgCheck::no_own_filter) checks.push_back({s.number, 0, forbidden_prctls});
    }
    if (!checks.empty()) {
        auto prefix = checks_prefix(checks);
        code.insert(code.begin(), prefix.begin(), prefix.end());
        if (code.size() > BPF_MAXINSNS)
            throw Error("seccomp: filter too long: " + std::to_string(code.size()) + " instructions");
    }
    return SeccompProgram{std::move(code), true};
}

std::vector<std::string> expand_syscalls(const std::vector<std::string>& allow) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto& s : expand_allowed(allow))
        if (seen.insert(s.name).second) out.push_back(std::move(s.name));
    return out;
}

int apply_seccomp(const SeccompProgram& program, int& listener) {
    listener = -1;
    if (program.code.empty() || program.code.size() > BPF_MAXINSNS) {
        errno = EINVAL;
        return -1;
    }
    sock_fprog prog{static_cast<unsigned short>(program.code.size()),
                    const_cast<sock_filter*>(program.code.data())};
    const unsigned flags = program.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    const long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0) return -1;
    if (program.notify) listener = static_cast<int>(rc);
    return 0;
}

namespace {

// The payload of a hand-over message; the listener rides beside it.
struct HandoverMessage {
    std::uint64_t start_us, setup_user_us, setup_system_us;
    std::uint8_t has_listener, quotas_capped;
};

}  // namespace

int send_handover(int sock, const Handover& h) {
    HandoverMessage m{h.start_us, h.setup_user_us, h.setup_system_us, h.listener >= 0, h.quotas_capped};
    iovec iov{&m, sizeof m};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (h.listener >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &h.listener, sizeof(int));
    }
    ssize_t n;
    do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(sizeof m) ? 0 : -1;
}

std::optional<Handover> receive_handover(int sock) {
    HandoverMessage m{};
    iovec iov{&m, sizeof m};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw sys_error("seccomp: receiving the hand-over");
    if (n == 0) return std::nullopt;
    Handover h;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            std::memcpy(&h.listener, CMSG_DATA(c), sizeof(int));
    if (n != static_cast<ssize_t>(sizeof m) || (msg.msg_flags & MSG_CTRUNC) || (h.listener >= 0) != (m.has_listener != 0)) {
        if (h.listener >= 0) close(h.listener);
        throw Error("seccomp: malformed hand-over message");
    }
    h.start_us = m.start_us;
    h.setup_user_us = m.setup_user_us;
    h.setup_system_us = m.setup_system_us;
    h.quotas_capped = m.quotas_capped != 0;
    return h;
}

std::optional<SyscallViolation> read_seccomp_violation(int listener_fd) {
    seccomp_notif req;
    std::memset(&req, 0, sizeof req);   // the kernel insists on a zeroed struct
    SyscallViolation v;
    if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
        if (errno == EINTR) return std::nullopt;
        // ENOENT: the task died, or a signal interrupted its wait (the
        // forbidden call then returns EINTR), before we read it. Either way
        // it made a forbidden call, one we cannot name.
        if (errno == ENOENT) return v;
        throw sys_error("seccomp: SECCOMP_IOCTL_NOTIF_RECV");
    }
    v.number = req.data.nr;
    v.arch = req.data.arch;
    v.pid = static_cast<pid_t>(req.pid);
    // Another arch's call (int 0x80, x32) by that arch's name.
    const bool x32 = req.data.arch == AUDIT_ARCH_X86_64 && (req.data.nr & 0x40000000);
    const std::uint32_t arch = x32 ? SCMP_ARCH_X32 : req.data.arch;
    const char* arch_name = arch == SCMP_ARCH_X32 ? "x32" : arch == SCMP_ARCH_X86 ? "i386" : nullptr;
    if (char* name = seccomp_syscall_resolve_num_arch(arch, req.data.nr)) {
        v.name = name;
        std::free(name);
    } else {
        v.name = syscall_name(req.data.nr);
    }
    if (arch != seccomp_arch_native()) v.name += fmt::format(" ({})", arch_name ? arch_name : fmt::format("arch {:#x}", arch));
    return v;
}

std::string syscall_name(int number) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    if (!name) return "syscall_" + std::to_string(number);
    std::string out(name);
    std::free(name);
    return out;
}

}  // namespace sandboxrun
