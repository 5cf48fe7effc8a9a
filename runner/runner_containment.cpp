#include "runner_containment.hpp"

#include "containment/containment.hpp"
#include "containment/sanitizer_build.hpp"

namespace lucid::runner {

Contained contain(const RunnerOptions& options) {
    Contained out;
    std::string image_error;
    if (options.run_as) {
        // Before any privilege is dropped: only root can read the agent's plugin file.
        if (options.plugin.empty()) {
            image_error = "failed: run_as needs --plugin FILE";
        } else {
            auto copied = containment::PluginImage::copy(options.plugin);
            if (auto* error = std::get_if<std::string>(&copied)) {
                image_error = "failed: " + *error;
            } else {
                out.image.emplace(std::get<containment::PluginImage>(std::move(copied)));
            }
        }
    }
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
    for (auto& m : apply_containment(request)) {
        if (m.name == "run_as" && !image_error.empty()) m.result = image_error;
        out.measures.emplace_back(m.name, m.result);
    }
    return out;
}

}  // namespace lucid::runner
