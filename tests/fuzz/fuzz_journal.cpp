// The request log's journal (host/commands/request_journal.hpp): the agent reads it at every
// start, after a crash that may have cut its last record anywhere, on a disk that may garble it.
//
// What must hold for any input:
//   - parse_journal never crashes, and counts every line it does not return as dropped;
//   - every record it returns, written again with journal_line() after a header, is read back
//     the same, with nothing dropped;
//   - a carried file name is always a plain name of the data directory;
//   - cut anywhere (a torn write), the whole records before the cut are still read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "commands/request_journal.hpp"

namespace {

using namespace lucid::host::commands;

void journal_check(bool condition) {
    if (!condition) __builtin_trap();
}

bool same_record(const JournalRecord& a, const JournalRecord& b) {
    return a.entry.request_id == b.entry.request_id &&
           a.entry.result.topic == b.entry.result.topic &&
           a.entry.result.payload == b.entry.result.payload && a.file == b.file &&
           a.content == b.content;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const ParsedJournal parsed = parse_journal(input);
    std::size_t lines = 0;
    for (const char c : input) lines += c == '\n';
    if (!input.empty() && input.back() != '\n') ++lines;
    journal_check(parsed.records.size() + parsed.dropped + (parsed.base ? 1 : 0) <= lines);
    if (!parsed.base) journal_check(parsed.records.empty());

    std::string rewritten = journal_header(parsed.base.value_or("b"));
    std::vector<std::size_t> ends;  // where each rewritten record ends
    for (const auto& record : parsed.records) {
        journal_check(record.file.empty() || journal_file_name_ok(record.file));
        rewritten += journal_line(record);
        ends.push_back(rewritten.size());
    }
    const ParsedJournal again = parse_journal(rewritten);
    journal_check(again.dropped == 0 && again.records.size() == parsed.records.size());
    for (std::size_t i = 0; i < again.records.size(); ++i) {
        journal_check(same_record(again.records[i], parsed.records[i]));
    }

    // A torn write: the rewritten journal cut at a point the input chooses.
    if (!ends.empty() && size > 0) {
        const std::size_t cut = data[0] * rewritten.size() / 256;
        const ParsedJournal torn = parse_journal(std::string_view(rewritten).substr(0, cut));
        std::size_t whole = 0;
        while (whole < ends.size() && ends[whole] <= cut) ++whole;
        if (torn.base) journal_check(torn.records.size() == whole);
        journal_check(torn.dropped <= 1);
    }
    return 0;
}
