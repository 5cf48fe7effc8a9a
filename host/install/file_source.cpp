#include "install/file_source.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/local_file.hpp"

namespace lucid::host::install {

void copy_file_source(const SourceUrl& source, const std::filesystem::path& destination,
                      const DownloadLimits& limits, const DownloadProgress& progress,
                      const std::string& shown) {
    const auto fail = [&](const std::string& what) {
        return DownloadError("download failed: " + what + ": " + shown);
    };
    // Symlinks are followed here, once; the descriptor is what counts afterwards.
    std::unique_ptr<char, decltype(&std::free)> resolved(
        ::realpath(source.file_path.c_str(), nullptr), &std::free);
    if (!resolved) throw fail(std::strerror(errno));
    try {
        const LocalFile file = LocalFile::open(resolved.get(), limits.max_bytes);
        if (!file_under_prefixes(file.opened_path(), limits.allowed_prefixes)) {
            throw fail("not under an allowed prefix");
        }
        file.copy_to(destination, 0640);
        if (progress) progress(file.size(), file.size());
    } catch (const LocalFileError& e) {
        throw fail(e.what());
    }
}

}  // namespace lucid::host::install
