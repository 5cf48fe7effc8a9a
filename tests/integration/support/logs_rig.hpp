// The rig of the log tests (contract §4.15): an agent with the log_probe plugin installed (its
// `log` command logs lines at a level), the `logs` stream read from the test's subscriber, and
// the log commands (logs/get, logs/stream, a component's cfg/logging/set) sent by request id.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent_harness.hpp"
#include "component_rig.hpp"

namespace lucid::itest {

struct Line {
    std::string ts, level, logger, message;
};

// Every line of every `logs` message received since the last clear().
inline std::vector<Line> lines_of(const std::vector<Message>& messages) {
    std::vector<Line> lines;
    for (const auto& m : messages) {
        const auto doc = m.json();
        for (const auto& l : doc["lines"].GetArray()) {
            lines.push_back({l["ts"].GetString(), l["level"].GetString(), l["logger"].GetString(),
                             l["message"].GetString()});
        }
    }
    return lines;
}

inline bool has_message(const Message& m, const std::string& text) {
    if (m.payload.find(text) == std::string::npos) return false;
    for (const auto& l : lines_of({m})) {
        if (l.message.find(text) != std::string::npos) return true;
    }
    return false;
}

struct LogsRig : ComponentRig {
    int requests = 0;
    std::map<std::string, std::string> ctl_env;

    explicit LogsRig(const std::string& agent_id, const std::string& install_extra = "")
        : ComponentRig(agent_id) {
        start_agent();
        auto installed =
            install(install_payload("i-logprobe", "logprobe",
                                    inline_source(artifact(LUCID_ITEST_LOG_PROBE)), install_extra),
                    "i-logprobe");
        REQUIRE_MESSAGE(ok_of(installed), installed.payload << agent.log());
        ctl_env = {{"LUCID_MQTT_URL", broker.url()}, {"LUCID_AGENT_ID", agent.agent_id()}};
    }
    std::string next_id(const char* what) { return what + std::to_string(++requests); }
    Message cfg_set(const std::string& set) {
        const std::string id = next_id("cfg-");
        return command("core/cfg/set", "core/evt/cfg_set_result",
                       R"({"request_id":")" + id + R"(","set":)" + set + "}", id);
    }
    // The plugin logs `count` lines "<message> #i" at `level` (debug, info, warning, error).
    void plugin_logs(const std::string& level, const std::string& message, int count = 1) {
        const std::string id = next_id("log-");
        auto answer = plugin_command("logprobe", "log",
                                     R"({"request_id":")" + id + R"(","level":")" + level +
                                         R"(","message":")" + message + R"(","count":)" +
                                         std::to_string(count) + "}",
                                     id);
        REQUIRE_MESSAGE(answer, agent.log());
        REQUIRE_MESSAGE(ok_of(*answer), answer->payload);
    }
    // A child process's log calls may reach the agent after its command was answered; they keep
    // their order, so a later line in the agent's log file says that the ones before it are in.
    void settle(const std::string& tag) {
        plugin_logs("error", "settle-" + tag);
        REQUIRE_MESSAGE(agent.wait_for_log("settle-" + tag + " #0", std::chrono::seconds(10)),
                        agent.log());
    }
    // The first `logs` message holding a line with `text`.
    std::optional<Message> wait_line(const std::string& text,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return client->wait_for(
            agent.topic("logs"), [&](const Message& m) { return has_message(m, text); }, timeout);
    }
    std::vector<Line> streamed() { return lines_of(client->messages(agent.topic("logs"))); }
    bool streamed_any(const std::string& text) {
        for (const auto& l : streamed()) {
            if (l.message.find(text) != std::string::npos) return true;
        }
        return false;
    }
    Message logs_get(const std::string& body) {
        const std::string id = next_id("get-");
        return command("core/cmd/logs/get", "core/evt/logs/get_result",
                       R"({"request_id":")" + id + "\"" + body + "}", id);
    }
    bool kept(const std::string& body, const std::string& text) {
        const auto m = logs_get(body);
        REQUIRE_MESSAGE(ok_of(m), m.payload);
        return m.payload.find(text) != std::string::npos;
    }
    Message component_level(const std::string& cid, const std::string& body) {
        const std::string id = next_id("lvl-");
        return command("components/" + cid + "/cfg/logging/set",
                       "components/" + cid + "/evt/cfg_logging_set_result",
                       R"({"request_id":")" + id + "\"" + body + "}", id);
    }
    Message stream_for(const std::string& body) {
        const std::string id = next_id("stream-");
        return command("core/cmd/logs/stream", "core/evt/logs/stream_result",
                       R"({"request_id":")" + id + "\"" + body + "}", id);
    }
};

}  // namespace lucid::itest
