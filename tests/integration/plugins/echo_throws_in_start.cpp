// echo 3.0.0, a broken build: start() throws, so an upgrade to it must be rolled back.
#include <lucid/plugin.hpp>

#include <stdexcept>

struct EchoThrows : lucid::Plugin {
    void start() override {
        on_command("echo", [](const lucid::Command&) { return std::string("{}"); });
        throw std::runtime_error("echo 3.0.0 cannot open its device");
    }
};

LUCID_PLUGIN(EchoThrows)
