#pragma once

#include "sandboxrun/cli.hpp"

namespace sandboxrun {

// One whole run: returns sandboxrun's exit status (the target's, 128+N, or 125/126/127).
int run_sandbox(const Invocation& inv);

}  // namespace sandboxrun
