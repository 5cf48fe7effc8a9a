#include "contract/command_request.hpp"

#include <algorithm>

#include <rapidjson/error/en.h>

#include <fmt/format.h>

#include "lucid/registry/registry_json.hpp"

namespace lucid::host::contract {

CommandRequest parse_command(std::string_view text) {
    CommandRequest request;
    auto& doc = request.payload;
    if (registry::json_too_deep(text)) {
        request.error =
            fmt::format("invalid JSON: nested deeper than {} levels", registry::kMaxJsonDepth);
        return request;
    }
    // The parser takes a NUL byte for the end of the text (`{...}\0junk` would pass) and the
    // plugin ABI hands payloads over as C strings: no raw NUL anywhere.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        request.error = fmt::format("invalid JSON: NUL byte at offset {}", nul);
        return request;
    }
    // kParseStopWhenDoneFlag is not used: trailing garbage after the object is an error too.
    // UTF-8 is validated: every string read here may be echoed into a result, which must stay
    // valid JSON (RFC 8259 text is UTF-8).
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) {
        request.error =
            fmt::format("invalid JSON: {} at offset {}",
                        rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset());
        doc.SetNull();
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
    request.request_id.assign(id);
    return request;
}

}  // namespace lucid::host::contract
