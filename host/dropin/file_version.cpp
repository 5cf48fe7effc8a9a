#include "dropin/file_version.hpp"

#include <sys/stat.h>

namespace lucid::host::dropin {

FileVersion file_version(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {true, static_cast<std::uint64_t>(st.st_size),
            static_cast<std::int64_t>(st.st_mtim.tv_sec),
            static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

}  // namespace lucid::host::dropin
