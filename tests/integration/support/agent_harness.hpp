// The built lucid-agent as a real process against a test Broker: temp data dir, environment,
// start/stop by signal, and helpers to send a command and wait for its result.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "broker.hpp"
#include "mqtt_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace lucid::itest {

// The test kit (tests/support/: client, broker, processes, artifacts) is part of what the
// integration tests see.
using namespace lucid::test;

class Supervisor;

class AgentHarness {
  public:
    explicit AgentHarness(const Broker& broker, std::string agent_id = "itest");
    ~AgentHarness();

    // Starts the agent; `extra_env` overrides the defaults (small reconnect backoff, not
    // supervised, no env file).
    void start(const std::map<std::string, std::string>& extra_env = {});
    // Starts `lucid-agent run` (LUCID_SUPERVISED=yes) under a Supervisor that starts it again
    // as systemd would (supervisor.hpp): for the agent updating itself. Its output goes to
    // service.log; stop it with supervisor().stop().
    void start_supervised(const std::map<std::string, std::string>& extra_env = {});
    Supervisor& supervisor() { return *supervisor_; }
    // SIGTERM (clean) or SIGKILL; returns the exit code.
    int stop(int signo);
    Process& process() { return process_; }
    std::string log() const;
    // Waits until the agent's log contains `text` (the agent writes it as it goes).
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const;

    const std::string& agent_id() const { return agent_id_; }
    const std::filesystem::path& data_dir() const { return data_.path(); }
    // `lucid/agents/{agent_id}/{suffix}`.
    std::string topic(const std::string& suffix) const;

  private:
    std::map<std::string, std::string> environment(
        const std::map<std::string, std::string>& extra_env) const;

    const Broker& broker_;
    std::string agent_id_;
    TempDir data_;
    Process process_;
    std::unique_ptr<Supervisor> supervisor_;
    int starts_ = 0;
};

// Waits until `file` (a log a process appends to) contains `text`.
bool wait_for_file_text(const std::filesystem::path& file, const std::string& text,
                        std::chrono::milliseconds timeout);

// Waits until the output (log file) of `process` contains `text`.
bool wait_for_output(const Process& process, const std::string& text,
                     std::chrono::milliseconds timeout);

// Publishes `payload` on the command topic and returns the result carrying `request_id`
// (empty optional on timeout).
std::optional<Message> send_command(MqttClient& client, const AgentHarness& agent,
                                    const std::string& command_suffix,
                                    const std::string& result_suffix, const std::string& payload,
                                    const std::string& request_id);

// Waits for the retained `status` to say online with a session number > `after_session`.
std::optional<Message> wait_online(MqttClient& client, const AgentHarness& agent,
                                   std::uint64_t after_session = 0);

std::uint64_t session_of(const Message& status);

}  // namespace lucid::itest
