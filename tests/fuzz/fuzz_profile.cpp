// libFuzzer target over profile text: the input is a profile named "fuzz"
// that may extend the stock profiles. Any sandboxrun::Error is a clean
// rejection; a crash, a leak, undefined behaviour or another exception is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sandboxrun;
    const std::string text(reinterpret_cast<const char*>(data), size);
    // No file system: the input itself, or a stock profile it extends.
    ProfileResolver resolve = [&text](const std::string& name) -> std::optional<ProfileText> {
        if (name == "fuzz") return ProfileText{"fuzz.toml", text};
        if (auto stock = stock_profile_text(name)) return ProfileText{"<stock>/" + name + ".toml", std::string(*stock)};
        return std::nullopt;
    };
    try {
        Policy policy = load_profile("fuzz", resolve);
        // What the loader accepted must render, and what it renders must load again.
        std::string explained = explain_policy(policy);
        ProfileResolver again = [&explained](const std::string& name) -> std::optional<ProfileText> {
            if (name == "explained") return ProfileText{"explained.toml", explained};
            return std::nullopt;
        };
        try {
            load_profile("explained", again);
        } catch (const Error& e) {
            std::fprintf(stderr, "explained profile does not load again: %s\n%s", e.what(), explained.c_str());
            std::abort();
        }
    } catch (const Error&) {
    }
    return 0;
}
