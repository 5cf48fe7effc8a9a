// The signature text of an artifact (contract §8.11): what `lucidctl sign` writes to `x.so.sig`
// and what an install command's `source.signature` carries. Two forms:
//
//   lucid-sig-1  one line of JSON: a statement about the artifact (its sha256, dist, version,
//                component, platform, when it was signed), the id of the signing key, and the
//                Ed25519 signature of the *canonical statement*:
//     {"format":"lucid-sig-1","key_id":"3f9a0c17e2b4d685","statement":{"sha256":"…",
//      "dist":"lucid-agent-cpu","version":"1.2.0","component":"cpu","platform":"linux_x86_64",
//      "signed_at":"2026-12-01T02:30:00.000Z"},"signature":"<base64 of 64 bytes>"}
//   bare         the base64 of a 64-byte Ed25519 signature of the artifact's bytes (deprecated:
//                it says nothing of which artifact it was meant for, so any signed artifact can
//                be replayed under any name and version).
//
// The canonical statement is the statement object written with its six members in the order
// above, no whitespace, by RapidJSON's Writer. Every value is printable ASCII without space,
// '"' or '\' (the parser refuses anything else), so the canonical text is the plain concatenation
//   {"sha256":"<sha256>","dist":"<dist>",...,"signed_at":"<signed_at>"}
// and a third party reproduces it with printf (contract §8.11 has a worked example).
//
// Thread: pure functions. Errors: the parser returns the contract's error text.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace lucid::host::install {

inline constexpr std::string_view kSignatureFormat = "lucid-sig-1";
// A lucid-sig-1 line is about 450 bytes; this leaves room for long versions and nothing more.
inline constexpr std::size_t kMaxSignatureTextBytes = 4096;

struct Statement {
    std::string sha256;     // 64 lowercase hex digits: the artifact's bytes
    std::string dist;       // the dist name, normalized (PEP 503: lucid-agent-cpu)
    std::string version;    // the manifest's version
    std::string component;  // the manifest's component id
    std::string platform;   // the platform tag it is for (linux_x86_64)
    std::string signed_at;  // UTC ISO-8601 (contract §3.1), informative
};

struct SignedStatement {
    std::string key_id;  // ed25519.hpp: 16 lowercase hex digits
    Statement statement;
    std::string signature;  // base64 of the 64-byte Ed25519 signature of the canonical statement
};

// {"sha256":"…","dist":"…","version":"…","component":"…","platform":"…","signed_at":"…"}
std::string canonical_statement(const Statement& statement);

// The one-line lucid-sig-1 JSON text (no line end).
std::string signature_text(const SignedStatement& signed_statement);

// True when `text` is meant as lucid-sig-1 (its first non-blank character is '{'), false for
// the bare form. Decides which parser a text gets, so that a broken lucid-sig-1 line is never
// reported as "not base64".
bool is_statement_form(std::string_view text);

// Parses a lucid-sig-1 text strictly: every member present, of its type and form; no other
// member; no duplicate key; at most kMaxSignatureTextBytes. Errors (the whole message):
//   signature invalid: not a lucid-sig-1 statement: <reason>
// with reasons such as "invalid JSON: ...", "'format' is 'x', not 'lucid-sig-1'",
// "'key_id' must be 16 lowercase hex digits", "'statement.version' is missing",
// "'statement' has an unknown member 'extra'", "'signature' is not the base64 of 64 bytes".
Expected<SignedStatement> parse_signed_statement(std::string_view text);

}  // namespace lucid::host::install
