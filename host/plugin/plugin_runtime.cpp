#include "plugin/plugin_runtime.hpp"

namespace lucid::host {

const char* to_string(Isolation isolation) {
    return isolation == Isolation::process ? "process" : "in_process";
}

std::optional<Isolation> parse_isolation(const std::string& text) {
    if (text == "in_process") return Isolation::in_process;
    if (text == "process") return Isolation::process;
    return std::nullopt;
}

}  // namespace lucid::host
