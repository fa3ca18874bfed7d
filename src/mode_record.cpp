// The mode a file or directory runs can chmod had before the runs now using
// it began. The supervisor puts a changed mode back after its run; with two
// runs in one directory at once, the second would otherwise take the first
// one's chmod (0777 on the judge's directory) for the mode to put back, and
// put it back after the first had undone it. So runs share one record per
// file: the first to start writes the mode down, the others read it, each
// holds a shared lock on it while it runs, and the last one out removes it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "layers.hpp"

namespace sandboxrun {

// (Without a runtime directory, one of ours in /tmp: open_own_dir refuses
// one that someone else made.)
std::string mode_record_dir() {
    if (::geteuid() == 0) return "/run/sandboxrun/modes";
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && runtime[0] == '/') return std::string(runtime) + "/sandboxrun-modes";
    return fmt::format("/tmp/sandboxrun-modes-{}", ::geteuid());
}

ModeRecord::ModeRecord(const struct stat& st) : mode_(st.st_mode & 07777) {
    dir_path_ = mode_record_dir();
    dir_.reset(open_own_dir(dir_path_));
    if (dir_.get() < 0) return;   // not ours alone: this run's own view will do
    name_ = fmt::format("{:x}-{:x}", st.st_dev, st.st_ino);
    for (int attempt = 0; attempt < 8; ++attempt) {
        UniqueFd fd(openat(dir_.get(), name_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd.get() < 0) return;
        // The only run: what the file is now is its mode (a record a killed
        // supervisor left is stale).
        if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            struct stat self {};
            if (fstat(fd.get(), &self) != 0 || self.st_nlink == 0) continue;   // the last one out just removed it
            const std::string text = fmt::format("{:o}\n", mode_);
            if (ftruncate(fd.get(), 0) != 0 || pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
                return;
            flock(fd.get(), LOCK_SH);
            fd_ = std::move(fd);
            return;
        }
        // Others run: the mode the first of them wrote down (it holds the
        // lock exclusively only while it writes).
        if (flock(fd.get(), LOCK_SH) != 0) return;
        struct stat self {};
        if (fstat(fd.get(), &self) != 0 || self.st_nlink == 0) continue;
        char text[16] = "";
        ssize_t n = pread(fd.get(), text, sizeof text - 1, 0);
        char* end = nullptr;
        const unsigned long recorded = n > 0 ? std::strtoul(text, &end, 8) : 0;
        if (n > 0 && end && *end == '\n' && recorded <= 07777) mode_ = static_cast<mode_t>(recorded);
        fd_ = std::move(fd);
        return;
    }
}

void remove_stale_mode_records() {
    UniqueFd dir(open_own_dir(mode_record_dir()));
    DIR* d = dir.get() >= 0 ? fdopendir(dup(dir.get())) : nullptr;
    if (!d) return;
    while (const dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        UniqueFd fd(openat(dir.get(), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() >= 0 && flock(fd.get(), LOCK_EX | LOCK_NB) == 0) unlinkat(dir.get(), e->d_name, 0);
    }
    closedir(d);
    if (mode_record_dir().starts_with("/tmp/")) rmdir(mode_record_dir().c_str());   // (as ~ModeRecord: not while in use)
}

ModeRecord::~ModeRecord() {
    if (fd_.get() < 0 || flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) return;
    unlinkat(dir_.get(), name_.c_str(), 0);
    if (dir_path_.starts_with("/tmp/")) rmdir(dir_path_.c_str());   // (not while other records are in it)
}

}  // namespace sandboxrun
