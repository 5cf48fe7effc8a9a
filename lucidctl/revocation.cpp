// lucidctl key revoke KEY_ID|FILE.pem... --key NAME.key (makes a signed revocation list, local)
// and lucidctl revoke FILE (sends one to the agent: core/cmd/keys/revoke). README "Signing
// artifacts", contract §8.14.
#include <set>

#include "common/atomic_file.hpp"
#include "common/local_file.hpp"
#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/revocation_list.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

constexpr std::uint64_t kMaxPublicKeyFileBytes = 64 * 1024;

// A key id as given, or the id of the public key in a file (what `key generate` printed).
std::string key_id_of(const std::string& word) {
    if (install::is_key_id(word)) return word;
    std::string text;
    try {
        text = LocalFile::open(word, kMaxPublicKeyFileBytes).read_all();
    } catch (const std::exception& e) {
        throw UsageError("'" + word +
                         "' is neither a key id (16 lowercase hex digits) nor a readable public "
                         "key file: " +
                         e.what());
    }
    std::string reason;
    const auto key = install::parse_public_key_pem(text, reason);
    if (!key) throw LocalError(word + " is not an Ed25519 public key (" + reason + ")");
    return install::key_id(key.get());
}

}  // namespace

int cmd_key_revoke(Session& s) {
    const auto& words = s.options().words;
    if (words.size() < 3) throw UsageError("missing KEY_ID or FILE.pem: the key(s) to revoke");
    const auto key_file = command_option(s.options(), "key");
    if (!key_file) throw UsageError("--key NAME.key is mandatory: a trusted key to sign with");
    install::SignedRevocation list;
    std::set<std::string> seen;
    for (std::size_t i = 2; i < words.size(); ++i) {
        const std::string id = key_id_of(words[i]);
        if (seen.insert(id).second) list.revocation.key_ids.push_back(id);
    }
    const auto key = read_private_key(s, *key_file);
    list.key_id = install::key_id(key.get());
    list.revocation.signed_at = contract::utc_timestamp(contract::Clock::now());
    list.signature = install::base64_encode(
        install::ed25519_sign(key.get(), install::canonical_revocation(list.revocation)));
    const std::string text = install::revocation_text(list);
    // What we write must be what the agent reads: parsed back with its parser (which also
    // bounds the list: at most 15 keys).
    if (auto back = install::parse_revocation_list(text); !back) {
        throw UsageError("cannot make the list: " + back.error().message);
    }
    const std::string file = "revoke-" + list.revocation.key_ids.front() + ".json";
    std::error_code ec;
    if (std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::not_found) {
        // Another list (perhaps of 15 keys) is never overwritten by this one.
        throw LocalError(file + " exists already: send it, or move it away first");
    }
    try {
        write_file_atomically(file, text + "\n", real_file_ops(), 0644);
    } catch (const std::exception& e) {
        throw LocalError(std::string("cannot write the revocation list: ") + e.what());
    }
    if (s.json()) {
        s.out() << text << "\n";
        return kOk;
    }
    std::string ids;
    for (const auto& id : list.revocation.key_ids) ids += (ids.empty() ? "" : ", ") + id;
    s.out() << "revocation of key " << ids << ", signed by key " << list.key_id << " (" << *key_file
            << ")\n"
            << "wrote " << file << "; send it to each agent:\n"
            << "    lucidctl --agent ID revoke " << file << "\n"
            << "and put the revoked keys' files (or files named after their ids) in revoked/ "
               "inside LUCID_TRUSTED_KEYS_DIR where you can\n";
    return kOk;
}

int cmd_revoke(Session& s) {
    const std::string& file = arg(s.options(), 1, "FILE (a revocation list: lucidctl key revoke)");
    expect_args(s.options(), 2);
    std::string text;
    try {
        text = LocalFile::open(file, install::kMaxRevocationTextBytes + 2).read_all();
    } catch (const std::exception& e) {
        throw LocalError("cannot read the revocation list " + file + ": " + e.what());
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    // Checked here first: a file that is no list is the operator's mistake, not the agent's.
    if (auto parsed = install::parse_revocation_list(text); !parsed) {
        const bool key = text.rfind("-----BEGIN", 0) == 0;
        throw LocalError(file + ": " + parsed.error().message +
                         (key ? " (this is a key: make a list with lucidctl key revoke KEY_ID|"
                                "FILE.pem --key NAME.key)"
                              : ""));
    }
    rapidjson::Document payload(rapidjson::kObjectType);
    payload.AddMember("revocation",
                      rapidjson::Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                                       payload.GetAllocator()),
                      payload.GetAllocator());
    return s.report(contract::topics::kRevokeKeys.name,
                    s.request(contract::topics::kRevokeKeys, std::move(payload)));
}

}  // namespace lucid::host::ctl
