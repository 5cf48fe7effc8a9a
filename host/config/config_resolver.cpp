#include "config/config_resolver.hpp"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <limits>

#include "common/own_executable.hpp"
#include "config/settings.hpp"
#include "contract/labels.hpp"
#include "contract/topics.hpp"
#include "install/curl_library.hpp"
#include "install/source_url.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/run_as_allowed.hpp"

namespace lucid::host::config {
namespace {

struct Value {
    std::string text;
    std::string origin;  // "flag --x" | "environment LUCID_X" | "env file <path>: LUCID_X"
};

// Looks a setting up by precedence: flag, environment, env file.
class Sources {
  public:
    Sources(const CommandLine& cli, const EnvLookup& env,
            const std::map<std::string, std::string>& file, std::string file_path)
        : cli_(cli), env_(env), file_(file), file_path_(std::move(file_path)) {}

    std::optional<Value> get(std::string_view flag, std::string_view env_name) const {
        if (!flag.empty()) {
            auto it = cli_.flags.find(std::string(flag));
            if (it != cli_.flags.end()) {
                auto name = cli_.flag_names.find(it->first);
                return Value{it->second,
                             "flag " + (name == cli_.flag_names.end() ? it->first : name->second)};
            }
        }
        if (auto v = env_(std::string(env_name)))
            return Value{*v, "environment " + std::string(env_name)};
        auto it = file_.find(std::string(env_name));
        // The file named: an operator with several env files must find the line to fix.
        if (it != file_.end()) {
            return Value{it->second, "env file " + file_path_ + ": " + std::string(env_name)};
        }
        return std::nullopt;
    }

  private:
    const CommandLine& cli_;
    const EnvLookup& env_;
    const std::map<std::string, std::string>& file_;
    const std::string file_path_;
};

const Setting& setting(std::string_view key) {
    for (const auto& s : kSettings) {
        if (s.key == key) return s;
    }
    throw std::logic_error("unknown setting");
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::int64_t value = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

std::string bad(const Value& v, std::string_view key, std::string_view expectation) {
    return std::string(key) + " (" + v.origin + ") must be " + std::string(expectation) +
           ", got '" + v.text + "'";
}

// Resolution of one config; each step stops at the first error.
class Resolver {
  public:
    Resolver(const Sources& sources, const HostFacts& facts, const EnvLookup& env)
        : sources_(sources), facts_(facts), env_(env) {}

    ResolveResult run(const std::string& env_file_path) {
        config_.env_file = env_file_path;
        if (broker() && identity() && directories() && timings() && install_policy() && misc()) {
            return ResolveResult{std::move(config_), {}, {}};
        }
        return ResolveResult{std::nullopt, error_, {}};
    }

  private:
    std::optional<Value> get(std::string_view key) {
        const auto& s = setting(key);
        auto v = sources_.get(s.flag, s.env);
        config_.origins[std::string(key)] = v ? v->origin : "default";
        return v;
    }

    bool fail(std::string message) {
        error_ = std::move(message);
        return false;
    }

    bool int_setting(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out) {
        auto v = get(key);
        if (!v) return true;
        auto parsed = parse_int(v->text);
        if (!parsed || *parsed < min || *parsed > max) {
            return fail(bad(
                *v, key, "an integer from " + std::to_string(min) + " to " + std::to_string(max)));
        }
        out = *parsed;
        return true;
    }

    bool broker() {
        if (auto url = get("mqtt_url")) {
            auto parsed = mqtt::parse_mqtt_url(url->text);
            if (!parsed.endpoint) {
                // parse errors never contain the password, but the raw value may: not echoed.
                return fail("mqtt_url (" + url->origin + ") is invalid: " + parsed.error);
            }
            config_.endpoint = *parsed.endpoint;
        } else {
            auto host = sources_.get("", kLegacyHost);
            auto port = sources_.get("", kLegacyPort);
            auto user = sources_.get("", kLegacyUser);
            auto password = sources_.get("", kLegacyPassword);
            if (host || port || user || password) config_.origins["mqtt_url"] = "legacy MQTT_*";
            if (host) {
                if (host->text.empty()) return fail("MQTT_HOST (" + host->origin + ") is empty");
                config_.endpoint.host = host->text;
            }
            if (port) {
                auto p = parse_int(port->text);
                if (!p || *p < 1 || *p > 65535) {
                    return fail(bad(*port, "MQTT_PORT", "a port from 1 to 65535"));
                }
                config_.endpoint.port = static_cast<int>(*p);
            }
            if (user) config_.endpoint.username = user->text;
            if (password) config_.endpoint.password = password->text;
            if (!config_.endpoint.password.empty() && config_.endpoint.username.empty()) {
                return fail("AGENT_PASSWORD is set but AGENT_USERNAME is not");
            }
        }
        auto ca = get("tls_ca");
        auto cert = get("tls_cert");
        auto key = get("tls_key");
        if (ca) config_.tls.ca_file = ca->text;
        if (cert) config_.tls.cert_file = cert->text;
        if (key) config_.tls.key_file = key->text;
        if (config_.tls.cert_file.empty() != config_.tls.key_file.empty()) {
            return fail("tls_cert and tls_key must be given together");
        }
        // A TLS file for a plain-text broker URL would do nothing: the operator meant TLS, and
        // the password would go out in clear.
        if (!config_.endpoint.tls) {
            for (const auto& [name, value] :
                 {std::pair{"tls_ca", &ca}, std::pair{"tls_cert", &cert},
                  std::pair{"tls_key", &key}}) {
                if (*value && !(*value)->text.empty()) {
                    return fail(std::string(name) + " (" + (*value)->origin +
                                ") is set but the broker URL is not mqtts://, so TLS would not be "
                                "used: use an mqtts:// URL, or remove " +
                                name);
                }
            }
        }
        return true;
    }

    bool identity() {
        if (auto id = get("agent_id")) {
            if (auto err = registry::identifier_error("agent_id", id->text)) {
                return fail(*err + " (" + id->origin + ")");
            }
            config_.agent_id = id->text;
        } else {
            config_.agent_id = agent_id_from_hostname(facts_.hostname);
            if (config_.agent_id.empty()) {
                return fail("cannot derive agent_id from host name '" + facts_.hostname +
                            "'; set LUCID_AGENT_ID");
            }
        }
        if (auto root = get("topic_root")) {
            const auto& t = root->text;
            if (!contract::valid_topic_root(t)) {
                return fail(
                    bad(*root, "topic_root", "a topic without wildcards or leading/trailing '/'"));
            }
            config_.topic_root = t;
        }
        if (auto root = get("fleet_root")) {
            if (!contract::valid_topic_root(root->text)) {
                return fail(
                    bad(*root, "fleet_root", "a topic without wildcards or leading/trailing '/'"));
            }
            config_.fleet_root = root->text;
        }
        return true;
    }

    bool directories() {
        if (auto data = get("data_dir")) {
            if (data->text.empty() || data->text.front() != '/') {
                return fail(bad(*data, "data_dir", "an absolute path"));
            }
            config_.data_dir = data->text;
        } else if (facts_.is_root) {
            config_.data_dir = "/var/lib/lucid";
        } else if (auto xdg = env_("XDG_STATE_HOME"); xdg && !xdg->empty() && xdg->front() == '/') {
            config_.data_dir = std::filesystem::path(*xdg) / "lucid";
        } else if (auto home = env_("HOME"); home && !home->empty()) {
            config_.data_dir = std::filesystem::path(*home) / ".local/state/lucid";
        } else {
            return fail("cannot choose a data directory (no HOME); set LUCID_DATA_DIR");
        }
        if (auto plugins = get("plugin_dir")) {
            if (plugins->text.empty() || plugins->text.front() != '/') {
                return fail(bad(*plugins, "plugin_dir", "an absolute path"));
            }
            config_.plugin_dir = plugins->text;
        } else {
            config_.plugin_dir = config_.data_dir / "plugins.d";
        }
        if (auto dropin = get("dropin")) {
            if (dropin->text == "on") {
                config_.dropin_enabled = true;
            } else if (dropin->text == "off") {
                config_.dropin_enabled = false;
            } else {
                return fail(bad(*dropin, "dropin", "on or off"));
            }
        }
        if (auto isolation = get("default_isolation")) {
            if (isolation->text != "in_process" && isolation->text != "process") {
                return fail(bad(*isolation, "default_isolation", "in_process or process"));
            }
            config_.default_isolation = isolation->text;
        }
        // Malformed is an error, never "allow nothing": the operator meant to allow someone.
        if (auto allowed = get("run_as_allowed")) {
            if (auto why = registry::parse_run_as_allowed(allowed->text, config_.run_as_allowed)) {
                return fail(
                    "run_as_allowed (" + allowed->origin +
                    ") must be USER or USER:GROUP:... entries separated by commas: " + *why);
            }
        }
        // Set: checked now, so that a typo is not found at the first isolated start. The default
        // is not: an agent that isolates nothing needs no runner.
        if (auto runner = get("plugin_runner")) {
            std::error_code ec;
            if (runner->text.empty() || runner->text.front() != '/' ||
                !std::filesystem::is_regular_file(runner->text, ec) ||
                ::access(runner->text.c_str(), X_OK) != 0) {
                return fail(
                    bad(*runner, "plugin_runner", "an absolute path to an executable file"));
            }
            config_.plugin_runner = runner->text;
        } else {
            config_.plugin_runner = beside_own_executable("lucid-plugin-runner");
        }
        if (auto legacy = get("legacy_registry")) {
            if (legacy->text.empty() || legacy->text.front() != '/') {
                return fail(bad(*legacy, "legacy_registry", "an absolute path"));
            }
            config_.legacy_registry = legacy->text;
        }
        return true;
    }

    bool timings() {
        std::int64_t keepalive = config_.keepalive_s;
        std::int64_t min_ms = config_.reconnect_min.count();
        std::int64_t max_ms = config_.reconnect_max.count();
        std::int64_t stall_s =
            std::chrono::duration_cast<std::chrono::seconds>(config_.plugin_stall).count();
        std::int64_t health_ms = config_.upgrade_health.count();
        std::int64_t start_deaths = config_.start_deaths_before_quarantine;
        std::int64_t isolated_crashes = config_.isolated_crashes_before_quarantine;
        if (!int_setting("keepalive_s", 5, 3600, keepalive) ||
            !int_setting("reconnect_min_ms", 1, 3'600'000, min_ms) ||
            !int_setting("reconnect_max_ms", 1, 3'600'000, max_ms) ||
            !int_setting("plugin_stall_s", 1, 3600, stall_s) ||
            !int_setting("upgrade_health_ms", 0, 60'000, health_ms) ||
            !int_setting("start_deaths_before_quarantine", 1, 100, start_deaths) ||
            !int_setting("isolated_crashes_before_quarantine", 1, 100, isolated_crashes)) {
            return false;
        }
        config_.plugin_stall = std::chrono::seconds(stall_s);
        config_.upgrade_health = std::chrono::milliseconds(health_ms);
        std::int64_t commit_s =
            std::chrono::duration_cast<std::chrono::seconds>(config_.upgrade_commit).count();
        if (!int_setting("upgrade_commit_s", 1, 3600, commit_s)) return false;
        config_.upgrade_commit = std::chrono::seconds(commit_s);
        config_.start_deaths_before_quarantine = static_cast<int>(start_deaths);
        config_.isolated_crashes_before_quarantine = static_cast<int>(isolated_crashes);
        std::int64_t queue_max = static_cast<std::int64_t>(config_.plugin_queue_max);
        if (!int_setting("plugin_queue_max", 1, 1'000'000, queue_max)) return false;
        config_.plugin_queue_max = static_cast<std::uint64_t>(queue_max);
        if (auto bytes = get("plugin_queue_bytes")) {
            auto parsed = parse_byte_size(bytes->text);
            if (!parsed || *parsed < 1024 || *parsed > (1ull << 30)) {
                return fail(bad(*bytes, "plugin_queue_bytes", "a size from 1K to 1G, like 16M"));
            }
            config_.plugin_queue_bytes = *parsed;
        }
        if (min_ms > max_ms) {
            return fail("reconnect_min_ms (" + std::to_string(min_ms) +
                        ") must not exceed reconnect_max_ms (" + std::to_string(max_ms) + ")");
        }
        config_.keepalive_s = static_cast<int>(keepalive);
        config_.reconnect_min = std::chrono::milliseconds(min_ms);
        config_.reconnect_max = std::chrono::milliseconds(max_ms);
        return true;
    }

    bool install_policy() {
        if (auto cap = get("max_artifact_bytes")) {
            auto parsed = parse_byte_size(cap->text);
            if (!parsed || *parsed == 0) {
                return fail(bad(*cap, "max_artifact_bytes", "a positive size like 1048576 or 64M"));
            }
            config_.max_artifact_bytes = *parsed;
        }
        std::int64_t timeout_s = config_.download_timeout_s;
        std::int64_t stall_s = config_.download_stall_s;
        if (!int_setting("download_timeout_s", 1, 86'400, timeout_s) ||
            !int_setting("download_stall_s", 1, 3600, stall_s)) {
            return false;
        }
        config_.download_timeout_s = static_cast<int>(timeout_s);
        config_.download_stall_s = static_cast<int>(stall_s);
        if (auto keys = get("trusted_keys_dir")) config_.trusted_keys_dir = keys->text;
        if (auto policy = get("signature_policy")) {
            if (policy->text == "optional") {
                config_.signature_policy = SignaturePolicy::optional;
            } else if (policy->text == "required") {
                config_.signature_policy = SignaturePolicy::required;
            } else {
                return fail(bad(*policy, "signature_policy", "optional or required"));
            }
        }
        if (auto bare = get("accept_bare_signatures")) {
            if (bare->text == "yes") {
                config_.accept_bare_signatures = true;
            } else if (bare->text == "no") {
                config_.accept_bare_signatures = false;
            } else {
                return fail(bad(*bare, "accept_bare_signatures", "yes or no"));
            }
        }
        if (config_.signature_policy == SignaturePolicy::required &&
            config_.trusted_keys_dir.empty()) {
            return fail("signature_policy required needs trusted_keys_dir");
        }
        if (auto prefixes = get("allowed_source_prefixes")) {
            // libcurl loaded once for every entry, not once each (install/curl_library.hpp).
            const auto curl = install::CurlLease::acquire();
            std::string_view rest = prefixes->text;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                auto item = rest.substr(0, comma);
                while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
                while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
                if (!item.empty()) {
                    // Shown by its position only: a malformed URL may hold a password.
                    if (Status usable = install::source_prefix_problem(item); !usable) {
                        return fail("allowed_source_prefixes (" + prefixes->origin + ") entry " +
                                    std::to_string(config_.allowed_source_prefixes.size() + 1) +
                                    " " + usable.error().message);
                    }
                    config_.allowed_source_prefixes.emplace_back(item);
                }
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
        }
        if (auto base = get("github_base_url")) {
            if (base->text.rfind("https://", 0) != 0 && base->text.rfind("http://", 0) != 0) {
                return fail(bad(*base, "github_base_url", "an http(s):// URL"));
            }
            config_.github_base_url = base->text;
            while (config_.github_base_url.size() > 8 && config_.github_base_url.back() == '/') {
                config_.github_base_url.pop_back();
            }
        }
        return true;
    }

    bool misc() {
        if (auto sup = get("supervised")) {
            if (sup->text == "auto") {
                config_.supervision = Supervision::automatic;
            } else if (sup->text == "yes" || sup->text == "1" || sup->text == "true") {
                config_.supervision = Supervision::yes;
            } else if (sup->text == "no" || sup->text == "0" || sup->text == "false") {
                config_.supervision = Supervision::no;
            } else {
                return fail(bad(*sup, "supervised", "auto, yes or no"));
            }
        }
        if (auto labels = get("labels")) {
            auto parsed = contract::parse_labels_text(labels->text);
            if (!parsed) {
                return fail("labels (" + labels->origin + ") " + parsed.error().message);
            }
            config_.labels = std::move(parsed.value());
        }
        return true;
    }

    const Sources& sources_;
    const HostFacts& facts_;
    const EnvLookup& env_;
    AgentConfig config_;
    std::string error_;
};

}  // namespace

EnvFileChoice choose_env_file(const CommandLine& cli, const EnvLookup& env) {
    auto it = cli.flags.find(std::string(kEnvFileFlag));
    if (it != cli.flags.end()) return EnvFileChoice{it->second, true};
    if (auto v = env(std::string(kEnvFileVariable)); v && !v->empty()) {
        return EnvFileChoice{*v, true};
    }
    return EnvFileChoice{std::string(kDefaultEnvFile), false};
}

ResolveResult resolve_config(const CommandLine& cli, const EnvLookup& env,
                             const std::map<std::string, std::string>& env_file,
                             const std::string& env_file_path, const HostFacts& facts) {
    const Sources sources(cli, env, env_file, env_file_path);
    return Resolver(sources, facts, env).run(env_file_path);
}

std::string agent_id_from_hostname(std::string_view hostname) {
    std::string id;
    for (char c : hostname) {
        const auto u = static_cast<unsigned char>(c);
        const char lower = static_cast<char>(std::tolower(u));
        const bool allowed = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ||
                             lower == '-' || lower == '_';
        id.push_back(allowed ? lower : '_');
    }
    if (id.size() > 64) id.resize(64);
    return registry::is_valid_identifier(id) ? id : std::string();
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::uint64_t multiplier = 1;
    if (!text.empty()) {
        switch (std::toupper(static_cast<unsigned char>(text.back()))) {
            case 'K':
                multiplier = 1024;
                break;
            case 'M':
                multiplier = 1024 * 1024;
                break;
            case 'G':
                multiplier = 1024ull * 1024 * 1024;
                break;
            default:
                break;
        }
        if (multiplier != 1) text.remove_suffix(1);
    }
    auto number = parse_int(text);
    if (!number) return std::nullopt;
    const auto value = static_cast<std::uint64_t>(*number);
    if (value > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
    return value * multiplier;
}

const char* to_string(SignaturePolicy policy) {
    return policy == SignaturePolicy::required ? "required" : "optional";
}

}  // namespace lucid::host::config
