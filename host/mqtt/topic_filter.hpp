// MQTT topic names and topic filters with the `+` (one level) and `#` (the rest) wildcards,
// as the MQTT 3.1.1/5 specifications define them. Used to route incoming messages to the
// agent's handlers and to plugin subscriptions. Pure; thread-safe; no exceptions.
//
//   topic_matches("a/+/c", "a/b/c")  == true
//   topic_matches("a/#", "a")        == true   ('#' also matches the parent level)
//   topic_matches("#", "$SYS/x")     == false  ($-topics never match a leading wildcard)
#pragma once

#include <string_view>

namespace lucid::host::mqtt {

// A topic one may publish to: non-empty, no wildcard, no NUL.
bool is_valid_topic_name(std::string_view topic);

// A filter one may subscribe to: non-empty, no NUL, `+` and `#` occupy a whole level, `#` only
// as the last level.
bool is_valid_topic_filter(std::string_view filter);

// True when `topic` (a topic name) matches `filter` (a valid filter).
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace lucid::host::mqtt
