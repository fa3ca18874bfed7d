#pragma once

#include <signal.h>

#include "sandboxrun/cli.hpp"
#include "sandboxrun/report.hpp"

namespace sandboxrun {

// Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and the other signals that
// would end us (a run reads them from a signalfd and ends cleanly, with its
// report); returns that set.
sigset_t hold_stop_signals();

// One whole run: returns sandboxrun's exit status (the target's, 128+N, or 125/126/127).
int run_sandbox(const Invocation& inv);

// The same run, leaving warnings and the report in `report` instead of
// printing and writing them (sandboxrun check reads them).
int run_sandbox(const Invocation& inv, Report& report);

}  // namespace sandboxrun
