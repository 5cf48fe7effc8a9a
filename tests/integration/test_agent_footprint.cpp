// The download stack is mapped only while it works (issue 21): an idle agent maps no libcurl
// (nor the TLS, LDAP and Kerberos libraries it pulls in), an install over http loads it, and
// the agent lets it go again once the install is done. Read from /proc/<pid>/maps.
#include <doctest/doctest.h>

#include <fstream>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The lines of /proc/<pid>/maps naming libcurl; "" when it is not mapped.
std::string curl_mappings(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line, found;
    while (std::getline(maps, line)) {
        if (line.find("libcurl") != std::string::npos) found += line + "\n";
    }
    return found;
}

}  // namespace

TEST_CASE("an idle agent maps no libcurl, before and after an install over http") {
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    http.serve("/files/" + echo.name, echo.bytes);

    ComponentRig rig("footprint-1");
    // The configuration's prefixes are parsed with curl's URL API at start: loaded, then let go.
    rig.env["LUCID_ALLOWED_SOURCE_PREFIXES"] = http.url("/files/");
    rig.start_agent();
    const pid_t pid = rig.agent.process().pid();
    CHECK_MESSAGE(curl_mappings(pid).empty(), curl_mappings(pid));

    auto m =
        rig.install("fp-http", "echo", url_source(http.url("/files/" + echo.name), echo.sha256));
    REQUIRE_MESSAGE(ok_of(m), m.payload);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    CHECK(http.requests("/files/" + echo.name) == 1);
    // The result is published after the download and every URL check have returned their
    // lease, so libcurl is gone by the time it arrives.
    CHECK_MESSAGE(curl_mappings(pid).empty(), curl_mappings(pid));

    auto f = rig.install("fp-file", "echo2",
                         url_source("file://" + fs::absolute(echo.path).string(), echo.sha256));
    CHECK_FALSE(ok_of(f));  // file:// is outside the allowed prefixes: refused by the URL check
    CHECK(has_text(error_of(f), "allowed"));
    CHECK_MESSAGE(curl_mappings(pid).empty(), curl_mappings(pid));
}
