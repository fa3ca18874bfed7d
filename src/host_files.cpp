// Files sandboxrun opens on the host for a run: --stdin, --stdout, --stderr,
// --report, --meta. Often root opens them, in the invoking directory, which
// the run (and every earlier run in it) could write: a symlink, FIFO or
// directory link planted there must not make root write elsewhere on the host
// or block. So beneath any directory a run can write, the path is resolved
// without symlinks and must end in a regular file; elsewhere it is the
// operator's path and opened as given.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

std::optional<std::string> real_path(const std::string& path) {
    char buf[PATH_MAX];
    if (!realpath(path.c_str(), buf)) return std::nullopt;
    return std::string(buf);
}

// `path` is `root` or lies beneath it: the rest (without a leading '/').
std::optional<std::string> beneath(const std::string& path, const std::string& root) {
    if (path == root) return std::string();
    std::string prefix = root == "/" ? root : root + "/";
    if (path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    return path.substr(prefix.size());
}

// Host directories the run can write: the invoking directory unless it is
// bound read-only or not at all, and every writable bind's source.
std::vector<std::string> writable_roots(const Policy& policy, const std::string& cwd) {
    std::vector<std::string> roots;
    auto add = [&roots](const std::string& dir) {
        if (auto real = real_path(dir)) roots.push_back(*real);
    };
    if (policy.fs.cwd == CwdMode::rw) add(cwd);
    for (const Bind& b : policy.fs.binds)
        if (b.writable) add(b.source);
    return roots;
}

UniqueFd open_beneath(const std::string& root, const std::string& rest, int flags, const char* option,
                      const std::string& path) {
    UniqueFd dir(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) throw sys_error(option, root);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    how.mode = (flags & O_CREAT) ? 0644 : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    UniqueFd fd(static_cast<int>(syscall(SYS_openat2, dir.get(), rest.empty() ? "." : rest.c_str(), &how, sizeof how)));
    if (fd.get() < 0) {
        if (errno == ELOOP || errno == EXDEV)
            throw Error(std::string(option) + ": " + path + ": refused: the path goes through a symbolic link or \"..\" beneath " +
                        root + ", a directory runs can write");
        throw sys_error(option, path);
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) throw sys_error(std::string(option) + ": fstat", path);
    if (!S_ISREG(st.st_mode))
        throw Error(std::string(option) + ": " + path + ": refused: not a regular file, beneath " + root +
                    ", a directory runs can write");
    if (fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK) != 0)
        throw sys_error(std::string(option) + ": fcntl", path);
    return fd;
}

}  // namespace

UniqueFd open_host_file(const std::string& path, int flags, const char* option, const Policy& policy) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) throw sys_error("supervisor: getcwd");
    std::string abs = path.starts_with('/') ? path : std::string(cwd) + "/" + path;
    std::vector<std::string> roots = writable_roots(policy, cwd);
    // Walk the directories leading to the file, each resolved as the host
    // resolves it: symlinks before a writable directory are the operator's,
    // not the run's. At the first that lies in one, the rest is resolved
    // beneath it with no symlink at all.
    const std::size_t last = abs.rfind('/');
    for (std::size_t end = 0; !roots.empty() && end <= last; end = abs.find('/', end + 1)) {
        if (auto real = real_path(end == 0 ? "/" : abs.substr(0, end)))
            for (const std::string& root : roots)
                if (auto inside = beneath(*real, root)) {
                    std::string rest = abs.substr(end + 1);
                    return open_beneath(root, inside->empty() ? rest : *inside + "/" + rest, flags, option, path);
                }
    }
    UniqueFd fd(open(abs.c_str(), flags | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw sys_error(option, path);
    return fd;
}

}  // namespace sandboxrun
