// Where a run's seccomp program comes from: the build-time table, the
// run-time cache of compiled programs for policies the table does not hold,
// or libseccomp. The cache: libseccomp costs 1.3-1.7 ms of a run's
// start, a cached read well under 0.1 ms. One file per policy, named by a
// hash of its seccomp_key and holding the whole key, which must match
// exactly. A program decides what the run may do, so a file is trusted only
// where nobody but our own euid could have written it.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sandboxrun/seccomp.hpp"
#include "unique_fd.hpp"

namespace sandboxrun {
namespace {

constexpr char magic[] = "sandboxrun-bpf 1\n";
constexpr std::size_t max_file = 1 << 20;

// Ours alone: owned by our euid, and `forbidden` mode bits clear.
bool ours(int fd, mode_t forbidden) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & forbidden) == 0 &&
           (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) <= max_file));
}

}  // namespace

int open_own_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno == ENOENT) {
        auto slash = dir.rfind('/');
        if (slash != std::string::npos && slash > 0) ::mkdir(dir.substr(0, slash).c_str(), 0755);
        ::mkdir(dir.c_str(), 0700);
    }
    // Made under a caller's umask 0177 or 0777 it is 0600 or 0: ours, but
    // closed to us until its mode is mended, by path (no fchmod on O_PATH).
    UniqueFd path(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (struct stat st {}; path.get() >= 0 && ::fstat(path.get(), &st) == 0 && st.st_uid == ::geteuid() &&
                           (st.st_mode & 0700) != 0700)
        ::chmod(fmt::format("/proc/self/fd/{}", path.get()).c_str(), (st.st_mode & 07777) | 0700);
    int fd = path.get() < 0 ? -1 : ::openat(path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && !ours(fd, 077)) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string why_not_own_dir(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return std::strerror(errno);
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    if (!S_ISDIR(st.st_mode)) return "not a directory";
    if (st.st_uid != ::geteuid()) return fmt::format("owned by uid {}, not {}", st.st_uid, ::geteuid());
    return fmt::format("mode {:04o}", st.st_mode & 07777);
}

namespace {

std::optional<SeccompProgram> parse_entry(const std::string& text, const std::string& key) {
    std::size_t at = sizeof magic - 1;
    if (text.compare(0, at, magic) != 0 || text.size() < at + 4) return std::nullopt;
    std::uint32_t key_size = 0;
    std::memcpy(&key_size, text.data() + at, 4);
    at += 4;
    if (text.size() < at + key_size + 1 || text.compare(at, key_size, key) != 0 || key_size != key.size())
        return std::nullopt;
    at += key_size;
    if (text[at] != '\0' && text[at] != '\1') return std::nullopt;
    SeccompProgram program;
    program.notify = text[at++] == '\1';
    const std::size_t bytes = text.size() - at;
    if (bytes == 0 || bytes % sizeof(sock_filter) != 0 || bytes / sizeof(sock_filter) > BPF_MAXINSNS)
        return std::nullopt;
    program.code.resize(bytes / sizeof(sock_filter));
    std::memcpy(program.code.data(), text.data() + at, bytes);
    return program;
}

std::optional<SeccompProgram> load(int dir_fd, const std::string& key) {
    UniqueFd fd(::openat(dir_fd, seccomp_cache_name(key).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0 || !ours(fd.get(), 022)) return std::nullopt;
    std::string text;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0 && text.size() <= max_file;)
        text.append(buf, static_cast<std::size_t>(n));
    return parse_entry(text, key);
}

// Best effort: a temporary file renamed into place, so a reader never sees half of one.
void store(int dir_fd, const std::string& key, const SeccompProgram& program) {
    const std::string name = seccomp_cache_name(key);
    const std::string tmp = fmt::format(".{}.{}", name, ::getpid());
    UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return;
    const std::string entry = seccomp_cache_entry(key, program);
    if (::write(fd.get(), entry.data(), entry.size()) != static_cast<ssize_t>(entry.size()) ||
        ::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0)
        ::unlinkat(dir_fd, tmp.c_str(), 0);
}

}  // namespace

void remove_stale_seccomp_temps() {
    const std::string cache = default_seccomp_cache_dir();
    UniqueFd dir(cache.empty() ? -1 : open_own_dir(cache));
    DIR* d = dir.get() >= 0 ? fdopendir(::dup(dir.get())) : nullptr;
    if (!d) return;
    // ".NAME.bpf.PID", which store() renames or removes unless killed first.
    while (const dirent* e = readdir(d)) {
        const std::string_view name = e->d_name;
        const auto dot = name.rfind('.');
        if (!name.starts_with('.') || dot == std::string_view::npos || !name.substr(0, dot).ends_with(".bpf")) continue;
        const long pid = std::strtol(e->d_name + dot + 1, nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlinkat(dir.get(), e->d_name, 0);
    }
    closedir(d);
}

std::string seccomp_cache_name(const std::string& key) {
    std::uint64_t h = 14695981039346656037ull;   // FNV-1a: a name, not a check (the key is compared whole)
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return fmt::format("{:016x}.bpf", h);
}

std::string seccomp_cache_entry(const std::string& key, const SeccompProgram& program) {
    std::string out = magic;
    const auto key_size = static_cast<std::uint32_t>(key.size());
    out.append(reinterpret_cast<const char*>(&key_size), 4);
    out += key;
    out += program.notify ? '\1' : '\0';
    out.append(reinterpret_cast<const char*>(program.code.data()), program.code.size() * sizeof(sock_filter));
    return out;
}

std::string default_seccomp_cache_dir() {
    if (::geteuid() == 0) return "/run/sandboxrun/bpf";
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    return runtime && runtime[0] == '/' ? std::string(runtime) + "/sandboxrun-bpf" : "";
}

SeccompProgram compile_seccomp(const Syscalls& syscalls, const Network& net, const std::string& cache_dir) {
    const std::string key = seccomp_key(syscalls, net);
    if (auto program = precompiled_seccomp(key)) return std::move(*program);
    UniqueFd dir(cache_dir.empty() ? -1 : open_own_dir(cache_dir));
    if (dir.get() >= 0)
        if (auto program = load(dir.get(), key); program && seccomp_actions_available(program->notify))
            return std::move(*program);
    SeccompProgram program = compile_seccomp_fresh(syscalls, net);
    if (dir.get() >= 0) store(dir.get(), key, program);
    return program;
}

}  // namespace sandboxrun
