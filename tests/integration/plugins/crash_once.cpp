// A plugin that takes the agent down in its first start only (what a driver does that trips on
// something once): start() aborts unless the file named by its config's "marker" exists, which
// it creates first. Installed in-process it crashes the agent; demoted into a child at the next
// start (contract §4.13), it runs there.
#include <lucid/plugin.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "test_plugin_helpers.hpp"

struct CrashOnce : lucid::Plugin {
    void start() override {
        const std::string marker = string_field(config(), "marker");
        struct stat info {};
        if (marker.empty() || ::stat(marker.c_str(), &info) == 0) return;
        const int fd = ::open(marker.c_str(), O_CREAT | O_WRONLY, 0644);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
        std::abort();
    }
};

LUCID_PLUGIN(CrashOnce)
