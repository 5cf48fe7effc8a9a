// SHA-256 of artifacts (OpenSSL), and the hex form the contract uses.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lucid::host::install {

// Lowercase hex SHA-256 of a file's bytes. Throws std::system_error when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// Lowercase hex SHA-256 of a buffer.
std::string sha256_hex(std::string_view data);

// True for exactly 64 hex digits (either case).
bool is_sha256_hex(std::string_view text);

}  // namespace lucid::host::install
