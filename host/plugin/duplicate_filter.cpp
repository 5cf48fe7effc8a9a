#include "plugin/duplicate_filter.hpp"

#include <algorithm>

#include <rapidjson/document.h>

namespace lucid::host {

void DuplicateFilter::expire(Clock::time_point now) {
    while (!order_.empty() && now - order_.front().at >= kTtl) {
        ids_.erase(order_.front().id);
        order_.pop_front();
    }
}

bool DuplicateFilter::admit(std::string_view id, Clock::time_point now) {
    expire(now);
    if (id.size() > kMaxIdBytes) return true;
    std::string key(id);
    if (ids_.count(key)) return false;
    ids_.insert(key);
    order_.push_back(Seen{std::move(key), now});
    if (order_.size() > kCapacity) {
        ids_.erase(order_.front().id);
        order_.pop_front();
    }
    return true;
}

void DuplicateFilter::forget(std::string_view id) {
    const std::string key(id);
    if (!ids_.erase(key)) return;
    // Usually the newest: searched from the back.
    auto it = std::find_if(order_.rbegin(), order_.rend(),
                           [&](const Seen& seen) { return seen.id == key; });
    if (it != order_.rend()) order_.erase(std::next(it).base());
}

std::optional<std::string> envelope_id(std::string_view payload) {
    // Cheap refusal before a parse: an envelope is a JSON object.
    const auto first = payload.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || payload[first] != '{') return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(payload.data(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    const auto it = doc.FindMember("id");
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace lucid::host
