// The trusted signing keys (LUCID_TRUSTED_KEYS_DIR): Ed25519 public keys in PEM, loaded once at
// start and again on SIGHUP, never per install.
//
// A key file is `*.pem` or `*.pub` holding a PEM public key (`openssl pkey -in signer.key
// -pubout`); an OpenSSH `ssh-ed25519 AAAA…` line is not that format and is skipped. Every other
// file, and every file that is unreadable, not a PEM public key or not Ed25519, is skipped with
// its reason, so that a configured directory that yields no usable key is a clear error (the
// agent refuses to start) instead of silently turning signature checking off.
//
// Thread: load_trusted_keys() from any thread; a TrustedKeySet is immutable once loaded and is
// shared between installs as std::shared_ptr<const TrustedKeySet>. Errors: none thrown.
#pragma once

#include <openssl/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lucid::host::install {

// Revoked keys by key id, each with why, as an error names it: "revoked/<file>" (the directory)
// or "by a list signed by key <id> at <signed_at>" (the trust state, install/trust_state.hpp).
using RevokedKeys = std::map<std::string, std::string>;

struct TrustedKey {
    std::string file;    // file name inside the directory
    std::string key_id;  // first 16 hex of SHA-256 of the raw 32-byte public key (ed25519.hpp)
    std::shared_ptr<EVP_PKEY> key;
};

struct TrustedKeySet {
    std::filesystem::path dir;         // empty: no trusted keys configured
    std::vector<TrustedKey> keys;      // the usable keys
    std::vector<std::string> skipped;  // "<file>: <reason>" for every file not used
    // `revoked/` inside the directory: a public key (*.pem, *.pub) or a file named after a key
    // id (`<id>`, `<id>.<anything>`) revokes that key (contract §8.14). Its keys stay loaded
    // (a signature by one is refused by name, not as unknown).
    RevokedKeys revoked;
    std::string problem;  // why no key is usable (set when dir is configured and keys is empty)

    bool configured() const { return !dir.empty(); }
    bool usable() const { return !keys.empty(); }
    // The usable key whose id is `key_id` (ed25519.hpp), or null. Two files holding the same key
    // give the same id: the first (by file name) is found, and either verifies.
    const TrustedKey* find(std::string_view key_id) const;
    // "<id> (<file>), ..." for every usable key: what an unknown key_id is told it is not.
    std::string key_ids() const;
};

// Loads every usable key of `dir` and the revocations of `dir/revoked`; an empty `dir` gives an
// empty, unconfigured set.
TrustedKeySet load_trusted_keys(const std::filesystem::path& dir);

// "trusted_keys_dir <dir>: no usable Ed25519 public key (<problem>)": the start-up error.
std::string no_usable_key_error(const TrustedKeySet& set);

// One line per loaded key ("  loaded  release.pem ed25519 key_id 3f9a0c17e2b4d685"), per revoked
// key ("  revoked 9c0d1e2f3a4b5c6d (revoked/old.pem)") and per skipped file ("  skipped x.txt:
// not a *.pem or *.pub file"), for check-config and the reload log.
std::string describe_trusted_keys(const TrustedKeySet& set);

}  // namespace lucid::host::install
