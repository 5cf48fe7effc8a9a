// Install from every source type of contract §4 (url over http with and without a redirect, a
// download link named by its redirect, a url with an explicit filename, url file://, github_release
// against a local server, inline), over the real broker, and the same install again: a noop that
// downloads nothing.
#include <doctest/doctest.h>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kDist = "lucid-agent-echo";

// What every successful first install of echo 1.0.0 must leave behind: the result fields, the
// running plugin answering its command, the file in its place and the registry entry.
void check_installed(ComponentRig& rig, const Message& result, const Artifact& echo,
                     const std::string& source_type) {
    CAPTURE(source_type);
    REQUIRE_MESSAGE(ok_of(result), result.payload);
    auto doc = result.json();
    CHECK(std::string(doc["component_id"].GetString()) == "echo");
    CHECK(std::string(doc["dist_name"].GetString()) == kDist);
    CHECK(std::string(doc["version"].GetString()) == "1.0.0");
    CHECK(std::string(doc["sha256"].GetString()) == echo.sha256);
    CHECK_FALSE(flag_of(result, "noop"));
    CHECK_FALSE(flag_of(result, "rolled_back"));
    CHECK_FALSE(flag_of(result, "restart_required"));

    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    auto answer = rig.plugin_command("echo", "echo",
                                     R"({"request_id":"e-)" + source_type + R"(","message":"hi"})",
                                     "e-" + source_type);
    REQUIRE_MESSAGE(answer, rig.agent.log());
    CHECK(ok_of(*answer));
    CHECK(has_text(answer->payload, R"("message":"hi")"));

    const fs::path placed = rig.data() / "components" / kDist / "1.0.0" / echo.name;
    CHECK(fs::exists(placed));
    CHECK(sha256_hex(read_bytes(placed)) == echo.sha256);
    const std::string entry = registry_entry(rig.registry(), "echo");
    CHECK(has_text(entry, R"("type":")" + source_type + "\""));
    CHECK(has_text(entry, R"("version":"1.0.0")"));
    CHECK(has_text(entry, R"("path":)" + json_string(placed.string())));
    CHECK_FALSE(has_text(entry, "data_base64"));  // inline bytes are not kept in the registry

    auto components =
        rig.client->wait_for(rig.agent.topic("core/components"), [](const Message& m) {
            return has_text(m.payload, R"("echo":)") && has_text(m.payload, R"("state":"running")");
        });
    CHECK(components);
}

void uninstall_echo(ComponentRig& rig, const std::string& request_id) {
    auto m = rig.uninstall(R"({"request_id":")" + request_id + R"(","component_id":"echo"})",
                           request_id);
    REQUIRE_MESSAGE(ok_of(m), m.payload);
    CHECK_FALSE(fs::exists(rig.data() / "components" / kDist));
    rig.client->clear();
}

}  // namespace

TEST_CASE("every source type installs, starts and registers echo") {
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    http.serve("/files/" + echo.name, echo.bytes);
    http.redirect("/moved/" + echo.name, http.url("/files/" + echo.name));
    const std::string release_path = "/gh/lucid-labs/echo/releases/download/v1.0.0/" + echo.name;
    http.serve(release_path, echo.bytes);

    ComponentRig rig("src-1");
    rig.env["LUCID_GITHUB_BASE_URL"] = http.url("/gh");
    rig.start_agent();

    SUBCASE("url over http") {
        auto m =
            rig.install("http-1", "echo", url_source(http.url("/files/" + echo.name), echo.sha256));
        check_installed(rig, m, echo, "url");
        CHECK(http.requests("/files/" + echo.name) == 1);
        // Long downloads publish progress; a whole small one ends with bytes == total.
        CHECK(rig.client->wait_for(
            rig.agent.topic("core/evt/components/install_progress"), [&](const Message& p) {
                auto d = p.json();
                return p.str("request_id") == "http-1" && p.str("phase") == "download" &&
                       d["bytes"].GetUint64() == echo.bytes.size();
            }));
    }
    SUBCASE("url over http through a redirect") {
        auto m = rig.install("redir-1", "echo",
                             url_source(http.url("/moved/" + echo.name), echo.sha256));
        check_installed(rig, m, echo, "url");
        CHECK(http.requests("/moved/" + echo.name) == 1);
        CHECK(http.requests("/files/" + echo.name) == 1);
    }
    SUBCASE("url over http: a download link named by the URL its redirects lead to") {
        // Issue 13: `/releases/latest` names no artifact; the redirect's target does. The
        // presigned query of the target is requested, and never stored.
        const std::string target = "/files/" + echo.name + "?sig=S1GNATURE";
        http.serve(target, echo.bytes);
        http.redirect("/releases/latest", http.url(target));
        auto m =
            rig.install("link-1", "echo", url_source(http.url("/releases/latest"), echo.sha256));
        check_installed(rig, m, echo, "url");
        CHECK(http.requests(target) == 1);
        CHECK_FALSE(has_text(registry_entry(rig.registry(), "echo"), "S1GNATURE"));
    }
    SUBCASE("url over http with an explicit filename") {
        http.serve("/download?id=7", echo.bytes);
        auto m = rig.install("named-1", "echo",
                             url_source(http.url("/download?id=7"), echo.sha256,
                                        R"(,"filename":)" + json_string(echo.name)));
        check_installed(rig, m, echo, "url");
        CHECK(http.requests("/download?id=7") == 1);
        CHECK(has_text(registry_entry(rig.registry(), "echo"),
                       R"("url":)" + json_string(http.url("/download?***"))));
    }
    SUBCASE("url file://") {
        auto m = rig.install("file-1", "echo",
                             url_source("file://" + fs::absolute(echo.path).string(), echo.sha256));
        check_installed(rig, m, echo, "url");
    }
    SUBCASE("github_release from the configured base URL") {
        auto m = rig.install("gh-1", "echo",
                             R"({"type":"github_release","owner":"lucid-labs","repo":"echo",)"
                             R"("tag":"v1.0.0","asset":")" +
                                 echo.name + R"(","sha256":")" + echo.sha256 + "\"}");
        check_installed(rig, m, echo, "github_release");
        CHECK(http.requests(release_path) == 1);
    }
    SUBCASE("inline base64") {
        auto m = rig.install("inline-1", "echo", inline_source(echo));
        check_installed(rig, m, echo, "inline");
    }
    // Uninstalling leaves nothing behind: no file, no entry, no staging leftover.
    uninstall_echo(rig, "un-final");
    CHECK(registry_entry(rig.registry(), "echo").empty());
    CHECK(fs::is_empty(rig.data() / "staging"));
}

TEST_CASE("installing what is already installed is a noop that downloads nothing") {
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string path = "/files/" + echo.name;
    http.serve(path, echo.bytes);
    ComponentRig rig("src-2");
    rig.start_agent();

    auto first = rig.install("same-1", "echo", url_source(http.url(path), echo.sha256));
    REQUIRE_MESSAGE(ok_of(first), first.payload);
    CHECK_FALSE(flag_of(first, "noop"));
    REQUIRE(http.requests(path) == 1);
    const std::string entry_before = registry_entry(rig.registry(), "echo");

    auto again = rig.install("same-2", "echo", url_source(http.url(path), echo.sha256));
    CHECK(ok_of(again));
    CHECK(flag_of(again, "noop"));
    CHECK(std::string(again.json()["version"].GetString()) == "1.0.0");
    // Another source of the same bytes is the same install too.
    auto inline_again = rig.install("same-3", "echo", inline_source(echo));
    CHECK(ok_of(inline_again));
    CHECK(flag_of(inline_again, "noop"));

    CHECK(http.requests(path) == 1);
    CHECK(registry_entry(rig.registry(), "echo") == entry_before);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
}

TEST_CASE("a fresh install publishes core/components once, with the new component in it") {
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("src-3");
    rig.start_agent();
    // The connect's own core/components (nothing installed) is behind us.
    REQUIRE(rig.client->wait_for(rig.agent.topic("core/components"),
                                 [](const Message&) { return true; }));
    rig.client->clear();

    auto result = rig.install("once-1", "echo", inline_source(echo));
    REQUIRE_MESSAGE(ok_of(result), result.payload);
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    // Whatever the install published left the agent before this answer.
    CHECK(ok_of(rig.ping("after-install")));
    const auto lists = rig.client->messages(rig.agent.topic("core/components"));
    REQUIRE(lists.size() == 1);
    CHECK(has_text(lists[0].payload, R"("echo":{)"));
    CHECK(has_text(lists[0].payload, R"("state":"running")"));
}
