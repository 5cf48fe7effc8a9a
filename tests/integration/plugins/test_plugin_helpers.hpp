// Small helpers the test plugins share. Header-only: each plugin is its own .so.
#pragma once

#include <sys/mman.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

// The string value of "key" in a flat JSON object, without escapes (enough for a test path);
// "" when absent.
inline std::string string_field(const std::string& json, const std::string& key) {
    const std::string marker = "\"" + key + "\":\"";
    const auto start = json.find(marker);
    if (start == std::string::npos) return "";
    const auto from = start + marker.size();
    const auto end = json.find('"', from);
    return end == std::string::npos ? "" : json.substr(from, end - from);
}

// Hangs (that is the point) until `path` exists; false after `limit`, so that a failed test
// never leaves a plugin hanging for long.
inline bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    struct stat info {};
    while (::stat(path.c_str(), &info) != 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

// Dies by SIGSEGV, as a plugin with a bad pointer does (a write to a page it may not touch).
inline void segfault() {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *static_cast<volatile int*>(page) = 1;
}
