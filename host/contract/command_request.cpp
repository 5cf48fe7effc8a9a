#include "contract/command_request.hpp"

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
    // kParseStopWhenDoneFlag is not used: trailing garbage after the object is an error too.
    doc.Parse(text.data(), text.size());
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
    request.request_id.assign(it->value.GetString(), it->value.GetStringLength());
    return request;
}

}  // namespace lucid::host::contract
