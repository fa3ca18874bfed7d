// The target's environment: cleared, then the allowlisted names copied from
// the caller, then the profile's fixed values.
#include <map>
#include <string>

#include "layers.hpp"

namespace sandboxrun {

std::vector<std::string> build_environment(const Environment& env, char** caller_env) {
    std::map<std::string, std::string> out;
    for (char** e = caller_env; e && *e; ++e) {
        std::string entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        std::string name = entry.substr(0, eq);
        for (const std::string& allowed : env.pass)
            if (allowed == name) out[name] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : env.set) out[name] = value;
    std::vector<std::string> result;
    for (const auto& [name, value] : out) result.push_back(name + "=" + value);
    return result;
}

}  // namespace sandboxrun
