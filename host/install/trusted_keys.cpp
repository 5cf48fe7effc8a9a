#include "install/trusted_keys.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "install/ed25519.hpp"

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
    } else if ((st.st_mode & S_IWOTH) != 0) {
        // Anyone could put their own key in its place: never trusted (like sshd's StrictModes).
        reason = "writable by others (chmod o-w): anyone could replace the key";
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

// The key ids `dir/revoked` names (see TrustedKeySet::revoked). A revocation that cannot be read
// must not go unnoticed, nor count as "nothing revoked": a directory that cannot be listed, or a
// key file there that cannot be read, is returned as the reason no key is usable. Other files
// (notes beside the keys) are skipped with their reason.
std::optional<std::string> load_revoked(const fs::path& dir, TrustedKeySet& set) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        files.push_back(it->path());
    }
    if (ec) return "revoked/ cannot be listed: " + ec.message();
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        if (name.front() == '.') continue;
        const std::string where = "revoked/" + name;
        const auto ext = path.extension();
        if (ext == ".pem" || ext == ".pub") {
            // The key itself says which it is, whatever the file is called.
            std::string reason;
            auto text = read_key_file(path, reason);
            KeyPtr key = text ? parse_public_key_pem(*text, reason) : nullptr;
            if (!key) return where + ": " + reason + " (a revoked key must be read)";
            set.revoked.emplace(key_id(key.get()), where);
            continue;
        }
        std::string stem = name.substr(0, name.find('.'));
        std::transform(stem.begin(), stem.end(), stem.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (is_key_id(stem)) {
            set.revoked.emplace(stem, where);
            continue;
        }
        set.skipped.push_back(where +
                              ": neither a public key (*.pem, *.pub) nor named after a key id "
                              "(16 hex digits)");
    }
    return std::nullopt;
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
    if ((status.permissions() & fs::perms::others_write) != fs::perms::none) {
        set.problem = "the directory is writable by others (chmod o-w " + dir.string() +
                      "): anyone could add a key";
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
    std::optional<std::string> revoked_problem;
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        if (name.front() == '.') continue;  // editors' and tools' hidden files
        if (name == "revoked" && fs::is_directory(path, ec)) {
            revoked_problem = load_revoked(path, set);
            continue;
        }
        const auto ext = path.extension();
        if (ext != ".pem" && ext != ".pub") {
            set.skipped.push_back(name + ": not a *.pem or *.pub file");
            continue;
        }
        std::string reason;
        auto text = read_key_file(path, reason);
        KeyPtr key = text ? parse_public_key_pem(*text, reason) : nullptr;
        if (!key) {
            set.skipped.push_back(name + ": " + reason);
            continue;
        }
        std::string id = key_id(key.get());
        set.keys.push_back(TrustedKey{name, std::move(id), std::move(key)});
    }
    if (revoked_problem) {
        // Which keys are revoked is unknown: none is trusted (the start stops, a reload keeps
        // the keys it had).
        set.keys.clear();
        set.problem = *revoked_problem;
        return set;
    }
    if (set.keys.empty()) {
        std::string reasons;
        for (const auto& s : set.skipped) reasons += (reasons.empty() ? "" : "; ") + s;
        set.problem = reasons.empty() ? "no *.pem or *.pub file in it" : reasons;
    }
    return set;
}

const TrustedKey* TrustedKeySet::find(std::string_view id) const {
    for (const auto& k : keys) {
        if (k.key_id == id) return &k;
    }
    return nullptr;
}

std::string TrustedKeySet::key_ids() const {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k.key_id + " (" + k.file + ")";
    return out;
}

std::string no_usable_key_error(const TrustedKeySet& set) {
    return "trusted_keys_dir " + set.dir.string() + ": no usable Ed25519 public key (" +
           set.problem + ")";
}

std::string describe_trusted_keys(const TrustedKeySet& set) {
    std::string out;
    for (const auto& k : set.keys) {
        out += "  loaded  " + k.file + " ed25519 key_id " + k.key_id + "\n";
    }
    for (const auto& [id, where] : set.revoked) out += "  revoked " + id + " (" + where + ")\n";
    for (const auto& s : set.skipped) out += "  skipped " + s + "\n";
    return out;
}

}  // namespace lucid::host::install
