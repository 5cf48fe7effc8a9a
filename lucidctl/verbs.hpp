// lucidctl's verbs, one function each, grouped by file: commands.cpp (dispatch, status,
// config, refresh, ping), agents.cpp (agents, fleet, prune, forget, watch), plugin.cpp
// (list, info, start/stop/..., uninstall, inspect), plugin_config.cpp and plugin_call.cpp (a
// component's config, a plugin's commands), install.cpp (install), fleet.cpp (artifact,
// desired).
// Each returns the exit code; errors are thrown (session.hpp).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "contract/label_selector.hpp"
#include "install/ed25519.hpp"
#include "lucidctl/fleet_view.hpp"
#include "lucidctl/session.hpp"

namespace lucid::host::ctl {

const std::string& arg(const CtlOptions& o, std::size_t index, const char* what);
void expect_args(const CtlOptions& o, std::size_t count);

int cmd_agents(Session& s);
int cmd_fleet(Session& s);  // counts by version and state (= agents --summary)
int cmd_watch(Session& s);
// top.cpp: a live view of the agent's telemetry and components (top_view.hpp).
int cmd_top(Session& s);
// logs.cpp: the agent's kept log lines, then with --follow its `logs` stream.
int cmd_logs(Session& s);

// Every agent on the broker (fleet_view.hpp), of those `selector` picks by their labels.
Fleet read_fleet(Session& s, const std::optional<contract::LabelSelector>& selector = std::nullopt);
// The same for the agents `ids` only: what a rollout reads batch by batch, so that a batch costs
// the broker its own agents' messages, not the whole fleet's.
Fleet read_agents(Session& s, const std::vector<std::string>& ids);

int cmd_plugin_list(Session& s);
int cmd_plugin_info(Session& s);
int cmd_plugin_action(Session& s, const std::string& action);
int cmd_plugin_inspect(Session& s);
int cmd_plugin_isolate(Session& s);
int cmd_plugin_install(Session& s);
// plugin_config.cpp: plugin config get ID | set ID KEY=VALUE...; plugin_call.cpp: plugin call ID
// ACTION [JSON] (contract §4.5, §4.6).
int cmd_plugin_config(Session& s);
int cmd_plugin_call(Session& s);
// plugin_log_level.cpp: plugin log-level ID [LEVEL] (contract §4.15).
int cmd_plugin_log_level(Session& s);

// config set and plugin config set: KEY=VALUE into `set`. true/false become booleans, integers
// numbers, anything else a string. The core's labels=k=v,k2=v2 (labels= for none) is the object
// of the agent's whole label set; KEY:=JSON is any JSON value (KEY:={"a":1}), in both.
// A key given twice, or bad labels or JSON, is a UsageError.
enum class SettingKeys { core, component };
void add_setting(rapidjson::Value& set, const std::string& assignment,
                 rapidjson::Document::AllocatorType& a, SettingKeys keys);
// A component id of the command line (words[index]): one the agent takes in a topic, else a
// UsageError (the agent does not answer on the topics of an invalid id).
const std::string& component_id_arg(const CtlOptions& o, std::size_t index);

// fleet.cpp: artifact publish FILE.so; desired set FILE.json | get | clear | status.
int cmd_artifact(Session& s);
int cmd_desired(Session& s);
// rollout.cpp: rollout start | resume | status | abort | list.
int cmd_rollout(Session& s);
// signing.cpp: key generate NAME; sign FILE.so --key NAME.key; verify FILE.so [--keys DIR].
int cmd_key(Session& s);
int cmd_sign(Session& s);
int cmd_permit(Session& s);
// key revoke ID|FILE.pem... --key NAME.key; revoke FILE (revocation.cpp).
int cmd_key_revoke(Session& s);
int cmd_revoke(Session& s);
// The private key of `file` (PEM), or LocalError naming it; warns when others may read it.
install::KeyPtr read_private_key(Session& s, const std::string& file);
int cmd_verify(Session& s);
// upgrade.cpp: upgrade FILE|URL [--version V] [--sha256 HEX] [--signature SIG].
int cmd_upgrade(Session& s);

// An artifact published retained under {fleet}/artifacts/ (its manifest checked first) and the
// broker install source that names it.
struct PublishedArtifact {
    std::string component_id;
    std::string version;
    std::string platform;
    std::string topic;
    std::string source_json;
    std::size_t bytes = 0;
};
PublishedArtifact publish_artifact(Session& s, const std::string& file,
                                   const std::optional<std::string>& platform_option);
// A local file's bytes (a regular file; LocalError naming it and `what` otherwise).
std::string read_local(const std::string& file, const char* what);
// A desired-state document from a file, checked with the agent's own parser (LocalError with
// its error), given `revision()` when it has none. Its JSON text.
std::string read_desired_file(const std::string& file,
                              const std::function<std::uint64_t()>& revision);

// The signature to send from FILE.sig: a lucid-sig-1 line (its whole text, checked with the
// agent's parser), its base64 text, or the raw 64 bytes that `openssl pkeyutl -sign -rawin`
// writes, base64-encoded. LocalError when it is none of them.
std::string signature_file(const std::filesystem::path& sig);

// How much longer than --timeout lucidctl waits for the answer to a component command: the
// agent bounds each plugin start and stop by its plugin call time limit (10 s), so a stop of a
// hung plugin is answered only after that limit; lucidctl must outwait it. stop and uninstall
// wait on one stop, restart on a stop and a start, install on an upgrade's stop and start plus
// the longest health window (upgrade_health_ms at most 60 s), a component's cfg/set on the
// plugin's config_changed. A plugin's own command has no bound: --timeout is the operator's.
std::chrono::milliseconds agent_bound(const std::string& action);

// Refuses (LocalError) a FILE argument that is not a regular file, checked on a descriptor
// opened without blocking: a FIFO would otherwise hang the manifest read for ever.
void require_regular_file(const std::string& file);

// The install source (contract §4.1) of `what`, for `plugin install` and `upgrade` alike: a
// FILE inline (its sha256 computed and checked against --sha256, FILE.sig beside it sent
// along, its size within max_artifact_bytes), or a URL the agent downloads (http://, https://,
// file:// on the agent; --sha256 mandatory); --signature (its text or its file) added to either.
// `verb` ("install", "upgrade") words the errors. Returns the FILE's size, 0 for a URL.
std::uint64_t artifact_source(Session& s, const std::string& what, const std::string& verb,
                              rapidjson::Value& source, rapidjson::Document::AllocatorType& a);

// --json: a lucidctl-side failure as one JSON object on stdout, so scripts always get JSON.
void print_json_error(Session& s, const std::string& error);

}  // namespace lucid::host::ctl
