#include "mqtt/subscription_set.hpp"

#include <algorithm>

namespace lucid::host::mqtt {

bool SubscriptionSet::add(const std::string& filter, int qos) {
    std::lock_guard<std::mutex> lock(mutex_);
    owed_.erase(filter);  // wanted again: the broker's subscription may stay
    auto& slot = slots_[filter];
    const bool changed = slot.references == 0 || qos > slot.qos;
    slot.qos = std::max(slot.qos, qos);
    ++slot.references;
    return changed;
}

bool SubscriptionSet::remove(const std::string& filter) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = slots_.find(filter);
    if (it == slots_.end()) return false;
    if (--it->second.references > 0) return false;
    slots_.erase(it);
    owed_.insert(filter);
    return true;
}

std::vector<Subscription> SubscriptionSet::all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Subscription> out;
    out.reserve(slots_.size());
    for (const auto& [filter, slot] : slots_) out.push_back({filter, slot.qos});
    return out;
}

bool SubscriptionSet::owe_unsubscribe(const std::string& filter) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (slots_.count(filter)) return false;
    return owed_.insert(filter).second;
}

std::vector<std::string> SubscriptionSet::owed_unsubscribes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {owed_.begin(), owed_.end()};
}

void SubscriptionSet::unsubscribed(const std::string& filter) {
    std::lock_guard<std::mutex> lock(mutex_);
    owed_.erase(filter);
}

}  // namespace lucid::host::mqtt
