// Key revocation (contract §8.14): lucid-revoke-1 lists (install/revocation_list.hpp), revoked/
// in the trusted keys directory (install/trusted_keys.hpp), the trust state's signed revocations
// (install/trust_state.hpp), and signatures by a revoked key refused (install/signature.hpp).
#include <doctest/doctest.h>

#include <fstream>

#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/ed25519.hpp"
#include "install/revocation_list.hpp"
#include "install/signature.hpp"
#include "install/trust_state.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

std::string list_text(EVP_PKEY* signer, const std::vector<std::string>& ids) {
    SignedRevocation r{key_id(signer), {ids, "2026-12-01T05:00:00.000Z"}, ""};
    r.signature = base64_encode(ed25519_sign(signer, canonical_revocation(r.revocation)));
    return revocation_text(r);
}

std::string error_of(std::string_view text) {
    auto parsed = parse_revocation_list(text);
    return parsed ? "" : parsed.error().message;
}

}  // namespace

TEST_CASE("a revocation list: canonical form, strict parsing, round trip") {
    const auto key = generate_ed25519();
    const Revocation r{{"0123456789abcdef", "fedcba9876543210"}, "2026-12-01T05:00:00.000Z"};
    CHECK(
        canonical_revocation(r) ==
        R"({"key_ids":"0123456789abcdef,fedcba9876543210","signed_at":"2026-12-01T05:00:00.000Z"})");
    const std::string text = list_text(key.get(), r.key_ids);
    auto parsed = parse_revocation_list(text);
    REQUIRE(parsed);
    CHECK(parsed.value().revocation.key_ids == r.key_ids);
    CHECK(revocation_text(parsed.value()) == text);

    const std::string prefix = "revocation invalid: not a lucid-revoke-1 list: ";
    auto with = [&](const std::string& ids, const std::string& at = "2026-12-01T05:00:00.000Z") {
        return R"({"format":"lucid-revoke-1","key_id":"0123456789abcdef","revocation":{"key_ids":")" +
               ids + R"(","signed_at":")" + at + R"("},"signature":")" +
               std::string(88, 'A').replace(86, 2, "==") + "\"}";
    };
    CHECK(error_of(with("0123456789ABCDEF")) ==
          prefix +
              "'revocation.key_ids' must be key ids (16 lowercase hex digits) separated by commas");
    CHECK(error_of(with("0123456789abcdef,")) ==
          prefix +
              "'revocation.key_ids' must be key ids (16 lowercase hex digits) separated by commas");
    CHECK(error_of(with("0123456789abcdef,0123456789abcdef")) ==
          prefix + "'revocation.key_ids' names 0123456789abcdef twice");
    CHECK(error_of(with("0123456789abcdef", "yesterday")) ==
          prefix + "'revocation.signed_at' must be a UTC timestamp like 2026-12-01T05:00:00.000Z");
    std::string sixteen;
    for (int i = 0; i < 16; ++i)
        sixteen += (i ? "," : "") + std::string(15, 'a') + "0123456789abcdef"[i];
    CHECK(error_of(with(sixteen)) ==
          prefix + "'revocation.key_ids' names more than 15 keys: send several lists");
    // A permit is no revocation list, and the other way round.
    CHECK(error_of(R"({"format":"lucid-permit-1"})").rfind(prefix, 0) == 0);
}

TEST_CASE("a revocation list is verified: trusted signer, not revoked, its signature") {
    lucid::test::TempDir dir;
    const auto honest = generate_ed25519();
    const auto stolen = generate_ed25519();
    const auto stranger = generate_ed25519();
    std::ofstream(dir / "honest.pem") << public_key_pem(honest.get());
    std::ofstream(dir / "stolen.pem") << public_key_pem(stolen.get());
    const TrustedKeySet keys = load_trusted_keys(dir.path());
    const std::string stolen_id = key_id(stolen.get());

    auto ok = verify_revocation_list(list_text(honest.get(), {stolen_id}), keys, {});
    REQUIRE(ok);
    CHECK(ok.value().key_id == key_id(honest.get()));

    CHECK(verify_revocation_list(list_text(stranger.get(), {stolen_id}), keys, {})
              .error()
              .message.rfind("revocation invalid: unknown key_id " + key_id(stranger.get()), 0) ==
          0);
    // The stolen key, once revoked, cannot revoke the honest one.
    const RevokedKeys revoked{{stolen_id, "revoked/stolen.pem"}};
    CHECK(verify_revocation_list(list_text(stolen.get(), {key_id(honest.get())}), keys, revoked)
              .error()
              .message ==
          "revocation invalid: key " + stolen_id + " (stolen.pem) is revoked (revoked/stolen.pem)");
    // A list whose ids were changed after signing.
    std::string forged = list_text(honest.get(), {stolen_id});
    forged.replace(forged.find(stolen_id), 16, "0123456789abcdef");
    CHECK(verify_revocation_list(forged, keys, {}).error().message ==
          "revocation invalid: the list's signature does not verify with key " +
              key_id(honest.get()) + " (honest.pem)");
}

TEST_CASE("revoked/ in the trusted keys directory: public keys and files named by key id") {
    lucid::test::TempDir dir;
    const auto kept = generate_ed25519();
    const auto old = generate_ed25519();
    std::ofstream(dir / "kept.pem") << public_key_pem(kept.get());
    std::ofstream(dir / "old.pem") << public_key_pem(old.get());
    fs::create_directories(dir / "revoked");
    std::ofstream(dir / "revoked" / "old.pem") << public_key_pem(old.get());
    std::ofstream(dir / "revoked" / "0123456789abcdef.txt") << "leaked in CI, 2026-11-30\n";
    std::ofstream(dir / "revoked" / "notes.md") << "why";
    const TrustedKeySet keys = load_trusted_keys(dir.path());
    CHECK(keys.keys.size() == 2);  // still loaded: refused by name, not as unknown
    CHECK(keys.revoked.at(key_id(old.get())) == "revoked/old.pem");
    CHECK(keys.revoked.at("0123456789abcdef") == "revoked/0123456789abcdef.txt");
    CHECK(keys.revoked.count(key_id(kept.get())) == 0);
    REQUIRE(keys.skipped.size() == 1);
    CHECK(keys.skipped[0] ==
          "revoked/notes.md: neither a public key (*.pem, *.pub) nor named after a key id (16 "
          "hex digits)");
    CHECK(describe_trusted_keys(keys).find("  revoked " + key_id(old.get()) +
                                           " (revoked/old.pem)") != std::string::npos);

    // A signature by the revoked key is refused by name; the kept key's is fine.
    std::ofstream(dir / "a.so") << "artifact bytes";
    const std::string sha = sha256_file(dir / "a.so");
    SignaturePolicy policy;
    policy.keys = std::make_shared<TrustedKeySet>(keys);
    policy.revoked = keys.revoked;
    CHECK(check_signature(dir / "a.so", sha,
                          base64_encode(ed25519_sign(old.get(), "artifact bytes")), policy)
              .error()
              .message == "signature invalid: key " + key_id(old.get()) +
                              " (old.pem) is revoked (revoked/old.pem)");
    CHECK(check_signature(dir / "a.so", sha,
                          base64_encode(ed25519_sign(kept.get(), "artifact bytes")), policy));
    // Whether a key is revoked unknown (a trust state that cannot be read): nothing passes.
    policy.revocations_error = "trust state x cannot be read: y";
    CHECK(check_signature(dir / "a.so", sha,
                          base64_encode(ed25519_sign(kept.get(), "artifact bytes")), policy)
              .error()
              .message == "signature cannot be checked: trust state x cannot be read: y");
}

TEST_CASE("the trust state keeps signed revocations beside the floors, atomically") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    REQUIRE(trust.seed_if_absent({{"echo", "2.0.0"}}).value());
    auto added = trust.revoke("1111111111111111", {"0123456789abcdef", "fedcba9876543210"},
                              "2026-12-01T05:00:00.000Z");
    REQUIRE(added);
    CHECK(added.value().size() == 2);
    // Again: nothing new, nothing written twice.
    CHECK(trust.revoke("1111111111111111", {"0123456789abcdef"}, "2026-12-01T06:00:00.000Z")
              .value()
              .empty());
    // A later floor change keeps them.
    REQUIRE(trust.commit("echo", "3.0.0", {}));
    const TrustState fresh(dir.path());
    const auto revocations = fresh.revocations().value();
    REQUIRE(revocations.size() == 2);
    CHECK(revocations.at("0123456789abcdef").signed_by == "1111111111111111");
    CHECK(revocations.at("0123456789abcdef").signed_at == "2026-12-01T05:00:00.000Z");
    CHECK(revoked_keys(revocations).at("fedcba9876543210") ==
          "by a list signed by key 1111111111111111 at 2026-12-01T05:00:00.000Z");
    CHECK(fresh.load().value().at("echo").version == "3.0.0");
    CHECK(trust.unrevoke("0123456789abcdef"));
    CHECK(trust.unrevoke("0123456789abcdef").error().code == Errc::not_found);
    CHECK(fresh.revocations().value().size() == 1);
    // A malformed revocation makes the whole file unreadable, never "nothing revoked".
    std::ofstream(dir / kTrustStateFile, std::ios::trunc)
        << R"({"format":1,"floors":{},"revoked":{"0123456789abcdef":{"signed_by":1}}})";
    CHECK_FALSE(fresh.revocations());
}

TEST_CASE("a revocation that cannot be read leaves no key trusted; names are read leniently") {
    lucid::test::TempDir dir;
    const auto kept = generate_ed25519();
    const auto other = generate_ed25519();
    std::ofstream(dir / "kept.pem") << public_key_pem(kept.get());
    fs::create_directories(dir / "revoked");
    // An upper-case id, and a key file named after another id: the key itself counts.
    std::ofstream(dir / "revoked" / "0123456789ABCDEF") << "";
    std::ofstream(dir / "revoked" / "9999999999999999.pem") << public_key_pem(other.get());
    auto keys = load_trusted_keys(dir.path());
    CHECK(keys.usable());
    CHECK(keys.revoked.count("0123456789abcdef") == 1);
    CHECK(keys.revoked.count(key_id(other.get())) == 1);
    CHECK(keys.revoked.count("9999999999999999") == 0);

    // A revoked key that cannot be read: which keys are revoked is unknown, none is trusted.
    std::ofstream(dir / "revoked" / "lost.pem") << "not a key";
    keys = load_trusted_keys(dir.path());
    CHECK_FALSE(keys.usable());
    CHECK(keys.problem == "revoked/lost.pem: not a PEM public key (a revoked key must be read)");
}
