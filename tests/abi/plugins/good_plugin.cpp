// A well-behaved plugin exercising the whole host API: it is loaded, driven and unloaded by the
// loader tests, and must leave the address space when unloaded.
//   - subscribes "in/#" and republishes each payload on "out" (relative topics);
//   - command "add" answers {"sum": a+b};
//   - timer "tick" event after 10 ms (one-shot);
//   - refuses a config whose "mode" is "bad"; event "applied" with each config it accepts.
#include <lucid/plugin.hpp>

#include <string>

struct Good : lucid::Plugin {
    void start() override {
        subscribe("in/#", [this](const lucid::Message& m) { publish("out", m.payload); });
        on_command("add", [](const lucid::Command& c) {
            // Deliberately naive parsing: the test sends {"request_id":"..","a":2,"b":3}.
            std::string p(c.payload);
            int a = std::stoi(p.substr(p.find("\"a\":") + 4));
            int b = std::stoi(p.substr(p.find("\"b\":") + 4));
            return "{\"sum\":" + std::to_string(a + b) + "}";
        });
        after(std::chrono::milliseconds(10), [this] { publish_event("tick", config()); });
        log_info("good plugin started");
    }
    void config_changed(const std::string& json) override {
        if (json.find("\"bad\"") != std::string::npos)
            throw std::invalid_argument("mode bad is refused");
        publish_event("applied", json);
    }
};

LUCID_PLUGIN(Good)
