#include <doctest/doctest.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <rapidjson/document.h>

#include "agent/config_change_text.hpp"
#include "agent/core_commands.hpp"
#include "commands/command_dispatcher.hpp"
#include "commands/dedup_store.hpp"
#include "commands/restart_policy.hpp"
#include "common/atomic_file.hpp"
#include "config/supervision.hpp"
#include "status_text.hpp"
#include "temp_dir.hpp"

using lucid::test::status_text;
using namespace lucid::host;
using namespace lucid::host::commands;
using lucid::host::agent::core_command_specs;
using lucid::host::agent::CoreCommandTarget;
using lucid::host::config::is_supervised;
using lucid::host::config::Supervision;
using namespace std::chrono_literals;

namespace {

// Records publishes; wait_for() blocks until `n` messages were published.
class FakePublisher : public mqtt::Publisher {
  public:
    struct Sent {
        std::string topic;
        std::string payload;
    };
    mqtt::MessageId publish(const std::string& topic, std::string_view payload, int,
                            bool) override {
        std::lock_guard<std::mutex> lock(mutex_);
        sent_.push_back({topic, std::string(payload)});
        cv_.notify_all();
        return static_cast<int>(sent_.size());
    }
    bool wait_delivered(int, std::chrono::milliseconds) override { return true; }
    bool connected() const override { return true; }

    std::vector<Sent> wait_for(std::size_t n) {
        std::unique_lock<std::mutex> lock(mutex_);
        REQUIRE(cv_.wait_for(lock, 5s, [&] { return sent_.size() >= n; }));
        return sent_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Sent> sent_;
};

rapidjson::Document json(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE(d.IsObject());
    return d;
}

std::string error_of(const std::string& payload) {
    auto d = json(payload);
    return d["error"].IsNull() ? "" : d["error"].GetString();
}

class FakeTarget : public CoreCommandTarget {
  public:
    std::vector<std::string> republish_snapshots() override {
        return {"status", "metadata", "state", "components", "cfg"};
    }
    lucid::host::agent::CoreConfig current_config() const override { return config; }
    void apply_config(const lucid::host::agent::CoreConfig& c,
                      const lucid::host::commands::DedupEntry& answer) override {
        if (fail_save) throw std::runtime_error("disk full");
        config = c;
        last_answer = answer;
        ++applied;
    }
    void request_exit(int code) override { exit_code = code; }

    lucid::host::agent::CoreConfig config;
    lucid::host::commands::DedupEntry last_answer;
    int applied = 0;
    int exit_code = -1;
    bool fail_save = false;
};

contract::CommandRequest request(const std::string& text) { return contract::parse_command(text); }

const CommandSpec& find(const std::vector<CommandSpec>& specs, const std::string& name) {
    for (const auto& s : specs) {
        if (s.name == name) return s;
    }
    FAIL("no spec " << name);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("the request log keeps the first result, is bounded, and survives a reload") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    {
        DedupStore store(file, 3);
        store.record("a", {"t/r", "first"}, Durability::immediate);
        store.record("a", {"t/r", "second"}, Durability::immediate);
        CHECK(store.find("t/r", "a")->payload == "first");
        CHECK_FALSE(store.find("other/r", "a"));  // keyed by result topic too
        store.record("b", {"t/r", "B"}, Durability::deferred);
        store.record("c", {"t/r", "C"}, Durability::immediate);
        store.record("d", {"t/r", "D"}, Durability::deferred);
        CHECK(store.size() == 3);
        CHECK_FALSE(store.find("t/r", "a"));  // oldest forgotten
        store.flush();
    }
    DedupStore reloaded(file, 3);
    CHECK(reloaded.load_problem().empty());
    CHECK(reloaded.size() == 3);
    CHECK(reloaded.find("t/r", "d")->payload == "D");
    CHECK(reloaded.find("t/r", "b")->payload == "B");
}

TEST_CASE("records are journaled, and the whole log is written at flush") {
    lucid::test::TempDir dir;
    const auto file = dir / "log.json";
    DedupStore store(file, 10);
    store.record("q", {"t", "Q"}, Durability::immediate);  // starts the journal
    store.record("p", {"t", "P"}, Durability::deferred);   // appended, no flush of its own
    CHECK(parse_dedup(lucid::host::read_file(file))->size() == 1);
    CHECK(lucid::host::read_file(store.journal_path()).find("\"p\"") != std::string::npos);
    store.flush();
    CHECK(parse_dedup(lucid::host::read_file(file))->size() == 2);
}

TEST_CASE("a corrupt request log is moved aside and the store starts empty") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    { std::ofstream(file) << "{ truncated"; }
    DedupStore store(file, 10);
    CHECK(store.size() == 0);
    CHECK(store.load_problem().find("corrupt") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK(parse_dedup(serialize_dedup({{"id", {"t", "{\"x\":1}"}}}))->front().result.payload ==
          "{\"x\":1}");
    CHECK_FALSE(parse_dedup(R"({"format":2,"entries":[]})"));
}

TEST_CASE("restart policy: not supervised, 10 s spacing, and systemd detection") {
    const auto now = std::chrono::system_clock::now();
    CHECK(status_text(restart_refusal(false, std::nullopt, now)) ==
          std::optional<std::string>("not supervised"));
    CHECK(status_text(restart_refusal(true, std::nullopt, now)).empty());
    CHECK(status_text(restart_refusal(true, now - 3s, now)).find("10 s") != std::string::npos);
    CHECK_FALSE(status_text(restart_refusal(true, now + 3s, now)).empty());  // clock stepped back
    CHECK(status_text(restart_refusal(true, now - 11s, now)).empty());

    auto env_with = [](std::string name) {
        return [name](const std::string& n) -> std::optional<std::string> {
            if (n == name) return std::string("x");
            return std::nullopt;
        };
    };
    CHECK(is_supervised(Supervision::automatic, env_with("INVOCATION_ID")));
    CHECK(is_supervised(Supervision::automatic, env_with("NOTIFY_SOCKET")));
    CHECK_FALSE(is_supervised(Supervision::automatic, env_with("OTHER")));
    CHECK_FALSE(is_supervised(Supervision::no, env_with("INVOCATION_ID")));
    CHECK(is_supervised(Supervision::yes, env_with("OTHER")));

    lucid::test::TempDir dir;
    RestartRecord record(dir / "last_restart");
    CHECK_FALSE(record.last());
    record.save(now);
    CHECK(std::chrono::abs(*RestartRecord(dir / "last_restart").last() - now) < 1ms);
}

TEST_CASE("cfg/set reports each contract error and changes nothing") {
    FakeTarget target;
    contract::AgentTopics topics("lucid/agents", "a1");
    auto specs = core_command_specs(topics, target, {});
    const auto& cfg_set = find(specs, "cfg/set");
    CHECK(cfg_set.result_topic == "lucid/agents/a1/core/evt/cfg_set_result");
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"request_id":"1"})", "missing 'set' field in payload"},
        {R"({"request_id":"1","set":3})", "'set' must be an object"},
        {R"({"request_id":"1","set":{"nope":1}})", "unknown config key: nope"},
        {R"({"request_id":"1","set":{"heartbeat_s":"5"}})", "heartbeat_s must be int"},
        {R"({"request_id":"1","set":{"heartbeat_s":4}})", "heartbeat_s must be between 5 and 3600"},
        {R"({"request_id":"1","set":{"log_level":"CRITICAL"}})",
         "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
        {R"({"request_id":"1","set":{"labels":"site=berlin"}})", "labels must be dict"},
        {R"({"request_id":"1","set":{"labels":{"site":1}}})", "labels.site must be str"},
        {R"({"request_id":"1","set":{"labels":{"site":"Berlin"}}})",
         "label value 'Berlin' of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}"},
    };
    for (const auto& [payload, error] : cases) {
        CAPTURE(payload);
        auto reply = cfg_set.handler(request(payload));
        CHECK_FALSE(reply.result.ok());
        CHECK(error_of(reply.result.str()) == error);
    }
    CHECK(target.applied == 0);
}

TEST_CASE("cfg/set applies, echoes applied and reports a failed save") {
    FakeTarget target;
    auto specs = core_command_specs(contract::AgentTopics("r", "a1"), target, {});
    const auto& cfg_set = find(specs, "cfg/set");
    auto reply = cfg_set.handler(request(R"({"request_id":"1","set":{"heartbeat_s":5}})"));
    auto doc = json(reply.result.str());
    CHECK(doc["ok"].GetBool());
    CHECK(doc["applied"]["heartbeat_s"].GetInt() == 5);
    CHECK(doc["cfg"]["log_level"].GetString() == std::string("INFO"));
    CHECK(target.config.heartbeat_s == 5);
    CHECK(reply.durability == Durability::immediate);
    // Saved with its answer, the very bytes published (one journal record, one fdatasync).
    CHECK(target.last_answer.request_id == "1");
    CHECK(target.last_answer.result.topic == "r/a1/core/evt/cfg_set_result");
    CHECK(target.last_answer.result.payload == reply.result.str());

    // labels replace the whole set; {} is no labels, and still set (it wins over the env).
    reply = cfg_set.handler(request(R"({"request_id":"3","set":{"labels":{"site":"berlin"}}})"));
    doc = json(reply.result.str());
    CHECK(doc["ok"].GetBool());
    CHECK(doc["cfg"]["labels"]["site"].GetString() == std::string("berlin"));
    REQUIRE(target.config.labels);
    CHECK(*target.config.labels == contract::Labels{{"site", "berlin"}});
    cfg_set.handler(request(R"({"request_id":"4","set":{"labels":{}}})"));
    REQUIRE(target.config.labels);
    CHECK(target.config.labels->empty());

    target.fail_save = true;
    reply = cfg_set.handler(request(R"({"request_id":"2","set":{"heartbeat_s":9}})"));
    CHECK(error_of(reply.result.str()) == "cannot save config: disk full");
    CHECK(target.config.heartbeat_s == 5);
}

TEST_CASE("restart is refused when not supervised and exits after delivery when supervised") {
    lucid::test::TempDir dir;
    RestartRecord record(dir / "last_restart");
    FakeTarget target;
    contract::AgentTopics topics("r", "a1");
    auto unsupervised = core_command_specs(topics, target, {false, &record});
    auto reply = find(unsupervised, "restart").handler(request(R"({"request_id":"1"})"));
    CHECK(error_of(reply.result.str()) == "not supervised");
    CHECK_FALSE(reply.after_delivery);

    auto supervised = core_command_specs(topics, target, {true, &record});
    reply = find(supervised, "restart").handler(request(R"({"request_id":"2"})"));
    CHECK(reply.result.ok());
    REQUIRE(reply.after_delivery);
    reply.after_delivery();
    CHECK(target.exit_code == kRestartExitCode);
    reply = find(supervised, "restart").handler(request(R"({"request_id":"3"})"));
    CHECK(error_of(reply.result.str()).rfind("restart refused", 0) == 0);
}

TEST_CASE("refresh lists the names of the snapshots it republished; ping answers ok") {
    FakeTarget target;
    auto specs = core_command_specs(contract::AgentTopics("r", "a1"), target, {});
    auto refresh =
        json(find(specs, "refresh").handler(request(R"({"request_id":"1"})")).result.str());
    REQUIRE(refresh["snapshots_updated"].IsArray());
    CHECK(contract::to_json(refresh["snapshots_updated"]) ==
          R"(["status","metadata","state","components","cfg"])");
    auto ping = find(specs, "ping").handler(request(R"({"request_id":"1"})"));
    CHECK(ping.result.ok());
    CHECK(ping.durability == Durability::deferred);
}

TEST_CASE("the dispatcher answers malformed payloads, republishes duplicates, survives throws") {
    lucid::test::TempDir dir;
    FakePublisher publisher;
    DedupStore dedup(dir / "log.json", 100);
    CommandDispatcher dispatcher(publisher, dedup, 16);
    std::atomic<int> runs{0};
    dispatcher.add({"thing", "cmd/thing", "evt/thing_result", Lane::fast,
                    [&](const contract::CommandRequest& rq) {
                        ++runs;
                        if (rq.request_id == "boom") throw std::runtime_error("kaput");
                        return CommandReply(
                            contract::Result(rq.request_id, contract::Clock::now()));
                    }});
    auto route = dispatcher.route("cmd/thing");
    route({"cmd/thing", "not json", 1, false});
    route({"cmd/thing", R"({"request_id":"r1"})", 1, false});
    route({"cmd/thing", R"({"request_id":"r1"})", 1, false});
    route({"cmd/thing", R"({"request_id":"boom"})", 1, false});
    route({"cmd/thing", R"({"request_id":"retained"})", 1, true});  // ignored
    route({"cmd/thing", R"({"x":1})", 1, false});
    const auto sent = publisher.wait_for(5);
    for (const auto& s : sent) CHECK(s.topic == "evt/thing_result");
    CHECK(error_of(sent[0].payload).rfind("invalid JSON:", 0) == 0);
    CHECK(json(sent[0].payload)["request_id"].GetString() == std::string(""));
    CHECK(sent[1].payload == sent[2].payload);  // duplicate: first result, byte for byte
    CHECK(error_of(sent[3].payload) == "internal error: kaput");
    CHECK(error_of(sent[4].payload) == "validation_error: missing 'request_id'");
    CHECK(runs == 2);
}

TEST_CASE("expires_at: an expired command is answered expired by the agent's clock, not run") {
    lucid::test::TempDir dir;
    FakePublisher publisher;
    DedupStore dedup(dir / "log.json", 100);
    auto now = *contract::parse_utc_timestamp("2026-11-30T12:00:00Z");
    CommandDispatcher dispatcher(publisher, dedup, 16, [&now] { return now; });
    std::atomic<int> runs{0};
    dispatcher.add({"thing", "cmd/thing", "evt/thing_result", Lane::fast,
                    [&](const contract::CommandRequest& rq) {
                        ++runs;
                        return CommandReply(
                            contract::Result(rq.request_id, contract::Clock::now()));
                    }});
    auto route = dispatcher.route("cmd/thing");
    route({"cmd/thing", R"({"request_id":"late","expires_at":"2026-11-30T11:59:59.999Z"})", 1,
           false});
    route({"cmd/thing", R"({"request_id":"due","expires_at":"2026-11-30T12:00:00Z"})", 1, false});
    auto sent = publisher.wait_for(2);
    CHECK(error_of(sent[0].payload) == "expired: 2026-11-30T11:59:59.999Z");
    CHECK(json(sent[1].payload)["ok"].GetBool());  // not after its expiry: runs
    CHECK(runs == 1);
    CHECK(dedup.find("evt/thing_result", "late"));  // answered: a retry gets the same answer
    // A clock that is behind (no RTC before NTP): an expired command still runs, as documented.
    now = *contract::parse_utc_timestamp("1970-01-01T00:00:10Z");
    route({"cmd/thing", R"({"request_id":"old","expires_at":"2026-11-30T11:00:00Z"})", 1, false});
    sent = publisher.wait_for(3);
    CHECK(json(sent[2].payload)["ok"].GetBool());
    CHECK(runs == 2);
}

TEST_CASE("a long command on the slow lane does not delay the fast lane") {
    lucid::test::TempDir dir;
    FakePublisher publisher;
    DedupStore dedup(dir / "log.json", 100);
    CommandDispatcher dispatcher(publisher, dedup, 16);
    std::promise<void> release;
    auto released = release.get_future().share();
    dispatcher.add({"slow", "cmd/slow", "evt/slow", Lane::slow,
                    [released](const contract::CommandRequest& rq) {
                        released.wait();
                        return CommandReply(
                            contract::Result(rq.request_id, contract::Clock::now()));
                    }});
    dispatcher.add(
        {"fast", "cmd/fast", "evt/fast", Lane::fast, [](const contract::CommandRequest& rq) {
             return CommandReply(contract::Result(rq.request_id, contract::Clock::now()));
         }});
    dispatcher.route("cmd/slow")({"cmd/slow", R"({"request_id":"s"})", 1, false});
    dispatcher.route("cmd/fast")({"cmd/fast", R"({"request_id":"f"})", 1, false});
    auto sent = publisher.wait_for(1);  // the fast answer arrives while the slow one is blocked
    CHECK(sent[0].topic == "evt/fast");
    release.set_value();
    sent = publisher.wait_for(2);
    CHECK(sent[1].topic == "evt/slow");
}

// What a spec's on_refused hook saw (the agent writes the refusal's audit line there).
struct RefusalLog {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> seen;  // request_id, error

    std::function<void(const contract::CommandRequest&, contract::Result&)> hook() {
        return [this](const contract::CommandRequest& request, contract::Result& result) {
            const auto* error = result.find("error");
            std::lock_guard<std::mutex> lock(mutex);
            seen.emplace_back(request.request_id, error ? error->GetString() : "");
        };
    }
    std::vector<std::pair<std::string, std::string>> snapshot() {
        std::lock_guard<std::mutex> lock(mutex);
        return seen;
    }
};

TEST_CASE("a full lane answers busy instead of blocking the network thread") {
    lucid::test::TempDir dir;
    FakePublisher publisher;
    DedupStore dedup(dir / "log.json", 100);
    CommandDispatcher dispatcher(publisher, dedup, 1);
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> started;
    RefusalLog refusals;
    dispatcher.add({"slow", "cmd/slow", "evt/slow", Lane::slow,
                    [&started, released](const contract::CommandRequest& rq) {
                        if (rq.request_id == "1") started.set_value();
                        released.wait();
                        return CommandReply(
                            contract::Result(rq.request_id, contract::Clock::now()));
                    },
                    refusals.hook()});
    auto route = dispatcher.route("cmd/slow");
    route({"cmd/slow", R"({"request_id":"1"})", 1, false});
    started.get_future().wait();                             // "1" is running
    route({"cmd/slow", R"({"request_id":"2"})", 1, false});  // queued (capacity 1)
    route({"cmd/slow", R"({"request_id":"3"})", 1, false});  // refused
    auto sent = publisher.wait_for(1);
    CHECK(error_of(sent[0].payload) == "busy: command queue full");
    CHECK(json(sent[0].payload)["request_id"].GetString() == std::string("3"));
    // The refusal reached the spec's hook (its audit line): a busy refusal is one too.
    using Seen = std::vector<std::pair<std::string, std::string>>;
    CHECK(refusals.snapshot() == Seen{{"3", "busy: command queue full"}});
    release.set_value();
    publisher.wait_for(3);
}

TEST_CASE("at stop, queued commands are answered 'shutting down' and can run after a restart") {
    lucid::test::TempDir dir;
    FakePublisher publisher;
    DedupStore dedup(dir / "log.json", 100);
    CommandDispatcher dispatcher(publisher, dedup, 8);
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> started;
    RefusalLog refusals;
    dispatcher.add({"slow", "cmd/slow", "evt/slow", Lane::slow,
                    [&started, released](const contract::CommandRequest& rq) {
                        if (rq.request_id == "running") started.set_value();
                        released.wait();
                        return CommandReply(
                            contract::Result(rq.request_id, contract::Clock::now()));
                    },
                    refusals.hook()});
    auto route = dispatcher.route("cmd/slow");
    route({"cmd/slow", R"({"request_id":"running"})", 1, false});
    started.get_future().wait();
    route({"cmd/slow", R"({"request_id":"queued"})", 1, false});

    std::thread stopper([&] { dispatcher.stop(); });
    auto sent = publisher.wait_for(1);  // answered while the running one still runs
    CHECK(json(sent[0].payload)["request_id"].GetString() == std::string("queued"));
    CHECK(error_of(sent[0].payload) == CommandDispatcher::kShuttingDown);
    release.set_value();  // the running command finishes and is answered normally
    stopper.join();
    sent = publisher.wait_for(2);
    CHECK(json(sent[1].payload)["request_id"].GetString() == std::string("running"));
    CHECK(json(sent[1].payload)["ok"].GetBool());

    // Arriving after stop: refused the same way. Neither refusal was recorded.
    route({"cmd/slow", R"({"request_id":"late"})", 1, false});
    sent = publisher.wait_for(3);
    CHECK(error_of(sent[2].payload) == CommandDispatcher::kShuttingDown);
    CHECK_FALSE(dedup.find("evt/slow", "queued"));
    CHECK_FALSE(dedup.find("evt/slow", "late"));
    CHECK(dedup.find("evt/slow", "running"));
    // Both refusals reached the spec's hook (their audit lines).
    using Seen = std::vector<std::pair<std::string, std::string>>;
    CHECK(refusals.snapshot() == Seen{{"queued", CommandDispatcher::kShuttingDown},
                                      {"late", CommandDispatcher::kShuttingDown}});
}

TEST_CASE("the cfg/set log line names every setting that changed, by its path") {
    using lucid::host::agent::config_change_text;
    using lucid::host::agent::CoreConfig;
    CoreConfig before;
    CHECK(config_change_text(before, before).empty());
    CoreConfig after = before;
    after.heartbeat_s = before.heartbeat_s + 15;
    after.logs_enabled = true;
    after.logs_level = "warn";
    after.telemetry.metrics["cpu_percent"].enabled = true;
    after.labels = lucid::host::contract::Labels{{"site", "berlin"}};
    const std::string text = config_change_text(before, after);
    CHECK_MESSAGE(
        text.find("heartbeat_s=" + std::to_string(after.heartbeat_s)) != std::string::npos, text);
    CHECK_MESSAGE(text.find("logs_enabled=true") != std::string::npos, text);
    CHECK_MESSAGE(text.find("logs_level=warn") != std::string::npos, text);
    CHECK_MESSAGE(text.find("telemetry.metrics.cpu_percent.enabled=true") != std::string::npos,
                  text);
    CHECK_MESSAGE(text.find(R"(labels={"site":"berlin"})") != std::string::npos, text);
    CHECK(text.find("log_level") == std::string::npos);  // unchanged: not named
    CHECK(text.find("interval_s") == std::string::npos);
}
