#include "install/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace lucid::host::install {
namespace {

std::mutex& curl_library_mutex() {
    static std::mutex m;
    return m;
}

// The library of the leases now held; expired when none is.
std::weak_ptr<const CurlLibrary>& current_curl_library() {
    static std::weak_ptr<const CurlLibrary> library;
    return library;
}

std::string curl_load_error(const std::string& why) {
    return std::string("cannot load ") + kCurlSoname +
           " (libcurl, the download and URL library; Debian package libcurl4): " + why;
}

template <typename Function>
bool resolve_curl_symbol(void* handle, const char* name, Function& out, std::string& error) {
    void* symbol = ::dlsym(handle, name);
    if (!symbol) {
        const char* why = ::dlerror();
        error = curl_load_error(why ? why : std::string("no symbol ") + name);
        return false;
    }
    out = reinterpret_cast<Function>(symbol);
    return true;
}

// Runs when the last lease is released.
void unload_curl(const CurlLibrary* library) {
    {
        std::lock_guard lock(curl_library_mutex());
        library->global_cleanup();
        ::dlclose(library->handle);
    }
    delete library;
}

}  // namespace

Expected<CurlLease> CurlLease::acquire() {
    std::lock_guard lock(curl_library_mutex());
    if (auto held = current_curl_library().lock()) return CurlLease(std::move(held));

    auto library = std::make_unique<CurlLibrary>();
    // RTLD_LOCAL: curl's symbols (and its TLS stack's) do not join the agent's global scope, so
    // nothing the agent or a plugin loads later binds to a library that is unloaded again.
    library->handle = ::dlopen(kCurlSoname, RTLD_NOW | RTLD_LOCAL);
    if (!library->handle) {
        const char* why = ::dlerror();
        return Error{Errc::refused, curl_load_error(why ? why : "dlopen failed")};
    }
    std::string error;
    CurlLibrary& l = *library;
    const bool resolved =
        resolve_curl_symbol(l.handle, "curl_global_init", l.global_init, error) &&
        resolve_curl_symbol(l.handle, "curl_global_cleanup", l.global_cleanup, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_init", l.easy_init, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_cleanup", l.easy_cleanup, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_setopt", l.easy_setopt, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_perform", l.easy_perform, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_getinfo", l.easy_getinfo, error) &&
        resolve_curl_symbol(l.handle, "curl_easy_strerror", l.easy_strerror, error) &&
        resolve_curl_symbol(l.handle, "curl_url", l.url, error) &&
        resolve_curl_symbol(l.handle, "curl_url_cleanup", l.url_cleanup, error) &&
        resolve_curl_symbol(l.handle, "curl_url_get", l.url_get, error) &&
        resolve_curl_symbol(l.handle, "curl_url_set", l.url_set, error) &&
        resolve_curl_symbol(l.handle, "curl_url_strerror", l.url_strerror, error) &&
        resolve_curl_symbol(l.handle, "curl_free", l.free, error);
    if (!resolved) {
        ::dlclose(l.handle);
        return Error{Errc::refused, error};
    }
    // Serialised with every other init and cleanup by the mutex: curl 7.88's are not
    // thread-safe against each other.
    if (const CURLcode rc = l.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
        ::dlclose(l.handle);
        return Error{Errc::refused,
                     curl_load_error("curl_global_init failed: " + std::to_string(rc))};
    }
    std::shared_ptr<const CurlLibrary> held(library.release(), &unload_curl);
    current_curl_library() = held;
    return CurlLease(std::move(held));
}

bool curl_loaded() {
    std::lock_guard lock(curl_library_mutex());
    return !current_curl_library().expired();
}

}  // namespace lucid::host::install
