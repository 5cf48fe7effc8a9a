#include "common/file_modes.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace lucid::host {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const char* step, const fs::path& path, int error) {
    throw std::system_error(error, std::generic_category(),
                            std::string(step) + " '" + path.string() + "'");
}

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

}  // namespace

void make_directories(const fs::path& dir, mode_t mode) {
    std::error_code ec;
    if (dir.empty() || fs::is_directory(dir, ec)) return;
    const fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir) make_directories(parent, mode);
    // mkdir, not std::filesystem::create_directories: the latter always asks for 0777 and
    // leaves the result to the umask.
    if (::mkdir(dir.c_str(), mode) == 0) return;
    const int error = errno;
    // Another thread or process may have created it meanwhile; only a directory will do.
    if (error == EEXIST && fs::is_directory(dir, ec)) return;
    fail("cannot create directory", dir, error == EEXIST ? ENOTDIR : error);
}

std::optional<std::string> tighten_if_world_writable(const fs::path& dir, mode_t mode) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) fail("cannot read the mode of", dir, errno);
    if ((st.st_mode & S_IWOTH) == 0) return std::nullopt;
    if (::chmod(dir.c_str(), mode) != 0) fail("cannot change the mode of", dir, errno);
    return dir.string() + " was writable by any user (mode " + octal(st.st_mode) +
           "); changed to " + octal(mode);
}

}  // namespace lucid::host
