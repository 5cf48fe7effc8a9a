// The agent updating itself (contract §8.15), end to end without systemd: `lucid-agent run`
// under a supervisor that restarts it as Restart=on-failure does (support/supervisor.hpp), with
// a newer build of the agent (the same objects relinked as the next patch version) and a bad
// build (says that version, exits 1) placed as the pending build in {data}/agent/.
#include <doctest/doctest.h>

#include <fstream>

#include "agent_harness.hpp"
#include "self_update/agent_versions.hpp"
#include "supervisor.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;
namespace su = lucid::host::self_update;

namespace {

struct SelfUpdateRig {
    Broker broker;
    TempDir dir;
    fs::path data = dir.path() / "data";
    std::string agent_id;
    std::map<std::string, std::string> env;
    std::unique_ptr<MqttClient> client;

    explicit SelfUpdateRig(const std::string& id) : agent_id(id) {
        broker.start();
        std::ofstream(dir.path() / "empty.env").flush();
        env = {{"LUCID_MQTT_URL", broker.url()},
               {"LUCID_AGENT_ID", agent_id},
               {"LUCID_DATA_DIR", data.string()},
               {"LUCID_ENV_FILE", (dir.path() / "empty.env").string()},
               {"LUCID_RECONNECT_MIN_MS", "20"},
               {"LUCID_RECONNECT_MAX_MS", "200"},
               {"LUCID_SUPERVISED", "yes"}};
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(topic("#"));
    }
    std::string topic(const std::string& suffix) const {
        return "lucid/agents/" + agent_id + "/" + suffix;
    }
    // `built` as the build of `version` in {data}/agent/, pending for request `request_id`.
    void place_pending(const char* built, const std::string& version,
                       const std::string& request_id) {
        fs::create_directories(su::version_dir(data, version));
        fs::copy_file(built, su::version_binary(data, version));
        su::AgentVersions state;
        state.pending = su::PendingVersion{version, 0, 1, request_id};
        su::save_agent_versions(data, state);
    }
    std::unique_ptr<Supervisor> supervise() {
        auto s = std::make_unique<Supervisor>(std::vector<std::string>{LUCID_AGENT_BIN, "run"},
                                              env, dir.path() / "service.log");
        s->start();
        return s;
    }
    std::optional<Message> online(const std::string& version, std::uint64_t after_session = 0) {
        return client->wait_for(
            topic("status"),
            [&](const Message& m) {
                return m.str("state") == "online" && m.str("version") == version &&
                       session_of(m) > after_session;
            },
            std::chrono::seconds(30));
    }
    su::AgentVersions state() const {
        auto s = su::load_agent_versions(data);
        REQUIRE_MESSAGE(s.ok(), s.error().message);
        return s.value();
    }
};

std::string last_upgrade_field(const Message& status, const char* key) {
    const auto doc = status.json();
    if (!doc.HasMember("last_upgrade") || !doc["last_upgrade"].IsObject()) return "";
    const auto& last = doc["last_upgrade"];
    if (!last.HasMember(key) || !last[key].IsString()) return "";
    return last[key].GetString();
}

}  // namespace

TEST_CASE("a pending newer build comes online, commits itself and reports ok once") {
    SelfUpdateRig rig("selfupdate-good");
    rig.place_pending(LUCID_AGENT_NEXT_BIN, LUCID_AGENT_NEXT_VERSION, "up-good");
    auto service = rig.supervise();

    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-good"; },
        std::chrono::seconds(30));
    REQUIRE_MESSAGE(result, service->log());
    CHECK(true_field(result->payload, "ok"));
    CHECK(result->str("version") == LUCID_AGENT_NEXT_VERSION);
    CHECK_FALSE(true_field(result->payload, "rolled_back"));
    const auto status = rig.client->wait_for(rig.topic("status"), [](const Message& m) {
        return m.str("state") == "online" && m.str("version") == LUCID_AGENT_NEXT_VERSION &&
               last_upgrade_field(m, "outcome") == "committed";
    });
    REQUIRE_MESSAGE(status, service->log());
    CHECK(last_upgrade_field(*status, "version") == LUCID_AGENT_NEXT_VERSION);

    CHECK(service->exits().empty());

    // The committed build runs again at the next start, and says nothing more of the upgrade.
    const auto session = session_of(*status);
    service->stop();
    CHECK(service->exits() == std::vector<int>{0});
    const auto state = rig.state();
    CHECK(state.committed == std::optional<std::string>(LUCID_AGENT_NEXT_VERSION));
    CHECK_FALSE(state.pending);
    REQUIRE(state.last_upgrade);
    CHECK(state.last_upgrade->reported);
    service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_NEXT_VERSION, session), service->log());
    // The result topic had one message: the retained status after the restart came later.
    CHECK(rig.client->messages(rig.topic("core/evt/upgrade_result")).size() == 1);
    CHECK(service->log().find("starting lucid-agent " LUCID_AGENT_NEXT_VERSION " (committed") !=
          std::string::npos);
}

TEST_CASE("a pending build that dies at start is rolled back and the old version reports it") {
    SelfUpdateRig rig("selfupdate-bad");
    rig.place_pending(LUCID_AGENT_BAD_BIN, LUCID_AGENT_BAD_VERSION, "up-bad");
    auto service = rig.supervise();

    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-bad"; },
        std::chrono::seconds(30));
    REQUIRE_MESSAGE(result, service->log());
    CHECK_FALSE(true_field(result->payload, "ok"));
    CHECK(true_field(result->payload, "rolled_back"));
    CHECK(result->str("version") == LUCID_AGENT_BAD_VERSION);
    CHECK(result->str("error").rfind("upgrade rolled back: " LUCID_AGENT_BAD_VERSION
                                     " did not come up healthy",
                                     0) == 0);
    const auto status = rig.online(LUCID_AGENT_VERSION);
    REQUIRE_MESSAGE(status, service->log());
    CHECK(last_upgrade_field(*status, "outcome") == "rolled_back");
    CHECK(service->exits() == std::vector<int>{1});  // the bad build, once

    const auto state = rig.state();
    CHECK_FALSE(state.pending);
    CHECK_FALSE(state.committed);
    CHECK_FALSE(fs::exists(su::version_dir(rig.data, LUCID_AGENT_BAD_VERSION)));
    // Once: the next start says nothing more.
    service->stop();
    REQUIRE(rig.state().last_upgrade);
    CHECK(rig.state().last_upgrade->reported);
    service = rig.supervise();
    REQUIRE(rig.online(LUCID_AGENT_VERSION, session_of(*status)));
    CHECK(rig.client->messages(rig.topic("core/evt/upgrade_result")).size() == 1);
}

TEST_CASE("a pending build that is not online within its commit window exits 3 and rolls back") {
    SelfUpdateRig rig("selfupdate-window");
    rig.place_pending(LUCID_AGENT_NEXT_BIN, LUCID_AGENT_NEXT_VERSION, "up-window");
    // A broker nobody listens on: the new build can never be online.
    rig.env["LUCID_MQTT_URL"] = "mqtt://127.0.0.1:1";
    rig.env["LUCID_UPGRADE_COMMIT_S"] = "1";
    auto service = rig.supervise();
    REQUIRE_MESSAGE(service->wait_for_log("running the packaged lucid-agent",
                                          std::chrono::seconds(30)),
                    service->log());
    CHECK(service->exits() == std::vector<int>{3});
    const auto state = rig.state();
    CHECK_FALSE(state.pending);
    REQUIRE(state.last_upgrade);
    CHECK(state.last_upgrade->outcome == "rolled_back");
    CHECK(state.last_upgrade->version == LUCID_AGENT_NEXT_VERSION);
    CHECK_FALSE(state.last_upgrade->reported);  // told once it is online
}

TEST_CASE("with signatures required the launcher does not start an unsigned pending build") {
    SelfUpdateRig rig("selfupdate-unsigned");
    const fs::path keys = rig.dir.path() / "trusted-keys";
    fs::create_directories(keys);
    const auto made = run_to_completion(
        {"/bin/sh", "-c",
         "openssl genpkey -algorithm ed25519 -out '" + (rig.dir.path() / "signer.key").string() +
             "' && openssl pkey -in '" + (rig.dir.path() / "signer.key").string() +
             "' -pubout -out '" + (keys / "signer.pem").string() + "'"},
        {});
    REQUIRE_MESSAGE(made.first == 0, made.second);
    rig.env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    rig.place_pending(LUCID_AGENT_NEXT_BIN, LUCID_AGENT_NEXT_VERSION, "up-unsigned");
    auto service = rig.supervise();

    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-unsigned"; },
        std::chrono::seconds(30));
    REQUIRE_MESSAGE(result, service->log());
    CHECK(true_field(result->payload, "rolled_back"));
    CHECK(result->str("error") ==
          "upgrade rolled back: refused before exec: signature required: the artifact is "
          "unsigned");
    REQUIRE(rig.online(LUCID_AGENT_VERSION));
    CHECK(service->exits().empty());  // the new build never ran
    CHECK(service->log().find("starting lucid-agent " LUCID_AGENT_NEXT_VERSION) ==
          std::string::npos);
}
