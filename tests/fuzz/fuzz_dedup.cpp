// The de-duplication of a LUCID_SUBSCRIBE_DEDUP subscription (plugin/duplicate_filter.hpp): the
// agent parses every MQTT payload such a subscription is handed, and anyone who may publish on
// its filter chooses those bytes.
//
// What must hold for any input:
//   - envelope_id never crashes; an id it finds is a string member "id" of what it parsed;
//   - fed as a sequence of ids (the input split at '\n', the time advancing by the first byte of
//     each line, in seconds, forgets (lines starting with '-') in between), the filter never
//     holds more than 2,048 ids, admits an id it holds as a duplicate only, and an id admitted
//     and then forgotten is admitted again.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugin/duplicate_filter.hpp"

namespace {

using lucid::host::DuplicateFilter;

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (auto id = lucid::host::envelope_id(input)) {
        check(input.find("\"id\"") != std::string_view::npos ||
              input.find("\\u") != std::string_view::npos);
    }

    DuplicateFilter filter;
    DuplicateFilter::Clock::time_point now{};
    std::size_t start = 0;
    while (start <= input.size()) {
        std::size_t end = input.find('\n', start);
        if (end == std::string_view::npos) end = input.size();
        const std::string_view line = input.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        now += std::chrono::seconds(static_cast<unsigned char>(line[0]) % 8);
        if (line[0] == '-') {
            filter.forget(line.substr(1));
            continue;
        }
        const bool fresh = filter.admit(line, now);
        check(filter.size() <= DuplicateFilter::kCapacity);
        if (line.size() <= DuplicateFilter::kMaxIdBytes) {
            check(!filter.admit(line, now));  // held now: a duplicate at once
            if (fresh) {
                filter.forget(line);
                check(filter.admit(line, now));  // forgotten: handed over again
            }
        }
    }
    return 0;
}
