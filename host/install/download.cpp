#include "install/download.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "mqtt/mqtt_url.hpp"

namespace lucid::host::install {
namespace {

struct Transfer {
    int fd = -1;
    std::uint64_t received = 0;
    std::uint64_t max_bytes = 0;
    bool over_cap = false;
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

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlHandle {
    CurlHandle() : handle(curl_easy_init()) {
        if (!handle) throw DownloadError("download failed: cannot create a curl handle");
    }
    ~CurlHandle() { curl_easy_cleanup(handle); }
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
    CURL* handle;
};

}  // namespace

void download_to_file(const std::string& url, const std::filesystem::path& destination,
                      const DownloadLimits& limits, const DownloadProgress& progress) {
    global_init_once();
    const std::string shown = mqtt::redact_url(url);
    Transfer transfer;
    transfer.max_bytes = limits.max_bytes;
    transfer.progress = &progress;
    transfer.fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (transfer.fd < 0) {
        throw DownloadError("download failed: cannot create '" + destination.string() +
                            "': " + std::strerror(errno));
    }

    CurlHandle curl;
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURL* h = curl.handle;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    // file:// is allowed as a source on purpose (SPEC §4), but a redirect may only lead to
    // http(s): a server must not be able to point the agent at a local file.
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, limits.max_redirects);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, limits.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, limits.total_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, limits.low_speed_bytes);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, limits.low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // we run on worker threads
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lucid-agent/" LUCID_VERSION);

    const CURLcode rc = curl_easy_perform(h);
    if (::close(transfer.fd) != 0 && rc == CURLE_OK) {
        transfer.write_failed = true;
        transfer.write_errno = errno;
    }
    if (rc == CURLE_OK && !transfer.write_failed) return;

    std::error_code ignored;
    std::filesystem::remove(destination, ignored);
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
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        throw DownloadError("download failed: HTTP " + std::to_string(status) + ": " + shown);
    }
    if (rc == CURLE_TOO_MANY_REDIRECTS) {
        throw DownloadError("download failed: more than " + std::to_string(limits.max_redirects) +
                            " redirects: " + shown);
    }
    const std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
    throw DownloadError("download failed: " + detail + ": " + shown);
}

}  // namespace lucid::host::install
