// libcurl, loaded only while something uses it (issue 21): an idle agent maps neither libcurl
// nor the two dozen libraries it pulls in (its TLS, LDAP, Kerberos, IDN stacks: about 4 MiB of
// RSS), only a download or a URL parse does. The first lease dlopens libcurl.so.4, resolves the
// functions the agent calls and runs curl_global_init; the last lease released runs
// curl_global_cleanup and dlcloses it. Leases nest: a caller that parses many URLs (the fuzzer,
// a test) holds one lease around them so each parse does not load the library again.
//
//   Expected<CurlLease> curl = CurlLease::acquire();
//   if (!curl) return curl.error().message;   // names libcurl.so.4 and the package libcurl4
//   CURLU* u = curl.value()->url();
//
// The package depends on libcurl4 explicitly (cmake/LucidDebianPackage.cmake): dpkg-shlibdeps
// no longer sees it in the agent's NEEDED entries.
//
// Thread: any; acquire and release are serialised by one mutex, a lease is used by one thread
// at a time like the curl handles it makes. Errors: acquire returns Errc::refused with the
// dlopen/dlsym message when the library or one of its functions is missing.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "common/expected.hpp"

namespace lucid::host::install {

// The libcurl functions the agent calls, resolved by name (types from curl.h, so a mismatch
// with the header fails to compile).
struct CurlLibrary {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_global_cleanup) global_cleanup = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    decltype(&curl_url) url = nullptr;
    decltype(&curl_url_cleanup) url_cleanup = nullptr;
    decltype(&curl_url_get) url_get = nullptr;
    decltype(&curl_url_set) url_set = nullptr;
    decltype(&curl_url_strerror) url_strerror = nullptr;
    decltype(&curl_free) free = nullptr;
    void* handle = nullptr;  // dlopen's
};

// The soname the agent loads, as the error names it.
inline constexpr const char* kCurlSoname = "libcurl.so.4";

class CurlLease {
  public:
    static Expected<CurlLease> acquire();
    const CurlLibrary* operator->() const { return library_.get(); }
    const CurlLibrary& operator*() const { return *library_; }

  private:
    explicit CurlLease(std::shared_ptr<const CurlLibrary> library) : library_(std::move(library)) {}
    std::shared_ptr<const CurlLibrary> library_;
};

// True while some lease holds libcurl (tests: an idle agent holds none).
bool curl_loaded();

}  // namespace lucid::host::install
