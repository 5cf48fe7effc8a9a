#include "runner_containment.hpp"

#ifdef LUCID_RUNNER_HAS_CONTAINMENT
#include "containment/containment.hpp"
#endif

namespace lucid::runner {

std::vector<std::pair<std::string, std::string>> contain(const RunnerOptions& options) {
    std::vector<std::pair<std::string, std::string>> out;
#ifdef LUCID_RUNNER_HAS_CONTAINMENT
    ContainmentRequest request;
    request.expected_parent = options.parent;
    request.memory_mb = options.memory_mb;
    request.open_files = options.open_files;
    request.cpu_seconds = options.cpu_seconds;
    request.run_as = options.run_as;
    request.extra_groups = options.groups;
    request.writable_dir = options.dir;
    request.read_paths = options.read_paths;
    request.write_paths = options.write_paths;
    request.seccomp = options.seccomp;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    request.sanitizer_build = true;
    request.address_space_limit = false;
#endif
    for (auto& m : apply_containment(request)) out.emplace_back(m.name, m.result);
#else
    (void)options;
#endif
    return out;
}

}  // namespace lucid::runner
