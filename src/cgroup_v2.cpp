// cgroup v2: one directory <parent>/sandboxrun/<run_id> with memory, pids
// and cpu enabled down to it. <parent> is the --cgroup-parent, or our own
// cgroup, which we first leave for a leaf when we are alone in it (a cgroup
// that hands controllers down may hold no process; see docs/cgroups.md).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sandboxrun/cgroup_detail.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun::cgroup_detail {
namespace {

class CgroupV2 final : public GroupBase {
public:
    explicit CgroupV2(GroupDir group) : group_(std::move(group)) {}

    ~CgroupV2() override {
        try {
            destroy_group(group_.path());
        } catch (...) {  // a destructor must not throw (only bad_alloc could get here)
        }
    }

    void add_process(pid_t pid) override {
        std::string path = group_.path() + "/cgroup.procs";
        if (int err = write_file(path, std::to_string(pid))) {
            // The file is there: the kernel hides the group from a writer in a
            // cgroup namespace whose root does not hold it (nsdelegate).
            const char* why = err == ENOENT && ::access(path.c_str(), F_OK) == 0
                                  ? " (outside the root of this process's cgroup namespace: give a --cgroup-parent "
                                    "inside it)"
                                  : "";
            throw sys_error("cgroup: add process " + std::to_string(pid) + why, path, err);
        }
    }

    std::optional<std::uint64_t> cpu_usec() override {
        return keyed_value(read_file_at(group_.fd(), "cpu.stat").value_or(""), "usage_usec");
    }

    CgroupUsage cpu_usage() {
        CgroupUsage u;
        std::string cpu = read_file_at(group_.fd(), "cpu.stat").value_or("");
        u.cpu_usec = keyed_value(cpu, "usage_usec");
        u.user_usec = keyed_value(cpu, "user_usec");
        // The kernel scales user and system separately and rounds each; derive
        // system so that the two add up to the exact total.
        if (u.cpu_usec && u.user_usec) u.system_usec = *u.cpu_usec - std::min(*u.cpu_usec, *u.user_usec);
        return u;
    }

    CgroupUsage usage() override {
        CgroupUsage u = cpu_usage();
        u.memory_peak = read_number_at(group_.fd(), "memory.peak");  // kernel >= 5.19
        const std::string events = read_file_at(group_.fd(), "memory.events").value_or("");
        u.oom_killed = keyed_value(events, "oom_kill").value_or(0) > 0;
        // "oom" counts where the group's own limit could not be met (a
        // parent's counts in the parent's).
        u.memory_limit_reached = keyed_value(events, "oom").value_or(0) > 0 || reached(u.memory_peak, memory_held_at);
        u.pids_limit_hit = keyed_value(read_file_at(group_.fd(), "pids.events").value_or(""), "max").value_or(0) > 0;
        return u;
    }

    void kill_all() override { kill_until_empty(group_.path(), empty_budget); }
    int clone_into_fd() const override { return group_.fd(); }
    std::string describe() const override { return "v2: " + group_.path(); }
    std::vector<std::string> unapplied() const override { return unapplied_; }
    std::vector<std::string> directories() const override { return {group_.path()}; }

    // Returns false (and records why) when the limit could not be written.
    bool set_limit(const char* what, const char* file, const std::string& value, bool optional) {
        int err = write_file_at(group_.fd(), file, value);
        if (err && !(optional && err == ENOENT))
            unapplied_.push_back(std::string(what) + ": cannot write " + file + ": " + std::strerror(err));
        return !err;
    }
    void not_available(const char* what, const std::string& controller, const std::string& parent_dir) {
        unapplied_.push_back(std::string(what) + ": the " + controller + " controller is not available in " +
                             parent_dir);
    }

private:
    GroupDir group_;
    std::vector<std::string> unapplied_;
};

// What every v2 warning ends with: the two setups that work.
constexpr const char* advice =
    "; for memory/pids/cpu limits pass --cgroup-parent DIR (or SANDBOXRUN_CGROUP_PARENT) naming a writable "
    "cgroup that holds no process, or start sandboxrun alone in a delegated cgroup "
    "(systemd-run --scope -p Delegate=yes sandboxrun ...); see docs/cgroups.md";

std::string explain(int err) {
    if (err == EBUSY) return " (it holds processes, and cgroup v2 allows no process in a non-root cgroup that "
                             "hands controllers to its children)";
    if (err == EACCES || err == EPERM || err == EROFS) return " (not delegated to this user)";
    if (err == EAGAIN) return " (cgroup.max.depth or cgroup.max.descendants of it or an ancestor is reached)";
    return "";
}

// Those of `wanted` not yet in dir/cgroup.subtree_control (all when unreadable).
std::vector<std::string> missing_controllers(const std::string& dir, const std::vector<std::string>& wanted) {
    auto enabled = words(read_file(dir + "/cgroup.subtree_control").value_or(""));
    std::vector<std::string> out;
    for (const auto& c : wanted)
        if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) out.push_back(c);
    return out;
}

// Writes the missing ones of `wanted` to dir/cgroup.subtree_control. 0 or errno.
int enable_controllers(const std::string& dir, const std::vector<std::string>& wanted) {
    if (::access((dir + "/cgroup.subtree_control").c_str(), F_OK) != 0) return errno;
    std::string request;
    for (const auto& c : missing_controllers(dir, wanted)) request += (request.empty() ? "+" : " +") + c;
    return request.empty() ? 0 : write_file(dir + "/cgroup.subtree_control", request);
}

std::string enable_failure(const std::string& dir, int err) {
    return "cgroup v2: cannot enable controllers in " + dir + "/cgroup.subtree_control: " + std::strerror(err) +
           explain(err) + advice;
}

}  // namespace

std::string leave_own_cgroup(const std::string& own_dir, pid_t self) {
    std::string procs_file = own_dir + "/cgroup.procs";
    auto procs = read_file(procs_file);
    if (!procs) return "cgroup v2: cannot read " + procs_file + ": " + std::strerror(errno) + advice;
    std::string me = std::to_string(self);
    bool inside = false;
    std::vector<std::string> others;
    for (auto& w : words(*procs)) {
        if (w == me) inside = true;
        else others.push_back(std::move(w));
    }
    if (!others.empty()) {
        std::string listed;
        for (std::size_t i = 0; i < others.size() && i < 5; ++i) listed += (i ? " " : "") + others[i];
        if (others.size() > 5) listed += " ...";
        return "cgroup v2: cannot use " + own_dir + " for run groups: its cgroup.procs lists " +
               std::to_string(others.size()) + " process(es) besides sandboxrun (pid " + me + "): " + listed +
               ", and a non-root cgroup v2 can hand controllers to child cgroups only when it holds no process" +
               advice;
    }
    if (!inside) return "";  // an earlier create of this process moved it already
    std::string leaf = own_dir + "/" + leaf_name;
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
        int err = errno;
        return "cgroup v2: cannot create " + leaf + ": " + std::strerror(err) + explain(err) + advice;
    }
    if (int err = write_file(leaf + "/cgroup.procs", me))
        return "cgroup v2: cannot move sandboxrun (pid " + me + ") by writing " + leaf + "/cgroup.procs: " +
               std::strerror(err) + explain(err) + advice;
    return "";
}

std::unique_ptr<Cgroup> create_v2(const std::string& parent_dir, bool is_own,
                                  const std::vector<std::string>& available, const Limits& limits,
                                  const std::string& run_id, std::vector<std::string>& warnings) {
    auto has = [&](const char* c) { return std::find(available.begin(), available.end(), c) != available.end(); };
    std::vector<std::string> wanted;
    for (const char* c : {"memory", "pids", "cpu"})
        if (has(c)) wanted.push_back(c);

    if (is_own && !is_root_cgroup(parent_dir) && !missing_controllers(parent_dir, wanted).empty()) {
        std::string why = leave_own_cgroup(parent_dir, ::getpid());
        if (!why.empty()) {
            warnings.push_back(why);
            return nullptr;
        }
    }
    if (int err = enable_controllers(parent_dir, wanted)) {
        warnings.push_back(enable_failure(parent_dir, err));
        return nullptr;
    }
    std::string base = parent_dir + "/" + base_name;
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
        warnings.push_back("cgroup v2: cannot create " + base + ": " + std::strerror(errno) + explain(errno) +
                           "; no cgroup limits");
        return nullptr;
    }
    if (int err = enable_controllers(base, wanted)) {
        warnings.push_back(enable_failure(base, err));
        return nullptr;
    }

    std::unique_ptr<CgroupV2> cg;
    try {
        cg = std::make_unique<CgroupV2>(make_group(parent_dir, run_id));
    } catch (const Error& e) {
        warnings.push_back(std::string("cgroup v2: ") + e.what() + "; no cgroup limits");
        return nullptr;
    }
    if (limits.memory) {
        if (!has("memory")) {
            cg->not_available("memory", "memory", parent_dir);
        } else {
            cg->limits_memory = cg->set_limit("memory", "memory.max", std::to_string(*limits.memory), false);
            cg->set_limit("memory", "memory.swap.max", "0", true);  // no swap file without CONFIG_SWAP
        }
    }
    if (limits.processes) {
        if (!has("pids")) cg->not_available("processes", "pids", parent_dir);
        else cg->limits_processes = cg->set_limit("processes", "pids.max", std::to_string(*limits.processes + 1), false);   // + pid 1, ours
    }
    // (A judge's slice may hold the run below what it asked for.)
    cg->note_held(parent_dir, cg->limits_memory ? "memory.max" : nullptr, cg->limits_processes ? "pids.max" : nullptr,
                  limits, warnings);
    return cg;
}

}  // namespace sandboxrun::cgroup_detail
