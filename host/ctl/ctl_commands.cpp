#include "ctl/ctl_commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "contract/payloads.hpp"
#include "contract/topics.hpp"
#include "ctl/broker_client.hpp"
#include "ctl/text_table.hpp"
#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/install_request.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/registry_store.hpp"
#include "plugin/plugin_manifest.hpp"

namespace lucid::host::ctl {
namespace {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;
using Clock = std::chrono::steady_clock;

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::string new_request_id() {
    std::random_device rd;
    std::mt19937_64 rng(rd());
    char buf[40];
    std::snprintf(buf, sizeof buf, "ctl-%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

Document parse_object(const std::string& text) {
    Document doc;
    if (registry::json_too_deep(text)) return Document(rapidjson::kObjectType);
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
    return doc;
}

std::string str(const Value& object, const char* key, const char* fallback = "") {
    if (!object.IsObject()) return fallback;
    auto it = object.FindMember(key);
    if (it == object.MemberEnd()) return fallback;
    if (it->value.IsString()) return it->value.GetString();
    if (it->value.IsBool()) return it->value.GetBool() ? "true" : "false";
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    if (it->value.IsNumber()) {
        std::ostringstream s;
        s << std::fixed << std::setprecision(0) << it->value.GetDouble();
        return s.str();
    }
    if (it->value.IsNull()) return fallback;
    return contract::to_json(it->value);
}

class Session {
  public:
    Session(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
            std::ostream& err)
        : options_(options),
          target_(target),
          out_(out),
          err_(err),
          topics_(target.topic_root, target.agent_id) {}

    BrokerClient& client() {
        if (!client_) {
            client_ =
                std::make_unique<BrokerClient>(target_.endpoint, target_.tls, options_.timeout);
        }
        return *client_;
    }
    Clock::time_point deadline() const { return Clock::now() + options_.timeout; }
    const contract::AgentTopics& topics() const { return topics_; }
    std::ostream& out() { return out_; }
    std::ostream& err() { return err_; }
    bool json() const { return options_.json; }
    const CtlOptions& options() const { return options_; }
    const CtlTarget& target() const { return target_; }

    // The first retained message on one topic, or nullopt when the agent never published it.
    std::optional<std::string> retained_one(const std::string& topic) {
        auto found = client().retained(topic, deadline());
        if (found.empty()) return std::nullopt;
        return found.front().payload;
    }

    // Publishes a command and waits for its result. Returns the exit code; prints the result.
    int request(const topics::CommandTopics& command, Document payload,
                const std::function<void(const Value&)>& on_progress = {}) {
        const std::string request_id = new_request_id();
        payload.AddMember("request_id", Value(request_id, payload.GetAllocator()),
                          payload.GetAllocator());
        const std::string result_topic = topics_.at(command.result);
        const std::string progress_topic = topics_.at(topics::kInstallProgress);
        client().subscribe(result_topic);
        if (on_progress) client().subscribe(progress_topic);
        client().publish(topics_.at(command.command), contract::to_json(payload));
        // A progress event pushes the deadline: a large download may take longer than the
        // timeout as long as it keeps moving.
        auto until = deadline();
        while (true) {
            auto message = client().wait_for(
                [&](const ReceivedMessage& m) {
                    return m.topic == result_topic || m.topic == progress_topic;
                },
                until);
            if (!message) {
                throw BrokerUnreachable("no answer from agent '" + target_.agent_id + "' within " +
                                        std::to_string(options_.timeout.count()) + " ms");
            }
            Document doc = parse_object(message->payload);
            if (str(doc, "request_id") != request_id) continue;
            if (message->topic == progress_topic) {
                on_progress(doc);
                until = deadline();
                continue;
            }
            return print_result(command.name, doc, message->payload);
        }
    }

    int print_result(std::string_view name, const Document& doc, const std::string& raw) {
        const bool ok = doc.HasMember("ok") && doc["ok"].IsBool() && doc["ok"].GetBool();
        if (json()) {
            out_ << raw << "\n";
        } else if (ok) {
            out_ << name << ": ok";
            for (const char* key : {"component_id", "version", "noop", "rolled_back",
                                    "restart_required", "snapshots_updated"}) {
                if (doc.HasMember(key)) out_ << "  " << key << "=" << str(doc, key);
            }
            out_ << "\n";
        } else {
            err_ << name << " failed: " << str(doc, "error", "(no error given)") << "\n";
        }
        return ok ? kOk : kCommandFailed;
    }

  private:
    const CtlOptions& options_;
    const CtlTarget& target_;
    std::ostream& out_;
    std::ostream& err_;
    contract::AgentTopics topics_;
    std::unique_ptr<BrokerClient> client_;
};

const std::string& arg(const CtlOptions& o, std::size_t index, const char* what) {
    if (o.words.size() <= index) throw UsageError(std::string("missing ") + what);
    return o.words[index];
}

void expect_args(const CtlOptions& o, std::size_t count) {
    if (o.words.size() > count) throw UsageError("unexpected argument '" + o.words[count] + "'");
}

std::string format_uptime(const std::string& seconds_text) {
    if (seconds_text.empty()) return "-";
    long s = 0;
    try {
        s = std::stol(seconds_text);
    } catch (...) {
        return seconds_text;
    }
    std::ostringstream out;
    if (s >= 86400) out << s / 86400 << "d";
    if (s >= 3600) out << (s % 86400) / 3600 << "h";
    if (s >= 60) out << (s % 3600) / 60 << "m";
    out << s % 60 << "s";
    return out.str();
}

int cmd_agents(Session& s) {
    const auto statuses = s.client().retained(
        contract::all_agents_status_filter(s.target().topic_root), s.deadline());
    if (s.json()) {
        s.out() << "[";
        for (std::size_t i = 0; i < statuses.size(); ++i) {
            s.out() << (i ? "," : "") << statuses[i].payload;
        }
        s.out() << "]\n";
        return kOk;
    }
    TextTable table({"AGENT", "STATE", "VERSION", "SESSION", "UPTIME"});
    for (const auto& m : statuses) {
        const Document doc = parse_object(m.payload);
        table.add({str(doc, "agent_id"), str(doc, "state"), str(doc, "version"),
                   str(doc, "session"), format_uptime(str(doc, "uptime_s"))});
    }
    table.print(s.out());
    return kOk;
}

int cmd_status(Session& s) {
    auto status = s.retained_one(s.topics().status());
    if (!status) {
        s.err() << "no status of agent '" << s.target().agent_id << "' on the broker\n";
        return kUnreachable;
    }
    auto state = s.retained_one(s.topics().core_state());
    if (s.json()) {
        s.out() << "{\"status\":" << *status << ",\"state\":" << state.value_or("null") << "}\n";
        return kOk;
    }
    const Document st = parse_object(*status);
    const Document cs = parse_object(state.value_or("{}"));
    s.out() << "agent:      " << str(st, "agent_id") << "\n"
            << "status:     " << str(st, "state") << " (session " << str(st, "session") << ")\n"
            << "version:    " << str(st, "version") << "\n"
            << "uptime:     " << format_uptime(str(st, "uptime_s")) << "\n"
            << "state:      " << str(cs, "state", "-") << "\n"
            << "components: " << str(cs, "components_running", "0") << " running, "
            << str(cs, "components_failed", "0") << " failed\n";
    return kOk;
}

void print_components(Session& s, const Value& components) {
    TextTable table({"ID", "DIST", "VERSION", "STATE", "ENABLED", "ERROR"});
    if (components.IsObject()) {
        for (const auto& m : components.GetObject()) {
            table.add({m.name.GetString(), str(m.value, "dist_name", "-"), str(m.value, "version"),
                       str(m.value, "state", "-"), str(m.value, "enabled"),
                       str(m.value, "error", "")});
        }
    }
    table.print(s.out());
}

int cmd_plugin_list_offline(Session& s, const std::string& why) {
    const auto report = registry::RegistryStore(s.target().data_dir).load();
    s.err() << "broker unreachable (" << why << "); showing the local registry "
            << (s.target().data_dir / "registry.json").string() << "\n";
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
    if (s.json()) {
        doc.AddMember("source", "local_registry", a);
        doc.AddMember("count", static_cast<std::uint64_t>(report.registry.size()), a);
        doc.AddMember("components", components, a);
        s.out() << contract::to_json(doc) << "\n";
    } else {
        print_components(s, components);
    }
    return kOk;
}

int cmd_plugin_list(Session& s) {
    std::optional<std::string> snapshot;
    try {
        snapshot = s.retained_one(s.topics().core_components());
    } catch (const BrokerUnreachable& e) {
        return cmd_plugin_list_offline(s, e.what());
    }
    if (!snapshot) {
        s.err() << "agent '" << s.target().agent_id << "' has no core/components snapshot on "
                << "the broker\n";
        return kUnreachable;
    }
    if (s.json()) {
        s.out() << *snapshot << "\n";
        return kOk;
    }
    const Document doc = parse_object(*snapshot);
    print_components(s, doc.HasMember("components") ? doc["components"] : Value().Move());
    return kOk;
}

int cmd_plugin_info(Session& s) {
    const std::string& id = arg(s.options(), 2, "component id");
    expect_args(s.options(), 3);
    auto snapshot = s.retained_one(s.topics().core_components());
    const Document doc = parse_object(snapshot.value_or("{}"));
    if (!doc.HasMember("components") || !doc["components"].IsObject() ||
        !doc["components"].HasMember(id.c_str())) {
        s.err() << "component not found: " << id << "\n";
        return kCommandFailed;
    }
    const Value& entry = doc["components"][id.c_str()];
    if (s.json()) {
        s.out() << contract::to_json(entry) << "\n";
        return kOk;
    }
    for (const auto& m : entry.GetObject()) {
        s.out() << std::left << std::setw(14) << (std::string(m.name.GetString()) + ":")
                << str(entry, m.name.GetString(), "-") << "\n";
    }
    return kOk;
}

// A progress bar on stderr while the agent downloads; nothing when stderr is not a terminal.
std::function<void(const Value&)> progress_printer(Session& s) {
    if (s.json() || !::isatty(STDERR_FILENO)) return [](const Value&) {};
    return [&s](const Value& event) {
        const double bytes = std::atof(str(event, "bytes", "0").c_str());
        const double total = std::atof(str(event, "total", "0").c_str());
        const int width = 30;
        const int filled = total > 0 ? static_cast<int>(width * bytes / total) : 0;
        s.err() << "\r" << str(event, "phase") << " [" << std::string(filled, '#')
                << std::string(width - std::min(filled, width), ' ') << "] "
                << static_cast<long long>(bytes / 1024) << " KiB";
        if (total > 0) s.err() << " / " << static_cast<long long>(total / 1024) << " KiB";
        s.err() << std::flush;
    };
}

int cmd_plugin_install(Session& s) {
    const std::string& what = arg(s.options(), 2, "FILE or URL");
    expect_args(s.options(), 3);
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value source(rapidjson::kObjectType);
    std::optional<std::string> component_id = command_option(s.options(), "id");
    const bool is_url = what.find("://") != std::string::npos;
    std::filesystem::path local;
    if (!is_url) local = what;
    if (is_url && what.rfind("file://", 0) == 0) local = what.substr(7);

    if (!local.empty()) {
        auto manifest = read_manifest(local);
        if (!manifest.ok()) throw UsageError(manifest.error);
        if (!component_id) component_id = manifest.manifest->component_id;
    }
    if (!component_id) throw UsageError("--id is needed to install from a URL");

    if (!is_url) {
        const std::string bytes = registry::read_file(local);
        source.AddMember("type", "inline", a);
        source.AddMember("filename", Value(local.filename().string(), a), a);
        source.AddMember("data_base64", Value(install::base64_encode(bytes), a), a);
        source.AddMember("sha256", Value(install::sha256_hex(bytes), a), a);
    } else {
        std::string sha;
        if (auto given = command_option(s.options(), "sha256")) {
            sha = *given;
        } else if (!local.empty()) {
            sha = install::sha256_file(local);
        } else {
            throw UsageError("--sha256 is mandatory for a URL the agent downloads");
        }
        source.AddMember("type", "url", a);
        source.AddMember("url", Value(what, a), a);
        source.AddMember("sha256", Value(sha, a), a);
    }
    if (auto signature = command_option(s.options(), "signature")) {
        source.AddMember("signature", Value(*signature, a), a);
    }
    payload.AddMember("component_id", Value(*component_id, a), a);
    payload.AddMember("source", source, a);
    if (auto config = command_option(s.options(), "config")) {
        rapidjson::Document parsed;
        parsed.Parse(config->c_str());
        if (parsed.HasParseError() || !parsed.IsObject()) {
            throw UsageError("--config must be a JSON object, e.g. '{\"interval_s\":1}'");
        }
        payload.AddMember("config", Value(parsed, a), a);
    }
    auto progress = progress_printer(s);
    bool drew = false;
    const int code = s.request(topics::kInstall, std::move(payload), [&](const Value& event) {
        drew = true;
        progress(event);
    });
    if (drew && !s.json() && ::isatty(STDERR_FILENO)) s.err() << "\n";
    return code;
}

int cmd_plugin_action(Session& s, const std::string& action) {
    const std::string& id = arg(s.options(), 2, "component id");
    expect_args(s.options(), 3);
    const topics::CommandTopics* command = nullptr;
    for (const auto& c : topics::kComponentCommands) {
        if (c.command == "core/cmd/components/" + action) command = &c;
    }
    Document payload(rapidjson::kObjectType);
    payload.AddMember("component_id", Value(id, payload.GetAllocator()), payload.GetAllocator());
    if (auto dist = command_option(s.options(), "dist"); dist && action == "uninstall") {
        payload.AddMember("dist_name", Value(*dist, payload.GetAllocator()),
                          payload.GetAllocator());
    }
    return s.request(*command, std::move(payload));
}

int cmd_plugin_inspect(Session& s) {
    const std::string& file = arg(s.options(), 2, "FILE.so");
    expect_args(s.options(), 3);
    auto result = read_manifest(file);
    if (!result.ok()) {
        s.err() << result.error << "\n";
        return kCommandFailed;
    }
    const auto& m = *result.manifest;
    const auto problem = check_manifest(file, m);
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
    return problem ? kCommandFailed : kOk;
}

int cmd_config_get(Session& s) {
    auto cfg = s.retained_one(s.topics().core_cfg_state());
    if (!cfg) {
        s.err() << "agent '" << s.target().agent_id << "' has no core/cfg/state on the broker\n";
        return kUnreachable;
    }
    if (s.json()) {
        s.out() << *cfg << "\n";
        return kOk;
    }
    const Document doc = parse_object(*cfg);
    if (doc.HasMember("cfg") && doc["cfg"].IsObject()) {
        for (const auto& m : doc["cfg"].GetObject()) {
            s.out() << m.name.GetString() << "=" << str(doc["cfg"], m.name.GetString()) << "\n";
        }
    }
    return kOk;
}

// KEY=VALUE: true/false become booleans, integers numbers, anything else a string.
void add_setting(Value& set, const std::string& assignment, Document::AllocatorType& a) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw UsageError("expected KEY=VALUE, got '" + assignment + "'");
    }
    const std::string key = assignment.substr(0, eq);
    const std::string value = assignment.substr(eq + 1);
    Value v;
    char* end = nullptr;
    const long long number = std::strtoll(value.c_str(), &end, 10);
    if (value == "true" || value == "false") {
        v.SetBool(value == "true");
    } else if (!value.empty() && end && *end == '\0') {
        v.SetInt64(number);
    } else {
        v.SetString(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a);
    }
    set.AddMember(Value(key, a), v, a);
}

int cmd_config_set(Session& s) {
    if (s.options().words.size() < 3) throw UsageError("missing KEY=VALUE");
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value set(rapidjson::kObjectType);
    for (std::size_t i = 2; i < s.options().words.size(); ++i) {
        add_setting(set, s.options().words[i], a);
    }
    payload.AddMember("set", set, a);
    return s.request(topics::kCfgSet, std::move(payload));
}

int cmd_ping(Session& s) {
    int count = 1;
    if (auto c = command_option(s.options(), "count")) {
        count = std::atoi(c->c_str());
        if (count < 1 || count > 100000) throw UsageError("--count must be between 1 and 100000");
    }
    s.client();  // connect before timing
    for (int i = 0; i < count; ++i) {
        const auto start = Clock::now();
        const int code = s.request(topics::kPing, Document(rapidjson::kObjectType));
        if (code != kOk) return code;
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        if (!s.json())
            s.out() << "round trip " << std::fixed << std::setprecision(2) << us / 1000.0
                    << " ms\n";
    }
    return kOk;
}

int cmd_watch(Session& s) {
    const std::string filter = s.target().topic_root + "/" + s.target().agent_id + "/#";
    s.client().subscribe(filter);
    while (true) {
        auto message = s.client().wait_for([](const ReceivedMessage&) { return true; },
                                           Clock::now() + std::chrono::hours(24));
        if (!message) continue;
        if (s.json()) {
            Document doc(rapidjson::kObjectType);
            auto& a = doc.GetAllocator();
            doc.AddMember("topic", Value(message->topic, a), a);
            doc.AddMember("retain", message->retain, a);
            doc.AddMember("payload", Value(message->payload, a), a);
            s.out() << contract::to_json(doc) << std::endl;
        } else {
            s.out() << message->topic << (message->retain ? " (retained) " : " ")
                    << message->payload << std::endl;
        }
        // SIGPIPE is ignored: a closed stdout (`lucidctl watch | head`) shows up here.
        if (!s.out()) return kOk;
    }
}

int dispatch(Session& s) {
    const auto& w = s.options().words;
    if (w.empty()) throw UsageError("missing command");
    const std::string& c = w[0];
    if (c == "agents") return expect_args(s.options(), 1), cmd_agents(s);
    if (c == "status") return expect_args(s.options(), 1), cmd_status(s);
    if (c == "refresh") {
        expect_args(s.options(), 1);
        return s.request(topics::kRefresh, Document(rapidjson::kObjectType));
    }
    if (c == "ping") return expect_args(s.options(), 1), cmd_ping(s);
    if (c == "watch") return expect_args(s.options(), 1), cmd_watch(s);
    if (c == "config") {
        const std::string& sub = arg(s.options(), 1, "config subcommand (get, set)");
        if (sub == "get") return expect_args(s.options(), 2), cmd_config_get(s);
        if (sub == "set") return cmd_config_set(s);
        throw UsageError("unknown config subcommand '" + sub + "'");
    }
    if (c == "plugin") {
        const std::string& sub = arg(s.options(), 1, "plugin subcommand");
        if (sub == "list") return expect_args(s.options(), 2), cmd_plugin_list(s);
        if (sub == "info") return cmd_plugin_info(s);
        if (sub == "install") return cmd_plugin_install(s);
        if (sub == "inspect") return cmd_plugin_inspect(s);
        for (const char* action : {"uninstall", "start", "stop", "restart", "enable", "disable"}) {
            if (sub == action) return cmd_plugin_action(s, sub);
        }
        throw UsageError("unknown plugin subcommand '" + sub + "'");
    }
    throw UsageError("unknown command '" + c + "'");
}

}  // namespace

int run_ctl_command(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
                    std::ostream& err) {
    Session session(options, target, out, err);
    try {
        return dispatch(session);
    } catch (const UsageError& e) {
        err << "lucidctl: " << e.what() << "\n\n" << ctl_help(options.words);
        return kUsage;
    } catch (const BrokerUnreachable& e) {
        err << "lucidctl: " << e.what() << "\n";
        return kUnreachable;
    } catch (const std::exception& e) {
        err << "lucidctl: " << e.what() << "\n";
        return kCommandFailed;
    }
}

}  // namespace lucid::host::ctl
