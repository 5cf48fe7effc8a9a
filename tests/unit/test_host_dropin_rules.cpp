// Where the drop-in directory crosses MQTT installs (issue 13 #4, component_channel.hpp), and
// how often the agent complains about one drop-in file (issue 13 "Logs", dropin_log_memo.hpp).
// The crossings themselves, with a real agent, are in
// tests/integration/test_components_dropin_channels.cpp.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "components/component_channel.hpp"
#include "dropin/dropin_log_memo.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using lucid::host::components::Channel;
using lucid::host::components::channel_of_source;
using lucid::host::components::dropin_file_of;
using lucid::host::components::dropin_yields_to;
using lucid::host::components::move_dropin_aside;
using lucid::host::components::owner_of;
using lucid::host::dropin::DropinLogMemo;
using lucid::registry::Entry;
using lucid::test::TempDir;

namespace {

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    REQUIRE(out);
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Entry entry_from(const std::string& source_json, const std::string& version = "2.0.0") {
    Entry e;
    e.component_id = "echo";
    e.dist_name = "lucid-agent-echo";
    e.version = version;
    e.source_json = source_json;
    return e;
}

}  // namespace

TEST_CASE("the channel that owns a component is the type of the source that installed it") {
    CHECK(channel_of_source(R"({"type":"dropin","path":"/d/x-1.0.0.so"})") == Channel::dropin);
    for (const char* mqtt : {R"({"type":"inline","filename":"x-1.0.0.so"})",
                             R"({"type":"url","url":"https://h/x-1.0.0.so"})",
                             R"({"type":"github"})", "{}", "", "not json", R"({"type":7})"}) {
        CAPTURE(mqtt);
        CHECK(channel_of_source(mqtt) == Channel::mqtt);
    }
    const Entry dropin = entry_from(R"({"type":"dropin","path":"/d/x-1.0.0.so"})");
    CHECK(owner_of(dropin) == Channel::dropin);
    CHECK(dropin_file_of(dropin) == fs::path("/d/x-1.0.0.so"));
    CHECK(dropin_file_of(entry_from(R"({"type":"inline","path":"/d/x-1.0.0.so"})")).empty());
}

TEST_CASE("a drop-in file takes an MQTT component over only with a newer version") {
    const Entry mqtt = entry_from(R"({"type":"inline"})", "2.0.0");
    CHECK_FALSE(dropin_yields_to(mqtt, "2.0.1", "/d/echo-2.0.1.so"));
    CHECK_FALSE(dropin_yields_to(mqtt, "10.0.0", "/d/echo-10.0.0.so"));
    CHECK(dropin_yields_to(mqtt, "1.0.0", "/d/echo-1.0.0.so") ==
          std::string("drop-in /d/echo-1.0.0.so ignored: echo was installed over MQTT at version "
                      "2.0.0; a drop-in file takes it over only with a newer version"));
    CHECK(dropin_yields_to(mqtt, "2.0.0", "/d/echo-2.0.0.so"));
    CHECK(dropin_yields_to(mqtt, "2.0.0+rebuilt", "/d/echo-2.0.0+rebuilt.so"));
    CHECK(dropin_yields_to(mqtt, "2.1.0-rc.1", "/d/echo-2.1.0-rc.1.so") == std::nullopt);
    CHECK(dropin_yields_to(mqtt, "2.0.0-rc.1", "/d/echo-2.0.0-rc.1.so"));
    // A version that cannot be compared never takes anything over.
    CHECK(dropin_yields_to(mqtt, "3", "/d/echo-3.so"));
    CHECK(dropin_yields_to(entry_from("{}", "legacy"), "9.0.0", "/d/echo-9.0.0.so"));
}

TEST_CASE("an older drop-in file never downgrades a drop-in component; others may replace it") {
    const Entry dropin = entry_from(R"({"type":"dropin","path":"/d/echo-2.0.0.so"})", "2.0.0");
    CHECK(dropin_yields_to(dropin, "1.0.0", "/d/echo-1.0.0.so") ==
          std::string("drop-in /d/echo-1.0.0.so ignored: echo runs version 2.0.0 from the drop-in "
                      "file /d/echo-2.0.0.so; an older drop-in file does not downgrade it"));
    CHECK(dropin_yields_to(dropin, "2.0.0-rc.1", "/d/echo-2.0.0-rc.1.so"));
    // The same version (a rebuilt file) and newer ones go through the pipeline.
    CHECK_FALSE(dropin_yields_to(dropin, "2.0.0", "/d/echo-2.0.0.so"));
    CHECK_FALSE(dropin_yields_to(dropin, "10.0.0", "/d/echo-10.0.0.so"));
    CHECK_FALSE(dropin_yields_to(dropin, "3", "/d/echo-3.so"));
}

TEST_CASE("a drop-in file and its signature are moved aside under hidden names") {
    TempDir dir;
    write_file(dir / "echo-1.0.0.so", "so");
    write_file(dir / "echo-1.0.0.so.sig", "sig");
    CHECK(move_dropin_aside(dir / "echo-1.0.0.so", "uninstalled").ok());
    CHECK_FALSE(fs::exists(dir / "echo-1.0.0.so"));
    CHECK_FALSE(fs::exists(dir / "echo-1.0.0.so.sig"));
    CHECK(fs::exists(dir / ".echo-1.0.0.so.uninstalled"));
    CHECK(fs::exists(dir / ".echo-1.0.0.so.sig.uninstalled"));
    // Gone already (the operator deleted it meanwhile): nothing to do, no error.
    CHECK(move_dropin_aside(dir / "echo-1.0.0.so", "superseded").ok());
    // A directory that refuses the rename: the error names the file and the reason.
    write_file(dir / "other-1.0.0.so", "so");
    fs::create_directory(dir / ".other-1.0.0.so.superseded");
    write_file(dir / ".other-1.0.0.so.superseded" / "keep", "x");
    const auto moved = move_dropin_aside(dir / "other-1.0.0.so", "superseded");
    REQUIRE_FALSE(moved.ok());
    const std::string& error = moved.error().message;
    CHECK(error.find("cannot move " + (dir / "other-1.0.0.so").string() + " aside to ") == 0);
    CHECK(fs::exists(dir / "other-1.0.0.so"));
}

TEST_CASE("a drop-in outcome is news once per version of the file and of its signature") {
    TempDir dir;
    DropinLogMemo memo;
    const fs::path file = dir / "echo-1.0.0.so";
    write_file(file, "v1");
    CHECK(memo.first_time(file, "refused: unsigned"));
    CHECK_FALSE(memo.first_time(file, "refused: unsigned"));
    // A .sig still empty (being written in place) is no signature yet: not news.
    write_file(file.string() + ".sig", "");
    CHECK_FALSE(memo.first_time(file, "refused: unsigned"));
    // Its signature arriving is news, even when the outcome is the same.
    write_file(file.string() + ".sig", "sig");
    CHECK(memo.first_time(file, "refused: unsigned"));
    CHECK_FALSE(memo.first_time(file, "refused: unsigned"));
    CHECK(memo.first_time(file, "refused: signature invalid"));
    write_file(file, "a new version");
    CHECK(memo.first_time(file, "refused: signature invalid"));
    memo.forget(file);
    CHECK(memo.first_time(file, "refused: signature invalid"));
}

TEST_CASE("what a drop-in memo logged is remembered across restarts, in its file") {
    TempDir dir;
    const fs::path memory = dir / "data" / "dropin_log.json";
    fs::create_directories(memory.parent_path());
    const fs::path bad = dir / "noversion.so";
    const fs::path unsigned_file = dir / "echo-1.0.0.so";
    write_file(bad, "x");
    write_file(unsigned_file, "v1");
    {
        DropinLogMemo first(memory);
        CHECK(first.load_problem().empty());
        CHECK(first.first_time(bad, "rejected"));
        CHECK(first.first_time(unsigned_file, "signature required"));
        CHECK(first.quiet_from_earlier_starts() == 0);
    }
    {
        // The next start: the same outcomes of the same files are not news, and counted once.
        DropinLogMemo second(memory);
        CHECK_FALSE(second.first_time(bad, "rejected"));
        CHECK_FALSE(second.first_time(bad, "rejected"));
        CHECK_FALSE(second.first_time(unsigned_file, "signature required"));
        CHECK(second.quiet_from_earlier_starts() == 2);
        // A changed file is news again; a forgotten one too, and stays forgotten.
        write_file(unsigned_file, "v2, another size");
        CHECK(second.first_time(unsigned_file, "signature required"));
        second.forget(bad);
    }
    DropinLogMemo third(memory);
    CHECK(third.first_time(bad, "rejected"));
    CHECK_FALSE(third.first_time(unsigned_file, "signature required"));
}

TEST_CASE("a drop-in memo file that is corrupt, huge or not a file starts an empty memory") {
    TempDir dir;
    const fs::path bad = dir / "noversion.so";
    write_file(bad, "x");
    const fs::path memory = dir / "dropin_log.json";
    {
        DropinLogMemo writer(memory);
        CHECK(writer.first_time(bad, "rejected"));
    }
    const std::string valid = read_text(memory);
    const auto open = valid.find('[');
    const auto close = valid.rfind(']');
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    const std::string entry = valid.substr(open + 1, close - open - 1);
    // One bad entry among good ones costs only itself: the good one is remembered.
    write_file(memory, R"({"files":[{"path":1},7,)" + entry + "]}");
    {
        DropinLogMemo tolerant(memory);
        CHECK(tolerant.load_problem().empty());
        CHECK_FALSE(tolerant.first_time(bad, "rejected"));
    }
    // A whole file that cannot be used: said why, nothing remembered, so the refusal is logged.
    for (const std::string& content : {valid.substr(0, valid.size() / 2), std::string("[1,2]"),
                                       valid + std::string(2 * 1024 * 1024, ' ')}) {
        CAPTURE(content.substr(0, 40));
        write_file(memory, content);
        DropinLogMemo memo(memory);
        CHECK_FALSE(memo.load_problem().empty());
        CHECK(memo.first_time(bad, "rejected"));
        CHECK_FALSE(memo.first_time(bad, "rejected"));
    }
    fs::create_directories(dir / "a-dir.json");
    DropinLogMemo not_a_file(dir / "a-dir.json");
    CHECK_FALSE(not_a_file.load_problem().empty());
    CHECK(not_a_file.first_time(bad, "rejected"));  // and it cannot be saved: memory only
    CHECK_FALSE(not_a_file.first_time(bad, "rejected"));
}

TEST_CASE("a drop-in memo remembers at most kMaxEntries files, forgetting the oldest") {
    TempDir dir;
    const fs::path memory = dir / "dropin_log.json";
    DropinLogMemo memo(memory);
    for (std::size_t i = 0; i <= DropinLogMemo::kMaxEntries; ++i) {
        CHECK(memo.first_time(dir / ("f" + std::to_string(i) + ".so"), "rejected"));
    }
    DropinLogMemo reloaded(memory);
    CHECK_FALSE(reloaded.first_time(dir / "f1.so", "rejected"));
    CHECK_FALSE(reloaded.first_time(
        dir / ("f" + std::to_string(DropinLogMemo::kMaxEntries) + ".so"), "rejected"));
    CHECK(reloaded.first_time(dir / "f0.so", "rejected"));  // the oldest was forgotten
}
