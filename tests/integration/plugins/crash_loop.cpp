// A plugin that starts fine and, 50 ms later, dies in a timer callback (SIGSEGV): every time it
// is started again. In process isolation the agent restarts it with backoff and quarantines it
// after the third crash; the agent itself must not notice.
#include <lucid/plugin.hpp>

#include <sys/mman.h>

namespace {

void segfault() {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *static_cast<volatile int*>(page) = 1;
}

}  // namespace

struct CrashLoop : lucid::Plugin {
    void start() override {
        after(std::chrono::milliseconds(50), [] { segfault(); });
    }
};

LUCID_PLUGIN(CrashLoop)
