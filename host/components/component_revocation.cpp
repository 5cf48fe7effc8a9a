// core/cmd/keys/revoke (contract §8.14): a signed revocation list taken over MQTT, and what the
// keys revoked now mean for the installed components.
#include "common/logging.hpp"
#include "components/audit_log.hpp"
#include "components/component_manager.hpp"
#include "install/revocation_list.hpp"
#include "install/trust_state.hpp"

namespace lucid::host::components {

void ComponentManager::refresh_revocations(bool apply) {
    const ManagerSettings now = settings_.with_current_policy();
    install::RevokedKeys revoked = now.verifier.signatures.revoked;
    const std::string& unknown = now.verifier.signatures.revocations_error;
    {
        // A trust state that became unreadable forgets nothing this process already knew.
        std::lock_guard<std::mutex> lock(revocations_mutex_);
        if (unknown.empty()) {
            known_revocations_ = revoked;
        } else {
            revoked.insert(known_revocations_.begin(), known_revocations_.end());
        }
    }
    if (!unknown.empty()) logger("components")->error("revoked keys unknown: {}", unknown);
    lifecycle_.set_revocations(std::move(revoked), now.verifier.signatures.require_signature,
                               unknown);
    if (apply) lifecycle_.apply_revocations();
}

std::vector<std::string> ComponentManager::degraded_reasons() const {
    if (settings_.data_dir.empty()) return {};
    auto floors = install::TrustState(settings_.data_dir).load();
    if (floors) return {};
    return {floors.error().message};
}

contract::Result ComponentManager::revoke_keys(const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    const auto it = request.payload.FindMember("revocation");
    if (it == request.payload.MemberEnd() || !it->value.IsString()) {
        result.fail("validation_error: 'revocation' must be a string (a lucid-revoke-1 list)");
        audit({"revoke", "", request.request_id, "", "", ""}, result);
        return result;
    }
    const std::string_view text(it->value.GetString(), it->value.GetStringLength());
    const ManagerSettings current = settings_.with_current_policy();
    const auto& signatures = current.verifier.signatures;
    const auto fail = [&](const std::string& error) -> contract::Result {
        result.fail(error);
        audit({"revoke", "", request.request_id, "", "", ""}, result);
        return std::move(result);
    };
    if (!signatures.keys || !signatures.keys->configured()) {
        return fail("revocation refused: no trusted keys are configured (LUCID_TRUSTED_KEYS_DIR)");
    }
    if (!signatures.revocations_error.empty()) {
        return fail("revocation refused: " + signatures.revocations_error);
    }
    auto verified = install::verify_revocation_list(text, *signatures.keys, signatures.revoked);
    if (!verified) return fail(verified.error().message);
    const auto& list = verified.value();
    auto added = install::TrustState(settings_.data_dir)
                     .revoke(list.key_id, list.revocation.key_ids, list.revocation.signed_at);
    if (!added) return fail("revocation refused: " + added.error().message);
    for (const auto& id : added.value()) {
        logger("components")
            ->warn("key {} revoked by a list signed by key {} at {}", id, list.key_id,
                   list.revocation.signed_at);
    }
    refresh_revocations(false);
    const std::vector<std::string> concerned = lifecycle_.apply_revocations();

    auto ids = [&](const std::vector<std::string>& items) {
        rapidjson::Value array(rapidjson::kArrayType);
        for (const auto& item : items) {
            array.PushBack(
                rapidjson::Value(item.c_str(), static_cast<rapidjson::SizeType>(item.size()),
                                 result.allocator()),
                result.allocator());
        }
        return array;
    };
    result.set("revoked", ids(list.revocation.key_ids));
    result.set("newly_revoked", ids(added.value()));
    result.set("signed_by", list.key_id);
    // The components installed under a key revoked now: warned, or failed under `required`.
    result.set("components", ids(concerned));
    result.set("components_state", signatures.require_signature ? "failed" : "warning");
    std::string revoked_ids;
    for (const auto& id : list.revocation.key_ids) {
        revoked_ids += (revoked_ids.empty() ? "" : ",") + id;
    }
    audit({"revoke", "", request.request_id, "", list.key_id, revoked_ids}, result);
    return result;
}

}  // namespace lucid::host::components
