#include "agent/config_change_text.hpp"

#include <algorithm>
#include <cctype>

#include <rapidjson/document.h>

#include "contract/payloads.hpp"

namespace lucid::host::agent {
namespace {

using rapidjson::Value;

constexpr std::size_t kMaxValue = 200;

bool names_a_secret(std::string path) {
    std::transform(path.begin(), path.end(), path.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* word : {"password", "passwd", "secret", "token", "key", "credential"}) {
        if (path.find(word) != std::string::npos) return true;
    }
    return false;
}

void add(std::string& text, const std::string& path, const Value* value) {
    std::string shown = value ? contract::to_json(*value) : std::string("(none)");
    if (value && value->IsString()) shown = std::string(value->GetString());
    if (names_a_secret(path)) shown = "***";
    if (shown.size() > kMaxValue) shown = shown.substr(0, kMaxValue) + "...";
    if (!text.empty()) text += ' ';
    text += path + "=" + shown;
}

// Labels are one setting (the whole set is sent), the other objects a tree of settings.
void diff(std::string& text, const std::string& path, const Value* before, const Value* after) {
    const bool objects = before && after && before->IsObject() && after->IsObject();
    if (!objects || path == "labels") {
        if (!before || !after || *before != *after) add(text, path, after);
        return;
    }
    for (const auto& m : after->GetObject()) {
        const std::string child = (path.empty() ? "" : path + ".") + m.name.GetString();
        const auto old = before->FindMember(m.name);
        diff(text, child, old == before->MemberEnd() ? nullptr : &old->value, &m.value);
    }
    for (const auto& m : before->GetObject()) {
        if (!after->HasMember(m.name)) {
            add(text, (path.empty() ? "" : path + ".") + m.name.GetString(), nullptr);
        }
    }
}

}  // namespace

std::string config_change_text(const CoreConfig& before, const CoreConfig& after) {
    rapidjson::Document a;
    rapidjson::Document b;
    write_core_config(before, b, b.GetAllocator());
    write_core_config(after, a, a.GetAllocator());
    std::string text;
    diff(text, "", &b, &a);
    return text;
}

}  // namespace lucid::host::agent
