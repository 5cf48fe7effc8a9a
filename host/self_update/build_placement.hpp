// Steps of `core/cmd/upgrade` (contract §4.16) from the source to a pending build:
//
//   download or decode into staging (install/artifact_verifier.hpp: the install's code) →
//   sha256 → signature policy (build_signature.hpp) → ELF executable for this machine →
//   `--version` says the command's version (version_probe.hpp) →
//   {data}/agent/<version>/ holds lucid-agent, lucid-agent.sig (when signed) and
//   lucid-plugin-runner → state.json names it pending
//
// The plugin runner travels with the package, not with the upgrade: the running agent's
// lucid-plugin-runner is copied beside the new build, where the build looks for it. The runner
// protocol's handshake (contract §5.7) refuses, by name, a runner that the new build cannot
// speak to; a build that needs a newer runner comes as a package.
//
// Nothing is placed unless every check passed; the directory appears at once (a rename) and
// state.json names it last. Thread: the slow command lane. Errors: the upgrade result's text.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/expected.hpp"
#include "install/artifact_verifier.hpp"
#include "self_update/upgrade_request.hpp"

namespace lucid::host::self_update {

struct PlacementSettings {
    std::filesystem::path data_dir;
    install::VerifierSettings verifier;  // download limits, the signature policy in force now
    std::filesystem::path runner;        // the running agent's lucid-plugin-runner
    std::chrono::milliseconds version_timeout{10000};
};

// Errors, beyond the download's and the signature's (contract §4.1, §8.11):
//   sha256 mismatch: got=<hex>
//   <path>: agent build architecture <arch> does not match this agent (<arch>) (ELF checks)
//   <path> --version exited <n>: … / did not finish within <n> ms (killed)
//   version mismatch: the build says '<printed>', the command '<version>'
//   cannot place the build: <what the disk said>
Status place_build(const UpgradeRequest& request, const std::string& request_id,
                   const PlacementSettings& settings, const install::ProgressFn& progress);

}  // namespace lucid::host::self_update
