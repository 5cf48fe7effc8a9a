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

#include "test_plugin_helpers.hpp"

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
