// An agent's labels as an operator uses them (issue 16, item 1): set at start by LUCID_LABELS,
// published in the retained status and core/metadata (kept while the agent is offline),
// replaced as a whole by cfg/set, which persists and wins over the environment from then on,
// and selected by lucidctl agents --select.
#include <doctest/doctest.h>

#include <signal.h>

#include "agent_harness.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;

namespace {

// The labels object of a retained payload, as text "k=v,…" sorted by key.
std::string labels_of(const Message& m) {
    const auto doc = m.json();
    if (!doc.IsObject() || !doc.HasMember("labels") || !doc["labels"].IsObject()) return "<none>";
    std::string text;
    for (const auto& member : doc["labels"].GetObject()) {
        if (!text.empty()) text += ',';
        text += std::string(member.name.GetString()) + "=" + member.value.GetString();
    }
    return text;
}

std::optional<Message> retained(MqttClient& client, const std::string& topic,
                                const std::string& labels) {
    return client.wait_for(topic, [&](const Message& m) { return labels_of(m) == labels; });
}

}  // namespace

TEST_CASE("labels: from LUCID_LABELS, replaced by cfg/set, persisted, kept while offline") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    AgentHarness agent{broker, "lab-1"};
    client.subscribe(agent.topic("#"));
    agent.start({{"LUCID_LABELS", "site=berlin,role=gateway"}});
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    CHECK_MESSAGE(retained(client, agent.topic("core/metadata"), "role=gateway,site=berlin"),
                  agent.log());
    CHECK(retained(client, agent.topic("status"), "role=gateway,site=berlin"));

    // cfg/set replaces the whole set: metadata and status follow at once.
    client.clear();
    auto answer = send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                               R"({"request_id":"l1","set":{"labels":{"site":"paris"}}})", "l1");
    REQUIRE_MESSAGE(answer, agent.log());
    CHECK(true_field(answer->payload, "ok"));
    CHECK(retained(client, agent.topic("core/metadata"), "site=paris"));
    CHECK(retained(client, agent.topic("status"), "site=paris"));

    // A bad set changes nothing and says why.
    auto refused = send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                                R"({"request_id":"l2","set":{"labels":{"site":"Paris"}}})", "l2");
    REQUIRE(refused);
    CHECK(string_field(refused->payload, "error") ==
          "label value 'Paris' of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}");

    // Restarted with the same environment: what cfg/set stored wins over LUCID_LABELS.
    REQUIRE(agent.stop(SIGTERM) == 0);
    client.clear();
    agent.start({{"LUCID_LABELS", "site=berlin,role=gateway"}});
    REQUIRE_MESSAGE(wait_online(client, agent, 1), agent.log());
    CHECK_MESSAGE(retained(client, agent.topic("core/metadata"), "site=paris"), agent.log());

    // Killed: the Will says offline, core/metadata still has the labels.
    REQUIRE(agent.stop(SIGKILL) != 0);
    MqttClient later(broker.port());
    later.subscribe(agent.topic("core/metadata"));
    CHECK(retained(later, agent.topic("core/metadata"), "site=paris"));
}

TEST_CASE("lucidctl agents --select picks agents by their labels, offline ones too") {
    Broker broker;
    broker.start();
    MqttClient client(broker.port());
    client.subscribe("lucid/agents/#");
    AgentHarness berlin{broker, "sel-berlin"};
    AgentHarness paris{broker, "sel-paris"};
    AgentHarness plain{broker, "sel-plain"};
    berlin.start({{"LUCID_LABELS", "site=berlin,role=gateway"}});
    paris.start({{"LUCID_LABELS", "site=paris,role=test"}});
    plain.start();
    for (AgentHarness* a : {&berlin, &paris, &plain}) {
        REQUIRE_MESSAGE(wait_online(client, *a), a->log());
        REQUIRE(client.wait_for(a->topic("core/metadata"), [](const Message&) { return true; }));
    }
    REQUIRE(paris.stop(SIGTERM) == 0);  // offline, its labels still selectable
    const std::map<std::string, std::string> env{{"LUCID_MQTT_URL", broker.url()},
                                                 {"LUCID_ENV_FILE", "/dev/null"}};
    auto ids = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{"--json", "agents"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto result = run_ctl(argv, env);
        REQUIRE_MESSAGE(result.code == 0, result.output);
        auto doc = result.json();
        std::string out;
        for (const auto& agent : doc.GetArray()) {
            out += std::string(out.empty() ? "" : ",") + agent["agent_id"].GetString();
        }
        return out;
    };
    CHECK(ids({}) == "sel-berlin,sel-paris,sel-plain");
    CHECK(ids({"--select", "site=berlin"}) == "sel-berlin");
    CHECK(ids({"--select", "role!=test"}) == "sel-berlin,sel-plain");
    CHECK(ids({"--select", "site in (berlin,paris)"}) == "sel-berlin,sel-paris");
    CHECK(ids({"--select", "site notin (berlin)"}) == "sel-paris,sel-plain");
    CHECK(ids({"--select", "site"}) == "sel-berlin,sel-paris");
    CHECK(ids({"--select", "!site"}) == "sel-plain");
    CHECK(ids({"--select", "site=paris,role=test"}) == "sel-paris");

    auto table = run_ctl({"agents", "--select", "site=berlin"}, env);
    CHECK(table.code == 0);
    CHECK(table.has("LABELS"));
    CHECK(table.has("role=gateway,site=berlin"));
    CHECK_FALSE(table.has("sel-paris"));

    auto bad = run_ctl({"agents", "--select", "site in (a"}, env);
    CHECK(bad.code == 2);
    CHECK(bad.has("selector 'site in (a': missing ')'"));

    // lucidctl config set labels=… sends the whole set.
    auto set = run_ctl({"--agent", "sel-plain", "config", "set", "labels=zone=z1"}, env);
    CHECK_MESSAGE(set.code == 0, set.output);
    // What lucidctl sent expires in an hour by default (contract §3.4).
    auto sent = client.wait_for(plain.topic("core/cfg/set"), [](const Message&) { return true; });
    REQUIRE(sent);
    const std::string expires = sent->str("expires_at");
    CHECK_MESSAGE(expires.size() == 24, sent->payload);
    CHECK(expires.back() == 'Z');
    CHECK(ids({"--select", "zone=z1"}) == "sel-plain");
    auto bad_set = run_ctl({"--agent", "sel-plain", "config", "set", "labels=Zone=z1"}, env);
    CHECK(bad_set.code == 2);
    CHECK(bad_set.has("label key 'Zone' must match"));
}
