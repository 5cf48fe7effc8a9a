#include "install/trusted_keys.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "install/digest.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

// A key file is tiny; anything larger is not one (and a FIFO or /dev/zero must not hang us).
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

// The file's bytes, or the reason it cannot be read. Opened non-blocking and checked by the
// descriptor, so a FIFO or device planted in the directory cannot block the agent.
std::optional<std::string> read_key_file(const fs::path& path, std::string& reason) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        reason = std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    std::string bytes;
    if (::fstat(fd, &st) != 0) {
        reason = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        reason = "not a regular file";
    } else if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
        reason = "larger than 64 KiB, not a public key";
    } else {
        bytes.resize(static_cast<std::size_t>(st.st_size));
        const auto n = ::read(fd, bytes.data(), bytes.size());
        if (n < 0) {
            reason = std::strerror(errno);
        } else {
            bytes.resize(static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    if (!reason.empty()) return std::nullopt;
    return bytes;
}

std::string key_id_of(EVP_PKEY* key) {
    unsigned char raw[64];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) return "sha256:?";
    const std::string hex = sha256_hex(std::string_view(reinterpret_cast<char*>(raw), len));
    return "sha256:" + hex.substr(0, 16);
}

// The key in `text`, or the reason it is not a usable Ed25519 public key.
std::shared_ptr<EVP_PKEY> parse_key(const std::string& text, std::string& reason) {
    if (text.rfind("ssh-", 0) == 0) {
        reason = "an OpenSSH public key, not PEM (convert it: ssh-keygen -e -m PKCS8 -f FILE)";
        return nullptr;
    }
    if (text.find("PRIVATE KEY-----") != std::string::npos) {
        reason = "a private key: only the public half belongs here (openssl pkey -pubout)";
        return nullptr;
    }
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!key) {
        reason = "not a PEM public key";
        return nullptr;
    }
    std::shared_ptr<EVP_PKEY> owned(key, &EVP_PKEY_free);
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        const char* type = EVP_PKEY_get0_type_name(key);
        reason = std::string(type ? type : "unknown") + " key, not Ed25519";
        return nullptr;
    }
    return owned;
}

}  // namespace

TrustedKeySet load_trusted_keys(const fs::path& dir) {
    TrustedKeySet set;
    set.dir = dir;
    if (dir.empty()) return set;
    std::error_code ec;
    const auto status = fs::status(dir, ec);
    if (ec || !fs::exists(status)) {
        set.problem = ec && ec != std::errc::no_such_file_or_directory
                          ? "cannot read it: " + ec.message()
                          : "the directory does not exist";
        return set;
    }
    if (!fs::is_directory(status)) {
        set.problem = "not a directory";
        return set;
    }
    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        set.problem = "cannot list it: " + ec.message();
        return set;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) files.push_back(it->path());
    if (ec) {
        set.problem = "cannot list it: " + ec.message();
        return set;
    }
    std::sort(files.begin(), files.end());  // a stable order for check-config and tests
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        if (name.front() == '.') continue;  // editors' and tools' hidden files
        const auto ext = path.extension();
        if (ext != ".pem" && ext != ".pub") {
            set.skipped.push_back(name + ": not a *.pem or *.pub file");
            continue;
        }
        std::string reason;
        auto text = read_key_file(path, reason);
        std::shared_ptr<EVP_PKEY> key = text ? parse_key(*text, reason) : nullptr;
        if (!key) {
            set.skipped.push_back(name + ": " + reason);
            continue;
        }
        set.keys.push_back(TrustedKey{name, key_id_of(key.get()), std::move(key)});
    }
    if (set.keys.empty()) {
        std::string reasons;
        for (const auto& s : set.skipped) reasons += (reasons.empty() ? "" : "; ") + s;
        set.problem = reasons.empty() ? "no *.pem or *.pub file in it" : reasons;
    }
    return set;
}

std::string no_usable_key_error(const TrustedKeySet& set) {
    return "trusted_keys_dir " + set.dir.string() + ": no usable Ed25519 public key (" +
           set.problem + ")";
}

std::string describe_trusted_keys(const TrustedKeySet& set) {
    std::string out;
    for (const auto& k : set.keys) out += "  loaded  " + k.file + " ed25519 " + k.key_id + "\n";
    for (const auto& s : set.skipped) out += "  skipped " + s + "\n";
    return out;
}

}  // namespace lucid::host::install
