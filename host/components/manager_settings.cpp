// ManagerSettings::with_current_policy: the part of the settings that SIGHUP may change.
#include "components/component_manager.hpp"
#include "install/trust_state.hpp"

namespace lucid::host::components {

ManagerSettings ManagerSettings::with_current_policy() const {
    ManagerSettings now = *this;
    if (!policy) return now;
    const auto p = policy->current();
    now.install.allowed_url_prefixes = p->allowed_prefixes;
    now.verifier.limits.allowed_prefixes = p->allowed_prefixes;
    now.verifier.signatures.keys = p->keys;
    now.verifier.signatures.require_signature = p->require_signature;
    now.verifier.signatures.accept_bare_signatures = p->accept_bare_signatures;
    now.verifier.signatures.revoked = p->keys ? p->keys->revoked : install::RevokedKeys{};
    now.verifier.signatures.revocations_error.clear();
    // The signed revocations, read for each install as the floors are: a list taken a moment ago
    // counts at once. Only where keys are trusted (nothing to revoke otherwise).
    if (p->keys && p->keys->configured() && !data_dir.empty()) {
        auto signed_lists = install::TrustState(data_dir).revocations();
        if (signed_lists) {
            for (auto& [id, why] : install::revoked_keys(signed_lists.value())) {
                now.verifier.signatures.revoked.emplace(id, std::move(why));
            }
        } else if (signed_lists.error().code != Errc::not_found) {
            now.verifier.signatures.revocations_error = signed_lists.error().message;
        }
    }
    return now;
}

}  // namespace lucid::host::components
