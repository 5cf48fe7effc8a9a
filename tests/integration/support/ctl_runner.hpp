// lucidctl as a process for the integration tests: run it with an environment of its own (so
// nothing from the test's shell leaks in) and look at its exit code and output. Header-only
// because it uses doctest's REQUIRE; the test target defines LUCIDCTL_BIN.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "agent_harness.hpp"
#include "process.hpp"

namespace lucid::itest {

struct CtlOutcome {
    int code;
    std::string output;  // stdout and stderr together
    bool has(const std::string& text) const { return output.find(text) != std::string::npos; }
    // The output parsed as JSON, from its first '{' or '[' (a notice on stderr may precede it).
    rapidjson::Document json() const {
        rapidjson::Document doc;
        const auto start = output.find_first_of("{[");
        REQUIRE_MESSAGE(start != std::string::npos, output);
        doc.Parse(output.c_str() + start);
        REQUIRE_MESSAGE(!doc.HasParseError(), output);
        return doc;
    }
};

// `LUCID_ENV_FILE=/dev/null` unless `env` says otherwise: the machine's /etc/lucid/agent.env
// never reaches a test.
inline CtlOutcome run_ctl(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv{LUCIDCTL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> full{{"LUCID_ENV_FILE", "/dev/null"}};
    for (const auto& [k, v] : env) full[k] = v;
    auto [code, output] = run_to_completion(argv, full);
    return {code, output};
}

// A broker, an online agent and a subscriber on all of its topics; run() points lucidctl at
// them through the environment, as a device's own settings would.
struct CtlAgentRig {
    Broker broker;
    AgentHarness agent{broker, "ctl-1"};
    std::unique_ptr<MqttClient> client;

    CtlAgentRig() {
        broker.start();
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(agent.topic("#"));
        agent.start();
        REQUIRE_MESSAGE(wait_online(*client, agent), agent.log());
    }
    CtlOutcome run(const std::vector<std::string>& args) {
        return run_ctl(args, {{"LUCID_MQTT_URL", broker.url()},
                              {"LUCID_AGENT_ID", agent.agent_id()},
                              {"LUCID_DATA_DIR", (agent.data_dir() / "data").string()}});
    }
};

}  // namespace lucid::itest
