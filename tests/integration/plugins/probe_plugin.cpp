// The probe plugin of the component integration tests: it makes every host service visible
// on MQTT.
//   - on start, event "started" whose data is the config it was started with;
//   - absolute wildcard filter /itest/sensors/+/temp: each message becomes an event "temp"
//     with the payload as data and the matched topic as correlation_id;
//   - relative multi-level filter in/#: each payload is republished on "out";
//   - command "config" answers {"config": <the config the plugin reads now>};
//   - command "count" answers {"count": <how many times it has run, this one included>};
//     "count_slowly" does the same after 300 ms of work (a copy of it can arrive meanwhile);
//   - command "forge" publishes, on its own relative topic evt/count_result, a payload that
//     looks like an answer to request "forged-1" (what a buggy or hostile plugin could send);
//   - a proposed config containing "bad" is refused with "mode bad is refused".
#include <lucid/plugin.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

struct Probe : lucid::Plugin {
    void start() override {
        subscribe("/itest/sensors/+/temp", [this](const lucid::Message& m) {
            publish_event("temp", std::string(m.payload), std::string(m.topic));
        });
        subscribe("in/#", [this](const lucid::Message& m) { publish("out", m.payload); });
        on_command("config",
                   [this](const lucid::Command&) { return "{\"config\":" + config() + "}"; });
        on_command("count", [this](const lucid::Command&) { return count(); });
        on_command("count_slowly", [this](const lucid::Command&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the work
            return count();
        });
        on_command("forge", [this](const lucid::Command&) {
            publish("evt/count_result", R"({"request_id":"forged-1","ok":true,"count":999})");
            return std::string("{}");
        });
        publish_event("started", config());
    }
    void config_changed(const std::string& json) override {
        if (json.find("\"bad\"") != std::string::npos) {
            throw std::invalid_argument("mode bad is refused");
        }
    }

    std::string count() { return "{\"count\":" + std::to_string(++runs_) + "}"; }

    int runs_ = 0;  // callbacks run on the plugin's one worker thread: no lock needed
};

LUCID_PLUGIN(Probe)
