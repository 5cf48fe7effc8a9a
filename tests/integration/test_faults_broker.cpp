// The broker killed and restarted again and again while commands keep coming (issue 8): the
// agent loses no command and runs none twice, and its snapshots and plugin subscriptions come
// back every time.
//
// The sender behaves like an operator's tool: a command left without an answer is sent again
// with the same request_id. What a SIGKILLed broker drops is therefore resent, and the agent's
// de-duplication must keep every command executed exactly once. The probe plugin's "count"
// command makes that visible: it answers with how many times it has run, so N distinct
// request_ids must get exactly the counts 1..N, and a repeated answer must be the first one.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "component_rig.hpp"

using namespace lucid::itest;
using namespace std::chrono_literals;

namespace {

constexpr int kCommands = 240;  // every 4th one a cfg/set, the others a probe count
constexpr int kBrokerRestarts = 6;

bool is_cfg_set(int i) { return i % 4 == 3; }
std::string request_id(int i) { return "load-" + std::to_string(i); }

// Sends kCommands at a steady pace from its own thread and resends each unanswered one with
// the same request_id, until every one has an answer or the deadline passes.
class CommandLoad {
  public:
    CommandLoad(const Broker& broker, const AgentHarness& agent)
        : agent_(agent), client_(broker.port(), "faults-load") {
        client_.subscribe(agent.topic("components/probe/evt/count_result"));
        client_.subscribe(agent.topic("core/evt/cfg_set_result"));
        thread_ = std::thread([this] { run(); });
    }
    ~CommandLoad() {
        stop_ = true;
        thread_.join();
    }

    bool wait_sent(int count, std::chrono::seconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return sent_ >= count; });
    }
    bool wait_done(std::chrono::seconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return done_; });
    }
    int resends() const { return resends_.load(); }
    MqttClient& client() { return client_; }

  private:
    std::string result_topic(int i) const {
        return agent_.topic(is_cfg_set(i) ? "core/evt/cfg_set_result"
                                          : "components/probe/evt/count_result");
    }

    void send(int i) {
        const std::string id = request_id(i);
        if (is_cfg_set(i)) {
            client_.publish_nowait(agent_.topic("core/cfg/set"),
                                   R"({"request_id":")" + id + R"(","set":{"heartbeat_s":)" +
                                       std::to_string(30 + i % 2) + "}}");
        } else {
            client_.publish_nowait(agent_.topic("components/probe/cmd/count"),
                                   R"({"request_id":")" + id + "\"}");
        }
    }

    std::set<std::string> answered() const {
        std::set<std::string> ids;
        for (const auto& m : client_.all_messages()) ids.insert(m.str("request_id"));
        return ids;
    }

    void run() {
        std::map<int, std::chrono::steady_clock::time_point> last_sent;
        const auto deadline = std::chrono::steady_clock::now() + 90s;
        while (!stop_ && std::chrono::steady_clock::now() < deadline) {
            const auto now = std::chrono::steady_clock::now();
            if (sent_ < kCommands) {
                send(sent_);
                last_sent[sent_] = now;
                set([&] { ++sent_; });
            }
            const auto ids = answered();
            for (auto it = last_sent.begin(); it != last_sent.end();) {
                if (ids.count(request_id(it->first))) {
                    it = last_sent.erase(it);
                } else {
                    if (now - it->second > 1500ms) {
                        send(it->first);
                        it->second = now;
                        ++resends_;
                    }
                    ++it;
                }
            }
            if (sent_ == kCommands && last_sent.empty()) {
                set([&] { done_ = true; });
                return;
            }
            // The pace of the load (about 100 commands a second), not a wait for an event.
            std::this_thread::sleep_for(10ms);
        }
    }

    template <typename Change>
    void set(Change change) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            change();
        }
        cv_.notify_all();
    }

    const AgentHarness& agent_;
    MqttClient client_;
    std::mutex mutex_;
    std::condition_variable cv_;
    int sent_ = 0;  // written by the load thread only, under mutex_
    bool done_ = false;
    std::atomic<int> resends_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// After a reconnect: the retained snapshots are there, and a plugin subscription works.
void check_agent_is_back(ComponentRig& rig, int round) {
    CAPTURE(round);
    MqttClient observer(rig.broker.port());
    observer.subscribe(rig.agent.topic("#"));
    auto online = wait_online(observer, rig.agent, rig.session);
    REQUIRE_MESSAGE(online, (rig.agent.log() + "\n--- broker ---\n" + rig.broker.log()));
    CHECK(session_of(*online) == rig.session + 1);
    rig.session = session_of(*online);
    for (const char* suffix : {"core/metadata", "core/state", "core/components"}) {
        CHECK_MESSAGE(observer.wait_for(rig.agent.topic(suffix), any_message()), suffix);
    }
    const std::string tag = "round-" + std::to_string(round);
    observer.publish(rig.agent.topic("components/probe/in/" + tag), tag);
    CHECK_MESSAGE(observer.wait_for(rig.agent.topic("components/probe/out"),
                                    [&](const Message& m) { return m.payload == tag; }),
                  rig.agent.log());
}

}  // namespace

TEST_CASE("broker restarts and SIGKILLs under command load lose no command and run none twice") {
    ComponentRig rig("faults-broker", /*broker_persistence=*/true);
    rig.start_agent();
    auto probe = rig.install("fb-probe", "probe", inline_source(artifact(LUCID_ITEST_PROBE)));
    REQUIRE_MESSAGE(ok_of(probe), probe.payload);
    REQUIRE(rig.wait_status("probe", "running"));
    rig.client.reset();  // the rig's client would not outlive the broker's restarts

    CommandLoad load(rig.broker, rig.agent);
    for (int round = 1; round <= kBrokerRestarts; ++round) {
        // Spread the restarts over the load: wait until this round's share has been sent.
        REQUIRE(load.wait_sent(kCommands * round / (kBrokerRestarts + 1), 30s));
        // Odd rounds: a SIGKILL, so the broker forgets what came after its last save.
        if (round % 2) {
            rig.broker.kill();
        } else {
            rig.broker.stop();
        }
        rig.broker.start();
        check_agent_is_back(rig, round);
    }

    REQUIRE_MESSAGE(load.wait_done(60s), rig.agent.log());
    MESSAGE("commands sent again after a missing answer: " << load.resends());

    // Exactly once: the counts are 1..N with no gap and no repeat, and every answer given for a
    // request_id more than once is the first answer unchanged.
    std::map<std::string, std::string> first_answer;
    std::set<int> counts;
    int probe_commands = 0;
    for (int i = 0; i < kCommands; ++i) probe_commands += !is_cfg_set(i);
    for (const auto& m : load.client().all_messages()) {
        const std::string id = m.str("request_id");
        auto [it, first] = first_answer.emplace(id, m.payload);
        if (!first) {
            CHECK_MESSAGE(it->second == m.payload, id);
            continue;
        }
        auto doc = m.json();
        CHECK_MESSAGE(doc["ok"].GetBool(), m.payload);
        if (doc.HasMember("count")) counts.insert(doc["count"].GetInt());
    }
    CHECK(first_answer.size() == static_cast<std::size_t>(kCommands));
    CHECK(counts.size() == static_cast<std::size_t>(probe_commands));
    CHECK(*counts.begin() == 1);
    CHECK(*counts.rbegin() == probe_commands);
    CHECK(rig.agent.process().running());
}
