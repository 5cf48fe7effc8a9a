// Reading one field of a parsed JSON object the way every reader of the contract's documents
// does: a missing field or one of another type reads as absent (callers that must refuse it
// check the document with its own parser first). Header-only.
//
//   const std::string state = contract::string_at(doc, "state");        // "" when absent
//   const auto revision = contract::uint_at(doc, "revision");            // nullopt when absent
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>

namespace lucid::host::contract {

inline std::string string_at(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return {};
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsString()) return {};
    return {it->value.GetString(), it->value.GetStringLength()};
}

inline std::optional<std::uint64_t> uint_at(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return std::nullopt;
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsUint64()) return std::nullopt;
    return it->value.GetUint64();
}

}  // namespace lucid::host::contract
