#include "install/signed_statement.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <utility>

#include "contract/json_text.hpp"
#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"

namespace lucid::host::install {
namespace {

using rapidjson::Value;

// The statement's members in canonical order, with where each lives in a Statement.
constexpr std::array<std::pair<const char*, std::string Statement::*>, 6> kStatementFields{{
    {"sha256", &Statement::sha256},
    {"dist", &Statement::dist},
    {"version", &Statement::version},
    {"component", &Statement::component},
    {"platform", &Statement::platform},
    {"signed_at", &Statement::signed_at},
}};

constexpr std::size_t kMaxFieldBytes = 256;

struct Refusal {
    std::string reason;
};

[[noreturn]] void refuse(std::string reason) { throw Refusal{std::move(reason)}; }

// Printable ASCII without space, '"' and '\': the canonical text is then the plain values
// between quotes, whatever JSON writer a third party uses, and holds no whitespace at all.
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
        // Named only when printable: the key comes from the network and lands in a log.
        if (!found) {
            refuse(where + " has an unknown member" +
                   (plain_value(name) ? " '" + std::string(name) + "'" : std::string()));
        }
    }
}

Statement parse_statement(const Value& object) {
    if (!object.IsObject()) refuse("'statement' must be an object");
    only_members(object, {"sha256", "dist", "version", "component", "platform", "signed_at"},
                 "'statement'");
    Statement out;
    for (const auto& [key, field] : kStatementFields) {
        std::string value = string_member(object, key, "statement.");
        if (!plain_value(value)) {
            refuse(std::string("'statement.") + key +
                   "' must be 1 to 256 printable ASCII characters, no space, '\"' or '\\'");
        }
        out.*field = std::move(value);
    }
    if (out.sha256.size() != 64 ||
        out.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
        refuse("'statement.sha256' must be 64 lowercase hex digits");
    }
    if (!contract::parse_utc_timestamp(out.signed_at)) {
        refuse("'statement.signed_at' must be a UTC timestamp like 2026-12-01T02:30:00.000Z");
    }
    return out;
}

}  // namespace

std::string canonical_statement(const Statement& statement) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const auto& [key, field] : kStatementFields) {
        writer.Key(key);
        const std::string& value = statement.*field;
        writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

std::string signature_text(const SignedStatement& s) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("format");
    writer.String(kSignatureFormat.data(),
                  static_cast<rapidjson::SizeType>(kSignatureFormat.size()));
    writer.Key("key_id");
    writer.String(s.key_id.data(), static_cast<rapidjson::SizeType>(s.key_id.size()));
    writer.Key("statement");
    // The canonical text is itself the statement's JSON: written once, the same bytes.
    const std::string canonical = canonical_statement(s.statement);
    writer.RawValue(canonical.data(), canonical.size(), rapidjson::kObjectType);
    writer.Key("signature");
    writer.String(s.signature.data(), static_cast<rapidjson::SizeType>(s.signature.size()));
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

bool is_statement_form(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && text[first] == '{';
}

Expected<SignedStatement> parse_signed_statement(std::string_view text) {
    try {
        if (text.size() > kMaxSignatureTextBytes) {
            refuse("longer than " + std::to_string(kMaxSignatureTextBytes) + " bytes");
        }
        // The same test the agent picks the parser by: a text it would read as bare is never
        // accepted here (RapidJSON alone passes a stray byte before the '{', e.g. half a BOM).
        if (!is_statement_form(text)) refuse("not a JSON object");
        rapidjson::Document doc;
        if (Status parsed = contract::parse_json_text(text, doc); !parsed) {
            refuse(parsed.error().message);
        }
        if (!doc.IsObject()) refuse("not a JSON object");
        if (const auto dup = contract::duplicate_key(doc)) {
            refuse("the key '" + std::string(plain_value(*dup) ? *dup : "?") + "' appears twice");
        }
        only_members(doc, {"format", "key_id", "statement", "signature"}, "the object");
        const std::string format = string_member(doc, "format", "");
        if (format != kSignatureFormat) {
            refuse("'format' is '" + (plain_value(format) ? format : std::string("?")) +
                   "', not 'lucid-sig-1'");
        }
        SignedStatement out;
        out.key_id = string_member(doc, "key_id", "");
        if (!is_key_id(out.key_id)) refuse("'key_id' must be 16 lowercase hex digits");
        const auto statement = doc.FindMember("statement");
        if (statement == doc.MemberEnd()) refuse("'statement' is missing");
        out.statement = parse_statement(statement->value);
        out.signature = string_member(doc, "signature", "");
        const auto raw = base64_decode(out.signature);
        if (!raw || raw->size() != kEd25519SignatureBytes) {
            refuse("'signature' is not the base64 of a 64-byte Ed25519 signature");
        }
        return out;
    } catch (const Refusal& r) {
        return Error{Errc::refused, "signature invalid: not a lucid-sig-1 statement: " + r.reason};
    }
}

}  // namespace lucid::host::install
