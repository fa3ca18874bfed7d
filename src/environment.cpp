// The target's environment: cleared, then the allowlisted names copied from
// the caller, then the profile's fixed values. Fixed values may name the run's
// memory limit (${memory}, ${memory_mib}) so that runtimes which size their
// heap from the host's RAM (JVM, Go, node, mono) can be told the limit instead.
#include <map>
#include <optional>
#include <string>

#include "layers.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun {
namespace {

// The value of one ${name}; nullopt when the run has no such limit.
std::optional<std::string> limit_value(const std::string& name, const Limits& limits,
                                       const std::string& var) {
    if (name != "memory" && name != "memory_mib")
        throw Error("environment: " + var + ": unknown reference ${" + name +
                    "} (known: ${memory}, ${memory_mib})");
    if (!limits.memory) return std::nullopt;
    return std::to_string(name == "memory" ? *limits.memory : *limits.memory >> 20);
}

// Replaces every ${name}; nullopt when one of them names an unset limit, so the
// variable is left out rather than passed with a hole in it.
std::optional<std::string> substitute(const std::string& var, const std::string& value,
                                      const Limits& limits) {
    std::string out;
    for (std::size_t i = 0; i < value.size();) {
        if (value.compare(i, 2, "${") != 0) {
            out += value[i++];
            continue;
        }
        auto end = value.find('}', i);
        if (end == std::string::npos)
            throw Error("environment: " + var + ": unterminated \"${\" in \"" + value + "\"");
        auto v = limit_value(value.substr(i + 2, end - i - 2), limits, var);
        if (!v) return std::nullopt;
        out += *v;
        i = end + 1;
    }
    return out;
}

}  // namespace

void check_environment_value(const std::string& var, const std::string& value) {
    Limits any;
    any.memory = 1;
    substitute(var, value, any);
}

std::vector<std::string> build_environment(const Environment& env, const Limits& limits,
                                           char** caller_env) {
    std::map<std::string, std::string> out;
    for (char** e = caller_env; e && *e; ++e) {
        std::string entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        std::string name = entry.substr(0, eq);
        for (const std::string& allowed : env.pass)
            if (allowed == name) out[name] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : env.set) {
        if (auto v = substitute(name, value, limits)) out[name] = *v;
        else out.erase(name);
    }
    std::vector<std::string> result;
    for (const auto& [name, value] : out) result.push_back(name + "=" + value);
    return result;
}

}  // namespace sandboxrun
