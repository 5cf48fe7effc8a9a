// lucidctl key generate NAME, sign FILE.so --key NAME.key, verify FILE.so [--keys DIR]: the
// operator's side of signed artifacts (README "Signing artifacts", contract §8.11). Local only:
// none of them talks to the broker. The keys, the statement and its verification are the
// agent's own code (install/ed25519.hpp, install/signed_statement.hpp, install/signature.hpp),
// so what lucidctl verify accepts is what the agent accepts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/atomic_file.hpp"
#include "common/local_file.hpp"
#include "contract/desired_document.hpp"
#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"
#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/ed25519.hpp"
#include "install/plugin_manifest.hpp"
#include "install/rollback_permit.hpp"
#include "install/signature.hpp"
#include "install/signed_statement.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/semver.hpp"
#include "lucidctl/agent_presence.hpp"
#include "lucidctl/verbs.hpp"
#include "self_update/build_signature.hpp"
#include "self_update/version_section.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr std::uint64_t kMaxKeyFileBytes = 64 * 1024;

// A key name becomes two file names in the current directory: nothing that leaves it.
bool valid_key_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-') {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

// Creates `path` with `mode`, never replacing what is there (O_EXCL: a key is never overwritten,
// not even through a link planted under its name).
void write_new_file(const std::string& path, const std::string& content, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            throw LocalError(path +
                             " exists already: a key is never overwritten (remove it, or "
                             "choose another NAME)");
        }
        throw LocalError("cannot create " + path + ": " + std::strerror(errno));
    }
    // The umask may have taken bits away, never added any; fchmod states the mode exactly.
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t written = 0;
    while (ok && written < content.size()) {
        const auto n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        throw LocalError("cannot write " + path + ": " + std::strerror(saved));
    }
}

int cmd_key_generate(Session& s) {
    const std::string& name = arg(s.options(), 2, "NAME (the key's name: NAME.key, NAME.pem)");
    expect_args(s.options(), 3);
    if (!valid_key_name(name)) {
        throw UsageError("key name '" + name +
                         "' must be 1 to 64 letters, digits, '-', '_' or '.', not starting with "
                         "'.' or '-' (it names NAME.key and NAME.pem here)");
    }
    for (const char* suffix : {".key", ".pem"}) {
        const std::string end(suffix);
        if (name.size() > end.size() &&
            name.compare(name.size() - end.size(), end.size(), end) == 0) {
            throw UsageError("key name '" + name + "' ends in " + end + ": give the bare name (" +
                             name.substr(0, name.size() - end.size()) + " makes " +
                             name.substr(0, name.size() - end.size()) + ".key and " +
                             name.substr(0, name.size() - end.size()) + ".pem)");
        }
    }
    const std::string private_file = name + ".key";
    const std::string public_file = name + ".pem";
    std::error_code ec;
    for (const auto& f : {private_file, public_file}) {
        if (std::filesystem::symlink_status(f, ec).type() !=
            std::filesystem::file_type::not_found) {
            throw LocalError(f +
                             " exists already: a key is never overwritten (remove it, or "
                             "choose another NAME)");
        }
    }
    const auto key = install::generate_ed25519();
    write_new_file(private_file, install::private_key_pem(key.get()), 0600);
    try {
        write_new_file(public_file, install::public_key_pem(key.get()), 0644);
    } catch (...) {
        ::unlink(private_file.c_str());  // half a pair is no pair
        throw;
    }
    const std::string id = install::key_id(key.get());
    if (s.json()) {
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("key_id", Value(id, a), a);
        doc.AddMember("private_key", Value(private_file, a), a);
        doc.AddMember("public_key", Value(public_file, a), a);
        s.out() << contract::to_json(doc) << "\n";
    } else {
        s.out() << "key id " << id << "\n"
                << private_file << "  private key (mode 0600): keep it secret, sign with it:\n"
                << "    lucidctl sign FILE.so --key " << private_file << "\n"
                << public_file << "  public key: copy it into each device's "
                << "LUCID_TRUSTED_KEYS_DIR\n";
    }
    return kOk;
}

}  // namespace

install::KeyPtr read_private_key(Session& s, const std::string& file) {
    std::string text;
    struct stat st {};
    try {
        text = LocalFile::open(file, kMaxKeyFileBytes).read_all();
    } catch (const std::exception& e) {
        throw LocalError("cannot read the key " + file + ": " + e.what());
    }
    std::string reason;
    auto key = install::parse_private_key_pem(text, reason);
    if (!key) {
        throw LocalError(file + " is not an Ed25519 private key (" + reason +
                         "): make one with lucidctl key generate NAME");
    }
    // Once it is known to be a private key: a public .pem given by mistake is told just that.
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && !s.json()) {
        s.err() << "lucidctl: warning: " << file << " is readable by others (mode " << std::oct
                << (st.st_mode & 0777) << std::dec << "): chmod 600 " << file << "\n";
    }
    return key;
}

namespace {

// The artifact's manifest (any machine: one signs aarch64 plugins on an x86_64 laptop).
// A plugin's manifest, or for a build of the agent (no manifest, its version section) what its
// signature must name: dist and component lucid-agent, its version (contract §8.15).
ManifestResult checked_manifest(const std::string& file) {
    require_regular_file(file);
    auto manifest = read_manifest(file, ElfMachine::any);
    if (!manifest.ok()) {
        if (auto agent = self_update::embedded_version(file)) {
            const std::string dist = self_update::kAgentDist;
            return ManifestResult{PluginManifest{dist, agent.value().version, dist, 0, 0}, "",
                                  agent.value().machine};
        }
        throw LocalError(manifest.error);
    }
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        throw LocalError(checked.error().message);
    }
    return manifest;
}

// --platform, else the file name's tag, else the ELF machine's (linux_<arch>).
std::string platform_of(Session& s, const std::string& file, std::uint16_t machine) {
    std::string platform;
    if (auto given = command_option(s.options(), "platform")) {
        if (!contract::valid_platform_tag(*given)) {
            throw UsageError("--platform '" + *given +
                             "' is not a platform tag ([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
        }
        platform = *given;
    } else {
        // A plugin's name may carry its tag; a build of the agent's (lucid-agent) does not.
        const bool plugin_name = file.size() > 3 && file.compare(file.size() - 3, 3, ".so") == 0;
        if (plugin_name) platform = registry::parse_artifact_name(file).platform_tag;
        if (platform.empty()) {
            const std::string arch = elf_machine_arch(machine);
            if (arch.empty()) {
                throw LocalError(file + " is built for ELF machine " + std::to_string(machine) +
                                 ", which lucidctl has no platform tag for: give --platform");
            }
            platform = "linux_" + arch;
        }
    }
    if (Status fits = check_platform(file, machine, platform); !fits) {
        throw LocalError(fits.error().message);
    }
    return platform;
}

}  // namespace

int cmd_sign(Session& s) {
    const std::string& file = arg(s.options(), 1, "FILE.so");
    expect_args(s.options(), 2);
    const auto key_file = command_option(s.options(), "key");
    if (!key_file) throw UsageError("--key NAME.key is mandatory: the private key to sign with");
    const auto manifest = checked_manifest(file);
    const auto& m = *manifest.manifest;
    const std::string platform = platform_of(s, file, manifest.machine);
    const auto key = read_private_key(s, *key_file);

    install::SignedStatement signed_statement;
    auto& st = signed_statement.statement;
    st.sha256 = install::sha256_file(file);
    st.dist = registry::normalize_dist_name(m.dist_name);
    st.version = m.version;
    st.component = m.component_id;
    st.platform = platform;
    st.signed_at = contract::utc_timestamp(contract::Clock::now());
    signed_statement.key_id = install::key_id(key.get());
    signed_statement.signature =
        install::base64_encode(install::ed25519_sign(key.get(), install::canonical_statement(st)));
    const std::string text = install::signature_text(signed_statement);
    // What we write must be what the agent reads: parsed back with its parser.
    if (auto back = install::parse_signed_statement(text); !back) {
        throw LocalError("cannot sign " + file + ": " + back.error().message);
    }
    const std::string sig_file = file + ".sig";
    try {
        write_file_atomically(sig_file, text + "\n", real_file_ops(), 0644);
    } catch (const std::exception& e) {
        throw LocalError(std::string("cannot write the signature: ") + e.what());
    }
    if (s.json()) {
        s.out() << text << "\n";
    } else {
        s.out() << "signed " << file << ": " << st.dist << " " << st.version << " (component "
                << st.component << ", " << st.platform << ") with key " << signed_statement.key_id
                << " (" << *key_file << ")\n"
                << "wrote " << sig_file << "\n";
    }
    return kOk;
}

int cmd_verify(Session& s) {
    const std::string& file = arg(s.options(), 1, "FILE.so");
    expect_args(s.options(), 2);
    std::filesystem::path dir = s.target().trusted_keys_dir;
    if (auto keys = command_option(s.options(), "keys")) dir = *keys;
    if (dir.empty()) {
        throw UsageError(
            "no trusted keys to verify with: give --keys DIR (or set LUCID_TRUSTED_KEYS_DIR)");
    }
    auto keys = std::make_shared<install::TrustedKeySet>(install::load_trusted_keys(dir));
    if (!keys->usable()) throw LocalError(install::no_usable_key_error(*keys));
    const auto manifest = checked_manifest(file);
    const std::filesystem::path sig_file = file + ".sig";
    std::error_code ec;
    if (!std::filesystem::exists(sig_file, ec)) {
        throw LocalError(file + " is unsigned: no " + sig_file.string() +
                         " beside it (lucidctl sign " + file + " --key NAME.key)");
    }
    const std::string text = signature_file(sig_file);
    const std::string sha256 = install::sha256_file(file);
    install::SignaturePolicy policy;
    policy.keys = keys;
    policy.require_signature = true;
    policy.revoked = keys->revoked;  // the directory's revoked/ (an agent adds its signed lists)
    policy.accept_bare_signatures = s.target().accept_bare_signatures;
    auto checked = install::check_signature(file, sha256, text, policy);
    if (!checked) throw LocalError(file + ": " + checked.error().message);
    const auto& found = checked.value();
    if (found.statement) {
        // The platform the statement names must fit the file; which devices take it is theirs.
        const auto& st = *found.statement;
        if (Status claims = install::check_statement(st, *manifest.manifest, st.platform);
            !claims) {
            throw LocalError(file + ": " + claims.error().message);
        }
        if (Status fits = check_platform(file, manifest.machine, st.platform); !fits) {
            throw LocalError(file + ": signature statement mismatch: " + fits.error().message);
        }
    }
    const bool bare = found.form == install::SignatureCheck::Form::bare;
    if (s.json()) {
        Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("ok", true, a);
        doc.AddMember("format", Value(bare ? "bare" : "lucid-sig-1", a), a);
        doc.AddMember("key_id", Value(found.key_id, a), a);
        doc.AddMember("key_file", Value(found.key_file, a), a);
        if (found.statement) {
            Document statement;
            statement.Parse(install::canonical_statement(*found.statement).c_str());
            doc.AddMember("statement", Value(statement, a), a);
        }
        s.out() << contract::to_json(doc) << "\n";
        return kOk;
    }
    s.out() << file << ": signed by key " << found.key_id << " (" << found.key_file << " in "
            << dir.string() << ")\n";
    if (found.statement) {
        const auto& st = *found.statement;
        s.out() << "  lucid-sig-1: " << st.dist << " " << st.version << ", component "
                << st.component << ", platform " << st.platform << ", signed at " << st.signed_at
                << "\n";
    } else {
        s.out() << "  bare signature (deprecated: it names no dist, version or platform; "
                   "re-sign with lucidctl sign)\n";
    }
    return kOk;
}

int cmd_permit(Session& s) {
    const std::string& dist_arg = arg(s.options(), 1, "DIST");
    const std::string& version = arg(s.options(), 2, "VERSION");
    expect_args(s.options(), 3);
    const std::string dist = registry::normalize_dist_name(dist_arg);
    if (!registry::is_valid_identifier(dist)) {
        throw UsageError("'" + dist_arg + "' is not a dist name");
    }
    if (!registry::Version::parse(version)) {
        throw UsageError("'" + version + "' is not a semantic version");
    }
    const auto key_file = command_option(s.options(), "key");
    if (!key_file) throw UsageError("--key NAME.key is mandatory: the private key to sign with");
    const auto expires = command_option(s.options(), "expires");
    // Short-lived by design: a permit is one operator's decision about one rollback, not a
    // standing licence to downgrade.
    if (!expires) throw UsageError("--expires AGE is mandatory: from 1s to 30d, like 1h or 2d");
    const auto seconds = parse_age(*expires);
    if (!seconds || *seconds < 1 || *seconds > 30.0 * 86400) {
        throw UsageError("--expires must be an age from 1s to 30d, like 90m, 1h or 2d, got '" +
                         *expires + "'");
    }
    const auto key = read_private_key(s, *key_file);
    install::SignedPermit signed_permit;
    signed_permit.permit.dist = dist;
    signed_permit.permit.version = version;
    signed_permit.permit.expires_at = contract::utc_timestamp(
        contract::Clock::now() + std::chrono::seconds(static_cast<long long>(*seconds)));
    signed_permit.key_id = install::key_id(key.get());
    signed_permit.signature = install::base64_encode(
        install::ed25519_sign(key.get(), install::canonical_permit(signed_permit.permit)));
    const std::string text = install::permit_text(signed_permit);
    // What we write must be what the agent reads: parsed back with its parser.
    if (auto back = install::parse_rollback_permit(text); !back) {
        throw LocalError("cannot make the permit: " + back.error().message);
    }
    const std::string file = dist + "-" + version + ".permit";
    try {
        write_file_atomically(file, text + "\n", real_file_ops(), 0644);
    } catch (const std::exception& e) {
        throw LocalError(std::string("cannot write the permit: ") + e.what());
    }
    if (s.json()) {
        s.out() << text << "\n";
    } else {
        s.out() << "permit: " << dist << " may go back to " << version << " until "
                << signed_permit.permit.expires_at << " (key " << signed_permit.key_id << ", "
                << *key_file << ")\n"
                << "wrote " << file << "; send it with allow_downgrade:\n"
                << "    lucidctl plugin install FILE.so --force --permit " << file << "\n";
    }
    return kOk;
}

int cmd_key(Session& s) {
    const std::string& sub = arg(s.options(), 1, "key subcommand (generate, revoke)");
    if (sub == "generate") return cmd_key_generate(s);
    if (sub == "revoke") return cmd_key_revoke(s);
    throw UsageError(unknown_word_error("key subcommand", sub, known_words({"key"})));
}

}  // namespace lucid::host::ctl
