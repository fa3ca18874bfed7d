// Finding the hierarchies, choosing v1 or v2, the --cgroup-parent, and the
// group-directory protocol both versions share: create beneath our own cgroup
// (or the parent), hold a flock on the run's directory while it lives, sweep
// groups whose lock is free.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "sandboxrun/cgroup_detail.hpp"
#include "sandboxrun/error.hpp"
#include "unique_fd.hpp"

namespace sandboxrun {
namespace cgroup_detail {
namespace {

int open_dir(const std::string& path) { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) out.push_back(cur);
    return out;
}

// mountinfo escapes blanks and backslashes as \ooo.
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() &&
            std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> subdir_names(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return names;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (e->d_type == DT_DIR && name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
}

// Child group directories of `dir`, deepest first (the order rmdir needs).
void child_groups(const std::string& dir, std::vector<std::string>& out) {
    for (const auto& name : subdir_names(dir)) {
        child_groups(dir + "/" + name, out);
        out.push_back(dir + "/" + name);
    }
}

// SIGKILLs the tasks of `dirs` (the first write to cgroup.kill covers the
// whole v2 subtree) until they are empty or `budget` runs out.
bool kill_in(const std::vector<std::string>& dirs, std::chrono::milliseconds budget) {
    write_file(dirs.back() + "/cgroup.kill", "1");  // v2, kernel >= 5.14; ENOENT on v1
    auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
        bool empty = true;
        for (const auto& d : dirs) {
            auto procs = read_file(d + "/cgroup.procs");
            if (!procs) continue;  // group already gone
            for (const auto& w : words(*procs)) {
                pid_t pid = 0;
                auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), pid);
                if (ec != std::errc() || pid <= 0) continue;  // never kill(0) or kill(-1)
                empty = false;
                ::kill(pid, SIGKILL);
            }
        }
        if (empty) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// Sweeps `base` while its lock is held by the caller.
std::vector<std::string> sweep_locked(const std::string& base, std::vector<std::string>* left = nullptr) {
    std::vector<std::string> removed;
    for (const auto& name : subdir_names(base)) {
        std::string dir = base + "/" + name;
        UniqueFd fd(open_dir(dir));
        // A held lock means a live supervisor owns the group.
        if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
        if (destroy_group(dir)) removed.push_back(name);
        // (Gone: its supervisor removed it between our listing and our lock.)
        else if (left && errno != ENOENT) left->push_back(dir + ": " + std::strerror(errno));
    }
    return removed;
}

}  // namespace

// ---- file I/O ---------------------------------------------------------------

std::optional<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path.c_str()); }

int write_file(const std::string& path, const std::string& text) { return write_file_at(AT_FDCWD, path.c_str(), text); }

std::optional<std::uint64_t> read_number(const std::string& path) { return read_number_at(AT_FDCWD, path.c_str()); }

std::optional<std::string> read_file_at(int dir_fd, const char* name) {
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

int write_file_at(int dir_fd, const char* name, const std::string& text) {
    UniqueFd fd(::openat(dir_fd, name, O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    ssize_t n;
    do n = ::write(fd.get(), text.data(), text.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    return n == static_cast<ssize_t>(text.size()) ? 0 : EIO;
}

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::optional<std::uint64_t> keyed_value(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        auto w = words(line);
        if (w.size() == 2 && w[0] == key) {
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), v);
            if (ec == std::errc() && p == w[1].data() + w[1].size()) return v;
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> read_number_at(int dir_fd, const char* name) {
    auto text = read_file_at(dir_fd, name);
    if (!text) return std::nullopt;
    auto w = words(*text);
    if (w.size() != 1) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(w[0].data(), w[0].data() + w[0].size(), v);
    if (ec != std::errc() || p != w[0].data() + w[0].size()) return std::nullopt;
    return v;
}

// ---- discovery ----------------------------------------------------------------

std::vector<Mount> parse_mountinfo(const std::string& text) {
    std::vector<Mount> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        // id parent maj:min root mount_point options [optional...] - fstype source super_options
        auto w = words(line);
        auto dash = std::find(w.begin(), w.end(), "-");
        if (w.size() < 5 || dash == w.end() || w.end() - dash < 4) continue;
        const std::string& fstype = dash[1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        out.push_back({unescape(w[3]), unescape(w[4]), fstype, split(dash[3], ',')});
    }
    return out;
}

std::vector<ProcCgroup> parse_proc_cgroup(const std::string& text) {
    std::vector<ProcCgroup> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        // id:controllers:path, and the path may itself contain ':'.
        auto c1 = line.find(':');
        if (c1 == std::string::npos) continue;
        auto c2 = line.find(':', c1 + 1);
        if (c2 == std::string::npos) continue;
        std::string ctrl = line.substr(c1 + 1, c2 - c1 - 1);
        out.push_back({line.substr(0, c1), ctrl.empty() ? std::vector<std::string>{} : split(ctrl, ','),
                       line.substr(c2 + 1)});
    }
    return out;
}

std::optional<std::string> dir_through(const Mount& m, const std::string& path) {
    if (path.empty() || path[0] != '/') return std::nullopt;
    std::string rest;
    if (m.root == "/") {
        rest = path;
    } else if (path == m.root) {
        rest = "/";
    } else if (path.compare(0, m.root.size(), m.root) == 0 && path[m.root.size()] == '/') {
        rest = path.substr(m.root.size());
    } else {
        return std::nullopt;
    }
    return rest == "/" ? m.mount_point : m.mount_point + rest;
}

Layout discover(const std::string& mountinfo, const std::string& proc_cgroup) {
    Layout layout;
    auto mounts = parse_mountinfo(mountinfo);
    auto own = parse_proc_cgroup(proc_cgroup);

    for (const auto& pc : own) {
        if (pc.hierarchy_id != "0" || !pc.controllers.empty()) continue;
        // In the leaf, an earlier create (or the operator) has moved us out of
        // our own cgroup: the one above is still ours to make runs in.
        std::string path = pc.path;
        auto slash = path.rfind('/');
        bool in_leaf = slash != std::string::npos && path.compare(slash + 1, std::string::npos, leaf_name) == 0;
        if (in_leaf) path = slash == 0 ? "/" : path.substr(0, slash);
        for (const auto& m : mounts) {
            if (m.fstype != "cgroup2") continue;
            auto dir = dir_through(m, path);
            if (!dir || !is_dir(*dir)) continue;
            layout.v2_parent_dir = *dir;
            layout.v2_controllers = words(read_file(*dir + "/cgroup.controllers").value_or(""));
            layout.v2_is_own = !in_leaf;
            break;
        }
    }

    std::vector<std::string> mount_points;  // parallel to layout.v1, to merge co-mounts
    for (const char* ctrl : {"memory", "pids", "cpuacct"}) {
        auto pc = std::find_if(own.begin(), own.end(), [&](const ProcCgroup& p) { return contains(p.controllers, ctrl); });
        if (pc == own.end()) continue;
        for (const auto& m : mounts) {
            if (m.fstype != "cgroup" || !contains(m.super_options, ctrl)) continue;
            auto dir = dir_through(m, pc->path);
            if (!dir || !is_dir(*dir)) continue;
            auto same = std::find(mount_points.begin(), mount_points.end(), m.mount_point);
            if (same != mount_points.end()) {
                layout.v1[static_cast<std::size_t>(same - mount_points.begin())].controllers.push_back(ctrl);
            } else {
                mount_points.push_back(m.mount_point);
                layout.v1.push_back({{ctrl}, m, *dir});
            }
            break;
        }
    }
    return layout;
}

Layout with_parent(const Layout& own, const std::string& mountinfo, const std::string& parent) {
    const std::string what = "cgroup parent \"" + parent + "\"";
    if (parent.empty()) throw Error("cgroup parent: empty path");
    Layout out;
    if (parent[0] != '/') {
        // Relative: beneath our own cgroup, in every hierarchy.
        for (const auto& part : split(parent, '/'))
            if (part == "..") throw Error(what + ": \"..\" would leave our own cgroup");
        out = own;
        out.v2_is_own = false;
        if (out.v2_parent_dir) {
            std::string dir = *out.v2_parent_dir + "/" + parent;
            out.v2_parent_dir.reset();
            out.v2_controllers.clear();
            if (is_dir(dir)) {
                out.v2_parent_dir = dir;
                out.v2_controllers = words(read_file(dir + "/cgroup.controllers").value_or(""));
            }
        }
        for (auto& h : out.v1) h.parent_dir += "/" + parent;
    } else {
        char* real = ::realpath(parent.c_str(), nullptr);
        if (!real) throw sys_error("cgroup parent", parent);
        std::string path = real;
        std::free(real);
        // The innermost cgroup mount holding it.
        std::optional<Mount> at;
        for (auto& m : parse_mountinfo(mountinfo)) {
            const std::string& mp = m.mount_point;
            bool holds = mp == "/" || path == mp || (path.compare(0, mp.size(), mp) == 0 && path[mp.size()] == '/');
            if (holds && (!at || mp.size() > at->mount_point.size())) at = std::move(m);
        }
        if (!at)
            throw Error(what + ": " + path + " is on no cgroup or cgroup2 mount (see /proc/self/mountinfo)");
        if (at->fstype == "cgroup2") {
            out.v2_parent_dir = path;
            out.v2_controllers = words(read_file(path + "/cgroup.controllers").value_or(""));
        } else {
            // v1: the same cgroup path in each hierarchy, as systemd lays out
            // a unit (memory/judge, pids/judge, cpu,cpuacct/judge).
            std::string rest = at->mount_point == "/" ? path : path.substr(at->mount_point.size());
            std::string cgroup = at->root == "/" ? (rest.empty() ? "/" : rest) : at->root + rest;
            for (V1Hierarchy h : own.v1) {
                auto dir = dir_through(h.mount, cgroup);
                if (!dir)
                    throw Error(what + ": cgroup " + cgroup + " is not visible through " + h.mount.mount_point);
                h.parent_dir = *dir;
                out.v1.push_back(std::move(h));
            }
        }
    }
    switch (choose(out)) {
    case Version::v2:
        if (!is_dir(*out.v2_parent_dir)) throw Error(what + ": " + *out.v2_parent_dir + " is not a directory");
        break;
    case Version::v1:
        for (const auto& h : out.v1)
            if (!is_dir(h.parent_dir))
                throw Error(what + ": " + h.parent_dir +
                            (access(h.parent_dir.c_str(), F_OK) == 0 ? " is not a directory" : " does not exist") +
                            " (on cgroup v1 the parent must be a group in each of the memory, pids and cpuacct "
                            "hierarchies)");
        break;
    case Version::none:
        throw Error(what + ": no cgroup2 directory or v1 memory/pids/cpuacct hierarchy has it");
    }
    return out;
}

Version choose(const Layout& layout) {
    auto has_all = [&] {
        for (const char* c : {"memory", "pids", "cpu"})
            if (!contains(layout.v2_controllers, c)) return false;
        return true;
    };
    if (layout.v2_parent_dir && has_all()) return Version::v2;
    if (!layout.v1.empty()) return Version::v1;
    // Pure v2 with some controllers missing: still the only place to measure.
    if (layout.v2_parent_dir) return Version::v2;
    return Version::none;
}

std::vector<std::string> base_dirs(const Layout& layout) {
    std::vector<std::string> out;
    if (layout.v2_parent_dir) out.push_back(*layout.v2_parent_dir + "/" + base_name);
    for (const auto& h : layout.v1) out.push_back(h.parent_dir + "/" + base_name);
    return out;
}

// ---- group directories ------------------------------------------------------------

GroupDir::~GroupDir() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

namespace {

// A sweep holds the base's lock exclusively for a moment. Longer is someone
// else (a process that opened the base before it was made 0700): the run
// fails instead of hanging, and a stop signal the supervisor holds ends the
// wait (flock would sleep through it).
void lock_base_shared(int fd, const std::string& base) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) throw sys_error("cgroup: flock", base);
        sigset_t pending;
        sigpending(&pending);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
            if (sigismember(&pending, sig) == 1)
                throw Error("cgroup: " + base + ": stopped by a signal while waiting for its lock");
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error("cgroup: " + base + ": its lock has been held for 10 s by another process (see fuser -v " + base + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

GroupDir make_group(const std::string& parent_dir, const std::string& run_id) {
    std::string base = parent_dir + "/" + base_name;
    if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error("cgroup: mkdir", base);
    UniqueFd base_fd(open_dir(base));
    if (base_fd.get() < 0) throw sys_error("cgroup: open", base);
    // Anyone who can open a group directory can flock it: the base is ours
    // alone (one an older sandboxrun made 0755 too).
    if (struct stat st {}; ::fstat(base_fd.get(), &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 077) != 0)
        ::fchmod(base_fd.get(), 0700);
    // The base lock orders creators (shared) against sweepers (exclusive): a
    // sweeper never sees a group between its mkdir and its lock.
    if (::flock(base_fd.get(), LOCK_EX | LOCK_NB) == 0) sweep_locked(base);
    lock_base_shared(base_fd.get(), base);

    std::string dir = base + "/" + run_id;
    if (::mkdir(dir.c_str(), 0755) != 0)
        throw sys_error(errno == EAGAIN ? "cgroup: mkdir (cgroup.max.depth or cgroup.max.descendants reached)"
                                        : "cgroup: mkdir",
                        dir, errno);
    UniqueFd fd(open_dir(dir));
    if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::rmdir(dir.c_str());
        throw sys_error("cgroup: lock", dir, err);
    }
    return GroupDir(dir, fd.release());
}

std::vector<std::string> sweep(const std::string& base_dir, bool wait, std::vector<std::string>* left) {
    UniqueFd fd(open_dir(base_dir));
    if (fd.get() < 0) return {};
    if (::flock(fd.get(), wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) return {};
    return sweep_locked(base_dir, left);
}

bool kill_until_empty(const std::string& dir, std::chrono::milliseconds budget) {
    std::vector<std::string> dirs;
    child_groups(dir, dirs);
    dirs.push_back(dir);
    return kill_in(dirs, budget);
}

bool is_root_cgroup(const std::string& dir) {
    return ::access((dir + "/cgroup.type").c_str(), F_OK) != 0 && errno == ENOENT;
}

bool destroy_group(const std::string& dir) {
    // The usual case, one syscall: every task is gone and no child group was made.
    if (::rmdir(dir.c_str()) == 0) return true;
    std::vector<std::string> dirs;
    child_groups(dir, dirs);
    dirs.push_back(dir);
    kill_in(dirs, empty_budget);
    for (const auto& d : dirs)
        if (::rmdir(d.c_str()) != 0 && d == dir) return false;
    return true;
}

namespace {

// The least limit in `file` of the cgroups from `dir` up ("max" holds
// nothing), and the cgroup that sets it.
std::optional<std::pair<std::uint64_t, std::string>> least_above(const std::string& dir, const char* file) {
    std::optional<std::pair<std::uint64_t, std::string>> least;
    for (std::string d = dir; !d.empty() && ::access((d + "/" + file).c_str(), F_OK) == 0; d.resize(d.rfind('/')))
        if (auto v = read_number(d + "/" + file); v && (!least || *v < least->first)) least = {{*v, d}};
    return least;
}

}  // namespace

void GroupBase::note_held(const std::string& dir, const char* memory_file, const char* pids_file, const Limits& limits,
                          std::vector<std::string>& warnings) {
    // The run would meet that limit instead, with the report naming its own.
    const auto held = [&](const char* file, const char* what, std::uint64_t limit, std::uint64_t shown) {
        auto least = file ? least_above(dir, file) : std::nullopt;
        if (!least || least->first >= limit) return std::optional<std::uint64_t>();
        warnings.push_back(fmt::format("{}: {}/{} holds the run (and what else is beneath it) to {}, below its limit "
                                       "of {}", what, least->second, file, least->first, shown));
        return std::optional(least->first);
    };
    if (limits.memory)
        if (auto at = held(memory_file, "memory", *limits.memory, *limits.memory)) memory_held_at = at;
    if (limits.processes) held(pids_file, "processes", *limits.processes + 1, *limits.processes);   // (+ pid 1, ours)
}

// The kernel moves a process between v2 cgroups only for a writer of
// cgroup.procs in the nearest cgroup holding both: a --cgroup-parent in a
// subtree delegated to the user, used from outside it (a login session's
// scope), would fail every run after its group was made.
std::optional<std::string> cannot_move(const std::string& from, const std::string& to) {
    std::string common = from;
    while (!common.empty() && to != common && !to.starts_with(common + "/")) common.resize(common.rfind('/'));
    if (common.empty() || ::access((common + "/cgroup.procs").c_str(), W_OK) == 0) return std::nullopt;
    return fmt::format("cgroup: cannot move the run into {}: the kernel asks for write access to cgroup.procs of {}, "
                       "the nearest cgroup holding both it and ours ({}): {}; no cgroup limits. Start sandboxrun "
                       "within that subtree, or give a --cgroup-parent beneath its own cgroup",
                       to, common, from, std::strerror(errno));
}

}  // namespace cgroup_detail

using namespace cgroup_detail;

std::unique_ptr<Cgroup> Cgroup::create(const Limits& limits, const std::string& run_id,
                                       std::vector<std::string>& warnings,
                                       const std::optional<std::string>& parent) {
    if (run_id.empty() || run_id == "." || run_id == ".." || run_id.find('/') != std::string::npos)
        throw Error("cgroup: invalid run id '" + run_id + "'");
    auto mountinfo = read_file("/proc/self/mountinfo");
    auto own = mountinfo ? read_file("/proc/self/cgroup") : std::nullopt;
    if (!own) {
        warnings.push_back(std::string("cgroup: cannot read /proc/self/mountinfo or /proc/self/cgroup: ") +
                           std::strerror(errno) + "; no cgroup limits");
        return nullptr;
    }
    Layout layout = discover(*mountinfo, *own);
    const std::optional<std::string> own_v2 = layout.v2_parent_dir;
    if (parent) layout = with_parent(layout, *mountinfo, *parent);
    switch (choose(layout)) {
    case Version::v2:
        if (parent && own_v2)
            if (auto why = cannot_move(*own_v2, *layout.v2_parent_dir)) {
                warnings.push_back(*why);
                return nullptr;
            }
        return create_v2(*layout.v2_parent_dir, layout.v2_is_own, layout.v2_controllers, limits, run_id, warnings);
    case Version::v1:
        return create_v1(layout.v1, limits, run_id, warnings);
    case Version::none:
        break;
    }
    warnings.push_back("cgroup: no cgroup2 mount shows this process's cgroup and no v1 memory/pids/cpuacct "
                       "hierarchy is mounted (see /proc/self/mountinfo); no cgroup limits");
    return nullptr;
}

int cleanup_stale_cgroups(const std::optional<std::string>& parent, std::vector<std::string>* left) {
    auto mountinfo = read_file("/proc/self/mountinfo");
    auto own = read_file("/proc/self/cgroup");
    if (!mountinfo || !own) return 0;
    Layout layout = discover(*mountinfo, *own);
    auto bases = base_dirs(layout);
    if (parent)
        for (auto& b : base_dirs(with_parent(layout, *mountinfo, *parent))) bases.push_back(std::move(b));
    std::set<std::string> removed;  // a v1 run has one directory per hierarchy
    for (const auto& base : bases)
        for (auto& name : sweep(base, true, left)) removed.insert(std::move(name));
    return static_cast<int>(removed.size());
}

}  // namespace sandboxrun
