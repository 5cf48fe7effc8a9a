// The de-duplication of one subscription that asked for it (LUCID_SUBSCRIBE_DEDUP, ABI 1.1;
// contract §5.3): the envelope ids it was handed within the last 30 s, at most 2,048 of them,
// the oldest forgotten first. QoS 1 redelivers after a reconnect, so the same envelope may come
// twice; the plugin sees it once.
//
//   DuplicateFilter filter;
//   if (auto id = envelope_id(payload); id && !filter.admit(*id, now)) drop_as_duplicate();
//   if (queue_was_full) filter.forget(*id);   // not handed over: a copy may still come
//
// Bounded: 2,048 ids of at most kMaxIdBytes each (a longer id is not remembered: that message
// is delivered every time). Not thread-safe: the owner locks. Errors: none.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace lucid::host {

class DuplicateFilter {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kTtl{30};
    static constexpr std::size_t kCapacity = 2048;
    static constexpr std::size_t kMaxIdBytes = 256;

    // True when `id` is new (now remembered), false for a duplicate seen within the TTL.
    bool admit(std::string_view id, Clock::time_point now);
    // Forgets an id admitted last whose message could not be handed over after all.
    void forget(std::string_view id);
    std::size_t size() const { return ids_.size(); }

  private:
    void expire(Clock::time_point now);

    struct Seen {
        std::string id;
        Clock::time_point at;
    };
    std::deque<Seen> order_;  // oldest first
    std::unordered_set<std::string> ids_;
};

// The envelope `id` of a payload: a JSON object whose member "id" is a string. nullopt for
// anything else (no envelope: the message is not de-duplicated).
std::optional<std::string> envelope_id(std::string_view payload);

}  // namespace lucid::host
