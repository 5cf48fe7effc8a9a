// A plugin that hangs in a callback on purpose: the hang-detection integration test.
//   - command "hang" {"request_id", "release_file": "/abs/path"} does not return until that
//     file exists (at most 60 s, so a failed test never leaves it behind for long), then
//     answers {"released": true} (false after the 60 s);
//   - command "hello" answers {"hello": true} at once: proves the plugin answers again.
// The release comes from a file, not a command: while "hang" runs, the plugin's own worker is
// busy, so no other callback of it could ever deliver the release.
#include <lucid/plugin.hpp>

#include <sys/stat.h>
#include <chrono>
#include <string>
#include <thread>

namespace {

// The string value of "key" in a flat JSON object, without escapes (enough for a test path).
std::string string_field(const std::string& json, const std::string& key) {
    const std::string marker = "\"" + key + "\":\"";
    const auto start = json.find(marker);
    if (start == std::string::npos) return "";
    const auto from = start + marker.size();
    const auto end = json.find('"', from);
    return end == std::string::npos ? "" : json.substr(from, end - from);
}

bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    struct stat info {};
    while (::stat(path.c_str(), &info) != 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // hanging is the point
    }
    return true;
}

}  // namespace

struct Hang : lucid::Plugin {
    void start() override {
        on_command("hang", [](const lucid::Command& c) {
            const std::string file = string_field(std::string(c.payload), "release_file");
            const bool released = !file.empty() && wait_for_file(file, std::chrono::seconds(60));
            return std::string(released ? "{\"released\":true}" : "{\"released\":false}");
        });
        on_command("hello", [](const lucid::Command&) { return std::string("{\"hello\":true}"); });
    }
};

LUCID_PLUGIN(Hang)
