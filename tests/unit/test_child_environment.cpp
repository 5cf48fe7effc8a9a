// What a lucid-plugin-runner child inherits of the agent's environment (child_environment.hpp):
// locale, time zone, library path and sanitizer options, never a LUCID_* setting or a secret.
#include <doctest/doctest.h>

#include "isolation/child_environment.hpp"

using lucid::host::isolation::child_environment;

TEST_CASE("a child keeps locale, PATH and sanitizer options, and none of the agent's settings") {
    const char* const agent[] = {"PATH=/usr/bin:/bin",
                                 "LUCID_MQTT_URL=mqtt://u:secret@broker:1883",
                                 "LUCID_DATA_DIR=/var/lib/lucid",
                                 "LANG=C.UTF-8",
                                 "LC_TIME=de_DE.UTF-8",
                                 "TZ=Europe/Berlin",
                                 "AGENT_PASSWORD=hunter2",
                                 "HOME=/root",
                                 "ASAN_OPTIONS=detect_leaks=0",
                                 "LD_LIBRARY_PATH=/opt/lib",
                                 "PATHX=nope",
                                 "NOEQUALS",
                                 nullptr};
    CHECK(child_environment(agent) ==
          std::vector<std::string>{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_TIME=de_DE.UTF-8",
                                   "TZ=Europe/Berlin", "ASAN_OPTIONS=detect_leaks=0",
                                   "LD_LIBRARY_PATH=/opt/lib"});
    CHECK(child_environment(nullptr).empty());
}
