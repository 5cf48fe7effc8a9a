// 5. Start to online: from exec to the retained `status` online, with 0 and with 50 installed
// plugins, against a raw libmosquitto client that publishes a retained status once connected;
// with 50 plugins also against the floor of issue 21: the agent with 0 plugins plus what the 50
// cost by themselves (dlopen of each file, its entry point, create() and start() against a host
// table whose calls do nothing), measured here in the bench process.
#include <dlfcn.h>
#include <lucid/plugin.h>

#include <stdexcept>
#include <thread>

#include "artifacts.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr int kPlugins = 50;

double start_once(const BenchEnv& env, Broker& broker, MqttClient& d, const AgentSpec& spec,
                  std::uint64_t& session, Process* keep = nullptr) {
    const auto start = Clock::now();
    Process agent = start_agent(env, broker, spec);
    auto online = wait_online(d, spec.id, session, std::chrono::seconds(60));
    if (!online) throw std::runtime_error(spec.id + " did not come online");
    session = uint_field(online->payload, "session");
    const double s = seconds_between(start, online->received);
    if (keep) {
        *keep = std::move(agent);
    } else {
        agent.stop(SIGTERM);
    }
    return s;
}

void install_fill_plugins(const BenchEnv& env, MqttClient& d, const std::string& id) {
    for (int i = 1; i <= kPlugins; ++i) {
        const auto file = env.paths.bench_plugin("lucid_bench_fill_" + std::to_string(i), "1.0.0");
        const std::string rid = next_request_id("fill");
        const std::string payload = "{\"request_id\":\"" + rid +
                                    "\",\"component_id\":\"bench-fill-" + std::to_string(i) +
                                    "\",\"source\":{\"type\":\"url\",\"url\":\"" + file_url(file) +
                                    "\",\"sha256\":\"" + sha256_hex(read_bytes(file)) + "\"}}";
        const auto r = run_command(d, id, "core/cmd/components/install",
                                   "core/evt/components/install_result", payload, rid);
        if (!r.answered || !true_field(r.payload, "ok")) {
            throw std::runtime_error("install of bench-fill-" + std::to_string(i) +
                                     " failed: " + r.payload);
        }
    }
}

// The host table of the floor: every call the plugins make at start succeeds and does nothing.
lucid_status floor_subscribe(lucid_host*, const char*, int, lucid_message_fn, void*,
                             uint64_t* out_id) {
    *out_id = 1;
    return LUCID_OK;
}
void floor_fail(lucid_call*, const char*) {}

// dlopen (RTLD_NOW | RTLD_LOCAL, as the agent loads a plugin) of each file, its entry point,
// create() and start(), in seconds; then stop(), destroy() and dlclose(), not counted.
double plugins_floor_seconds(const std::vector<fs::path>& files) {
    lucid_host_api api{};
    api.struct_size = sizeof api;
    api.abi_version = LUCID_PLUGIN_ABI_VERSION;
    api.subscribe = floor_subscribe;
    api.call_fail = floor_fail;
    struct Loaded {
        void* handle;
        const lucid_plugin_descriptor* descriptor;
        void* instance;
    };
    std::vector<Loaded> loaded;
    const auto start = Clock::now();
    for (const auto& file : files) {
        void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        auto entry =
            reinterpret_cast<lucid_plugin_entry_fn>(dlsym(handle, LUCID_PLUGIN_ENTRY_SYMBOL));
        const lucid_plugin_descriptor* descriptor = entry ? entry() : nullptr;
        void* instance = nullptr;
        if (descriptor == nullptr ||
            descriptor->create(&api, reinterpret_cast<lucid_host*>(&api), &instance, nullptr) !=
                LUCID_OK ||
            descriptor->start(instance, nullptr) != LUCID_OK) {
            dlclose(handle);
            throw std::runtime_error("the floor cannot start " + file.string());
        }
        loaded.push_back({handle, descriptor, instance});
    }
    const double s = seconds_between(start, Clock::now());
    for (const auto& l : loaded) {
        l.descriptor->stop(l.instance, nullptr);
        l.descriptor->destroy(l.instance);
        dlclose(l.handle);
    }
    return s;
}

}  // namespace

void run_start_to_online(BenchEnv& env, Broker& broker) {
    const fs::path dir = env.dir("start");
    MqttClient d(broker.port(), "bench-start-driver");
    const int reps = std::max(3, env.samples(7));

    // 0 plugins. The first boot creates the data dir and is not counted: a device boots with
    // its state already there.
    AgentSpec zero{"bench-start-0", dir / "zero", dir / "zero-plugins", {}};
    fs::create_directories(zero.plugin_dir);
    d.subscribe(agent_topic(zero.id, "status"));
    std::uint64_t session = 0;
    start_once(env, broker, d, zero, session);
    std::vector<double> zero_s;
    for (int i = 0; i < reps; ++i) zero_s.push_back(start_once(env, broker, d, zero, session));

    // 50 plugins, installed over MQTT once (file URLs), then the same restarts.
    AgentSpec fifty{"bench-start-50", dir / "fifty", dir / "fifty-plugins", {}};
    fs::create_directories(fifty.plugin_dir);
    d.subscribe(agent_topic(fifty.id, "status"));
    d.subscribe(agent_topic(fifty.id, "core/evt/components/install_result"));
    {
        std::uint64_t s = 0;
        Process first;
        start_once(env, broker, d, fifty, s, &first);
        install_fill_plugins(env, d, fifty.id);
        first.stop(SIGTERM);
        session = s;
    }
    std::vector<double> fifty_s;
    Process last;
    for (int i = 0; i < reps; ++i) {
        fifty_s.push_back(
            start_once(env, broker, d, fifty, session, i + 1 == reps ? &last : nullptr));
    }

    // Baseline: a raw client from exec to its retained status delivered.
    std::vector<double> raw_s;
    for (int i = 0; i < reps; ++i) {
        const std::string name = "start-" + std::to_string(i);
        const std::string topic = "bench/raw/" + name + "/status";
        d.subscribe(topic);
        const auto start = Clock::now();
        Process raw = start_raw(env, "online", broker.port(), name, dir / "raw.log");
        auto r =
            d.take([&](const Message& m) { return m.topic == topic; }, std::chrono::seconds(20));
        if (!r) throw std::runtime_error("raw client did not publish its status");
        raw_s.push_back(seconds_between(start, r->received));
        raw.stop(SIGTERM);
    }

    // The 50 plugins by themselves, as many times as the agent started with them.
    std::vector<fs::path> fill_files;
    for (int i = 1; i <= kPlugins; ++i) {
        fill_files.push_back(
            env.paths.bench_plugin("lucid_bench_fill_" + std::to_string(i), "1.0.0"));
    }
    std::vector<double> plugins_s;
    for (int i = 0; i < reps; ++i) plugins_s.push_back(plugins_floor_seconds(fill_files));

    const double z = median(zero_s), f = median(fifty_s), r = median(raw_s);
    const double p = median(plugins_s);
    env.start_online_0_s = z;
    const std::string n = std::to_string(reps);
    env.report.add(
        {"5 start to online", "exec -> retained online, 0 plugins", format_duration(z),
         format_duration(r), format_ratio(z, r),
         "raw libmosquitto client exec -> its retained status delivered; median of " + n});
    env.report.add({"5 start to online", "exec -> retained online, 50 plugins", format_duration(f),
                    format_duration(r), format_ratio(f, r),
                    "50 installed C plugins (bench_small.c), each subscribing once"});
    env.report.add({"5 start to online", "exec -> retained online, 50 plugins, vs its floor",
                    format_duration(f), format_duration(z + p), format_ratio(f, z + p),
                    "floor: the agent with 0 plugins (above) + the 50 plugins' own dlopen, "
                    "create() and start() in the bench process (" +
                        format_duration(p) + ", median of " + n + ")"});

    // While it runs: the footprint with 50 plugins loaded (section 4's baseline client).
    std::this_thread::sleep_for(std::chrono::seconds(2));
    if (auto kib = rss_kib(last.pid()); kib && env.raw_idle_kib > 0) {
        env.report.add({"4 footprint", "idle RSS, 50 bench plugins", format_kib(*kib),
                        format_kib(env.raw_idle_kib), format_ratio(*kib, env.raw_idle_kib),
                        "the agent of section 5"});
    }
    last.stop(SIGTERM);
}

}  // namespace lucid::bench
