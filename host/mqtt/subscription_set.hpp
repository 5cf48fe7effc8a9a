// The subscriptions the session must hold, resubscribed on every connect. Reference-counted per
// filter: two plugins subscribing to the same filter share one MQTT subscription, and the
// subscription ends only when the last of them unsubscribes.
// Thread: safe from any thread. Errors: none.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lucid::host::mqtt {

struct Subscription {
    std::string filter;
    int qos = 1;
};

class SubscriptionSet {
  public:
    // True when the filter is new (the caller then sends SUBSCRIBE); a higher qos upgrades.
    bool add(const std::string& filter, int qos);
    // True when this removed the last reference (the caller then sends UNSUBSCRIBE).
    bool remove(const std::string& filter);
    std::vector<Subscription> all() const;

  private:
    struct Slot {
        int qos = 0;
        int references = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Slot> slots_;
};

}  // namespace lucid::host::mqtt
