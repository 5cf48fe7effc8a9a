#include "install/detached_signature.hpp"

#include <cctype>
#include <cerrno>

#include "common/local_file.hpp"
#include "install/base64.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kRawSignatureBytes = 64;

bool exists_or_dangles(const fs::path& path) {
    std::error_code ec;
    return fs::symlink_status(path, ec).type() != fs::file_type::not_found;
}

}  // namespace

std::optional<std::string> read_detached_signature(const fs::path& signature_file) {
    // Only a file that is not there at all means "unsigned"; anything else that cannot be read
    // (a dangling link included) is an error the operator must see.
    if (!exists_or_dangles(signature_file)) return std::nullopt;
    std::string content = LocalFile::open(signature_file, kMaxSignatureFileBytes).read_all();
    if (content.size() == kRawSignatureBytes) return base64_encode(content);
    while (!content.empty() && std::isspace(static_cast<unsigned char>(content.back()))) {
        content.pop_back();
    }
    return content;
}

}  // namespace lucid::host::install
