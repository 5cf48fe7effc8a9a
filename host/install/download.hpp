// Artifact downloads: http and https through libcurl, with a size cap, timeouts (connect, total,
// and a minimum speed so a slow-loris server cannot hold an install forever), bounded redirects
// (never to file://, and each hop under the allowed prefixes when there are any); file:// read
// by the agent itself, regular files only (install/file_source.hpp); progress reports. Every URL
// is normalised (install/source_url.hpp) and the normalised form is what is requested.
//
// Thread: call from a worker thread; each call uses its own curl handle. Blocking.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "install/source_url.hpp"

namespace lucid::host::install {

struct DownloadLimits {
    std::uint64_t max_bytes = 64ull << 20;
    long connect_timeout_s = 10;
    long total_timeout_s = 600;
    // Abort when fewer than `low_speed_bytes` per second arrive for `low_speed_time_s` seconds.
    long low_speed_bytes = 1;
    long low_speed_time_s = 30;
    long max_redirects = 5;
    // The URL and every redirect target must be under one of these (empty: any http(s) URL;
    // see install/source_url.hpp).
    std::vector<std::string> allowed_prefixes;
    // Set (from any thread) to abort a running download within about a second.
    std::shared_ptr<std::atomic<bool>> cancelled;
};

// Called with the bytes received so far and the announced total (0 when unknown).
using DownloadProgress = std::function<void(std::uint64_t bytes, std::uint64_t total)>;

class DownloadError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Downloads `url` into `destination`, which must not exist yet (it is created exclusively, so a
// download never overwrites anything). Returns the URLs requested, normalised, in order: `url`
// then each redirect followed (the last one served the bytes). On failure the partial file is
// removed and DownloadError says why, with the URL redacted (redact_source_url).
std::vector<std::string> download_to_file(const std::string& url,
                                          const std::filesystem::path& destination,
                                          const DownloadLimits& limits,
                                          const DownloadProgress& progress = {});

}  // namespace lucid::host::install
