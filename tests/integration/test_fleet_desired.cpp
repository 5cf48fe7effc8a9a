// The desired state of one agent (issue 16, items 2 and 3): a retained document on
// {root}/{agent}/desired that the agent reconciles through the install pipeline, from url and
// broker sources, reporting on the retained core/deployment; lower revisions, invalid documents
// and an empty document change nothing; an agent offline or killed mid-apply converges when it
// comes back; lucidctl desired / artifact publish as an operator uses them.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The agent's build target, from its retained core/metadata.
std::string build_platform(ComponentRig& rig) {
    auto meta = rig.client->wait_for(rig.agent.topic("core/metadata"), [](const Message& m) {
        return !m.str("build_platform").empty();
    });
    REQUIRE_MESSAGE(meta, rig.agent.log());
    return meta->str("build_platform");
}

std::string file_url(const Artifact& a) { return "file://" + a.path.string(); }

// {"<platform>": {"source": <source>}}
std::string artifacts(const std::string& platform, const std::string& source) {
    return "{" + json_string(platform) + R"(:{"source":)" + source + "}}";
}

std::string component(const std::string& version, const std::string& artifacts_json,
                      const std::string& extra = "") {
    return R"({"version":")" + version + R"(","artifacts":)" + artifacts_json + extra + "}";
}

// The core/deployment (since the last clear) for which `accept` holds.
std::optional<Message> deployment(ComponentRig& rig, const Predicate& accept,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return rig.client->wait_for(rig.agent.topic("core/deployment"), accept, timeout);
}

Predicate state_of(unsigned long long revision, const std::string& state) {
    return [=](const Message& m) {
        return uint_field(m.payload, "revision") == revision && m.str("state") == state;
    };
}

// A component's entry in a core/deployment.
std::string outcome_field(const Message& m, const char* cid, const char* field) {
    auto doc = m.json();
    const auto& c = doc["components"][cid];
    return c[field].IsString() ? c[field].GetString() : "";
}

std::string rejected_error(const Message& m) {
    auto doc = m.json();
    return doc["rejected"].IsObject() ? doc["rejected"]["error"].GetString() : "";
}

void publish_desired(ComponentRig& rig, const std::string& document) {
    rig.client->publish(rig.agent.topic("desired"), document, 1, true);
}

}  // namespace

TEST_CASE("desired state: install, upgrade from the broker, exclusive removal, refusals") {
    ComponentRig rig("des-1");
    rig.start_agent();
    const std::string platform = build_platform(rig);
    CHECK(platform.rfind("linux_", 0) == 0);
    // Before any document: state none.
    CHECK_MESSAGE(deployment(rig, state_of(0, "none")), rig.agent.log());

    // Revision 1: echo 1.0.0 from a file URL; the other platform's artifact is not touched.
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string riscv = artifacts(
        "linux_riscv64", url_source("file:///nonexistent/echo-1.0.0.so", std::string(64, 'a')));
    const std::string both =
        "{" + json_string(platform) + R"(:{"source":)" + url_source(file_url(v1), v1.sha256) +
        R"(},"linux_riscv64":{"source":)" +
        url_source("file:///nonexistent/echo-1.0.0.so", std::string(64, 'a')) + "}}";
    publish_desired(rig,
                    R"({"revision":1,"components":{"echo":)" + component("1.0.0", both) + "}}");
    auto converged = deployment(rig, state_of(1, "converged"));
    REQUIRE_MESSAGE(converged, rig.agent.log());
    CHECK(outcome_field(*converged, "echo", "action") == "install");
    CHECK(outcome_field(*converged, "echo", "outcome") == "applied");
    CHECK(converged->str("platform") == platform);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    // The registry says which channel owns it.
    auto registry = rig.registry();
    CHECK(registry["components"]["echo"]["source"]["desired_revision"].GetUint64() == 1);

    // Revision 2: echo 2.0.0 published once on the broker, fetched by subscribing.
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const std::string topic = "lucid/artifacts/lucid-agent-echo/2.0.0/" + platform;
    rig.client->publish(topic, v2.bytes, 1, true);
    const std::string broker_source =
        R"({"type":"broker","topic":")" + topic + R"(","sha256":")" + v2.sha256 + "\"}";
    rig.client->clear();
    publish_desired(rig, R"({"revision":2,"components":{"echo":)" +
                             component("2.0.0", artifacts(platform, broker_source)) + "}}");
    converged = deployment(rig, state_of(2, "converged"));
    REQUIRE_MESSAGE(converged, rig.agent.log());
    CHECK(outcome_field(*converged, "echo", "action") == "upgrade");
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    CHECK(has_text(rig.agent.log(), "source='desired revision 2'"));

    // A lower revision (a stale copy) changes nothing and says why.
    rig.client->clear();
    publish_desired(rig, R"({"revision":1,"components":{}})");
    auto refused = deployment(rig, [](const Message& m) { return !rejected_error(m).empty(); });
    REQUIRE_MESSAGE(refused, rig.agent.log());
    CHECK(rejected_error(*refused) ==
          "revision 1 is lower than the applied revision 2; ignored (publish a higher revision "
          "to change this agent)");
    CHECK(uint_field(refused->payload, "revision") == 2);
    CHECK(refused->str("state") == "converged");

    // An invalid document: the exact error, nothing changed.
    rig.client->clear();
    publish_desired(rig, R"({"revision":3,"components":{"echo":{"version":"2","artifacts":{}}}})");
    refused = deployment(rig, [](const Message& m) { return !rejected_error(m).empty(); });
    REQUIRE(refused);
    CHECK(rejected_error(*refused) ==
          "invalid desired state: components.echo.version '2' is not a semantic version");
    CHECK(std::string(rig.registry()["components"]["echo"]["version"].GetString()) == "2.0.0");

    // exclusive: what the document does not list is removed.
    rig.client->clear();
    publish_desired(rig, R"({"revision":4,"exclusive":true,"components":{}})");
    converged = deployment(rig, state_of(4, "converged"));
    REQUIRE_MESSAGE(converged, rig.agent.log());
    CHECK(outcome_field(*converged, "echo", "action") == "remove");
    CHECK(outcome_field(*converged, "echo", "outcome") == "applied");
    CHECK_FALSE(rig.registry()["components"].HasMember("echo"));

    // An empty retained document: no desired state; what runs stays.
    rig.client->clear();
    publish_desired(rig, "");
    CHECK_MESSAGE(deployment(rig, state_of(4, "none")), rig.agent.log());
}

TEST_CASE("desired state: a component without this platform's artifact fails alone") {
    ComponentRig rig("des-2");
    rig.start_agent();
    const std::string platform = build_platform(rig);
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    const std::string doc =
        R"({"revision":1,"components":{"echo":)" +
        component("1.0.0", artifacts("linux_riscv64",
                                     url_source("file:///x/echo-1.0.0.so", std::string(64, 'a')))) +
        R"(,"probe":)" +
        component("1.0.0", artifacts(platform, url_source(file_url(probe), probe.sha256)),
                  R"(,"config":{"mode":"one"})") +
        "}}";
    publish_desired(rig, doc);
    auto failed = deployment(rig, state_of(1, "failed"));
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(outcome_field(*failed, "echo", "outcome") == "failed");
    CHECK(outcome_field(*failed, "echo", "error") ==
          "no artifact for platform " + platform + " (the document has linux_riscv64)");
    CHECK(outcome_field(*failed, "probe", "outcome") == "applied");
    CHECK(rig.wait_status("probe", "running", "1.0.0"));
    CHECK(rig.registry()["components"]["probe"]["config"]["mode"] == "one");

    // The same revision again (every reconnect hands it over) is not applied again; a new
    // revision changes the config only.
    rig.client->clear();
    publish_desired(rig, doc);
    publish_desired(
        rig, R"({"revision":2,"components":{"probe":)" +
                 component("1.0.0", artifacts(platform, url_source(file_url(probe), probe.sha256)),
                           R"(,"config":{"mode":"two"})") +
                 "}}");
    auto converged = deployment(rig, state_of(2, "converged"));
    REQUIRE_MESSAGE(converged, rig.agent.log());
    CHECK(outcome_field(*converged, "probe", "action") == "configure");
    CHECK(rig.registry()["components"]["probe"]["config"]["mode"] == "two");
    const std::string log = rig.agent.log();
    std::size_t applying = 0;
    for (auto at = log.find("revision 1: applying"); at != std::string::npos;
         at = log.find("revision 1: applying", at + 1)) {
        ++applying;
    }
    CHECK_MESSAGE(applying == 1, log);
}

TEST_CASE("desired state: offline at publish, killed mid-apply, converges when it comes back") {
    ComponentRig rig("des-3");
    const fs::path gate = rig.agent.data_dir() / "start.gate";
    rig.env["LUCID_ITEST_START_GATE"] = gate.string();
    rig.start_agent();
    const std::string platform = build_platform(rig);
    REQUIRE(rig.agent.stop(SIGTERM) == 0);

    // Published while the agent is away: it is retained.
    const Artifact slow = artifact(LUCID_ITEST_SLOW_START);
    std::ofstream(gate).put('x');
    publish_desired(
        rig, R"({"revision":5,"components":{"slow":)" +
                 component("1.0.0", artifacts(platform, url_source(file_url(slow), slow.sha256))) +
                 "}}");
    rig.client->clear();
    rig.start_agent();
    // Killed while the plugin starts (the gate holds it): the apply is cut short.
    REQUIRE_MESSAGE(deployment(rig, state_of(5, "applying")), rig.agent.log());
    REQUIRE(rig.agent.stop(SIGKILL) != 0);
    fs::remove(gate);
    rig.client->clear();
    rig.start_agent();
    auto converged = deployment(rig, state_of(5, "converged"));
    REQUIRE_MESSAGE(converged, rig.agent.log());
    CHECK(rig.wait_status("slow", "running", "1.0.0"));
}

TEST_CASE("desired state: a broker artifact that is not there fails with the topic named") {
    ComponentRig rig("des-4");
    rig.env["LUCID_DOWNLOAD_TIMEOUT_S"] = "2";
    rig.start_agent();
    const std::string platform = build_platform(rig);
    const std::string topic = "lucid/artifacts/lucid-agent-echo/9.0.0/" + platform;
    publish_desired(
        rig, R"({"revision":1,"components":{"echo":)" +
                 component("9.0.0", artifacts(platform, R"({"type":"broker","topic":")" + topic +
                                                            R"(","sha256":")" +
                                                            std::string(64, 'b') + "\"}")) +
                 "}}");
    auto failed = deployment(rig, state_of(1, "failed"));
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(outcome_field(*failed, "echo", "error") ==
          "download failed: no retained message on " + topic +
              " within 2 s (is the artifact published, and may this agent read it?)");

    // A topic outside the fleet's artifacts is refused before anything changes.
    publish_desired(
        rig,
        R"({"revision":2,"components":{"echo":)" +
            component("9.0.0",
                      artifacts(platform, R"({"type":"broker","topic":"elsewhere/x","sha256":")" +
                                              std::string(64, 'b') + "\"}")) +
            "}}");
    auto refused = deployment(rig, [](const Message& m) { return !rejected_error(m).empty(); });
    REQUIRE(refused);
    CHECK(rejected_error(*refused) ==
          "invalid desired state: components.echo.artifacts." + platform +
              ".source: validation_error: 'source.topic' 'elsewhere/x' must be under "
              "lucid/artifacts/");
}

TEST_CASE("lucidctl artifact publish and desired set/status/get/clear, as an operator") {
    CtlAgentRig rig;
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);

    auto published = rig.run({"artifact", "publish", v2.path.string(), "--json"});
    REQUIRE_MESSAGE(published.code == 0, published.output);
    auto out = published.json();
    const std::string platform = out["platform"].GetString();
    CHECK(std::string(out["topic"].GetString()) ==
          "lucid/artifacts/lucid-agent-echo/2.0.0/" + platform);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    out["source"].Accept(writer);
    const std::string source = buffer.GetString();

    // A document without a revision gets one above the agent's.
    const fs::path file = rig.agent.data_dir() / "desired.json";
    std::ofstream(file) << R"({"components":{"echo":{"version":"2.0.0","artifacts":{")" << platform
                        << R"(":{"source":)" << source << "}}}}}";
    auto set = rig.run({"desired", "set", file.string()});
    CHECK_MESSAGE(set.code == 0, set.output);
    CHECK(set.has("revision 1: converged"));
    CHECK(set.has("echo"));
    CHECK(set.has("install"));

    auto status = rig.run({"desired", "status"});
    CHECK_MESSAGE(status.code == 0, status.output);
    CHECK(status.has("revision 1: converged"));
    auto got = rig.run({"desired", "get", "--json"});
    CHECK(got.code == 0);
    CHECK(got.json()["revision"].GetUint64() == 1);

    // A typo'd --agent is not given a standing document; an explicit revision that is not
    // above the applied one is refused before it replaces the document in force.
    auto typo = rig.run({"--agent", "nobody", "desired", "set", file.string()});
    CHECK(typo.code == 2);
    CHECK_MESSAGE(typo.has("the broker has no status of agent 'nobody': is --agent right?"),
                  typo.output);
    auto typo_clear = rig.run({"--agent", "nobody", "desired", "clear"});
    CHECK(typo_clear.code == 2);
    CHECK(typo_clear.has("the broker has no status of agent 'nobody': is --agent right?"));
    // A device not booted yet, said so: published, and lucidctl does not wait for it.
    auto ahead = rig.run({"--agent", "not-yet", "desired", "set", file.string(), "--force"});
    CHECK(ahead.code == 4);
    CHECK_MESSAGE(ahead.has("agent not-yet has never connected: it applies revision "),
                  ahead.output);
    CHECK(rig.run({"--agent", "not-yet", "desired", "clear", "--force"}).code == 0);
    std::ofstream(file) << R"({"revision":1,"components":{}})";
    auto stale = rig.run({"desired", "set", file.string()});
    CHECK(stale.code == 2);
    CHECK_MESSAGE(stale.has("revision 1 is not above the agent's applied revision 1"),
                  stale.output);

    // A document the agent would refuse is refused here, before anything is published.
    std::ofstream(file) << R"({"revision":9,"components":{"echo":{"version":"2.0.0"}}})";
    auto bad = rig.run({"desired", "set", file.string()});
    CHECK(bad.code == 2);
    CHECK_MESSAGE(bad.has("invalid desired state: components.echo.artifacts is missing"),
                  bad.output);

    // The agent away: published all the same, exit 4.
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    std::ofstream(file) << R"({"components":{}})";
    auto pending = rig.run({"desired", "set", file.string()});
    CHECK_MESSAGE(pending.code == 4, pending.output);
    CHECK(pending.has("applies revision 2 when it comes back"));
    auto cleared = rig.run({"--json", "desired", "clear"});
    CHECK(cleared.code == 0);
    CHECK_MESSAGE(cleared.json()["ok"].GetBool(), cleared.output);  // JSON for scripts, not ""
    auto none = rig.run({"desired", "get"});
    CHECK(none.has("no desired state for"));
}

TEST_CASE("desired state: a broker fetch cut short by a kill is unsubscribed at the next start") {
    ComponentRig rig("des-5");
    rig.env["LUCID_DOWNLOAD_TIMEOUT_S"] = "60";
    rig.start_agent();
    const std::string platform = build_platform(rig);
    const std::string topic = "lucid/artifacts/lucid-agent-echo/8.0.0/" + platform;
    publish_desired(
        rig, R"({"revision":1,"components":{"echo":)" +
                 component("8.0.0", artifacts(platform, R"({"type":"broker","topic":")" + topic +
                                                            R"(","sha256":")" +
                                                            std::string(64, 'c') + "\"}")) +
                 "}}");
    REQUIRE_MESSAGE(deployment(rig, state_of(1, "applying")), rig.agent.log());
    // The fetch is noted before it subscribes, and logged once noted: then kill.
    const fs::path marker = rig.data() / "broker_fetch";
    REQUIRE_MESSAGE(
        rig.agent.wait_for_log("fetching " + topic + " from the broker", std::chrono::seconds(10)),
        rig.agent.log());
    REQUIRE(fs::exists(marker));
    REQUIRE(rig.agent.stop(SIGKILL) != 0);
    CHECK(read_bytes(marker) == topic);
    // A newer document needs no fetch; the start ends the old subscription and the note.
    publish_desired(rig, R"({"revision":2,"components":{}})");
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(deployment(rig, state_of(2, "converged")), rig.agent.log());
    CHECK_FALSE(fs::exists(marker));
}

TEST_CASE(
    "artifact publish: another architecture's build goes out, a wrong platform is refused, "
    "a broker that drops it is named") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const bool x86 = static_cast<unsigned char>(v1.bytes.at(18)) == 62;  // e_machine, EM_X86_64
    const std::string native = x86 ? "x86_64" : "aarch64";
    const std::string other = x86 ? "aarch64" : "x86_64";
    // The same plugin with the other machine in its ELF header: what a cross build gives, as far
    // as lucidctl looks (it reads the manifest, never loads the file).
    TempDir dir;
    std::string bytes = v1.bytes;
    bytes[18] = static_cast<char>(x86 ? 183 : 62);
    bytes[19] = 0;
    const auto foreign = dir.path() / ("lucid_agent_echo-1.0.0-linux_" + other + ".so");
    write_bytes(foreign, bytes);

    Broker broker;
    broker.start();
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()}};
    auto published = run_ctl({"artifact", "publish", foreign.string()}, env);
    CHECK_MESSAGE(published.code == 0, published.output);
    CHECK(published.has("lucid/artifacts/lucid-agent-echo/1.0.0/linux_" + other));

    auto wrong =
        run_ctl({"artifact", "publish", v1.path.string(), "--platform", "linux_" + other}, env);
    CHECK(wrong.code == 2);
    CHECK_MESSAGE(wrong.has(" is built for " + native + " (ELF machine "), wrong.output);
    CHECK(wrong.has("), not for linux_" + other));
    auto banana = run_ctl({"artifact", "publish", v1.path.string(), "--platform", "banana"}, env);
    CHECK(banana.code == 2);
    CHECK(banana.has("not for banana"));
    // This host's build renamed as the other platform's: refused before anything is published.
    TempDir other_dir;
    const auto renamed_file = other_dir.path() / foreign.filename();
    write_bytes(renamed_file, v1.bytes);
    auto renamed = run_ctl({"rollout", "start", renamed_file.string(), "--select", ""}, env);
    CHECK(renamed.code == 2);
    CHECK_MESSAGE(renamed.has("is built for " + native), renamed.output);

    // mosquitto acknowledges a message over its size limit and keeps nothing.
    Broker small(false, std::nullopt, std::nullopt, "message_size_limit 1000\n");
    small.start();
    auto dropped =
        run_ctl({"artifact", "publish", v1.path.string()}, {{"LUCID_MQTT_URL", small.url()}});
    CHECK(dropped.code == 2);
    CHECK_MESSAGE(dropped.has("the broker did not keep the artifact on "
                              "lucid/artifacts/lucid-agent-echo/1.0.0/linux_" +
                              native),
                  dropped.output);
}

TEST_CASE("desired state: below the version floor only with allow_downgrade") {
    ComponentRig rig("des-floor");
    rig.start_agent();
    const std::string platform = build_platform(rig);
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const std::string one = artifacts(platform, url_source(file_url(v1), v1.sha256));
    publish_desired(
        rig, R"({"revision":1,"components":{"echo":)" +
                 component("2.0.0", artifacts(platform, url_source(file_url(v2), v2.sha256))) +
                 "}}");
    REQUIRE_MESSAGE(deployment(rig, state_of(1, "converged")), rig.agent.log());

    publish_desired(rig, R"({"revision":2,"components":{"echo":)" + component("1.0.0", one) + "}}");
    auto failed = deployment(rig, state_of(2, "failed"));
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(outcome_field(*failed, "echo", "action") == "downgrade");
    CHECK(outcome_field(*failed, "echo", "error") ==
          "downgrade refused: lucid-agent-echo 1.0.0 < 2.0.0");

    publish_desired(rig, R"({"revision":3,"components":{"echo":)" +
                             component("1.0.0", one, R"(,"allow_downgrade":1)") + "}}");
    auto rejected = deployment(rig, [](const Message& m) { return !rejected_error(m).empty(); });
    REQUIRE(rejected);
    CHECK(rejected_error(*rejected) ==
          "invalid desired state: components.echo.allow_downgrade must be true or false");

    rig.client->clear();
    publish_desired(rig, R"({"revision":4,"components":{"echo":)" +
                             component("1.0.0", one, R"(,"allow_downgrade":true)") + "}}");
    REQUIRE_MESSAGE(deployment(rig, state_of(4, "converged")), rig.agent.log());
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
}
