// Host paths sandboxrun resolves for a run: --stdin, --stdout, --stderr,
// --report, --meta and the bind sources. Often root resolves them, in the
// invoking directory, which the run (and every earlier run in it) could
// write: a symlink, FIFO or directory link planted there must not make root
// write, bind or read elsewhere on the host, or block. So beneath any
// directory a run can write, a path is resolved without symlinks or "..",
// and a file opened there must be a regular file; elsewhere it is the
// operator's path, resolved as given.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "layers.hpp"
#include "sandboxrun/error.hpp"
#include "supervisor.hpp"

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

// The names of a path, without empty ones and ".".
std::deque<std::string> split_names(std::string_view path) {
    std::deque<std::string> names;
    for (std::size_t pos = 0; pos <= path.size();) {
        std::size_t end = std::min(path.find('/', pos), path.size());
        std::string_view name = path.substr(pos, end - pos);
        if (!name.empty() && name != ".") names.emplace_back(name);
        pos = end + 1;
    }
    return names;
}

// `rel` with "." and ".." taken by the text alone; nullopt when a ".." climbs
// above its start (or, with `clamp`, stays there, as at "/").
std::optional<std::string> lexical(std::string_view rel, bool clamp = false) {
    std::vector<std::string> parts;
    for (std::string& name : split_names(rel)) {
        if (name != "..") parts.push_back(std::move(name));
        else if (!parts.empty()) parts.pop_back();
        else if (!clamp) return std::nullopt;
    }
    return fmt::format("{}", fmt::join(parts, "/"));
}

// Opens a FIFO, waiting for its other end as `cmd <fifo` would, at most
// the run's wall limit (an interactor that died before opening it must not
// hang the judge). The stop signals we hold must end that wait (a judge's
// timeout): one already pending ends it at once; one that comes while we
// wait (or the wall limit's timer) jumps out of the open through a handler,
// whether it lands in the open or just before it.
sigjmp_buf fifo_wait;
volatile sig_atomic_t fifo_woken_by = 0;   // the signal, or -1 for our timer
UniqueFd open_fifo(const std::string& path, int flags, const char* option, std::optional<std::chrono::milliseconds> limit) {
    sigset_t held;
    sigprocmask(SIG_SETMASK, nullptr, &held);
    const sigset_t stop = hold_stop_signals();
    auto stopped = [&] {
        return Error(std::string(option) + ": " + path + ": stopped by a signal while waiting for the FIFO's other end");
    };
    sigset_t pending;
    sigpending(&pending);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sigismember(&stop, sig) == 1 && sigismember(&pending, sig) == 1) throw stopped();
    struct sigaction wake {}, old[NSIG];
    wake.sa_flags = SA_SIGINFO;
    wake.sa_sigaction = [](int sig, siginfo_t* si, void*) {
        fifo_woken_by = si->si_code == SI_TIMER ? -1 : sig;
        siglongjmp(fifo_wait, 1);
    };
    // The timer's signal is a stop signal too; its si_code tells it from a judge's.
    const int timer_signal = SIGRTMIN;
    sigset_t wakers = stop;   // (the caller may ignore it: then it is not among the stop signals)
    if (limit) sigaddset(&wakers, timer_signal);
    sigset_t caught;   // (one the caller ignores stays ignored, but for our timer's)
    sigemptyset(&caught);
    const auto put_back_handlers = [&] {
        for (int sig = 1; sig < NSIG; ++sig)
            if (sigismember(&caught, sig) == 1) sigaction(sig, &old[sig], nullptr);
    };
    for (int sig = 1; sig < NSIG; ++sig)
        if (sigismember(&wakers, sig) == 1 && sigaction(sig, nullptr, &old[sig]) == 0 &&
            (old[sig].sa_handler != SIG_IGN || (limit && sig == timer_signal))) {
            sigaddset(&caught, sig);
            sigaction(sig, &wake, nullptr);
        }
    timer_t timer{};
    if (limit) {
        sigevent ev{};
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = timer_signal;
        const itimerspec once{{0, 0}, {static_cast<time_t>(limit->count() / 1000), limit->count() % 1000 * 1'000'000}};
        if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 || timer_settime(timer, 0, &once, nullptr) != 0) {
            const int err = errno;
            put_back_handlers();
            throw sys_error(std::string(option) + ": " + path + ": a timer for the wall limit", {}, err);
        }
    }
    volatile int fd = -1, err = 0;   // volatile: kept across the jump
    fifo_woken_by = 0;
    if (sigsetjmp(fifo_wait, 1) == 0) {   // 1: the jump puts the held mask back
        sigprocmask(SIG_UNBLOCK, &wakers, nullptr);
        fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
        err = errno;
        sigprocmask(SIG_BLOCK, &wakers, nullptr);
    } else {
        if (fd >= 0) close(fd);
        fd = -1;
        err = EINTR;
    }
    if (limit) {
        timer_delete(timer);
        // Its signal, if it came after the open, is taken; a judge's of that
        // number stays pending for the run to stop on.
        sigset_t timer_only;
        sigemptyset(&timer_only);
        sigaddset(&timer_only, timer_signal);
        siginfo_t si{};
        const timespec now{};
        while (sigtimedwait(&timer_only, &si, &now) > 0)
            if (si.si_code != SI_TIMER) {
                raise(timer_signal);
                break;
            }
    }
    put_back_handlers();
    sigprocmask(SIG_SETMASK, &held, nullptr);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    if (fd < 0 && err == EINTR && fifo_woken_by == -1)
        throw Error(fmt::format("{}: {}: its other end did not open within the wall limit ({} ms)", option, path,
                                limit->count()));
    if (fd < 0 && err == EINTR) throw stopped();
    if (fd < 0) throw sys_error(option, path, err);
    return UniqueFd(fd);
}

// Why openat_beneath failed (errno).
Error beneath_error(const WritablePath& where, const char* what, const std::string& path) {
    if (errno == ELOOP || errno == EXDEV)
        return Error(std::string(what) + ": " + path + ": refused: the path goes through a symbolic link or \"..\" beneath " +
                     where.root + ", a directory runs can write");
    return sys_error(what, path);
}

}  // namespace

int openat_beneath(const WritablePath& where, int flags) {
    UniqueFd dir(open(where.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return -1;
    // The directory itself: "." would need the search right a run may have taken away.
    if (where.rest.empty() && (flags & O_PATH)) return dir.release();
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.mode = (flags & O_CREAT) ? 0644 : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(syscall(SYS_openat2, dir.get(), where.rest.empty() ? "." : where.rest.c_str(), &how, sizeof how));
}

UniqueFd open_beneath(const WritablePath& where, int flags, const char* what, const std::string& path) {
    UniqueFd fd(openat_beneath(where, flags));
    if (fd.get() < 0) throw beneath_error(where, what, path);
    return fd;
}

// The directories runs can write: the invoking directory and every writable
// bind's source (one beneath another is covered by it, and resolving it here
// could follow what a run planted).
WritableDirs::WritableDirs(const Policy& policy) {
    // Whatever this step's cwd mode, an earlier run in the same directory may
    // have had it writable (the stock profiles' default). A directory that is
    // gone (or deeper than PATH_MAX) holds nothing to resolve.
    // (Except /, which no run may have writable: refused by the supervisor.)
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf)) {
        cwd_ = buf;
        if (cwd_ != "/") roots_.push_back(cwd_);
    }
    for (const Bind& b : policy.fs.binds) {
        auto covered = [&](const std::string& root) { return beneath(b.source, root).has_value(); };
        if (!b.writable || std::any_of(roots_.begin(), roots_.end(), covered)) continue;
        // A file bound writable holds no names a run could plant a link at.
        struct stat st {};
        if (auto real = real_path(b.source); real && stat(real->c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            roots_.push_back(*real);
    }
}

std::optional<WritablePath> WritableDirs::find(const std::string& path) const {
    if (roots_.empty() || (cwd_.empty() && !path.starts_with('/'))) return std::nullopt;
    std::string abs = path.starts_with('/') ? path : cwd_ + "/" + path;
    // Followed one name at a time as the kernel would, each symlink read and
    // followed by hand, until the directory reached lies in a writable one:
    // from there on a link may be the run's (also one that an operator's
    // link outside leads to), so the rest is resolved beneath it, its ".."
    // by the text. A ".." that climbs out of it (--stdin ../in.txt) leaves
    // from its real path: the walk starts again there, with no ".." left.
    for (int walks = 0; walks < 8; ++walks) {
        std::deque<std::string> names = split_names(abs);
        std::string at = "/";   // holds no symlink
        std::optional<WritablePath> found;
        for (int links = 0;;) {
            for (const std::string& root : roots_)
                if (auto inside = beneath(at, root)) {
                    if (!inside->empty()) names.push_front(*inside);
                    found = WritablePath{root, fmt::format("{}", fmt::join(names, "/"))};
                    break;
                }
            if (found || names.empty()) break;
            std::string name = std::move(names.front());
            names.pop_front();
            if (name == "..") {
                at.resize(std::max<std::size_t>(1, at.rfind('/')));
                continue;
            }
            std::string next = (at == "/" ? "" : at) + "/" + name;
            char target[PATH_MAX];
            ssize_t n = readlink(next.c_str(), target, sizeof target);
            if (n < 0 || n == static_cast<ssize_t>(sizeof target)) {
                at = std::move(next);   // not a link (or not there yet): a plain name
                continue;
            }
            if (++links > 40) throw Error(path + ": too many levels of symbolic links");
            std::deque<std::string> more = split_names(std::string_view(target, static_cast<std::size_t>(n)));
            names.insert(names.begin(), more.begin(), more.end());
            if (target[0] == '/') at = "/";
        }
        if (!found) return std::nullopt;
        if (auto rest = lexical(found->rest)) return WritablePath{found->root, *rest};
        abs = '/' + lexical(found->root.substr(1) + "/" + found->rest, true).value_or(std::string());
    }
    throw Error(path + ": too many \"..\" around the directories runs can write");
}

namespace {

// The operator's path, opened as given; a FIFO waits for its other end.
UniqueFd open_operator_path(const std::string& path, int flags, const char* option,
                            std::optional<std::chrono::milliseconds> limit = std::nullopt) {
    UniqueFd fd(open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK, 0644));
    struct stat st {};
    if (fd.get() >= 0 && fstat(fd.get(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
        fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
        return fd;
    }
    if (fd.get() < 0 && errno != ENXIO) throw sys_error(option, path);   // ENXIO: a FIFO with no reader yet
    return open_fifo(path, flags, option, limit);
}

// The directory holding `where` (resolved beneath its root) and the name in it.
std::pair<UniqueFd, std::string> parent_beneath(const WritablePath& where, const char* option, const std::string& path) {
    const std::size_t slash = where.rest.rfind('/');
    std::string name = slash == std::string::npos ? where.rest : where.rest.substr(slash + 1);
    if (name.empty() || name == "." || name == "..") throw Error(std::string(option) + ": " + path + ": not a file name");
    UniqueFd dir = open_beneath({where.root, slash == std::string::npos ? "" : where.rest.substr(0, slash)}, O_PATH,
                                option, path);
    struct stat st {};
    if (fstat(dir.get(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(std::string(option) + ": " + path + ": refused: its directory is not one (a link?) beneath " +
                    where.root + ", a directory runs can write");
    return {std::move(dir), std::move(name)};
}

// A new file, opened with `flags` and written by `fill`, renamed over `where`:
// what a run left at the name (a link, a FIFO, a file it made read-only) is
// replaced, never opened. The temporary name is random: a run cannot have
// made it beforehand.
UniqueFd replace_beneath(const WritablePath& where, int flags, const char* option, const std::string& path,
                         const std::function<void(int)>& fill = {}) {
    auto [dir, name] = parent_beneath(where, option, path);
    std::uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) throw sys_error(std::string(option) + ": getrandom", path);
    const std::string tmp = fmt::format(".{}.sandboxrun-{:016x}", name, nonce);
    // Made unnamed (O_TMPFILE) and filled where the file system can, and only
    // then named: a supervisor killed meanwhile (a judge's timeout) leaves no
    // hidden file in the judge's directory.
    UniqueFd fd(openat(dir.get(), ".", (flags & O_ACCMODE) | O_TMPFILE | O_CLOEXEC, 0644));
    const bool unnamed = fd.get() >= 0;
    if (unnamed) {
        if (fill) fill(fd.get());
        if (linkat(AT_FDCWD, fmt::format("/proc/self/fd/{}", fd.get()).c_str(), dir.get(), tmp.c_str(), AT_SYMLINK_FOLLOW) != 0)
            throw sys_error(option, path);
    } else {
        fd.reset(openat(dir.get(), tmp.c_str(), (flags & O_ACCMODE) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (fd.get() < 0) throw sys_error(option, path);
    }
    try {
        if (fill && !unnamed) fill(fd.get());
        // A directory the run made at the name (to fail the report and so
        // the verdict) is swapped out to the temporary name, left to it.
        if (renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0 &&
            !((errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) &&
              renameat2(dir.get(), tmp.c_str(), dir.get(), name.c_str(), RENAME_EXCHANGE) == 0))
            throw sys_error(option, path);
    } catch (...) {
        unlinkat(dir.get(), tmp.c_str(), 0);
        throw;
    }
    return fd;
}

// Removes what is at `path` beneath `where`, if it can.
void remove_beneath(const WritablePath& where, const std::string& path) {
    try {
        auto [dir, name] = parent_beneath(where, "", path);
        unlinkat(dir.get(), name.c_str(), 0);
    } catch (const Error&) {
        // (a maze of links the run left: nothing to read a report from either)
    }
}

// The directory `path` names a file in.
std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

bool in_kernel_dir(const std::string& dir) {
    struct statfs sfs {};
    return statfs(dir.c_str(), &sfs) == 0 && (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC);
}

// A report written into /proc or /sys would be a kernel setting (`--report
// /proc/sys/kernel/domainname` set the host's domain name).
void refuse_kernel_files(const std::string& dir, const std::string& path, const char* option) {
    if (in_kernel_dir(dir))
        throw Error(fmt::format("{}: {}: refused: a file of /proc or /sys is a kernel setting", option, path));
}

}  // namespace

int caller_output_fd(const std::string& path) {
    for (int fd : {1, 2})
        for (const std::string& name : {fd == 1 ? std::string("/dev/stdout") : std::string("/dev/stderr"),
                                        fmt::format("/dev/fd/{}", fd), fmt::format("/proc/self/fd/{}", fd)})
            if (path == name) return fd;
    return -1;
}

UniqueFd open_host_file(const std::string& path, int flags, const char* option, const Policy& policy) {
    std::optional<WritablePath> where = WritableDirs(policy).find(path);
    if (!where) return open_operator_path(path, flags, option, policy.limits.wall_time);
    // Non-blocking until it is known to be a regular file: a planted FIFO would
    // block us. Not truncated before it is known to be this name's alone.
    UniqueFd fd(openat_beneath(*where, (flags & ~O_TRUNC) | O_NONBLOCK));
    const int err = errno;
    struct stat st {};
    const bool regular = fd.get() >= 0 && fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
    // An output file: what a run left at its name instead (a link, a
    // directory, a FIFO; a hard link to the judge's answer file, which the
    // output would overwrite) is replaced, or it would fail every later run.
    if (regular && (flags & O_CREAT) && st.st_nlink > 1) return replace_beneath(*where, flags, option, path);
    if (!regular && (flags & O_CREAT)) {
        UniqueFd at(openat_beneath(*where, O_PATH));   // (a link at the name: the link itself)
        if (at.get() >= 0 && fstat(at.get(), &st) == 0 && !S_ISREG(st.st_mode))
            return replace_beneath(*where, flags, option, path);
    }
    errno = err;
    if (fd.get() < 0) throw beneath_error(*where, option, path);
    if (!regular)
        throw Error(std::string(option) + ": " + path + ": refused: not a regular file, beneath " + where->root +
                    ", a directory runs can write");
    if (fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK) != 0)
        throw sys_error(std::string(option) + ": fcntl", path);
    if ((flags & O_TRUNC) && ftruncate(fd.get(), 0) != 0) throw sys_error(std::string(option) + ": truncate", path);
    return fd;
}

void write_host_file(const std::string& path, const std::string& text, const char* option, const Policy& policy) {
    auto write_all = [&](int fd) {
        for (std::size_t done = 0; done < text.size();) {
            ssize_t n = write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw sys_error(std::string(option) + ": write", path);
            done += static_cast<std::size_t>(n);
        }
    };
    if (const int fd = caller_output_fd(path); fd >= 0) return write_all(fd);
    refuse_kernel_files(directory_of(path), path, option);
    std::optional<WritablePath> where = WritableDirs(policy).find(path);
    if (!where) return write_all(open_operator_path(path, O_WRONLY | O_CREAT | O_TRUNC, option, policy.limits.wall_time).get());
    try {
        replace_beneath(*where, O_WRONLY, option, path, write_all);   // (a forged report is never written through)
    } catch (const Error&) {
        // A run that filled the file system (no room for a new file) must
        // not leave a report of its own making there: removing needs no room.
        remove_beneath(*where, path);
        throw;
    }
}

void discard_host_file(const std::string& path, const char* option, const Policy& policy) {
    if (caller_output_fd(path) >= 0) return;   // (written through as it is)
    const std::string dir = directory_of(path);
    refuse_kernel_files(dir, path, option);
    // A directory that is not there is found now, not after the run's time was spent.
    if (struct stat st {}; stat(dir.c_str(), &st) != 0) throw sys_error(std::string(option) + ": directory", dir);
    else if (!S_ISDIR(st.st_mode)) throw Error(std::string(option) + ": " + dir + " is not a directory");
    std::optional<WritablePath> where;
    try {
        where = WritableDirs(policy).find(path);
    } catch (const Error&) {
        // What cannot be discarded now is reported when it is written.
    }
    if (where) remove_beneath(*where, path);
    // A run can replace or chmod any directory beneath the one it writes, and
    // so make the report unwritable (any verdict would become 125).
    if (where && where->rest.find('/') != std::string::npos)
        throw Error(fmt::format("{}: {}: refused: in a subdirectory of {}, which runs can write; put it directly "
                                "there or elsewhere",
                                option, path, where->root));
    if (where) return;
    // Elsewhere what would fail the report after the run fails now (a FIFO
    // or device is written as it is).
    if (struct stat st {}; stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error(std::string(option) + ": " + path + " is a directory");
        if (S_ISREG(st.st_mode) && truncate(path.c_str(), 0) != 0) throw sys_error(option, path);
    } else if (faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) != 0) {
        throw sys_error(std::string(option) + ": directory", dir);
    }
}

bool in_kernel_files(const std::string& path) { return in_kernel_dir(directory_of(path)); }

}  // namespace sandboxrun
