#include "install/rollback_permit.hpp"

#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "install/signed_envelope.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::install {
namespace {

// The permit's members in canonical order.
constexpr BodyFields<Permit, 3> kPermitFields{{
    {"dist", &Permit::dist},
    {"version", &Permit::version},
    {"expires_at", &Permit::expires_at},
}};

constexpr EnvelopeFormat kPermitEnvelope{kPermitFormat, "permit", kMaxPermitTextBytes};

Permit parse_permit(const rapidjson::Value& object) {
    Permit out = read_body(object, kPermitFields, "permit");
    if (!registry::Version::parse(out.version)) {
        refuse_envelope("'permit.version' must be a semantic version");
    }
    if (!contract::parse_utc_timestamp(out.expires_at)) {
        refuse_envelope(
            "'permit.expires_at' must be a UTC timestamp like 2026-12-01T05:00:00.000Z");
    }
    return out;
}

}  // namespace

std::string canonical_permit(const Permit& permit) { return canonical_body(permit, kPermitFields); }

std::string permit_text(const SignedPermit& p) {
    return envelope_text(kPermitEnvelope, p.key_id, canonical_permit(p.permit), p.signature);
}

Expected<SignedPermit> parse_rollback_permit(std::string_view text) {
    try {
        rapidjson::Document doc;
        const Envelope envelope = parse_envelope(text, kPermitEnvelope, doc);
        SignedPermit out;
        out.key_id = envelope.key_id;
        out.permit = parse_permit(*envelope.body);
        out.signature = envelope_signature(doc);
        return out;
    } catch (const EnvelopeRefusal& r) {
        return Error{Errc::refused,
                     "rollback permit invalid: not a lucid-permit-1 permit: " + r.reason};
    }
}

Expected<Permit> verify_rollback_permit(std::string_view text, const TrustedKeySet& keys,
                                        const RevokedKeys& revoked,
                                        std::chrono::system_clock::time_point now) {
    auto parsed = parse_rollback_permit(text);
    if (!parsed) return parsed.error();
    const SignedPermit& p = parsed.value();
    const TrustedKey* key = keys.find(p.key_id);
    if (!key) {
        return Error{Errc::refused, "rollback permit invalid: unknown key_id " + p.key_id +
                                        ": not among the trusted keys (" + keys.key_ids() + ")"};
    }
    if (const auto it = revoked.find(p.key_id); it != revoked.end()) {
        return Error{Errc::refused, "rollback permit invalid: key " + p.key_id + " (" + key->file +
                                        ") is revoked (" + it->second + ")"};
    }
    const auto raw = base64_decode(p.signature);
    if (!raw || !ed25519_verify(key->key.get(), *raw, canonical_permit(p.permit))) {
        return Error{Errc::refused,
                     "rollback permit invalid: the permit's signature does not verify with key " +
                         p.key_id + " (" + key->file + ")"};
    }
    // Checked once the signature holds: an attacker's text never tells whether a time passed.
    const auto expires = contract::parse_utc_timestamp(p.permit.expires_at);
    if (!expires || now >= *expires) {
        return Error{Errc::refused, "rollback permit expired at " + p.permit.expires_at};
    }
    // Short-lived by contract, whoever made it (lucidctl permits at most 30 days): a permit for
    // years would be a standing licence to downgrade for whoever sees it on the wire.
    if (*expires - now > kMaxPermitLifetime) {
        return Error{Errc::refused, "rollback permit invalid: it expires at " +
                                        p.permit.expires_at +
                                        ", more than 30 days ahead (a permit is short-lived)"};
    }
    return p.permit;
}

}  // namespace lucid::host::install
