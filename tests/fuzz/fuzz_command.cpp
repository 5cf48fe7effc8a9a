// Command payloads as they arrive from the broker: parse_command, then the validators of
// core/cfg/set, install and the agent's own upgrade run on whatever parsed (the dispatcher hands
// them any object).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/core_config.hpp"
#include "contract/command_request.hpp"
#include "install/install_request.hpp"
#include "lucid/registry/semver.hpp"
#include "self_update/upgrade_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    host::contract::CommandRequest request = host::contract::parse_command(text);
    if (!request.ok()) return 0;

    host::agent::CfgSetResult cfg =
        host::agent::apply_cfg_set(host::agent::CoreConfig{}, request.payload);
    if (cfg.config.has_value() == !cfg.error.empty()) __builtin_trap();  // exactly one is set

    const host::install::InstallSettings settings;
    host::install::ParsedInstall install =
        host::install::parse_install_request(request.payload, settings);
    if (install.request.has_value() == !install.error.empty()) __builtin_trap();

    // The version names a directory of {data}/agent/: only a semantic version may pass.
    const auto upgrade = host::self_update::parse_upgrade_request(request.payload, settings);
    if (upgrade.request.has_value() == !upgrade.error.empty()) __builtin_trap();
    if (upgrade.request && !registry::Version::parse(upgrade.request->version)) __builtin_trap();
    return 0;
}
