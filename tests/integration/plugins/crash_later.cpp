// A plugin that starts fine and takes the whole agent down later, in the callback asked for:
//   - command "boom": writes to an inaccessible page (SIGSEGV in command 'boom');
//   - command "arm_timer": answers, then a timer executes an invalid instruction (SIGILL in
//     timer);
//   - command "arm_stop": answers, then its stop() aborts (SIGABRT in stop).
// The crash-attribution tests: each must be blamed on this component and that callback.
#include <lucid/plugin.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>

#include "test_plugin_helpers.hpp"

namespace {

// A real SIGSEGV that no sanitizer reports first: a write to a page mapped without access.

}  // namespace

struct CrashLater : lucid::Plugin {
    std::atomic<bool> crash_in_stop{false};

    void start() override {
        on_command("boom", [](const lucid::Command&) {
            segfault();
            return std::string("{}");
        });
        on_command("arm_timer", [this](const lucid::Command&) {
            after(std::chrono::milliseconds(1), [] { __builtin_trap(); });
            return std::string("{\"armed\":true}");
        });
        on_command("arm_stop", [this](const lucid::Command&) {
            crash_in_stop = true;
            return std::string("{\"armed\":true}");
        });
    }

    void stop() override {
        if (crash_in_stop) std::abort();
    }
};

LUCID_PLUGIN(CrashLater)
