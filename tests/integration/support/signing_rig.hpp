// The operator's side of signing (README "Signing artifacts"): a working directory for keys and
// artifacts, lucidctl run against the rig's agent, and the device's trusted keys directory with
// LUCID_SIGNATURE_POLICY=required.
#pragma once

#include <fstream>
#include <iterator>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

namespace lucid::itest {

struct SigningRig : ComponentRig {
    lucid::test::TempDir work;  // the operator's directory: keys and artifacts
    std::map<std::string, std::string> ctl_env;
    std::filesystem::path keys;  // the device's LUCID_TRUSTED_KEYS_DIR

    explicit SigningRig(const std::string& id) : ComponentRig(id) {
        ctl_env = {{"LUCID_MQTT_URL", broker.url()}, {"LUCID_AGENT_ID", agent.agent_id()}};
        keys = agent.data_dir() / "trusted-keys";
        std::filesystem::create_directories(keys);
        env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
        env["LUCID_SIGNATURE_POLICY"] = "required";
    }
    CtlOutcome ctl(std::vector<std::string> args) { return run_ctl(args, ctl_env); }
    // A shell command in the operator's directory (openssl, or lucidctl where the cwd matters).
    std::pair<int, std::string> sh(const std::string& command) {
        return run_to_completion(
            {"/bin/bash", "-c", "cd '" + work.path().string() + "' && " + command},
            {{"LUCID_ENV_FILE", "/dev/null"}});
    }
    std::string copy(const char* built, const std::string& name) {
        const auto to = work.path() / name;
        std::filesystem::copy_file(built, to, std::filesystem::copy_options::overwrite_existing);
        return to.string();
    }
    // `lucidctl key generate name` in the operator's directory, its public key on the device.
    std::string generate_key(const std::string& name) {
        const auto made = sh(std::string("'") + LUCIDCTL_BIN + "' key generate " + name);
        REQUIRE_MESSAGE(made.first == 0, made.second);
        std::filesystem::copy_file(work.path() / (name + ".pem"), keys / (name + ".pem"));
        return made.second;
    }
};

inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace lucid::itest
