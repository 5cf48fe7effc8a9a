#include "config/supervision.hpp"

namespace lucid::host::config {

bool is_supervised(Supervision setting,
                   const std::function<std::optional<std::string>(const std::string&)>& env) {
    switch (setting) {
        case Supervision::yes:
            return true;
        case Supervision::no:
            return false;
        case Supervision::automatic:
            break;
    }
    for (const char* name : {"INVOCATION_ID", "NOTIFY_SOCKET"}) {
        auto value = env(name);
        if (value && !value->empty()) return true;
    }
    return false;
}

}  // namespace lucid::host::config
