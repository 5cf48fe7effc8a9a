// apply_containment: the order the measures are applied in, and the fixed order they are
// reported in (containment.hpp).
#include "containment/containment.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <variant>

#include "containment/landlock.hpp"
#include "containment/measure_text.hpp"
#include "containment/process_lifetime.hpp"
#include "containment/resource_limits.hpp"
#include "containment/run_as.hpp"
#include "containment/seccomp_filter.hpp"
#include "containment/writable_dir.hpp"

namespace lucid::runner {
namespace {

using namespace containment;

// Results by name, reported in kMeasureNames order whatever order they were set in.
class Results {
  public:
    Results() {
        for (const char* name : kMeasureNames) measures_.push_back({name, ""});
    }
    void set(const std::string& name, std::string result) {
        for (Measure& measure : measures_) {
            if (measure.name == name) measure.result = std::move(result);
        }
    }
    const std::string& get(const std::string& name) const {
        return std::find_if(measures_.begin(), measures_.end(),
                            [&](const Measure& m) { return m.name == name; })
            ->result;
    }
    std::vector<Measure> take() { return std::move(measures_); }

  private:
    std::vector<Measure> measures_;
};

std::string set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return failed(system_error_text("prctl(PR_SET_NO_NEW_PRIVS)", errno));
    }
    return kApplied;
}

}  // namespace

std::vector<Measure> apply_containment(const ContainmentRequest& request) {
    Results results;
    // First: from here on the agent can signal the runner's whole group, and the runner dies
    // with the agent even if a later step hangs.
    results.set("process_group", make_process_group());
    results.set("pdeathsig", die_with_parent(request.expected_parent));

    results.set("rlimit_memory", limit_memory(request.memory_mb, request.address_space_limit));
    results.set("rlimit_open_files", limit_open_files(request.open_files));
    results.set("rlimit_cpu", limit_cpu(request.cpu_seconds));

    // The user is looked up while still root, the directory made theirs, then root dropped.
    std::optional<Identity> identity;
    if (request.run_as) {
        auto found = look_up_identity(*request.run_as, request.extra_groups);
        if (auto* text = std::get_if<std::string>(&found)) {
            results.set("run_as", *text);
        } else {
            identity = std::get<Identity>(std::move(found));
        }
    } else {
        results.set("run_as", kNotRequested);
    }
    std::optional<Owner> owner;
    if (identity) owner = Owner{identity->uid, identity->gid};
    results.set("writable_dir", prepare_writable_dir(request.writable_dir, owner));

    // Landlock's paths are opened while still root (see landlock.hpp), enforced further down.
    std::vector<std::string> write_paths = request.write_paths;
    if (!request.writable_dir.empty() && std::find(write_paths.begin(), write_paths.end(),
                                                   request.writable_dir) == write_paths.end()) {
        write_paths.push_back(request.writable_dir);
    }
    FilesystemRuleset ruleset(request.read_paths, write_paths);

    if (identity) {
        results.set("run_as", become(*identity));
        // A change of credentials clears PR_SET_PDEATHSIG (kernel commit_creds): set it again.
        if (results.get("pdeathsig") == kApplied) {
            results.set("pdeathsig", die_with_parent(request.expected_parent));
        }
    }

    results.set("no_new_privs", set_no_new_privs());
    results.set("landlock", ruleset.enforce());

    // Last: the filter would refuse nothing the steps above need, but any later change to them
    // (a new prctl, a mount) is safe this way.
    results.set("seccomp", install_seccomp(request.seccomp, request.sanitizer_build));
    return results.take();
}

bool containment_failed(const std::vector<Measure>& measures) {
    return std::any_of(measures.begin(), measures.end(), [](const Measure& measure) {
        return measure.result.rfind("failed: ", 0) == 0;
    });
}

}  // namespace lucid::runner
