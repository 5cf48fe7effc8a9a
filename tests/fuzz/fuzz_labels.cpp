// Labels and label selectors (contract/labels.hpp, contract/label_selector.hpp): what an
// operator types after --select and LUCID_LABELS. The input is `<selector>\n<labels text>`.
//
// What must hold for any input:
//   - parsing says either a result or why not, never crashes;
//   - parsed labels are valid and print back to text that parses to the same labels;
//   - the empty selector selects everything; a parsed selector decides on any labels.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "contract/label_selector.hpp"
#include "contract/labels.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string_view selector_text = input.substr(0, newline);
    const std::string_view labels_text =
        newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    using namespace lucid::host::contract;
    auto labels = parse_labels_text(labels_text);
    if (labels) {
        check(labels.value().size() <= kMaxLabels);
        for (const auto& [key, value] : labels.value()) {
            check(valid_label_text(key) && valid_label_text(value));
        }
        auto again = parse_labels_text(lucid::host::contract::labels_text(labels.value()));
        check(again.ok() && again.value() == labels.value());
    } else {
        check(!labels.error().message.empty());
    }
    auto selector = parse_label_selector(selector_text);
    if (selector) {
        (void)selector.value().matches(labels ? labels.value() : Labels{});
        check(!selector.value().requirements().empty() ||
              selector.value().matches(Labels{{"a", "b"}}));
    } else {
        check(!selector.error().message.empty());
    }
    return 0;
}
