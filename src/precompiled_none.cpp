// An empty table of precompiled seccomp programs, for the generator that
// writes the real one (it cannot link its own output) and for builds that
// cannot run it (cross builds): every policy is then compiled at run time.
#include "sandboxrun/seccomp.hpp"

namespace sandboxrun {

std::span<const PrecompiledFilter> precompiled_filters() { return {}; }

}  // namespace sandboxrun
