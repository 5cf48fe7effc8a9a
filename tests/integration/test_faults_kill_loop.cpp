// Reliability: the agent killed with SIGKILL at many points of an install, an upgrade and an
// uninstall, in a loop that goes on from wherever each kill left it (absent → install 1.0.0 →
// upgrade to 2.0.0 → uninstall → ...). The kill delays are spread from 0 to past the time each
// operation takes in this build (measured first), and some kills follow an event the agent
// publishes in the middle of an operation. After every kill the agent starts again, and then:
//   - registry.json parses, has `format`, and every entry's file (and kept previous version)
//     is where the entry says, with the entry's sha256; no other version directory remains;
//   - no staging leftover, temporary file or start marker survived the boot recovery;
//   - the component is running at the registered version, or absent everywhere: registry,
//     files, core/components and the retained status; an upgrade ends at the old or new version.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

const std::string kCid = "echo";
const std::string kDist = "lucid-agent-echo";
constexpr int kIterations = 30;  // 35-50 s under ASan, with the measuring cycle

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        names.insert(e.path().filename().string());
    return names;
}

// The file an entry (or its `previous`) points at is in its version directory, with its sha256.
void check_file(const ComponentRig& rig, const rapidjson::Value& v, const std::string& dist) {
    REQUIRE(v.IsObject());
    const fs::path path = v["path"].GetString();
    const fs::path dir = rig.data() / "components" / dist / v["version"].GetString();
    CHECK_MESSAGE(path.parent_path() == dir, path);
    REQUIRE_MESSAGE(fs::exists(path), path);
    CHECK_MESSAGE(sha256_hex(read_bytes(path)) == v["sha256"].GetString(), path);
}

// Checks the data directory after a boot; returns the installed version of the component, ""
// when it is not installed.
std::string check_data_dir(const ComponentRig& rig) {
    const fs::path registry_file = rig.data() / "registry.json";
    REQUIRE(fs::exists(registry_file));
    rapidjson::Document registry;
    REQUIRE_NOTHROW(registry = read_json(registry_file));
    REQUIRE(registry.IsObject());
    CHECK(registry.HasMember("format"));
    REQUIRE(registry.HasMember("components"));

    std::set<std::string> expected_dists;
    std::string version;
    for (const auto& [id, entry] : registry["components"].GetObject()) {
        const std::string dist = entry["dist_name"].GetString();
        expected_dists.insert(dist);
        check_file(rig, entry, dist);
        std::set<std::string> versions{entry["version"].GetString()};
        if (entry.HasMember("previous") && !entry["previous"].IsNull()) {
            check_file(rig, entry["previous"], dist);
            versions.insert(entry["previous"]["version"].GetString());
        }
        CHECK(names_in(rig.data() / "components" / dist) == versions);
        if (id.GetString() == kCid) version = entry["version"].GetString();
    }
    CHECK(names_in(rig.data() / "components") == expected_dists);
    CHECK(names_in(rig.data() / "staging").empty());
    CHECK(names_in(rig.data() / "starting").empty());
    CHECK(names_in(rig.data() / "quarantine").empty());
    for (const auto& e : fs::recursive_directory_iterator(rig.data())) {
        CHECK_MESSAGE(e.path().filename().string().find(".tmp.") == std::string::npos, e.path());
    }
    return version;
}

// The retained components/{cid}/status a new subscriber gets, if any. The retained `status`
// is subscribed to second: the broker sends retained messages in subscription order, so once it
// arrived, the component's one (when there is one) arrived before it.
std::optional<Message> retained_status(ComponentRig& rig, const std::string& cid) {
    MqttClient fresh(rig.broker.port());
    const std::string topic = rig.agent.topic("components/" + cid + "/status");
    fresh.subscribe(topic);
    fresh.subscribe(rig.agent.topic("status"));
    REQUIRE(fresh.wait_for(rig.agent.topic("status"), any_message()));
    const auto found = fresh.messages(topic);
    if (found.empty()) return std::nullopt;
    return found.back();
}

// The component is running at `version` (installed), or nowhere to be seen (version "").
void check_component(ComponentRig& rig, const std::string& version) {
    // What a redelivered command published came before the barrier's result; the snapshots of
    // the connection are published on a lane of their own (agent.cpp: connect_lane_), which a
    // loaded machine may run after the barrier was answered: waited for, then the latest counts.
    REQUIRE_MESSAGE(rig.client->wait_for(rig.agent.topic("core/components"), any_message()),
                    rig.agent.log());
    const auto snapshots = rig.client->messages(rig.agent.topic("core/components"));
    REQUIRE_FALSE(snapshots.empty());
    const auto components = snapshots.back().json();
    const auto listed = components["components"].FindMember(kCid.c_str());
    const auto retained = retained_status(rig, kCid);
    if (version.empty()) {
        CHECK_MESSAGE(listed == components["components"].MemberEnd(), snapshots.back().payload);
        CHECK_MESSAGE(!retained, (retained ? retained->payload : ""));
        return;
    }
    REQUIRE_MESSAGE(listed != components["components"].MemberEnd(), snapshots.back().payload);
    CHECK(std::string(listed->value["version"].GetString()) == version);
    CHECK_MESSAGE(std::string(listed->value["state"].GetString()) == "running",
                  snapshots.back().payload);
    REQUIRE(retained);
    CHECK_MESSAGE((retained->str("state") == "running" && retained->str("version") == version),
                  retained->payload);
}

// The operation that moves the component on from `version`, as a command to publish.
struct Operation {
    std::string name;  // install, upgrade, uninstall
    std::string topic;
    std::string result_topic;
    std::string payload;
    std::string after;  // the version once it completed
};

std::string operation_from(const std::string& version) {
    return version.empty() ? "install" : version == "1.0.0" ? "upgrade" : "uninstall";
}

// An install comes by URL when `v1_url` is given (a download phase, with progress, to kill in).
Operation next_operation(const std::string& version, const std::string& request_id,
                         const Artifact& v1, const Artifact& v2, const std::string& v1_url) {
    const std::string install = "core/cmd/components/install";
    const std::string installed = "core/evt/components/install_result";
    if (version.empty()) {
        const std::string source =
            v1_url.empty() ? inline_source(v1) : url_source(v1_url, v1.sha256);
        // After the first cycle 1.0.0 is below the version floor 2.0.0 (contract §8.12): the
        // loop installs it again on purpose.
        return {"install", install, installed,
                install_payload(request_id, kCid, source, R"(,"allow_downgrade":true)"), "1.0.0"};
    }
    if (version == "1.0.0") {
        return {"upgrade", install, installed, install_payload(request_id, kCid, inline_source(v2)),
                "2.0.0"};
    }
    return {"uninstall", "core/cmd/components/uninstall", "core/evt/components/uninstall_result",
            R"({"request_id":")" + request_id + R"(","component_id":"echo"})", ""};
}

// What the operation publishes half-way, to kill right after: the download's progress, the new
// version starting, the retained status being cleared.
bool wait_for_midpoint(ComponentRig& rig, const Operation& op, const std::string& request_id) {
    const milliseconds timeout(5000);
    if (op.name == "install") {
        return rig.client
            ->wait_for(rig.agent.topic("core/evt/components/install_progress"),
                       with_request_id(request_id), timeout)
            .has_value();
    }
    if (op.name == "upgrade")
        return rig.wait_status(kCid, "starting", "2.0.0", timeout).has_value();
    return rig.client
        ->wait_for(
            rig.agent.topic("components/echo/status"),
            [](const Message& m) { return m.payload.empty(); }, timeout)
        .has_value();
}

milliseconds time_of(ComponentRig& rig, const Operation& op, const std::string& request_id) {
    const auto start = std::chrono::steady_clock::now();
    const Message result = rig.command(op.topic, op.result_topic, op.payload, request_id);
    REQUIRE_MESSAGE(ok_of(result), result.payload);
    return std::chrono::duration_cast<milliseconds>(result.received - start);
}

}  // namespace

TEST_CASE("an agent killed at any point of an install, upgrade or uninstall never half-installs") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    HttpServer http;
    http.serve("/" + v1.name, v1.bytes);
    ComponentRig rig("kill-loop");
    rig.start_agent();

    // One undisturbed cycle: how long each operation takes in this build (sanitizers, load).
    std::map<std::string, milliseconds> duration;
    std::string version;
    for (const char* id : {"measure-install", "measure-upgrade", "measure-uninstall"}) {
        const Operation op = next_operation(version, id, v1, v2, "");
        duration[op.name] = time_of(rig, op, id);
        version = op.after;
    }
    MESSAGE("install " << duration["install"].count() << " ms, upgrade "
                       << duration["upgrade"].count() << " ms, uninstall "
                       << duration["uninstall"].count() << " ms");

    std::map<std::string, int> runs;  // per operation: spreads its delays and variants
    std::map<std::string, int> outcomes;
    for (int i = 0; i < kIterations; ++i) {
        const std::string request_id = "kill-" + std::to_string(i);
        const int run = runs[operation_from(version)]++;
        const bool at_midpoint = run % 4 == 3;
        const bool by_url = at_midpoint || run % 2 == 0;
        const Operation op =
            next_operation(version, request_id, v1, v2, by_url ? http.url("/" + v1.name) : "");
        // 0, 0.5, 1.0, 0.3, 0.8, 0.1, ... 1.1 times the operation's duration.
        const double fraction = ((run * 5) % 12) / 10.0;
        const auto delay = milliseconds(static_cast<long>(duration[op.name].count() * fraction));
        INFO("iteration " << i << ": " << op.name << " from '" << version << "', "
                          << (at_midpoint ? std::string("at its midpoint")
                                          : std::to_string(delay.count()) + " ms"));

        rig.client->clear();
        rig.client->publish(rig.agent.topic(op.topic), op.payload);
        if (at_midpoint) {
            CHECK_MESSAGE(wait_for_midpoint(rig, op, request_id), rig.agent.log());
        } else {
            std::this_thread::sleep_for(delay);  // the point of the test: where the kill lands
        }
        rig.agent.stop(SIGKILL);
        const auto answered = rig.client->messages(rig.agent.topic(op.result_topic));

        rig.client->clear();
        rig.start_agent();
        // The slow lane runs in order: once this no-op has its answer, a command the broker
        // redelivered at the reconnect has run too.
        const std::string barrier = "barrier-" + std::to_string(i);
        rig.uninstall(R"({"request_id":")" + barrier + R"(","component_id":"nothing"})", barrier);

        const std::string now = check_data_dir(rig);
        CHECK_MESSAGE((now == version || now == op.after), "ended at '" << now << "'");
        for (const auto& m : answered) {
            if (m.str("request_id") == request_id && ok_of(m)) CHECK(now == op.after);
        }
        check_component(rig, now);
        outcomes[op.name + (now == version ? " interrupted" : " completed")]++;
        version = now;
    }
    for (const auto& [outcome, count] : outcomes) MESSAGE(outcome << ": " << count);
}

namespace {

std::string cfg_set_payload(const std::string& request_id, int heartbeat_s) {
    return R"({"request_id":")" + request_id + R"(","set":{"heartbeat_s":)" +
           std::to_string(heartbeat_s) + "}}";
}

// The heartbeat the agent holds now, by a cfg/set that changes nothing. On the fast lane, after
// any cfg/set the broker redelivered at the reconnect: those count too.
int held_heartbeat(MqttClient& client, const AgentHarness& agent, const std::string& id) {
    const auto probe = send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                                    R"({"request_id":")" + id + R"(","set":{}})", id);
    REQUIRE_MESSAGE(probe, agent.log());
    REQUIRE_MESSAGE(ok_of(*probe), probe->payload);
    return probe->json()["cfg"]["heartbeat_s"].GetInt();
}

}  // namespace

// cfg/set's config change and its answer are one journal record, fdatasync'ed before the answer
// is published (host/commands/dedup_store.hpp). A burst of cfg/sets, each to a heartbeat of its
// own, is killed at spread points; after the restart the config is the last acknowledged one's
// or a later one's, and every acknowledged request_id sent again (with another value) gets its
// first answer, byte for byte, and changes nothing.
TEST_CASE("an agent killed during cfg/set traffic keeps every acknowledged change and answer") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "kill-cfg");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start();
    auto online = wait_online(client, agent);
    REQUIRE_MESSAGE(online, agent.log());
    std::uint64_t session = session_of(*online);
    const std::string result_topic = agent.topic("core/evt/cfg_set_result");
    constexpr int kBurst = 12;
    constexpr int kKills = 12;
    int next_value = 5;
    const auto burst = [&](const std::string& prefix) {
        std::vector<std::pair<std::string, int>> sent;
        for (int k = 0; k < kBurst; ++k) {
            sent.emplace_back(prefix + std::to_string(k), next_value++);
            client.publish_nowait(agent.topic("core/cfg/set"),
                                  cfg_set_payload(sent.back().first, sent.back().second));
        }
        return sent;
    };

    // One undisturbed burst: how long it takes in this build.
    const auto start = std::chrono::steady_clock::now();
    const auto measured = burst("measure-");
    const auto last =
        client.wait_for(result_topic, with_request_id(measured.back().first), milliseconds(20000));
    REQUIRE_MESSAGE(last, agent.log());
    const auto duration =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    MESSAGE("a burst of " << kBurst << " cfg/set takes " << duration.count() << " ms");
    int held = measured.back().second;

    int acknowledged_total = 0;
    for (int i = 0; i < kKills; ++i) {
        // 0, 0.5, 1.0, 0.3, 0.8, 0.1, ... 1.1 times the burst's duration.
        const double fraction = ((i * 5) % 12) / 10.0;
        const auto delay = milliseconds(static_cast<long>(duration.count() * fraction));
        INFO("kill " << i << " after " << delay.count() << " ms");
        client.clear();
        const auto sent = burst("k" + std::to_string(i) + "-");
        std::this_thread::sleep_for(delay);  // the point of the test: where the kill lands
        agent.stop(SIGKILL);
        std::map<std::string, std::string> answered;  // request_id → its first answer
        int last_acknowledged = -1;
        for (const auto& m : client.messages(result_topic)) {
            for (int k = 0; k < kBurst; ++k) {
                if (m.str("request_id") != sent[k].first) continue;
                REQUIRE_MESSAGE(ok_of(m), m.payload);
                answered.emplace(sent[k].first, m.payload);
                last_acknowledged = std::max(last_acknowledged, k);
            }
        }
        acknowledged_total += static_cast<int>(answered.size());

        client.clear();
        agent.start();
        online = wait_online(client, agent, session);
        REQUIRE_MESSAGE(online, agent.log());
        session = session_of(*online);
        // The request log a release before the journal reads is whole and in its format.
        const auto request_log = read_json(agent.data_dir() / "data" / "request_log.json");
        CHECK(request_log["format"].GetInt() == 1);

        const int now = held_heartbeat(client, agent, "probe-" + std::to_string(i));
        int index = -1;
        for (int k = 0; k < kBurst; ++k) {
            if (sent[k].second == now) index = k;
        }
        if (index < 0) {
            CHECK_MESSAGE(now == held, "heartbeat " << now << ", none of the burst's");
            CHECK(last_acknowledged < 0);
        } else {
            CHECK_MESSAGE(index >= last_acknowledged,
                          "holds #" << index << " but #" << last_acknowledged << " was answered");
        }
        // Sent again with another value: answered from the record, not applied again.
        for (const auto& [request_id, payload] : answered) {
            const auto replay =
                send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                             cfg_set_payload(request_id, 3600), request_id);
            REQUIRE_MESSAGE(replay, agent.log());
            CHECK(replay->payload == payload);
        }
        CHECK(held_heartbeat(client, agent, "after-" + std::to_string(i)) == now);
        held = now;
    }
    MESSAGE(acknowledged_total << " acknowledged cfg/set over " << kKills << " kills");
    CHECK(acknowledged_total > 0);
}
