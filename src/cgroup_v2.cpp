// cgroup v2: one directory <own>/sandboxrun/<run_id> with memory, pids and
// cpu enabled down to it. Needs a delegated own cgroup (see docs/cgroups.md).
#include <sys/stat.h>

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
        if (int err = write_file(path, std::to_string(pid)))
            throw sys_error("cgroup: add process " + std::to_string(pid), path, err);
    }

    std::optional<std::uint64_t> cpu_usec() override {
        return keyed_value(read_file(group_.path() + "/cpu.stat").value_or(""), "usage_usec");
    }

    CgroupUsage usage() override {
        const std::string& dir = group_.path();
        CgroupUsage u;
        std::string cpu = read_file(dir + "/cpu.stat").value_or("");
        u.cpu_usec = keyed_value(cpu, "usage_usec");
        u.user_usec = keyed_value(cpu, "user_usec");
        u.system_usec = keyed_value(cpu, "system_usec");
        u.memory_peak = read_number(dir + "/memory.peak");  // kernel >= 5.19
        u.oom_killed = keyed_value(read_file(dir + "/memory.events").value_or(""), "oom_kill").value_or(0) > 0;
        u.pids_limit_hit = keyed_value(read_file(dir + "/pids.events").value_or(""), "max").value_or(0) > 0;
        return u;
    }

    void kill_all() override { kill_until_empty(group_.path(), empty_budget); }
    std::string describe() const override { return "v2: " + group_.path(); }
    std::vector<std::string> unapplied() const override { return unapplied_; }
    std::vector<std::string> directories() const override { return {group_.path()}; }

    void set_limit(const char* what, const std::string& file, const std::string& value, bool optional) {
        int err = write_file(group_.path() + "/" + file, value);
        if (err && !(optional && err == ENOENT))
            unapplied_.push_back(std::string(what) + ": cannot write " + file + ": " + std::strerror(err));
    }
    void not_available(const char* what, const std::string& controller, const std::string& own_dir) {
        unapplied_.push_back(std::string(what) + ": the " + controller + " controller is not available in " + own_dir);
    }

private:
    GroupDir group_;
    std::vector<std::string> unapplied_;
};

// Writes the missing ones of `wanted` to dir/cgroup.subtree_control. 0 or errno.
int enable_controllers(const std::string& dir, const std::vector<std::string>& wanted) {
    auto current = read_file(dir + "/cgroup.subtree_control");
    if (!current) return errno;
    auto enabled = words(*current);
    std::string request;
    for (const auto& c : wanted)
        if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) request += (request.empty() ? "+" : " +") + c;
    return request.empty() ? 0 : write_file(dir + "/cgroup.subtree_control", request);
}

std::string enable_failure(const std::string& dir, int err) {
    std::string why;
    if (err == EBUSY) why = " (it has processes of its own, and cgroup v2 allows no process in a cgroup that "
                            "hands controllers to its children)";
    else if (err == EACCES || err == EPERM || err == EROFS) why = " (not delegated to this user)";
    return "cgroup v2: cannot enable controllers in " + dir + ": " + std::strerror(err) + why +
           "; run sandboxrun from a delegated cgroup (systemd Delegate=yes) to get memory/pids/cpu limits";
}

}  // namespace

std::unique_ptr<Cgroup> create_v2(const std::string& own_dir, const std::vector<std::string>& available,
                                  const Limits& limits, const std::string& run_id,
                                  std::vector<std::string>& warnings) {
    auto has = [&](const char* c) { return std::find(available.begin(), available.end(), c) != available.end(); };
    std::vector<std::string> wanted;
    for (const char* c : {"memory", "pids", "cpu"})
        if (has(c)) wanted.push_back(c);

    if (int err = enable_controllers(own_dir, wanted)) {
        warnings.push_back(enable_failure(own_dir, err));
        return nullptr;
    }
    std::string base = own_dir + "/" + base_name;
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
        warnings.push_back("cgroup v2: cannot create " + base + ": " + std::strerror(errno) + "; no cgroup limits");
        return nullptr;
    }
    if (int err = enable_controllers(base, wanted)) {
        warnings.push_back(enable_failure(base, err));
        return nullptr;
    }

    std::unique_ptr<CgroupV2> cg;
    try {
        cg = std::make_unique<CgroupV2>(make_group(own_dir, run_id));
    } catch (const Error& e) {
        warnings.push_back(std::string("cgroup v2: ") + e.what() + "; no cgroup limits");
        return nullptr;
    }
    if (limits.memory) {
        if (!has("memory")) {
            cg->not_available("memory", "memory", own_dir);
        } else {
            cg->set_limit("memory", "memory.max", std::to_string(*limits.memory), false);
            cg->set_limit("memory", "memory.swap.max", "0", true);  // no swap file without CONFIG_SWAP
        }
    }
    if (limits.processes) {
        if (!has("pids")) cg->not_available("processes", "pids", own_dir);
        else cg->set_limit("processes", "pids.max", std::to_string(*limits.processes), false);
    }
    return cg;
}

}  // namespace sandboxrun::cgroup_detail
