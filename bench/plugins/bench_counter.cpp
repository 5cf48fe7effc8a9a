// The dispatch benchmark plugin: counts the messages on bench/plugin/in and reports the count.
//   payload "ping" -> publishes {"pong":true} on bench/plugin/count (the bench waits for it to
//                     know the subscription is live on the broker)
//   payload "end"  -> publishes {"count":N} on bench/plugin/count and starts counting again
//   anything else  -> counted
// The raw libmosquitto subscriber of the bench (raw_client.cpp, role "sub") follows the same
// protocol, so both sides do the same work per message.
#include <lucid/plugin.hpp>

#include <cstdio>

struct BenchCounter : lucid::Plugin {
    void start() override {
        subscribe(
            "/bench/plugin/in",
            [this](const lucid::Message& m) {
                if (m.payload == "end") {
                    char text[48];
                    // Not std::to_string: see lucid/plugin.hpp (STB_GNU_UNIQUE keeps dlclose
                    // from unmapping the plugin).
                    std::snprintf(text, sizeof text, "{\"count\":%llu}", count_);
                    publish("/bench/plugin/count", text, 1);
                    count_ = 0;
                } else if (m.payload == "ping") {
                    publish("/bench/plugin/count", "{\"pong\":true}", 1);
                } else {
                    ++count_;
                }
            },
            0);
    }

  private:
    unsigned long long count_ = 0;  // only touched on the plugin's worker
};

LUCID_PLUGIN(BenchCounter)
