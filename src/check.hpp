// `sandboxrun check`: what this host lacks, then a built-in set of escape
// attempts, each run inside a sandbox made from a profile by the normal run path.
#pragma once

#include "sandboxrun/cli.hpp"

namespace sandboxrun {

// Audits the host, runs every attempt under the profile given with --profile
// (every stock profile when none was given: argv is scanned for it) and
// prints one line per attempt. 0 when all were contained, 1 otherwise.
int run_check(const Invocation& inv, int argc, char** argv);

// The hidden `sandboxrun __attempt NAME [ARG]`: one attempt, run by run_check
// inside the sandbox. Prints "CONTAINED what" / "ESCAPED what" lines; exit 0
// when contained, 1 when not, 64 for an unknown name.
int run_attempt(int argc, char** argv);

}  // namespace sandboxrun
