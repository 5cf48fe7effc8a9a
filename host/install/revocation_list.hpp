// A signed revocation list (contract §8.14): a trusted key's word that other keys (or itself) are
// no longer to be trusted, sent to an agent with `core/cmd/keys/revoke` and kept in its trust
// state (install/trust_state.hpp), so that a stolen key can be cut off without anyone on site.
// `lucidctl key revoke KEY_ID... --key K` writes one:
//
//   {"format":"lucid-revoke-1","key_id":"3f9a0c17e2b4d685",
//    "revocation":{"key_ids":"9c0d1e2f3a4b5c6d,0123456789abcdef","signed_at":"2026-12-01T05:00:00.000Z"},
//    "signature":"<base64 of 64 bytes>"}
//
// `key_ids` is a comma-separated list of 1 to 15 key ids (what fits a 256-byte value) (16 lowercase
// hex digits each, no repeats), so that the body stays one plain value like those of lucid-sig-1
// and lucid-permit-1 (install/signed_envelope.hpp). The signature is Ed25519 over the *canonical
// revocation*
//   {"key_ids":"<ids>","signed_at":"<signed_at>"}
// which starts unlike a canonical statement ({"sha256":) or permit ({"dist":): none of the three
// can pass for another.
//
// Thread: pure functions. Errors: the contract's error text, nothing thrown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "install/trusted_keys.hpp"

namespace lucid::host::install {

inline constexpr std::string_view kRevocationFormat = "lucid-revoke-1";
inline constexpr std::size_t kMaxRevocationTextBytes = 4096;

struct Revocation {
    std::vector<std::string> key_ids;  // the keys it revokes, in the order given
    std::string signed_at;             // UTC ISO-8601 (contract §3.1), informative
};

struct SignedRevocation {
    std::string key_id;  // the key that signed it
    Revocation revocation;
    std::string signature;  // base64 of the Ed25519 signature of the canonical revocation
};

// {"key_ids":"<id>,<id>","signed_at":"…"}
std::string canonical_revocation(const Revocation& revocation);

// The one-line lucid-revoke-1 JSON text (no line end).
std::string revocation_text(const SignedRevocation& signed_revocation);

// Parses strictly (every member present, of its type and form; no other member; no key twice;
// at most kMaxRevocationTextBytes). Error:
//   revocation invalid: not a lucid-revoke-1 list: <reason>
Expected<SignedRevocation> parse_revocation_list(std::string_view text);

// Parses, finds the signing key by its id among `keys`, refuses a signer that is itself
// revoked (in `revoked`), verifies the signature. Errors (Errc::refused):
//   revocation invalid: not a lucid-revoke-1 list: <reason>
//   revocation invalid: unknown key_id <id>: not among the trusted keys (<id> (<file>), …)
//   revocation invalid: key <id> (<file>) is revoked (<why>)
//   revocation invalid: the list's signature does not verify with key <id> (<file>)
Expected<SignedRevocation> verify_revocation_list(std::string_view text, const TrustedKeySet& keys,
                                                  const RevokedKeys& revoked);

}  // namespace lucid::host::install
