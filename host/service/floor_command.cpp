#include "service/floor_command.hpp"

#include <unistd.h>

#include "install/trust_state.hpp"
#include "lucid/registry/dist_name.hpp"

namespace lucid::host::service {

namespace {

int list(const install::TrustState& trust, std::FILE* out, std::FILE* err) {
    auto floors = trust.load();
    if (!floors && floors.error().code == Errc::not_found) {
        std::fprintf(out, "no trust state yet (%s): the agent seeds it at its next start\n",
                     trust.path().c_str());
        return 0;
    }
    if (!floors) {
        std::fprintf(err, "lucid-agent: %s\n", floors.error().message.c_str());
        return 1;
    }
    if (floors.value().empty()) {
        std::fprintf(out, "no floors (%s)\n", trust.path().c_str());
        return 0;
    }
    for (const auto& [dist, floor] : floors.value()) {
        std::string line = dist + " " + floor.effective();
        if (floor.held) {
            line += " (held by rollout " + floor.held->rollout + "; its abort may go back to " +
                    (floor.version.empty() ? std::string("none") : floor.version) + ")";
        }
        std::fprintf(out, "%s\n", line.c_str());
    }
    return 0;
}

}  // namespace

int floor_command(const std::vector<std::string>& arguments, const std::optional<std::string>& to,
                  const std::filesystem::path& data_dir, std::FILE* out, std::FILE* err) {
    install::TrustState trust(data_dir);
    // The agent runs as its own user (the packaged unit's): a lock file or trust state that root
    // created or replaced here, root's and 0640, would refuse it every install after.
    if (::geteuid() == 0) trust.give_files_to_directory_owner();
    if (arguments.at(0) == "list") return list(trust, out, err);

    if (::geteuid() != 0) {
        std::fprintf(err,
                     "lucid-agent: floor reset is for root on the device (a floor keeps old "
                     "artifacts out; over the network, send allow_downgrade instead)\n");
        return 2;
    }
    const std::string dist = registry::normalize_dist_name(arguments.at(1));
    const auto before = trust.load();
    const std::string was =
        before && before.value().count(dist) ? before.value().at(dist).effective() : "none";
    if (Status reset = trust.reset(dist, to); !reset) {
        std::fprintf(err, "lucid-agent: floor reset %s: %s\n", dist.c_str(),
                     reset.error().message.c_str());
        return 1;
    }
    if (to) {
        std::fprintf(out, "floor of %s set to %s (was %s) in %s\n", dist.c_str(), to->c_str(),
                     was.c_str(), trust.path().c_str());
    } else {
        std::fprintf(out, "floor of %s removed (was %s) from %s\n", dist.c_str(), was.c_str(),
                     trust.path().c_str());
    }
    return 0;
}

}  // namespace lucid::host::service
