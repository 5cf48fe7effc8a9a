// lucidctl top's screen (lucidctl/top_view.hpp): what the agent's messages make of it.
#include <doctest/doctest.h>

#include <string>

#include "contract/timestamp.hpp"
#include "lucidctl/top_view.hpp"

using namespace lucid::host::ctl;

namespace {

using Clock = std::chrono::steady_clock;

std::string metric(double value, const std::string& unit) {
    return R"({"id":"x","type":"m","ts":"t","source":"s","correlation_id":null,"data":{"value":)" +
           std::to_string(value) + R"(,"unit":")" + unit + R"("}})";
}

// 2026-12-01T12:00:00.000Z: the wall time every screen here is drawn at.
const auto kWall = *lucid::host::contract::parse_utc_timestamp("2026-12-01T12:00:00.000Z");

std::string screen(const TopModel& m, Clock::time_point now, std::size_t width = 0) {
    std::string text;
    for (const auto& line : top_screen(m, width, now, kWall)) text += line + "\n";
    return text;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("top shows the agent's status, health, metrics and components") {
    TopModel m;
    m.agent_id = "dev-1";
    const auto t0 = Clock::now();
    CHECK(apply_top_message(
        m, "status",
        // uptime_s is that of the last heartbeat: top counts from connected_since, as status.
        R"({"state":"online","version":"1.4.0","session":3,"uptime_s":60,"agent_id":"dev-1",)"
        R"("connected_since":"2026-12-01T09:54:30.000Z"})",
        t0));
    CHECK(apply_top_message(m, "core/state",
                            R"({"state":"degraded","degraded_reasons":["disk full"]})", t0));
    CHECK(apply_top_message(m, "telemetry/cpu_percent", metric(12.34, "%"), t0));
    CHECK(apply_top_message(m, "telemetry/net_rx_bytes_per_s", metric(1536, "bytes/s"), t0));
    CHECK(apply_top_message(m, "telemetry/agent_rss_bytes", metric(11.5 * 1048576, "bytes"), t0));
    CHECK(apply_top_message(m, "telemetry/temperature_c", metric(48.25, "celsius"), t0));
    CHECK(apply_top_message(
        m, "core/components",
        R"({"count":2,"components":{"cpu":{"version":"1.0.0","state":"running","error":null},)"
        R"("echo":{"version":"2.0.0","state":"failed","error":"boom","isolation":"process","restarts":2}}})",
        t0));
    CHECK(apply_top_message(m, "components/cpu/telemetry/usage", metric(3, "%"), t0));
    const std::string text = screen(m, t0 + std::chrono::seconds(3));
    CHECK(has(text,
              "agent dev-1  online  1.4.0  session 3  up 2h 05m  degraded  "
              "2026-12-01T12:00:00.000Z"));
    CHECK(has(text, "  degraded: disk full\n"));
    CHECK(has(text, "cpu 12.3 %"));
    CHECK(has(text, "temperature 48.2 C"));  // 48.25 rounds to even in printf: 48.2
    CHECK(has(text, "net rx 1.5 KiB/s"));
    CHECK(has(text, "agent rss 11.5 MiB"));
    CHECK(has(text, "(telemetry 3s ago)"));
    CHECK(has(text, "COMPONENT  VERSION  STATE    ISOLATION   RESTARTS  ERROR\n"));
    CHECK(has(text, "cpu        1.0.0    running  in_process  0\n"));
    CHECK(has(text, "echo       2.0.0    failed   process     2         boom\n"));
    CHECK(has(text, "cpu:  usage 3.0 %\n"));
}

TEST_CASE("an offline agent shows since when, and its health as its last word") {
    TopModel m;
    m.agent_id = "dev-1";
    const auto t0 = Clock::now();
    apply_top_message(m, "core/state", R"({"state":"running","ts":"2026-12-01T11:55:00.000Z"})",
                      t0);
    apply_top_message(m, "status",
                      R"({"state":"offline","version":"1.4.0","session":3,"uptime_s":7530,)"
                      R"("connected_since":null,"ts":"2026-12-01T09:00:00.000Z"})",
                      t0);
    const std::string text = screen(m, t0);
    CHECK_MESSAGE(has(text,
                      "agent dev-1  offline since 2026-12-01T11:55:00.000Z (5m0s ago)  1.4.0  "
                      "session 3  (last: running)  2026-12-01T12:00:00.000Z"),
                  text);
    CHECK_FALSE(has(text, " up "));
}

TEST_CASE("an offline agent's telemetry is its last, with its age, and states are last known") {
    TopModel m;
    m.agent_id = "dev-1";
    const auto t0 = Clock::now();
    apply_top_message(m, "status",
                      R"({"state":"online","version":"1.4.0","session":3,)"
                      R"("connected_since":"2026-12-01T11:00:00.000Z"})",
                      t0);
    apply_top_message(m, "core/components",
                      R"({"components":{"cpu":{"version":"1.0.0","state":"running"}}})", t0);
    // Nothing received, then offline: said, not "waiting for telemetry".
    apply_top_message(m, "status",
                      R"({"state":"offline","version":"1.4.0","session":3,)"
                      R"("connected_since":null,"ts":"2026-12-01T11:00:00.000Z"})",
                      t0);
    std::string text = screen(m, t0);
    CHECK_MESSAGE(has(text, "agent offline: no telemetry until it is back\n"), text);
    CHECK_FALSE(has(text, "waiting for telemetry"));
    CHECK_MESSAGE(has(text, "COMPONENT  VERSION  LAST STATE  ISOLATION"), text);
    // Received while it was online: the last values stay, with their age.
    apply_top_message(m, "telemetry/cpu_percent", metric(12.34, "%"), t0);
    text = screen(m, t0 + std::chrono::seconds(90));
    CHECK(has(text, "cpu 12.3 %"));
    CHECK_MESSAGE(has(text, "(agent offline: the last telemetry received, 1m30s ago)"), text);
}

TEST_CASE("a component's dropped and duplicate messages are columns once one is not zero") {
    TopModel m;
    const auto t0 = Clock::now();
    apply_top_message(m, "core/components",
                      R"({"components":{"echo":{"version":"1.0.0","state":"running"}}})", t0);
    apply_top_message(m, "components/echo/status",
                      R"({"state":"running","dropped_messages":0,"duplicates_dropped":0})", t0);
    CHECK_FALSE(has(screen(m, t0), "DROPPED"));
    apply_top_message(m, "components/echo/status",
                      R"({"state":"running","dropped_messages":7,"duplicates_dropped":2})", t0);
    const std::string text = screen(m, t0);
    CHECK_MESSAGE(has(text, "RESTARTS  DROPPED  DUPLICATES  ERROR\n"), text);
    CHECK_MESSAGE(has(text, "0         7        2\n"), text);
}

TEST_CASE("a component's live status updates its row; a new core/components keeps its metrics") {
    TopModel m;
    const auto t0 = Clock::now();
    apply_top_message(m, "core/components",
                      R"({"components":{"echo":{"version":"1.0.0","state":"running"}}})", t0);
    apply_top_message(m, "components/echo/telemetry/rate", metric(5, "msg/s"), t0);
    CHECK(apply_top_message(m, "components/echo/status",
                            R"({"state":"failed","error":"crashed: SIGSEGV","restarts":1})", t0));
    std::string text = screen(m, t0);
    CHECK(has(text, "echo       1.0.0    failed  in_process  1         crashed: SIGSEGV"));
    apply_top_message(m, "core/components",
                      R"({"components":{"echo":{"version":"1.0.1","state":"running"}}})", t0);
    text = screen(m, t0);
    CHECK(has(text, "echo:  rate 5 msg/s"));
    CHECK(has(text, "1.0.1"));
    // An uninstalled component leaves the table.
    apply_top_message(m, "core/components", R"({"components":{}})", t0);
    CHECK_FALSE(has(screen(m, t0), "echo"));
}

TEST_CASE("without telemetry the screen says how to turn it on") {
    TopModel m;
    const auto t0 = Clock::now();
    CHECK(has(screen(m, t0), "waiting for telemetry"));
    CHECK(has(screen(m, t0), "agent   no status on the broker"));
    apply_top_message(m, "core/cfg/state",
                      R"({"cfg":{"telemetry_enabled":true,"telemetry":)"
                      R"({"metrics":{"cpu_percent":{"enabled":false}}}}})",
                      t0);
    CHECK(has(screen(m, t0),
              "no metric enabled: lucidctl config set "
              "telemetry.metrics.cpu_percent.enabled=true"));
    apply_top_message(m, "core/cfg/state", R"({"cfg":{"telemetry_enabled":false}})", t0);
    CHECK(has(screen(m, t0), "telemetry is off: lucidctl config set telemetry_enabled=true"));
    // A plugin's metric enabled is a metric enabled; once it streams, its age is shown.
    apply_top_message(m, "core/cfg/state",
                      R"({"cfg":{"telemetry_enabled":true,"telemetry":{"metrics":{},)"
                      R"("components":{"cpu":{"usage_percent":{"enabled":true}}}}}})",
                      t0);
    CHECK_FALSE(has(screen(m, t0), "no metric enabled"));
    CHECK(has(screen(m, t0), "waiting for telemetry"));
    apply_top_message(m, "components/cpu/telemetry/usage_percent", metric(7, "%"), t0);
    CHECK(has(screen(m, t0 + std::chrono::seconds(2)), "(telemetry 2s ago)"));
}

TEST_CASE("agent text cannot drive the terminal and lines fit the width") {
    TopModel m;
    const auto t0 = Clock::now();
    apply_top_message(m, "core/components",
                      "{\"components\":{\"e\\u001b]52\":{\"version\":\"1\\u001b[2J\","
                      "\"state\":\"running\",\"error\":\"caf\\u00e9 \\u009b\"}}}",
                      t0);
    const std::string text = screen(m, t0);
    CHECK_FALSE(has(text, "\x1b"));
    CHECK_FALSE(has(text, "\xc2\x9b"));
    for (const auto& line : top_screen(m, 20, t0, kWall)) CHECK(line.size() <= 20);
    // A cut never splits a UTF-8 sequence.
    TopModel u;
    apply_top_message(u, "status", R"({"state":"online","version":"\u00e9\u00e9\u00e9"})", t0);
    for (std::size_t w = 1; w < 40; ++w) {
        const std::string head = top_screen(u, w, t0, kWall)[0];
        CHECK((head.empty() || (static_cast<unsigned char>(head.back()) & 0xC0) != 0xC0));
    }
}

TEST_CASE("payloads that are not what top expects change nothing") {
    TopModel m;
    const auto t0 = Clock::now();
    CHECK_FALSE(apply_top_message(m, "status", "not json", t0));
    CHECK_FALSE(apply_top_message(m, "telemetry/cpu_percent", R"({"data":{"value":"high"}})", t0));
    CHECK_FALSE(apply_top_message(m, "components/x/telemetry/a", R"({"data":5})", t0));
    CHECK_FALSE(apply_top_message(m, "components/x", R"({"state":"running"})", t0));
    CHECK_FALSE(apply_top_message(m, "core/cmd/ping", R"({"request_id":"1"})", t0));
    CHECK(m.metrics.empty());
    CHECK(m.components.empty());
}

TEST_CASE("a plugin's whole reading is shown as a count, a fraction with two decimals") {
    // A walk finding: an integer metric read 80.00.
    TopMetric count;
    count.value = 80;
    CHECK(format_metric(count) == "80");
    count.unit = "requests";
    CHECK(format_metric(count) == "80 requests");
    TopMetric fraction;
    fraction.value = 0.5;
    fraction.unit = "ratio";
    CHECK(format_metric(fraction) == "0.50 ratio");
    TopMetric load;
    load.value = 1;
    load.unit = "load";
    CHECK(format_metric(load) == "1.00");
}
