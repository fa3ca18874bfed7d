// build_environment: pass, set, and ${memory} references to the run's limit.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../../src/layers.hpp"
#include "sandboxrun/error.hpp"

using namespace sandboxrun;

namespace {
std::vector<std::string> build(const Environment& env, std::optional<std::uint64_t> memory,
                               std::vector<std::string> caller = {}) {
    Limits limits;
    limits.memory = memory;
    std::vector<char*> c;
    for (auto& e : caller) c.push_back(e.data());
    c.push_back(nullptr);
    return build_environment(env, limits, c.data());
}
}  // namespace

TEST_CASE("environment: only passed names and fixed values", "[environment]") {
    Environment env;
    env.pass = {"LANG"};
    env.set = {{"PATH", "/usr/bin"}, {"LANG", "C"}};
    CHECK(build(env, std::nullopt, {"LANG=de_DE", "SECRET=x"}) ==
          std::vector<std::string>{"LANG=C", "PATH=/usr/bin"});
    env.set.erase("LANG");
    CHECK(build(env, std::nullopt, {"LANG=de_DE", "SECRET=x"}) ==
          std::vector<std::string>{"LANG=de_DE", "PATH=/usr/bin"});
}

TEST_CASE("environment: ${memory} and ${memory_mib} follow the run's limit", "[environment]") {
    Environment env;
    env.set = {{"JAVA_TOOL_OPTIONS", "-XX:MaxRAM=${memory} -Xss8m"},
               {"NODE_OPTIONS", "--max-old-space-size=${memory_mib}"},
               {"PLAIN", "cost $5 {x}"}};
    CHECK(build(env, 256ULL << 20) ==
          std::vector<std::string>{"JAVA_TOOL_OPTIONS=-XX:MaxRAM=268435456 -Xss8m",
                                   "NODE_OPTIONS=--max-old-space-size=256", "PLAIN=cost $5 {x}"});
    CHECK(build(env, (1ULL << 30) + 5) ==
          std::vector<std::string>{"JAVA_TOOL_OPTIONS=-XX:MaxRAM=1073741829 -Xss8m",
                                   "NODE_OPTIONS=--max-old-space-size=1024", "PLAIN=cost $5 {x}"});
    // No limit: the variables that need one are left out, even if passed through.
    env.pass = {"NODE_OPTIONS"};
    CHECK(build(env, std::nullopt, {"NODE_OPTIONS=--inspect"}) ==
          std::vector<std::string>{"PLAIN=cost $5 {x}"});
}

TEST_CASE("environment: unknown or broken references are errors", "[environment]") {
    Environment env;
    env.set = {{"X", "${cpu_time}"}};
    CHECK_THROWS_WITH(build(env, 1024), Catch::Contains("X: unknown reference ${cpu_time}"));
    env.set = {{"X", "-Xmx${memory"}};
    CHECK_THROWS_WITH(build(env, 1024), Catch::Contains("unterminated"));
}
