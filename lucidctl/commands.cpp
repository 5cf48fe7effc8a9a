#include "lucidctl/commands.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string_view>

#include "contract/agent_metrics.hpp"
#include "contract/labels.hpp"
#include "contract/payloads.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucidctl/nearest_word.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;

const std::string& arg(const CtlOptions& o, std::size_t index, const char* what) {
    if (o.words.size() <= index) throw UsageError(std::string("missing ") + what);
    return o.words[index];
}

const std::string& component_id_arg(const CtlOptions& o, std::size_t index) {
    const std::string& id = arg(o, index, "component id");
    if (auto error = registry::identifier_error("component id", id)) {
        throw UsageError(error->substr(error->find(' ') + 1));  // without "validation_error: "
    }
    return id;
}

void expect_args(const CtlOptions& o, std::size_t count) {
    if (o.words.size() > count) throw UsageError("unexpected argument '" + o.words[count] + "'");
}

void print_json_error(Session& s, const std::string& error) { print_json_error(s.out(), error); }

namespace {

// ASCII letters compared in any case (TRUE, True and true are one switch).
bool iequals(const std::string& a, const char* b) {
    const std::string_view other(b);
    if (a.size() != other.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(other[i]))) {
            return false;
        }
    }
    return true;
}

int cmd_status(Session& s) {
    const auto& p = s.presence();
    const auto& status = s.status_payload();
    const auto& state = s.core_state_payload();
    if (!status) {
        throw BrokerUnreachable("no status of agent '" + s.target().agent_id + "' on the broker");
    }
    if (s.json()) {
        // The retained payloads as they are, and what lucidctl makes of them now.
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("online", p.online, a);
        doc.AddMember("last_seen", p.last_seen.empty() ? Value() : Value(p.last_seen, a), a);
        doc.AddMember("uptime_s", p.uptime_s ? Value(*p.uptime_s) : Value(), a);
        s.out() << "{\"status\":" << *status << ",\"state\":" << state.value_or("null")
                << ",\"presence\":" << contract::to_json(doc) << "}\n";
        return kOk;
    }
    const Document st = parse_object(*status);
    const Document cs = parse_object(state.value_or("{}"));
    s.out() << "agent:      " << str(st, "agent_id") << "\n";
    if (p.online) {
        s.out() << "status:     online (session " << str(st, "session") << ")\n"
                << "uptime:     " << (p.uptime_s ? format_duration(*p.uptime_s) : "-") << "\n";
    } else {
        s.out() << "status:     " << Session::offline_since(p) << " (session " << str(st, "session")
                << ")\n";
    }
    s.out() << "version:    " << str(st, "version") << "\n";
    // How the agent's last upgrade of itself ended (contract §8.15), when it had one.
    if (st.IsObject() && st.HasMember("last_upgrade") && st["last_upgrade"].IsObject()) {
        const auto& last = st["last_upgrade"];
        s.out() << "upgrade:    " << str(last, "version", "?") << " " << str(last, "outcome", "?");
        if (!str(last, "reason").empty()) s.out() << ": " << str(last, "reason");
        s.out() << " (" << str(last, "ts", "-") << ")\n";
    }
    if (!p.conflict.empty()) s.out() << "conflict:   " << p.conflict << "\n";
    // An offline agent's core/state is what it was when it left, not what it is.
    const std::string as_of = p.online ? "" : " (last known, as of " + str(cs, "ts", "-") + ")";
    s.out() << "state:      " << str(cs, "state", "-") << as_of << "\n"
            << "components: " << str(cs, "components_running", "0") << " running, "
            << str(cs, "components_failed", "0") << " failed" << as_of << "\n";
    // Why the agent says degraded (a read-only data directory, ...); failed components are in
    // plugin list.
    if (cs.IsObject() && cs.HasMember("degraded_reasons") && cs["degraded_reasons"].IsArray()) {
        for (const auto& reason : cs["degraded_reasons"].GetArray()) {
            if (reason.IsString())
                s.out() << "degraded:   " << printable(reason.GetString()) << "\n";
        }
    }
    return kOk;
}

// Every leaf of `value` as PATH=VALUE, one a line (telemetry.metrics.cpu_percent.enabled=false).
void print_paths(Session& s, const std::string& path, const Value& value) {
    if (!value.IsObject()) {
        s.out() << printable(path) << "=" << printable(contract::to_json(value)) << "\n";
        return;
    }
    for (const auto& m : value.GetObject()) {
        print_paths(s, path + "." + m.name.GetString(), m.value);
    }
}

// The paths `config set` takes (contract §4.10, §4.14), for a did-you-mean under the agent's
// `unknown config key: <key>` (a walk finding: telemetry.metrics.cpu_precent got none).
std::vector<std::string> known_setting_paths() {
    std::vector<std::string> paths = {"heartbeat_s",  "log_level",         "logs_level",
                                      "logs_enabled", "telemetry_enabled", "labels"};
    for (const auto& metric : contract::kAgentMetrics) {
        const std::string base = "telemetry.metrics." + std::string(metric.name);
        paths.push_back(base);
        for (const char* field : {"enabled", "interval_s", "change_threshold_percent"}) {
            paths.push_back(base + "." + field);
        }
    }
    return paths;
}

void say_nearest_setting(Session& s, const std::string& error) {
    const std::string unknown = "unknown config key: ";
    if (error.rfind(unknown, 0) != 0) return;
    if (auto near = nearest_word(error.substr(unknown.size()), known_setting_paths())) {
        s.err() << "did you mean '" << *near << "'?\n";
    }
}

int cmd_config_get(Session& s) {
    auto cfg = s.retained_one(s.topics().core_cfg_state());
    if (!cfg) {
        throw BrokerUnreachable("agent '" + s.target().agent_id +
                                "' has no core/cfg/state on the broker");
    }
    // What an offline agent last published, said as such (as status and plugin list do).
    const auto& p = s.presence();
    if (p.known && !p.online) {
        s.err() << "agent " << s.target().agent_id << " is " << Session::offline_since(p)
                << ": its last known settings\n";
    }
    if (s.json()) {
        s.out() << *cfg << "\n";
        return kOk;
    }
    const Document doc = parse_object(*cfg);
    if (doc.HasMember("cfg") && doc["cfg"].IsObject()) {
        for (const auto& m : doc["cfg"].GetObject()) {
            if (std::string(m.name.GetString()) == "telemetry" && m.value.IsObject()) {
                print_paths(s, "telemetry", m.value);  // the keys config set takes
                continue;
            }
            s.out() << printable(m.name.GetString()) << "="
                    << printable(str(doc["cfg"], m.name.GetString(), "null")) << "\n";
        }
    }
    return kOk;
}

}  // namespace

void add_setting(Value& set, const std::string& assignment, Document::AllocatorType& a,
                 SettingKeys keys) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw UsageError("expected KEY=VALUE, got '" + assignment + "'");
    }
    // KEY:=JSON: any JSON value, for the agent's settings as for a component's (a whole
    // telemetry.metrics.cpu_percent:={"enabled":true,"interval_s":5} object, labels:={...}).
    const bool json = eq > 1 && assignment[eq - 1] == ':';
    const std::string key = assignment.substr(0, json ? eq - 1 : eq);
    const std::string value = assignment.substr(eq + 1);
    // The agent refuses a payload with a key twice; which one was meant is not for lucidctl to
    // guess either.
    if (set.HasMember(key.c_str())) throw UsageError(key + " given twice");
    Document parsed(&a);  // KEY:=JSON: its values live in `a`, so they can move into `set`
    if (json) {
        const bool too_deep = registry::json_too_deep(value);
        if (!too_deep) parsed.Parse(value.c_str(), value.size());
        if (too_deep || parsed.HasParseError()) {
            throw UsageError(key + ":= takes a JSON value (" + key + ":=5, " + key + ":=[1,2], " +
                             key + ":={\"max\":5}), got '" + value + "'");
        }
    }
    if (!json && key == "labels" && keys == SettingKeys::core) {
        auto labels = contract::parse_labels_text(value);
        if (!labels) throw UsageError(labels.error().message);
        set.AddMember(Value(key, a), contract::labels_to_json(labels.value(), a), a);
        return;
    }
    Value v;
    char* end = nullptr;
    const long long number = std::strtoll(value.c_str(), &end, 10);
    char* real_end = nullptr;
    const double real = std::strtod(value.c_str(), &real_end);
    if (json) {
        v = static_cast<Value&>(parsed);  // moves
    } else if (value == "true" || value == "false") {
        v.SetBool(value == "true");
    } else if (keys == SettingKeys::core && (iequals(value, "true") || iequals(value, "false"))) {
        // The agent's settings have no string that could be TRUE: a switch in any case.
        v.SetBool(iequals(value, "true"));
    } else if (value == "null") {
        v.SetNull();
    } else if (!value.empty() && end && *end == '\0') {
        v.SetInt64(number);
    } else if (!value.empty() && real_end && *real_end == '\0' &&
               value.find('.') != std::string::npos) {
        v.SetDouble(real);
    } else {
        v.SetString(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a);
    }
    // A dotted KEY is a path into nested objects, as the agent merges them:
    // telemetry.metrics.cpu_percent.interval_s=5 is {"telemetry":{"metrics":{...}}}.
    Value* at = &set;
    std::size_t start = 0;
    for (std::size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
        const std::string part = key.substr(start, dot - start);
        if (part.empty()) throw UsageError("'" + key + "' has an empty part");
        auto it = at->FindMember(part.c_str());
        if (it == at->MemberEnd()) {
            at->AddMember(Value(part, a), Value(rapidjson::kObjectType), a);
            it = at->FindMember(part.c_str());
        } else if (!it->value.IsObject()) {
            throw UsageError(key + " given twice");
        }
        at = &it->value;
        start = dot + 1;
    }
    const std::string leaf = key.substr(start);
    if (leaf.empty()) throw UsageError("'" + key + "' has an empty part");
    if (at->HasMember(leaf.c_str())) throw UsageError(key + " given twice");
    at->AddMember(Value(leaf, a), v, a);
}

namespace {

int cmd_config_set(Session& s) {
    if (s.options().words.size() < 3) throw UsageError("missing KEY=VALUE");
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value set(rapidjson::kObjectType);
    for (std::size_t i = 2; i < s.options().words.size(); ++i) {
        add_setting(set, s.options().words[i], a, SettingKeys::core);
    }
    payload.AddMember("set", set, a);
    const Answer answer = s.request(topics::kCfgSet, std::move(payload));
    const int code = s.report(topics::kCfgSet.name, answer);
    if (!answer.ok && !s.json()) say_nearest_setting(s, str(answer.doc, "error"));
    return code;
}

int cmd_ping(Session& s) {
    int count = 1;
    if (auto c = command_option(s.options(), "count")) {
        count = std::atoi(c->c_str());
        if (count < 1 || count > 100000) throw UsageError("--count must be between 1 and 100000");
    }
    s.require_not_offline();  // connects and reads the status before timing
    for (int i = 0; i < count; ++i) {
        const auto start = SteadyClock::now();
        Answer answer = s.request(topics::kPing, Document(rapidjson::kObjectType));
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start)
                .count();
        const double rtt_ms = static_cast<double>(us) / 1000.0;
        if (s.json()) {
            // The agent's result plus the round trip lucidctl measured.
            Document& doc = answer.doc;
            doc.AddMember("rtt_ms", Value(static_cast<double>(us / 10) / 100.0),
                          doc.GetAllocator());
            answer.raw = contract::to_json(doc);
        }
        const int code = s.report(topics::kPing.name, answer);
        if (code != kOk) return code;
        if (!s.json()) {
            s.out() << "round trip " << std::fixed << std::setprecision(2) << rtt_ms << " ms\n";
        }
    }
    return kOk;
}

int dispatch(Session& s) {
    const auto& w = s.options().words;
    if (w.empty()) throw UsageError("missing command");
    const std::string& c = w[0];
    if (c == "agents") return cmd_agents(s);
    if (c == "fleet") return cmd_fleet(s);
    if (c == "status") return expect_args(s.options(), 1), cmd_status(s);
    if (c == "refresh") {
        expect_args(s.options(), 1);
        return s.report(topics::kRefresh.name,
                        s.request(topics::kRefresh, Document(rapidjson::kObjectType)));
    }
    if (c == "ping") return expect_args(s.options(), 1), cmd_ping(s);
    if (c == "watch") return expect_args(s.options(), 1), cmd_watch(s);
    if (c == "top") return cmd_top(s);
    if (c == "logs") return cmd_logs(s);
    if (c == "desired") return cmd_desired(s);
    if (c == "artifact") return cmd_artifact(s);
    if (c == "rollout") return cmd_rollout(s);
    if (c == "key") return cmd_key(s);
    if (c == "sign") return cmd_sign(s);
    if (c == "verify") return cmd_verify(s);
    if (c == "permit") return cmd_permit(s);
    if (c == "revoke") return cmd_revoke(s);
    if (c == "config") {
        const std::string& sub = arg(s.options(), 1, "config subcommand (get, set)");
        if (sub == "get") return expect_args(s.options(), 2), cmd_config_get(s);
        if (sub == "set") return cmd_config_set(s);
        throw UsageError(unknown_word_error("config subcommand", sub, known_words({"config"})));
    }
    if (c == "upgrade") return cmd_upgrade(s);
    if (c == "plugin") {
        const std::string& sub = arg(s.options(), 1, "plugin subcommand");
        if (sub == "list") return expect_args(s.options(), 2), cmd_plugin_list(s);
        if (sub == "info") return cmd_plugin_info(s);
        if (sub == "install") return cmd_plugin_install(s);
        if (sub == "inspect") return cmd_plugin_inspect(s);
        if (sub == "isolate") return cmd_plugin_isolate(s);
        if (sub == "config") return cmd_plugin_config(s);
        if (sub == "call") return cmd_plugin_call(s);
        if (sub == "log-level") return cmd_plugin_log_level(s);
        for (const char* action : {"uninstall", "start", "stop", "restart", "enable", "disable"}) {
            if (sub == action) return cmd_plugin_action(s, sub);
        }
        throw UsageError(unknown_word_error("plugin subcommand", sub, known_words({"plugin"})));
    }
    throw UsageError(unknown_word_error("command", c, known_words({})));
}

}  // namespace

int run_ctl_command(const CtlOptions& options, const CtlTarget& target, std::ostream& out,
                    std::ostream& err) {
    Session session(options, target, out, err);
    // Failures lucidctl finds itself: one line on stderr; with --json also a JSON error object
    // on stdout, usage errors included (a script parsing stdout gets JSON whatever happened).
    auto fail = [&](const std::exception& e, int code) {
        err << "lucidctl: " << printable(e.what()) << "\n";
        if (options.json) print_json_error(session, e.what());
        return code;
    };
    try {
        return dispatch(session);
    } catch (const UsageError& e) {
        print_usage_error(err, e.what(), options.words);
        if (options.json) print_json_error(out, e.what());
        return kUsage;
    } catch (const LocalError& e) {
        return fail(e, kUsage);
    } catch (const BrokerSetupError& e) {
        return fail(e, kUsage);
    } catch (const BrokerUnreachable& e) {
        return fail(e, kUnreachable);
    } catch (const std::exception& e) {
        return fail(e, kCommandFailed);
    }
}

}  // namespace lucid::host::ctl
