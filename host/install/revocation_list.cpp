#include "install/revocation_list.hpp"

#include <algorithm>
#include <set>

#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "install/signed_envelope.hpp"

namespace lucid::host::install {
namespace {

// The body as it is signed: the ids joined, as they travel.
struct RevocationBody {
    std::string key_ids;
    std::string signed_at;
};

constexpr BodyFields<RevocationBody, 2> kRevocationFields{{
    {"key_ids", &RevocationBody::key_ids},
    {"signed_at", &RevocationBody::signed_at},
}};

constexpr EnvelopeFormat kRevocationEnvelope{kRevocationFormat, "revocation",
                                             kMaxRevocationTextBytes};

RevocationBody body_of(const Revocation& revocation) {
    RevocationBody body;
    for (const auto& id : revocation.key_ids)
        body.key_ids += (body.key_ids.empty() ? "" : ",") + id;
    body.signed_at = revocation.signed_at;
    return body;
}

Revocation parse_revocation(const rapidjson::Value& object) {
    // Said before the generic length check of a value would: too many ids, not a bad text.
    if (object.IsObject()) {
        const auto ids = object.FindMember("key_ids");
        if (ids != object.MemberEnd() && ids->value.IsString() &&
            std::count(ids->value.GetString(),
                       ids->value.GetString() + ids->value.GetStringLength(), ',') >= 15) {
            refuse_envelope("'revocation.key_ids' names more than 15 keys: send several lists");
        }
    }
    const RevocationBody body = read_body(object, kRevocationFields, "revocation");
    Revocation out;
    std::set<std::string> seen;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = body.key_ids.find(',', start);
        const std::string id = body.key_ids.substr(start, comma - start);
        if (!is_key_id(id)) {
            refuse_envelope(
                "'revocation.key_ids' must be key ids (16 lowercase hex digits) separated by "
                "commas");
        }
        if (!seen.insert(id).second) refuse_envelope("'revocation.key_ids' names " + id + " twice");
        out.key_ids.push_back(id);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (!contract::parse_utc_timestamp(body.signed_at)) {
        refuse_envelope(
            "'revocation.signed_at' must be a UTC timestamp like 2026-12-01T05:00:00.000Z");
    }
    out.signed_at = body.signed_at;
    return out;
}

}  // namespace

std::string canonical_revocation(const Revocation& revocation) {
    return canonical_body(body_of(revocation), kRevocationFields);
}

std::string revocation_text(const SignedRevocation& r) {
    return envelope_text(kRevocationEnvelope, r.key_id, canonical_revocation(r.revocation),
                         r.signature);
}

Expected<SignedRevocation> parse_revocation_list(std::string_view text) {
    try {
        rapidjson::Document doc;
        const Envelope envelope = parse_envelope(text, kRevocationEnvelope, doc);
        SignedRevocation out;
        out.key_id = envelope.key_id;
        out.revocation = parse_revocation(*envelope.body);
        out.signature = envelope_signature(doc);
        return out;
    } catch (const EnvelopeRefusal& r) {
        return Error{Errc::refused, "revocation invalid: not a lucid-revoke-1 list: " + r.reason};
    }
}

Expected<SignedRevocation> verify_revocation_list(std::string_view text, const TrustedKeySet& keys,
                                                  const RevokedKeys& revoked) {
    auto parsed = parse_revocation_list(text);
    if (!parsed) return parsed.error();
    const SignedRevocation& r = parsed.value();
    const TrustedKey* key = keys.find(r.key_id);
    if (!key) {
        return Error{Errc::refused, "revocation invalid: unknown key_id " + r.key_id +
                                        ": not among the trusted keys (" + keys.key_ids() + ")"};
    }
    // A revoked key speaks for nobody, not even to revoke others (it may be the attacker's).
    if (const auto it = revoked.find(r.key_id); it != revoked.end()) {
        return Error{Errc::refused, "revocation invalid: key " + r.key_id + " (" + key->file +
                                        ") is revoked (" + it->second + ")"};
    }
    const auto raw = base64_decode(r.signature);
    if (!raw || !ed25519_verify(key->key.get(), *raw, canonical_revocation(r.revocation))) {
        return Error{Errc::refused,
                     "revocation invalid: the list's signature does not verify with key " +
                         r.key_id + " (" + key->file + ")"};
    }
    return r;
}

}  // namespace lucid::host::install
