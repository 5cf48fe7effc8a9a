#include "plugin_abi/runner_protocol.hpp"

#include <cstring>

namespace lucid::host::plugin_abi {
namespace {

// op, flags, seq, status, a, b, string count
constexpr std::size_t kHeader = 1 + 1 + 4 + 4 + 8 + 8 + 1;

void put(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get(const unsigned char* p, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return value;
}

}  // namespace

const std::string& Frame::text(std::size_t i) const {
    static const std::string empty;
    return i < strings.size() && strings[i] ? *strings[i] : empty;
}

const char* Frame::c_str(std::size_t i) const {
    return i < strings.size() && strings[i] ? strings[i]->c_str() : nullptr;
}

bool is_known(RunnerOp op) { return std::strcmp(op_name(op), "unknown") != 0; }

const char* op_name(RunnerOp op) {
    switch (op) {
        case RunnerOp::hello:
            return "hello";
        case RunnerOp::loaded:
            return "loaded";
        case RunnerOp::result:
            return "result";
        case RunnerOp::messages_done:
            return "messages_done";
        case RunnerOp::publish:
            return "publish";
        case RunnerOp::publish_event:
            return "publish_event";
        case RunnerOp::subscribe:
            return "subscribe";
        case RunnerOp::unsubscribe:
            return "unsubscribe";
        case RunnerOp::timer_start:
            return "timer_start";
        case RunnerOp::timer_cancel:
            return "timer_cancel";
        case RunnerOp::log:
            return "log";
        case RunnerOp::report_status:
            return "report_status";
        case RunnerOp::get_config:
            return "get_config";
        case RunnerOp::register_command:
            return "register_command";
        case RunnerOp::unregister_command:
            return "unregister_command";
        case RunnerOp::publish_metric:
            return "publish_metric";
        case RunnerOp::subscribe_with:
            return "subscribe_with";
        case RunnerOp::pong:
            return "pong";
        case RunnerOp::load:
            return "load";
        case RunnerOp::call_create:
            return "call_create";
        case RunnerOp::call_start:
            return "call_start";
        case RunnerOp::call_stop:
            return "call_stop";
        case RunnerOp::call_destroy:
            return "call_destroy";
        case RunnerOp::call_config:
            return "call_config";
        case RunnerOp::call_message:
            return "call_message";
        case RunnerOp::call_timer:
            return "call_timer";
        case RunnerOp::call_command:
            return "call_command";
        case RunnerOp::host_reply:
            return "host_reply";
        case RunnerOp::ping:
            return "ping";
    }
    return "unknown";
}

std::size_t encoded_size(const Frame& frame) {
    std::size_t size = 4 + kHeader;
    for (const auto& s : frame.strings) size += 1 + 4 + (s ? s->size() : 0);
    return size;
}

bool fits(const Frame& frame) { return encoded_size(frame) - 4 <= kMaxFrameBody; }

std::string too_large_error(const std::string& what, const Frame& frame) {
    return what + " too large for process isolation: " + std::to_string(encoded_size(frame)) +
           " bytes (at most " + std::to_string(kMaxFrameBody / (1024 * 1024)) + " MiB)";
}

std::string encode(const Frame& frame) {
    std::string out;
    out.reserve(encoded_size(frame));
    put(out, encoded_size(frame) - 4, 4);
    put(out, static_cast<std::uint8_t>(frame.op), 1);
    put(out, frame.flags, 1);
    put(out, frame.seq, 4);
    put(out, frame.status, 4);
    put(out, frame.a, 8);
    put(out, frame.b, 8);
    put(out, frame.strings.size(), 1);
    for (const auto& s : frame.strings) {
        put(out, s ? 1 : 0, 1);
        put(out, s ? s->size() : 0, 4);
        if (s) out += *s;
    }
    return out;
}

void FrameDecoder::feed(const char* data, std::size_t size) {
    if (failed()) return;
    if (offset_ > 0) {  // what next() consumed
        buffer_.erase(0, offset_);
        offset_ = 0;
    }
    buffer_.append(data, size);
}

std::optional<Frame> FrameDecoder::next() {
    if (failed()) return std::nullopt;
    const std::size_t available = buffer_.size() - offset_;
    if (available < 4) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
    const std::uint64_t length = get(p, 4);
    if (length < kHeader || length > kMaxFrameBody) {
        error_ = "frame length " + std::to_string(length) + " out of range";
        return std::nullopt;
    }
    if (available - 4 < length) return std::nullopt;
    const unsigned char* body = p + 4;
    const unsigned char* end = body + length;
    Frame frame;
    frame.op = static_cast<RunnerOp>(body[0]);
    if (!is_known(frame.op)) {
        error_ = "unknown op " + std::to_string(body[0]);
        return std::nullopt;
    }
    frame.flags = body[1];
    frame.seq = static_cast<std::uint32_t>(get(body + 2, 4));
    frame.status = static_cast<std::uint32_t>(get(body + 6, 4));
    frame.a = get(body + 10, 8);
    frame.b = get(body + 18, 8);
    const std::size_t count = body[26];
    if (count > kMaxFrameStrings) {
        error_ = "too many strings in a frame: " + std::to_string(count);
        return std::nullopt;
    }
    const unsigned char* cursor = body + kHeader;
    for (std::size_t i = 0; i < count; ++i) {
        if (end - cursor < 5) {
            error_ = std::string("truncated string in ") + op_name(frame.op);
            return std::nullopt;
        }
        const bool present = cursor[0] != 0;
        const std::uint64_t size = get(cursor + 1, 4);
        cursor += 5;
        if (cursor[-5] > 1 || (!present && size != 0) ||
            size > static_cast<std::uint64_t>(end - cursor)) {
            error_ = std::string("malformed string in ") + op_name(frame.op);
            return std::nullopt;
        }
        if (present) {
            frame.strings.emplace_back(std::string(reinterpret_cast<const char*>(cursor), size));
        } else {
            frame.strings.emplace_back(std::nullopt);
        }
        cursor += size;
    }
    if (cursor != end) {
        error_ = std::string("trailing bytes in ") + op_name(frame.op);
        return std::nullopt;
    }
    offset_ += 4 + length;
    return frame;
}

}  // namespace lucid::host::plugin_abi
