// The agent updating itself (contract §8.15), end to end without systemd: `lucid-agent run`
// under a supervisor that restarts it as Restart=on-failure does (support/supervisor.hpp), with
// a newer build of the agent (the same objects relinked as the next patch version) and a bad
// build (says that version, exits 1) placed as the pending build in {data}/agent/.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "agent_harness.hpp"
#include "artifacts.hpp"
#include "ctl_runner.hpp"
#include "install/digest.hpp"
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
               {"LUCID_SUPERVISED", "yes"},
               // A Debug build with sanitizers is about 200 MB; a release build a few.
               {"LUCID_MAX_ARTIFACT_BYTES", "1G"}};
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(topic("#"));
    }
    std::string topic(const std::string& suffix) const {
        return "lucid/agents/" + agent_id + "/" + suffix;
    }
    // A new Ed25519 key NAME.key in the rig's directory whose public half the agent trusts
    // (LUCID_TRUSTED_KEYS_DIR, trusted-keys/NAME.pem); returns the private key's path.
    fs::path trust_new_key(const std::string& name) {
        const fs::path keys = dir.path() / "trusted-keys";
        fs::create_directories(keys);
        const fs::path key = dir.path() / (name + ".key");
        const auto made =
            run_to_completion({"/bin/sh", "-c",
                               "openssl genpkey -algorithm ed25519 -out '" + key.string() +
                                   "' && openssl pkey -in '" + key.string() + "' -pubout -out '" +
                                   (keys / (name + ".pem")).string() + "'"},
                              {});
        REQUIRE_MESSAGE(made.first == 0, made.second);
        env["LUCID_TRUSTED_KEYS_DIR"] = keys.string();
        return key;
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
        auto s = std::make_unique<Supervisor>(std::vector<std::string>{LUCID_AGENT_BIN, "run"}, env,
                                              dir.path() / "service.log");
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
    // core/cmd/upgrade for `built` as `version`, from a file:// URL; returns the handover
    // progress, or the result when the agent answered one instead.
    std::optional<Message> upgrade(const std::string& request_id, const std::string& version,
                                   const char* built, const std::string& extra_source = "") {
        return upgrade_with_sha(request_id, version, built,
                                lucid::host::install::sha256_file(built), extra_source);
    }
    std::optional<Message> upgrade_with_sha(const std::string& request_id,
                                            const std::string& version, const char* built,
                                            const std::string& sha256,
                                            const std::string& extra_source = "") {
        client->publish(topic("core/cmd/upgrade"),
                        R"({"request_id":")" + request_id + R"(","version":")" + version +
                            R"(","source":{"type":"url","url":"file://)" + built +
                            R"(","sha256":")" + sha256 + "\"" + extra_source + "}}");
        // Whichever comes first, on either topic (take: any topic).
        return client->take(
            [&](const Message& m) {
                return m.str("request_id") == request_id &&
                       (m.topic == topic("core/evt/upgrade_result") ||
                        (m.topic == topic("core/evt/upgrade_progress") &&
                         m.str("phase") == "handover"));
            },
            std::chrono::seconds(60));
    }
    std::size_t results(const std::string& request_id) const {
        std::size_t n = 0;
        for (const auto& m : client->messages(topic("core/evt/upgrade_result"))) {
            if (m.str("request_id") == request_id) ++n;
        }
        return n;
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
        [](const Message& m) { return m.str("request_id") == "up-bad"; }, std::chrono::seconds(30));
    REQUIRE_MESSAGE(result, service->log());
    CHECK_FALSE(true_field(result->payload, "ok"));
    CHECK(true_field(result->payload, "rolled_back"));
    CHECK(result->str("version") == LUCID_AGENT_BAD_VERSION);
    CHECK(result->str("error").rfind(
              "upgrade rolled back: " LUCID_AGENT_BAD_VERSION " did not come up healthy", 0) == 0);
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
    REQUIRE_MESSAGE(
        service->wait_for_log("running the packaged lucid-agent", std::chrono::seconds(30)),
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
    rig.trust_new_key("signer");
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

TEST_CASE("core/cmd/upgrade hands over to the new build, which reports ok once") {
    SelfUpdateRig rig("selfupdate-cmd-good");
    auto service = rig.supervise();
    const auto old = rig.online(LUCID_AGENT_VERSION);
    REQUIRE_MESSAGE(old, service->log());

    const auto handover = rig.upgrade("up-cmd", LUCID_AGENT_NEXT_VERSION, LUCID_AGENT_NEXT_BIN);
    REQUIRE_MESSAGE(handover, service->log());
    CHECK(handover->topic == rig.topic("core/evt/upgrade_progress"));
    CHECK(handover->str("phase") == "handover");
    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-cmd"; }, std::chrono::seconds(60));
    REQUIRE_MESSAGE(result, service->log());
    CHECK(true_field(result->payload, "ok"));
    CHECK(result->str("version") == LUCID_AGENT_NEXT_VERSION);
    REQUIRE(rig.online(LUCID_AGENT_NEXT_VERSION, session_of(*old)));
    CHECK(service->exits() == std::vector<int>{75});
    // What the new build was given: the build, and the plugin runner beside it.
    const fs::path placed = su::version_dir(rig.data, LUCID_AGENT_NEXT_VERSION);
    CHECK(fs::exists(placed / "lucid-agent"));
    CHECK(fs::exists(placed / "lucid-plugin-runner"));

    // A copy of the command gets the same answer, and nothing runs again.
    rig.client->publish(rig.topic("core/cmd/upgrade"),
                        R"({"request_id":"up-cmd","version":")" LUCID_AGENT_NEXT_VERSION
                        R"(","source":{"type":"url","url":"file:///nonexistent","sha256":")" +
                            std::string(64, '0') + R"("}})");
    const auto copies = rig.client->wait_for_count(
        rig.topic("core/evt/upgrade_result"), 2,
        [](const Message& m) { return m.str("request_id") == "up-cmd"; });
    REQUIRE(copies.size() == 2);
    CHECK(copies[1].payload == copies[0].payload);
    CHECK(service->exits() == std::vector<int>{75});
}

TEST_CASE("core/cmd/upgrade to a build that dies at start ends rolled back, said once") {
    SelfUpdateRig rig("selfupdate-cmd-bad");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    const auto handover = rig.upgrade("up-cmd-bad", LUCID_AGENT_BAD_VERSION, LUCID_AGENT_BAD_BIN);
    REQUIRE_MESSAGE(handover, service->log());
    CHECK(handover->str("phase") == "handover");
    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-cmd-bad"; },
        std::chrono::seconds(60));
    REQUIRE_MESSAGE(result, service->log());
    CHECK_FALSE(true_field(result->payload, "ok"));
    CHECK(true_field(result->payload, "rolled_back"));
    CHECK(result->str("error").rfind("upgrade rolled back: ", 0) == 0);
    CHECK(service->wait_exits(2, std::chrono::seconds(1)) == std::vector<int>{75, 1});
    const auto status = rig.client->wait_for(rig.topic("status"), [](const Message& m) {
        return m.str("state") == "online" && m.str("version") == LUCID_AGENT_VERSION &&
               last_upgrade_field(m, "outcome") == "rolled_back";
    });
    REQUIRE(status);
    CHECK(rig.results("up-cmd-bad") == 1);
}

TEST_CASE("core/cmd/upgrade takes a build published on the broker, as component installs do") {
    SelfUpdateRig rig("selfupdate-broker");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    // A small build to publish: the one that dies at start (the fetch is what is tested here).
    const std::string bad = lucid::test::read_bytes(LUCID_AGENT_BAD_BIN);
    const auto meta = rig.client->wait_for(rig.topic("core/metadata"), [](const Message& m) {
        return !m.str("build_platform").empty();
    });
    REQUIRE(meta);
    const std::string topic =
        "lucid/artifacts/lucid-agent/" LUCID_AGENT_BAD_VERSION "/" + meta->str("build_platform");
    rig.client->publish(topic, bad, 1, true);
    rig.client->publish(rig.topic("core/cmd/upgrade"),
                        R"({"request_id":"up-broker","version":")" LUCID_AGENT_BAD_VERSION
                        R"(","source":{"type":"broker","topic":")" +
                            topic + R"(","sha256":")" + lucid::test::sha256_hex(bad) + R"("}})");
    // The handover, or the result when the agent answered one instead.
    const auto handover = rig.client->take(
        [&](const Message& m) {
            return m.str("request_id") == "up-broker" &&
                   (m.topic == rig.topic("core/evt/upgrade_result") ||
                    m.str("phase") == "handover");
        },
        std::chrono::seconds(60));
    REQUIRE_MESSAGE(handover, service->log());
    REQUIRE_MESSAGE(handover->str("phase") == "handover", handover->payload);
    // Fetched whole before the checks, reported as the download.
    const auto download =
        rig.client->wait_for(rig.topic("core/evt/upgrade_progress"), [&](const Message& m) {
            return m.str("request_id") == "up-broker" && m.str("phase") == "download";
        });
    REQUIRE(download);
    CHECK(uint_field(download->payload, "bytes") == bad.size());
    const auto result = rig.client->wait_for(
        rig.topic("core/evt/upgrade_result"),
        [](const Message& m) { return m.str("request_id") == "up-broker"; },
        std::chrono::seconds(60));
    REQUIRE_MESSAGE(result, service->log());
    CHECK(true_field(result->payload, "rolled_back"));
    // The fetch's subscription ended with it: no note of it is left for the next start.
    CHECK_FALSE(fs::exists(rig.data / "broker_fetch"));
}

TEST_CASE("a tampered build is refused before anything is placed") {
    SelfUpdateRig rig("selfupdate-cmd-tampered");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());

    SUBCASE("its sha256 is not the one the command names") {
        const auto answer = rig.upgrade_with_sha("up-sha", LUCID_AGENT_NEXT_VERSION,
                                                 LUCID_AGENT_NEXT_BIN, std::string(64, 'a'));
        REQUIRE(answer);
        CHECK(answer->topic == rig.topic("core/evt/upgrade_result"));
        CHECK_FALSE(true_field(answer->payload, "ok"));
        CHECK(answer->str("error").rfind("sha256 mismatch: got=", 0) == 0);
    }
    SUBCASE("it says another version than the command") {
        const auto answer = rig.upgrade("up-version", "0.9.0", LUCID_AGENT_NEXT_BIN);
        REQUIRE(answer);
        CHECK(answer->str("error") == "version mismatch: the build says '" LUCID_AGENT_NEXT_VERSION
                                      "', the command '0.9.0'");
    }
    CHECK_FALSE(fs::exists(su::version_dir(rig.data, LUCID_AGENT_NEXT_VERSION)));
    CHECK_FALSE(fs::exists(su::version_dir(rig.data, "0.9.0")));
    CHECK_FALSE(rig.state().pending);
    CHECK(service->exits().empty());
}

TEST_CASE("with trusted keys a build whose signature does not verify is refused before placing") {
    SelfUpdateRig rig("selfupdate-cmd-badsig");
    rig.trust_new_key("signer");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    // 64 bytes that are no signature of this build by the trusted key.
    const std::string forged(86, 'A');
    const auto answer = rig.upgrade("up-sig", LUCID_AGENT_NEXT_VERSION, LUCID_AGENT_NEXT_BIN,
                                    R"(,"signature":")" + forged + R"(==")");
    REQUIRE(answer);
    CHECK(answer->topic == rig.topic("core/evt/upgrade_result"));
    CHECK(answer->str("error").rfind("signature invalid", 0) == 0);
    CHECK_FALSE(fs::exists(su::version_dir(rig.data, LUCID_AGENT_NEXT_VERSION)));
    CHECK(service->exits().empty());
}

TEST_CASE("lucidctl upgrade follows the agent across its restart to the final result") {
    SelfUpdateRig rig("selfupdate-ctl");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    const std::map<std::string, std::string> ctl_env{{"LUCID_MQTT_URL", rig.broker.url()},
                                                     {"LUCID_AGENT_ID", rig.agent_id}};
    const std::string sha = lucid::host::install::sha256_file(LUCID_AGENT_NEXT_BIN);

    const auto missing = run_ctl(
        {"upgrade", std::string("file://") + LUCID_AGENT_NEXT_BIN, "--sha256", sha}, ctl_env);
    CHECK(missing.code == 2);
    CHECK_MESSAGE(missing.has("--version is mandatory for a URL"), missing.output);
    // A plugin given by mistake is named, not run with --version (it crashed).
    const auto plugin = run_ctl({"upgrade", LUCID_ITEST_ECHO_1_0}, ctl_env);
    CHECK(plugin.code != 0);
    CHECK_MESSAGE(
        plugin.has("is a lucid plugin, not a build of the agent: `lucidctl plugin install"),
        plugin.output);

    const auto done = run_ctl({"upgrade", std::string("file://") + LUCID_AGENT_NEXT_BIN,
                               "--version", LUCID_AGENT_NEXT_VERSION, "--sha256", sha},
                              ctl_env);
    CHECK_MESSAGE(done.code == 0, done.output, service->log());
    CHECK_MESSAGE(
        done.has("handed over: the agent restarts as lucid-agent " LUCID_AGENT_NEXT_VERSION),
        done.output);
    CHECK_MESSAGE(done.has("upgrade: ok  version=" LUCID_AGENT_NEXT_VERSION), done.output);
    CHECK(service->exits() == std::vector<int>{75});
}

TEST_CASE("a pending build that ran on the data directory hands it back to the old build intact") {
    SelfUpdateRig rig("selfupdate-datadir");
    rig.env["LUCID_UPGRADE_COMMIT_S"] = "2";
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    const std::string echo_sha = lucid::host::install::sha256_file(LUCID_ITEST_ECHO_1_0);
    rig.client->publish(rig.topic("core/cmd/components/install"),
                        R"({"request_id":"echo-1","component_id":"echo","source":{"type":"url",)"
                        R"("url":"file://)" LUCID_ITEST_ECHO_1_0 R"(","sha256":")" +
                            echo_sha + R"("}})");
    const auto installed = rig.client->wait_for(rig.topic("core/evt/components/install_result"),
                                                [](const Message&) { return true; });
    REQUIRE(installed);
    REQUIRE_MESSAGE(true_field(installed->payload, "ok"), installed->payload);

    // The new build starts with the registry and its component, but no broker to be online on:
    // it gives up after its window, and the build before it takes the data directory back.
    rig.place_pending(LUCID_AGENT_NEXT_BIN, LUCID_AGENT_NEXT_VERSION, "up-datadir");
    rig.broker.stop();
    service->signal(SIGKILL);
    REQUIRE_MESSAGE(service->wait_for_log(" rolled back: ", std::chrono::seconds(60)),
                    service->log());
    CHECK(service->exits() == std::vector<int>{128 + SIGKILL, 3});
    CHECK(service->log().find("lucid-agent " LUCID_AGENT_NEXT_VERSION " starting") !=
          std::string::npos);

    rig.broker.start();
    MqttClient client(rig.broker.port());
    client.subscribe(rig.topic("#"));
    const auto status = client.wait_for(
        rig.topic("status"),
        [](const Message& m) {
            return m.str("state") == "online" && m.str("version") == LUCID_AGENT_VERSION &&
                   last_upgrade_field(m, "outcome") == "rolled_back";
        },
        std::chrono::seconds(30));
    REQUIRE_MESSAGE(status, service->log());
    const auto echo = client.wait_for(rig.topic("components/echo/status"), [](const Message& m) {
        return m.str("state") == "running" && m.str("version") == "1.0.0";
    });
    CHECK_MESSAGE(echo, service->log());
}

// SECURITY.md: under required signatures the launcher verifies a build again before each exec,
// so a committed build whose key was revoked since is not started again.
TEST_CASE("a committed build signed by a key revoked since is not started again") {
    SelfUpdateRig rig("selfupdate-revoked");
    const fs::path signer = rig.trust_new_key("signer");
    rig.trust_new_key("other");  // a key stays usable once the signer's is revoked
    rig.env["LUCID_SIGNATURE_POLICY"] = "required";
    const std::map<std::string, std::string> ctl_env{{"LUCID_MQTT_URL", rig.broker.url()},
                                                     {"LUCID_AGENT_ID", rig.agent_id},
                                                     {"LUCID_ENV_FILE", "/dev/null"}};
    // Signed as an operator does, from the version the build carries (no --version).
    const fs::path build = rig.dir.path() / "lucid-agent";
    fs::copy_file(LUCID_AGENT_NEXT_BIN, build);
    const auto signed_build = run_ctl({"sign", build.string(), "--key", signer.string()}, ctl_env);
    REQUIRE_MESSAGE(signed_build.code == 0, signed_build.output);
    CHECK_MESSAGE(signed_build.has("signed " + build.string() +
                                   ": lucid-agent " LUCID_AGENT_NEXT_VERSION " (component "
                                   "lucid-agent, linux_"),
                  signed_build.output);

    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    const auto done = run_ctl(
        {"upgrade", "file://" + build.string(), "--version", LUCID_AGENT_NEXT_VERSION, "--sha256",
         lucid::host::install::sha256_file(build), "--signature", build.string() + ".sig"},
        ctl_env);
    REQUIRE_MESSAGE(done.code == 0, done.output, service->log());
    CHECK_MESSAGE(done.has("upgrade: ok  version=" LUCID_AGENT_NEXT_VERSION), done.output);
    REQUIRE(rig.state().committed);
    CHECK(*rig.state().committed == LUCID_AGENT_NEXT_VERSION);

    // The signer's key revoked on the device, then the service restarted (a reboot).
    service->stop();
    fs::create_directories(rig.dir.path() / "trusted-keys" / "revoked");
    fs::copy_file(rig.dir.path() / "trusted-keys" / "signer.pem",
                  rig.dir.path() / "trusted-keys" / "revoked" / "signer.pem");
    rig.client->clear();
    service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    CHECK_MESSAGE(service->log().find("lucid-agent " LUCID_AGENT_NEXT_VERSION
                                      ": refused before exec: ") != std::string::npos,
                  service->log());
    CHECK_MESSAGE(service->log().find("revoked") != std::string::npos, service->log());
}

// A walk finding: a second `lucid-agent run` by hand beside the service rolled back the
// pending build (and deleted it) before the data directory's lock refused it.
TEST_CASE("a second lucid-agent run on a data directory in use changes no build") {
    SelfUpdateRig rig("selfupdate-second");
    auto service = rig.supervise();
    REQUIRE_MESSAGE(rig.online(LUCID_AGENT_VERSION), service->log());
    // A pending build the running agent would take at its next start.
    rig.place_pending(LUCID_AGENT_NEXT_BIN, LUCID_AGENT_NEXT_VERSION, "up-second");
    const auto second = run_to_completion({LUCID_AGENT_BIN, "run"}, rig.env);
    CHECK(second.first == 2);
    CHECK_MESSAGE(second.second.find("is in use by another lucid-agent") != std::string::npos,
                  second.second);
    const auto state = rig.state();
    REQUIRE(state.pending);
    CHECK(state.pending->attempts == 0);
    CHECK_FALSE(state.last_upgrade);
    CHECK(fs::exists(su::version_binary(rig.data, LUCID_AGENT_NEXT_VERSION)));
    CHECK(service->exits().empty());
}
