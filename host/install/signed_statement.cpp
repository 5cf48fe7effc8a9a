#include "install/signed_statement.hpp"

#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/ed25519.hpp"
#include "install/signed_envelope.hpp"

namespace lucid::host::install {
namespace {

// The statement's members in canonical order, with where each lives in a Statement.
constexpr BodyFields<Statement, 6> kStatementFields{{
    {"sha256", &Statement::sha256},
    {"dist", &Statement::dist},
    {"version", &Statement::version},
    {"component", &Statement::component},
    {"platform", &Statement::platform},
    {"signed_at", &Statement::signed_at},
}};

constexpr EnvelopeFormat kStatementEnvelope{kSignatureFormat, "statement", kMaxSignatureTextBytes};

Statement parse_statement(const rapidjson::Value& object) {
    Statement out = read_body(object, kStatementFields, "statement");
    if (out.sha256.size() != 64 ||
        out.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
        refuse_envelope("'statement.sha256' must be 64 lowercase hex digits");
    }
    if (!contract::parse_utc_timestamp(out.signed_at)) {
        refuse_envelope(
            "'statement.signed_at' must be a UTC timestamp like 2026-12-01T02:30:00.000Z");
    }
    return out;
}

}  // namespace

std::string canonical_statement(const Statement& statement) {
    return canonical_body(statement, kStatementFields);
}

std::string signature_text(const SignedStatement& s) {
    return envelope_text(kStatementEnvelope, s.key_id, canonical_statement(s.statement),
                         s.signature);
}

bool is_statement_form(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && text[first] == '{';
}

Expected<SignedStatement> parse_signed_statement(std::string_view text) {
    try {
        // The same test the agent picks the parser by: a text it would read as bare is never
        // accepted here (RapidJSON alone passes a stray byte before the '{', e.g. half a BOM).
        if (text.size() <= kMaxSignatureTextBytes && !is_statement_form(text)) {
            refuse_envelope("not a JSON object");
        }
        rapidjson::Document doc;
        const Envelope envelope = parse_envelope(text, kStatementEnvelope, doc);
        SignedStatement out;
        out.key_id = envelope.key_id;
        out.statement = parse_statement(*envelope.body);
        out.signature = envelope_signature(doc);
        return out;
    } catch (const EnvelopeRefusal& r) {
        return Error{Errc::refused, "signature invalid: not a lucid-sig-1 statement: " + r.reason};
    }
}

}  // namespace lucid::host::install
