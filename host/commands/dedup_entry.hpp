// One answered command as the request log keeps it (DedupStore, RequestJournal).
#pragma once

#include <string>

namespace lucid::host::commands {

struct RecordedResult {
    std::string topic;    // absolute result topic
    std::string payload;  // the result exactly as first published (or its truncated_result)
};

struct DedupEntry {
    std::string request_id;
    RecordedResult result;
};

}  // namespace lucid::host::commands
