// plugin list, info, start/stop/restart/enable/disable, uninstall, inspect.
#include <iomanip>
#include <ostream>

#include "contract/payloads.hpp"
#include "contract/plugin_call_timeout.hpp"
#include "install/digest.hpp"
#include "install/plugin_manifest.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/registry_store.hpp"
#include "lucidctl/isolation_options.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;

// The contract's exact error for a legacy entry without a dist_name (contract §4.2).
constexpr std::string_view kLegacyUninstallError =
    "registry missing dist_name for component; provide dist_name in uninstall payload for "
    "migration";

// "process", or "process as nobody:nogroup,video" when the child runs as another user.
std::string isolation_text(const Value& component) {
    std::string text = str(component, "isolation", "in_process");
    const auto run_as = component.FindMember("run_as");
    if (run_as == component.MemberEnd() || !run_as->value.IsObject()) return text;
    try {
        const registry::RunAs user = registry::read_run_as(run_as->value, false);
        if (user.empty()) return text;
        text += " as " + user.user;
        for (std::size_t i = 0; i < user.groups.size(); ++i) {
            text += (i == 0 ? ":" : ",") + user.groups[i];
        }
    } catch (const std::invalid_argument&) {
        // A newer agent's shape: the isolation alone.
    }
    return text;
}

std::uint64_t count_of(const Value& component, const char* key) {
    const auto it = component.FindMember(key);
    return it != component.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}

// The DROPPED and DUPLICATES columns appear when a component lost or skipped messages: a
// plugin whose queue overflows must show in the list, and an all-zero column is noise.
void print_components(Session& s, const Value& components, const char* state_header) {
    bool drops = false;
    if (components.IsObject()) {
        for (const auto& m : components.GetObject()) {
            drops = drops || count_of(m.value, "dropped_messages") > 0 ||
                    count_of(m.value, "duplicates_dropped") > 0;
        }
    }
    std::vector<std::string> headers = {"ID",      "DIST",      "VERSION", state_header,
                                        "ENABLED", "ISOLATION", "ERROR"};
    if (drops) headers.insert(headers.end() - 1, {"DROPPED", "DUPLICATES"});
    TextTable table(headers);
    if (components.IsObject()) {
        for (const auto& m : components.GetObject()) {
            std::vector<std::string> row = {
                m.name.GetString(),         str(m.value, "dist_name", "-"), str(m.value, "version"),
                str(m.value, "state", "-"), str(m.value, "enabled", "-"),   isolation_text(m.value),
                str(m.value, "error", "")};
            if (drops) {
                row.insert(row.end() - 1, {str(m.value, "dropped_messages", "-"),
                                           str(m.value, "duplicates_dropped", "-")});
            }
            table.add(row);
        }
    }
    table.print(s.out());
}

// The local registry as a core/components-shaped object, for the offline fallbacks. A data
// directory that does not exist is an error (exit 2): an empty list would claim nothing is
// installed.
Document local_components(Session& s, const std::string& why) {
    const auto& dir = s.target().data_dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw LocalError("broker unreachable (" + why + ") and data directory " + dir.string() +
                         " does not exist: no local registry to read (give --data-dir)");
    }
    const auto report = registry::RegistryStore(dir).load();
    s.err() << "broker unreachable (" << why << "); showing the local registry "
            << (dir / "registry.json").string() << "\n";
    for (const auto& problem : report.problems) s.err() << "registry: " << problem << "\n";
    Document doc(rapidjson::kObjectType);
    Value components(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    for (const auto& [id, entry] : report.registry.entries()) {
        Value item;
        registry::write_entry(entry, item, a);
        const char* state =
            entry.kind == registry::EntryKind::python_wheel ? "unsupported" : "unknown";
        item.AddMember("state", Value(state, a), a);
        components.AddMember(Value(id, a), item, a);
    }
    doc.AddMember("source", "local_registry", a);
    doc.AddMember("count", static_cast<std::uint64_t>(report.registry.size()), a);
    doc.AddMember("components", components, a);
    return doc;
}

// What only a component's own status says (core/components does not carry it): the messages it
// lost and skipped, and its own log level.
constexpr const char* kStatusOnly[] = {"dropped_messages", "duplicates_dropped", "log_level"};

// The components' retained statuses folded into `components`: the fields of kStatusOnly for
// those listed, and the components with a retained status but no registry entry: a first
// install that took the agent down (a crashing drop-in) is quarantined without ever being
// installed, and an operator listing components must still see it failed, with why. Added to
// `components` with `installed: false`.
void add_statuses(Session& s, Document& doc) {
    if (!doc.HasMember("components") || !doc["components"].IsObject()) return;
    const std::string filter = s.topics().component_status("+");
    const std::string prefix = filter.substr(0, filter.size() - std::string("+/status").size());
    auto& a = doc.GetAllocator();
    for (const auto& m : s.client().retained(filter, s.deadline())) {
        if (m.payload.empty() || m.topic.size() <= prefix.size() + 7) continue;
        const std::string cid = m.topic.substr(prefix.size(), m.topic.size() - prefix.size() - 7);
        Document status;
        if (registry::json_too_deep(m.payload) || status.Parse(m.payload.c_str()).HasParseError() ||
            !status.IsObject()) {
            continue;
        }
        if (doc["components"].HasMember(cid.c_str())) {
            Value& listed = doc["components"][cid.c_str()];
            if (!listed.IsObject()) continue;
            for (const char* key : kStatusOnly) {
                const auto it = status.FindMember(key);
                if (it == status.MemberEnd() || listed.HasMember(key)) continue;
                if (!it->value.IsUint64() && !it->value.IsString()) continue;
                listed.AddMember(Value(key, a), Value(it->value, a), a);
            }
            continue;
        }
        Value item(rapidjson::kObjectType);
        for (const char* key : {"version", "state", "error"}) {
            if (status.HasMember(key) && status[key].IsString()) {
                item.AddMember(Value(key, a), Value(status[key].GetString(), a), a);
            }
        }
        item.AddMember("installed", false, a);
        doc["components"].AddMember(Value(cid, a), item, a);
    }
}

// The agent's retained core/components, or nullopt when the broker cannot be reached (`why`
// then says why). No snapshot on a reachable broker: the agent is unknown (exit 3).
std::optional<Document> live_components(Session& s, std::string& why) {
    std::optional<std::string> snapshot;
    try {
        snapshot = s.retained_one(s.topics().core_components());
        s.presence();
    } catch (const BrokerUnreachable& e) {
        why = e.what();
        return std::nullopt;
    }
    if (!snapshot) {
        throw BrokerUnreachable("agent '" + s.target().agent_id +
                                "' has no core/components snapshot on the broker");
    }
    Document doc = parse_object(*snapshot);
    add_statuses(s, doc);
    const auto& p = s.presence();
    if (p.known && !p.online) {
        // What an offline agent last published is not what runs now: say so, and since when.
        s.err() << "agent " << s.target().agent_id << " is " << Session::offline_since(p)
                << ": the states below are its last known (as of " << str(doc, "ts", "-") << ")\n";
    }
    auto& a = doc.GetAllocator();
    Value agent(rapidjson::kObjectType);
    agent.AddMember("online", p.online, a);
    agent.AddMember("last_seen", p.last_seen.empty() ? Value() : Value(p.last_seen, a), a);
    doc.AddMember("agent", agent, a);
    return doc;
}

bool agent_offline(Session& s) {
    const auto& p = s.presence();
    return p.known && !p.online;
}

}  // namespace

std::chrono::milliseconds agent_bound(const std::string& action) {
    const auto call = contract::kPluginCallTimeout;
    // A component's cfg/set waits on the plugin's config_changed.
    if (action == "stop" || action == "start" || action == "uninstall" || action == "cfg/set") {
        return call;
    }
    if (action == "restart") return 2 * call;
    if (action == "install") return 2 * call + std::chrono::seconds(60);
    return {};
}

int cmd_plugin_list(Session& s) {
    std::string why;
    auto doc = live_components(s, why);
    const bool offline_agent = doc && agent_offline(s);
    if (!doc) doc = local_components(s, why);
    if (s.json()) {
        s.out() << contract::to_json(*doc) << "\n";
        return kOk;
    }
    print_components(s, doc->HasMember("components") ? (*doc)["components"] : Value().Move(),
                     offline_agent ? "LAST STATE" : "STATE");
    return kOk;
}

int cmd_plugin_info(Session& s) {
    const std::string& id = arg(s.options(), 2, "component id");
    expect_args(s.options(), 3);
    std::string why;
    auto doc = live_components(s, why);
    const bool offline_agent = doc && agent_offline(s);
    if (!doc) doc = local_components(s, why);
    if (!doc->HasMember("components") || !(*doc)["components"].IsObject() ||
        !(*doc)["components"].HasMember(id.c_str())) {
        const std::string error = "component not found: " + id;
        s.err() << error << "\n";
        if (s.json()) print_json_error(s, error);
        return kCommandFailed;
    }
    Value& entry = (*doc)["components"][id.c_str()];
    if (s.json()) {
        s.out() << contract::to_json(entry) << "\n";
        return kOk;
    }
    for (const auto& m : entry.GetObject()) {
        std::string name = m.name.GetString();
        if (name == "state" && offline_agent) name = "last state";
        const std::string label = name + ":";
        s.out() << std::left << std::setw(14) << label << (label.size() >= 14 ? " " : "")
                << str(entry, m.name.GetString(), "-") << "\n";
    }
    // From the broker, its status was read: no log_level there means it follows the agent's.
    if (!doc->HasMember("source") && entry.HasMember("dropped_messages") &&
        !entry.HasMember("log_level")) {
        s.out() << std::left << std::setw(14) << "log_level:"
                << "the agent's (lucidctl plugin log-level " << id << " LEVEL)\n";
    }
    return kOk;
}

int cmd_plugin_action(Session& s, const std::string& action) {
    const std::string& id = arg(s.options(), 2, "component id");
    expect_args(s.options(), 3);
    const topics::CommandTopics* command = nullptr;
    for (const auto& c : topics::kComponentCommands) {
        if (c.command == "core/cmd/components/" + action) command = &c;
    }
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    payload.AddMember("component_id", Value(id, a), a);
    if (auto dist = command_option(s.options(), "dist")) {
        if (action != "uninstall") throw UsageError("--dist is an option of plugin uninstall");
        const std::string normalized = registry::normalize_dist_name(*dist);
        if (dist->empty() || normalized != *dist) {
            std::string error = "--dist '" + *dist + "' is not a normalized dist name";
            if (!normalized.empty()) error += " (did you mean '" + normalized + "'?)";
            throw UsageError(error);
        }
        payload.AddMember("dist_name", Value(*dist, a), a);
    }
    const Answer answer = s.request(*command, std::move(payload), agent_bound(action));
    const int code = s.report(command->name, answer);
    if (!answer.ok && !s.json() && str(answer.doc, "error") == kLegacyUninstallError) {
        s.err() << "hint: lucidctl plugin uninstall ID --dist NAME\n";
    }
    return code;
}

int cmd_plugin_isolate(Session& s) {
    const std::string& id = arg(s.options(), 2, "component id");
    std::optional<std::string> mode;
    if (s.options().words.size() > 3) mode = s.options().words[3];
    expect_args(s.options(), mode ? 4 : 3);
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    payload.AddMember("component_id", Value(id, a), a);
    if (!add_isolation_fields(s.options(), mode, payload)) {
        throw UsageError(
            "plugin isolate needs in_process or process, a limit (--memory-mb N, "
            "--open-files N, --cpu-seconds N), or a user (--run-as USER, --run-as-agent)");
    }
    const auto& command = topics::kConfigureComponent;
    const Answer answer = s.request(command, std::move(payload), agent_bound("configure"));
    return s.report(command.name, answer);
}

int cmd_plugin_inspect(Session& s) {
    const std::string& file = arg(s.options(), 2, "FILE.so");
    expect_args(s.options(), 3);
    require_regular_file(file);
    auto result = read_manifest(file, ElfMachine::any);  // an artifact for any device
    if (!result.ok()) throw LocalError(result.error);
    const auto& m = *result.manifest;
    const Status checked = check_manifest(file, m);
    const std::optional<std::string> problem =
        checked ? std::nullopt : std::optional<std::string>(checked.error().message);
    if (s.json()) {
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("dist_name", Value(m.dist_name, a), a);
        doc.AddMember("version", Value(m.version, a), a);
        doc.AddMember("component_id", Value(m.component_id, a), a);
        doc.AddMember("abi", Value(m.abi_string(), a), a);
        doc.AddMember("sha256", Value(install::sha256_file(file), a), a);
        doc.AddMember("problem", problem ? Value(*problem, a) : Value(), a);
        s.out() << contract::to_json(doc) << "\n";
    } else {
        s.out() << "dist_name:    " << m.dist_name << "\n"
                << "version:      " << m.version << "\n"
                << "component_id: " << m.component_id << "\n"
                << "abi:          " << m.abi_string() << "\n"
                << "sha256:       " << install::sha256_file(file) << "\n";
        if (problem) s.out() << "problem:      " << *problem << "\n";
    }
    // A file the agent would refuse is a local problem, like one that is not a plugin at all.
    return problem ? kUsage : kOk;
}

}  // namespace lucid::host::ctl
