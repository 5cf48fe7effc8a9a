// A plugin whose start() waits while the file named by the agent's environment variable
// LUCID_ITEST_START_GATE exists (at most 60 s): a test kills the agent while it is starting,
// as a power cut at boot would, without the plugin being at fault.
#include <lucid/plugin.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <thread>

struct SlowStart : lucid::Plugin {
    void start() override {
        const char* gate = std::getenv("LUCID_ITEST_START_GATE");
        if (!gate) return;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        struct stat info {};
        while (::stat(gate, &info) == 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // being slow is the point
        }
    }
};

LUCID_PLUGIN(SlowStart)
