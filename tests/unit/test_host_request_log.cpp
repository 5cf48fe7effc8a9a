// The request log's limits (host/commands/dedup_store.hpp): bounded in bytes whatever the results
// weigh, byte-identical replay up to the result limit and a truncated answer above it, and a
// start that survives a huge, corrupt or hostile file.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include <rapidjson/document.h>

#include "commands/dedup_store.hpp"
#include "temp_dir.hpp"

using namespace lucid::host::commands;
namespace fs = std::filesystem;

namespace {

// A result of `bytes` bytes, as a plugin's echo of a large message would be.
std::string big_result(const std::string& request_id, std::size_t bytes) {
    const std::string head = R"({"schema":"lucid.core.v1.0.0","ts":"2026-11-30T00:00:00.000Z",)"
                             R"("request_id":")" +
                             request_id + R"(","ok":true,"error":null,"echo":")";
    return head + std::string(bytes - head.size() - 2, 'x') + "\"}";
}

rapidjson::Document json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

std::size_t files_named(const fs::path& dir, const std::string& part) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        n += e.path().filename().string().find(part) != std::string::npos;
    }
    return n;
}

}  // namespace

TEST_CASE("a result up to 64 KiB replays byte for byte, a larger one as truncated") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const std::string fits = big_result("fits", 64 * 1024);
    const std::string large = big_result("large", 1024 * 1024);
    {
        DedupStore store(file, DedupLimits{});
        store.record("fits", {"t/r", fits}, Durability::immediate);
        store.record("large", {"t/r", large}, Durability::immediate);
        CHECK(store.find("t/r", "fits")->payload == fits);
    }
    DedupStore reloaded(file, DedupLimits{});
    CHECK(reloaded.load_problem().empty());
    CHECK(reloaded.find("t/r", "fits")->payload == fits);
    const auto replay = json(reloaded.find("t/r", "large")->payload);
    CHECK(std::string(replay["request_id"].GetString()) == "large");
    CHECK(replay["ok"].GetBool());
    CHECK(replay["error"].IsNull());
    CHECK(replay["truncated"].GetBool());
    CHECK(std::string(replay["schema"].GetString()) == "lucid.core.v1.0.0");
    CHECK_FALSE(replay.HasMember("echo"));
}

TEST_CASE("the request log stays within its byte limit whatever the results weigh") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const DedupLimits limits{512, 256 * 1024, 64 * 1024};
    DedupStore store(file, limits);
    for (int i = 0; i < 40; ++i) {
        const std::string id = "echo-" + std::to_string(i);
        // Each just under the result limit: kept whole, so only the total limit bounds them.
        store.record(id, {"components/echo/evt/echo_result", big_result(id, 60 * 1024)},
                     Durability::immediate);
        CHECK(store.bytes() <= limits.total_bytes);
        CHECK(fs::file_size(file) <= limits.total_bytes + 64);
    }
    CHECK(store.find("components/echo/evt/echo_result", "echo-39"));
    CHECK_FALSE(store.find("components/echo/evt/echo_result", "echo-0"));  // oldest forgotten
    CHECK(store.size() >= 4);
}

TEST_CASE("a request log over the read limit is moved aside unread and the start goes on") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const DedupLimits limits{512, 1024, 256};  // read limit: 4 KiB
    {
        std::ofstream out(file);
        out << R"({"format":1,"entries":[{"request_id":"a","topic":"t","payload":")"
            << std::string(8 * 1024, 'x') << R"("}]})";
    }
    DedupStore store(file, limits);
    CHECK(store.size() == 0);
    CHECK_MESSAGE(store.load_problem().find(file.string()) != std::string::npos,
                  store.load_problem());
    CHECK(store.load_problem().find("larger than 4096 bytes") != std::string::npos);
    CHECK_FALSE(fs::exists(file));
    CHECK(files_named(dir.path(), "request_log.too-large.") == 1);
    store.record("b", {"t", "{}"}, Durability::immediate);
    CHECK(DedupStore(file, limits).find("t", "b"));
}

TEST_CASE("a FIFO in place of the request log is moved aside, not read for ever") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
    DedupStore store(file, DedupLimits{});
    CHECK(store.size() == 0);
    CHECK_MESSAGE(store.load_problem().find("not a regular file") != std::string::npos,
                  store.load_problem());
    CHECK(files_named(dir.path(), "request_log.corrupt.") == 1);
}

TEST_CASE("a request log of a writer with larger limits is cut to these when loaded") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    std::deque<DedupEntry> entries;
    for (int i = 0; i < 6; ++i) {
        const std::string id = "r" + std::to_string(i);
        entries.push_back({id, {"t", big_result(id, 100 * 1024)}});
    }
    { std::ofstream(file) << serialize_dedup(entries); }
    const DedupLimits limits{512, 256 * 1024, 1024};  // read limit 1 MiB: the 600 KiB file is read
    DedupStore store(file, limits);
    CHECK(store.load_problem().empty());
    CHECK(store.size() == 6);  // each truncated to a few hundred bytes
    CHECK(json(store.find("t", "r0")->payload)["truncated"].GetBool());
    store.flush();
    CHECK(fs::file_size(file) <= limits.total_bytes + 64);
}

TEST_CASE("a truncated result keeps request_id, ok, error (cut at a character) and component_id") {
    const std::string error = "failed: " + std::string(2000, 'e') + "\xC3\xA9" + "tail";
    const std::string payload = R"({"request_id":"x","ok":false,"error":")" + error +
                                R"(","component_id":"echo","data":"big"})";
    const auto kept = json(truncated_result(payload, "x"));
    CHECK_FALSE(kept["ok"].GetBool());
    CHECK(std::string(kept["component_id"].GetString()) == "echo");
    CHECK(kept["error"].GetStringLength() == kMaxTruncatedErrorBytes);
    CHECK(kept["truncated"].GetBool());
    CHECK_FALSE(kept.HasMember("data"));
    // Cut inside the two-byte é: the whole character goes.
    const std::string cut_inside(kMaxTruncatedErrorBytes - 9, 'e');
    const auto utf8 = json(truncated_result(
        R"({"ok":false,"error":"failed: )" + cut_inside + "\xC3\xA9" + R"("})", "y"));
    CHECK(std::string(utf8["error"].GetString()) == "failed: " + cut_inside);
    // Not JSON at all (never written by the agent): still an answer with the request_id.
    const auto garbage = json(truncated_result("not json", "z"));
    CHECK(std::string(garbage["request_id"].GetString()) == "z");
    CHECK_FALSE(garbage["ok"].GetBool());
}

TEST_CASE("a request log nested deep enough to overflow the stack is moved aside as corrupt") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    std::ofstream(file) << std::string(1'000'000, '[');
    DedupStore store(file, DedupLimits{});
    CHECK(store.size() == 0);
    CHECK_FALSE(fs::exists(file));
    CHECK(files_named(dir.path(), "request_log.corrupt.") == 1);
}
