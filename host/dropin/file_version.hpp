// What tells two versions of a drop-in file apart without reading it: its size and modification
// time. Used to say a complaint about a file once per version of that file, not at every rescan,
// duplicate event or second look.
//
// Thread: pure values; file_version() only calls stat(). Errors: a file that cannot be
// stat'ed (gone) has the zero version.
#pragma once

#include <cstdint>
#include <filesystem>

namespace lucid::host::dropin {

struct FileVersion {
    bool exists = false;
    std::uint64_t size = 0;
    std::int64_t mtime_s = 0;
    std::int64_t mtime_ns = 0;

    bool operator==(const FileVersion& o) const {
        return exists == o.exists && size == o.size && mtime_s == o.mtime_s &&
               mtime_ns == o.mtime_ns;
    }
    bool operator!=(const FileVersion& o) const { return !(*this == o); }
};

// Follows symlinks (as the drop-in directory does for artifacts).
FileVersion file_version(const std::filesystem::path& path);

}  // namespace lucid::host::dropin
