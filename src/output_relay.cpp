// Output the supervisor copies for the run, counting it against --file-size,
// where the kernel's RLIMIT_FSIZE cannot count it (a FIFO) or would count
// what was there before the run (an inherited file the judge appends to: a
// 70 MiB log as stderr made every program writing one line to it die of
// SIGXFSZ). The run writes into a pipe; the destination is never blocked on:
// a FIFO's reader that falls behind holds the bytes in the pipe, and so the
// run, not the supervisor.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {

bool OutputRelay::needed(int fd, bool named) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return false;
    if (named) return S_ISFIFO(st.st_mode);
    if (!S_ISREG(st.st_mode)) return false;
    const int flags = fcntl(fd, F_GETFL);
    const off_t at = (flags >= 0 && (flags & O_APPEND)) ? st.st_size : lseek(fd, 0, SEEK_CUR);
    return at > 0;
}

OutputRelay::OutputRelay(int dest, std::uint64_t limit) : dest_(dest), limit_(limit) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) throw sys_error("supervisor: pipe for the run's output");
    from_.reset(ends[0]);
    run_end_.reset(ends[1]);
    fcntl(from_.get(), F_SETFL, O_NONBLOCK);
    // A FIFO of --stdout's is a description of our own; a file never blocks
    // (and the caller's must keep its flags).
    struct stat st {};
    if (const int flags = fcntl(dest_, F_GETFL); flags >= 0 && fstat(dest_, &st) == 0 && S_ISFIFO(st.st_mode))
        fcntl(dest_, F_SETFL, flags | O_NONBLOCK);
}

pollfd OutputRelay::wanted() const {
    if (!pending_.empty()) return {dest_, POLLOUT, 0};
    return {from_.get(), POLLIN, 0};
}

bool OutputRelay::pump() {
    if (pending_.empty() && from_.get() >= 0) {
        char buf[65536];
        const ssize_t n = read(from_.get(), buf, sizeof buf);
        if (n == 0) from_.reset();   // every writer is gone
        if (n <= 0) return !over_;
        const auto room = static_cast<std::size_t>(limit_ - std::min(limit_, copied_));
        pending_.assign(buf, std::min(room, static_cast<std::size_t>(n)));
        copied_ += pending_.size();
        // What reaches the limit exactly counts as over it, as for a file
        // (a write cut there cannot be told from one that ended there).
        if (copied_ >= limit_) over_ = true;
    }
    while (!pending_.empty()) {
        const ssize_t n = write(dest_, pending_.data(), pending_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
            // The reader went away, the disk is full, our own file-size limit:
            // the run's output ends here, and its next write learns so
            // (EPIPE, SIGPIPE), as it would writing there itself.
            error_ = n < 0 ? errno : EIO;
            if (error_ == EFBIG) {   // its SIGXFSZ is ours (held): not a stop signal
                sigset_t xfsz;
                sigemptyset(&xfsz);
                sigaddset(&xfsz, SIGXFSZ);
                const timespec now{};
                sigtimedwait(&xfsz, nullptr, &now);
            }
            pending_.clear();
            from_.reset();
            break;
        }
        pending_.erase(0, static_cast<std::size_t>(n));
    }
    return !over_;
}

void collect_unix_cycles() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
    close(sv[0]);
    close(sv[1]);
}

bool OutputRelay::drain(std::uint64_t deadline_us, int stop_fd) {
    run_end_.reset();
    for (;;) {
        if (over_) from_.reset();   // nothing past the limit is copied
        if (from_.get() < 0 && pending_.empty()) return true;
        const std::uint64_t now = monotonic_us();
        if (now >= deadline_us) return false;
        pollfd p[2] = {wanted(), {stop_fd, POLLIN, 0}};
        // The collector may be queued: while nothing comes, start it again.
        const int ready = poll(p, 2, static_cast<int>(std::min<std::uint64_t>(deadline_us - now + 999, 50'000) / 1000));
        if (ready == 0) collect_unix_cycles();
        if (ready <= 0) continue;
        if (p[1].revents) return false;   // a stop signal: no more waiting for a reader
        pump();
    }
}

}  // namespace sandboxrun
