#include "mqtt/topic_filter.hpp"

namespace lucid::host::mqtt {

namespace {

// Splits off the next level; `rest` becomes what follows the '/', `done` is set at the end.
std::string_view next_level(std::string_view& rest, bool& done) {
    auto slash = rest.find('/');
    std::string_view level = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
        done = true;
        rest = {};
    } else {
        rest.remove_prefix(slash + 1);
    }
    return level;
}

}  // namespace

bool is_valid_topic_name(std::string_view topic) {
    return !topic.empty() && topic.find_first_of(std::string_view("+#\0", 3)) == topic.npos;
}

bool is_valid_topic_filter(std::string_view filter) {
    if (filter.empty() || filter.find('\0') != filter.npos) return false;
    std::string_view rest = filter;
    bool done = false;
    while (!done) {
        std::string_view level = next_level(rest, done);
        if (level.find_first_of("+#") == level.npos) continue;
        if (level.size() != 1) return false;      // "a+" or "#b"
        if (level == "#" && !done) return false;  // '#' must be last
    }
    return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    if (topic.empty()) return false;
    // MQTT: a filter starting with a wildcard does not match topics starting with '$'.
    if (topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    bool filter_done = false;
    bool topic_done = false;
    while (!filter_done) {
        std::string_view f = next_level(filter, filter_done);
        if (f == "#") return true;  // matches this level and everything below, even nothing
        if (topic_done) return false;
        std::string_view t = next_level(topic, topic_done);
        if (f != "+" && f != t) return false;
    }
    return topic_done;
}

}  // namespace lucid::host::mqtt
