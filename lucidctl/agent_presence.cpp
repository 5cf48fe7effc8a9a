#include "lucidctl/agent_presence.hpp"
#include "lucidctl/text_table.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace lucid::host::ctl {
namespace {

std::string string_field(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return {};
    auto it = object.FindMember(key);
    if (it == object.MemberEnd()) return {};
    if (it->value.IsString()) return it->value.GetString();
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    return {};
}

double seconds_between(SystemClock::time_point from, SystemClock::time_point to) {
    const double s = std::chrono::duration<double>(to - from).count();
    return s < 0 ? 0 : s;
}

}  // namespace

AgentPresence agent_presence(const rapidjson::Value& status,
                             const std::vector<std::string>& other_ts,
                             SystemClock::time_point now) {
    AgentPresence p;
    if (!status.IsObject() || !status.HasMember("state")) return p;
    p.known = true;
    p.online = string_field(status, "state") == "online";
    // As text to show: whoever may write the status must not drive the operator's terminal.
    p.agent_id = printable(string_field(status, "agent_id"));
    p.version = printable(string_field(status, "version"));
    p.session = printable(string_field(status, "session"));
    p.conflict = printable(string_field(status, "conflict"));

    std::optional<SystemClock::time_point> latest;
    std::vector<std::string> stamps = other_ts;
    stamps.push_back(string_field(status, "ts"));
    for (const auto& stamp : stamps) {
        auto when = parse_utc_timestamp(stamp);
        if (when && (!latest || *when > *latest)) {
            latest = when;
            p.last_seen = stamp;
        }
    }
    if (p.online) {
        if (auto since = parse_utc_timestamp(string_field(status, "connected_since"))) {
            p.uptime_s = seconds_between(*since, now);
        }
    } else if (latest) {
        p.offline_for = seconds_between(*latest, now);
    }
    return p;
}

std::string format_duration(double seconds) {
    const long s = seconds < 0 ? 0 : static_cast<long>(seconds);
    std::ostringstream out;
    if (s >= 86400) out << s / 86400 << "d";
    if (s >= 3600) out << (s % 86400) / 3600 << "h";
    if (s >= 60) out << (s % 3600) / 60 << "m";
    out << s % 60 << "s";
    return out.str();
}

std::optional<double> parse_age(const std::string& text) {
    if (text.empty()) return std::nullopt;
    double unit = 1;
    std::string number = text;
    switch (text.back()) {
        case 's':
            unit = 1;
            number.pop_back();
            break;
        case 'm':
            unit = 60;
            number.pop_back();
            break;
        case 'h':
            unit = 3600;
            number.pop_back();
            break;
        case 'd':
            unit = 86400;
            number.pop_back();
            break;
        default:
            break;
    }
    if (number.empty() || number.find_first_not_of("0123456789.") != std::string::npos) {
        return std::nullopt;
    }
    try {
        std::size_t used = 0;
        const double value = std::stod(number, &used);
        if (used != number.size() || value <= 0) return std::nullopt;
        return value * unit;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace lucid::host::ctl
