// The subscriptions the session must hold, resubscribed on every connect. Reference-counted per
// filter: two plugins subscribing to the same filter share one MQTT subscription, and the
// subscription ends only when the last of them unsubscribes.
//
// It also remembers the UNSUBSCRIBEs the broker has not received yet: the session is persistent
// (clean_session=false), so a subscription ended while offline would otherwise stay on the
// broker and its messages keep coming after every reconnect.
// Thread: safe from any thread. Errors: none.
#pragma once

#include <map>
#include <mutex>
#include <set>
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
    // True when this removed the last reference (the caller then sends UNSUBSCRIBE, and calls
    // unsubscribed() once the broker acknowledged it). Owed only in memory: an agent restarted
    // while offline does not know what its previous process owed.
    bool remove(const std::string& filter);
    std::vector<Subscription> all() const;

    // A filter an earlier process may have left in the persistent session: owed like a removed
    // one, unless it is in the set. True when it became owed.
    bool owe_unsubscribe(const std::string& filter);
    // Filters removed whose UNSUBSCRIBE was not sent yet (a later add() cancels it).
    std::vector<std::string> owed_unsubscribes() const;
    void unsubscribed(const std::string& filter);

  private:
    struct Slot {
        int qos = 0;
        int references = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Slot> slots_;
    std::set<std::string> owed_;
};

}  // namespace lucid::host::mqtt
