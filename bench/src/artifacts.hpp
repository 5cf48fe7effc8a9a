// Plugin files for install payloads: checksums, base64, file URLs, and the local "floor" of an
// install (what any installer has to do with the file at least). Throw std::runtime_error on
// I/O errors.
#pragma once

#include <filesystem>
#include <string>

namespace lucid::bench {

std::string sha256_hex(const std::filesystem::path& file);
std::string base64(const std::string& bytes);
std::string file_url(const std::filesystem::path& file);

// Reads the file, checks its sha256, copies it into `dir` with fsync of the file and the
// directory, dlopen()s the copy (RTLD_NOW | RTLD_LOCAL) and dlclose()s it. Returns seconds.
double install_floor_seconds(const std::filesystem::path& file, const std::filesystem::path& dir);

}  // namespace lucid::bench
