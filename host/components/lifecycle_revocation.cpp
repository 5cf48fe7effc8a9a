// Components installed under a signing key that is now revoked (contract §8.14): the key no
// longer vouches for new artifacts (install/signature.hpp), and what it vouched for before is
// reported — a `warning` in the component's status, or, where signatures are required, `failed`
// and kept from running until a build signed by a trusted key replaces it.
#include "common/logging.hpp"
#include "components/component_lifecycle.hpp"

namespace lucid::host::components {

namespace {

constexpr const char* kRevokedPrefix = "key revoked: ";
constexpr const char* kUnknownPrefix = "key revocation unknown: ";

// A status the revocation rules set (kept out), as opposed to one the plugin or a crash set.
bool kept_out_for_revocation(const ComponentStatus& status) {
    return status.state == ComponentState::failed && (status.error.rfind(kRevokedPrefix, 0) == 0 ||
                                                      status.error.rfind(kUnknownPrefix, 0) == 0);
}

}  // namespace

void ComponentLifecycle::set_revocations(install::RevokedKeys revoked, bool fail,
                                         std::string unknown) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    revoked_ = std::move(revoked);
    revoked_fail_ = fail;
    revocations_unknown_ = std::move(unknown);
}

std::optional<std::string> ComponentLifecycle::revoked_signer(const registry::Entry& entry) const {
    if (entry.signed_by.empty()) return std::nullopt;
    const auto it = revoked_.find(entry.signed_by);
    if (it != revoked_.end()) {
        return "signed by key " + entry.signed_by + ", which is revoked (" + it->second + ")";
    }
    // The trust state cannot be read: whether its key was revoked by a list is unknown, which is
    // never taken for "not revoked".
    if (!revocations_unknown_.empty()) {
        return "signed by key " + entry.signed_by + ", whose revocation is unknown (" +
               revocations_unknown_ + ")";
    }
    return std::nullopt;
}

std::optional<std::string> ComponentLifecycle::revoked_signer_locked(
    const registry::Entry& entry) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return revoked_signer(entry);
}

std::optional<std::string> ComponentLifecycle::revoked_key_error(
    const std::string& key_id, const std::string& key_file) const {
    if (key_id.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(state_mutex_);
    const auto it = revoked_.find(key_id);
    if (it == revoked_.end()) return std::nullopt;
    return "signature invalid: key " + key_id + " (" + key_file + ") is revoked (" + it->second +
           ")";
}

Outcome ComponentLifecycle::resign(const registry::Entry& entry, const std::string& signed_by) {
    Outcome outcome;
    outcome.dist_name = entry.dist_name;
    outcome.version = entry.version;
    if (signed_by.empty() || signed_by == entry.signed_by) {
        // Unsigned (allowed by the policy) or the same revoked key: nothing vouches anew.
        outcome.noop = true;
        return outcome;
    }
    registry::Registry registry = this->registry();
    registry::Entry resigned = entry;
    resigned.signed_by = signed_by;
    registry.put(resigned);
    if (Status saved = save(registry); !saved) {
        return Outcome::failed(saved.error().code, saved.error().message);
    }
    logger("components")
        ->info("{} {} {} is signed by key {} now (was {})", entry.component_id, entry.dist_name,
               entry.version, signed_by, entry.signed_by);
    const bool kept_out = [&] {
        std::lock_guard<std::mutex> lock(state_mutex_);
        const auto it = statuses_.find(entry.component_id);
        return it != statuses_.end() && kept_out_for_revocation(it->second);
    }();
    if (kept_out && resigned.enabled) {
        Outcome started = start_locked(resigned);
        started.dist_name = outcome.dist_name;
        started.version = outcome.version;
        return started;
    }
    set_status(entry.component_id, [&] {
        std::lock_guard<std::mutex> lock(state_mutex_);
        auto it = statuses_.find(entry.component_id);
        return it != statuses_.end() ? it->second
                                     : ComponentStatus{ComponentState::stopped, entry.version, ""};
    }());
    sink_.changed();
    return outcome;
}

void ComponentLifecycle::restamp_warning(const std::string& component_id) {
    std::optional<ComponentStatus> status;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        const auto* entry = registry_.find(component_id);
        const auto it = statuses_.find(component_id);
        if (!entry || it == statuses_.end()) return;
        const std::string warning =
            revoked_fail_ ? std::string() : revoked_signer(*entry).value_or("");
        if (it->second.warning != warning) status = it->second;
    }
    if (status) set_status(component_id, *status);
}

std::optional<std::string> ComponentLifecycle::revoked_error(const registry::Entry& entry) const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (!revoked_fail_) return std::nullopt;
    auto signer = revoked_signer(entry);
    if (!signer) return std::nullopt;
    if (revoked_.count(entry.signed_by) == 0) {
        return kUnknownPrefix + *signer + "; repair the trust state (contract §8.12)";
    }
    return kRevokedPrefix + *signer + "; install a build signed by a trusted key";
}

std::vector<std::string> ComponentLifecycle::apply_revocations() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
    std::vector<std::string> concerned;
    const registry::Registry installed = registry();
    for (const auto& [id, entry] : installed.entries()) {
        std::optional<std::string> signer;
        ComponentStatus current;
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            signer = revoked_signer(entry);
            if (auto it = statuses_.find(id); it != statuses_.end()) current = it->second;
        }
        if (signer) concerned.push_back(id);
        if (auto error = revoked_error(entry)) {
            if (current.state == ComponentState::failed && current.error == *error) continue;
            logger("components")->error("{} {}: stopped", id, *error);
            if (runtime_.running(id)) stop_plugin(id);
            set_status(id, {ComponentState::failed, entry.version, *error});
            continue;
        }
        if (signer) logger("components")->warn("{} {}", id, *signer);
        const bool kept_out_before = kept_out_for_revocation(current);
        if (kept_out_before && entry.enabled) {
            // Revoked no more (a reload without it, or the policy no longer required).
            if (Outcome started = start_locked(entry); !started.ok()) {
                logger("components")
                    ->warn("{} did not start again: {}", id, started.error->message);
            }
        } else if (kept_out_before) {
            set_status(id, {ComponentState::stopped, entry.version, ""});
        } else if (current.warning != signer.value_or("")) {
            set_status(id, current);  // the warning comes or goes with the status
        }
    }
    sink_.changed();
    return concerned;
}

}  // namespace lucid::host::components
