// The detached signature beside a drop-in artifact (`x.so` → `x.so.sig`), in either form an
// operator gets from openssl (README "Signing an artifact"):
//   raw     the 64 bytes `openssl pkeyutl -sign -rawin -inkey key.pem -in x.so -out x.so.sig`
//           writes (a file of exactly 64 bytes);
//   base64  the base64 text of those 64 bytes (`… | base64 -w0`), trailing whitespace ignored.
// Both become the base64 text check_signature() takes. A raw signature cannot be mistaken for
// the text form: that one is 88 characters long.
//
// The file is read through LocalFile: a FIFO, a device or anything over kMaxSignatureFileBytes
// is refused by its descriptor, never waited on or read without end.
//
// Thread: any. Errors: LocalFileError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace lucid::host::install {

// A signature is 64 bytes (88 as base64); this leaves room for line ends and nothing more.
inline constexpr std::uint64_t kMaxSignatureFileBytes = 4096;

// The base64 signature in `signature_file`; nullopt when there is no such file.
std::optional<std::string> read_detached_signature(const std::filesystem::path& signature_file);

}  // namespace lucid::host::install
