// SIGHUP and the trusted keys (issue 13 items 6, 7; issue 14 Low): a reload re-reads the env
// file and applies the trusted keys, the signature policy and the allowed source prefixes at
// once, keeps the old keys when the new directory has none usable, and warns about settings
// that need a restart; a key directory without a usable key stops the start.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "component_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::string signed_source(const Artifact& a, const std::string& signature) {
    return R"({"type":"inline","filename":")" + a.name + R"(","data_base64":")" + base64(a.bytes) +
           R"(","sha256":")" + a.sha256 + R"(","signature":)" + json_string(signature) + "}";
}

// Rewrites the env file and sends SIGHUP; waits until the log shows `applied`.
void reload(ComponentRig& rig, const fs::path& env_file, const std::string& contents,
            const std::string& applied) {
    std::ofstream(env_file) << contents;
    rig.agent.process().signal(SIGHUP);
    REQUIRE_MESSAGE(rig.agent.wait_for_log(applied, std::chrono::seconds(10)), rig.agent.log());
}

}  // namespace

TEST_CASE("SIGHUP applies trusted keys, signature policy and prefixes; the agent stays online") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    SigningKey trusted;
    ComponentRig rig("reload-1");
    const fs::path keys = rig.agent.data_dir() / "trusted-keys";
    trusted.write_public_pem(keys, "release");
    const fs::path env_file = rig.agent.data_dir() / "agent.env";
    std::ofstream(env_file) << "# nothing yet\n";
    rig.env["LUCID_ENV_FILE"] = env_file.string();
    rig.start_agent();
    const auto pid = rig.agent.process().pid();

    // Signatures required from now on: unsigned is refused, signed by the key installs.
    reload(rig, env_file,
           "LUCID_TRUSTED_KEYS_DIR=" + keys.string() +
               "\nLUCID_SIGNATURE_POLICY=required  # from now on\nLUCID_MQTT_KEEPALIVE_S=60\n",
           "signature_policy required;");
    CHECK(rig.agent.log().find("keepalive_s changed from '30' to '60' (env file " +
                               env_file.string() +
                               ": LUCID_MQTT_KEEPALIVE_S); it takes effect at the next restart") !=
          std::string::npos);
    auto unsigned_result = rig.install("r-unsigned", "echo", inline_source(echo));
    CHECK_FALSE(ok_of(unsigned_result));
    CHECK(error_of(unsigned_result) == "signature required: the artifact is unsigned");
    auto good =
        rig.install("r-signed", "echo", signed_source(echo, trusted.sign_base64(echo.bytes)));
    CHECK_MESSAGE(ok_of(good), good.payload);

    // A broken key directory: the old key stays (a garbage signature is still refused), the
    // policy change applies, and an ERROR says so.
    const fs::path broken = rig.agent.data_dir() / "broken-keys";
    fs::create_directories(broken);
    std::ofstream(broken / "release.pem") << "not a key\n";
    reload(rig, env_file,
           "LUCID_TRUSTED_KEYS_DIR=" + broken.string() + "\nLUCID_SIGNATURE_POLICY=optional\n",
           "signature_policy optional;");
    CHECK(rig.agent.log().find("no usable Ed25519 public key (release.pem: not a PEM public "
                               "key); keeping the previous trusted keys: 1 from " +
                               keys.string()) != std::string::npos);
    auto uninstalled = rig.uninstall(R"({"request_id":"r-un","component_id":"echo"})", "r-un");
    CHECK(ok_of(uninstalled));
    auto garbage = rig.install("r-garbage", "echo", signed_source(echo, base64("garbage")));
    CHECK_FALSE(ok_of(garbage));
    CHECK(error_of(garbage) ==
          "signature invalid: expected the base64 of a 64-byte Ed25519 signature");
    auto optional_unsigned = rig.install("r-opt", "echo", inline_source(echo));
    CHECK_MESSAGE(ok_of(optional_unsigned), optional_unsigned.payload);

    // Allowed source prefixes apply to the next install.
    reload(rig, env_file, "LUCID_ALLOWED_SOURCE_PREFIXES=https://releases.example.invalid/\n",
           "allowed_source_prefixes https://releases.example.invalid/");
    // That file sets no key directory any more: checking stops, and a WARN says so.
    CHECK_MESSAGE(rig.agent.log().find("[warning] reload: LUCID_TRUSTED_KEYS_DIR is no longer "
                                       "set: signatures are not checked any more (was 1 from " +
                                       keys.string()) != std::string::npos,
                  rig.agent.log());
    auto outside =
        rig.install("r-url", "echo", url_source("file://" + echo.path.string(), echo.sha256));
    CHECK_FALSE(ok_of(outside));
    CHECK(error_of(outside).find("allowed prefix") != std::string::npos);

    // A config that no longer resolves changes nothing, and the agent goes on.
    reload(rig, env_file, "LUCID_MQTT_KEEPALIVE_S=nonsense\n", "keeping the running configuration");
    CHECK(rig.agent.process().running());
    CHECK(rig.agent.process().pid() == pid);
    CHECK(ok_of(rig.ping("r-ping")));
    CHECK(rig.client->messages(rig.agent.topic("status")).back().str("state") == "online");
}

TEST_CASE("a trusted-keys directory without a usable key stops the start with the reason") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "keys-1");
    const fs::path typo = agent.data_dir() / "trusted-keyz";
    agent.start({{"LUCID_TRUSTED_KEYS_DIR", typo.string()}});
    CHECK(agent.process().wait_exit(std::chrono::seconds(20)) == 2);
    CHECK_MESSAGE(agent.log().find("trusted_keys_dir " + typo.string() +
                                   ": no usable Ed25519 public key (the directory does not "
                                   "exist)") != std::string::npos,
                  agent.log());

    // Keys named *.pub are used when they are PEM Ed25519 keys; check-config lists them.
    SigningKey signer;
    const fs::path keys = agent.data_dir() / "keys";
    signer.write_public_pem(keys, "signer");
    fs::rename(keys / "signer.pem", keys / "signer.pub");
    std::ofstream(keys / "README") << "keys of the release team\n";
    auto [code, output] =
        run_to_completion({LUCID_AGENT_BIN, "check-config", "--trusted-keys-dir", keys.string(),
                           "--agent-id", "k", "--data-dir", (agent.data_dir() / "d").string()},
                          {{"LUCID_ENV_FILE", (agent.data_dir() / "empty.env").string()}});
    CHECK_MESSAGE(code == 0, output);
    CHECK_MESSAGE(output.find("loaded  signer.pub ed25519 key_id ") != std::string::npos, output);
    CHECK(output.find("skipped README: not a *.pem or *.pub file") != std::string::npos);
}

TEST_CASE("a missing TLS CA file is a configuration error naming the file") {
    TempDir dir;
    const std::string ca = (dir / "ca.pem").string();
    const std::map<std::string, std::string> env{{"LUCID_ENV_FILE", "/dev/null"},
                                                 {"LUCID_MQTT_URL", "mqtts://127.0.0.1:1"},
                                                 {"LUCID_TLS_CA", ca},
                                                 {"LUCID_AGENT_ID", "tls-1"},
                                                 {"LUCID_DATA_DIR", (dir / "data").string()}};
    auto [check, check_output] = run_to_completion({LUCID_AGENT_BIN, "check-config"}, env);
    CHECK(check == 2);
    CHECK_MESSAGE(
        check_output.find("tls_ca " + ca + ": No such file or directory") != std::string::npos,
        check_output);
    auto [run, run_output] = run_to_completion({LUCID_AGENT_BIN, "run"}, env);
    CHECK(run == 2);
    CHECK_MESSAGE(
        run_output.find("tls_ca " + ca + ": No such file or directory") != std::string::npos,
        run_output);
}

TEST_CASE("labels a cfg/set stored win over LUCID_LABELS: at SIGHUP and in check-config") {
    ComponentRig rig("reload-labels");
    const fs::path env_file = rig.agent.data_dir() / "agent.env";
    std::ofstream(env_file) << "LUCID_LABELS=site=rome,role=edge\n";
    rig.env["LUCID_ENV_FILE"] = env_file.string();
    rig.start_agent();
    auto set = rig.command("core/cfg/set", "core/evt/cfg_set_result",
                           R"({"request_id":"lab-1","set":{"labels":{"site":"stored"}}})", "lab-1");
    REQUIRE_MESSAGE(ok_of(set), set.payload);

    reload(rig, env_file, "LUCID_LABELS=site=lima\n", "reload applied");
    const std::string log = rig.agent.log();
    CHECK_MESSAGE(log.find("labels changed from") == std::string::npos, log);
    CHECK(log.find("LUCID_LABELS changed to 'site=lima', but the labels a cfg/set stored "
                   "('site=stored', in ") != std::string::npos);

    auto [code, output] = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                            {{"LUCID_ENV_FILE", env_file.string()},
                                             {"LUCID_DATA_DIR", rig.data().string()},
                                             {"LUCID_AGENT_ID", "reload-labels"},
                                             {"LUCID_MQTT_URL", rig.broker.url()}});
    CHECK_MESSAGE(code == 0, output);
    CHECK_MESSAGE(output.find("labels in force: site=stored (set by cfg/set, stored in ") !=
                      std::string::npos,
                  output);
}
