// The .deb ships host/packaging/lucid-agent.service and agent.env as files (CPack packs files);
// they must stay the texts `lucid-agent install-service` writes, so that a packaged device and a
// hand-installed one run the same service. When this fails after a change to systemd_unit.cpp,
// copy the "expected" text it prints into the packaged file.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "service/systemd_unit.hpp"

namespace {

std::string read_packaged(const char* name) {
    std::ifstream in(std::string(LUCID_SOURCE_DIR) + "/host/packaging/" + name);
    REQUIRE_MESSAGE(in.good(), "cannot read host/packaging/" << name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Everything after the first line: that comment says who wrote the file.
std::string after_first_line(const std::string& text) { return text.substr(text.find('\n') + 1); }

}  // namespace

TEST_CASE("the packaged unit is the unit install-service writes for /usr/bin/lucid-agent") {
    const std::string expected = lucid::host::service::systemd_unit_text({});
    const std::string packaged = read_packaged("lucid-agent.service");
    INFO("expected (after its first line):\n" << expected);
    CHECK(after_first_line(packaged) == after_first_line(expected));
}

TEST_CASE("the packaged example settings are the env file install-service writes") {
    CHECK(read_packaged("agent.env") == lucid::host::service::default_env_file_text());
}
