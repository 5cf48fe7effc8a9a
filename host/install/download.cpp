#include "install/download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "install/curl_library.hpp"
#include "install/file_source.hpp"

namespace lucid::host::install {
namespace {

struct Transfer {
    int fd = -1;
    std::uint64_t received = 0;
    std::uint64_t max_bytes = 0;
    bool over_cap = false;
    bool cancelled = false;
    const std::atomic<bool>* cancel = nullptr;
    bool write_failed = false;
    int write_errno = 0;
    const DownloadProgress* progress = nullptr;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (t.received + bytes > t.max_bytes) {
        t.over_cap = true;
        return 0;  // a short count makes curl abort with CURLE_WRITE_ERROR
    }
    std::size_t done = 0;
    while (done < bytes) {
        const ssize_t n = ::write(t.fd, data + done, bytes - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            t.write_failed = true;
            t.write_errno = errno;
            return 0;
        }
        done += static_cast<std::size_t>(n);
    }
    t.received += bytes;
    return bytes;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto& t = *static_cast<Transfer*>(user);
    // curl calls this at least once a second even while no byte arrives.
    if (t.cancel && t.cancel->load()) {
        t.cancelled = true;
        return 1;
    }
    // An announced size above the cap fails before the body is even read.
    if (total > 0 && static_cast<std::uint64_t>(total) > t.max_bytes) {
        t.over_cap = true;
        return 1;
    }
    if (t.progress && *t.progress && now > 0) {
        (*t.progress)(static_cast<std::uint64_t>(now),
                      total > 0 ? static_cast<std::uint64_t>(total) : 0);
    }
    return 0;
}

struct CurlHandle {
    explicit CurlHandle(const CurlLease& curl) : lease(curl), handle(curl->easy_init()) {
        if (!handle) throw DownloadError("download failed: cannot create a curl handle");
    }
    ~CurlHandle() { lease->easy_cleanup(handle); }
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
    const CurlLease& lease;
    CURL* handle;
};

}  // namespace

namespace {

void start_over(Transfer& t) {
    if (::ftruncate(t.fd, 0) != 0 || ::lseek(t.fd, 0, SEEK_SET) != 0) {
        t.write_failed = true;
        t.write_errno = errno;
    }
    t.received = 0;
}

}  // namespace

std::vector<std::string> download_to_file(const std::string& url,
                                          const std::filesystem::path& destination,
                                          const DownloadLimits& limits,
                                          const DownloadProgress& progress) {
    // libcurl is mapped for this download only (install/curl_library.hpp); the URL checks
    // below use it too, even for a file:// source.
    const Expected<CurlLease> lease = CurlLease::acquire();
    if (!lease) throw DownloadError("download failed: " + lease.error().message);
    const CurlLibrary& lib = *lease.value();
    const std::string shown = redact_source_url(url);
    const auto parsed = parse_source_url(url);
    if (!parsed.url) throw DownloadError("download failed: the URL " + parsed.error);
    // Checked by the install request already; checked here too because this is what requests.
    if (!url_under_prefixes(url, limits.allowed_prefixes)) {
        throw DownloadError("download failed: not under an allowed prefix: " + shown);
    }
    if (parsed.url->scheme == "file") {
        copy_file_source(*parsed.url, destination, limits, progress, shown);
        return {parsed.url->url};
    }
    Transfer transfer;
    transfer.max_bytes = limits.max_bytes;
    transfer.progress = &progress;
    transfer.cancel = limits.cancelled.get();
    transfer.fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (transfer.fd < 0) {
        throw DownloadError("download failed: cannot create '" + destination.string() +
                            "': " + std::strerror(errno));
    }
    std::vector<std::string> requested{parsed.url->url};

    CurlHandle curl(lease.value());
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURL* h = curl.handle;
    // file:// sources are read above, never by curl; a redirect may only lead to http(s): a
    // server must not be able to point the agent at a local file.
    lib.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    // Redirects are followed here, not by curl, so that every hop is checked against the
    // allowed prefixes before it is requested.
    lib.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    lib.easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    lib.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, limits.connect_timeout_s);
    lib.easy_setopt(h, CURLOPT_TIMEOUT, limits.total_timeout_s);
    lib.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, limits.low_speed_bytes);
    lib.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, limits.low_speed_time_s);
    lib.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // we run on worker threads
    lib.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    lib.easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    lib.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    lib.easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
    lib.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    lib.easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    lib.easy_setopt(h, CURLOPT_USERAGENT, "lucid-agent/" LUCID_VERSION);

    std::string refused;  // a hop that was not followed, and why
    CURLcode rc = CURLE_OK;
    for (long hops = 0;; ++hops) {
        lib.easy_setopt(h, CURLOPT_URL, requested.back().c_str());
        rc = lib.easy_perform(h);
        char* location = nullptr;
        if (rc != CURLE_OK || transfer.write_failed ||
            lib.easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location) {
            break;
        }
        const std::string next = location;
        const auto hop = parse_source_url(next);
        if (hops == limits.max_redirects) {
            refused = "more than " + std::to_string(limits.max_redirects) + " redirects";
        } else if ((!hop.url && hop.error.rfind("must start with", 0) == 0) ||
                   (hop.url && hop.url->scheme == "file")) {
            refused = "redirect to a scheme other than http(s): " + redact_source_url(next);
        } else if (!hop.url) {
            refused = "redirect to a URL that " + hop.error + ": " + redact_source_url(next);
        } else if (!url_under_prefixes(next, limits.allowed_prefixes)) {
            refused = "redirect outside the allowed prefixes: " + redact_source_url(next);
        }
        if (!refused.empty()) break;
        requested.push_back(hop.url->url);
        start_over(transfer);  // the redirect's own body is not the artifact
    }
    if (::close(transfer.fd) != 0 && rc == CURLE_OK) {
        transfer.write_failed = true;
        transfer.write_errno = errno;
    }
    if (rc == CURLE_OK && !transfer.write_failed && refused.empty()) return requested;

    std::error_code ignored;
    std::filesystem::remove(destination, ignored);
    if (!refused.empty()) throw DownloadError("download failed: " + refused + ": " + shown);
    if (transfer.cancelled) {
        throw DownloadError("download failed: cancelled, the agent is shutting down: " + shown);
    }
    if (transfer.over_cap) {
        throw DownloadError("download failed: artifact exceeds the size cap of " +
                            std::to_string(limits.max_bytes) + " bytes: " + shown);
    }
    if (transfer.write_failed) {
        throw DownloadError("download failed: cannot write '" + destination.string() +
                            "': " + std::strerror(transfer.write_errno));
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        long status = 0;
        lib.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        throw DownloadError("download failed: HTTP " + std::to_string(status) + ": " + shown);
    }
    const std::string detail = error_buffer[0] ? error_buffer : lib.easy_strerror(rc);
    throw DownloadError("download failed: " + detail + ": " + shown);
}

}  // namespace lucid::host::install
