#include "common/world_writable_guard.hpp"

#include "common/file_modes.hpp"
#include "common/logging.hpp"

namespace lucid::host {

void guard_against_world_writable(const std::filesystem::path& dir, const char* logger_name) {
    try {
        if (auto changed = tighten_if_world_writable(dir)) {
            logger(logger_name)->warn("{}", *changed);
        }
    } catch (const std::exception& e) {
        logger(logger_name)->error("{}; any user may plant files the agent loads", e.what());
    }
}

}  // namespace lucid::host
