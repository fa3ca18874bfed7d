// Profiles: TOML text -> Policy, with `extends`, stock profiles compiled in,
// and validation that names file:line:column.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandboxrun/policy.hpp"

namespace sandboxrun {

struct ProfileText {
    std::string source;   // what errors call it: a file path, or "<stock>/c.toml"
    std::string text;
};

// Finds a profile by name; nullopt if there is none of that name.
using ProfileResolver = std::function<std::optional<ProfileText>(const std::string& name)>;

// `dirs`, then $SANDBOXRUN_PROFILE_PATH (colon-separated), then
// /etc/sandboxrun/profiles: where profiles are looked for by name.
std::vector<std::string> profile_search_dirs(std::vector<std::string> dirs);

// Looks in profile_search_dirs(dirs), then the stock profiles compiled into
// the binary. A name containing '/' or ending in ".toml" is read as a path.
// When nothing is found it throws Error listing every place it looked (not
// nullopt).
ProfileResolver default_resolver(std::vector<std::string> dirs);

// The stock profiles compiled into the binary, and nothing else (nullopt for
// any other name), named as default_resolver names them: profiles installed
// in /etc or $SANDBOXRUN_PROFILE_PATH cannot change what it loads.
ProfileResolver stock_resolver();

// Loads `name` and everything it extends; throws Error (file:line:column: message).
Policy load_profile(const std::string& name, const ProfileResolver& resolve);

// The stock profiles compiled into the binary.
std::vector<std::string> stock_profile_names();
std::optional<std::string_view> stock_profile_text(std::string_view name);

// "256MiB", "1G", "4096" -> bytes; "2s", "1500ms", "1.5s", "2m" -> duration. Throw Error.
std::uint64_t parse_size(std::string_view text);
Duration parse_duration(std::string_view text);

// The text parse_size / parse_duration read back: "64MiB", "1500ms", "2s".
std::string format_size(std::uint64_t bytes);
std::string format_duration(Duration d);

// "/a//b/./c/" -> "/a/b/c"; throws Error if the path is not absolute or has "..".
std::string normalize_path(std::string_view path);

// "[?]SRC[:DST]" -> Bind ("?": optional; no DST: the same path inside). Throws
// Error without a location; callers prefix it.
Bind parse_bind(std::string_view spec, bool writable, std::string origin);

// Add a bind / tmpfs, replacing one with the same target, and keep them in
// mount order: a mount comes after every mount whose target contains it.
void add_bind(Filesystem& fs, Bind bind);
void add_tmpfs(Filesystem& fs, Tmpfs tmpfs);

// Checks what can only be checked on this host and after command-line
// overrides: absolute paths, bind sources that exist, known syscall names.
void validate_policy(const Policy& policy);

// The effective policy as TOML that load_profile would accept again.
std::string explain_policy(const Policy& policy);

}  // namespace sandboxrun
