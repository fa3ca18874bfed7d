// sandboxrun learn: which syscalls a command needs beyond its profile.
#pragma once

#include "sandboxrun/cli.hpp"

namespace sandboxrun {

// Runs inv's command under inv's policy again and again, each time allowing
// the syscall the previous attempt was stopped for, until it runs without a
// violation; prints those syscalls as a [syscalls] fragment on stdout. Returns
// the last attempt's exit status, or 125 when a syscall cannot be allowed.
int run_learn(const Invocation& inv);

}  // namespace sandboxrun
