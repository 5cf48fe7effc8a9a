// A plugin whose "block" command does not return until the test calls the exported
// lucid_test_slow_release() (or 20 s pass): proves that a blocked plugin stalls only itself.
#include <lucid/plugin.hpp>

#include <condition_variable>
#include <mutex>

namespace {
std::mutex mutex;
std::condition_variable released_cv;
bool released = false;
}  // namespace

extern "C" LUCID_PLUGIN_EXPORT void lucid_test_slow_release(void) {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
    released_cv.notify_all();
}

struct Slow : lucid::Plugin {
    void start() override {
        on_command("block", [](const lucid::Command&) {
            std::unique_lock<std::mutex> lock(mutex);
            bool ok = released_cv.wait_for(lock, std::chrono::seconds(20), [] { return released; });
            return std::string(ok ? "{\"released\":true}" : "{\"released\":false}");
        });
    }
};

LUCID_PLUGIN(Slow)
