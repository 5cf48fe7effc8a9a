// Logs on command, through the host API's log (contract §4.15 tests): command "log"
// {"level": "debug"|"info"|"warning"|"error", "message": M, "count": N} logs N lines "M #i"
// (i from 0; M's JSON escapes decoded) and answers {"logged": N}. Logs "logprobe started" at start.
// Command "throw" {"message": M} throws std::runtime_error(M) out of its handler; "publish_bad"
// publishes on a topic with a wildcard, which the host refuses (lucid::Error escapes).
#include <lucid/plugin.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "test_plugin_helpers.hpp"

namespace {

long count_field(const std::string& json) {
    const std::string marker = "\"count\":";
    const auto at = json.find(marker);
    return at == std::string::npos ? 1
                                   : std::strtol(json.c_str() + at + marker.size(), nullptr, 10);
}

// The JSON escapes string_field leaves as they are: \n, \t, \r, \\, \" and \u00XX, so that
// a test can make the plugin log a line break or an escape character.
std::string unescaped(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
            continue;
        }
        const char c = text[++i];
        if (c == 'n') {
            out += '\n';
        } else if (c == 't') {
            out += '\t';
        } else if (c == 'r') {
            out += '\r';
        } else if (c == 'u' && i + 4 < text.size() && text.compare(i + 1, 2, "00") == 0) {
            out += static_cast<char>(std::strtol(text.substr(i + 3, 2).c_str(), nullptr, 16));
            i += 4;
        } else {
            out += c;
        }
    }
    return out;
}

lucid_log_level level_of(const std::string& name) {
    if (name == "debug") return LUCID_LOG_DEBUG;
    if (name == "warning") return LUCID_LOG_WARNING;
    if (name == "error") return LUCID_LOG_ERROR;
    return LUCID_LOG_INFO;
}

}  // namespace

struct LogProbe : lucid::Plugin {
    void start() override {
        on_command("log", [this](const lucid::Command& c) {
            const std::string payload(c.payload);
            const auto level = level_of(string_field(payload, "level"));
            const std::string message = unescaped(string_field(payload, "message"));
            const long count = count_field(payload);
            for (long i = 0; i < count; ++i) log(level, message + " #" + std::to_string(i));
            return "{\"logged\":" + std::to_string(count) + "}";
        });
        on_command("throw", [](const lucid::Command& c) -> std::string {
            throw std::runtime_error(unescaped(string_field(std::string(c.payload), "message")));
        });
        on_command("publish_bad", [this](const lucid::Command&) {
            publish("bad/+/topic", "{}");
            return std::string("{}");
        });
        log_info("logprobe started");
    }
};

LUCID_PLUGIN(LogProbe)
