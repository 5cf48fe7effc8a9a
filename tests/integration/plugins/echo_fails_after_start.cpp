// echo 3.1.0, a build that starts, then reports failed at once (inside the upgrade's health
// window): an upgrade to it must be rolled back too.
#include <lucid/plugin.hpp>

#include <chrono>

struct EchoFailsAfterStart : lucid::Plugin {
    void start() override {
        after(std::chrono::milliseconds(1),
              [this] { report_failed("echo 3.1.0 lost its device right after starting"); });
    }
};

LUCID_PLUGIN(EchoFailsAfterStart)
