// start() throws: the wrapper turns it into a status and the text "sensor missing".
#include <lucid/plugin.hpp>

#include <stdexcept>

struct Throws : lucid::Plugin {
    void start() override {
        subscribe("in", [](const lucid::Message&) {});  // must be forgotten by the host
        throw std::runtime_error("sensor missing");
    }
};

LUCID_PLUGIN(Throws)
