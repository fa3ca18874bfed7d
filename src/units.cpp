// Sizes and durations as people write them in profiles and on the command
// line. Exact integer arithmetic: "1.5GiB" is 1610612736 bytes, and anything
// that does not come out whole (half a byte, a tenth of a millisecond) is an
// error rather than being rounded silently.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"

namespace sandboxrun {
namespace {

using u128 = unsigned __int128;

struct Unit {
    std::string_view name;
    std::uint64_t factor;
};

// All binary: a judge's "256MB" means 256 MiB, never 256 000 000 bytes.
constexpr Unit size_units[] = {
    {"b", 1},
    {"k", 1ULL << 10}, {"kb", 1ULL << 10}, {"kib", 1ULL << 10},
    {"m", 1ULL << 20}, {"mb", 1ULL << 20}, {"mib", 1ULL << 20},
    {"g", 1ULL << 30}, {"gb", 1ULL << 30}, {"gib", 1ULL << 30},
    {"t", 1ULL << 40}, {"tb", 1ULL << 40}, {"tib", 1ULL << 40},
};

constexpr Unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"min", 60'000}, {"h", 3'600'000},
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A decimal number: "1.25" is 125 / 100.
struct Number {
    u128 digits = 0;      // all digits, the decimal point removed
    u128 divisor = 1;     // 10^(digits after the point)
};

// Splits "1.5GiB" into the number and the unit text; `what` is "size" or "duration".
std::pair<Number, std::string_view> split_number(std::string_view text, std::string_view original,
                                                 std::string_view what, std::string_view units_hint) {
    Number n;
    std::size_t i = 0;
    bool any_digit = false, point = false;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            any_digit = true;
            n.digits = n.digits * 10 + static_cast<unsigned>(c - '0');
            if (point) n.divisor *= 10;
            // 10^30 is far beyond any size or duration; stop before u128 could wrap.
            if (n.digits > (u128(1) << 100) || n.divisor > (u128(1) << 100))
                throw Error(fmt::format("bad {} \"{}\": {}", what, original,
                                        point ? "too many digits" : "too large"));
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any_digit || (point && text[i - 1] == '.'))
        throw Error(fmt::format("bad {} \"{}\": expected a number followed by a unit ({})", what,
                                original, units_hint));
    return {n, trim(text.substr(i))};
}

std::uint64_t scale(const Number& n, std::uint64_t factor, std::string_view original,
                    std::string_view what, std::string_view whole) {
    u128 total = n.digits * factor;
    if (total % n.divisor != 0)
        throw Error(fmt::format("bad {} \"{}\": not a whole number of {}", what, original, whole));
    total /= n.divisor;
    if (total > INT64_MAX) throw Error(fmt::format("bad {} \"{}\": too large", what, original));
    return static_cast<std::uint64_t>(total);
}

}  // namespace

std::uint64_t parse_size(std::string_view original) {
    constexpr std::string_view hint = "B, KiB, MiB, GiB or TiB";
    auto text = trim(original);
    if (text.empty()) throw Error("bad size \"\": empty");
    auto [number, unit_text] = split_number(text, original, "size", hint);
    if (unit_text.empty()) return scale(number, 1, original, "size", "bytes");
    auto unit = lower(unit_text);
    for (const auto& u : size_units)
        if (u.name == unit) return scale(number, u.factor, original, "size", "bytes");
    throw Error(fmt::format("bad size \"{}\": unknown unit \"{}\" (use {})", original, unit_text, hint));
}

Duration parse_duration(std::string_view original) {
    constexpr std::string_view hint = "ms, s, m or h";
    auto text = trim(original);
    if (text.empty()) throw Error("bad duration \"\": empty");
    auto [number, unit_text] = split_number(text, original, "duration", hint);
    if (unit_text.empty())
        throw Error(fmt::format("bad duration \"{}\": a unit is required ({})", original, hint));
    // Bounded so that deadlines and microsecond counts built from it cannot
    // overflow (which ended runs at once): far beyond any judge's need.
    constexpr std::uint64_t max_ms = 1000ULL * 3'600'000;
    for (const auto& u : duration_units)
        if (u.name == unit_text) {
            std::uint64_t ms = scale(number, u.factor, original, "duration", "milliseconds");
            if (ms > max_ms) throw Error(fmt::format("bad duration \"{}\": too large (at most 1000h)", original));
            return Duration(ms);
        }
    throw Error(fmt::format("bad duration \"{}\": unknown unit \"{}\" (use {})", original, unit_text,
                            hint));
}

std::string format_size(std::uint64_t bytes) {
    constexpr std::pair<std::uint64_t, std::string_view> units[] = {
        {1ULL << 40, "TiB"}, {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
    if (bytes == 0) return "0B";
    for (auto [factor, name] : units)
        if (bytes % factor == 0) return fmt::format("{}{}", bytes / factor, name);
    return fmt::format("{}B", bytes);
}

std::string format_duration(Duration d) {
    auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);
}

}  // namespace sandboxrun
