#include "config/config_report.hpp"

#include <fmt/format.h>

namespace lucid::host::config {

std::string describe_config(const AgentConfig& c) {
    std::string out;
    auto line = [&](const std::string& key, const std::string& value) {
        auto it = c.origins.find(key);
        const std::string origin = it == c.origins.end() ? "default" : it->second;
        out += fmt::format("{:<24} = {:<40} ({})\n", key, value, origin);
    };
    auto join = [](const std::vector<std::string>& items) {
        std::string s;
        for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
        return s.empty() ? std::string("(any)") : s;
    };
    out += "env file: " + (c.env_file.empty() ? std::string("(none)") : c.env_file) + "\n";
    line("mqtt_url", mqtt::redacted_url(c.endpoint));
    line("tls_ca", c.tls.ca_file.empty() ? "(system)" : c.tls.ca_file);
    line("tls_cert", c.tls.cert_file.empty() ? "(none)" : c.tls.cert_file);
    line("tls_key", c.tls.key_file.empty() ? "(none)" : c.tls.key_file);
    line("keepalive_s", std::to_string(c.keepalive_s));
    line("reconnect_min_ms", std::to_string(c.reconnect_min.count()));
    line("reconnect_max_ms", std::to_string(c.reconnect_max.count()));
    line("agent_id", c.agent_id);
    line("topic_root", c.topic_root);
    line("data_dir", c.data_dir.string());
    line("plugin_dir", c.plugin_dir.string());
    line("max_artifact_bytes", std::to_string(c.max_artifact_bytes));
    line("download_timeout_s", std::to_string(c.download_timeout_s));
    line("download_stall_s", std::to_string(c.download_stall_s));
    line("trusted_keys_dir", c.trusted_keys_dir.empty() ? "(none)" : c.trusted_keys_dir.string());
    line("signature_policy", to_string(c.signature_policy));
    line("allowed_source_prefixes", join(c.allowed_source_prefixes));
    line("github_base_url", c.github_base_url);
    const char* sup = c.supervision == commands::Supervision::yes  ? "yes"
                      : c.supervision == commands::Supervision::no ? "no"
                                                                   : "auto";
    line("supervised", sup);
    line("plugin_stall_s",
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.plugin_stall).count()));
    line("upgrade_health_ms", std::to_string(c.upgrade_health.count()));
    line("start_deaths_before_quarantine", std::to_string(c.start_deaths_before_quarantine));
    line("plugin_queue_max", std::to_string(c.plugin_queue_max));
    line("plugin_queue_bytes", std::to_string(c.plugin_queue_bytes));
    return out;
}

}  // namespace lucid::host::config
