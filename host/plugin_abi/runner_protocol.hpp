// The runner protocol: what the agent and lucid-plugin-runner (one isolated plugin in a child
// process, issue 17) say to each other over their socketpair. docs/contract.md §5.7 is the
// reference; this header is its one implementation, used by both sides and fuzzed
// (tests/fuzz/fuzz_runner_frames.cpp).
//
// Every frame has the same layout, little-endian, so that one decoder checks them all:
//
//   u32 body length | u8 op | u8 flags | u32 seq | u32 status | u64 a | u64 b |
//   u8 string count | per string: u8 present (0: NULL), u32 length, bytes
//
// Each op uses the fields it needs (RunnerOp below says which); the others are zero. A string
// may be absent (a NULL pointer the plugin passed), which the host API tells apart from "".
//
//   FrameDecoder in;            // one per connection
//   in.feed(bytes, n);
//   while (auto frame = in.next()) handle(*frame);
//   if (in.failed()) give_up(in.error());   // a malformed stream is never resynchronised
//
// Thread: plain values; a decoder is used by one thread. Errors: the decoder's error text; no
// exceptions (bad_alloc aside).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lucid::host::plugin_abi {

// Bumped on any change of the layout or of an op's meaning; the runner says its version in
// `hello` and the agent refuses another.
// 2: call_message posted; 3: publish_metric and subscribe_with (plugin ABI 1.1).
inline constexpr std::uint32_t kRunnerProtocolVersion = 3;
// The largest body: an MQTT payload the agent hands on is at most this big.
inline constexpr std::uint32_t kMaxFrameBody = 64u * 1024u * 1024u;
inline constexpr std::size_t kMaxFrameStrings = 64;  // hello: a name and a result per measure

enum class RunnerOp : std::uint8_t {
    // ---- runner -> agent ----
    hello = 1,          // a = protocol version, b = pid; strings: containment (name, result) pairs
    loaded = 2,         // reply to load. status 0 ok; a = abi_version; flags bit 0: config_changed
                        // present; strings: error, dist, version, component
    result = 3,         // a callback returned: seq = the call's, status = its lucid_status; flags
                        // bit 0: call_respond() was called; strings: call_fail() text, result JSON
    messages_done = 4,  // a = how many posted call_message callbacks returned since the last
    // host API calls (lucid_host_api). seq != 0 wants a host_reply. flags kNested: made from
    // inside the callback in progress (the agent runs it on that plugin's worker).
    publish = 10,             // a = qos, b = retain; strings: topic, payload
    publish_event = 11,       // strings: type, data, correlation_id
    subscribe = 12,           // a = qos, b = handle (0: no fn); flags kHasOut; strings: filter
    unsubscribe = 13,         // a = subscription id
    timer_start = 14,         // a = first_ms << 32 | period_ms, b = handle; flags kHasOut
    timer_cancel = 15,        // a = timer id
    log = 16,                 // a = level; strings: message. Never replied.
    report_status = 17,       // a = state; strings: error
    get_config = 18,          // reply strings: the config
    register_command = 19,    // b = handle (0: no fn); strings: action
    unregister_command = 20,  // strings: action
    publish_metric = 21,      // a = the value's IEEE 754 bits; strings: metric, unit
    subscribe_with = 22,      // subscribe + status = lucid_subscribe_options.flags
    // (the agent takes publish..subscribe_with as host API calls: keep new ones after them)
    pong = 30,  // seq = the ping's
    // ---- agent -> runner ----
    load = 40,         // strings: the plugin file
    call_create = 41,  // the plugin's callbacks, run in order on the runner's callback thread
    call_start = 42,
    call_stop = 43,
    call_destroy = 44,
    call_config = 45,   // strings: config JSON
    call_message = 46,  // a = handle, b = qos | retain << 8; strings: topic, payload. Posted:
                        // no result, counted in messages_done (kMessageWindow)
    call_timer = 47,    // a = handle
    call_command = 48,  // a = handle; strings: action, request_id, payload
    host_reply = 49,    // seq = the call's; status; a = value (an id); strings: text (config)
    ping = 50,
};

// How many posted messages, and how many bytes of them, the agent lets the child owe a
// messages_done for. Posting instead of waiting for each message is what lets an isolated plugin
// drain a burst at the rate of the socket rather than of a round trip; the window keeps a slow
// plugin's backlog in the agent's bounded plugin queue (LUCID_PLUGIN_QUEUE_MAX), not in the
// child. The child acknowledges at the latest every kMessageAckEvery messages, and before any
// other callback, so a window never waits on a child that is idle.
inline constexpr std::size_t kMessageWindow = 256;
inline constexpr std::size_t kMessageWindowBytes = 4u * 1024u * 1024u;
inline constexpr std::uint64_t kMessageAckEvery = 64;
inline constexpr std::chrono::milliseconds kMessageAckAfter{100};

inline constexpr std::uint8_t kNested = 0x80;
inline constexpr std::uint8_t kHasOut = 0x02;

struct Frame {
    RunnerOp op = RunnerOp::ping;
    std::uint8_t flags = 0;
    std::uint32_t seq = 0;
    std::uint32_t status = 0;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::vector<std::optional<std::string>> strings;

    // strings[i], "" when absent or missing.
    const std::string& text(std::size_t i) const;
    // strings[i] as a C pointer: NULL when absent (valid while the frame lives).
    const char* c_str(std::size_t i) const;
};

bool is_known(RunnerOp op);
const char* op_name(RunnerOp op);

// The frame as bytes, length prefix included. The caller keeps within kMaxFrameBody (a payload
// bigger than that is refused before it is encoded: encoded_size()).
std::string encode(const Frame& frame);
std::size_t encoded_size(const Frame& frame);
// Within kMaxFrameBody: a frame that does not fit is never sent (the other side would take it
// for a broken stream); the call it carries fails with too_large_error() instead.
bool fits(const Frame& frame);
// "<what> too large for process isolation: <n> bytes (at most 64 MiB)"
std::string too_large_error(const std::string& what, const Frame& frame);

class FrameDecoder {
  public:
    void feed(const char* data, std::size_t size);
    // The next whole frame, nullopt when more bytes are needed or the stream failed.
    std::optional<Frame> next();
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }

  private:
    std::string buffer_;
    std::size_t offset_ = 0;
    std::string error_;
};

}  // namespace lucid::host::plugin_abi
