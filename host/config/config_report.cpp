#include "config/config_report.hpp"

#include <fmt/format.h>

#include "contract/labels.hpp"
#include "install/curl_library.hpp"
#include "install/source_url.hpp"
#include "lucid/registry/run_as_allowed.hpp"

namespace lucid::host::config {

std::vector<ConfigValue> config_values(const AgentConfig& c) {
    std::vector<ConfigValue> out;
    // libcurl loaded once for every URL redacted below (install/curl_library.hpp).
    const auto curl = install::CurlLease::acquire();
    auto add = [&](const std::string& key, const std::string& value) {
        auto it = c.origins.find(key);
        out.push_back({key, value, it == c.origins.end() ? "default" : it->second});
    };
    // A prefix carries the userinfo of the sources it allows (a token, a password): redacted
    // like those sources wherever it is shown.
    auto join = [](const std::vector<std::string>& items) {
        std::string s;
        for (const auto& i : items) s += (s.empty() ? "" : ",") + install::redact_source_url(i);
        return s.empty() ? std::string("(any)") : s;
    };
    add("mqtt_url", mqtt::redacted_url(c.endpoint));
    add("tls_ca", c.tls.ca_file.empty() ? "(system)" : c.tls.ca_file);
    add("tls_cert", c.tls.cert_file.empty() ? "(none)" : c.tls.cert_file);
    add("tls_key", c.tls.key_file.empty() ? "(none)" : c.tls.key_file);
    add("keepalive_s", std::to_string(c.keepalive_s));
    add("reconnect_min_ms", std::to_string(c.reconnect_min.count()));
    add("reconnect_max_ms", std::to_string(c.reconnect_max.count()));
    add("agent_id", c.agent_id);
    add("topic_root", c.topic_root);
    add("fleet_root", c.fleet_root);
    add("data_dir", c.data_dir.string());
    add("plugin_dir", c.plugin_dir.string());
    add("dropin", c.dropin_enabled ? "on" : "off");
    add("default_isolation", c.default_isolation);
    add("run_as_allowed", registry::run_as_allowed_text(c.run_as_allowed));
    add("plugin_runner", c.plugin_runner.string());
    add("max_artifact_bytes", std::to_string(c.max_artifact_bytes));
    add("download_timeout_s", std::to_string(c.download_timeout_s));
    add("download_stall_s", std::to_string(c.download_stall_s));
    add("trusted_keys_dir", c.trusted_keys_dir.empty() ? "(none)" : c.trusted_keys_dir.string());
    add("signature_policy", to_string(c.signature_policy));
    add("accept_bare_signatures", c.accept_bare_signatures ? "yes" : "no");
    add("allowed_source_prefixes", join(c.allowed_source_prefixes));
    add("github_base_url", install::redact_source_url(c.github_base_url));
    const char* sup = c.supervision == Supervision::yes  ? "yes"
                      : c.supervision == Supervision::no ? "no"
                                                         : "auto";
    add("supervised", sup);
    add("labels", c.labels.empty() ? "(none)" : contract::labels_text(c.labels));
    add("plugin_stall_s",
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.plugin_stall).count()));
    add("upgrade_health_ms", std::to_string(c.upgrade_health.count()));
    add("upgrade_commit_s",
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.upgrade_commit).count()));
    add("start_deaths_before_quarantine", std::to_string(c.start_deaths_before_quarantine));
    add("isolated_crashes_before_quarantine", std::to_string(c.isolated_crashes_before_quarantine));
    add("legacy_registry",
        c.legacy_registry.empty() ? "/var/lib/lucid/components.json" : c.legacy_registry.string());
    add("plugin_queue_max", std::to_string(c.plugin_queue_max));
    add("plugin_queue_bytes", std::to_string(c.plugin_queue_bytes));
    return out;
}

std::string config_value(const AgentConfig& config, const std::string& key) {
    for (auto& v : config_values(config)) {
        if (v.key == key) return std::move(v.value);
    }
    return {};
}

std::string describe_config(const AgentConfig& c) {
    std::string out =
        "env file: " + (c.env_file.empty() ? std::string("(none)") : c.env_file) + "\n";
    for (const auto& v : config_values(c)) {
        out += fmt::format("{:<30} = {:<40} ({})\n", v.key, v.value, v.origin);
    }
    return out;
}

}  // namespace lucid::host::config
