// The exec layer of the launcher (contract §8.15): `lucid-agent run`, as the service starts it,
// first asks decide_launch() (launch_decision.hpp) which build runs, saves the state it returns
// (the pending build's attempt counted, durably, before the exec), and execs
// {data}/agent/{version}/lucid-agent with the same arguments and kLaunchedEnv set, so that the
// build it starts runs the agent instead of launching again (no exec loop, whatever that
// build's own launcher would decide).
//
// Thread: main thread, before any other thread starts (exec). Errors: never thrown; what fails
// is logged, and the packaged binary runs itself (a pending build that cannot be started is
// rolled back first).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "install/signature.hpp"

namespace lucid::host::self_update {

// Set in the environment of a build the launcher started; its value is that build's version.
inline constexpr const char* kLaunchedEnv = "LUCID_AGENT_LAUNCHED";

struct LaunchSettings {
    std::filesystem::path data_dir;
    std::string own_version;  // the packaged binary's
    // Set when signatures are required (LUCID_SIGNATURE_POLICY=required): a build is execed only
    // when its `lucid-agent.sig` verifies again (build_signature.hpp).
    std::optional<install::SignaturePolicy> signatures;
};

// True when this process was started by a launcher (kLaunchedEnv is set).
bool launched_by_launcher();

// Returns when this process is to run the agent itself; execs the chosen build otherwise.
void launch(const LaunchSettings& settings, char** argv);

}  // namespace lucid::host::self_update
