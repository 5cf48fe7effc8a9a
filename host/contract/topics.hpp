// Every MQTT topic of the contract (contract §3), in one place: the agent and lucidctl both build
// their topics here, so a rename cannot leave one of them behind.
//
// Topics are `{root}/{agent_id}/{suffix}`; the root defaults to `lucid/agents`. Suffix constants
// are relative; AgentTopics turns them into absolute topics. Pure; thread-safe.
//
//   AgentTopics t("lucid/agents", "pi-kitchen");
//   t.status()                           // "lucid/agents/pi-kitchen/status"
//   t.at(topics::kPing.result)           // "lucid/agents/pi-kitchen/core/evt/ping_result"
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace lucid::host::contract {

inline constexpr std::string_view kDefaultTopicRoot = "lucid/agents";
// The root of the fleet's topics outside any agent's subtree (contract §3.10).
inline constexpr std::string_view kDefaultFleetRoot = "lucid";

// A topic root (`LUCID_TOPIC_ROOT`, `LUCID_FLEET_ROOT`): not empty, no wildcard, NUL or empty
// level, no leading or trailing '/'.
bool valid_topic_root(std::string_view root);
// `{fleet_root}/artifacts/`: where broker install sources live.
std::string artifacts_prefix(std::string_view fleet_root);

namespace topics {

// Retained snapshots.
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kCoreMetadata = "core/metadata";
inline constexpr std::string_view kCoreState = "core/state";
inline constexpr std::string_view kCoreComponents = "core/components";
inline constexpr std::string_view kCoreCfgState = "core/cfg/state";
inline constexpr std::string_view kCoreDeployment = "core/deployment";

// The agent's desired state (retained, written by operators; contract §4.11).
inline constexpr std::string_view kDesired = "desired";

// A command topic and the topic its result is published on.
struct CommandTopics {
    std::string_view name;     // the command's name, for logs
    std::string_view command;  // relative command topic
    std::string_view result;   // relative result topic
};

inline constexpr CommandTopics kRefresh{"refresh", "core/cmd/refresh", "core/evt/refresh_result"};
inline constexpr CommandTopics kPing{"ping", "core/cmd/ping", "core/evt/ping_result"};
inline constexpr CommandTopics kRestart{"restart", "core/cmd/restart", "core/evt/restart_result"};
// The agent's own upgrade (contract §4.16); its final result is published by the build that
// ends up running.
inline constexpr CommandTopics kUpgrade{"upgrade", "core/cmd/upgrade", "core/evt/upgrade_result"};
inline constexpr std::string_view kUpgradeProgress = "core/evt/upgrade_progress";
inline constexpr CommandTopics kCfgSet{"cfg/set", "core/cfg/set", "core/evt/cfg_set_result"};
// The log over MQTT (contract §4.15): the stream, the kept lines, a temporary stream, and a
// component's own level (`components/{cid}/…`).
inline constexpr std::string_view kLogs = "logs";
inline constexpr CommandTopics kLogsGet{"logs/get", "core/cmd/logs/get",
                                        "core/evt/logs/get_result"};
inline constexpr CommandTopics kLogsStream{"logs/stream", "core/cmd/logs/stream",
                                           "core/evt/logs/stream_result"};
inline constexpr std::string_view kComponentLogLevelSet = "cfg/logging/set";
inline constexpr std::string_view kComponentLogLevelResult = "evt/cfg_logging_set_result";

inline constexpr CommandTopics kInstall{"install", "core/cmd/components/install",
                                        "core/evt/components/install_result"};
inline constexpr CommandTopics kUninstall{"uninstall", "core/cmd/components/uninstall",
                                          "core/evt/components/uninstall_result"};
inline constexpr CommandTopics kStart{"start", "core/cmd/components/start",
                                      "core/evt/components/start_result"};
inline constexpr CommandTopics kStop{"stop", "core/cmd/components/stop",
                                     "core/evt/components/stop_result"};
inline constexpr CommandTopics kRestartComponent{"restart", "core/cmd/components/restart",
                                                 "core/evt/components/restart_result"};
inline constexpr CommandTopics kEnable{"enable", "core/cmd/components/enable",
                                       "core/evt/components/enable_result"};
inline constexpr CommandTopics kDisable{"disable", "core/cmd/components/disable",
                                        "core/evt/components/disable_result"};
// Where a component runs and its limits (README "Process isolation").
inline constexpr CommandTopics kConfigureComponent{"configure", "core/cmd/components/configure",
                                                   "core/evt/components/configure_result"};
// A signed revocation list (contract §8.14).
inline constexpr CommandTopics kRevokeKeys{"revoke", "core/cmd/keys/revoke",
                                           "core/evt/keys/revoke_result"};
inline constexpr std::string_view kInstallProgress = "core/evt/components/install_progress";

inline constexpr std::array<CommandTopics, 8> kComponentCommands{
    kInstall, kUninstall, kStart, kStop, kRestartComponent, kEnable, kDisable, kConfigureComponent};

}  // namespace topics

class AgentTopics {
  public:
    AgentTopics(std::string root, std::string agent_id);

    // `{root}/{agent_id}/{suffix}`.
    std::string at(std::string_view suffix) const;
    const std::string& base() const { return base_; }
    const std::string& agent_id() const { return agent_id_; }

    std::string status() const { return at(topics::kStatus); }
    std::string core_metadata() const { return at(topics::kCoreMetadata); }
    std::string core_state() const { return at(topics::kCoreState); }
    std::string core_components() const { return at(topics::kCoreComponents); }
    std::string core_cfg_state() const { return at(topics::kCoreCfgState); }

    // Per component: `components/{cid}/...`.
    std::string component(std::string_view component_id, std::string_view suffix) const;
    std::string component_status(std::string_view cid) const { return component(cid, "status"); }
    std::string component_cfg_state(std::string_view cid) const {
        return component(cid, "cfg/state");
    }
    std::string component_cfg_set_result(std::string_view cid) const {
        return component(cid, "evt/cfg_set_result");
    }
    // Plugin-defined commands: `components/{cid}/cmd/{action}` → `.../evt/{action}_result`.
    std::string component_command(std::string_view cid, std::string_view action) const;
    std::string component_command_result(std::string_view cid, std::string_view action) const;
    // Every plugin-defined command of every component: `components/+/cmd/+`.
    std::string component_commands_filter() const { return component_command("+", "+"); }

  private:
    std::string root_;
    std::string agent_id_;
    std::string base_;
};

// `{base}/components/{cid}/{suffix}`: for code that knows only an agent's base topic.
std::string component_topic(std::string_view base, std::string_view cid, std::string_view suffix);
// `{base}/components/{cid}/evt/{action}_result`: the answer to a plugin-defined command.
std::string component_command_result_topic(std::string_view base, std::string_view cid,
                                           std::string_view action);

// A topic under `{base}/components/`, split at the component id; nullopt for any other topic
// (also for an empty id or suffix). The id is not validated (registry::is_valid_identifier).
//   parse_component_topic("r/a", "r/a/components/cpu/cmd/read") == {"cpu", "cmd/read"}
struct ComponentTopic {
    std::string component_id;
    std::string suffix;
};
std::optional<ComponentTopic> parse_component_topic(std::string_view base, std::string_view topic);

// The action of a plugin-defined command topic (`cmd/{action}`, one level), else nullopt.
std::optional<std::string> component_command_action(const ComponentTopic& topic);

// A plugin's command action or event type: one topic level, not empty, without '/', '+', '#'
// or NUL. What a plugin may register (register_command, publish_event), and so what lucidctl
// plugin call may send.
bool valid_topic_level(std::string_view level);

// `{root}/+/status`: the status of every agent under a root (lucidctl agents).
std::string all_agents_status_filter(std::string_view root);

}  // namespace lucid::host::contract
