// A file:// install source, read by the agent itself (common/local_file.hpp) rather than by
// curl.
//
// Why: a check of the path followed by curl's own open() races. A symlink flipped to a FIFO in
// between blocks curl in open() (its timeouts cannot interrupt that), which hangs the slow lane
// (every install and uninstall) and SIGTERM. Here the path is resolved once (realpath) and
// opened non-blocking; everything after that asks the descriptor: whether it is a regular file
// and how big it is (fstat), where it really is for the allowed prefixes (/proc/self/fd), and
// the bytes, read from it. A local copy is bounded by the size cap, so it is not cancelled.
//
// Thread: any; blocking (local reads only). Errors: DownloadError,
// `download failed: <what, naming the file>: <url>`.
#pragma once

#include "install/download.hpp"

namespace lucid::host::install {

// Copies the file `source` names to `destination` (which must not exist), within
// limits.max_bytes and under limits.allowed_prefixes. `shown` is the URL as errors show it.
void copy_file_source(const SourceUrl& source, const std::filesystem::path& destination,
                      const DownloadLimits& limits, const DownloadProgress& progress,
                      const std::string& shown);

}  // namespace lucid::host::install
