// The command line: argv -> Invocation (profile loaded, overrides applied, validated).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandboxrun/policy.hpp"

namespace sandboxrun {

enum class Command { run, explain, cleanup, check, learn };

struct UidRange {
    std::uint32_t first = 0;   // first host uid/gid handed to runs when invoked as root
    std::uint32_t count = 0;
};

struct Invocation {
    Command command = Command::run;
    Policy policy;
    std::vector<std::string> argv;           // the target command
    std::optional<std::string> stdin_path, stdout_path, stderr_path;
    std::optional<std::string> report_path, meta_path;
    UidRange uid_range{60000, 5000};
    std::optional<std::string> cgroup_parent;  // --cgroup-parent / SANDBOXRUN_CGROUP_PARENT
    bool verbose = false;
    bool quiet = false;                      // no warnings on stderr
    std::optional<int> exit_now;             // --help / --version were handled: exit with this
    // A run whose profile or overrides were refused, with a report or meta
    // file to write: the run fails with this message and writes them, so that
    // a judge never reads the previous run's verdict there.
    std::optional<std::string> setup_error;
};

// Throws Error (exit 125) on any bad input (but see setup_error).
Invocation parse_command_line(int argc, char** argv);

}  // namespace sandboxrun
