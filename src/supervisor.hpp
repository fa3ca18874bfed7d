#pragma once

#include "sandboxrun/cli.hpp"
#include "sandboxrun/report.hpp"

namespace sandboxrun {

// One whole run: returns sandboxrun's exit status (the target's, 128+N, or 125/126/127).
int run_sandbox(const Invocation& inv);

// The same run, leaving warnings and the report in `report` instead of
// printing and writing them (sandboxrun check reads them).
int run_sandbox(const Invocation& inv, Report& report);

}  // namespace sandboxrun
