// A plugin stuck in a callback: the worker's record of its running task, the health check of
// PluginContext (failed/unresponsive, refusals, recovery) and a start that times out. The
// "plugins" are descriptors made of the C functions below: no library is loaded.
#include <doctest/doctest.h>

#include <lucid/plugin.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/topics.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_host_link.hpp"
#include "plugin/plugin_stall_watch.hpp"
#include "plugin/plugin_worker.hpp"

using namespace lucid::host;
using namespace std::chrono_literals;
using Clock = PluginWorker::Clock;

namespace {

// A callback that blocks until the test opens the gate; the test waits until it is inside.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int entered = 0;

    void pass() {
        std::unique_lock<std::mutex> lock(mutex);
        ++entered;
        cv.notify_all();
        cv.wait(lock, [&] { return open; });
    }
    bool wait_entered(int n = 1) {
        std::unique_lock<std::mutex> lock(mutex);
        return cv.wait_for(lock, 5s, [&] { return entered >= n; });
    }
    void release() {
        std::lock_guard<std::mutex> lock(mutex);
        open = true;
        cv.notify_all();
    }
};

namespace contract = lucid::host::contract;

// Records what the context asks of the agent.
class Services : public PluginHostServices {
  public:
    struct Sent {
        std::string topic, payload;
    };

    bool publish(const std::string& topic, const std::string& payload, int, bool) override {
        return record(published_, topic, payload);
    }
    bool publish_metric(const std::string& cid, const std::string& metric, double value,
                        const std::string&) override {
        return record(published_, cid + "/telemetry/" + metric, std::to_string(value));
    }
    // Like the default, but kept apart from publish(): what the agent would not record.
    void refuse_command(const std::string& cid, const std::string& action,
                        const std::string& payload, const std::string& error) override {
        const auto request = contract::parse_command(payload);
        contract::Result result(request.request_id, now());
        result.fail(contract::refusal_error(payload, error));
        record(refused_, contract::component_command_result_topic(base_topic(), cid, action),
               result.str());
    }
    void subscribe(const std::string&, std::uint64_t, const std::string& filter, int) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++subscriptions_[filter];
        ++subscribes_;
    }
    void unsubscribe(const std::string&, std::uint64_t, const std::string& filter) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--subscriptions_[filter] == 0) subscriptions_.erase(filter);
    }
    std::chrono::system_clock::time_point now() override {
        return std::chrono::system_clock::now();
    }
    std::string agent_id() override { return "dev1"; }
    std::string base_topic() override { return "lucid/agents/dev1"; }
    void status_changed(const std::string&, const ComponentStatus&) override {}
    std::string read_config(const std::string&) override {
        std::lock_guard<std::mutex> lock(mutex_);
        return persisted_.empty() ? "{}" : persisted_.back();
    }
    Status persist_config(const std::string&, const std::string& json) override {
        std::lock_guard<std::mutex> lock(mutex_);
        persisted_.push_back(json);
        return done();
    }
    std::vector<std::string> persisted() {
        std::lock_guard<std::mutex> lock(mutex_);
        return persisted_;
    }

    // The first message sent on `topic` by publish() (or refuse_command()), waiting up to 5 s.
    std::optional<Sent> wait_for(const std::string& topic, bool refusal = false) {
        std::unique_lock<std::mutex> lock(mutex_);
        const auto& list = refusal ? refused_ : published_;
        std::optional<Sent> found;
        changed_.wait_for(lock, 5s, [&] {
            for (const auto& s : list) {
                if (s.topic == topic) found = s;
            }
            return found.has_value();
        });
        return found;
    }
    std::size_t count(const std::string& topic) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t n = 0;
        for (const auto& s : published_) n += s.topic == topic ? 1 : 0;
        return n;
    }
    std::map<std::string, int> subscriptions() {
        std::lock_guard<std::mutex> lock(mutex_);
        return subscriptions_;
    }
    int subscribes() {
        std::lock_guard<std::mutex> lock(mutex_);
        return subscribes_;
    }
    // The payloads refused on `topic` once there are `n` of them (fewer after 5 s).
    std::vector<std::string> wait_refusals(const std::string& topic, std::size_t n) {
        std::unique_lock<std::mutex> lock(mutex_);
        std::vector<std::string> found;
        changed_.wait_for(lock, 5s, [&] {
            found.clear();
            for (const auto& s : refused_) {
                if (s.topic == topic) found.push_back(s.payload);
            }
            return found.size() >= n;
        });
        return found;
    }

  private:
    bool record(std::vector<Sent>& list, const std::string& topic, const std::string& payload) {
        std::lock_guard<std::mutex> lock(mutex_);
        list.push_back({topic, payload});
        changed_.notify_all();
        return true;
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Sent> published_, refused_;
    std::vector<std::string> persisted_;
    std::map<std::string, int> subscriptions_;
    int subscribes_ = 0;
};

// ---- the test plugin, in C: "hang" blocks on the gate, "hello" answers, in/# republishes ----

Gate* g_gate = nullptr;
std::atomic<int> g_ticks{0};  // timer callbacks run (on the worker)
struct Lifecycle {
    std::mutex mutex;
    std::condition_variable cv;
    bool stopped = false, destroyed = false;

    void reset() {
        std::lock_guard<std::mutex> lock(mutex);
        stopped = destroyed = false;
    }
    // Waits until the instance was destroyed; whether it was stopped first.
    std::optional<bool> wait_destroyed() {
        std::unique_lock<std::mutex> lock(mutex);
        if (!cv.wait_for(lock, 5s, [&] { return destroyed; })) return std::nullopt;
        return stopped;
    }
} g_life;

struct Instance {
    const lucid_host_api* api;
    lucid_host* host;
};

lucid_status create(const lucid_host_api* api, lucid_host* host, void** out, lucid_call*) {
    *out = new Instance{api, host};
    return LUCID_OK;
}
lucid_status hang(void*, const lucid_command*, lucid_call*) {
    g_gate->pass();
    return LUCID_OK;
}
lucid_status hello(void*, const lucid_command*, lucid_call*) { return LUCID_OK; }
lucid_status on_in(void* user, const lucid_message* m) {
    auto* self = static_cast<Instance*>(user);
    return self->api->publish(self->host, "out", m->payload, m->payload_len, 1, 0);
}
lucid_status tick(void*) {
    ++g_ticks;
    return LUCID_OK;
}
lucid_status register_all(Instance* self) {
    std::uint64_t id = 0;
    if (self->api->subscribe(self->host, "in/#", 1, &on_in, self, &id) != LUCID_OK ||
        self->api->register_command(self->host, "hang", &hang, self) != LUCID_OK ||
        self->api->register_command(self->host, "hello", &hello, self) != LUCID_OK) {
        return LUCID_ERR_FAILED;
    }
    return LUCID_OK;
}
lucid_status start(void* instance, lucid_call*) {
    return register_all(static_cast<Instance*>(instance));
}
// Registers everything, a 1 ms timer too, then blocks on the gate.
lucid_status start_and_hang(void* instance, lucid_call*) {
    auto* self = static_cast<Instance*>(instance);
    std::uint64_t timer = 0;
    if (register_all(self) != LUCID_OK ||
        self->api->timer_start(self->host, 1, 1, &tick, nullptr, &timer) != LUCID_OK) {
        return LUCID_ERR_FAILED;
    }
    g_gate->pass();
    return LUCID_OK;
}
// Starts fine but finds its device gone at once, before start() has even returned to the host.
lucid_status start_and_report_failed(void* instance, lucid_call*) {
    auto* self = static_cast<Instance*>(instance);
    return self->api->report_status(self->host, LUCID_STATE_FAILED, "device gone");
}
lucid_status stop(void*, lucid_call*) {
    std::lock_guard<std::mutex> lock(g_life.mutex);
    g_life.stopped = true;
    return LUCID_OK;
}
void destroy(void* instance) {
    delete static_cast<Instance*>(instance);
    std::lock_guard<std::mutex> lock(g_life.mutex);
    g_life.destroyed = true;
    g_life.cv.notify_all();
}

// The configs offered to config_changed, in order; the first offer blocks on the gate.
struct Offers {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> seen;

    std::vector<std::string> wait_for(std::size_t n) {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait_for(lock, 5s, [&] { return seen.size() >= n; });
        return seen;
    }
} g_offers;
lucid_status config_changed_at_gate(void*, const char* json, lucid_call*) {
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(g_offers.mutex);
        g_offers.seen.push_back(json);
        first = g_offers.seen.size() == 1;
        g_offers.cv.notify_all();
    }
    if (first) g_gate->pass();
    return LUCID_OK;
}

lucid_plugin_descriptor descriptor(bool hang_in_start) {
    lucid_plugin_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_version = LUCID_PLUGIN_ABI_VERSION;
    d.dist_name = "lucid-test-hang";
    d.version = "1.0.0";
    d.component_id = "hang";
    d.create = &create;
    d.start = hang_in_start ? &start_and_hang : &start;
    d.stop = &stop;
    d.destroy = &destroy;
    return d;
}

const std::string kPrefix = "lucid/agents/dev1/components/hang/";

// Calls the health check until the component is responsive again (the worker reports the
// hung task done a moment after its result went out).
bool recovers(PluginContext& context) {
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
        context.check_responsive(Clock::now(), 10s);
        if (!context.unresponsive()) return true;
        std::this_thread::yield();
    }
    return false;
}

}  // namespace

TEST_CASE("a worker tells which task it is running and since when") {
    PluginWorker worker("test");
    CHECK_FALSE(worker.busy());

    Gate gate;
    const auto before = Clock::now();
    worker.post([&] { gate.pass(); }, 7, "command 'x'");
    REQUIRE(gate.wait_entered());
    auto busy = worker.busy();
    REQUIRE(busy);
    CHECK(busy->what == "command 'x'");
    CHECK(busy->since >= before);
    CHECK(busy->since <= Clock::now());
    const auto first = busy->serial;
    gate.release();
    worker.wait_idle(7);
    CHECK_FALSE(worker.busy());

    Gate timer_gate;
    const auto timer = worker.start_timer(1ms, 0ms, [&] { timer_gate.pass(); });
    REQUIRE(timer_gate.wait_entered());
    busy = worker.busy();
    REQUIRE(busy);
    CHECK(busy->what == "timer");
    CHECK(busy->serial > first);  // another task, even if it started at the same instant
    timer_gate.release();
    worker.cancel_timer(timer);  // waits for the running tick
    CHECK_FALSE(worker.busy());

    std::string seen;
    CHECK(worker.run_and_wait([&] { seen = worker.busy()->what; }, 5s, "config change"));
    CHECK(seen == "config change");
}

TEST_CASE("the unresponsive wording names the callback and whole seconds") {
    CHECK(unresponsive_error("command 'hang'", 12'900ms) ==
          "unresponsive: command 'hang' running for 12 s");
    CHECK(unresponsive_error("message on a/b", 1s) ==
          "unresponsive: message on a/b running for 1 s");
    CHECK(unresponsive_refusal("hang") == "component unresponsive: hang");
}

TEST_CASE("a command past the threshold fails the component until it returns") {
    Gate gate;
    g_gate = &gate;
    Services services;
    PluginContext context(descriptor(false), "hang", "1.0.0", services, 5s);
    REQUIRE(context.start().ok());

    context.take_command("hang", R"({"request_id":"h1"})");
    REQUIRE(gate.wait_entered());
    const auto now = Clock::now();
    context.check_responsive(now, 10s);  // running for less than the threshold: fine
    CHECK_FALSE(context.unresponsive());
    CHECK(context.status().state == ComponentState::running);

    context.check_responsive(now + 12s, 10s);
    CHECK(context.unresponsive());
    CHECK(context.status().state == ComponentState::unresponsive);
    CHECK(context.status().error == "unresponsive: command 'hang' running for 12 s");

    // Meanwhile: commands refused at once (not recorded as results), messages not queued,
    // config changes refused.
    context.take_command("hello", R"({"request_id":"x1"})");
    auto refused = services.wait_for(kPrefix + "evt/hello_result", true);
    REQUIRE(refused);
    CHECK(refused->payload.find(R"("error":"component unresponsive: hang")") != std::string::npos);
    CHECK(refused->payload.find(R"("request_id":"x1")") != std::string::npos);
    CHECK(context.deliver_message(kPrefix + "in/x", "dropped", 1, false));
    const auto config = context.propose_config("{}");
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().message == "component unresponsive: hang");

    gate.release();
    REQUIRE(services.wait_for(kPrefix + "evt/hang_result"));
    REQUIRE(recovers(context));
    CHECK(context.status().state == ComponentState::running);
    CHECK(context.status().error.empty());

    // Queued after recovery, so it runs after anything the hang held up: no "out" came.
    context.take_command("hello", R"({"request_id":"x2"})");
    REQUIRE(services.wait_for(kPrefix + "evt/hello_result"));
    CHECK(services.count(kPrefix + "out") == 0);
    CHECK(context.stop().ok());
}

TEST_CASE("a status the plugin reports while hung is the one recovery restores") {
    Gate gate;
    g_gate = &gate;
    Services services;
    PluginContext context(descriptor(false), "hang", "1.0.0", services, 5s);
    REQUIRE(context.start().ok());
    context.take_command("hang", R"({"request_id":"h1"})");
    REQUIRE(gate.wait_entered());
    context.check_responsive(Clock::now() + 12s, 10s);
    REQUIRE(context.unresponsive());

    // As from a thread of the plugin's own: held back, the unresponsive status stays.
    auto* host = reinterpret_cast<lucid_host*>(&context);
    CHECK(PluginContext::api_table().report_status(host, LUCID_STATE_FAILED, "sensor gone") ==
          LUCID_OK);
    CHECK(context.status().error == "unresponsive: command 'hang' running for 12 s");

    gate.release();
    REQUIRE(recovers(context));
    CHECK(context.status().state == ComponentState::failed);
    CHECK(context.status().error == "sensor gone");
    CHECK(context.stop().ok());
}

TEST_CASE("a stop queued behind a hung callback gives up after one more threshold") {
    Gate gate;
    g_gate = &gate;
    g_life.reset();
    Services services;
    PluginContext context(descriptor(false), "hang", "1.0.0", services, 30s);
    REQUIRE(context.start().ok());
    context.take_command("hang", R"({"request_id":"h1"})");
    REQUIRE(gate.wait_entered());
    context.check_responsive(Clock::now() + 200ms, 100ms);
    REQUIRE(context.unresponsive());

    const auto before = Clock::now();
    const auto stopped = context.stop();
    CHECK(Clock::now() - before < 5s);  // the threshold (100 ms), not the 30 s call timeout
    REQUIRE_FALSE(stopped.ok());
    CHECK(stopped.error().code == Errc::stuck);
    CHECK(context.stuck());
    // Both durations as they are: the wait (one threshold) and how long the callback has run
    // (some 100 to 200 ms here, which "0 s" misstated).
    const std::string& error = stopped.error().message;
    CHECK_MESSAGE(
        error.rfind("stop could not run within 100 ms: command 'hang' still running after ", 0) ==
            0,
        error);
    CHECK_MESSAGE(error.find(" ms", error.size() - 3) != std::string::npos, error);
    CHECK(services.subscriptions().empty());

    // The stop runs once the hang ends: the instance is not leaked.
    gate.release();
    CHECK(g_life.wait_destroyed() == std::optional<bool>(true));
}

TEST_CASE("a start that times out leaves no subscription, command or timer behind") {
    Gate gate;
    g_gate = &gate;
    g_ticks = 0;
    g_life.reset();
    Services services;
    // Long enough for create and the registrations to happen before it gives up, even on a
    // loaded machine with sanitizers.
    PluginContext context(descriptor(true), "hang", "1.0.0", services, 1s);

    const auto started = context.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().code == Errc::stuck);
    CHECK(context.stuck());
    CHECK(started.error().message == "start did not return within 1000 ms");
    CHECK(context.status().state == ComponentState::failed);
    REQUIRE(gate.wait_entered());
    CHECK(services.subscribes() == 1);        // in/# was subscribed (commands need none)...
    CHECK(services.subscriptions().empty());  // ...and are gone from the broker
    CHECK_FALSE(context.deliver_message(kPrefix + "in/x", "late", 1, false));
    CHECK_FALSE(context.take_command("hello", R"({"request_id":"x"})"));

    // When start finally returns, the instance is stopped and destroyed on the worker, and the
    // 1 ms timer it started never fired.
    gate.release();
    CHECK(g_life.wait_destroyed() == std::optional<bool>(true));
    CHECK(g_ticks.load() == 0);
    CHECK(services.count(kPrefix + "out") == 0);
}

namespace {

// Services whose publish() waits at a gate: a call still inside the agent when the link is cut.
struct GatedServices : Services {
    Gate gate;
    bool publish(const std::string& topic, const std::string& payload, int qos,
                 bool retain) override {
        gate.pass();
        return Services::publish(topic, payload, qos, retain);
    }
};

}  // namespace

TEST_CASE("a plugin left behind is cut off: a call in progress ends, later ones reach nothing") {
    GatedServices services;
    HostLink link(services);
    auto in_progress =
        std::async(std::launch::async, [&] { return link.publish("t/before", "a", 1, false); });
    REQUIRE(services.gate.wait_entered());
    auto cutting = std::async(std::launch::async, [&] { link.cut(); });
    // cut() waits for the call inside the services, whose objects the caller may free next.
    CHECK(cutting.wait_for(100ms) == std::future_status::timeout);
    services.gate.release();
    REQUIRE(cutting.wait_for(5s) == std::future_status::ready);
    CHECK(in_progress.get());

    CHECK_FALSE(link.connected());
    CHECK_FALSE(link.publish("t/after", "b", 1, false));
    CHECK_FALSE(link.admit_command("hang", "hello", R"({"request_id":"a1"})"));
    link.subscribe("hang", 1, "in/#", 1);
    link.status_changed("hang", ComponentStatus{ComponentState::running, "1.0.0", ""});
    CHECK(link.read_config("hang") == "{}");
    CHECK(services.count("t/before") == 1);
    CHECK(services.count("t/after") == 0);
    CHECK(services.subscribes() == 0);
}

TEST_CASE("a config change the plugin accepts after its answer timed out is not stored") {
    Gate gate;
    g_gate = &gate;
    Services services;
    lucid_plugin_descriptor with_config = descriptor(false);
    with_config.config_changed = &config_changed_at_gate;
    // The gate, not the call timeout, decides that the answer comes late.
    PluginContext context(with_config, "hang", "1.0.0", services, 1s);
    REQUIRE(context.start().ok());

    const auto answer = context.propose_config(R"({"mode":"late"})");
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error().message == "plugin did not answer the config change in time");
    REQUIRE(gate.wait_entered());
    gate.release();
    // The plugin accepts it late and is given the stored config back; nothing is stored.
    const auto offers = g_offers.wait_for(2);
    REQUIRE(offers.size() == 2);
    CHECK(offers[0] == R"({"mode":"late"})");
    CHECK(offers[1] == "{}");
    CHECK(context.stop().ok());
    CHECK(services.persisted().empty());
}

// ---- a plugin's bounded queue (a backlog behind a slow callback) ----------------------------

TEST_CASE("a worker's queue is bounded in tasks and bytes; the host's own tasks are not") {
    Gate gate;
    PluginWorker worker("test", {}, PluginWorker::Limits{2, 100});
    worker.post([&] { gate.pass(); }, 0, "busy");
    REQUIRE(gate.wait_entered());
    std::vector<std::string> ran, dropped;
    auto task = [&](std::string name) { return [&ran, name] { ran.push_back(name); }; };
    auto on_drop = [&](std::string name) { return [&dropped, name] { dropped.push_back(name); }; };
    CHECK(worker.offer(task("a"), 0, "a", 60, on_drop("a")) == PluginWorker::Offer::queued);
    CHECK(worker.offer(task("b"), 0, "b", 41, on_drop("b")) == PluginWorker::Offer::full);
    CHECK(worker.offer(task("c"), 0, "c", 40, on_drop("c")) == PluginWorker::Offer::queued);
    CHECK(worker.offer(task("d"), 0, "d", 0, on_drop("d")) == PluginWorker::Offer::full);
    CHECK(worker.post(task("host"), 0, "host"));  // outside the limits

    // Dropping the offered ones answers them and keeps the host's task.
    worker.drop_offered();
    CHECK(dropped == std::vector<std::string>{"a", "c"});
    CHECK(worker.offer(task("e"), 0, "e", 100, on_drop("e")) == PluginWorker::Offer::queued);
    gate.release();
    CHECK(worker.run_and_wait([] {}, 5s));
    CHECK(ran == std::vector<std::string>{"host", "e"});

    worker.close();
    CHECK(worker.offer(task("f"), 0, "f", 1, on_drop("f")) == PluginWorker::Offer::closed);
}

TEST_CASE("close() answers what it drops; a front task runs before those queued") {
    Gate gate;
    PluginWorker worker("test", {}, PluginWorker::Limits{10, 0});
    worker.post([&] { gate.pass(); }, 0, "busy");
    REQUIRE(gate.wait_entered());
    std::vector<std::string> order;
    std::mutex mutex;
    auto note = [&](std::string what) {
        return [&, what] {
            std::lock_guard<std::mutex> lock(mutex);
            order.push_back(what);
        };
    };
    worker.offer(note("queued"), 0, "queued", 1, note("queued dropped"));
    std::promise<void> ran;
    // Gives up waiting at once, but the task stays queued, ahead of the offered one.
    CHECK_FALSE(worker.run_and_wait(
        [&] {
            note("front")();
            worker.close();  // as stop does: nothing queued behind it runs
            ran.set_value();
        },
        0ms, "stop", PluginWorker::Place::front));
    gate.release();
    REQUIRE(ran.get_future().wait_for(5s) == std::future_status::ready);
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(order == std::vector<std::string>{"front", "queued dropped"});
}

TEST_CASE("a backlog is bounded: commands refused busy, messages dropped and counted") {
    Gate gate;
    g_gate = &gate;
    g_life.reset();
    Services services;
    PluginContext context(descriptor(false), "hang", "1.0.0", services, 5s,
                          PluginWorker::Limits{3, 1024 * 1024});
    REQUIRE(context.start().ok());
    context.take_command("hang", R"({"request_id":"h1"})");
    REQUIRE(gate.wait_entered());  // running: no longer in the queue
    for (const char* id : {"q1", "q2", "q3"}) {
        CHECK(context.take_command("hello", std::string(R"({"request_id":")") + id + "\"}"));
    }
    context.take_command("hello", R"({"request_id":"q4"})");
    auto busy = services.wait_for(kPrefix + "evt/hello_result", true);
    REQUIRE(busy);
    CHECK(busy->payload.find(R"("request_id":"q4")") != std::string::npos);
    CHECK(busy->payload.find(R"("error":"busy: component queue full: hang")") != std::string::npos);

    CHECK(context.deliver_message(kPrefix + "in/a", "x", 1, false));
    CHECK(context.deliver_message(kPrefix + "in/b", "y", 1, false));
    CHECK(context.status().dropped_messages == 0);  // published at the next health check
    context.check_responsive(Clock::now(), 10s);
    CHECK(context.status().dropped_messages == 2);
    CHECK(context.status().state == ComponentState::running);

    // The stop jumps the queue: the hang returns, then the stop runs, not q1-q3, which are
    // answered (not recorded) instead.
    auto stopping = std::async(std::launch::async, [&] { return context.stop(); });
    // q4 was refused busy; q1-q3 are answered as not run, while the hang still runs.
    const auto refused = services.wait_refusals(kPrefix + "evt/hello_result", 4);
    REQUIRE(refused.size() == 4);
    for (std::size_t i = 1; i < 4; ++i) {
        CAPTURE(refused[i]);
        CHECK(refused[i].find(R"("error":"component not running: hang")") != std::string::npos);
    }
    gate.release();
    const auto stopped = stopping.get();
    CHECK(stopped.ok());
    CHECK_FALSE(context.stuck());
    CHECK(services.count(kPrefix + "evt/hang_result") == 1);
    CHECK(services.count(kPrefix + "evt/hello_result") == 0);
    CHECK(g_life.wait_destroyed() == std::optional<bool>(true));
}

TEST_CASE("a status the plugin reports while starting stands once the start returns") {
    Services services;
    lucid_plugin_descriptor reports = descriptor(false);
    reports.start = &start_and_report_failed;  // returns report_status()'s result
    PluginContext context(reports, "hang", "1.0.0", services, 5s);
    // Accepted while starting (it was LUCID_ERR_STATE until the host had resumed, so a timer
    // of the plugin's firing at once lost its report), and not overwritten by "running".
    REQUIRE(context.start().ok());
    CHECK(context.status().state == ComponentState::failed);
    CHECK(context.status().error == "device gone");
    CHECK(context.stop().ok());
}
