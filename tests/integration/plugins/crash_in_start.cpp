// A plugin whose start() takes the whole agent down (what a segfaulting driver does): the agent
// must quarantine it on its next start instead of crashing again.
#include <lucid/plugin.hpp>

#include <cstdlib>

struct CrashInStart : lucid::Plugin {
    void start() override { std::abort(); }
};

LUCID_PLUGIN(CrashInStart)
