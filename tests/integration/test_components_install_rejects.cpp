// Installs that must be refused (contract §4), each with its exact or characteristic error, and
// none of them leaving a file, a registry entry or a staging leftover behind: sha256 mismatch,
// wrong ABI, manifest and file name disagreeing, non-ELF bytes, oversized downloads, 404,
// and path traversal through component_id, URL basenames, release fields and inline filenames.
#include <doctest/doctest.h>

#include <signal.h>

#include <set>
#include <vector>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kZeroSha(64, '0');

struct Rejects {
    HttpServer http;
    Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    std::uint64_t cap = echo.bytes.size() + 4096;  // echo fits, the oversized blob does not
    ComponentRig rig{"rej-1"};
    int counter = 0;

    Rejects() {
        http.serve("/files/" + echo.name, echo.bytes);
        rig.env["LUCID_MAX_ARTIFACT_BYTES"] = std::to_string(cap);
        rig.env["LUCID_GITHUB_BASE_URL"] = http.url("/gh");
        rig.start_agent();
    }

    // Sends the install and returns its error; the install must have failed.
    std::string refused(const std::string& cid, const std::string& source) {
        const std::string id = "rej-" + std::to_string(++counter);
        auto m = rig.install(id, cid, source);
        CHECK_MESSAGE(!ok_of(m), m.payload);
        CHECK_FALSE(flag_of(m, "noop"));
        CHECK_FALSE(flag_of(m, "rolled_back"));
        return error_of(m);
    }
};

bool no_component_left(const ComponentRig& rig) {
    std::error_code ec;
    const bool no_files =
        !fs::exists(rig.data() / "components", ec) || fs::is_empty(rig.data() / "components", ec);
    const bool no_staging =
        !fs::exists(rig.data() / "staging", ec) || fs::is_empty(rig.data() / "staging", ec);
    const bool no_entries =
        !fs::exists(rig.data() / "registry.json", ec) || rig.registry()["components"].ObjectEmpty();
    return no_files && no_staging && no_entries;
}

}  // namespace

TEST_CASE("a sha256 mismatch is refused with the sha256 actually received") {
    Rejects r;
    CHECK(r.refused("echo", inline_source(r.echo.name, r.echo.bytes, kZeroSha)) ==
          "sha256 mismatch: got=" + r.echo.sha256);
    CHECK(r.refused("echo", url_source(r.http.url("/files/" + r.echo.name), kZeroSha)) ==
          "sha256 mismatch: got=" + r.echo.sha256);
    CHECK(r.refused("echo", R"({"type":"inline","filename":")" + r.echo.name +
                                R"(","data_base64":")" + base64(r.echo.bytes) + "\"}") ==
          "validation_error: missing field 'source.sha256'");
    CHECK(no_component_left(r.rig));
}

TEST_CASE("artifacts that are not loadable plugins are refused before any of their code runs") {
    Rejects r;

    // A plugin built for another major ABI: the error names the file and both versions.
    const Artifact mismatch = artifact(LUCID_ITEST_ABI_MISMATCH);
    const std::string abi = r.refused("abi-mismatch", inline_source(mismatch));
    CHECK_MESSAGE(has_text(abi, mismatch.name), abi);
    CHECK_MESSAGE(has_text(abi, "is not supported; this host expects ABI"), abi);

    // Bytes that are not ELF at all, under a valid artifact name.
    const std::string text = "#!/bin/sh\necho not a shared object\n";
    const std::string not_elf =
        r.refused("echo", inline_source(r.echo.name, text, sha256_hex(text)));
    CHECK_MESSAGE(has_text(not_elf, "not an ELF file"), not_elf);

    // The manifest says echo 1.0.0; the (renamed) file says 9.9.9 or another dist.
    const std::string renamed = "lucid_agent_echo-9.9.9-linux_x86_64.so";
    const std::string version =
        r.refused("echo", inline_source(renamed, r.echo.bytes, r.echo.sha256));
    CHECK_MESSAGE(has_text(version,
                           "manifest says dist 'lucid-agent-echo' version '1.0.0' but "
                           "the file name says 'lucid-agent-echo' '9.9.9'"),
                  version);
    TempDir copies;
    const fs::path other = copies / "other_plugin-1.0.0.so";
    fs::copy_file(r.echo.path, other);
    const std::string dist =
        r.refused("echo", url_source("file://" + other.string(), r.echo.sha256));
    CHECK_MESSAGE(has_text(dist, "but the file name says 'other-plugin' '1.0.0'"), dist);

    // The payload's component_id is not the manifest's.
    CHECK(r.refused("other", inline_source(r.echo)) ==
          "validation_error: component_id 'other' does not match the artifact's manifest "
          "('echo')");
    // A payload version that is not the file's.
    auto m = r.rig.install(
        install_payload("rej-version", "echo", inline_source(r.echo), R"(,"version":"2.0.0")"),
        "rej-version");
    CHECK_FALSE(ok_of(m));
    CHECK(has_text(error_of(m), "validation_error: 'version' 2.0.0 does not match"));

    CHECK(no_component_left(r.rig));
}

TEST_CASE("downloads that fail are refused: 404 and over the size cap") {
    Rejects r;
    const std::string missing = r.http.url("/missing/" + r.echo.name);
    CHECK(r.refused("echo", url_source(missing, r.echo.sha256)) ==
          "download failed: HTTP 404: " + missing);

    const std::string big = r.echo.bytes + std::string(8192, '\0');
    r.http.serve("/files/big/" + r.echo.name, big);
    const std::string over =
        r.refused("echo", url_source(r.http.url("/files/big/" + r.echo.name), sha256_hex(big)));
    CHECK_MESSAGE(has_text(over, "download failed: artifact exceeds the size cap of " +
                                     std::to_string(r.cap) + " bytes"),
                  over);
    const std::string inline_over =
        r.refused("echo", inline_source(r.echo.name, big, sha256_hex(big)));
    CHECK_MESSAGE(has_text(inline_over, "exceeds the size cap"), inline_over);

    // A file:// source has the same cap.
    TempDir dir;
    write_bytes(dir / r.echo.name, big);
    const std::string file_over =
        r.refused("echo", url_source("file://" + (dir / r.echo.name).string(), sha256_hex(big)));
    CHECK_MESSAGE(has_text(file_over, "exceeds the size cap"), file_over);

    CHECK(no_component_left(r.rig));
    // Still installable afterwards: the failures left nothing in the way.
    auto ok = r.rig.install("rej-after", "echo", inline_source(r.echo));
    CHECK_MESSAGE(ok_of(ok), ok.payload);
}

TEST_CASE("path traversal is refused in component_id, URL names, release fields and filenames") {
    Rejects r;
    CHECK(r.refused("../etc", inline_source(r.echo)) ==
          "validation_error: component_id '../etc' is invalid; allowed: "
          "[a-z0-9][a-z0-9_-]{0,63}");
    CHECK(r.refused("echo/../../x", inline_source(r.echo)) ==
          "validation_error: component_id 'echo/../../x' is invalid; allowed: "
          "[a-z0-9][a-z0-9_-]{0,63}");

    // URL basenames.
    // `..` is resolved (the URL is normalised): what is left names no file.
    CHECK(r.refused("echo", url_source(r.http.url("/files/.."), r.echo.sha256)) ==
          "validation_error: 'artifact file name' must be a plain file name, got ''");
    const std::string no_name = r.refused("echo", url_source(r.http.url("/files/"), r.echo.sha256));
    CHECK_MESSAGE(has_text(no_name, "validation_error:"), no_name);

    // github_release fields: a segment can never leave its slot.
    auto release = [&](const std::string& tag, const std::string& asset) {
        return R"({"type":"github_release","owner":"o","repo":"r","tag":)" + json_string(tag) +
               R"(,"asset":)" + json_string(asset) + R"(,"sha256":")" + r.echo.sha256 + "\"}";
    };
    const std::string asset = r.refused("echo", release("v1", "../" + r.echo.name));
    CHECK_MESSAGE(has_text(asset, "'source.asset' contains characters not allowed"), asset);
    const std::string tag = r.refused("echo", release("..", r.echo.name));
    CHECK_MESSAGE(has_text(tag, "'source.tag' contains characters not allowed"), tag);

    // Inline filenames.
    for (const std::string& name :
         {"../" + r.echo.name, "sub/" + r.echo.name, std::string(".."), "/tmp/" + r.echo.name}) {
        CAPTURE(name);
        CHECK(r.refused("echo", inline_source(name, r.echo.bytes, r.echo.sha256)) ==
              "validation_error: 'source.filename' must be a plain file name, got '" + name + "'");
    }
    // A name whose dist part is only dots normalizes to nothing usable: refused, placed nowhere.
    const std::string dots =
        r.refused("echo", inline_source("..-1.0.0.so", r.echo.bytes, r.echo.sha256));
    CHECK_MESSAGE(!dots.empty(), dots);

    CHECK(no_component_left(r.rig));
    CHECK_FALSE(fs::exists(r.rig.data().parent_path() / "etc"));
    CHECK_FALSE(fs::exists(r.rig.data() / r.echo.name));
    // The agent is unharmed.
    CHECK(ok_of(r.rig.ping("after-traversal")));
}

TEST_CASE("an install refused before anything is known still carries every result field") {
    ComponentRig rig("rej-fields");
    rig.start_agent();
    const auto m = rig.install(R"({"request_id":"f-1","source":{}})", "f-1");
    auto doc = m.json();
    CHECK_FALSE(doc["ok"].GetBool());
    CHECK(std::string(doc["error"].GetString()) ==
          "validation_error: missing field 'component_id'");
    for (const char* field : {"component_id", "dist_name", "version", "sha256"}) {
        REQUIRE_MESSAGE(doc.HasMember(field), field);
        CHECK(doc[field].IsNull());
    }
    for (const char* flag : {"noop", "rolled_back", "restart_required"}) {
        REQUIRE_MESSAGE(doc.HasMember(flag), flag);
        CHECK_FALSE(doc[flag].GetBool());
    }
}

namespace {

std::set<std::string> files_in(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir, ec))
        names.insert(f.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("another build of an installed version is refused whatever its file name (issue 14)") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    // Another build of echo 1.0.0: the same library with one byte more (it still loads).
    const std::string rebuild = v1.bytes + "\n";
    const std::string rebuild_sha = sha256_hex(rebuild);
    ComponentRig rig("rej-build");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("b-1", "echo", inline_source(v1))));
    const fs::path folder = rig.data() / "components" / "lucid-agent-echo" / "1.0.0";
    const auto installed = files_in(folder);
    REQUIRE(installed.size() == 1);

    // The same build under other names is the same artifact: nothing to do.
    const std::vector<std::string> other_names{"LUCID_AGENT_ECHO-1.0.0.so",
                                               "lucid.agent.echo-1.0.0-any.so"};
    for (const auto& name : other_names) {
        auto same = rig.install("b-same-" + name, "echo", inline_source(name, v1.bytes, v1.sha256));
        CHECK_MESSAGE(ok_of(same), same.payload);
        CHECK(flag_of(same, "noop"));
    }
    // Another build under any name is refused, claims no rollback, and places nothing.
    int n = 0;
    std::vector<std::string> all_names = other_names;
    all_names.push_back(v1.name);
    for (const auto& name : all_names) {
        auto other = rig.install("b-other-" + std::to_string(++n), "echo",
                                 inline_source(name, rebuild, rebuild_sha));
        CHECK_MESSAGE(!ok_of(other), other.payload);
        CHECK(error_of(other) ==
              "version 1.0.0 of lucid-agent-echo is already installed with a different sha256; "
              "publish the new build under a new version");
        CHECK_FALSE(flag_of(other, "rolled_back"));
        CHECK(files_in(folder) == installed);
    }
    rig.echo_answers("b-echo-1");

    // The version kept for rollback is protected the same way.
    REQUIRE(ok_of(rig.install("b-2", "echo", inline_source(v2))));
    auto old_rebuild = rig.install(
        "b-old", "echo", inline_source("LUCID_AGENT_ECHO-1.0.0.so", rebuild, rebuild_sha));
    CHECK_MESSAGE(!ok_of(old_rebuild), old_rebuild.payload);
    CHECK_FALSE(flag_of(old_rebuild, "rolled_back"));
    CHECK(files_in(folder) == installed);
    CHECK(rig.registry()["components"]["echo"]["version"].GetString() == std::string("2.0.0"));
    rig.echo_answers("b-echo-2");
}

TEST_CASE("a stray file in a version folder is removed at the next start (issue 14)") {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    ComponentRig rig("rej-stray");
    rig.start_agent();
    REQUIRE(ok_of(rig.install("s-1", "echo", inline_source(v1))));
    const fs::path folder = rig.data() / "components" / "lucid-agent-echo" / "1.0.0";
    const auto installed = files_in(folder);
    // What an older agent let a renamed install that failed to load leave behind.
    write_bytes(folder / "LUCID_AGENT_ECHO-1.0.0.so", v1.bytes + "\n");
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.start_agent();
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    CHECK(files_in(folder) == installed);
    rig.echo_answers("s-echo");
}

TEST_CASE("allowed source prefixes cannot be bypassed with dot-segments, userinfo or symlinks") {
    // Issue 14: the prefix check compared strings; curl and servers resolve what it did not.
    HttpServer redirector;  // its whole origin is allowed
    HttpServer other;       // allowed nowhere: it must never be asked for anything
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    HttpServer http;
    TempDir dir;
    fs::create_directories(dir / "allowed");
    fs::create_directories(dir / "other");
    write_bytes(dir / "other" / echo.name, echo.bytes);
    fs::create_symlink(dir / "other", dir / "allowed" / "door");

    const std::string origin = "127.0.0.1:" + std::to_string(redirector.port());
    ComponentRig rig("rej-prefix");
    rig.env["LUCID_ALLOWED_SOURCE_PREFIXES"] =
        http.url("/good/") + ",http://" + origin + ",file://" + (dir / "allowed").string() + "/";
    rig.start_agent();
    int n = 0;
    auto refused = [&](const std::string& url) {
        const std::string id = "prefix-" + std::to_string(++n);
        auto m = rig.install(id, "echo", url_source(url, echo.sha256));
        CHECK_MESSAGE(!ok_of(m), m.payload);
        return error_of(m);
    };
    const std::string not_allowed = "validation_error: source URL is not under an allowed prefix: ";

    // Dot-segments: curl would request /evil/ (and a server would resolve %2e%2e itself).
    http.serve("/evil/" + echo.name, echo.bytes);
    http.serve("/good/%2e%2e/evil/" + echo.name, echo.bytes);  // this server does not decode
    CHECK(refused(http.url("/good/../evil/" + echo.name)) ==
          not_allowed + http.url("/evil/" + echo.name));
    CHECK(refused(http.url("/good/%2e%2e/evil/" + echo.name)) ==
          not_allowed + http.url("/good/%2e%2e/evil/" + echo.name));
    CHECK(http.requests("/evil/" + echo.name) == 0);
    CHECK(http.requests("/good/%2e%2e/evil/" + echo.name) == 0);

    // Userinfo: `http://<allowed origin>@<other host>/` goes to the other host, directly or as a
    // redirect hop.
    other.serve("/evil/" + echo.name, echo.bytes);
    const std::string behind =
        "http://" + origin + "@127.0.0.1:" + std::to_string(other.port()) + "/evil/" + echo.name;
    CHECK(refused(behind) == not_allowed + "http://***@127.0.0.1:" + std::to_string(other.port()) +
                                 "/evil/" + echo.name);
    redirector.redirect("/moved/" + echo.name, behind);
    const std::string moved = redirector.url("/moved/" + echo.name);
    CHECK(refused(moved) ==
          "download failed: redirect outside the allowed prefixes: http://***@"
          "127.0.0.1:" +
              std::to_string(other.port()) + "/evil/" + echo.name + ": " + moved);
    CHECK(redirector.requests("/moved/" + echo.name) == 1);
    CHECK(other.requests("/evil/" + echo.name) == 0);

    // file://: out of the allowed directory by `..` or through a symlink.
    const std::string allowed = "file://" + (dir / "allowed").string();
    CHECK(refused(allowed + "/../other/" + echo.name) ==
          not_allowed + "file://" + (dir / "other" / echo.name).string());
    CHECK(refused(allowed + "/door/" + echo.name) == not_allowed + allowed + "/door/" + echo.name);

    CHECK(no_component_left(rig));
    // What stays under the prefix still installs, and the normalised URL is what is requested.
    http.serve("/good/" + echo.name, echo.bytes);
    auto ok = rig.install("prefix-ok", "echo",
                          url_source(http.url("/good/sub/../" + echo.name), echo.sha256));
    CHECK_MESSAGE(ok_of(ok), ok.payload);
    CHECK(http.requests("/good/" + echo.name) == 1);
}

TEST_CASE("a first install whose start fails leaves no failed component behind") {
    const Artifact throws = artifact(LUCID_ITEST_ECHO_3_0_THROWS);
    ComponentRig rig("rej-first-start");
    rig.start_agent();
    CHECK_FALSE(ok_of(rig.install("first-throws", "echo", inline_source(throws))));
    CHECK(no_component_left(rig));
    // Its status is cleared on the broker (a refresh republishes only what is installed).
    CHECK(rig.client->wait_for(rig.agent.topic("components/echo/status"),
                               [](const Message& m) { return m.payload.empty(); }));
}
