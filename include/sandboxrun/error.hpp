// One error type for every layer: what step failed, on what, and why.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sandboxrun {

// Exit statuses of sandboxrun itself (the target's own status is passed through).
inline constexpr int exit_sandbox_error = 125;
inline constexpr int exit_cannot_run = 126;
inline constexpr int exit_not_found = 127;

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what, int exit_code = exit_sandbox_error)
        : std::runtime_error(visible(what)), exit_code_(exit_code) {}
    int exit_code() const noexcept { return exit_code_; }

private:
    // A NUL quoted from bad input would end the message where it is printed.
    static std::string visible(std::string text) {
        for (std::size_t at = 0; (at = text.find('\0', at)) != std::string::npos; at += 2) text.replace(at, 1, "\\0");
        return text;
    }
    int exit_code_;
};

// "step: path: strerror(errno)" from the current errno.
inline Error sys_error(const std::string& step, const std::string& path = {}, int err = errno) {
    std::string msg = step;
    if (!path.empty()) msg += ": " + path;
    msg += ": ";
    msg += std::strerror(err);
    return Error(msg);
}

}  // namespace sandboxrun
