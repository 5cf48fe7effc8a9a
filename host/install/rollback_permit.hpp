// A rollback permit (contract §8.13): a trusted key's signed word that one dist may go back to
// one version until a time. Under LUCID_SIGNATURE_POLICY=required, `allow_downgrade: true` goes
// below a version floor (install/trust_state.hpp) only with one, so that whoever may merely send
// commands cannot bring back an old signed build. `lucidctl permit DIST VERSION --key K
// --expires 1h` writes it; an install command or a desired component carries its text in
// `rollback_permit`:
//
//   {"format":"lucid-permit-1","key_id":"3f9a0c17e2b4d685",
//    "permit":{"dist":"lucid-agent-cpu","version":"1.0.0","expires_at":"2026-12-01T05:00:00.000Z"},
//    "signature":"<base64 of 64 bytes>"}
//
// The signature is Ed25519 over the *canonical permit*: the permit object with its three members
// in this order, no whitespace (RapidJSON's Writer), as lucid-sig-1 does for its statement
// (install/signed_statement.hpp). Every value is printable ASCII without space, '"' or '\', so
// the canonical text is the plain concatenation
//   {"dist":"<dist>","version":"<version>","expires_at":"<expires_at>"}
// It can never be mistaken for a lucid-sig-1 statement (whose canonical text starts with
// {"sha256":), so an artifact signature is no permit and a permit no artifact signature.
//
// Thread: pure functions. Errors: the contract's error text, nothing thrown.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "install/trusted_keys.hpp"

namespace lucid::host::install {

inline constexpr std::string_view kPermitFormat = "lucid-permit-1";
inline constexpr std::size_t kMaxPermitTextBytes = 4096;
// How far ahead of the device's clock a permit may expire (lucidctl permit --expires: 30d).
inline constexpr std::chrono::hours kMaxPermitLifetime{30 * 24};

struct Permit {
    std::string dist;        // normalized dist name (lucid-agent-cpu)
    std::string version;     // the version it lets the dist go back to (a semantic version)
    std::string expires_at;  // UTC ISO-8601 (contract §3.1): not valid at or after it
};

struct SignedPermit {
    std::string key_id;  // ed25519.hpp
    Permit permit;
    std::string signature;  // base64 of the Ed25519 signature of the canonical permit
};

// {"dist":"…","version":"…","expires_at":"…"}
std::string canonical_permit(const Permit& permit);

// The one-line lucid-permit-1 JSON text (no line end).
std::string permit_text(const SignedPermit& signed_permit);

// Parses strictly (every member present, of its type and form; no other member; no key twice;
// at most kMaxPermitTextBytes). Error:
//   rollback permit invalid: not a lucid-permit-1 permit: <reason>
Expected<SignedPermit> parse_rollback_permit(std::string_view text);

// Parses, finds the key by its id among `keys`, verifies the signature and the expiry against
// `now`. Errors (Errc::refused):
//   rollback permit invalid: not a lucid-permit-1 permit: <reason>
//   rollback permit invalid: unknown key_id <id>: not among the trusted keys (<id> (<file>), …)
//   rollback permit invalid: key <id> (<file>) is revoked (<why>)
//   rollback permit invalid: the permit's signature does not verify with key <id> (<file>)
//   rollback permit expired at <expires_at>
//   rollback permit invalid: it expires at <expires_at>, more than 30 days ahead (a permit is
//   short-lived)
Expected<Permit> verify_rollback_permit(std::string_view text, const TrustedKeySet& keys,
                                        const RevokedKeys& revoked,
                                        std::chrono::system_clock::time_point now);

}  // namespace lucid::host::install
