// Profiles: TOML -> Policy. Every value keeps the file:line:column it came
// from so that an error found later (a missing bind source, an unknown
// syscall) still points at the line to fix.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"
#include "sandboxrun/seccomp.hpp"
#include "sandboxrun/syscall_groups.hpp"
#include "utf8.hpp"

namespace sandboxrun {

// Generated from profiles/*.toml by src/embed_profiles.py.
extern const std::pair<std::string_view, std::string_view> stock_profiles[];
extern const int stock_profile_count;

namespace {

constexpr std::string_view stock_prefix = "<stock>/";
constexpr int max_extends_depth = 32;

std::string location(const toml::source_region& r) {
    return fmt::format("{}:{}:{}", r.path ? *r.path : std::string("<profile>"), r.begin.line,
                       r.begin.column);
}

[[noreturn]] void fail_at(const toml::source_region& r, std::string_view message) {
    throw Error(fmt::format("{}: {}", location(r), message));
}

std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

[[noreturn]] void wrong_type(const toml::node& n, std::string_view key, std::string_view expected) {
    fail_at(n.source(), fmt::format("{}: expected {}, got {}", key, expected, type_name(n)));
}

std::string key_path(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
}

// A typo must never be silently ignored: every key the format lacks is an error.
void check_keys(const toml::table& t, std::string_view prefix,
                std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : t) {
        if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
        fail_at(k.source(), fmt::format("unknown key \"{}\" (known keys: {})", key_path(prefix, k.str()),
                                        fmt::join(known, ", ")));
    }
}

const toml::table* get_table(const toml::table& t, std::string_view prefix, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) wrong_type(*n, key_path(prefix, key), "a table");
    return n->as_table();
}

const toml::array* get_array(const toml::table& t, std::string_view prefix, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_array()) wrong_type(*n, key_path(prefix, key), "an array of strings");
    return n->as_array();
}

const std::string& as_string(const toml::node& n, std::string_view key) {
    if (!n.is_string()) wrong_type(n, key, "a string");
    return n.as_string()->get();
}

std::optional<std::string> get_string(const toml::table& t, std::string_view prefix,
                                      std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    return as_string(*n, key_path(prefix, key));
}

std::optional<bool> get_bool(const toml::table& t, std::string_view prefix, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) wrong_type(*n, key_path(prefix, key), "a boolean");
    return n->as_boolean()->get();
}

// An absolute path from a TOML value, normalized, or an error at the value.
std::string get_path(const toml::node& n, std::string_view key) {
    try {
        return normalize_path(as_string(n, key));
    } catch (const Error& e) {
        fail_at(n.source(), fmt::format("{}: {}", key, e.what()));
    }
}

bool valid_env_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// RFC 1123 host name characters; the kernel only limits the length.
std::optional<std::string> hostname_problem(std::string_view name) {
    if (name.empty() || name.size() > 64) return "must be 1 to 64 characters long";
    bool ok = std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.';
    });
    if (!ok) return "may only contain letters, digits, '-' and '.'";
    return std::nullopt;
}

bool valid_syscall_word(std::string_view s) {
    if (s.starts_with('@')) s.remove_prefix(1);
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
    });
}

constexpr std::string_view socket_family_names[] = {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"};

// glibc knows every errno's name; a few aliases share a number with their canonical name.
std::optional<int> errno_from_name(std::string_view name) {
    constexpr std::pair<std::string_view, int> aliases[] = {
        {"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};
    for (auto [alias, value] : aliases)
        if (alias == name) return value;
    for (int e = 1; e < 4096; ++e) {
        const char* n = strerrorname_np(e);
        if (n && name == n) return e;
    }
    return std::nullopt;
}

// --- limits ---------------------------------------------------------------

constexpr std::pair<std::string_view, std::optional<Duration> Limits::*> duration_limits[] = {
    {"cpu_time", &Limits::cpu_time},
    {"wall_time", &Limits::wall_time},
};

struct CountLimit {
    std::string_view name;
    std::optional<std::uint64_t> Limits::*field;
    bool is_size;                  // a size ("64MiB" or bytes) rather than a plain count
    std::uint64_t min = 1;
    std::uint64_t max = UINT64_MAX;
    std::string_view why = {};     // the reason for a bound other than 1 and no maximum
};

constexpr CountLimit count_limits[] = {
    {"memory", &Limits::memory, true},
    // More than the kernel could ever hand out would be refused by pids.max
    // (which also counts the run's init) and leave the run without any limit on tasks.
    {"processes", &Limits::processes, false, 1, 4194303, "the kernel's limit on pids, less the run's init"},
    {"file_size", &Limits::file_size, true},
    // The run's own setup needs one descriptor beside stdin, stdout and stderr
    // (Landlock's ruleset, then the seccomp listener) under the same limit.
    {"open_files", &Limits::open_files, false, 4, UINT64_MAX,
     "stdin, stdout, stderr and one the sandbox needs while it sets up"},
    {"stack", &Limits::stack, true},
};

// What is wrong with `value` for `limit`, if anything.
std::optional<std::string> out_of_range(const CountLimit& limit, std::uint64_t value) {
    if (value < limit.min)
        return limit.min == 1 ? std::string("must be greater than 0")
                              : fmt::format("must be at least {} ({}), not {}", limit.min, limit.why, value);
    if (value > limit.max) return fmt::format("at most {} ({}), not {}", limit.max, limit.why, value);
    return std::nullopt;
}

bool is_none(const toml::node& n) {
    return n.is_string() && n.as_string()->get() == "none";
}

std::uint64_t size_value(const toml::node& n, std::string_view key) {
    if (n.is_integer()) {
        auto v = n.as_integer()->get();
        if (v < 0) fail_at(n.source(), fmt::format("{}: a size cannot be negative", key));
        return static_cast<std::uint64_t>(v);
    }
    if (!n.is_string()) wrong_type(n, key, "a size such as \"256MiB\" or an integer number of bytes");
    try {
        return parse_size(n.as_string()->get());
    } catch (const Error& e) {
        fail_at(n.source(), fmt::format("{}: {}", key, e.what()));
    }
}

void apply_limits(const toml::table& t, Limits& limits) {
    check_keys(t, "limits",
               {"cpu_time", "wall_time", "memory", "processes", "file_size", "open_files", "stack"});
    for (auto [name, field] : duration_limits) {
        const toml::node* n = t.get(name);
        if (!n) continue;
        auto key = key_path("limits", name);
        if (is_none(*n)) {
            (limits.*field).reset();
            continue;
        }
        if (n->is_integer())
            fail_at(n->source(), fmt::format("{}: a duration needs a unit, e.g. \"2s\" or \"1500ms\"", key));
        if (!n->is_string()) wrong_type(*n, key, "a duration such as \"2s\"");
        Duration d;
        try {
            d = parse_duration(n->as_string()->get());
        } catch (const Error& e) {
            fail_at(n->source(), fmt::format("{}: {}", key, e.what()));
        }
        if (d.count() == 0) fail_at(n->source(), fmt::format("{}: must be greater than 0", key));
        limits.*field = d;
    }
    for (const auto& limit : count_limits) {
        const toml::node* n = t.get(limit.name);
        if (!n) continue;
        auto key = key_path("limits", limit.name);
        if (is_none(*n)) {
            (limits.*limit.field).reset();
            continue;
        }
        std::uint64_t value;
        if (limit.is_size) {
            value = size_value(*n, key);
        } else {
            if (!n->is_integer()) wrong_type(*n, key, "an integer");
            auto v = n->as_integer()->get();
            if (v < 0) fail_at(n->source(), fmt::format("{}: cannot be negative", key));
            value = static_cast<std::uint64_t>(v);
        }
        if (auto problem = out_of_range(limit, value)) fail_at(n->source(), fmt::format("{}: {}", key, *problem));
        limits.*limit.field = value;
    }
}

// --- filesystem -----------------------------------------------------------

void apply_filesystem(const toml::table& t, Filesystem& fs) {
    check_keys(t, "filesystem", {"ro", "rw", "tmpfs", "cwd", "workdir", "chdir", "proc", "dev_pts", "sys"});
    for (bool writable : {false, true}) {
        std::string_view name = writable ? "rw" : "ro";
        auto key = key_path("filesystem", name);
        const toml::array* list = get_array(t, "filesystem", name);
        if (!list) continue;
        for (const toml::node& item : *list) {
            const std::string& spec = as_string(item, key);
            try {
                add_bind(fs, parse_bind(spec, writable, location(item.source())));
            } catch (const Error& e) {
                fail_at(item.source(), fmt::format("{}: {}", key, e.what()));
            }
        }
    }
    if (const toml::table* tmpfs = get_table(t, "filesystem", "tmpfs")) {
        for (auto&& [k, v] : *tmpfs) {
            auto key = fmt::format("filesystem.tmpfs.\"{}\"", k.str());
            std::string target;
            try {
                target = normalize_path(k.str());
            } catch (const Error& e) {
                fail_at(k.source(), fmt::format("{}: {}", key, e.what()));
            }
            std::uint64_t size = size_value(v, key);
            if (size == 0) fail_at(v.source(), fmt::format("{}: size must be greater than 0", key));
            add_tmpfs(fs, Tmpfs{target, size, location(v.source())});
        }
    }
    if (const toml::node* n = t.get("cwd")) {
        const std::string& mode = as_string(*n, "filesystem.cwd");
        if (mode == "rw") fs.cwd = CwdMode::rw;
        else if (mode == "ro") fs.cwd = CwdMode::ro;
        else if (mode == "none") fs.cwd = CwdMode::none;
        else fail_at(n->source(), fmt::format("filesystem.cwd: \"{}\" is not one of rw, ro, none", mode));
    }
    if (const toml::node* n = t.get("workdir")) {
        fs.workdir = get_path(*n, "filesystem.workdir");
        fs.workdir_origin = location(n->source()) + ": filesystem.workdir";
    }
    if (const toml::node* n = t.get("chdir")) fs.chdir = get_path(*n, "filesystem.chdir");
    if (auto v = get_bool(t, "filesystem", "proc")) fs.proc = *v;
    if (auto v = get_bool(t, "filesystem", "dev_pts")) fs.dev_pts = *v;
    if (auto v = get_bool(t, "filesystem", "sys")) fs.sys = *v;
}

// --- network, environment -------------------------------------------------

void apply_network(const toml::table& t, Network& net) {
    check_keys(t, "network", {"enabled", "loopback"});
    if (auto v = get_bool(t, "network", "enabled")) net.enabled = *v;
    if (auto v = get_bool(t, "network", "loopback")) net.loopback = *v;
}

void apply_environment(const toml::table& t, Environment& env) {
    check_keys(t, "environment", {"pass", "set"});
    if (const toml::array* pass = get_array(t, "environment", "pass")) {
        for (const toml::node& item : *pass) {
            const std::string& name = as_string(item, "environment.pass");
            if (!valid_env_name(name))
                fail_at(item.source(), fmt::format("environment.pass: \"{}\" is not a variable name", name));
            if (std::find(env.pass.begin(), env.pass.end(), name) == env.pass.end()) env.pass.push_back(name);
        }
    }
    if (const toml::table* set = get_table(t, "environment", "set")) {
        for (auto&& [k, v] : *set) {
            if (!valid_env_name(k.str()))
                fail_at(k.source(), fmt::format("environment.set: \"{}\" is not a variable name", k.str()));
            const std::string& value = as_string(v, fmt::format("environment.set.{}", k.str()));
            if (value.find('\0') != std::string::npos)
                fail_at(v.source(), fmt::format("environment.set.{}: contains a NUL byte", k.str()));
            try {
                check_environment_value(std::string(k.str()), value);
            } catch (const Error& e) {
                fail_at(v.source(), e.what());
            }
            env.set[std::string(k.str())] = value;
        }
    }
}

// --- syscalls -------------------------------------------------------------

void add_errno_rule(Syscalls& sc, SyscallErrno rule) {
    auto it = std::find_if(sc.errno_rules.begin(), sc.errno_rules.end(),
                           [&](const SyscallErrno& r) { return r.name == rule.name; });
    if (it != sc.errno_rules.end()) *it = std::move(rule);
    else sc.errno_rules.push_back(std::move(rule));
    // Sorted so that a policy printed by explain_policy reads back identical.
    std::sort(sc.errno_rules.begin(), sc.errno_rules.end(),
              [](const SyscallErrno& a, const SyscallErrno& b) { return a.name < b.name; });
}

void apply_syscalls(const toml::table& t, Syscalls& sc) {
    check_keys(t, "syscalls", {"allow", "deny", "errno", "socket_families"});
    // deny applies to what was inherited, so it runs before this file's allow.
    if (const toml::array* deny = get_array(t, "syscalls", "deny")) {
        for (const toml::node& item : *deny) {
            const std::string& name = as_string(item, "syscalls.deny");
            auto it = std::find(sc.allow.begin(), sc.allow.end(), name);
            if (it == sc.allow.end())
                fail_at(item.source(),
                        fmt::format("syscalls.deny: \"{}\" is not in the inherited allow list "
                                    "(deny removes exact entries; it does not split groups)", name));
            sc.allow_origins.erase(sc.allow_origins.begin() + (it - sc.allow.begin()));
            sc.allow.erase(it);
        }
    }
    if (const toml::array* allow = get_array(t, "syscalls", "allow")) {
        for (const toml::node& item : *allow) {
            const std::string& name = as_string(item, "syscalls.allow");
            if (!valid_syscall_word(name))
                fail_at(item.source(), fmt::format("syscalls.allow: \"{}\" is not a syscall or @group name", name));
            // An inherited errno answer for what this file allows gives way
            // (base answers socket with an errno; python allows it).
            const SyscallGroup* group = find_syscall_group(name);
            std::erase_if(sc.errno_rules, [&](const SyscallErrno& r) {
                return r.name == name || (group && group_includes(*group, r.name));
            });
            if (std::find(sc.allow.begin(), sc.allow.end(), name) != sc.allow.end()) continue;
            sc.allow.push_back(name);
            sc.allow_origins.push_back(location(item.source()));
        }
    }
    if (const toml::table* rules = get_table(t, "syscalls", "errno")) {
        for (auto&& [k, v] : *rules) {
            auto key = fmt::format("syscalls.errno.{}", k.str());
            if (!valid_syscall_word(k.str()) || k.str().starts_with('@'))
                fail_at(k.source(), fmt::format("{}: \"{}\" is not a syscall name", key, k.str()));
            int value = 0;
            if (v.is_integer()) {
                auto i = v.as_integer()->get();
                if (i < 1 || i > max_errno_answer)
                    fail_at(v.source(), fmt::format("{}: errno {} is not in 1..{}", key, i, max_errno_answer));
                value = static_cast<int>(i);
            } else {
                const std::string& name = as_string(v, key);
                auto e = errno_from_name(name);
                if (!e) fail_at(v.source(), fmt::format("{}: unknown errno name \"{}\"", key, name));
                value = *e;
            }
            add_errno_rule(sc, SyscallErrno{std::string(k.str()), value, location(v.source())});
        }
    }
    if (const toml::array* families = get_array(t, "syscalls", "socket_families")) {
        for (const toml::node& item : *families) {
            const std::string& name = as_string(item, "syscalls.socket_families");
            if (std::find(std::begin(socket_family_names), std::end(socket_family_names), name) ==
                std::end(socket_family_names))
                fail_at(item.source(), fmt::format("syscalls.socket_families: unknown family \"{}\" (known: {})",
                                                   name, fmt::join(socket_family_names, ", ")));
            auto& fam = sc.socket_families;
            if (std::find(fam.begin(), fam.end(), name) == fam.end()) fam.push_back(name);
        }
    }
}

// --- loading --------------------------------------------------------------

// One file's keys on top of what its parent produced.
void apply_profile(const toml::table& root, Policy& p) {
    check_keys(root, "", {"description", "extends", "hostname", "limits", "filesystem", "network",
                          "environment", "syscalls"});
    if (auto v = get_string(root, "", "description")) p.description = *v;
    if (const toml::node* n = root.get("hostname")) {
        const std::string& name = as_string(*n, "hostname");
        if (auto problem = hostname_problem(name))
            fail_at(n->source(), fmt::format("hostname: \"{}\" {}", name, *problem));
        p.hostname = name;
    }
    if (auto* t = get_table(root, "", "limits")) apply_limits(*t, p.limits);
    if (auto* t = get_table(root, "", "filesystem")) apply_filesystem(*t, p.fs);
    if (auto* t = get_table(root, "", "network")) apply_network(*t, p.net);
    if (auto* t = get_table(root, "", "environment")) apply_environment(*t, p.env);
    if (auto* t = get_table(root, "", "syscalls")) apply_syscalls(*t, p.syscalls);
}

// toml++ bounds nested arrays and inline tables but not keys: it recurses once
// per part of a dotted key or header, and one of 250,000 parts (a 600 KB file)
// overflows the stack. Dots outside strings and comments bound those parts;
// a real profile has a handful.
void refuse_deep_keys(std::string_view text, const std::string& source) {
    constexpr int max_dots = 4096;
    int dots = 0;
    std::size_t line = 1, line_start = 0;
    std::string_view quote;   // the open string's delimiter; empty outside strings
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') ++line, line_start = i + 1;
        if (!quote.empty()) {
            if (c == '\\' && quote[0] == '"' && i + 1 < text.size() && text[i + 1] != '\n') ++i;
            else if (text.substr(i).starts_with(quote)) {
                // A multi-line string may end in one or two quotes of its own ("""a"""").
                i += quote.size() - 1;
                for (int extra = 0; quote.size() == 3 && extra < 2 && i + 1 < text.size() && text[i + 1] == quote[0];
                     ++extra)
                    ++i;
                quote = {};
            }
        } else if (c == '#') {
            while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        } else if (c == '"' || c == '\'') {
            quote = text.substr(i, text.substr(i).starts_with(std::string(3, c)) ? 3 : 1);
            i += quote.size() - 1;
        } else if (c == '.' && ++dots > max_dots) {
            throw Error(fmt::format("{}:{}:{}: more than {} '.' outside strings: keys nested this deeply are refused",
                                    source, line, i - line_start + 1, max_dots));
        }
    }
}

class Loader {
public:
    explicit Loader(const ProfileResolver& resolve) : resolve_(resolve) {}

    // `from` is the `extends` value that asked for this profile (null for the top one).
    Policy load(std::string name, const toml::node* from) {
        auto fail = [&](const std::string& message) -> Error {
            return from ? Error(fmt::format("{}: extends: {}", location(from->source()), message))
                        : Error(message);
        };
        std::optional<ProfileText> text;
        try {
            text = resolve_(name);
        } catch (const Error& e) {
            throw fail(e.what());
        }
        if (!text) throw fail(fmt::format("profile \"{}\" not found", name));
        if (std::find(chain_.begin(), chain_.end(), text->source) != chain_.end()) {
            std::string cycle;
            for (const auto& s : chain_) cycle += s + " -> ";
            throw fail("cycle: " + cycle + text->source);
        }
        if (chain_.size() >= max_extends_depth) throw fail("profiles extend each other too deeply");

        refuse_deep_keys(text->text, text->source);
        toml::table root;
        try {
            root = toml::parse(text->text, text->source);
        } catch (const toml::parse_error& e) {
            fail_at(e.source(), e.description());
        }

        chain_.push_back(text->source);
        Policy policy;
        if (const toml::node* parent = root.get("extends"))
            policy = load(parent_name(as_string(*parent, "extends"), text->source), parent);
        apply_profile(root, policy);
        policy.sources.push_back(text->source);
        chain_.pop_back();
        return policy;
    }

private:
    // A relative path in `extends` (one with a '/' or ending in .toml) means:
    // next to the file that says it, never in whatever directory we run in.
    static std::string parent_name(const std::string& name, const std::string& source) {
        bool is_path = name.find('/') != std::string::npos || name.ends_with(".toml");
        if (!is_path || name.starts_with('/') || source.starts_with(stock_prefix)) return name;
        return (std::filesystem::path(source).parent_path() / name).lexically_normal().string();
    }

    const ProfileResolver& resolve_;
    std::vector<std::string> chain_;   // sources being loaded, to catch cycles
};

// The whole file, or nullopt if it does not exist; other errors throw.
std::optional<std::string> read_file(const std::string& path) {
    // Non-blocking: a FIFO must not hang us, and only a regular file is read.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw sys_error("reading profile", path);
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(fmt::format("reading profile: {}: not a regular file", path));
    }
    // A profile is a few KiB; a huge file is a mistake, not one to fill memory with.
    constexpr std::size_t max_size = 1 << 20;
    std::string text;
    char buf[8192];
    ssize_t n = 0;
    while (text.size() <= max_size && (n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    int err = errno;
    ::close(fd);
    if (text.size() > max_size) throw Error(fmt::format("reading profile: {}: larger than 1 MiB", path));
    if (n < 0) throw sys_error("reading profile", path, err);
    return text;
}

std::size_t depth(const std::string& path) {
    return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) - (path == "/" ? 1 : 0);
}

// Kept in order: parents before children, and a fixed order otherwise so
// that equal policies compare equal. A mount of the same target is found
// where the new one would go, and replaced.
template <class T>
void add_mount(std::vector<T>& mounts, T mount) {
    auto it = std::lower_bound(mounts.begin(), mounts.end(), mount, [](const T& a, const T& b) {
        auto da = depth(a.target), db = depth(b.target);
        return da != db ? da < db : a.target < b.target;
    });
    if (it != mounts.end() && it->target == mount.target) *it = std::move(mount);
    else mounts.insert(it, std::move(mount));
}

}  // namespace

std::string normalize_path(std::string_view path) {
    if (!path.starts_with('/')) throw Error(fmt::format("\"{}\" is not an absolute path", path));
    std::string out;
    std::size_t pos = 0;
    while (pos < path.size()) {
        auto end = path.find('/', pos);
        if (end == std::string_view::npos) end = path.size();
        auto part = path.substr(pos, end - pos);
        pos = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") throw Error(fmt::format("\"{}\": \"..\" is not allowed in paths", path));
        if (part.find('\0') != std::string_view::npos) throw Error("path contains a NUL byte");
        out += '/';
        out += part;
    }
    return out.empty() ? "/" : out;
}

Bind parse_bind(std::string_view spec, bool writable, std::string origin) {
    Bind bind;
    bind.writable = writable;
    bind.origin = std::move(origin);
    std::string_view rest = spec;
    if (rest.starts_with('?')) {
        bind.optional = true;
        rest.remove_prefix(1);
    }
    auto colon = rest.find(':');
    auto source = rest.substr(0, colon);
    auto target = colon == std::string_view::npos ? source : rest.substr(colon + 1);
    if (target.find(':') != std::string_view::npos)
        throw Error(fmt::format("bad bind \"{}\": more than one ':' (paths with ':' are not supported)", spec));
    try {
        bind.source = normalize_path(source);
        bind.target = normalize_path(target);
    } catch (const Error& e) {
        throw Error(fmt::format("bad bind \"{}\": {}", spec, e.what()));
    }
    return bind;
}

// A bind or tmpfs replaces any earlier mount of either kind at its target:
// both at one target would leave the later one hidden under the other.
void add_bind(Filesystem& fs, Bind bind) {
    std::erase_if(fs.tmpfs, [&](const Tmpfs& t) { return t.target == bind.target; });
    add_mount(fs.binds, std::move(bind));
}
void add_tmpfs(Filesystem& fs, Tmpfs tmpfs) {
    std::erase_if(fs.binds, [&](const Bind& b) { return b.target == tmpfs.target; });
    add_mount(fs.tmpfs, std::move(tmpfs));
}

std::vector<std::string> stock_profile_names() {
    std::vector<std::string> names;
    for (int i = 0; i < stock_profile_count; ++i) names.emplace_back(stock_profiles[i].first);
    return names;
}

std::optional<std::string_view> stock_profile_text(std::string_view name) {
    for (int i = 0; i < stock_profile_count; ++i)
        if (stock_profiles[i].first == name) return stock_profiles[i].second;
    return std::nullopt;
}

ProfileResolver stock_resolver() {
    return [](const std::string& name) -> std::optional<ProfileText> {
        auto text = stock_profile_text(name);
        if (!text) return std::nullopt;
        return ProfileText{fmt::format("{}{}.toml", stock_prefix, name), std::string(*text)};
    };
}

std::vector<std::string> profile_search_dirs(std::vector<std::string> dirs) {
    if (const char* env = std::getenv("SANDBOXRUN_PROFILE_PATH")) {
        std::string_view rest = env;
        while (!rest.empty()) {
            auto colon = rest.find(':');
            auto dir = rest.substr(0, colon);
            if (!dir.empty()) dirs.emplace_back(dir);
            rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        }
    }
    dirs.emplace_back("/etc/sandboxrun/profiles");
    return dirs;
}

ProfileResolver default_resolver(std::vector<std::string> dirs) {
    return [dirs = profile_search_dirs(std::move(dirs))](const std::string& name) -> std::optional<ProfileText> {
        if (name.find('/') != std::string::npos || name.ends_with(".toml")) {
            auto text = read_file(name);
            if (!text) throw sys_error("reading profile", name, ENOENT);
            // A file in a directory named "<stock>" is no stock profile.
            return ProfileText{name.starts_with(stock_prefix) ? "./" + name : name, std::move(*text)};
        }
        std::vector<std::string> looked;
        for (const auto& dir : dirs) {
            auto path = dir + "/" + name + ".toml";
            if (auto text = read_file(path)) return ProfileText{path, std::move(*text)};
            looked.push_back(path);
        }
        if (auto text = stock_resolver()(name)) return text;
        // The resolver knows where it looked; say so rather than a bare "not found".
        throw Error(fmt::format("profile \"{}\" not found; looked in {} and the stock profiles ({})", name,
                                fmt::join(looked, ", "), fmt::join(stock_profile_names(), ", ")));
    };
}

Policy load_profile(const std::string& name, const ProfileResolver& resolve) {
    Policy policy = Loader(resolve).load(name, nullptr);
    policy.name = name;
    return policy;
}

namespace {

bool at_or_beneath(const std::string& path, std::string_view dir) {
    return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

// Targets sandboxrun mounts itself: a bind or tmpfs there would be covered,
// dropped or fail deep in setup with a bare errno, so it is refused here.
std::optional<std::string> reserved_target(const Filesystem& fs, const std::string& target) {
    if (target == "/") return "the root is the run's own tmpfs; mount beneath it";
    if (fs.proc && at_or_beneath(target, "/proc")) return "the run's own /proc is mounted there (filesystem.proc)";
    if (target == "/dev") return "/dev is built by sandboxrun (device nodes, /dev/shm); mount beneath it";
    if (fs.dev_pts && (at_or_beneath(target, "/dev/pts") || target == "/dev/ptmx"))
        return "the run's own devpts is mounted there (filesystem.dev_pts)";
    if (fs.sys && at_or_beneath(target, "/sys")) return "the host's /sys is mounted there read-only (filesystem.sys)";
    if (fs.cwd != CwdMode::none && target == fs.workdir)
        return fmt::format("the invoking directory is mounted there ({}; cwd = \"none\" frees it)", fs.workdir_origin);
    if (fs.cwd != CwdMode::none && at_or_beneath(target, fs.workdir))
        return "its mount point would be made (or found, through whatever a run left there) in the invoking "
               "directory; mount it elsewhere (e.g. /data)";
    return std::nullopt;
}

// Where the invoking directory may be mounted: not over what sandboxrun builds.
std::optional<std::string> workdir_problem(const std::string& workdir) {
    for (std::string_view own : {"/proc", "/dev", "/sys"})
        if (at_or_beneath(workdir, own)) return fmt::format("sandboxrun mounts its own {} there", own);
    if (workdir == "/") return "the root is the run's own tmpfs";
    return std::nullopt;
}

}  // namespace

void validate_policy(const Policy& policy) {
    auto check_path = [](const std::string& path, const std::string& what) {
        try {
            if (normalize_path(path) != path) throw Error(fmt::format("\"{}\" is not in normal form", path));
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}", what, e.what()));
        }
    };
    // A mount point is made in whatever is mounted above it: beneath a
    // directory bound writable that is the host's directory, through any link
    // a run left there (as beneath the work dir), and it stays there.
    auto beneath_writable = [&](const std::string& target) -> std::optional<std::string> {
        for (const Bind& w : policy.fs.binds)
            if (w.writable && target != w.target && at_or_beneath(target, w.target))
                return fmt::format("its mount point would be made (or found, through whatever a run left there) in the "
                                   "host directory {} bound writable at {} ({}); mount it elsewhere",
                                   w.source, w.target, w.origin);
        return std::nullopt;
    };
    // Nor can one be made in a read-only bind where the host has none: that
    // failed every run deep in setup (a profile --explain had accepted).
    auto beneath_read_only = [&](const std::string& target) -> std::optional<std::string> {
        const Bind* in = nullptr;   // the innermost mount holding it
        for (const Bind& b : policy.fs.binds)
            if (target != b.target && at_or_beneath(target, b.target) && (!in || b.target.size() > in->target.size()) &&
                !(b.optional && ::access(b.source.c_str(), F_OK) != 0))   // (left out: no mount there)
                in = &b;
        for (const Tmpfs& t : policy.fs.tmpfs)
            if (in && target != t.target && at_or_beneath(target, t.target) && t.target.size() > in->target.size())
                return std::nullopt;
        struct stat st;
        if (!in || in->writable || ::lstat((in->source + target.substr(in->target.size())).c_str(), &st) == 0)
            return std::nullopt;
        return fmt::format("its mount point cannot be made in {}, bound read-only from {} ({}), which has no {}; "
                           "mount it elsewhere",
                           in->target, in->source, in->origin, target.substr(in->target.size() + 1));
    };
    for (const Bind& b : policy.fs.binds) {
        check_path(b.source, b.origin);
        check_path(b.target, b.origin);
        if (auto why = reserved_target(policy.fs, b.target))
            throw Error(fmt::format("{}: bind target {}: {}", b.origin, b.target, *why));
        if (auto why = beneath_writable(b.target))
            throw Error(fmt::format("{}: bind target {}: {}", b.origin, b.target, *why));
        if (struct stat st; ::stat(b.source.c_str(), &st) != 0) {
            if (b.optional) continue;
            if (errno == ENOENT)
                throw Error(fmt::format("{}: bind source {} does not exist: {}", b.origin, b.source, std::strerror(errno)));
            throw Error(fmt::format("{}: bind source {}: {}", b.origin, b.source, std::strerror(errno)));
        }
        if (auto why = beneath_read_only(b.target))
            throw Error(fmt::format("{}: bind target {}: {}", b.origin, b.target, *why));
    }
    for (const Tmpfs& t : policy.fs.tmpfs) {
        check_path(t.target, t.origin);
        if (auto why = reserved_target(policy.fs, t.target))
            throw Error(fmt::format("{}: tmpfs {}: {}", t.origin, t.target, *why));
        if (auto why = beneath_writable(t.target)) throw Error(fmt::format("{}: tmpfs {}: {}", t.origin, t.target, *why));
        if (auto why = beneath_read_only(t.target)) throw Error(fmt::format("{}: tmpfs {}: {}", t.origin, t.target, *why));
        if (t.size == 0) throw Error(fmt::format("{}: tmpfs {}: size must be greater than 0", t.origin, t.target));
    }
    const std::string& workdir = policy.fs.workdir;
    check_path(workdir, policy.fs.workdir_origin);
    if (auto why = workdir_problem(workdir); why && policy.fs.cwd != CwdMode::none)
        throw Error(fmt::format("{}: {}: {}", policy.fs.workdir_origin, workdir, *why));
    if (auto why = beneath_writable(workdir); why && policy.fs.cwd != CwdMode::none)
        throw Error(fmt::format("{}: {}: {}", policy.fs.workdir_origin, workdir, *why));
    if (auto why = beneath_read_only(workdir); why && policy.fs.cwd != CwdMode::none)
        throw Error(fmt::format("{}: {}: {}", policy.fs.workdir_origin, workdir, *why));
    if (policy.fs.chdir) check_path(*policy.fs.chdir, "filesystem.chdir");
    for (const auto& [name, value] : policy.env.set) check_environment_value(name, value);
    if (auto problem = hostname_problem(policy.hostname))
        throw Error(fmt::format("hostname: \"{}\" {}", policy.hostname, *problem));
    for (auto [name, field] : duration_limits)
        if (policy.limits.*field && (policy.limits.*field)->count() <= 0)
            throw Error(fmt::format("limits.{}: must be greater than 0", name));
    for (const auto& limit : count_limits)
        if (const auto& value = policy.limits.*limit.field)
            if (auto problem = out_of_range(limit, *value))
                throw Error(fmt::format("limits.{}: {}", limit.name, *problem));
    validate_syscalls(policy.syscalls);
}

std::string explain_policy(const Policy& policy) {
    toml::table root;
    if (!policy.description.empty()) root.insert("description", policy.description);
    root.insert("hostname", policy.hostname);

    toml::table limits;
    for (auto [name, field] : duration_limits)
        if (policy.limits.*field) limits.insert(name, format_duration(*(policy.limits.*field)));
    for (const auto& limit : count_limits) {
        if (!(policy.limits.*limit.field)) continue;
        auto value = *(policy.limits.*limit.field);
        if (limit.is_size) limits.insert(limit.name, format_size(value));
        else limits.insert(limit.name, static_cast<std::int64_t>(value));
    }
    root.insert("limits", std::move(limits));

    const Filesystem& fs = policy.fs;
    toml::table filesystem;
    toml::array ro, rw;
    for (const Bind& b : fs.binds) {
        std::string spec = (b.optional ? "?" : "") + b.source;
        if (b.target != b.source) spec += ":" + b.target;
        (b.writable ? rw : ro).push_back(spec);
    }
    filesystem.insert("ro", std::move(ro));
    filesystem.insert("rw", std::move(rw));
    toml::table tmpfs;
    tmpfs.is_inline(true);
    for (const Tmpfs& t : fs.tmpfs) tmpfs.insert(t.target, format_size(t.size));
    filesystem.insert("tmpfs", std::move(tmpfs));
    filesystem.insert("cwd", fs.cwd == CwdMode::rw ? "rw" : fs.cwd == CwdMode::ro ? "ro" : "none");
    filesystem.insert("workdir", fs.workdir);
    if (fs.chdir) filesystem.insert("chdir", *fs.chdir);
    filesystem.insert("proc", fs.proc);
    filesystem.insert("dev_pts", fs.dev_pts);
    filesystem.insert("sys", fs.sys);
    root.insert("filesystem", std::move(filesystem));

    root.insert("network", toml::table{{"enabled", policy.net.enabled}, {"loopback", policy.net.loopback}});

    toml::array pass;
    for (const auto& name : policy.env.pass) pass.push_back(name);
    toml::table set;
    set.is_inline(true);
    for (const auto& [name, value] : policy.env.set) set.insert(name, value);
    root.insert("environment", toml::table{{"pass", std::move(pass)}, {"set", std::move(set)}});

    toml::array allow, families;
    for (const auto& name : policy.syscalls.allow) allow.push_back(name);
    for (const auto& name : policy.syscalls.socket_families) families.push_back(name);
    toml::table errnos;
    errnos.is_inline(true);
    for (const auto& rule : policy.syscalls.errno_rules) {
        const char* name = strerrorname_np(rule.errno_value);
        if (name) errnos.insert(rule.name, name);
        else errnos.insert(rule.name, rule.errno_value);
    }
    root.insert("syscalls", toml::table{{"allow", std::move(allow)},
                                        {"errno", std::move(errnos)},
                                        {"socket_families", std::move(families)}});

    // TOML holds only UTF-8 text: a path or value of other bytes would load
    // back as another (toml++ prints the byte 0xff as U+00FF).
    std::function<void(const toml::node&)> refuse_bytes = [&](const toml::node& n) {
        if (auto* t = n.as_table())
            for (auto&& [key, value] : *t) refuse_bytes(value);
        else if (auto* a = n.as_array())
            for (const toml::node& value : *a) refuse_bytes(value);
        else if (auto* str = n.as_string())
            for (std::size_t i = 0, len = 0; i < str->get().size(); i += len)
                if ((len = utf8_length(str->get(), i)) == 0)
                    throw Error(fmt::format("explain: {:?} is not UTF-8 text, which a profile cannot hold", str->get()));
    };
    refuse_bytes(root);

    std::ostringstream out;
    out << "# Effective policy of profile \"" << policy.name << "\", command-line overrides included.\n";
    out << "# Profile chain: " << fmt::format("{}", fmt::join(policy.sources, " -> ")) << "\n";
    out << "# Binds and tmpfs mounts are listed in mount order (parents first).\n\n";
    // Basic strings only: a literal or multi-line one cannot hold every
    // value (''' inside, a leading newline the parser would drop).
    constexpr auto flags = toml::toml_formatter::default_flags &
                           ~(toml::format_flags::allow_literal_strings | toml::format_flags::allow_multi_line_strings);
    out << toml::toml_formatter{root, flags} << "\n";
    return out.str();
}

}  // namespace sandboxrun
