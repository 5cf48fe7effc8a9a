#include "mqtt/subscription_set.hpp"

#include <algorithm>

namespace lucid::host::mqtt {

std::vector<FilterBatch> filter_batches(const std::vector<Subscription>& subscriptions,
                                        std::size_t max_filters) {
    max_filters = std::max<std::size_t>(max_filters, 1);
    std::vector<FilterBatch> out;
    std::map<int, std::size_t> open;  // qos → index in out of its batch being filled
    for (const auto& sub : subscriptions) {
        auto it = open.find(sub.qos);
        if (it == open.end() || out[it->second].filters.size() >= max_filters) {
            out.push_back({sub.qos, {}});
            it = open.insert_or_assign(sub.qos, out.size() - 1).first;
        }
        out[it->second].filters.push_back(sub.filter);
    }
    return out;
}

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
