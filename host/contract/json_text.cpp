#include "contract/json_text.hpp"

#include <set>

#include <rapidjson/error/en.h>

#include <fmt/format.h>

#include "lucid/registry/registry_json.hpp"

namespace lucid::host::contract {

Status parse_json_text(std::string_view text, rapidjson::Document& doc) {
    doc.SetNull();
    if (registry::json_too_deep(text)) {
        return Error{Errc::invalid, fmt::format("invalid JSON: nested deeper than {} levels",
                                                registry::kMaxJsonDepth)};
    }
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        return Error{Errc::invalid, fmt::format("invalid JSON: NUL byte at offset {}", nul)};
    }
    // kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error too.
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) {
        const auto message =
            fmt::format("invalid JSON: {} at offset {}",
                        rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset());
        doc.SetNull();
        return Error{Errc::invalid, message};
    }
    return done();
}

std::optional<std::string_view> duplicate_key(const rapidjson::Value& value) {
    if (value.IsArray()) {
        for (const auto& item : value.GetArray()) {
            if (auto key = duplicate_key(item)) return key;
        }
    }
    if (!value.IsObject()) return std::nullopt;
    std::set<std::string_view> seen;
    for (const auto& member : value.GetObject()) {
        const std::string_view key(member.name.GetString(), member.name.GetStringLength());
        if (!seen.insert(key).second) return key;
        if (auto nested = duplicate_key(member.value)) return nested;
    }
    return std::nullopt;
}

}  // namespace lucid::host::contract
