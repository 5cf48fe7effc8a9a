// A plugin that takes memory when asked: command "grow" {"mb": N} allocates and touches N MiB
// more (kept until it stops), answering {"held_mb": total}. Over a memory limit in process
// isolation, the agent kills it and says so.
#include <lucid/plugin.hpp>

#include <cstring>
#include <memory>
#include <vector>

struct MemoryHog : lucid::Plugin {
    std::vector<std::unique_ptr<char[]>> held;

    void start() override {
        on_command("grow", [this](const lucid::Command& c) {
            const std::string text(c.payload);
            const auto at = text.find("\"mb\":");
            const int mb = at == std::string::npos ? 1 : std::atoi(text.c_str() + at + 5);
            for (int i = 0; i < mb; ++i) {
                held.emplace_back(new char[1 << 20]);
                std::memset(held.back().get(), 0x5a, 1 << 20);  // resident, not only reserved
            }
            return "{\"held_mb\":" + std::to_string(held.size()) + "}";
        });
    }
};

LUCID_PLUGIN(MemoryHog)
