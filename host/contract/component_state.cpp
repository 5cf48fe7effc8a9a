#include "contract/component_state.hpp"

namespace lucid::host {

std::string_view wire_state(ComponentState state) {
    switch (state) {
        case ComponentState::absent:
            return "absent";
        case ComponentState::stopped:
            return "stopped";
        case ComponentState::starting:
            return "starting";
        case ComponentState::running:
            return "running";
        case ComponentState::unsupported:
            return "unsupported";
        case ComponentState::failed:
        case ComponentState::unresponsive:
        case ComponentState::quarantined:
            return "failed";
    }
    return "failed";
}

}  // namespace lucid::host
