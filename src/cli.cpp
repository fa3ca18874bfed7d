// The command line: options override the profile, and the result is
// validated before anything is created.
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sandboxrun/cli.hpp"
#include "sandboxrun/error.hpp"
#include "sandboxrun/profile.hpp"
#include "sandboxrun/seccomp.hpp"
#include "layers.hpp"

#ifndef SANDBOXRUN_VERSION
#define SANDBOXRUN_VERSION "0.1.0"
#endif

namespace sandboxrun {
namespace {

constexpr const char* footer = R"(Usage: sandboxrun [OPTIONS] -- COMMAND [ARGS...]
       sandboxrun cleanup | check [OPTIONS] | learn [OPTIONS] -- COMMAND [ARGS...]

The command and its arguments come after "--":
  sandboxrun --profile cpp -- g++ -O2 -o main main.cpp
  sandboxrun --profile cpp-run --cpu-time 2s --memory 256MiB --stdin /judge/1.in -- ./main

Durations take a unit: ms, s, m or h ("1500ms", "2s", "1.5s"). Sizes take B, K/KiB,
M/MiB, G/GiB or T/TiB, all binary ("256MB" is 256 MiB), or a plain number of bytes.
A limit option given the value "none" or "unlimited" (--memory none) removes that limit.

Profiles: --profile NAME is looked up as NAME.toml in each --profile-path DIR (in
the order given), then in each directory of $SANDBOXRUN_PROFILE_PATH (colon-
separated), then in /etc/sandboxrun/profiles, then among the stock profiles built
into sandboxrun (minimal, base; c, cpp, pascal, go to compile and c-run, cpp-run,
pascal-run, go-run to run; java, csharp, python, javascript). A NAME containing "/" or ending
in ".toml" is read as a file. See sandboxrun.profile(5) for the format.

Exit status:
  N       the command exited with status N
  128+N   the command was killed by signal N (a limit that kills uses SIGKILL;
          the verdict in --report/--meta says which limit)
  125     sandboxrun itself failed: bad option or profile, or sandbox setup
  126     the command was found but could not be executed
  127     the command was not found
)";

// Raw option values; converted after the profile is loaded, because they override it.
struct Options {
    std::string profile = "base";
    std::vector<std::string> profile_path;
    bool explain = false;
    std::string limits[7];
    std::vector<std::string> ro_binds, rw_binds, tmpfs;
    std::string cwd_mode, workdir, chdir;
    std::vector<std::string> env_set, env_pass;
    std::string hostname;
    std::string stdin_path, stdout_path, stderr_path, report_path, meta_path;
    std::string uid_range = "60000:5000";
};

struct LimitOption {
    const char* flag;
    const char* type_name;
    const char* help;
    std::optional<Duration> Limits::*duration;     // set for time limits
    std::optional<std::uint64_t> Limits::*amount;  // set for the others
    bool is_size;                                  // "64MiB" rather than a plain count
};

// Same order as Options::limits.
constexpr LimitOption limit_options[7] = {
    {"--cpu-time", "DUR", "CPU time of all processes and threads together", &Limits::cpu_time, nullptr, false},
    {"--wall-time", "DUR", "real time from the command's start to its end (what it leaves behind is killed)",
     &Limits::wall_time, nullptr, false},
    {"--memory", "SIZE", "memory of all processes together (cgroup; RLIMIT_AS without cgroups)", nullptr,
     &Limits::memory, true},
    {"--processes", "N", "processes and threads alive at once", nullptr, &Limits::processes, false},
    {"--file-size", "SIZE", "largest file the command may write, redirected output included", nullptr,
     &Limits::file_size, true},
    {"--open-files", "N", "open file descriptors per process", nullptr, &Limits::open_files, false},
    {"--stack", "SIZE", "stack size per process", nullptr, &Limits::stack, true},
};

std::uint64_t parse_count(std::string_view flag, const std::string& text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        throw Error(fmt::format("{}: bad number \"{}\"", flag, text));
    return value;
}

void apply_limit(Limits& limits, const LimitOption& opt, const std::string& text) {
    if (text == "none" || text == "unlimited") {   // (ulimit's word for it)
        if (opt.duration) (limits.*opt.duration).reset();
        else (limits.*opt.amount).reset();
        return;
    }
    std::uint64_t value;
    try {
        if (opt.duration) {
            limits.*opt.duration = parse_duration(text);
            value = static_cast<std::uint64_t>((limits.*opt.duration)->count());
        } else {
            value = opt.is_size ? parse_size(text) : parse_count(opt.flag, text);
            limits.*opt.amount = value;
        }
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(opt.flag)) throw;
        throw Error(fmt::format("{}: {}", opt.flag, e.what()));
    }
    if (value == 0) throw Error(fmt::format("{}: \"{}\" must be greater than 0", opt.flag, text));
}

// A relative bind source means a path in the invoking directory; the target
// must always be absolute.
Bind bind_option(std::string_view flag, const std::string& spec, bool writable) {
    std::size_t start = spec.starts_with('?') ? 1 : 0;
    auto colon = spec.find(':', start);
    std::string source = spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string target = colon == std::string::npos ? source : spec.substr(colon + 1);
    if (!target.starts_with('/'))
        throw Error(fmt::format("{}: bad bind \"{}\": DST \"{}\" is not an absolute path", flag, spec, target));
    if (!source.empty() && !source.starts_with('/'))
        source = (std::filesystem::current_path() / source).lexically_normal().string();
    try {
        return parse_bind(spec.substr(0, start) + source + ":" + target, writable, std::string(flag));
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", flag, e.what()));
    }
}

Tmpfs tmpfs_option(const std::string& spec) {
    auto colon = spec.find(':');
    Tmpfs t;
    t.origin = "--tmpfs";
    t.size = 64ULL << 20;
    try {
        t.target = normalize_path(spec.substr(0, colon));
        if (colon != std::string::npos) t.size = parse_size(spec.substr(colon + 1));
    } catch (const Error& e) {
        throw Error(fmt::format("--tmpfs: \"{}\": {}", spec, e.what()));
    }
    if (t.size == 0) throw Error(fmt::format("--tmpfs: \"{}\": size must be greater than 0", spec));
    return t;
}

bool valid_env_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

UidRange parse_uid_range(const std::string& text, const char* source) {
    auto bad = [&](std::string_view why) {
        return Error(fmt::format("{}: bad range \"{}\": {}", source, text, why));
    };
    auto colon = text.find(':');
    if (colon == std::string::npos) throw bad("expected FIRST:COUNT");
    std::uint64_t first, count;
    try {
        first = parse_count("--uid-range", text.substr(0, colon));
        count = parse_count("--uid-range", text.substr(colon + 1));
    } catch (const Error&) {
        throw bad("expected FIRST:COUNT, two numbers");
    }
    if (first == 0) throw bad("uid 0 is root on the host");
    if (count == 0) throw bad("COUNT must be at least 1");
    // (uid_t)-1 means "no change" to the kernel, so the last usable id is one below.
    // (Compared without adding: a sum could wrap around past 0, which is root.)
    if (first >= 0xFFFFFFFFULL || count > 0xFFFFFFFFULL - first) throw bad("the range goes past the largest uid");
    // nobody: services run as it, and inside every user namespace it is what
    // unmapped owners look like. A run as it would share both.
    if (first <= 65534 && 65534 - first < count) throw bad("it holds 65534 (nobody), which is not the run's alone");
    return UidRange{static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count)};
}

// A subcommand refuses what it would ignore: a judge's script must not take
// the option for done (check runs programs of its own). (--report and --meta
// are let pass to the subcommands: none writes them, as the man page says.)
void refuse_ignored(const CLI::App& app, const Invocation& inv) {
    struct Ignored {
        Command command;
        const char* name;
        bool takes_command;
        std::vector<const char*> options;
    };
    const Ignored subcommands[] = {
        {Command::cleanup, "cleanup", false, {}},   // (and every option of a sandbox, below)
        {Command::check, "check", false, {"--stdin", "--stdout", "--stderr", "--explain"}},
        {Command::learn, "learn", true, {"--explain"}},
        // (A judge passing it by mistake would take the policy for the output of an `ok` run.)
        {Command::explain, "--explain", false, {"--stdin", "--stdout", "--stderr"}},
    };
    for (const Ignored& s : subcommands) {
        if (s.command != inv.command) continue;
        if (!s.takes_command && !inv.argv.empty()) throw Error(fmt::format("{} takes no command", s.name));
        for (const char* option : s.options)
            if (app.get_option(option)->count() > 0) throw Error(fmt::format("{} does not take {}", s.name, option));
    }
    // cleanup makes no sandbox: every option of one (a limit, a bind) would be ignored.
    if (inv.command == Command::cleanup)
        for (const CLI::Option* opt : app.get_options())
            if (const std::string name = opt->get_name(); opt->count() > 0 &&
                !(name == "--cgroup-parent" || name == "--verbose" || name == "--quiet" || name == "--report" ||
                  name == "--meta"))
                throw Error(fmt::format("cleanup does not take {}", name));
}

// A refusal whose report would itself destroy a file the judge needs: none is written.
struct NoReport : Error {
    using Error::Error;
};

// By name, or one file of two names (a hard link).
// Devices and FIFOs (/dev/null for two of them) hold nothing to spoil.
bool same_file(const std::string& a, const std::string& b) {
    auto where = [](const std::string& path) {
        std::error_code ec;
        std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
        return ec ? std::filesystem::absolute(path, ec).lexically_normal() : p;
    };
    struct stat sa {}, sb {};
    const bool a_is = stat(a.c_str(), &sa) == 0, b_is = stat(b.c_str(), &sb) == 0;
    if ((a_is && !S_ISREG(sa.st_mode)) || (b_is && !S_ISREG(sb.st_mode))) return false;
    return a_is && b_is ? sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino : where(a) == where(b);
}

// Two of these naming one file would spoil each other: --stdout over the
// --stdin file truncates the judge's input before the run, the report
// replaces the output. (--stdout and --stderr may share one, as >f 2>&1.)
void refuse_shared_files(const Invocation& inv) {
    const std::pair<const char*, const std::optional<std::string>*> files[] = {
        {"--stdin", &inv.stdin_path}, {"--stdout", &inv.stdout_path}, {"--stderr", &inv.stderr_path},
        {"--report", &inv.report_path}, {"--meta", &inv.meta_path}};
    for (std::size_t i = 0; i < std::size(files); ++i)
        for (std::size_t j = i + 1; j < std::size(files); ++j) {
            const auto& [a, pa] = files[i];
            const auto& [b, pb] = files[j];
            if (!*pa || !*pb || (i == 1 && j == 2) || !same_file(**pa, **pb)) continue;
            const std::string message = fmt::format("{} and {} name the same file, {}", a, b, **pb);
            if (j >= 3) throw NoReport(message);   // (a report there would replace the other)
            throw Error(message);
        }
}

// Nor may a report replace what the run reads or runs otherwise: the
// caller's own stdin, stdout or stderr file where the run has it (--report
// /dev/stdout > out, without --stdout), the command, a profile.
void refuse_report_over_inputs(const Invocation& inv) {
    std::vector<std::pair<std::string, std::string>> others;   // what, path
    const bool inherited[3] = {!inv.stdin_path, !inv.stdout_path, !inv.stderr_path};
    for (int fd = 0; fd <= 2; ++fd)
        if (struct stat st {}; inherited[fd] && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            others.emplace_back(fmt::format("the caller's {}, which the run {}", fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr",
                                            fd == 0 ? "reads" : "writes too (give it --stdout or --stderr FILE)"),
                                fmt::format("/proc/self/fd/{}", fd));
    if (!inv.argv.empty() && inv.argv[0].find('/') != std::string::npos) others.emplace_back("the command", inv.argv[0]);
    for (const std::string& source : inv.policy.sources)
        if (!source.starts_with("<stock>/")) others.emplace_back("the profile", source);
    for (const auto& [option, path] : {std::pair{"--report", &inv.report_path}, std::pair{"--meta", &inv.meta_path}})
        for (const auto& [what, other] : others)
            if (*path && same_file(**path, other))
                throw NoReport(fmt::format("{} {} is {}: the report would spoil it", option, **path, what));
}

// A profile a run could rewrite, or plant where the next run looks first,
// would let one run widen the next one's sandbox (rw = ["/:/host"]); so would
// sandboxrun's own state (a run started in /run could rewrite the compiled
// filters later runs load, or free a uid still in use). The invoking
// directory counts whatever this step's cwd mode (an earlier step may have
// had it writable).
void refuse_what_runs_could_rewrite(const std::vector<std::string>& profile_path, const Policy& policy) {
    const WritableDirs writable(policy);
    std::vector<std::string> state = {"/run/sandboxrun", mode_record_dir(), default_seccomp_cache_dir()};
    std::erase(state, "");
    // One that is there but not a directory of ours is never used (open_own_dir
    // refuses it): a link another user planted at /tmp/sandboxrun-modes-UID
    // must not make it lead to each work dir and refuse every run.
    std::erase_if(state, [](const std::string& dir) {
        struct stat st {};
        return lstat(dir.c_str(), &st) == 0 && (!S_ISDIR(st.st_mode) || st.st_uid != geteuid());
    });
    for (const std::string& dir : state)
        if (auto w = writable.find(dir))
            throw Error(fmt::format("{} is a directory runs can write (the invoking directory counts whatever its "
                                    "--cwd-mode: an earlier run's may have been rw), and holds sandboxrun's own "
                                    "state ({}): start sandboxrun elsewhere or bind less",
                                    w->root, dir));
    // (A file bound writable is no directory runs can write, but it may be a file of the state.)
    for (const Bind& b : policy.fs.binds) {
        std::error_code ec;
        const std::string real = b.writable ? std::filesystem::weakly_canonical(b.source, ec).string() : "";
        for (const std::string& dir : state)
            if (!real.empty() && !ec && (real + "/").starts_with(dir + "/"))
                throw Error(fmt::format("{}: {} is sandboxrun's own state ({}): no run may write it", b.origin,
                                        b.source, dir));
    }
    auto refuse_beneath = [&](const std::string& path, std::string_view what) {
        if (auto w = writable.find(path))
            throw Error(fmt::format("{} {} lies beneath {}, a directory runs can write: a run could rewrite or plant "
                                    "the profile of the next run; keep profiles elsewhere",
                                    what, path, w->root));
    };
    for (const std::string& source : policy.sources)
        if (!source.starts_with("<stock>/")) refuse_beneath(source, "profile");
    for (const std::string& dir : profile_search_dirs(profile_path)) refuse_beneath(dir, "profile directory");
}

void apply_overrides(const CLI::App& app, const Options& o, Policy& p) {
    for (int i = 0; i < 7; ++i)
        if (app.get_option(limit_options[i].flag)->count() > 0) apply_limit(p.limits, limit_options[i], o.limits[i]);

    // Binds, tmpfs mounts and flag pairs in command-line order, so that of two
    // options with the same target, or --network and --no-network, the later wins.
    const CLI::Option* ro = app.get_option("--ro-bind");
    const CLI::Option* rw = app.get_option("--rw-bind");
    const CLI::Option* tmpfs = app.get_option("--tmpfs");
    const CLI::Option* network = app.get_option("--network");
    const CLI::Option* no_network = app.get_option("--no-network");
    const CLI::Option* loopback = app.get_option("--loopback");
    const CLI::Option* no_loopback = app.get_option("--no-loopback");
    std::size_t next_ro = 0, next_rw = 0, next_tmpfs = 0;
    for (const CLI::Option* opt : app.parse_order()) {
        if (opt == ro) add_bind(p.fs, bind_option("--ro-bind", o.ro_binds.at(next_ro++), false));
        else if (opt == rw) add_bind(p.fs, bind_option("--rw-bind", o.rw_binds.at(next_rw++), true));
        else if (opt == tmpfs) add_tmpfs(p.fs, tmpfs_option(o.tmpfs.at(next_tmpfs++)));
        else if (opt == network || opt == no_network) p.net.enabled = opt == network;
        else if (opt == loopback || opt == no_loopback) p.net.loopback = opt == loopback;
    }

    if (app.get_option("--cwd-mode")->count() > 0) {
        if (o.cwd_mode == "rw") p.fs.cwd = CwdMode::rw;
        else if (o.cwd_mode == "ro") p.fs.cwd = CwdMode::ro;
        else if (o.cwd_mode == "none") p.fs.cwd = CwdMode::none;
        else throw Error(fmt::format("--cwd-mode: bad value \"{}\": use rw, ro or none", o.cwd_mode));
    }
    auto path_option = [](std::string_view flag, const std::string& value) {
        try {
            return normalize_path(value);
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}", flag, e.what()));
        }
    };
    if (app.get_option("--workdir")->count() > 0) {
        p.fs.workdir = path_option("--workdir", o.workdir);
        p.fs.workdir_origin = "--workdir";
    }
    if (app.get_option("--chdir")->count() > 0) p.fs.chdir = path_option("--chdir", o.chdir);

    // --env-pass wins over the profile's value (where the variable is set:
    // else the profile's stays), --env over both.
    for (const auto& name : o.env_pass) {
        if (!valid_env_name(name)) throw Error(fmt::format("--env-pass: \"{}\" is not a variable name", name));
        if (std::find(p.env.pass.begin(), p.env.pass.end(), name) == p.env.pass.end()) p.env.pass.push_back(name);
        if (std::getenv(name.c_str())) p.env.set.erase(name);
    }
    for (const auto& pair : o.env_set) {
        auto eq = pair.find('=');
        std::string name = pair.substr(0, eq);
        if (eq == std::string::npos || !valid_env_name(name))
            throw Error(fmt::format("--env: bad value \"{}\": expected NAME=VALUE", pair));
        p.env.set[name] = pair.substr(eq + 1);
    }

    if (app.get_option("--hostname")->count() > 0) p.hostname = o.hostname;
}

void define_options(CLI::App& app, Options& o, Invocation& inv) {
    app.set_help_flag("-h,--help", "print this help and exit");
    app.set_version_flag("--version", "sandboxrun " SANDBOXRUN_VERSION, "print the version and exit");

    const std::string profile_group = "Profile";
    app.add_option("--profile", o.profile, "profile NAME or FILE to load (default: base)")
        ->type_name("NAME")->group(profile_group);
    app.add_option("--profile-path", o.profile_path, "look for profiles in DIR first (repeatable)")
        ->type_name("DIR")->allow_extra_args(false)->group(profile_group);
    app.add_flag("--explain", o.explain, "print the effective policy as a profile and exit; no command needed")
        ->group(profile_group);

    for (int i = 0; i < 7; ++i)
        app.add_option(limit_options[i].flag, o.limits[i], limit_options[i].help)
            ->type_name(limit_options[i].type_name)->group("Limits (\"none\" removes the profile's limit)");

    const std::string fs_group = "Filesystem";
    app.add_option("--ro-bind", o.ro_binds,
                   "bind host SRC read-only at DST (default: the same path); repeatable, replaces a "
                   "profile bind with the same DST; a relative SRC is in the invoking directory")
        ->type_name("SRC[:DST]")->allow_extra_args(false)->group(fs_group);
    app.add_option("--rw-bind", o.rw_binds, "like --ro-bind, writable")
        ->type_name("SRC[:DST]")->allow_extra_args(false)->group(fs_group);
    app.add_option("--tmpfs", o.tmpfs, "a fresh tmpfs at DST of SIZE (default 64MiB); repeatable")
        ->type_name("DST[:SIZE]")->allow_extra_args(false)->group(fs_group);
    app.add_option("--cwd-mode", o.cwd_mode,
                   "how the invoking directory appears at the workdir: rw, ro, or none (not at all)")
        ->type_name("MODE")->group(fs_group);
    app.add_option("--workdir", o.workdir, "where the invoking directory is mounted (profile default /box)")
        ->type_name("DIR")->group(fs_group);
    app.add_option("--chdir", o.chdir, "directory the command starts in (default: the workdir)")
        ->type_name("DIR")->group(fs_group);

    const std::string env_group = "Environment and network";
    app.add_option("--env", o.env_set, "set NAME to VALUE in the command's environment (repeatable)")
        ->type_name("NAME=VALUE")->allow_extra_args(false)->group(env_group);
    app.add_option("--env-pass", o.env_pass, "copy NAME from sandboxrun's environment if set (repeatable)")
        ->type_name("NAME")->allow_extra_args(false)->group(env_group);
    // Flag pairs: the last one given wins (apply_overrides reads them in command-line order).
    app.add_flag("--network")->description("share the host's network with the command")->group(env_group);
    app.add_flag("--no-network")->description("a private network namespace without interfaces but lo (the default)")
        ->group(env_group);
    app.add_flag("--loopback")->description("bring up lo in the private network namespace (the default)")->group(env_group);
    app.add_flag("--no-loopback")->description("leave lo down: no network at all, not even 127.0.0.1")->group(env_group);
    app.add_option("--hostname", o.hostname, "host name inside the sandbox")->type_name("NAME")->group(env_group);

    const std::string io_group = "Input, output and reports";
    app.add_option("--stdin", o.stdin_path, "the command reads FILE as its standard input")
        ->type_name("FILE")->group(io_group);
    app.add_option("--stdout", o.stdout_path, "write the command's standard output to FILE (capped by --file-size)")
        ->type_name("FILE")->group(io_group);
    app.add_option("--stderr", o.stderr_path, "write the command's standard error to FILE (capped by --file-size)")
        ->type_name("FILE")->group(io_group);
    app.add_option("--report", o.report_path, "write the run's verdict and measurements to FILE as JSON")
        ->type_name("FILE")->group(io_group);
    app.add_option("--meta", o.meta_path, "write the same in isolate's key:value meta-file format")
        ->type_name("FILE")->group(io_group);

    const std::string misc_group = "Other";
    app.add_option("--uid-range", o.uid_range,
                   "host uids/gids for runs when started as root: each run gets its own uid from "
                   "FIRST..FIRST+COUNT-1 (default 60000:5000)")
        ->type_name("FIRST:COUNT")->envname("SANDBOXRUN_UID_RANGE")->group(misc_group);
    app.add_option_function<std::string>("--cgroup-parent", [&inv](const std::string& dir) { inv.cgroup_parent = dir; },
                                         "make each run's cgroup beneath the cgroup directory DIR (a delegated cgroup "
                                         "that holds no process) instead of beneath sandboxrun's own; see "
                                         "docs/cgroups.md")
        ->type_name("DIR")->envname("SANDBOXRUN_CGROUP_PARENT")->group(misc_group);
    app.add_flag("-v,--verbose", inv.verbose, "describe each setup step on stderr")->group(misc_group);
    app.add_flag("-q,--quiet", inv.quiet, "no warnings on stderr (errors are still printed)")->group(misc_group);
}

// The value of `--flag VALUE` or `--flag=VALUE` as written (the last one),
// for input the parser refused before it stored anything; empty values are no path.
std::optional<std::string> option_value(const std::vector<std::string>& args, std::string_view flag) {
    std::optional<std::string> value;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == flag && i + 1 < args.size()) value = args[++i];
        else if (a.size() > flag.size() && a.starts_with(flag) && a[flag.size()] == '=') value = std::string(a.substr(flag.size() + 1));
    }
    if (value && value->empty()) value.reset();
    return value;
}

}  // namespace

Invocation parse_command_line(int argc, char** argv) {
    Invocation inv;
    Options o;
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto dashdash = std::find(args.begin(), args.end(), "--");
    if (dashdash != args.end()) {
        inv.argv.assign(dashdash + 1, args.end());
        args.erase(dashdash, args.end());
    }

    CLI::App app{"sandboxrun: run COMMAND in a sandbox with limits, for online judges", "sandboxrun"};
    app.footer(footer);
    define_options(app, o, inv);
    // A judge adds per-problem overrides to its defaults: of an option given
    // twice, the last counts (repeatable ones, such as --ro-bind, keep all).
    for (CLI::Option* opt : app.get_options())
        if (opt->get_expected_max() == 1) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    CLI::App* cleanup = app.add_subcommand("cleanup", "remove the cgroups of runs whose supervisor was killed");
    CLI::App* check = app.add_subcommand("check", "check that this host can enforce the profile and report what falls back");
    CLI::App* learn = app.add_subcommand("learn", "run COMMAND under the profile and report the syscalls it needed beyond it");
    for (CLI::App* sub : {cleanup, check, learn}) sub->fallthrough();
    app.require_subcommand(0, 1);

    // A run asked for a report gets one for any refused input too, so that a
    // judge reusing the path never reads an earlier run's verdict.
    const std::vector<std::string> option_args = args;
    auto refuse = [&](const std::string& message) {
        if (inv.command == Command::run && !inv.report_path && !inv.meta_path) {
            // Refused by the parser: the paths as written, if they were.
            inv.report_path = option_value(option_args, "--report");
            inv.meta_path = option_value(option_args, "--meta");
        }
        if (inv.command != Command::run || (!inv.report_path && !inv.meta_path)) throw Error(message);
        // The report is written by the rules of the directories runs can
        // write: the writable binds known so far, --rw-bind's among them.
        Policy refused;
        for (Bind& b : inv.policy.fs.binds)
            if (b.writable) refused.fs.binds.push_back(std::move(b));
        for (const std::string& spec : o.rw_binds) try {
                refused.fs.binds.push_back(bind_option("--rw-bind", spec, true));
            } catch (const Error&) {
            }
        inv.policy = std::move(refused);
        inv.setup_error = message;
    };
    try {
        std::reverse(args.begin(), args.end());   // CLI11 consumes the vector from its back
        app.parse(args);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        inv.exit_now = 0;
        return inv;
    } catch (const CLI::CallForVersion&) {
        std::cout << "sandboxrun " SANDBOXRUN_VERSION "\n";
        inv.exit_now = 0;
        return inv;
    } catch (const CLI::ExtrasError&) {
        const auto extra = app.remaining();
        if (!extra.empty() && extra.front().starts_with('-'))
            refuse(fmt::format("unknown option {} (see sandboxrun --help)", extra.front()));
        else
            refuse(fmt::format("unexpected arguments: {} (put the command after \"--\"; see sandboxrun --help)",
                               fmt::join(extra, " ")));
        return inv;
    } catch (const CLI::ParseError& e) {
        refuse(fmt::format("{} (see sandboxrun --help)", e.what()));
        return inv;
    }

    if (cleanup->parsed()) inv.command = Command::cleanup;
    else if (check->parsed()) inv.command = Command::check;
    else if (learn->parsed()) inv.command = Command::learn;
    else if (o.explain) inv.command = Command::explain;

    try {
        auto set_path = [&](const char* flag, const std::string& value, std::optional<std::string>& field) {
            if (app.get_option(flag)->count() == 0) return;
            if (value.empty()) throw Error(fmt::format("{}: empty file name", flag));
            field = value;
        };
        set_path("--report", o.report_path, inv.report_path);
        set_path("--meta", o.meta_path, inv.meta_path);
        set_path("--stdin", o.stdin_path, inv.stdin_path);
        set_path("--stdout", o.stdout_path, inv.stdout_path);
        set_path("--stderr", o.stderr_path, inv.stderr_path);
        // Our own stdout or stderr is the caller's file, as inherited (opened
        // again it would be truncated: a judge's 2>>log lost its lines).
        for (auto [option, path, own] :
             {std::tuple{"--stdout", &inv.stdout_path, 1}, std::tuple{"--stderr", &inv.stderr_path, 2}})
            if (const int fd = *path ? caller_output_fd(**path) : -1; fd == own) path->reset();
            else if (fd >= 0) throw Error(fmt::format("{} {}: the caller's other stream; redirect it in the shell ({})",
                                                      option, **path, own == 1 ? "1>&2" : "2>&1"));
        refuse_shared_files(inv);
        refuse_ignored(app, inv);
        inv.uid_range = parse_uid_range(o.uid_range, option_value(option_args, "--uid-range") ? "--uid-range" : "SANDBOXRUN_UID_RANGE");

        if (inv.command == Command::cleanup) return inv;
        if ((inv.command == Command::run || inv.command == Command::learn) && inv.argv.empty())
            throw Error("no command given: put it after \"--\", e.g. sandboxrun --profile c -- ./main");
        if (!inv.argv.empty() && inv.argv[0].empty()) throw Error("the command is an empty string");

        for (const std::string& dir : o.profile_path)   // a typo would fall back to a stock profile
            if (std::error_code ec; !std::filesystem::is_directory(dir, ec))
                throw Error(fmt::format("--profile-path {}: {}", dir, ec ? ec.message() : "not a directory"));
        inv.policy = load_profile(o.profile, default_resolver(o.profile_path));
        apply_overrides(app, o, inv.policy);
        validate_policy(inv.policy);
        if (inv.command != Command::explain) refuse_what_runs_could_rewrite(o.profile_path, inv.policy);
        refuse_report_over_inputs(inv);
    } catch (const NoReport&) {
        throw;
    } catch (const Error& e) {
        refuse(e.what());
    }
    return inv;
}

}  // namespace sandboxrun
