// The request log's journal (host/commands/request_journal.hpp, dedup_store.hpp): one appended
// record a command, read back after a crash; a damaged record dropped with a warning naming the
// file and nothing else lost; a config change carried with its answer; request_log.json kept in
// the format a rolled-back release reads; a journal older than the log it names set aside.
#include <doctest/doctest.h>

#include <fstream>

#include "commands/dedup_store.hpp"
#include "commands/request_journal.hpp"
#include "common/atomic_file.hpp"
#include "temp_dir.hpp"

using namespace lucid::host::commands;
using lucid::host::read_file;
namespace fs = std::filesystem;

namespace {

void append_text(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::app | std::ios::binary) << text;
}

std::size_t journal_files_named(const fs::path& dir, const std::string& part) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        n += name.find(part) != std::string::npos && e.path().extension() == ".journal";
    }
    return n;
}

}  // namespace

TEST_CASE("journal lines: whole ones read back, a torn or garbled one dropped, later ones kept") {
    const JournalRecord a{{"a", {"t/r", R"({"ok":true})"}}, {}, {}};
    const JournalRecord b{{"b", {"t/r", "B\nwith a newline"}}, "core_config.json", "{\n}\n"};
    const std::string c_line = journal_line({{"c", {"t/r", "C"}}, {}, {}});
    std::string garbled = journal_line(a);
    garbled[20] ^= 1;  // a bit flipped inside the JSON: the hash no longer matches
    const std::string text = journal_header("base1") + journal_line(a) + garbled + journal_line(b) +
                             c_line.substr(0, c_line.size() - 5);
    const auto parsed = parse_journal(text);
    REQUIRE(parsed.base);
    CHECK(*parsed.base == "base1");
    REQUIRE(parsed.records.size() == 2);
    CHECK(parsed.records[0].entry.request_id == "a");
    CHECK(parsed.records[1].entry.result.payload == "B\nwith a newline");
    CHECK(parsed.records[1].file == "core_config.json");
    CHECK(parsed.records[1].content == "{\n}\n");
    CHECK(parsed.dropped == 2);

    CHECK_FALSE(parse_journal("").base);
    CHECK_FALSE(parse_journal(journal_line(a)).base);  // no header
    CHECK_FALSE(parse_journal("0000000000000000 {\"journal\":1,\"base\":\"x\"}\n").base);
    // A record may carry only a plain file name of the data directory.
    const std::string escape = journal_line({{"e", {"t", "E"}}, "../passwd", "x"});
    CHECK(parse_journal(journal_header("b") + escape).dropped == 1);
}

TEST_CASE("a record is in the journal at once and replayed after a kill, torn tail dropped") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    {
        DedupStore store(file, DedupLimits{});
        store.record("a", {"t/r", "A"}, Durability::immediate);
        store.record("b", {"t/r", "B"}, Durability::immediate);
        store.record("c", {"t/r", "C"}, Durability::deferred);
        // No flush(): the process is "killed" here, request_log.json never rewritten.
    }
    CHECK(parse_dedup(read_file(file))->size() == 1);  // only what the first record compacted
    // A record cut short after `c`, as a SIGKILL in the middle of its write leaves it.
    const std::string torn = journal_line({{"d", {"t/r", "D"}}, {}, {}});
    append_text(dir / "request_log.journal", torn.substr(0, torn.size() / 2));

    DedupStore reloaded(file, DedupLimits{});
    CHECK(reloaded.find("t/r", "a")->payload == "A");
    CHECK(reloaded.find("t/r", "b")->payload == "B");
    CHECK(reloaded.find("t/r", "c")->payload == "C");
    CHECK_FALSE(reloaded.find("t/r", "d"));
    const std::string problem = reloaded.load_problem();
    CAPTURE(problem);
    CHECK(problem.find((dir / "request_log.journal").string()) != std::string::npos);
    CHECK(problem.find("dropped 1 damaged record") != std::string::npos);
    // Replayed into the whole log, in the old format, and the journal started again.
    CHECK(parse_dedup(read_file(file))->size() == 3);
    CHECK(parse_journal(read_file(reloaded.journal_path())).records.empty());
    CHECK(DedupStore(file, DedupLimits{}).load_problem().empty());
}

TEST_CASE("a carried file is replaced at once and rewritten from the journal after a power cut") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const auto config = dir / "core_config.json";
    { std::ofstream(config) << "old\n"; }
    {
        DedupStore store(file, DedupLimits{});
        store.record("warm", {"t/r", "W"}, Durability::immediate);
        store.record_with_file("s1", {"t/r", "S1"}, "core_config.json", "new\n");
        CHECK(read_file(config) == "new\n");
        CHECK(store.find("t/r", "s1")->payload == "S1");
        CHECK_THROWS(store.record_with_file("s2", {"t/r", "S2"}, "../x", "y"));
    }
    // The replacement was not flushed: after a power cut the file may be the old one.
    { std::ofstream(config) << "old\n"; }
    DedupStore reloaded(file, DedupLimits{});
    CHECK(reloaded.load_problem().empty());
    CHECK(read_file(config) == "new\n");
    CHECK(reloaded.find("t/r", "s1")->payload == "S1");
}

TEST_CASE("a journal older than the request log it names is set aside, not replayed") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const auto config = dir / "core_config.json";
    {
        DedupStore store(file, DedupLimits{});
        store.record("warm", {"t/r", "W"}, Durability::immediate);
        store.record_with_file("s1", {"t/r", "S1"}, "core_config.json", "from the new release\n");
    }
    // A rollback: the older release reads request_log.json (its format), answers, rewrites it
    // and the config, knowing nothing of the journal.
    auto entries = *parse_dedup(read_file(file));
    entries.push_back({"old1", {"t/r", "OLD"}});
    lucid::host::write_file_atomically(file, serialize_dedup(entries));
    { std::ofstream(config) << "from the old release\n"; }

    DedupStore upgraded(file, DedupLimits{});
    const std::string problem = upgraded.load_problem();
    CAPTURE(problem);
    CHECK(problem.find("does not extend request_log.json") != std::string::npos);
    CHECK(upgraded.find("t/r", "old1"));
    CHECK_FALSE(upgraded.find("t/r", "s1"));
    CHECK(read_file(config) == "from the old release\n");
    CHECK(journal_files_named(dir.path(), "request_log.stale.") == 1);
}

TEST_CASE("the journal is folded into the whole log once past its bound") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    DedupLimits limits;
    limits.total_bytes = 4096;
    DedupStore store(file, limits);
    for (int i = 0; i < 200; ++i) {
        store.record("r" + std::to_string(i), {"t/r", std::string(100, 'x')},
                     Durability::immediate);
        CHECK(fs::file_size(store.journal_path()) <= limits.total_bytes + 512);
    }
    CHECK(parse_dedup(read_file(file))->size() > 1);
    DedupStore reloaded(file, limits);
    CHECK(reloaded.find("t/r", "r199"));
    CHECK(reloaded.size() == store.size());
}

TEST_CASE("a journal with no header is moved aside and the request log still loads") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    {
        DedupStore store(file, DedupLimits{});
        store.record("a", {"t/r", "A"}, Durability::immediate);
        store.flush();
    }
    { std::ofstream(dir / "request_log.journal") << "garbage\n"; }
    DedupStore reloaded(file, DedupLimits{});
    CHECK(reloaded.find("t/r", "a"));
    CHECK(reloaded.load_problem().find("has no valid header") != std::string::npos);
    CHECK(journal_files_named(dir.path(), "request_log.corrupt.") == 1);
}

TEST_CASE(
    "a pending self-update writes answers and cfg/set whole, as a release before the journal reads "
    "them") {
    lucid::test::TempDir dir;
    const auto file = dir / "request_log.json";
    const auto config = dir / "core_config.json";
    { std::ofstream(config) << "old\n"; }
    DedupStore store(file, DedupLimits{});
    store.set_whole_writes(true);
    store.record_with_file("s1", {"t/r", "S1"}, "core_config.json", "new\n");
    store.record("i1", {"t/i", "I1"}, Durability::immediate);
    // What the previous release reads (it ignores the journal): both answers and the config.
    const auto whole = parse_dedup(read_file(file));
    REQUIRE(whole);
    REQUIRE(whole->size() == 2);
    CHECK(whole->at(0).request_id == "s1");
    CHECK(whole->at(1).request_id == "i1");
    CHECK(read_file(config) == "new\n");
    // Committed: back to one append a record; the whole log waits for the next compaction.
    store.set_whole_writes(false);
    store.record("i2", {"t/i", "I2"}, Durability::immediate);
    CHECK(parse_dedup(read_file(file))->size() == 2);
    CHECK(store.find("t/i", "i2")->payload == "I2");
}
