#include "lucidctl/top_view.hpp"

#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>

#include <rapidjson/document.h>

#include "lucidctl/agent_presence.hpp"
#include "lucidctl/session.hpp"
#include "lucidctl/text_table.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using Clock = std::chrono::steady_clock;

// The agent's metrics in the order of contract §4.14, with the label top gives them.
constexpr std::pair<const char*, const char*> kFirstLine[] = {
    {"cpu_percent", "cpu"}, {"memory_percent", "memory"},     {"disk_percent", "disk"},
    {"load1", "load1"},     {"temperature_c", "temperature"},
};
constexpr std::pair<const char*, const char*> kSecondLine[] = {
    {"net_rx_bytes_per_s", "net rx"},
    {"net_tx_bytes_per_s", "tx"},
    {"agent_rss_bytes", "agent rss"},
};

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// 1536 -> "1.5 KiB"; below 1 KiB in bytes.
std::string binary_size(double bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t unit = 0;
    while (std::fabs(bytes) >= 1024 && unit + 1 < std::size(units)) {
        bytes /= 1024;
        ++unit;
    }
    return (unit == 0 ? fixed(bytes, 0) : fixed(bytes, 1)) + " " + units[unit];
}

// "7s ago", "1m5s ago": as `agents` and the offline line say an age (format_duration).
std::string age(Clock::time_point then, Clock::time_point now) {
    return format_duration(std::chrono::duration<double>(now - then).count()) + " ago";
}

std::string uptime(double seconds) {
    const long s = static_cast<long>(seconds);
    char text[48];
    if (s >= 86400) {
        std::snprintf(text, sizeof text, "%ldd %02ldh", s / 86400, s % 86400 / 3600);
    } else if (s >= 3600) {
        std::snprintf(text, sizeof text, "%ldh %02ldm", s / 3600, s % 3600 / 60);
    } else {
        std::snprintf(text, sizeof text, "%ldm %02lds", s / 60, s % 60);
    }
    return text;
}

// A line cut to `width` columns without splitting a UTF-8 sequence (0: no limit).
std::string cut(std::string line, std::size_t width) {
    if (width == 0 || line.size() <= width) return line;
    std::size_t end = width;
    while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
    line.resize(end);
    return line;
}

std::optional<TopMetric> metric_of(const Document& doc, Clock::time_point now) {
    if (!doc.HasMember("data") || !doc["data"].IsObject()) return std::nullopt;
    const Value& data = doc["data"];
    if (!data.HasMember("value") || !data["value"].IsNumber()) return std::nullopt;
    TopMetric m;
    m.value = data["value"].GetDouble();
    m.unit = str(data, "unit");
    m.received = now;
    return m;
}

void add_metrics(std::string& line, const std::map<std::string, TopMetric>& metrics,
                 const std::pair<const char*, const char*>* names, std::size_t count,
                 std::optional<Clock::time_point>& newest) {
    for (std::size_t i = 0; i < count; ++i) {
        auto it = metrics.find(names[i].first);
        if (it == metrics.end()) continue;
        if (!line.empty()) line += "  ";
        line += std::string(names[i].second) + " " + format_metric(it->second);
        if (!newest || it->second.received > *newest) newest = it->second.received;
    }
}

TopComponent& component(TopModel& model, const std::string& cid) {
    return model.components[printable(cid)];
}

}  // namespace

std::string format_metric(const TopMetric& metric) {
    const std::string& u = metric.unit;
    if (u == "bytes") return binary_size(metric.value);
    if (u == "bytes/s") return binary_size(metric.value) + "/s";
    if (u == "%") return fixed(metric.value, 1) + " %";
    if (u == "celsius") return fixed(metric.value, 1) + " C";
    // A count (a plugin's integer reading) as it is: 80, not 80.00.
    const bool whole = std::fabs(metric.value) < 1e15 && metric.value == std::trunc(metric.value);
    const std::string number = fixed(metric.value, whole && u != "load" ? 0 : 2);
    return u.empty() || u == "load" ? number : number + " " + printable(u);
}

bool apply_top_message(TopModel& model, const std::string& suffix, const std::string& payload,
                       Clock::time_point now) {
    const Document doc = parse_object(payload);
    if (doc.ObjectEmpty()) return false;
    if (suffix == "status") {
        model.state = str(doc, "state");
        model.version = str(doc, "version");
        model.session = str(doc, "session");
        model.status = payload;
        return true;
    }
    if (suffix == "core/state") {
        model.health = str(doc, "state");
        model.health_ts = str(doc, "ts");
        model.degraded_reasons.clear();
        if (doc.HasMember("degraded_reasons") && doc["degraded_reasons"].IsArray()) {
            for (const auto& r : doc["degraded_reasons"].GetArray()) {
                if (r.IsString()) model.degraded_reasons.push_back(printable(r.GetString()));
            }
        }
        return true;
    }
    if (suffix == "core/cfg/state") {
        if (!doc.HasMember("cfg") || !doc["cfg"].IsObject()) return false;
        const Value& cfg = doc["cfg"];
        model.cfg_seen = true;
        model.telemetry_enabled =
            !(cfg.HasMember("telemetry_enabled") && cfg["telemetry_enabled"].IsFalse());
        model.metrics_enabled = 0;
        auto count_enabled = [&](const Value& metrics) {
            for (const auto& m : metrics.GetObject()) {
                if (m.value.IsObject() && m.value.HasMember("enabled") &&
                    m.value["enabled"].IsTrue()) {
                    ++model.metrics_enabled;
                }
            }
        };
        if (cfg.HasMember("telemetry") && cfg["telemetry"].IsObject()) {
            const Value& telemetry = cfg["telemetry"];
            if (telemetry.HasMember("metrics") && telemetry["metrics"].IsObject()) {
                count_enabled(telemetry["metrics"]);
            }
            // A plugin's metrics count too (telemetry.components.<cid>.<metric>, ABI 1.1).
            if (telemetry.HasMember("components") && telemetry["components"].IsObject()) {
                for (const auto& c : telemetry["components"].GetObject()) {
                    if (c.value.IsObject()) count_enabled(c.value);
                }
            }
        }
        return true;
    }
    if (suffix == "core/components") {
        if (!doc.HasMember("components") || !doc["components"].IsObject()) return false;
        std::map<std::string, TopComponent> next;
        for (const auto& c : doc["components"].GetObject()) {
            const std::string cid = printable(c.name.GetString());
            TopComponent one;
            auto old = model.components.find(cid);
            if (old != model.components.end()) one = old->second;  // keeps its live metrics
            one.version = str(c.value, "version");
            one.state = str(c.value, "state");
            one.isolation = str(c.value, "isolation", "in_process");
            one.restarts = str(c.value, "restarts", "0");
            one.error = str(c.value, "error");
            next[cid] = std::move(one);
        }
        model.components = std::move(next);
        return true;
    }
    const std::string prefix = "components/";
    if (suffix.compare(0, prefix.size(), prefix) == 0) {
        const std::size_t slash = suffix.find('/', prefix.size());
        if (slash == std::string::npos) return false;
        const std::string cid = suffix.substr(prefix.size(), slash - prefix.size());
        const std::string rest = suffix.substr(slash + 1);
        if (rest == "status") {
            TopComponent& c = component(model, cid);
            c.state = str(doc, "state", c.state.c_str());
            if (doc.HasMember("version")) c.version = str(doc, "version");
            c.error = str(doc, "error");
            if (doc.HasMember("restarts")) c.restarts = str(doc, "restarts");
            if (doc.HasMember("isolation")) c.isolation = str(doc, "isolation");
            if (doc.HasMember("dropped_messages")) c.dropped = str(doc, "dropped_messages");
            if (doc.HasMember("duplicates_dropped")) c.duplicates = str(doc, "duplicates_dropped");
            return true;
        }
        const std::string telemetry = "telemetry/";
        if (rest.compare(0, telemetry.size(), telemetry) == 0) {
            auto m = metric_of(doc, now);
            if (!m) return false;
            component(model, cid).metrics[printable(rest.substr(telemetry.size()))] = *m;
            return true;
        }
        return false;
    }
    const std::string telemetry = "telemetry/";
    if (suffix.compare(0, telemetry.size(), telemetry) == 0) {
        auto m = metric_of(doc, now);
        if (!m) return false;
        model.metrics[printable(suffix.substr(telemetry.size()))] = *m;
        return true;
    }
    return false;
}

std::vector<std::string> top_screen(const TopModel& model, std::size_t width, Clock::time_point now,
                                    SystemClock::time_point wall) {
    std::vector<std::string> lines;
    const AgentPresence presence =
        agent_presence(parse_object(model.status), {model.health_ts}, wall);
    const bool offline = presence.known && !presence.online;
    std::string head = "agent " + printable(model.agent_id) + "  ";
    if (model.state.empty()) {
        head += "no status on the broker";
    } else if (presence.known && !presence.online) {
        head += Session::offline_since(presence);
    } else {
        head += model.state;
    }
    if (!model.version.empty()) head += "  " + model.version;
    if (!model.session.empty()) head += "  session " + model.session;
    if (presence.online && presence.uptime_s) head += "  up " + uptime(*presence.uptime_s);
    // An offline agent's health is its last word, not what runs now (as `agents` shows it).
    if (!model.health.empty()) {
        head += presence.known && !presence.online ? "  (last: " + model.health + ")"
                                                   : "  " + model.health;
    }
    head += "  " + contract::utc_timestamp(wall);
    lines.push_back(head);
    for (const auto& reason : model.degraded_reasons) lines.push_back("  degraded: " + reason);

    std::optional<Clock::time_point> newest;
    std::string first, second;
    add_metrics(first, model.metrics, kFirstLine, std::size(kFirstLine), newest);
    add_metrics(second, model.metrics, kSecondLine, std::size(kSecondLine), newest);
    if (!first.empty()) lines.push_back(first);
    if (!second.empty()) lines.push_back(second);
    for (const auto& [cid, c] : model.components) {
        for (const auto& [name, m] : c.metrics) {
            if (!newest || m.received > *newest) newest = m.received;
        }
    }
    if (offline) {
        // Nothing streams from an agent that is away: what is shown is what came before.
        lines.push_back(newest ? "(agent offline: the last telemetry received, " +
                                     age(*newest, now) + ")"
                               : "agent offline: no telemetry until it is back");
    } else if (newest) {
        lines.push_back("(telemetry " + age(*newest, now) + ")");
    } else if (model.cfg_seen && !model.telemetry_enabled) {
        lines.push_back(
            "telemetry is off: lucidctl config set telemetry_enabled=true "
            "telemetry.metrics.cpu_percent.enabled=true");
    } else if (model.cfg_seen && model.metrics_enabled == 0) {
        lines.push_back(
            "no metric enabled: lucidctl config set telemetry.metrics.cpu_percent.enabled=true "
            "(and memory_percent, disk_percent, load1, ...)");
    } else {
        lines.push_back("waiting for telemetry ...");
    }

    lines.emplace_back();
    bool drops = false;
    for (const auto& [cid, c] : model.components) {
        drops = drops || (c.dropped != "0" && !c.dropped.empty()) ||
                (c.duplicates != "0" && !c.duplicates.empty());
    }
    std::vector<std::string> headers = {"COMPONENT", "VERSION",  offline ? "LAST STATE" : "STATE",
                                        "ISOLATION", "RESTARTS", "ERROR"};
    if (drops) headers.insert(headers.end() - 1, {"DROPPED", "DUPLICATES"});
    TextTable table(headers);
    for (const auto& [cid, c] : model.components) {
        std::vector<std::string> row = {cid, c.version, c.state, c.isolation, c.restarts, c.error};
        if (drops) row.insert(row.end() - 1, {c.dropped, c.duplicates});
        table.add(row);
    }
    std::ostringstream text;
    table.print(text);
    std::istringstream rows(text.str());
    for (std::string row; std::getline(rows, row);) {
        while (!row.empty() && row.back() == ' ') row.pop_back();
        lines.push_back(row);
    }
    for (const auto& [cid, c] : model.components) {
        if (c.metrics.empty()) continue;
        std::string line = cid + ":";
        for (const auto& [name, m] : c.metrics) line += "  " + name + " " + format_metric(m);
        lines.push_back(line);
    }
    for (auto& line : lines) line = cut(std::move(line), width);
    return lines;
}

}  // namespace lucid::host::ctl
