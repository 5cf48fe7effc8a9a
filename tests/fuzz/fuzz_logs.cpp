// The log over MQTT (contract §4.15): the payloads of core/cmd/logs/get, core/cmd/logs/stream and
// components/{cid}/cfg/logging/set as they arrive, and the redaction every published line goes
// through (a plugin writes whatever text it likes). Properties: no crash; a request parses to a
// value in its range or to an error; redaction is idempotent and leaves no userinfo but `***`
// (or the agent's `user:***`) behind `://`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/log_requests.hpp"
#include "common/log_redaction.hpp"
#include "contract/command_request.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const std::string once = redact_log_text(text, {"secret"});
    check(redact_log_text(once, {"secret"}) == once);
    check(once.find("secret") == std::string::npos);

    const contract::CommandRequest request = contract::parse_command(text);
    if (!request.ok()) return 0;
    const auto get = agent::parse_logs_get(request.payload);
    check(!get.error.empty() || (get.n >= 1 && get.n <= agent::kMaxLogsGetLines));
    const auto stream = agent::parse_logs_stream(request.payload);
    check(!stream.error.empty() ||
          (stream.seconds >= 1 && stream.seconds <= agent::kMaxStreamSeconds));
    (void)agent::parse_component_log_level(request.payload);
    return 0;
}
