#include "agent_harness.hpp"

#include <cstdlib>

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>

#include "supervisor.hpp"

#ifndef LUCID_AGENT_BIN
#error "LUCID_AGENT_BIN must name the lucid-agent binary"
#endif

namespace lucid::itest {

AgentHarness::AgentHarness(const Broker& broker, std::string agent_id)
    : broker_(broker), agent_id_(std::move(agent_id)) {
    std::ofstream(data_ / "empty.env").flush();
}

AgentHarness::~AgentHarness() {
    if (process_.running()) process_.stop(SIGKILL);
    supervisor_.reset();
}

std::map<std::string, std::string> AgentHarness::environment(
    const std::map<std::string, std::string>& extra_env) const {
    std::map<std::string, std::string> env{
        {"LUCID_MQTT_URL", broker_.url()},
        {"LUCID_AGENT_ID", agent_id_},
        {"LUCID_DATA_DIR", (data_ / "data").string()},
        {"LUCID_ENV_FILE", (data_ / "empty.env").string()},
        {"LUCID_RECONNECT_MIN_MS", "20"},
        {"LUCID_RECONNECT_MAX_MS", "200"},
        {"LUCID_SUPERVISED", "no"},
    };
    // The plugin API tests run once per runtime (CMakeLists.txt: the *_process variants).
    if (const char* isolation = std::getenv("LUCID_TEST_ISOLATION")) {
        env["LUCID_DEFAULT_ISOLATION"] = isolation;
    }
    for (const auto& [k, v] : extra_env) env[k] = v;
#ifdef LUCID_TEST_PLUGIN_RUNNER
    // A cross-built suite: the agent's own exec of lucid-plugin-runner needs the emulator in
    // front (qemu-user has no binfmt to do it), which this script of the build adds.
    if (!env.count("LUCID_PLUGIN_RUNNER")) env["LUCID_PLUGIN_RUNNER"] = LUCID_TEST_PLUGIN_RUNNER;
#endif
    return env;
}

void AgentHarness::start(const std::map<std::string, std::string>& extra_env) {
    process_.start({LUCID_AGENT_BIN}, environment(extra_env),
                   data_ / ("agent." + std::to_string(++starts_) + ".log"));
}

void AgentHarness::start_supervised(const std::map<std::string, std::string>& extra_env) {
    auto env = environment(extra_env);
    env["LUCID_SUPERVISED"] = "yes";
    supervisor_ = std::make_unique<Supervisor>(std::vector<std::string>{LUCID_AGENT_BIN, "run"},
                                               env, data_ / "service.log");
    supervisor_->start();
}

std::string AgentHarness::log() const { return supervisor_ ? supervisor_->log() : process_.log(); }

int AgentHarness::stop(int signo) { return process_.stop(signo); }

bool AgentHarness::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    return wait_for_output(process_, text, timeout);
}

bool wait_for_output(const Process& process, const std::string& text,
                     std::chrono::milliseconds timeout) {
    return wait_for_file_text(process.log_file(), text, timeout);
}

bool wait_for_file_text(const std::filesystem::path& file, const std::string& text,
                        std::chrono::milliseconds timeout) {
    auto contents = [&file] {
        std::ifstream in(file);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    // The log is a file the process appends to: wake on each write (inotify) and look again.
    const int fd = ::inotify_init1(IN_CLOEXEC);
    if (fd < 0) return contents().find(text) != std::string::npos;
    ::inotify_add_watch(fd, file.c_str(), IN_MODIFY);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool found = false;
    while (!(found = contents().find(text) != std::string::npos)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
            char events[4096];
            (void)::read(fd, events, sizeof events);
        }
    }
    ::close(fd);
    return found;
}

std::string AgentHarness::topic(const std::string& suffix) const {
    return "lucid/agents/" + agent_id_ + "/" + suffix;
}

std::optional<Message> send_command(MqttClient& client, const AgentHarness& agent,
                                    const std::string& command_suffix,
                                    const std::string& result_suffix, const std::string& payload,
                                    const std::string& request_id) {
    client.publish(agent.topic(command_suffix), payload);
    return client.wait_for(agent.topic(result_suffix), with_request_id(request_id));
}

std::uint64_t session_of(const Message& status) { return uint_field(status.payload, "session"); }

std::optional<Message> wait_online(MqttClient& client, const AgentHarness& agent,
                                   std::uint64_t after_session) {
    return client.wait_for(agent.topic("status"), [after_session](const Message& m) {
        return m.str("state") == "online" && session_of(m) > after_session;
    });
}

}  // namespace lucid::itest
