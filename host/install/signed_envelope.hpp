// The text layout lucid-sig-1 statements (signed_statement.hpp) and lucid-permit-1 permits
// (rollback_permit.hpp) share: one JSON object
//   {"format": F, "key_id": K, "<body>": {plain string members in a fixed order}, "signature": S}
// whose body is signed in its canonical form (the members in that order, compact JSON). Each
// format keeps its own fields and checks; this is the parsing and writing they have in common.
//
// Errors: the parse helpers throw EnvelopeRefusal with the reason (the caller prefixes its
// "<what> invalid: not a <format> ...: " and turns it into an Error).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lucid::host::install {

struct EnvelopeRefusal {
    std::string reason;
};
[[noreturn]] void refuse_envelope(std::string reason);

// Printable ASCII without space, '"' and '\', 1 to 256 bytes: the canonical text is then the
// plain values between quotes, whatever JSON writer a third party uses, with no whitespace.
bool plain_value(std::string_view text);

struct EnvelopeFormat {
    std::string_view format;  // "lucid-sig-1"
    const char* body;         // "statement"
    std::size_t max_bytes;
};
struct Envelope {
    std::string key_id;                      // 16 lowercase hex digits, checked
    const rapidjson::Value* body = nullptr;  // inside the document parse_envelope() filled
};
// Parses the outer object into `doc`: only its four members, the format and key_id checked,
// the body present (not read: the caller reads it, then envelope_signature()).
Envelope parse_envelope(std::string_view text, const EnvelopeFormat& format,
                        rapidjson::Document& doc);
// The signature member of a parsed envelope: the base64 of 64 bytes.
std::string envelope_signature(const rapidjson::Document& doc);
std::string envelope_text(const EnvelopeFormat& format, const std::string& key_id,
                          const std::string& canonical_body, const std::string& signature);

// A body's members in canonical order, with where each lives in T.
template <class T, std::size_t N>
using BodyFields = std::array<std::pair<const char*, std::string T::*>, N>;

// The body's members, each present and a plain value, none other.
void body_members_only(const rapidjson::Value& object, const std::vector<std::string_view>& known,
                       const std::string& body);
std::string plain_member(const rapidjson::Value& object, const char* key, const std::string& body);

template <class T, std::size_t N>
T read_body(const rapidjson::Value& object, const BodyFields<T, N>& fields, const char* body) {
    std::vector<std::string_view> known;
    for (const auto& field : fields) known.emplace_back(field.first);
    body_members_only(object, known, body);
    T out;
    for (const auto& [key, field] : fields) out.*field = plain_member(object, key, body);
    return out;
}

template <class T, std::size_t N>
std::string canonical_body(const T& object, const BodyFields<T, N>& fields) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const auto& [key, field] : fields) {
        writer.Key(key);
        const std::string& value = object.*field;
        writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace lucid::host::install
