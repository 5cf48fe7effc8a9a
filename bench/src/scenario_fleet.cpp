// 9. Fleet rollouts (issue 16, item 9), on a broker of their own.
// (a) `lucidctl rollout start echo.so --canary 1 --batch 10%` converging N fresh agents
//     (N = 100, 500), exec to exit, against the floor: the same installs issued directly by a
//     raw driver — the artifact published retained once, then install commands with the same
//     broker source, canary first, then 10% at a time, each batch's commands all at once and
//     the next batch when every answer is in. Between the two the component is uninstalled
//     (not measured). For each, the broker's memory growth (mosquitto's VmRSS) and the PUBLISH
//     packets it received and sent ($SYS/broker/publish/messages/*), per agent.
// (b) `lucidctl agents --select` over 1,000 retained statuses (with their core/metadata labels,
//     published by the driver under a topic root of their own) against a raw libmosquitto
//     client reading the same retained messages.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr int kSelectFleet = 1000;
const std::string kSysSent = "$SYS/broker/publish/messages/sent";
const std::string kSysReceived = "$SYS/broker/publish/messages/received";

std::string count_text(double n) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", n);
    return text;
}

// What a phase cost the broker.
struct BrokerUse {
    double seconds = 0;
    double rss_kib = 0;    // VmRSS growth
    double publishes = 0;  // PUBLISH packets received + sent
};

// The broker's PUBLISH counters, received + sent, counting everything before the call. $SYS
// values are retained and republished only when they change (every second with sys_interval
// 1): a message published here through the broker moves both, and the update that shows it is
// awaited.
double publish_count(const Broker& broker) {
    MqttClient c(broker.port(), next_request_id("bench-fleet-sys"));
    c.subscribe("$SYS/broker/publish/messages/+");
    c.subscribe("bench/fleet/tick");
    const auto value = [](const Message& m) { return std::strtod(m.payload.c_str(), nullptr); };
    const auto any = [](const Message&) { return true; };
    const auto sent0 = c.wait_for(kSysSent, any, std::chrono::seconds(5));
    const auto received0 = c.wait_for(kSysReceived, any, std::chrono::seconds(5));
    if (!sent0 || !received0) throw std::runtime_error("the broker publishes no $SYS counters");
    c.publish("bench/fleet/tick", "", 1, false);
    const auto above = [&](double floor) {
        return [&value, floor](const Message& m) { return value(m) > floor; };
    };
    const auto sent = c.wait_for(kSysSent, above(value(*sent0)), std::chrono::seconds(5));
    const auto received =
        c.wait_for(kSysReceived, above(value(*received0)), std::chrono::seconds(5));
    if (!sent || !received) throw std::runtime_error("$SYS counters did not move");
    return value(*sent) + value(*received);
}

class FleetRun {
  public:
    FleetRun(BenchEnv& env, Broker& broker, MqttClient& driver, int size)
        : env_(env),
          broker_(broker),
          d_(driver),
          size_(size),
          prefix_("f" + std::to_string(size)),
          dir_(env.dir("fleet-" + prefix_)) {}

    ~FleetRun() {
        for (auto& a : agents_) a.signal(SIGTERM);
        for (auto& a : agents_) a.stop(SIGTERM, std::chrono::seconds(10));
    }

    void start() {
        for (int i = 0; i < size_; ++i) ids_.push_back(prefix_ + "-" + std::to_string(i));
        for (const auto& id : ids_) d_.subscribe(agent_topic(id, "status"));
        for (const auto& id : ids_) {
            // One inotify instance per drop-in directory would exhaust the user's 128.
            AgentSpec spec{id,
                           dir_ / id / "data",
                           {},
                           {{"LUCID_DROPIN", "off"}, {"LUCID_LABELS", "bench=" + prefix_}}};
            fs::create_directories(spec.data_dir);
            agents_.push_back(start_agent(env_, broker_, spec));
        }
        for (const auto& id : ids_) {
            if (!wait_online(d_, id, 0, std::chrono::seconds(120))) {
                throw std::runtime_error(id + " did not come online");
            }
        }
        for (const auto& id : ids_) {
            d_.subscribe(agent_topic(id, "core/evt/components/install_result"));
            d_.subscribe(agent_topic(id, "core/evt/components/uninstall_result"));
        }
    }

    // The artifact on the broker through lucidctl, as an operator does; its broker source.
    void publish_artifact() {
        auto [code, out] =
            run_to_completion({env_.paths.lucidctl.string(), "--url", broker_.url(), "--json",
                               "artifact", "publish", env_.paths.echo_plugin.string()},
                              {{"LUCID_ENV_FILE", "/dev/null"}});
        if (code != 0) throw std::runtime_error("lucidctl artifact publish failed: " + out);
        const auto at = out.find("\"source\":");
        const auto end = out.find('}', at);
        if (at == std::string::npos || end == std::string::npos) {
            throw std::runtime_error("no source in: " + out);
        }
        source_ = out.substr(at + 9, end + 1 - (at + 9));
        topic_ = string_field(source_, "topic");
        bytes_ = read_file(env_.paths.echo_plugin);
    }

    BrokerUse floor() {
        return measure([&] {
            d_.publish(topic_, bytes_, 1, true);  // what lucidctl's rollout publishes first
            std::size_t next = 0;
            for (const std::size_t batch : batches()) {
                std::vector<std::pair<std::string, std::string>> sent;
                for (std::size_t i = 0; i < batch; ++i, ++next) {
                    const std::string rid = next_request_id("fleet-install");
                    d_.publish(agent_topic(ids_[next], "core/cmd/components/install"),
                               R"({"request_id":")" + rid + R"(","component_id":"echo","source":)" +
                                   source_ + "}");
                    sent.emplace_back(ids_[next], rid);
                }
                for (const auto& [id, rid] : sent) expect_ok(id, "install", rid);
            }
        });
    }

    void uninstall_all() {
        std::vector<std::pair<std::string, std::string>> sent;
        for (const auto& id : ids_) {
            const std::string rid = next_request_id("fleet-uninstall");
            d_.publish(agent_topic(id, "core/cmd/components/uninstall"),
                       R"({"request_id":")" + rid + R"(","component_id":"echo"})");
            sent.emplace_back(id, rid);
        }
        for (const auto& [id, rid] : sent) expect_ok(id, "uninstall", rid);
    }

    BrokerUse rollout() {
        return measure([&] {
            auto [code, out] = run_to_completion(
                {env_.paths.lucidctl.string(), "--url", broker_.url(), "rollout", "start",
                 env_.paths.echo_plugin.string(), "--select", "bench=" + prefix_, "--canary", "1",
                 "--batch", "10%", "--timeout", "300"},
                {{"LUCID_ENV_FILE", "/dev/null"}});
            if (code != 0)
                throw std::runtime_error("rollout failed (" + std::to_string(code) + "): " +
                                         out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
        });
    }

  private:
    // Canary 1, then 10% of the agents (at least 1) at a time, as the rollout plans it.
    std::vector<std::size_t> batches() const {
        std::vector<std::size_t> out{1};
        const std::size_t step = std::max<std::size_t>(1, ids_.size() / 10);
        for (std::size_t left = ids_.size() - 1; left > 0; left -= std::min(left, step)) {
            out.push_back(std::min(left, step));
        }
        return out;
    }

    void expect_ok(const std::string& id, const std::string& action, const std::string& rid) {
        const auto r = d_.wait_for(agent_topic(id, "core/evt/components/" + action + "_result"),
                                   with_request_id(rid), std::chrono::seconds(120));
        if (!r || !true_field(r->payload, "ok")) {
            throw std::runtime_error(action + " on " + id +
                                     " failed: " + (r ? r->payload : std::string("no answer")));
        }
    }

    template <typename Phase>
    BrokerUse measure(Phase phase) {
        const double before_publishes = publish_count(broker_);
        const double before_rss = static_cast<double>(rss_kib(broker_.pid()).value_or(0));
        const auto t0 = Clock::now();
        phase();
        BrokerUse use;
        use.seconds = seconds_between(t0, Clock::now());
        use.rss_kib = static_cast<double>(rss_kib(broker_.pid()).value_or(0)) - before_rss;
        use.publishes = publish_count(broker_) - before_publishes;
        return use;
    }

    static std::string read_file(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    BenchEnv& env_;
    Broker& broker_;
    MqttClient& d_;
    const int size_;
    const std::string prefix_;
    const fs::path dir_;
    std::vector<std::string> ids_;
    std::vector<Process> agents_;
    std::string source_, topic_, bytes_;
};

void rollout_scale(BenchEnv& env, Broker& broker, MqttClient& driver, int size) {
    FleetRun run(env, broker, driver, size);
    const auto up = Clock::now();
    run.start();
    const double start_s = seconds_between(up, Clock::now());
    run.publish_artifact();
    const BrokerUse floor = run.floor();
    run.uninstall_all();
    const BrokerUse rollout = run.rollout();
    const std::string n = std::to_string(size);
    env.report.add(
        {"9 fleet", "rollout converging " + n + " agents", format_duration(rollout.seconds),
         format_duration(floor.seconds), format_ratio(rollout.seconds, floor.seconds),
         "floor: the same broker-source installs sent directly, canary then 10% "
         "batches; " +
             n + " agents online " + format_duration(start_s) + " after the first exec"});
    env.report.add({"9 fleet", "broker PUBLISH packets per agent, " + n,
                    count_text(rollout.publishes / size), count_text(floor.publishes / size),
                    format_ratio(rollout.publishes, floor.publishes),
                    "received + sent ($SYS/broker/publish/messages/*)"});
    env.report.add({"9 fleet", "broker memory growth per agent, " + n,
                    format_bytes(rollout.rss_kib * 1024 / size),
                    format_bytes(floor.rss_kib * 1024 / size),
                    format_ratio(std::max(rollout.rss_kib, 1.0), std::max(floor.rss_kib, 1.0)),
                    "mosquitto VmRSS after the phase minus before (retained desired documents, "
                    "deployments and the rollout's own state stay)"});
}

void select_scale(BenchEnv& env, Broker& broker, MqttClient& driver) {
    const std::string root = "bench-select";
    for (int i = 0; i < kSelectFleet; ++i) {
        const std::string id = "s-" + std::to_string(i);
        driver.publish_nowait(root + "/" + id + "/status",
                              R"({"ts":"2026-11-30T00:00:00.000Z","state":"online","agent_id":")" +
                                  id +
                                  R"(","version":"1.0.0","session":1,)"
                                  R"("connected_since":"2026-11-30T00:00:00.000Z"})",
                              1, true);
        driver.publish_nowait(root + "/" + id + "/core/metadata",
                              std::string(R"({"labels":{"site":")") + (i % 2 ? "a" : "b") +
                                  R"("},"build_platform":"linux_x86_64"})",
                              1, true);
    }
    driver.publish("bench/select/done", "", 1, false);  // acknowledged after all the above
    const fs::path dir = env.dir("select");
    std::vector<double> ctl_s, raw_s;
    std::size_t listed = 0, raw_listed = 0;
    const int reps = std::max(3, env.samples(5));
    for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        auto [code, out] =
            run_to_completion({env.paths.lucidctl.string(), "--url", broker.url(), "--root", root,
                               "--json", "agents", "--select", "site=a"},
                              {{"LUCID_ENV_FILE", "/dev/null"}});
        ctl_s.push_back(seconds_between(t0, Clock::now()));
        if (code != 0) throw std::runtime_error("lucidctl agents --select failed: " + out);
        listed = 0;
        for (auto at = out.find("\"agent_id\""); at != std::string::npos;
             at = out.find("\"agent_id\"", at + 1)) {
            ++listed;
        }
        const auto t1 = Clock::now();
        Process raw = start_raw(env, "list", broker.port(), root + "/#",
                                dir / ("raw." + std::to_string(i) + ".txt"));
        raw.wait_exit(std::chrono::seconds(60));
        raw_s.push_back(seconds_between(t1, Clock::now()));
        raw_listed = std::strtoul(raw.log().c_str(), nullptr, 10);
    }
    const double c = median(ctl_s), r = median(raw_s);
    env.report.add({"9 fleet", "`lucidctl agents --select`, 1000 statuses (wall)",
                    format_duration(c), format_duration(r), format_ratio(c, r),
                    "raw client reading the same " + std::to_string(raw_listed) +
                        " retained messages (status and core/metadata); lucidctl selected " +
                        std::to_string(listed) + " of " + std::to_string(kSelectFleet) +
                        "; median of " + std::to_string(reps)});
}

}  // namespace

void run_fleet(BenchEnv& env) {
    Broker broker(Broker::Bench{env.root / "fleet-broker"});
    broker.start();
    MqttClient driver(broker.port(), "bench-fleet-rollout-driver");
    for (const int size : {100, env.quick ? 200 : 500}) {
        rollout_scale(env, broker, driver, size);
    }
    select_scale(env, broker, driver);
}

}  // namespace lucid::bench
