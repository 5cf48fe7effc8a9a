#include "service/config_reload.hpp"

#include <set>

#include "agent/component_host.hpp"
#include "agent/core_config.hpp"
#include "common/logging.hpp"
#include "config/config_report.hpp"
#include "config/load_config.hpp"
#include "contract/labels.hpp"

namespace lucid::host::service {
namespace {

// Applied by reload(); every other setting needs a restart.
const std::set<std::string> kReloadable = {"trusted_keys_dir", "signature_policy",
                                           "accept_bare_signatures", "allowed_source_prefixes"};

std::string key_list(const install::TrustedKeySet& set) {
    if (!set.configured()) return "none";
    std::string out = std::to_string(set.keys.size()) + " from " + set.dir.string() + " (";
    for (std::size_t i = 0; i < set.keys.size(); ++i) {
        out += (i ? ", " : "") + set.keys[i].file + " " + set.keys[i].key_id;
    }
    return out + ")";
}

}  // namespace

std::vector<std::string> restart_needed_changes(const config::AgentConfig& running,
                                                const config::AgentConfig& fresh,
                                                bool labels_stored) {
    std::vector<std::string> changes;
    const auto before = config::config_values(running);
    const auto after = config::config_values(fresh);
    for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
        if (kReloadable.count(before[i].key)) continue;
        // Labels a cfg/set stored win over LUCID_LABELS (contract §3.9): a change of it changes
        // nothing, not even at the next restart.
        if (labels_stored && before[i].key == "labels") continue;
        if (before[i].value != after[i].value) {
            changes.push_back(before[i].key + " changed from '" + before[i].value + "' to '" +
                              after[i].value + "' (" + after[i].origin + ")");
        } else if (before[i].key == "mqtt_url" &&
                   running.endpoint.password != fresh.endpoint.password) {
            changes.push_back("mqtt_url changed (its password) (" + after[i].origin + ")");
        }
    }
    return changes;
}

ConfigReloader::ConfigReloader(config::CommandLine cli, config::AgentConfig running,
                               std::shared_ptr<const install::TrustedKeySet> keys,
                               install::LiveInstallPolicy& policy)
    : cli_(std::move(cli)), running_(std::move(running)), keys_(std::move(keys)), policy_(policy) {
    if (!keys_) keys_ = std::make_shared<install::TrustedKeySet>();
}

void ConfigReloader::reload() {
    auto log = logger("config");
    log->info("SIGHUP: reloading the configuration");
    auto fresh = config::load_config(cli_);
    for (const auto& w : fresh.warnings) log->warn("reload: {}", w);
    if (!fresh.config) {
        log->error("reload: {}; keeping the running configuration", fresh.error);
        return;
    }
    config::AgentConfig& next = *fresh.config;

    auto keys =
        std::make_shared<install::TrustedKeySet>(install::load_trusted_keys(next.trusted_keys_dir));
    if (keys->configured() && !keys->usable()) {
        log->error("reload: {}; keeping the previous trusted keys: {}",
                   install::no_usable_key_error(*keys), key_list(*keys_));
        next.trusted_keys_dir = running_.trusted_keys_dir;
    } else {
        if (keys_->configured() && !keys->configured()) {
            // Documented (no key directory: no signature checked), but never quietly.
            log->warn(
                "reload: LUCID_TRUSTED_KEYS_DIR is no longer set: signatures are not "
                "checked any more (was {})",
                key_list(*keys_));
        }
        keys_ = keys;
    }
    for (const auto& s : keys_->skipped) log->warn("reload: trusted key skipped: {}", s);

    const auto stored = agent::CoreConfigStore(running_.data_dir).load().labels;
    if (stored && next.labels != running_.labels) {
        log->info(
            "reload: LUCID_LABELS changed to '{}', but the labels a cfg/set stored ('{}', in {}) "
            "win over it: nothing changes",
            contract::labels_text(next.labels), contract::labels_text(*stored),
            agent::CoreConfigStore(running_.data_dir).path().string());
    }
    for (const auto& change : restart_needed_changes(running_, next, stored.has_value())) {
        log->warn("reload: {}; it takes effect at the next restart", change);
    }
    policy_.replace(agent::install_policy_from(next, keys_));
    running_.trusted_keys_dir = next.trusted_keys_dir;
    running_.signature_policy = next.signature_policy;
    running_.accept_bare_signatures = next.accept_bare_signatures;
    running_.allowed_source_prefixes = next.allowed_source_prefixes;
    log->info(
        "reload applied: trusted keys {}; signature_policy {}; accept_bare_signatures {}; "
        "allowed_source_prefixes {}",
        key_list(*keys_), config::to_string(running_.signature_policy),
        running_.accept_bare_signatures ? "yes" : "no",
        config::config_value(running_, "allowed_source_prefixes"));
}

}  // namespace lucid::host::service
