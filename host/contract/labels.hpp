// An agent's labels (contract §3.9): `key=value` pairs an operator selects agents by (lucidctl
// agents --select, rollouts). Keys and values match [a-z0-9][a-z0-9_.-]{0,63}; at most
// kMaxLabels of them.
//
//   auto labels = parse_labels_text("site=berlin,role=gateway");   // LUCID_LABELS
//   if (!labels) fail(labels.error().message);  // "label key 'Site' must match [a-z0-9]..."
//
// Thread: pure functions. Errors: Expected, the contract's text; nothing throws but bad_alloc.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/expected.hpp"

namespace lucid::host::contract {

using Labels = std::map<std::string, std::string, std::less<>>;

inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::string_view kLabelPattern = "[a-z0-9][a-z0-9_.-]{0,63}";

// True when `text` is a valid label key or value.
bool valid_label_text(std::string_view text);
// Done for a valid key; else "label key '<k>' must match <pattern>" (the key cut as §2.4 says).
Status check_label_key(std::string_view key);

// "site=berlin,role=gateway" (spaces around items allowed; "" is no labels). Errors:
//   label 'x' must be key=value | label key 'K' must match <pattern> |
//   label value 'V' of 'k' must match <pattern> | label 'k' given twice |
//   at most 64 labels
Expected<Labels> parse_labels_text(std::string_view text);

// A JSON object of strings, as cfg/set's `labels` (errors named `labels…`, the earlier agent's
// type wording): labels must be dict | labels.<k> must be str | label key … | label value … |
// at most 64 labels.
Expected<Labels> labels_from_json(const rapidjson::Value& value);

// {"k": "v", …}
rapidjson::Value labels_to_json(const Labels& labels, rapidjson::Document::AllocatorType& a);

// "role=gateway,site=berlin" (sorted by key), as LUCID_LABELS reads it.
std::string labels_text(const Labels& labels);

}  // namespace lucid::host::contract
