// Telemetry (contract §4.14): the /proc and /sys parsers, the `telemetry` config of cfg/set
// (merge, errors, what core/cfg/state shows), metrics read from a fake /proc, the stream's
// schedule (interval, threshold, off), and the gate of the plugins' metrics.
#include <doctest/doctest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <rapidjson/document.h>

#include "contract/payloads.hpp"
#include "telemetry/component_metrics.hpp"
#include "telemetry/proc_readings.hpp"
#include "telemetry/system_metrics.hpp"
#include "telemetry/telemetry_config.hpp"
#include "telemetry/telemetry_stream.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using namespace lucid::host::telemetry;
namespace fs = std::filesystem;

namespace {

std::string merged(TelemetryConfig& config, const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    REQUIRE_FALSE(doc.HasParseError());
    return merge_telemetry(config, doc);
}

}  // namespace

TEST_CASE("the /proc and /sys texts telemetry reads") {
    const auto cpu =
        parse_proc_stat("cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n");
    REQUIRE(cpu);
    CHECK(cpu->total == 1000);
    CHECK(cpu->busy == 160);
    CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 4\n"));
    CHECK_FALSE(parse_proc_stat("cpu  1 x 3 4 5\n"));

    CHECK(*parse_memory_percent("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n") ==
          doctest::Approx(75.0));
    CHECK_FALSE(parse_memory_percent("MemTotal: 0 kB\nMemAvailable: 0 kB\n"));
    CHECK_FALSE(parse_memory_percent("MemTotal: 10 kB\n"));

    CHECK(*parse_load1("0.52 0.48 0.40 1/123 4567\n") == doctest::Approx(0.52));
    CHECK_FALSE(parse_load1("-1 0 0\n"));

    const auto net = parse_net_dev(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes packets\n"
        "    lo: 9999 10 0 0 0 0 0 0 9999 10 0 0 0 0 0 0\n"
        "  eth0: 1000 10 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n"
        " wlan0: 24 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0\n");
    REQUIRE(net);
    CHECK(net->rx == 1024);
    CHECK(net->tx == 206);
    CHECK_FALSE(parse_net_dev("eth0: 1 2 3\n"));

    CHECK(*parse_statm_resident_pages("5000 1200 300 10 0 900 0\n") == 1200);
    CHECK(*parse_millidegrees("48750\n") == doctest::Approx(48.75));
    CHECK(*parse_millidegrees("-5000") == doctest::Approx(-5.0));
    CHECK_FALSE(parse_millidegrees("hot"));

    CHECK(*percent_between(100, 1000, 160, 1100) == doctest::Approx(60.0));
    CHECK_FALSE(percent_between(100, 1000, 160, 1000));  // nothing elapsed
    CHECK_FALSE(percent_between(100, 1000, 50, 1100));   // a counter went back
    // Large counters whose differences round to one double: never above 100 (fuzz target proc).
    CHECK(*percent_between(0x3434343434343434, 0x34343434343434ff, ~0ull, ~0ull) <= 100.0);
}

TEST_CASE("the telemetry config: merged per metric, every error with its path") {
    TelemetryConfig config;
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"enabled":true,"interval_s":5}}})").empty());
    CHECK(
        merged(config, R"({"metrics":{"cpu_percent":{"change_threshold_percent":2.5}}})").empty());
    const MetricSettings cpu = config.of("cpu_percent");
    CHECK(cpu.enabled);
    CHECK(cpu.interval_s == 5);  // kept: only the threshold was given
    CHECK(*cpu.change_threshold_percent == doctest::Approx(2.5));
    CHECK_FALSE(config.of("load1").enabled);  // every metric is off until enabled

    const std::string m = "telemetry.metrics.cpu_percent";
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"interval_s":0}}})") ==
          m + ".interval_s must be between 1 and 86400");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"interval_s":86401}}})") ==
          m + ".interval_s must be between 1 and 86400");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"interval_s":"5"}}})") ==
          m + ".interval_s must be int");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"enabled":1}}})") ==
          m + ".enabled must be bool");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"change_threshold_percent":-1}}})") ==
          m + ".change_threshold_percent must be at least 0");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"change_threshold_percent":"x"}}})") ==
          m + ".change_threshold_percent must be number");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":{"every":1}}})") ==
          "unknown config key: " + m + ".every");
    CHECK(merged(config, R"({"metrics":{"cpu_pct":{}}})") ==
          "unknown config key: telemetry.metrics.cpu_pct");
    CHECK(merged(config, R"({"metrics":{"cpu_percent":true}})") == m + " must be dict");
    CHECK(merged(config, R"({"metrics":[]})") == "telemetry.metrics must be dict");
    CHECK(merged(config, R"({"interval":1})") == "unknown config key: telemetry.interval");
    CHECK(merged(config, R"(5)") == "telemetry must be dict");
    // A null threshold removes it.
    CHECK(
        merged(config, R"({"metrics":{"cpu_percent":{"change_threshold_percent":null}}})").empty());
    CHECK_FALSE(config.of("cpu_percent").change_threshold_percent);

    rapidjson::Document out;
    write_telemetry(config, out, out.GetAllocator());
    // What is written reads back as the same settings (the stored file, core_config.json).
    TelemetryConfig back;
    CHECK(merge_telemetry(back, out).empty());
    CHECK(back == config);
    CHECK_FALSE(TelemetryConfig{} == back);
    CHECK(out["metrics"].MemberCount() == kMetrics.size());
    CHECK(contract::to_json(out["metrics"]["cpu_percent"]) ==
          R"({"enabled":true,"interval_s":5,"change_threshold_percent":null})");
    CHECK(contract::to_json(out["metrics"]["load1"]) ==
          R"({"enabled":false,"interval_s":60,"change_threshold_percent":null})");
}

TEST_CASE("metrics are read from /proc and /sys, rates between two reads") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "proc/net");
    fs::create_directories(dir / "proc/self");
    auto write = [&](const std::string& file, const std::string& text) {
        std::ofstream(dir / file, std::ios::trunc) << text;
    };
    write("proc/stat", "cpu  100 0 0 900 0 0 0 0 0 0\n");
    write("proc/net/dev", "h\nh\n  eth0: 1000 0 0 0 0 0 0 0 500 0 0 0 0 0 0 0\n");
    write("proc/self/statm", "10 3 0 0 0 0 0\n");
    SystemMetrics metrics({dir / "proc", dir / "sys", dir.path()});
    const auto t0 = SystemMetrics::Clock::now();
    CHECK_FALSE(metrics.read("cpu_percent", t0));  // a rate: nothing before the first sample
    CHECK_FALSE(metrics.read("net_rx_bytes_per_s", t0));
    CHECK_FALSE(metrics.read("temperature_c", t0));  // no thermal zone: no value
    write("proc/stat", "cpu  150 0 0 950 0 0 0 0 0 0\n");
    write("proc/net/dev", "h\nh\n  eth0: 3000 0 0 0 0 0 0 0 500 0 0 0 0 0 0 0\n");
    const auto t1 = t0 + std::chrono::seconds(2);
    CHECK(*metrics.read("cpu_percent", t1) == doctest::Approx(50.0));
    CHECK(*metrics.read("net_rx_bytes_per_s", t1) == doctest::Approx(1000.0));
    CHECK(*metrics.read("agent_rss_bytes", t1) > 0);
    const auto disk = metrics.read("disk_percent", t1);
    REQUIRE(disk);
    CHECK((*disk >= 0 && *disk <= 100));
    fs::create_directories(dir / "sys/class/thermal/thermal_zone0");
    write("sys/class/thermal/thermal_zone0/temp", "51000\n");
    CHECK(*metrics.read("temperature_c", t1) == doctest::Approx(51.0));
}

TEST_CASE("the stream publishes enabled metrics in the event envelope, and stops when off") {
    lucid::test::TempDir dir;
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::pair<std::string, std::string>> published;
    TelemetryStream stream(SystemMetrics({"/proc", "/sys", dir.path()}), "lucid/agents/t1",
                           [&](const std::string& topic, const std::string& payload) {
                               std::lock_guard<std::mutex> lock(mutex);
                               published.emplace_back(topic, payload);
                               arrived.notify_all();
                           });
    auto wait_for = [&](std::size_t count) {
        std::unique_lock<std::mutex> lock(mutex);
        return arrived.wait_for(lock, std::chrono::seconds(10),
                                [&] { return published.size() >= count; });
    };
    TelemetryConfig config;
    rapidjson::Document set;
    // agent_rss_bytes with a threshold of 0: published at once, then every second (it moved by
    // at least 0 %); memory_percent once (interval: a day).
    set.Parse(R"({"metrics":{"agent_rss_bytes":{"enabled":true,"interval_s":86400,
                "change_threshold_percent":0},"memory_percent":{"enabled":true,"interval_s":86400}}})");
    REQUIRE(merge_telemetry(config, set).empty());
    stream.configure(true, config);
    stream.start();
    REQUIRE(wait_for(4));
    stream.stop();
    std::size_t rss = 0;
    std::size_t memory = 0;
    for (const auto& [topic, payload] : published) {
        rapidjson::Document doc;
        doc.Parse(payload.c_str());
        REQUIRE(doc.IsObject());
        CHECK(std::string(doc["source"].GetString()) == "lucid/agents/t1/telemetry");
        CHECK(doc["id"].IsString());
        CHECK(doc["ts"].IsString());
        CHECK(doc["data"]["value"].IsNumber());
        if (topic == "telemetry/agent_rss_bytes") {
            ++rss;
            CHECK(std::string(doc["type"].GetString()) == "agent_rss_bytes");
            CHECK(std::string(doc["data"]["unit"].GetString()) == "bytes");
        } else {
            CHECK(topic == "telemetry/memory_percent");
            ++memory;
        }
    }
    CHECK(rss >= 3);
    CHECK(memory == 1);
}

TEST_CASE("the components' metrics config: per component and metric, removed by null") {
    TelemetryConfig config;
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":{"enabled":true,"interval_s":5}}}})")
              .empty());
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":{"change_threshold_percent":1}}}})")
              .empty());
    const MetricSettings temp = config.of_component("sensor", "temp_c");
    CHECK(temp.enabled);
    CHECK(temp.interval_s == 5);  // kept
    CHECK(*temp.change_threshold_percent == doctest::Approx(1.0));
    CHECK_FALSE(config.of_component("sensor", "other").enabled);  // off until enabled
    CHECK_FALSE(config.of_component("other", "temp_c").enabled);

    const std::string p = "telemetry.components.sensor";
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":{"interval_s":0}}}})") ==
          p + ".temp_c.interval_s must be between 1 and 86400");
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":{"enabled":"yes"}}}})") ==
          p + ".temp_c.enabled must be bool");
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":{"every":1}}}})") ==
          "unknown config key: " + p + ".temp_c.every");
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":1}}})") ==
          p + ".temp_c must be dict");
    CHECK(merged(config, R"({"components":{"sensor":{"Temp.C":{}}}})") ==
          "metric name 'Temp.C' in " + p + " must match [a-z0-9][a-z0-9_-]{0,63}");
    CHECK(merged(config, R"({"components":{"Bad/Id":{}}})") ==
          "component id 'Bad/Id' in telemetry.components must match [a-z0-9][a-z0-9_-]{0,63}");
    CHECK(merged(config, R"({"components":{"sensor":[]}})") == p + " must be dict");
    CHECK(merged(config, R"({"components":5})") == "telemetry.components must be dict");
    std::string many = R"({"components":{"big":{)";
    for (int i = 0; i <= 64; ++i) {
        many += (i ? "," : "") + std::string("\"m") + std::to_string(i) + R"(":{"enabled":true})";
    }
    many += "}}}";
    CHECK(merged(config, many.c_str()) == "at most 64 metrics in telemetry.components.big");
    CHECK(config.components.count("big") == 0);  // the caller keeps nothing of a failed merge

    rapidjson::Document out;
    write_telemetry(config, out, out.GetAllocator());
    CHECK(
        contract::to_json(out["components"]) ==
        R"({"sensor":{"temp_c":{"enabled":true,"interval_s":5,"change_threshold_percent":1.0}}})");
    TelemetryConfig back;
    CHECK(merge_telemetry(back, out).empty());
    CHECK(back == config);

    // null removes a metric, then a whole component.
    CHECK(merged(config, R"({"components":{"sensor":{"hum":{"enabled":true}}}})").empty());
    CHECK(merged(config, R"({"components":{"sensor":{"temp_c":null}}})").empty());
    CHECK_FALSE(config.of_component("sensor", "temp_c").enabled);
    CHECK(config.of_component("sensor", "hum").enabled);
    CHECK(merged(config, R"({"components":{"sensor":null}})").empty());
    CHECK(config.components.empty());
    CHECK(config == TelemetryConfig{});
}

TEST_CASE("a plugin's readings go out as the config says: first at once, interval, threshold") {
    struct Sent {
        std::string topic, payload;
    };
    std::vector<Sent> sent;
    ComponentMetrics metrics("lucid/agents/a1", [&](const std::string& t, const std::string& p) {
        sent.push_back({t, p});
        return true;
    });
    using Clock = ComponentMetrics::Clock;
    const Clock::time_point t0{};
    auto at = [&](double s) {
        return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    // Off by default, master on or not.
    metrics.configure(true, TelemetryConfig{});
    CHECK(metrics.offer("sensor", "temp_c", 20, "celsius", at(0)));
    CHECK(sent.empty());

    TelemetryConfig config;
    REQUIRE(merged(config, R"({"components":{"sensor":{"temp_c":{"enabled":true,"interval_s":10,
        "change_threshold_percent":50}}}})")
                .empty());
    metrics.configure(true, config);
    metrics.offer("sensor", "temp_c", 20, "celsius", at(1));  // the first: at once
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].topic == "components/sensor/telemetry/temp_c");
    rapidjson::Document doc;
    doc.Parse(sent[0].payload.c_str());
    CHECK(std::string(doc["type"].GetString()) == "temp_c");
    CHECK(std::string(doc["source"].GetString()) == "lucid/agents/a1/components/sensor/telemetry");
    CHECK(doc["correlation_id"].IsNull());
    CHECK(doc["id"].IsString());
    CHECK(doc["data"]["value"].GetInt() == 20);
    CHECK(std::string(doc["data"]["unit"].GetString()) == "celsius");

    metrics.offer("sensor", "temp_c", 25, "celsius", at(5));    // +25 %, not due: dropped
    metrics.offer("sensor", "temp_c", 31, "celsius", at(1.5));  // +55 % but within a second
    CHECK(sent.size() == 1);
    metrics.offer("sensor", "temp_c", 31, "celsius", at(6));  // +55 %: early
    CHECK(sent.size() == 2);
    metrics.offer("sensor", "temp_c", 31, "celsius", at(15.9));  // not due yet
    CHECK(sent.size() == 2);
    metrics.offer("sensor", "temp_c", 31, "celsius", at(16));  // the interval
    CHECK(sent.size() == 3);
    metrics.offer("sensor", "other", 1, "", at(16));  // another metric: off
    CHECK(sent.size() == 3);

    // The master switch, then back on: the next reading goes out at once.
    metrics.configure(false, config);
    metrics.offer("sensor", "temp_c", 99, "celsius", at(40));
    CHECK(sent.size() == 3);
    metrics.configure(true, config);
    metrics.offer("sensor", "temp_c", 31, "celsius", at(41));
    CHECK(sent.size() == 4);
    // A reading on a timer of the interval may come a little early and is due all the same.
    metrics.offer("sensor", "temp_c", 31, "celsius", at(50.9));  // 100 ms early: not due
    CHECK(sent.size() == 4);
    metrics.offer("sensor", "temp_c", 31, "celsius", at(50.97));  // 30 ms early: due
    CHECK(sent.size() == 5);
}
