// Everything a component can be (contract §4.4), in one enum used everywhere inside the agent.
//
// On the wire `state` keeps the contract's values: `unresponsive` (a plugin stuck in a
// callback, §5.4) and `quarantined` (a build that took the agent down, §5.5) publish as
// `failed`, with the error saying why; `absent` is never published (the component has no
// status: not installed, or forgotten). Pure; thread-safe.
//
//   wire_state(ComponentState::quarantined) == "failed"
#pragma once

#include <string_view>

namespace lucid::host {

enum class ComponentState {
    absent,
    stopped,
    starting,
    running,
    failed,
    unresponsive,
    unsupported,
    quarantined,
};

// The contract's `state` value.
std::string_view wire_state(ComponentState state);

// Counted in core/state's `components_failed` (and makes the agent `degraded`).
inline bool counts_as_failed(ComponentState state) {
    return state == ComponentState::failed || state == ComponentState::unresponsive ||
           state == ComponentState::quarantined;
}

// A plugin of the component is loaded and meant to run.
inline bool is_loaded(ComponentState state) {
    return state == ComponentState::starting || state == ComponentState::running;
}

}  // namespace lucid::host
