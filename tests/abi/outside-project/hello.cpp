// The smallest plugin, exactly as shown in lucid/plugin.h.
#include <lucid/plugin.hpp>
struct Hello : lucid::Plugin {
    void start() override {
        every(std::chrono::seconds(5), [this] { publish_event("tick", "{}"); });
    }
};
LUCID_PLUGIN(Hello)
