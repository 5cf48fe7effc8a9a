// ManagerSettings::with_current_policy: the part of the settings that SIGHUP may change.
#include "components/component_manager.hpp"

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
    return now;
}

}  // namespace lucid::host::components
