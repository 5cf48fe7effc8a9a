#include "runner_containment.hpp"

#include "containment/containment.hpp"
#include "containment/sanitizer_build.hpp"

namespace lucid::runner {

std::vector<std::pair<std::string, std::string>> contain(const RunnerOptions& options) {
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
    request.sanitizer_build = kSanitizerBuild;
    // Sanitizers reserve terabytes of address space: memory is then the agent's RSS watch alone.
    request.address_space_limit = !kSanitizerBuild;
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& m : apply_containment(request)) out.emplace_back(m.name, m.result);
    return out;
}

}  // namespace lucid::runner
