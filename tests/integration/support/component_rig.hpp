// What the component integration tests share: a broker, an agent and a client subscribed to
// everything the agent publishes; the built test artifacts; install payload builders; and
// short ways to read results, statuses and the registry file. Header-only because it uses
// doctest's REQUIRE (the support library itself does not link doctest).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "agent_harness.hpp"
#include "artifacts.hpp"

namespace lucid::itest {

// A built plugin: where it is, its bytes, their sha256 and its file name.
struct Artifact {
    std::filesystem::path path;
    std::string bytes;
    std::string sha256;
    std::string name;
};

inline Artifact artifact(const char* built_path) {
    Artifact a;
    a.path = built_path;
    a.bytes = read_bytes(a.path);
    a.sha256 = sha256_hex(a.bytes);
    a.name = a.path.filename().string();
    return a;
}

// ---- install payloads -------------------------------------------------------------------------

inline std::string inline_source(const std::string& filename, const std::string& bytes,
                                 const std::string& sha256) {
    return R"({"type":"inline","filename":)" + json_string(filename) + R"(,"data_base64":")" +
           base64(bytes) + R"(","sha256":")" + sha256 + "\"}";
}

inline std::string inline_source(const Artifact& a) {
    return inline_source(a.name, a.bytes, a.sha256);
}

inline std::string url_source(const std::string& url, const std::string& sha256,
                              const std::string& extra = "") {
    return R"({"type":"url","url":)" + json_string(url) + R"(,"sha256":")" + sha256 + "\"" + extra +
           "}";
}

inline std::string install_payload(const std::string& request_id, const std::string& cid,
                                   const std::string& source, const std::string& extra = "") {
    return R"({"request_id":)" + json_string(request_id) + R"(,"component_id":)" +
           json_string(cid) + R"(,"source":)" + source + extra + "}";
}

// ---- reading results ---------------------------------------------------------------------------

inline bool ok_of(const Message& m) { return m.json()["ok"].GetBool(); }

inline std::string error_of(const Message& m) {
    auto doc = m.json();
    return doc["error"].IsNull() ? "" : doc["error"].GetString();
}

// A boolean result field; false when absent.
inline bool flag_of(const Message& m, const char* key) {
    auto doc = m.json();
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

inline bool has_text(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// ---- the running system ------------------------------------------------------------------------

struct ComponentRig {
    Broker broker;
    AgentHarness agent;
    std::unique_ptr<MqttClient> client;
    std::map<std::string, std::string> env;  // passed to every agent start
    std::uint64_t session = 0;               // of the agent's last start

    explicit ComponentRig(const std::string& agent_id, bool broker_persistence = false)
        : broker(broker_persistence), agent(broker, agent_id) {
        broker.start();
        client = std::make_unique<MqttClient>(broker.port());
        client->subscribe(agent.topic("#"));
    }

    // {LUCID_DATA_DIR}
    std::filesystem::path data() const { return agent.data_dir() / "data"; }
    // The registry file; an empty object when the agent has not written one.
    rapidjson::Document registry() const {
        if (!std::filesystem::exists(data() / "registry.json")) {
            rapidjson::Document empty;
            empty.SetObject();
            return empty;
        }
        return read_json(data() / "registry.json");
    }

    // Starts (or starts again) the agent and waits until it is online with a new session.
    void start_agent() {
        agent.start(env);
        auto status = wait_online(*client, agent, session);
        REQUIRE_MESSAGE(status, agent.log());
        session = session_of(*status);
    }

    Message command(const std::string& cmd, const std::string& result, const std::string& payload,
                    const std::string& request_id) {
        auto m = send_command(*client, agent, cmd, result, payload, request_id);
        REQUIRE_MESSAGE(m, "no result for " << request_id << "\n" << agent.log());
        return *m;
    }

    Message install(const std::string& payload, const std::string& request_id) {
        return command("core/cmd/components/install", "core/evt/components/install_result", payload,
                       request_id);
    }

    Message install(const std::string& request_id, const std::string& cid,
                    const std::string& source) {
        return install(install_payload(request_id, cid, source), request_id);
    }

    Message uninstall(const std::string& payload, const std::string& request_id) {
        return command("core/cmd/components/uninstall", "core/evt/components/uninstall_result",
                       payload, request_id);
    }

    // start | stop | restart | enable | disable
    Message control(const std::string& action, const std::string& cid,
                    const std::string& request_id) {
        return command(
            "core/cmd/components/" + action, "core/evt/components/" + action + "_result",
            R"({"request_id":")" + request_id + R"(","component_id":)" + json_string(cid) + "}",
            request_id);
    }

    Message ping(const std::string& request_id) {
        return command("core/cmd/ping", "core/evt/ping_result",
                       R"({"request_id":")" + request_id + "\"}", request_id);
    }

    // The first components/{cid}/status (since the last client->clear()) in `state`, and at
    // `version` when one is given.
    std::optional<Message> wait_status(
        const std::string& cid, const std::string& state, const std::string& version = "",
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return client->wait_for(
            agent.topic("components/" + cid + "/status"),
            [&](const Message& m) {
                return m.str("state") == state && (version.empty() || m.str("version") == version);
            },
            timeout);
    }

    // The first core/components (since the last client->clear()) listing `cid` at `version`.
    // It is published once the registry file holds that version.
    std::optional<Message> wait_registered(const std::string& cid, const std::string& version) {
        return client->wait_for(agent.topic("core/components"), [&](const Message& m) {
            auto doc = m.json();
            if (!doc.HasMember("components") || !doc["components"].IsObject()) return false;
            auto it = doc["components"].FindMember(cid.c_str());
            return it != doc["components"].MemberEnd() && it->value.IsObject() &&
                   it->value.HasMember("version") && it->value["version"].IsString() &&
                   version == it->value["version"].GetString();
        });
    }

    // The answer of a plugin's command components/{cid}/cmd/{action}.
    std::optional<Message> plugin_command(const std::string& cid, const std::string& action,
                                          const std::string& payload,
                                          const std::string& request_id) {
        client->publish(agent.topic("components/" + cid + "/cmd/" + action), payload);
        return client->wait_for(agent.topic("components/" + cid + "/evt/" + action + "_result"),
                                with_request_id(request_id));
    }

    // The echo plugin answers a command (proof that the installed echo runs).
    void echo_answers(const std::string& request_id) {
        auto answer =
            plugin_command("echo", "echo", R"({"request_id":")" + request_id + "\"}", request_id);
        REQUIRE_MESSAGE(answer, agent.log());
        CHECK(ok_of(*answer));
    }
};

// The registry entry of `cid` as a JSON text, "" when there is none.
inline std::string registry_entry(const rapidjson::Document& registry, const std::string& cid) {
    if (!registry.IsObject() || !registry.HasMember("components")) return "";
    const auto& components = registry["components"];
    auto it = components.FindMember(cid.c_str());
    if (it == components.MemberEnd()) return "";
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    it->value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace lucid::itest
