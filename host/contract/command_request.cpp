#include "contract/command_request.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "contract/json_text.hpp"
#include "contract/utf8.hpp"
#include "lucid/registry/echoed_value.hpp"

namespace lucid::host::contract {

CommandRequest parse_command(std::string_view text) {
    CommandRequest request;
    auto& doc = request.payload;
    // UTF-8 is validated: every string read here may be echoed into a result.
    if (Status parsed = parse_json_text(text, doc); !parsed) {
        request.error = parsed.error().message;
        return request;
    }
    if (!doc.IsObject()) {
        request.error = "validation_error: payload must be a JSON object";
        return request;
    }
    auto it = doc.FindMember("request_id");
    if (it == doc.MemberEnd()) {
        request.error = "validation_error: missing 'request_id'";
        return request;
    }
    if (!it->value.IsString() || it->value.GetStringLength() == 0) {
        request.error = "validation_error: 'request_id' must be a non-empty string";
        return request;
    }
    // The id is stored in the persisted de-duplication record: keep that record bounded.
    if (it->value.GetStringLength() > kMaxRequestIdLength) {
        request.error = fmt::format("validation_error: 'request_id' must be at most {} characters",
                                    kMaxRequestIdLength);
        return request;
    }
    // The id is logged, stored, and given to plugins as a C string: no NUL, no line breaks.
    const std::string_view id(it->value.GetString(), it->value.GetStringLength());
    if (std::any_of(id.begin(), id.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        request.error = "validation_error: 'request_id' must not contain control characters";
        return request;
    }
    // The parser turns an escaped lone surrogate ("\udc00") into bytes that are not UTF-8: two
    // such ids would be echoed as the same U+FFFD text while de-duplication tells them apart.
    if (!is_valid_utf8(id)) {
        request.error = "validation_error: request_id is not valid UTF-8";
        return request;
    }
    if (auto key = duplicate_key(doc)) {
        request.error = "validation_error: duplicate key '" + registry::echoed_value(*key) + "'";
        // Which of two request_ids would be the one answered is not for the agent to guess.
        const auto ids = std::count_if(doc.MemberBegin(), doc.MemberEnd(), [](const auto& m) {
            return std::string_view(m.name.GetString(), m.name.GetStringLength()) == "request_id";
        });
        if (ids > 1) return request;
    }
    request.request_id.assign(id);
    // A command may say until when it makes sense (contract §3.4): one queued for an agent that
    // is away for weeks must not run when it comes back.
    if (auto expires = doc.FindMember("expires_at"); expires != doc.MemberEnd()) {
        std::optional<Clock::time_point> when;
        if (expires->value.IsString()) {
            when = parse_utc_timestamp(
                std::string(expires->value.GetString(), expires->value.GetStringLength()));
        }
        if (!when) {
            request.error =
                "validation_error: 'expires_at' must be a UTC time like "
                "2026-11-30T14:00:00Z";
            return request;
        }
        request.expires_at = when;
        request.expires_text.assign(expires->value.GetString(), expires->value.GetStringLength());
    }
    return request;
}

std::string refusal_error(std::string_view payload, const std::string& error) {
    auto request = parse_command(payload);
    return request.ok() ? error : std::move(request.error);
}

std::string result_request_id(std::string_view payload) {
    rapidjson::Document doc;
    doc.Parse(payload.data(), payload.size());
    if (doc.HasParseError() || !doc.IsObject()) return {};
    auto it = doc.FindMember("request_id");
    if (it == doc.MemberEnd() || !it->value.IsString()) return {};
    return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace lucid::host::contract
