// Many real agents and lucidctl, for the fleet tests (issue 16): the agents on one broker,
// lucidctl and a subscriber on `lucid/#` on another one or the same (a bridge between two is
// the test's business). Agents start in parallel and are then awaited, so a hundred of them
// start in the time their processes take, not one after another. Header-only (doctest).
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "component_rig.hpp"
#include "ctl_runner.hpp"

namespace lucid::itest {

struct FleetRig {
    // `agents_on`: the broker the agents connect to; `ctl_on`: lucidctl's and the subscriber's.
    FleetRig(const Broker& agents_on, const Broker& ctl_on)
        : agent_broker(agents_on), ctl_broker(ctl_on) {
        client = std::make_unique<MqttClient>(ctl_broker.port());
        client->subscribe("lucid/#");
    }

    // Adds `count` agents `{prefix}-{n}` (n from 1) with `labels`, starts them all, then waits
    // until each is online as the subscriber sees it. Returns the index of the first one.
    std::size_t add_agents(const std::string& prefix, std::size_t count,
                           const std::string& labels) {
        const std::size_t first = agents.size();
        for (std::size_t n = 1; n <= count; ++n) {
            agents.push_back(
                std::make_unique<AgentHarness>(agent_broker, prefix + "-" + std::to_string(n)));
            labels_.push_back(labels);
            sessions_.push_back(0);
            launch(agents.size() - 1);  // all at once; awaited below
        }
        for (std::size_t i = first; i < agents.size(); ++i) await_online(i);
        return first;
    }
    // One agent `id` with `labels`, started and online; returns its index.
    std::size_t add_agent(const std::string& id, const std::string& labels) {
        agents.push_back(std::make_unique<AgentHarness>(agent_broker, id));
        labels_.push_back(labels);
        sessions_.push_back(0);
        restart(agents.size() - 1);
        return agents.size() - 1;
    }
    // Starts agent `i` again (with its labels) and waits until it is online.
    void restart(std::size_t i) {
        launch(i);
        await_online(i);
    }

    AgentHarness& agent(std::size_t i) { return *agents.at(i); }
    const AgentHarness& agent(std::size_t i) const { return *agents.at(i); }
    std::size_t size() const { return agents.size(); }

    CtlOutcome ctl(std::vector<std::string> args) const {
        return run_ctl(args, {{"LUCID_MQTT_URL", ctl_broker.url()}});
    }

    // `lucidctl ARGS...` started as a process on lucidctl's broker (output in `log`), for a
    // rollout a test interrupts or runs beside agents it restarts.
    void start_ctl(Process& lucidctl, const std::vector<std::string>& args,
                   const std::filesystem::path& log) const {
        std::vector<std::string> argv{LUCIDCTL_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        lucidctl.start(
            argv, {{"LUCID_MQTT_URL", ctl_broker.url()}, {"LUCID_ENV_FILE", "/dev/null"}}, log);
    }
    // A running rollout's retained state once `batches` batches (the canary first) are done.
    std::optional<Message> rollout_after(std::size_t batches, std::chrono::seconds timeout) {
        return client->take(
            [batches](const Message& m) {
                return m.topic.rfind("lucid/rollouts/", 0) == 0 && m.str("state") == "running" &&
                       uint_field(m.payload, "next_batch") >= batches;
            },
            timeout);
    }

    // The agent's core/deployment says converged with echo at `version`.
    bool converged(std::size_t i, const std::string& version,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        return client->wait_for(agent(i).topic("core/deployment"), converged_at(version), timeout)
            .has_value();
    }
    // The version of echo in agent `i`'s last desired document, "" if none.
    std::string desired_version(std::size_t i) const {
        const auto msgs = client->messages(agent(i).topic("desired"));
        if (msgs.empty() || msgs.back().payload.empty()) return "";
        auto doc = msgs.back().json();
        return doc["components"]["echo"]["version"].GetString();
    }

    const Broker& agent_broker;
    const Broker& ctl_broker;
    std::unique_ptr<MqttClient> client;
    std::vector<std::unique_ptr<AgentHarness>> agents;
    // Every agent's environment besides its id and broker. The drop-in directory is off: each
    // watch is an inotify instance of this user, and a hundred agents would use up the
    // default 128 shared with everything else the user runs.
    std::map<std::string, std::string> env{{"LUCID_DROPIN", "off"}};
    // Agents run as `lucid-agent run` under a supervisor (AgentHarness::start_supervised), so
    // that they can update themselves.
    bool supervised = false;

  private:
    static Predicate converged_at(const std::string& version) {
        return [version](const Message& m) {
            if (m.payload.empty() || m.str("state") != "converged") return false;
            auto doc = m.json();
            return doc["components"].IsObject() && doc["components"].HasMember("echo") &&
                   std::string(doc["components"]["echo"]["version"].GetString()) == version;
        };
    }
    void launch(std::size_t i) {
        auto agent_env = env;
        agent_env["LUCID_LABELS"] = labels_.at(i);
        if (supervised) {
            agents.at(i)->start_supervised(agent_env);
        } else {
            agents.at(i)->start(agent_env);
        }
    }
    void await_online(std::size_t i) {
        // Generous: a hundred sanitizer builds starting at once on two cores.
        const std::uint64_t after = sessions_.at(i);
        const auto online = client->wait_for(
            agent(i).topic("status"),
            [after](const Message& m) {
                return !m.payload.empty() && m.str("state") == "online" && session_of(m) > after;
            },
            std::chrono::seconds(60));
        REQUIRE_MESSAGE(online, agent(i).log());
        sessions_.at(i) = session_of(*online);
    }

    std::vector<std::string> labels_;
    std::vector<std::uint64_t> sessions_;  // the last session seen online, per agent
};

}  // namespace lucid::itest
