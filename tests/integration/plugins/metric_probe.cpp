// The ABI 1.1 functions through a real agent, in-process and in a runner child
// (test_components_plugin_telemetry.cpp):
//   - every 100 ms it publishes its tick count raw on the relative topic "clock" (the test's
//     clock, QoS 0) and offers two metrics: "ticks" (the count, unit "ticks") and "level" (the
//     value the command "set" {"value": <number>} last gave, 0 at first, unit "units");
//   - it subscribes to /itest/dedup/in twice, de-duplicated (LUCID_SUBSCRIBE_DEDUP) and plain,
//     and publishes each message it is handed again on "seen/dedup" and "seen/plain".
#include <lucid/plugin.hpp>

#include <rapidjson/document.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>

struct MetricProbe : lucid::Plugin {
    void start() override {
        if (!can_publish_metric() || !can_deduplicate()) {
            throw std::runtime_error("this probe needs a host of ABI 1.1");
        }
        every(std::chrono::milliseconds(100), [this] {
            const int ticks = ++ticks_;
            char text[16];
            std::snprintf(text, sizeof text, "%d", ticks);
            publish("clock", text, 0);
            publish_metric("ticks", ticks, "ticks");
            publish_metric("level", level_.load(), "units");
        });
        on_command("set", [this](const lucid::Command& c) {
            rapidjson::Document doc;
            doc.Parse(c.payload.data(), c.payload.size());
            if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("value") ||
                !doc["value"].IsNumber()) {
                throw std::invalid_argument("value must be a number");
            }
            level_ = doc["value"].GetDouble();
            return std::string("{}");
        });
        // A name the host refuses, offered three times: what the author learns from the log.
        on_command("bad_metric", [this](const lucid::Command&) {
            int refused = 0;
            for (int i = 0; i < 3; ++i) {
                try {
                    publish_metric("Temp.C", 21.5, "celsius");
                } catch (const std::exception&) {
                    ++refused;
                }
            }
            return "{\"refused\":" + std::to_string(refused) + "}";
        });
        lucid::SubscribeOptions dedup;
        dedup.dedup = true;
        subscribe(
            "/itest/dedup/in",
            [this](const lucid::Message& m) { publish("seen/dedup", m.payload); }, dedup);
        subscribe("/itest/dedup/in",
                  [this](const lucid::Message& m) { publish("seen/plain", m.payload); });
    }

  private:
    std::atomic<int> ticks_{0};
    std::atomic<double> level_{0};
};

LUCID_PLUGIN(MetricProbe)
