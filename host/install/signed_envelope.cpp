#include "install/signed_envelope.hpp"

#include "contract/json_text.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"

namespace lucid::host::install {
namespace {

using rapidjson::Value;

constexpr std::size_t kMaxFieldBytes = 256;

std::string string_member(const Value& object, const char* key, const std::string& where) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) refuse_envelope("'" + where + key + "' is missing");
    if (!it->value.IsString()) refuse_envelope("'" + where + key + "' must be a string");
    return {it->value.GetString(), it->value.GetStringLength()};
}

void only_members(const Value& object, const std::vector<std::string_view>& known,
                  const std::string& where) {
    for (const auto& m : object.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        bool found = false;
        for (const auto k : known) found = found || k == name;
        // Named only when printable: the key comes from the network and lands in a log.
        if (!found) {
            refuse_envelope(where + " has an unknown member" +
                            (plain_value(name) ? " '" + std::string(name) + "'" : std::string()));
        }
    }
}

}  // namespace

void refuse_envelope(std::string reason) { throw EnvelopeRefusal{std::move(reason)}; }

bool plain_value(std::string_view text) {
    if (text.empty() || text.size() > kMaxFieldBytes) return false;
    for (const char c : text) {
        if (c <= 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
    }
    return true;
}

void body_members_only(const Value& object, const std::vector<std::string_view>& known,
                       const std::string& body) {
    if (!object.IsObject()) refuse_envelope("'" + body + "' must be an object");
    only_members(object, known, "'" + body + "'");
}

std::string plain_member(const Value& object, const char* key, const std::string& body) {
    std::string value = string_member(object, key, body + ".");
    if (!plain_value(value)) {
        refuse_envelope("'" + body + "." + key +
                        "' must be 1 to 256 printable ASCII characters, no space, '\"' or '\\'");
    }
    return value;
}

Envelope parse_envelope(std::string_view text, const EnvelopeFormat& format,
                        rapidjson::Document& doc) {
    if (text.size() > format.max_bytes) {
        refuse_envelope("longer than " + std::to_string(format.max_bytes) + " bytes");
    }
    if (Status parsed = contract::parse_json_text(text, doc); !parsed) {
        refuse_envelope(parsed.error().message);
    }
    if (!doc.IsObject()) refuse_envelope("not a JSON object");
    if (const auto dup = contract::duplicate_key(doc)) {
        refuse_envelope("the key '" + std::string(plain_value(*dup) ? *dup : "?") +
                        "' appears twice");
    }
    only_members(doc, {"format", "key_id", format.body, "signature"}, "the object");
    const std::string found = string_member(doc, "format", "");
    if (found != format.format) {
        refuse_envelope("'format' is '" + (plain_value(found) ? found : std::string("?")) +
                        "', not '" + std::string(format.format) + "'");
    }
    Envelope out;
    out.key_id = string_member(doc, "key_id", "");
    if (!is_key_id(out.key_id)) refuse_envelope("'key_id' must be 16 lowercase hex digits");
    const auto body = doc.FindMember(format.body);
    if (body == doc.MemberEnd()) refuse_envelope("'" + std::string(format.body) + "' is missing");
    out.body = &body->value;
    return out;
}

std::string envelope_signature(const rapidjson::Document& doc) {
    std::string signature = string_member(doc, "signature", "");
    const auto raw = base64_decode(signature);
    if (!raw || raw->size() != kEd25519SignatureBytes) {
        refuse_envelope("'signature' is not the base64 of a 64-byte Ed25519 signature");
    }
    return signature;
}

std::string envelope_text(const EnvelopeFormat& format, const std::string& key_id,
                          const std::string& canonical_body, const std::string& signature) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("format");
    writer.String(format.format.data(), static_cast<rapidjson::SizeType>(format.format.size()));
    writer.Key("key_id");
    writer.String(key_id.data(), static_cast<rapidjson::SizeType>(key_id.size()));
    writer.Key(format.body);
    // The canonical text is itself the body's JSON: written once, the same bytes.
    writer.RawValue(canonical_body.data(), canonical_body.size(), rapidjson::kObjectType);
    writer.Key("signature");
    writer.String(signature.data(), static_cast<rapidjson::SizeType>(signature.size()));
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace lucid::host::install
