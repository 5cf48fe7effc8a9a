// A plugin that starts fine and, 50 ms later, dies in a timer callback (SIGSEGV): every time it
// is started again. In process isolation the agent restarts it with backoff and quarantines it
// after the third crash; the agent itself must not notice.
#include <lucid/plugin.hpp>

#include "test_plugin_helpers.hpp"

struct CrashLoop : lucid::Plugin {
    void start() override {
        after(std::chrono::milliseconds(50), [] { segfault(); });
    }
};

LUCID_PLUGIN(CrashLoop)
