// cgroup v1: one directory <parent>/sandboxrun/<run_id> in each of the memory,
// pids and cpuacct hierarchies (fewer when they are co-mounted or missing).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sandboxrun/cgroup_detail.hpp"
#include "sandboxrun/error.hpp"

namespace sandboxrun::cgroup_detail {
namespace {

struct Group {
    GroupDir dir;
    std::vector<std::string> controllers;
    int tasks_fd = -1;   // <dir>/tasks, open for writing
};

class CgroupV1 final : public GroupBase {
public:
    ~CgroupV1() override {
        for (const auto& g : groups_)
            if (g.tasks_fd >= 0) close(g.tasks_fd);
        try {
            for (const auto& g : groups_) destroy_group(g.dir.path());
        } catch (...) {  // a destructor must not throw (only bad_alloc could get here)
        }
    }

    void add_process(pid_t pid) override {
        for (const auto& g : groups_) {
            std::string path = g.dir.path() + "/cgroup.procs";
            if (int err = write_file(path, std::to_string(pid)))
                throw sys_error("cgroup: add process " + std::to_string(pid), path, err);
        }
    }

    std::optional<std::uint64_t> cpu_usec() override {
        const Group* g = group_of("cpuacct");
        auto ns = g ? read_number_at(g->dir.fd(), "cpuacct.usage") : std::nullopt;
        return ns ? std::optional<std::uint64_t>(*ns / 1000) : std::nullopt;
    }

    CgroupUsage cpu_usage() {
        CgroupUsage u;
        u.cpu_usec = cpu_usec();
        const Group* g = group_of("cpuacct");
        if (!g || !u.cpu_usec) return u;
        // The user/system counters are tick samples (and lose ticks to steal
        // time in VMs): use them only to split the exact total, as the
        // kernel does for getrusage.
        auto user = read_number_at(g->dir.fd(), "cpuacct.usage_user");
        auto sys = read_number_at(g->dir.fd(), "cpuacct.usage_sys");
        if (!user || !sys) {  // older kernels: USER_HZ ticks in cpuacct.stat
            std::string stat = read_file_at(g->dir.fd(), "cpuacct.stat").value_or("");
            user = keyed_value(stat, "user");
            sys = keyed_value(stat, "system");
        }
        if (user && sys) {
            std::uint64_t total = *u.cpu_usec;
            u.user_usec = *user + *sys == 0
                ? total
                : static_cast<std::uint64_t>(static_cast<long double>(total) * *user / (*user + *sys));
            u.system_usec = total - *u.user_usec;
        }
        return u;
    }

    CgroupUsage usage() override {
        CgroupUsage u = cpu_usage();
        if (const Group* g = group_of("memory")) {
            u.memory_peak = read_number_at(g->dir.fd(), "memory.max_usage_in_bytes");
            u.oom_killed = keyed_value(read_file_at(g->dir.fd(), "memory.oom_control").value_or(""), "oom_kill").value_or(0) > 0;
            // At its own limit: a charge refused there counts in its failcnt
            // (one refused at a parent's limit, in the parent's), but the
            // memsw counter, charged first, keeps no failcnt on newer
            // kernels; its peak then reached the limit.
            const auto number = [&](const char* file) { return read_number_at(g->dir.fd(), file); };
            u.memory_limit_reached =
                u.oom_killed && (number("memory.failcnt").value_or(0) > 0 ||
                                 reached(u.memory_peak, number("memory.limit_in_bytes")) ||
                                 reached(number("memory.memsw.max_usage_in_bytes"),
                                         number("memory.memsw.limit_in_bytes")) ||
                                 reached(u.memory_peak, memory_held_at));
        }
        if (const Group* g = group_of("pids"))
            u.pids_limit_hit = keyed_value(read_file_at(g->dir.fd(), "pids.events").value_or(""), "max").value_or(0) > 0;
        return u;
    }

    void kill_all() override {
        for (const auto& g : groups_) kill_until_empty(g.dir.path(), empty_budget);
    }

    std::string describe() const override {
        std::string out = "v1:";
        for (const auto& g : groups_) {
            out += (out.size() > 3 ? "; " : " ") + g.dir.path() + " (";
            for (std::size_t i = 0; i < g.controllers.size(); ++i) out += (i ? "," : "") + g.controllers[i];
            out += ")";
        }
        return out;
    }

    std::vector<std::string> unapplied() const override { return unapplied_; }

    std::vector<TasksFile> self_join_files() const override {
        std::vector<TasksFile> out;
        for (const auto& g : groups_) out.push_back({g.tasks_fd, g.dir.path() + "/tasks"});
        return out;
    }

    std::vector<std::string> directories() const override {
        std::vector<std::string> out;
        for (const auto& g : groups_) out.push_back(g.dir.path());
        return out;
    }

    void add_group(GroupDir dir, std::vector<std::string> controllers) {
        groups_.push_back({std::move(dir), std::move(controllers)});
        Group& g = groups_.back();
        g.tasks_fd = openat(g.dir.fd(), "tasks", O_WRONLY | O_CLOEXEC);
        if (g.tasks_fd < 0) throw sys_error("cgroup: open", g.dir.path() + "/tasks");
    }

    const Group* group_of(const char* controller) const {
        for (const auto& g : groups_)
            if (std::find(g.controllers.begin(), g.controllers.end(), controller) != g.controllers.end())
                return &g;
        return nullptr;
    }

    // Returns false (and records why) when the limit could not be written.
    bool set_limit(const char* what, const char* controller, const char* file, const std::string& value,
                   bool optional) {
        const Group* g = group_of(controller);
        if (!g) {
            unapplied_.push_back(std::string(what) + ": no cgroup v1 " + controller + " hierarchy is mounted");
            return false;
        }
        int err = write_file_at(g->dir.fd(), file, value);
        if (err && !(optional && err == ENOENT)) {
            unapplied_.push_back(std::string(what) + ": cannot write " + file + ": " + std::strerror(err));
            return false;
        }
        return true;
    }

private:
    std::vector<Group> groups_;
    std::vector<std::string> unapplied_;
};

}  // namespace

std::unique_ptr<Cgroup> create_v1(const std::vector<V1Hierarchy>& hierarchies, const Limits& limits,
                                  const std::string& run_id, std::vector<std::string>& warnings) {
    auto cg = std::make_unique<CgroupV1>();
    for (const auto& h : hierarchies) {
        try {
            cg->add_group(make_group(h.parent_dir, run_id), h.controllers);
        } catch (const Error& e) {
            warnings.push_back(std::string("cgroup v1: ") + e.what() + "; no cgroup limits");
            return nullptr;  // ~CgroupV1 removes the groups already made
        }
    }
    if (!cg->group_of("cpuacct"))
        warnings.push_back("cgroup v1: no cpuacct hierarchy is mounted; the cgroup does not measure CPU time");
    if (limits.memory) {
        std::string bytes = std::to_string(*limits.memory);
        // memsw (memory + swap) must be >= the memory limit, so it goes second.
        cg->limits_memory = cg->set_limit("memory", "memory", "memory.limit_in_bytes", bytes, false);
        if (cg->limits_memory) cg->set_limit("memory", "memory", "memory.memsw.limit_in_bytes", bytes, true);
    }
    if (limits.processes)   // + pid 1, ours
        cg->limits_processes = cg->set_limit("processes", "pids", "pids.max", std::to_string(*limits.processes + 1), false);
    // (A judge's slice may hold the run below what it asked for.)
    for (const auto& h : hierarchies) {
        auto carries = [&](const char* c) { return std::ranges::count(h.controllers, c) > 0; };
        cg->note_held(h.parent_dir, cg->limits_memory && carries("memory") ? "memory.limit_in_bytes" : nullptr,
                      cg->limits_processes && carries("pids") ? "pids.max" : nullptr, limits, warnings);
    }
    return cg;
}

}  // namespace sandboxrun::cgroup_detail
