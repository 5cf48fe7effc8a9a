#include "install/rollback_permit.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <utility>

#include "contract/json_text.hpp"
#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::install {
namespace {

using rapidjson::Value;

// The permit's members in canonical order.
constexpr std::array<std::pair<const char*, std::string Permit::*>, 3> kPermitFields{{
    {"dist", &Permit::dist},
    {"version", &Permit::version},
    {"expires_at", &Permit::expires_at},
}};

constexpr std::size_t kMaxFieldBytes = 256;

struct Refusal {
    std::string reason;
};

[[noreturn]] void refuse(std::string reason) { throw Refusal{std::move(reason)}; }

// As lucid-sig-1's values: the canonical text is then the plain values between quotes.
bool plain_value(std::string_view text) {
    if (text.empty() || text.size() > kMaxFieldBytes) return false;
    for (const char c : text) {
        if (c <= 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
    }
    return true;
}

std::string string_member(const Value& object, const char* key, const std::string& where) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) refuse("'" + where + key + "' is missing");
    if (!it->value.IsString()) refuse("'" + where + key + "' must be a string");
    return {it->value.GetString(), it->value.GetStringLength()};
}

void only_members(const Value& object, std::initializer_list<std::string_view> known,
                  const std::string& where) {
    for (const auto& m : object.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        bool found = false;
        for (const auto k : known) found = found || k == name;
        if (!found) {
            refuse(where + " has an unknown member" +
                   (plain_value(name) ? " '" + std::string(name) + "'" : std::string()));
        }
    }
}

Permit parse_permit(const Value& object) {
    if (!object.IsObject()) refuse("'permit' must be an object");
    only_members(object, {"dist", "version", "expires_at"}, "'permit'");
    Permit out;
    for (const auto& [key, field] : kPermitFields) {
        std::string value = string_member(object, key, "permit.");
        if (!plain_value(value)) {
            refuse(std::string("'permit.") + key +
                   "' must be 1 to 256 printable ASCII characters, no space, '\"' or '\\'");
        }
        out.*field = std::move(value);
    }
    if (!registry::Version::parse(out.version)) {
        refuse("'permit.version' must be a semantic version");
    }
    if (!contract::parse_utc_timestamp(out.expires_at)) {
        refuse("'permit.expires_at' must be a UTC timestamp like 2026-12-01T05:00:00.000Z");
    }
    return out;
}

}  // namespace

std::string canonical_permit(const Permit& permit) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const auto& [key, field] : kPermitFields) {
        writer.Key(key);
        const std::string& value = permit.*field;
        writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

std::string permit_text(const SignedPermit& p) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("format");
    writer.String(kPermitFormat.data(), static_cast<rapidjson::SizeType>(kPermitFormat.size()));
    writer.Key("key_id");
    writer.String(p.key_id.data(), static_cast<rapidjson::SizeType>(p.key_id.size()));
    writer.Key("permit");
    const std::string canonical = canonical_permit(p.permit);
    writer.RawValue(canonical.data(), canonical.size(), rapidjson::kObjectType);
    writer.Key("signature");
    writer.String(p.signature.data(), static_cast<rapidjson::SizeType>(p.signature.size()));
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

Expected<SignedPermit> parse_rollback_permit(std::string_view text) {
    try {
        if (text.size() > kMaxPermitTextBytes) {
            refuse("longer than " + std::to_string(kMaxPermitTextBytes) + " bytes");
        }
        rapidjson::Document doc;
        if (Status parsed = contract::parse_json_text(text, doc); !parsed) {
            refuse(parsed.error().message);
        }
        if (!doc.IsObject()) refuse("not a JSON object");
        if (const auto dup = contract::duplicate_key(doc)) {
            refuse("the key '" + std::string(plain_value(*dup) ? *dup : "?") + "' appears twice");
        }
        only_members(doc, {"format", "key_id", "permit", "signature"}, "the object");
        const std::string format = string_member(doc, "format", "");
        if (format != kPermitFormat) {
            refuse("'format' is '" + (plain_value(format) ? format : std::string("?")) +
                   "', not 'lucid-permit-1'");
        }
        SignedPermit out;
        out.key_id = string_member(doc, "key_id", "");
        if (!is_key_id(out.key_id)) refuse("'key_id' must be 16 lowercase hex digits");
        const auto permit = doc.FindMember("permit");
        if (permit == doc.MemberEnd()) refuse("'permit' is missing");
        out.permit = parse_permit(permit->value);
        out.signature = string_member(doc, "signature", "");
        const auto raw = base64_decode(out.signature);
        if (!raw || raw->size() != kEd25519SignatureBytes) {
            refuse("'signature' is not the base64 of a 64-byte Ed25519 signature");
        }
        return out;
    } catch (const Refusal& r) {
        return Error{Errc::refused,
                     "rollback permit invalid: not a lucid-permit-1 permit: " + r.reason};
    }
}

Expected<Permit> verify_rollback_permit(std::string_view text, const TrustedKeySet& keys,
                                        std::chrono::system_clock::time_point now) {
    auto parsed = parse_rollback_permit(text);
    if (!parsed) return parsed.error();
    const SignedPermit& p = parsed.value();
    const TrustedKey* key = keys.find(p.key_id);
    if (!key) {
        return Error{Errc::refused, "rollback permit invalid: unknown key_id " + p.key_id +
                                        ": not among the trusted keys (" + keys.key_ids() + ")"};
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
    return p.permit;
}

}  // namespace lucid::host::install
