#include "bench_env.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>

namespace lucid::bench {

fs::path Paths::bench_plugin(const std::string& file_dist, const std::string& version) const {
    return bench_plugins / (file_dist + "-" + version + "-" + platform_tag + ".so");
}

fs::path BenchEnv::dir(const std::string& name) const {
    const fs::path d = root / name;
    fs::create_directories(d);
    return d;
}

Process start_agent(const BenchEnv& env, const Broker& broker, const AgentSpec& spec) {
    Env vars{
        {"LUCID_MQTT_URL", broker.url()},
        {"LUCID_AGENT_ID", spec.id},
        {"LUCID_DATA_DIR", spec.data_dir.string()},
        {"LUCID_ENV_FILE", "/dev/null"},
        {"LUCID_RECONNECT_MIN_MS", "200"},
        {"LUCID_RECONNECT_MAX_MS", "2000"},
        {"LUCID_SUPERVISED", "no"},
    };
    if (!spec.plugin_dir.empty()) vars["LUCID_PLUGIN_DIR"] = spec.plugin_dir.string();
    for (const auto& [k, v] : spec.extra) vars[k] = v;
    Process p;
    p.start({env.paths.agent.string()}, vars,
            spec.data_dir.parent_path() / (spec.id + ".agent.log"));
    return p;
}

Process start_raw(const BenchEnv& env, const std::string& role, int port, const std::string& arg,
                  const fs::path& log) {
    std::vector<std::string> argv{env.paths.raw_client.string(), role, std::to_string(port)};
    if (!arg.empty()) argv.push_back(arg);
    Process p;
    p.start(argv, {}, log);
    return p;
}

std::string agent_topic(const std::string& agent_id, const std::string& suffix) {
    return "lucid/agents/" + agent_id + "/" + suffix;
}

std::optional<Message> wait_online(MqttClient& driver, const std::string& agent_id,
                                   std::uint64_t after_session, milliseconds timeout) {
    const std::string topic = agent_topic(agent_id, "status");
    return driver.take(
        [&](const Message& m) {
            return m.topic == topic && string_field(m.payload, "state") == "online" &&
                   uint_field(m.payload, "session") > after_session;
        },
        timeout);
}

CommandOutcome run_command(MqttClient& driver, const std::string& agent_id,
                           const std::string& command_suffix, const std::string& result_suffix,
                           const std::string& payload, const std::string& request_id,
                           milliseconds timeout) {
    const std::string result_topic = agent_topic(agent_id, result_suffix);
    CommandOutcome out;
    const auto start = Clock::now();
    driver.publish_nowait(agent_topic(agent_id, command_suffix), payload, 1);
    auto r = driver.take(
        [&](const Message& m) {
            return m.topic == result_topic && has_request_id(m.payload, request_id);
        },
        timeout);
    if (!r) return out;
    out.answered = true;
    out.seconds = std::chrono::duration<double>(r->received - start).count();
    out.payload = std::move(r->payload);
    return out;
}

std::string next_request_id(const std::string& prefix) {
    static std::atomic<unsigned long> counter{0};
    return prefix + "-" + std::to_string(++counter);
}

std::optional<long> proc_kib(pid_t pid, const std::string& file, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
    }
    return std::nullopt;
}

std::optional<long> rss_kib(pid_t pid) { return proc_kib(pid, "status", "VmRSS:"); }

}  // namespace lucid::bench
