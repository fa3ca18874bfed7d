// The sandbox's filesystem: a fresh tmpfs root holding only what the policy
// binds, a new /proc for the run's pid namespace, a minimal /dev, then
// pivot_root with the old root detached. Planned as data first (testable and
// printable without privilege), applied by one function in the child.
#include <fcntl.h>
#include <dirent.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

constexpr std::uint64_t default_shm_size = 64ull << 20;
constexpr const char* dev_nodes[] = {"null", "zero", "full", "random", "urandom"};
// procfs entries a sandboxed program has no business writing to.
// (pressure: a PSI trigger written there watches the whole host, a channel between runs.)
constexpr const char* proc_read_only[] = {"sys", "sysrq-trigger", "irq", "bus", "fs", "keys", "pressure"};
// procfs files that show the whole host (kernel memory, every task's timers and
// scheduling): hidden under /dev/null, which nodev makes unopenable.
// keys, key-users: unprivileged the run is the caller's uid, which may view
// the caller's keys (a judge's token) by their default permissions.
constexpr const char* proc_masked[] = {"kcore",         "timer_list", "timer_stats", "sched_debug",
                                       "latency_stats", "keys",       "key-users"};

std::size_t depth(const std::string& path) {
    return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

// "/usr/lib" -> "usr/lib": paths relative to the new root while it is our cwd.
std::string rel(const std::string& target) {
    std::string r = target;
    r.erase(0, r.find_first_not_of('/'));
    return r.empty() ? "." : r;
}

void mkdir_p(const std::string& path, mode_t mode = 0755) {
    for (std::size_t pos = 0; pos != std::string::npos;) {
        pos = path.find('/', pos + 1);
        std::string part = path.substr(0, pos);
        if (part == "." || part.empty()) continue;
        if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) throw sys_error("mounts: mkdir", "/" + part);
    }
}

void mkdir_parent(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) mkdir_p(path.substr(0, slash));
}

// Creates what a mount needs to sit on: a directory, or an empty file for a file bind.
void make_mountpoint(const std::string& path, bool directory) {
    mkdir_parent(path);
    if (directory) {
        mkdir_p(path);
        return;
    }
    // One already there may lie in a read-only bind (a file bound over its own
    // copy in a bound /etc): opening it for writing would fail.
    if (struct stat st {}; stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) return;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) throw sys_error("mounts: create mount point", "/" + path);
    if (fd >= 0) close(fd);
}

void set_attrs(int fd, const std::string& what, std::uint64_t attrs, int userns_fd = -1) {
    mount_attr attr{};
    attr.attr_set = attrs;
    if (userns_fd >= 0) attr.userns_fd = static_cast<std::uint64_t>(userns_fd);
    if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        throw sys_error("mounts: mount_setattr", what);
}

// A sized tmpfs also gets an inode cap, one per 4 KiB of its size (at least
// 1024): empty files take no size, but each holds an inode and a dentry of
// kernel memory, which RLIMIT_AS never sees (the host's slab grew by 1 GB
// under --memory 64MiB).
void mount_tmpfs(const std::string& path, const std::string& shown, std::uint64_t size, const char* mode) {
    std::string opts = std::string("mode=") + mode;
    if (size) opts += fmt::format(",size={},nr_inodes={}", size, std::max<std::uint64_t>(1024, size / 4096));
    if (mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
        throw sys_error("mounts: mount tmpfs", shown);
}

void move_into(int fd, const std::string& path, const std::string& shown) {
    if (move_mount(fd, "", AT_FDCWD, path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0) return;
    const int err = errno;
    struct stat from {}, onto {};
    if (err == EINVAL && fstat(fd, &from) == 0 && stat(path.c_str(), &onto) == 0 &&
        S_ISDIR(from.st_mode) != S_ISDIR(onto.st_mode))
        throw Error(fmt::format("mounts: {}: a {} cannot be bound where the sandbox has a {}", shown,
                                S_ISDIR(from.st_mode) ? "directory" : "file", S_ISDIR(onto.st_mode) ? "directory" : "file"));
    throw sys_error("mounts: move_mount", shown, err);
}

// Re-binds a path onto itself read-only (masks /proc/sys and friends).
void self_bind_read_only(const std::string& path) {
    int fd = open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) {
        if (errno == ENOENT) return;
        throw sys_error("mounts: open_tree", "/" + path);
    }
    set_attrs(fd, "/" + path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    move_into(fd, path, "/" + path);
    close(fd);
}

void mount_proc(const std::string& path) {
    mkdir_p(path);
    const auto flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    // hidepid=invisible: a process sees only what it could ptrace; fall back
    // on kernels that refuse the option inside a user namespace.
    if (mount("proc", path.c_str(), "proc", flags, "hidepid=invisible") != 0 &&
        mount("proc", path.c_str(), "proc", flags, nullptr) != 0) {
        if (errno == EPERM)   // the kernel's rule for a procfs in a user namespace
            throw Error("mounts: mount proc: /proc: Operation not permitted: the kernel mounts a fresh /proc in a "
                        "user namespace only where the host's /proc is fully visible, and here parts of it are "
                        "covered (a container's masked /proc/sys, /proc/kcore...): run sandboxrun where /proc is "
                        "unmasked (docker: --security-opt systempaths=unconfined) or use a profile with "
                        "filesystem.proc = false");
        throw sys_error("mounts: mount proc", "/proc");
    }
    for (const char* entry : proc_read_only) self_bind_read_only(path + "/" + entry);
    for (const char* entry : proc_masked) {
        std::string file = path + "/" + entry;
        struct stat st {};
        if (lstat(file.c_str(), &st) != 0) continue;   // this kernel has no such file
        int fd = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);   // the host's, before pivot_root
        if (fd < 0) throw sys_error("mounts: open_tree", "/dev/null");
        set_attrs(fd, "/proc/" + std::string(entry), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        move_into(fd, file, "/proc/" + std::string(entry));
        close(fd);
    }
}

void mount_dev(const std::string& path, bool with_shm, const std::vector<int>& node_fds) {
    // A directory of the root's tmpfs, read-only with it: a tmpfs of its own
    // would cost a superblock made and torn down per run.
    mkdir_p(path);
    for (std::size_t i = 0; i < std::size(dev_nodes); ++i) {
        std::string node = path + "/" + dev_nodes[i];
        make_mountpoint(node, false);
        move_into(node_fds[i], node, "/dev/" + std::string(dev_nodes[i]));
    }
    const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}};
    for (auto [to, name] : links)
        if (symlink(to, (path + "/" + name).c_str()) != 0) throw sys_error("mounts: symlink", "/dev/" + std::string(name));
    if (with_shm) {
        mkdir_p(path + "/shm");
        mount_tmpfs(path + "/shm", "/dev/shm", default_shm_size, "1777");
    }
}

// Writes a file into the new root's own tmpfs, unless a bind already
// provides its path or its directory (never into a bound host directory).
void write_into_root(const std::string& path, const std::string& content) {
    mkdir_parent(path);
    struct stat root {}, dir {};
    const std::string parent = path.substr(0, path.rfind('/'));
    if (stat(".", &root) != 0) throw sys_error("mounts: stat", "/");
    // (A link the profile put there, resolved or dangling, is the profile's.)
    if (lstat(parent.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode) || dir.st_dev != root.st_dev) return;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        if (errno == EEXIST) return;
        throw sys_error("mounts: create", "/" + path);
    }
    UniqueFd owned(fd);
    if (write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        throw sys_error("mounts: write", "/" + path);
}

}  // namespace

namespace {

// A bind op's source opened on the host with `flags`: beneath a directory
// runs can write by the rules of host_files.cpp, elsewhere by its path.
int open_source(const MountOp& op, int flags) {
    return op.beneath ? openat_beneath(*op.beneath, flags) : open(op.source.c_str(), flags | O_CLOEXEC);
}

}  // namespace

int open_bind_tree(const MountOp& op, int idmap_userns) {
    const std::string& source = op.source;
    int fd = -1;
    if (op.beneath) {   // resolved again here, in this mount namespace, by the same rules
        UniqueFd pinned(openat_beneath(*op.beneath, O_PATH));
        if (pinned.get() < 0) return -1;
        fd = open_tree(pinned.get(), "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    } else {
        fd = open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    }
    if (fd < 0) return -1;
    std::uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (!op.writable) attrs |= MOUNT_ATTR_RDONLY;
    try {
        set_attrs(fd, source, attrs);
        // The idmap goes on the top mount only: submounts of the source keep their own owners.
        if (idmap_userns >= 0) {
            mount_attr attr{};
            attr.attr_set = MOUNT_ATTR_IDMAP;
            attr.userns_fd = static_cast<std::uint64_t>(idmap_userns);
            if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
                int err = errno;
                close(fd);
                errno = err;
                return -1;
            }
        }
    } catch (...) {
        close(fd);
        throw;
    }
    return fd;
}

MountPlan plan_mounts(const Policy& policy, const std::string& host_cwd) {
    const Filesystem& fs = policy.fs;
    MountPlan plan;
    const WritableDirs writable(policy);
    for (const Bind& b : fs.binds) {
        // A source beneath a directory runs can write is pinned now, resolved
        // without symlinks: an earlier run may have turned a directory on its
        // way into a link to anywhere on the host.
        std::optional<WritablePath> where = writable.find(b.source);
        UniqueFd pinned;
        if (where) {
            if (b.optional && access(b.source.c_str(), F_OK) != 0 && errno == ENOENT) continue;
            pinned = open_beneath(*where, O_PATH, (b.origin + ": bind source").c_str(), b.source);
        }
        struct stat st {};
        if ((pinned.get() >= 0 ? fstat(pinned.get(), &st) : lstat(b.source.c_str(), &st)) != 0) {
            if (b.optional) continue;
            throw sys_error(b.origin + ": bind source", b.source);
        }
        if (S_ISLNK(st.st_mode)) {
            // Merged-/usr links (/bin -> usr/bin) are recreated, not followed, so
            // the sandbox sees the same layout as the host.
            char buf[PATH_MAX];
            ssize_t n = pinned.get() >= 0 ? readlinkat(pinned.get(), "", buf, sizeof buf - 1)
                                          : readlink(b.source.c_str(), buf, sizeof buf - 1);
            if (n < 0) throw sys_error(b.origin + ": readlink", b.source);
            MountOp op{MountOp::Kind::symlink, std::string(buf, static_cast<std::size_t>(n)), b.target};
            op.origin = b.origin;
            plan.ops.push_back(op);
            continue;
        }
        MountOp op{MountOp::Kind::bind, b.source, b.target, b.writable, b.optional};
        op.beneath = where;
        if (b.writable) {
            op.mode = plan.modes.emplace_back(st).mode();
            op.mode_shared = plan.modes.back().shared();
        }
        op.origin = b.origin;
        plan.ops.push_back(op);
    }
    if (fs.cwd != CwdMode::none) {
        MountOp op{MountOp::Kind::bind, host_cwd, fs.workdir, fs.cwd == CwdMode::rw};
        // Read-only too: the run reads what the owner may (a mkdtemp 0700 dir,
        // a 0600 submission), as it does in rw mode.
        op.owner_mapped = true;
        // Inside another writable bind's source, a run may move it away and
        // leave a link at its name: it too is opened beneath that directory.
        op.beneath = writable.find(host_cwd);
        struct stat st {};
        if (op.writable && stat(host_cwd.c_str(), &st) == 0) {
            op.mode = plan.modes.emplace_back(st).mode();
            op.mode_shared = plan.modes.back().shared();
        }
        plan.ops.push_back(op);
    }
    bool shm_listed = false;
    for (const Tmpfs& t : fs.tmpfs) {
        MountOp op{MountOp::Kind::tmpfs, "", t.target};
        op.size = t.size;
        op.origin = t.origin;
        plan.ops.push_back(op);
        shm_listed = shm_listed || t.target == "/dev/shm";
    }
    if (fs.proc) plan.ops.push_back({MountOp::Kind::proc, "", "/proc"});
    // The dev op carries whether it must make its own /dev/shm in `writable`.
    plan.ops.push_back({MountOp::Kind::dev, "", "/dev", !shm_listed});
    if (fs.dev_pts) plan.ops.push_back({MountOp::Kind::devpts, "", "/dev/pts"});
    if (fs.sys) plan.ops.push_back({MountOp::Kind::sys, "/sys", "/sys"});
    // Parents before children, whatever order the profile listed them in.
    std::stable_sort(plan.ops.begin(), plan.ops.end(),
                     [](const MountOp& a, const MountOp& b) { return depth(a.target) < depth(b.target); });
    plan.chdir = fs.chdir.value_or(fs.cwd == CwdMode::none ? "/" : fs.workdir);
    const Identity run;   // the ids every run has inside its namespace
    // (A HOME holding the file's separators would add entries of its own.)
    auto home = policy.env.set.find("HOME");
    if (home != policy.env.set.end() && home->second.find_first_of(":\n") != std::string::npos) home = policy.env.set.end();
    plan.files = {
        {"/etc/passwd", fmt::format("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                    "sandbox:x:{}:{}:sandbox:{}:/bin/sh\n"
                                    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                                    run.inside_uid, run.inside_gid,
                                    home != policy.env.set.end() ? home->second : plan.chdir)},
        {"/etc/group", fmt::format("root:x:0:\nsandbox:x:{}:\nnogroup:x:65534:\n", run.inside_gid)},
    };
    return plan;
}

void close_prepared(MountPlan& plan) {
    for (MountOp& op : plan.ops)
        if (op.fd >= 0) {
            close(op.fd);
            op.fd = -1;
        }
    for (auto& e : plan.idmaps) close(e.second);
    plan.idmaps.clear();
    for (pid_t pid : plan.idmap_helpers) waitpid(pid, nullptr, 0);
    plan.idmap_helpers.clear();
}

void apply_mounts(const MountPlan& plan) {
    // Nothing we mount from here on may propagate back to the host.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) throw sys_error("mounts: make / private");

    // Open every bind source while the host's tree is still visible.
    std::vector<int> fds(plan.ops.size(), -1);
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const MountOp& op = plan.ops[i];
        if (op.kind != MountOp::Kind::bind && op.kind != MountOp::Kind::sys) continue;
        fds[i] = op.fd >= 0 ? op.fd : open_bind_tree(op, -1);
        if (fds[i] < 0 && !(op.optional && errno == ENOENT)) throw sys_error("mounts: bind " + op.target + " from", op.source);
    }
    std::vector<int> node_fds;
    for (const char* node : dev_nodes) {
        std::string src = std::string("/dev/") + node;
        // Not open_bind_tree: its nodev would make every open of the node fail (EACCES).
        int fd = open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0) throw sys_error("mounts: bind", src);
        node_fds.push_back(fd);
        set_attrs(fd, src, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    }

    // Build the new root in a tmpfs mounted over /tmp of our private copy of
    // the host tree: every source is already open, so what it hides is moot.
    mount_tmpfs("/tmp", "/ (new root)", 1 << 20, "0755");
    if (chdir("/tmp") != 0) throw sys_error("mounts: chdir", "new root");
    for (std::size_t i = 0; i < plan.ops.size(); ++i) try {
        const MountOp& op = plan.ops[i];
        std::string path = rel(op.target);
        switch (op.kind) {
            case MountOp::Kind::bind:
            case MountOp::Kind::sys: {
                if (fds[i] < 0) break;   // optional and missing
                struct stat st {};
                if (fstat(fds[i], &st) != 0) throw sys_error("mounts: fstat", op.source);
                make_mountpoint(path, S_ISDIR(st.st_mode));
                move_into(fds[i], path, op.target);
                break;
            }
            case MountOp::Kind::symlink: {
                mkdir_parent(path);
                if (symlink(op.source.c_str(), path.c_str()) != 0 && errno != EEXIST)
                    throw sys_error("mounts: symlink", op.target);
                break;
            }
            case MountOp::Kind::tmpfs:
                mkdir_p(path);
                mount_tmpfs(path, op.target, op.size, "1777");
                break;
            case MountOp::Kind::proc: mount_proc(path); break;
            case MountOp::Kind::dev: mount_dev(path, op.writable, node_fds); break;
            case MountOp::Kind::devpts: {
                mkdir_p(path);
                // (max: the ptys of every devpts instance but the host's come
                // from one pool, kernel.pty.max; one run could take them all.)
                if (mount("devpts", path.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                          "newinstance,ptmxmode=0666,mode=0620,max=64") != 0)
                    throw sys_error("mounts: mount devpts", op.target);
                if (symlink("pts/ptmx", "dev/ptmx") != 0) throw sys_error("mounts: symlink", "/dev/ptmx");
                break;
            }
        }
    } catch (const Error& e) {
        // Named where the profile or option asked for it.
        if (plan.ops[i].origin.empty()) throw;
        throw Error(plan.ops[i].origin + ": " + e.what(), e.exit_code());
    }
    for (int fd : fds)
        if (fd >= 0) close(fd);
    for (int fd : node_fds) close(fd);
    for (const auto& [target, content] : plan.files) write_into_root(rel(target), content);

    // pivot_root(".", ".") stacks the old root under the new one; detaching
    // it leaves no path back to the host's tree.
    if (syscall(SYS_pivot_root, ".", ".") != 0) throw sys_error("mounts: pivot_root");
    if (umount2(".", MNT_DETACH) != 0) throw sys_error("mounts: detach old root");
    if (chdir("/") != 0) throw sys_error("mounts: chdir", "/");
    if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
        throw sys_error("mounts: remount read-only", "/");
}

}  // namespace sandboxrun

namespace sandboxrun {

namespace {

int idmap_for(MountPlan& plan, const struct stat& st, const Identity& id) {
    const auto owner = std::make_pair(st.st_uid, st.st_gid);
    auto it = std::find_if(plan.idmaps.begin(), plan.idmaps.end(), [&](auto& e) { return e.first == owner; });
    if (it == plan.idmaps.end())
        it = plan.idmaps.insert(plan.idmaps.end(), {owner, idmap_userns(st.st_uid, st.st_gid, id, plan.idmap_helpers)});
    return it->second;
}

}  // namespace

std::vector<std::string> prepare_binds(MountPlan& plan, const Identity& id) {
    std::vector<std::string> warnings;
    for (MountOp& op : plan.ops) {
        if (op.kind != MountOp::Kind::bind) continue;
        int ns = -1;
        struct stat st {};
        bool owner_known = false;
        if (op.writable || op.owner_mapped) {
            UniqueFd src(open_source(op, O_PATH));
            owner_known = src.get() >= 0 && fstat(src.get(), &st) == 0;
        }
        if (owner_known) ns = idmap_for(plan, st, id);
        op.fd = open_bind_tree(op, ns);
        // (Out of descriptors or memory is that, not a file system without idmapped mounts.)
        const bool no_idmap = op.fd < 0 && ns >= 0 && (errno == EINVAL || errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS);
        if (no_idmap && !op.writable) {
            // The run reads as others then, where it would have been the owner.
            warnings.push_back(fmt::format("bind {}: no idmapped mount ({}): the run reads it as others, not as "
                                           "its owner", op.target, std::strerror(errno)));
            op.fd = open_bind_tree(op, -1);
        }
        if (no_idmap && op.fd < 0) {
            const std::string why = std::strerror(errno);
            // Without the idmap the run writes as its own host uid: a bind it
            // cannot write would fail every compile step quietly (overlayfs,
            // a container's root, takes no idmapped mount).
            const bool writable = (st.st_uid == id.host_uid && (st.st_mode & S_IWUSR)) ||
                                  (st.st_gid == id.host_gid && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH);
            if (!writable) {
                close_prepared(plan);
                throw Error(fmt::format("mounts: bind {}: {} takes no idmapped mount on its file system ({}), and the run "
                                        "(host uid {}) cannot write it (owner uid {}, mode {:04o}): use a directory on "
                                        "ext4, xfs, btrfs or tmpfs (Linux 6.3+), one the --uid-range uids may write, or "
                                        "--cwd-mode ro",
                                        op.target, op.source, why, id.host_uid, st.st_uid, st.st_mode & 07777));
            }
            warnings.push_back("bind " + op.target + ": no idmapped mount (" + why +
                               "): files the run writes there belong to host uid " + std::to_string(id.host_uid));
            op.fd = open_bind_tree(op, -1);
        }
        if (op.fd < 0 && !(op.optional && errno == ENOENT)) {
            int err = errno;
            close_prepared(plan);
            throw sys_error("mounts: bind " + op.target + " from", op.source, err);
        }
        // A compile there would fail as the program's error (a file system
        // the kernel remounted read-only after an I/O error fails every one).
        if (struct statvfs vfs {}; op.writable && op.fd >= 0 && fstatvfs(op.fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
            close_prepared(plan);
            throw Error(fmt::format("mounts: bind {}: {} is on a read-only mount, and the bind is to be writable "
                                    "(for a step that writes nothing there: --cwd-mode ro, or a read-only bind)",
                                    op.target, op.source));
        }
    }
    return warnings;
}

namespace {

// `fd` replaced by its file opened again through `tree`, a detached clone of
// its mount, once `attr` is set there (at the same offset, with the same
// close-on-exec flag: an inherited fd 0 stays open); false, and `fd` left as
// it is, where that fails.
bool reopen_through(int fd, const UniqueFd& tree, mount_attr attr, int access) {
    if (tree.get() < 0 || mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return false;
    UniqueFd again(open(fmt::format("/proc/self/fd/{}", tree.get()).c_str(), access | O_NOCTTY | O_CLOEXEC));
    struct stat was {}, now {};
    if (again.get() < 0 || fstat(fd, &was) != 0 || fstat(again.get(), &now) != 0 || was.st_dev != now.st_dev ||
        was.st_ino != now.st_ino)
        return false;   // (a clone by path names another file by now)
    if (S_ISREG(was.st_mode)) lseek(again.get(), lseek(fd, 0, SEEK_CUR), SEEK_SET);
    return dup3(again.get(), fd, (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0;
}

}  // namespace

void reopen_read_only(int fd) {
    char path[PATH_MAX];
    const ssize_t n = readlink(fmt::format("/proc/self/fd/{}", fd).c_str(), path, sizeof path - 1);
    if (n <= 0 || path[0] != '/') return;   // (a deleted file, or no path at all)
    path[n] = '\0';
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    reopen_through(fd, UniqueFd(open_tree(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)),
                   attr, O_RDONLY);   // (left as it is where it cannot be)
}

bool let_run_reopen(int fd, bool ours, MountPlan& plan, const Identity& id) {
    struct stat st {};
    struct statfs sfs {};
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fstat(fd, &st) != 0 || fstatfs(fd, &sfs) != 0 || st.st_uid == id.host_uid) return true;
    const bool reads = (flags & O_ACCMODE) != O_WRONLY, writes = (flags & O_ACCMODE) != O_RDONLY;
    const mode_t needed = (reads ? S_IROTH : 0) | (writes ? S_IWOTH : 0);
    if ((st.st_mode & needed) == needed) return true;
    // A caller's pipe (`echo 1 | sandboxrun`, a judge's subprocess pipes) is
    // root's, mode 0600. Nothing reaches an anonymous pipe by a path but
    // through /proc of a process holding it: its mode gates that reopen only.
    if (sfs.f_type == PIPEFS_MAGIC) {
        fchmod(fd, (st.st_mode & 07777) | needed);
        return true;
    }
    // A file the caller passed stays as it is: a new open file would not
    // share its offset with the caller's.
    if (!ours || !S_ISREG(st.st_mode)) return true;
    UniqueFd tree(open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (tree.get() < 0) return false;
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                    (writes ? 0 : MOUNT_ATTR_RDONLY);
    attr.userns_fd = static_cast<std::uint64_t>(idmap_for(plan, st, id));
    return reopen_through(fd, tree, attr, flags & O_ACCMODE);   // (false on a file system without idmaps)
}

}  // namespace sandboxrun

namespace sandboxrun {

namespace {

// Clears setuid/setgid on regular files below the directory `fd` (which it
// takes over), by fds and names only: a run still alive in the same
// directory (a concurrent one) may swap a directory for a link at any time,
// and a path resolved again from the top would follow it out. Never through
// a symlink, never onto another file system, at most 128 levels deep (the
// run cannot make setid files: this is the second line). setgid without
// group execute is mandatory locking, not privilege. Only what changed since
// the run began (inode change time, which no one can set back): the host's
// own setuid programs in a writable bind are not the run's. On the way, notes
// a file whose data the run changed that is exactly --file-size long.
struct Walk {
    dev_t dev;
    timespec began;
    timespec written_after;
    std::optional<std::uint64_t> file_size;
    AfterRun& done;
    // Entries left to look at: a run can plant hundreds of thousands of
    // hard links that every later run in the directory would walk (1.3 s).
    std::size_t budget = 100'000;
};

// Whether `t` is later than `began`.
bool since(const timespec& t, const timespec& began) {
    return t.tv_sec > began.tv_sec || (t.tv_sec == began.tv_sec && t.tv_nsec > began.tv_nsec);
}

void tidy_below(int fd, Walk& w, int depth) {
    DIR* d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while (const dirent* e = readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        if (w.budget == 0) break;
        --w.budget;
        struct stat st {};
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != w.dev) continue;
        if (S_ISDIR(st.st_mode) && depth < 128) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) tidy_below(sub, w, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        // Written after the run began, by the exact clock: the last run's file,
        // left at the limit within the clock tick this one began in, is not
        // this one's (a correct run was output_limit), nor one whose mtime a
        // run set ahead (utime; the inode change time it cannot). On a file
        // system with coarse timestamps what a run writes to the limit within
        // its first tick is missed: it reads as cut output, not as a verdict.
        const bool written = since(st.st_mtim, w.written_after) && since(st.st_ctim, w.written_after);
        if (w.file_size && written && static_cast<std::uint64_t>(st.st_size) == *w.file_size) w.done.file_at_limit = true;
        bool setid = (st.st_mode & S_ISUID) || ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP));
        if (setid && since(st.st_ctim, w.began) && fchmodat(dirfd(d), e->d_name, st.st_mode & 0777, AT_SYMLINK_NOFOLLOW) == 0) ++w.done.setid_cleared;
    }
    closedir(d);
}

}  // namespace

AfterRun tidy_writable_binds(const MountPlan& plan, timespec run_began, timespec written_after,
                             std::optional<std::uint64_t> file_size) {
    AfterRun done;
    for (const MountOp& op : plan.ops) {
        if (op.kind != MountOp::Kind::bind || !op.writable) continue;
        // Resolved again by the rules runs cannot bend: the run may have made
        // a directory on the source's way a link to elsewhere on the host. A
        // source it moved is still beneath the directory that held it, which
        // is walked too. The walk starts from the directory's fd.
        // (A file bound writable has only its mode to be put back.)
        UniqueFd source(open_source(op, O_PATH | O_NOFOLLOW));
        struct stat st {};
        if (source.get() < 0 || fstat(source.get(), &st) != 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) continue;
        // The mode first, through the fd (an O_PATH one has no fchmod): a run
        // that took its owner's read bit away (chmod . 0) would keep an
        // unprivileged supervisor out of the directory, the walk and the fix.
        const std::string by_fd = fmt::format("/proc/self/fd/{}", source.get());
        const mode_t put_back = ModeRecord::put_back(op.mode, op.mode_shared, st.st_mode & 07777);
        if (op.mode && (st.st_mode & 07777) != put_back && chmod(by_fd.c_str(), put_back) == 0)
            done.modes_restored.push_back(op.source);
        if (!S_ISDIR(st.st_mode)) continue;
        Walk walk{st.st_dev, run_began, written_after, file_size, done};
        if (int walked = open(by_fd.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); walked >= 0) tidy_below(walked, walk, 0);
        if (walk.budget == 0) done.walks_cut.push_back(op.source);
    }
    return done;
}

}  // namespace sandboxrun
