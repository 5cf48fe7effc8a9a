// Two processes with one agent_id (a fleet of cloned images: the default agent_id is the host
// name) share one MQTT client id, so the broker drops one whenever the other connects, and they
// would take the connection from each other every reconnect delay, for ever.
//
// Each process has its own random `instance`, carried in `status`. The agent subscribes to its
// own `status` and hands every message to observe(): once it has seen its own online status
// (so the retained one is no longer what an earlier run of this very agent left, say after a
// power cut), an online status of another instance means another process is using this
// agent_id now. observe() then returns what it saw, once; the agent logs an ERROR, publishes it
// as `conflict` in its status and reconnects only at its longest backoff.
//
//   TakeoverDetector detector("3f2a9c01d4e5b6a7");
//   if (auto seen = detector.observe(payload)) log->error("{}", *seen);
//
// clear() ends the conflict (the agent calls it once a connection lasted long enough to show
// the other process is gone). Thread: not thread-safe (the network thread calls observe()).
// Errors: none; a payload that is not a status is ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lucid::host::agent {

// A new random instance id: 16 hex digits.
std::string new_instance_id();

class TakeoverDetector {
  public:
    explicit TakeoverDetector(std::string own_instance);

    // A message on this agent's own `status` topic. Returns the description of another process
    // online under this agent_id when this message is the first sign of it since the last
    // clear(); nullopt otherwise.
    std::optional<std::string> observe(std::string_view payload);
    const std::optional<std::string>& conflict() const { return conflict_; }
    void clear() { conflict_.reset(); }

  private:
    std::string own_;
    bool seen_own_ = false;
    std::optional<std::string> conflict_;
};

}  // namespace lucid::host::agent
