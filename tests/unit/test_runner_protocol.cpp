// The runner protocol's codec (host/plugin_abi/runner_protocol.hpp): what the agent and a
// lucid-plugin-runner child say to each other. Round trips, absent strings, streams cut
// anywhere, and the malformed streams a hostile plugin could send.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "plugin_abi/runner_protocol.hpp"

using namespace lucid::host::plugin_abi;

namespace {

Frame sample() {
    Frame f;
    f.op = RunnerOp::subscribe;
    f.flags = kNested | kHasOut;
    f.seq = 42;
    f.status = 7;
    f.a = 0xfffffffffffffffeull;
    f.b = 3;
    f.strings = {std::string("in/#"), std::nullopt, std::string(), std::string("a\0b", 3)};
    return f;
}

void check_same(const Frame& a, const Frame& b) {
    CHECK(a.op == b.op);
    CHECK(a.flags == b.flags);
    CHECK(a.seq == b.seq);
    CHECK(a.status == b.status);
    CHECK(a.a == b.a);
    CHECK(a.b == b.b);
    CHECK(a.strings == b.strings);
}

// A frame's bytes with the body length field replaced.
std::string with_length(std::string bytes, std::uint32_t length) {
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    return bytes;
}

}  // namespace

TEST_CASE("a frame encodes and decodes to itself, absent strings told apart from empty ones") {
    const Frame f = sample();
    const std::string bytes = encode(f);
    CHECK(bytes.size() == encoded_size(f));
    FrameDecoder in;
    in.feed(bytes.data(), bytes.size());
    auto back = in.next();
    REQUIRE(back);
    check_same(*back, f);
    CHECK(back->c_str(1) == nullptr);
    REQUIRE(back->c_str(2) != nullptr);
    CHECK(std::string(back->c_str(2)).empty());
    CHECK(back->text(9).empty());  // beyond the strings: empty
    CHECK_FALSE(in.next());
    CHECK_FALSE(in.failed());
}

TEST_CASE("frames arriving a byte at a time, or several at once, decode the same") {
    std::string stream;
    for (int i = 0; i < 5; ++i) {
        Frame f = sample();
        f.seq = static_cast<std::uint32_t>(i);
        stream += encode(f);
    }
    FrameDecoder bytewise;
    std::vector<Frame> got;
    for (char c : stream) {
        bytewise.feed(&c, 1);
        while (auto f = bytewise.next()) got.push_back(*f);
    }
    REQUIRE(got.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(got[i].seq == static_cast<std::uint32_t>(i));
    FrameDecoder whole;
    whole.feed(stream.data(), stream.size());
    int n = 0;
    while (whole.next()) ++n;
    CHECK(n == 5);
}

TEST_CASE("a malformed stream fails for good, with the reason") {
    const std::string good = encode(sample());
    struct Case {
        std::string bytes;
        std::string error;
    };
    std::string unknown_op = good;
    unknown_op[4] = static_cast<char>(99);
    std::string too_many = good;
    too_many[4 + 26] = static_cast<char>(kMaxFrameStrings + 1);
    std::string bad_present = good;
    bad_present[4 + 27] = 2;  // the first string's presence byte
    const Case cases[] = {
        {with_length(good, 3), "frame length 3 out of range"},
        {with_length(good, kMaxFrameBody + 1),
         "frame length " + std::to_string(kMaxFrameBody + 1) + " out of range"},
        {unknown_op, "unknown op 99"},
        {too_many, "too many strings in a frame: 65"},
        {bad_present, "malformed string in subscribe"},
        {with_length(good, static_cast<std::uint32_t>(good.size() - 4 - 1)),
         "malformed string in subscribe"},
        {with_length(good + "x", static_cast<std::uint32_t>(good.size() - 4 + 1)),
         "trailing bytes in subscribe"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.error);
        FrameDecoder in;
        in.feed(c.bytes.data(), c.bytes.size());
        CHECK_FALSE(in.next());
        CHECK(in.failed());
        CHECK(in.error() == c.error);
        // Nothing after a failure is read: the stream cannot be resynchronised.
        in.feed(good.data(), good.size());
        CHECK_FALSE(in.next());
    }
}

TEST_CASE("a string whose length runs past the frame is refused, not read") {
    Frame f;
    f.op = RunnerOp::publish;
    f.strings = {std::string("topic")};
    std::string bytes = encode(f);
    // The string's length field says 1000 bytes; the frame holds 5.
    const std::size_t length_at = 4 + 27 + 1;
    bytes[length_at] = static_cast<char>(1000 & 0xff);
    bytes[length_at + 1] = static_cast<char>(1000 >> 8);
    FrameDecoder in;
    in.feed(bytes.data(), bytes.size());
    CHECK_FALSE(in.next());
    CHECK(in.error() == "malformed string in publish");
}

TEST_CASE("every op has a name; unknown numbers have none") {
    for (int n = 0; n < 256; ++n) {
        const auto op = static_cast<RunnerOp>(n);
        CHECK(is_known(op) == (std::string(op_name(op)) != "unknown"));
    }
    CHECK(std::string(op_name(RunnerOp::call_timer)) == "call_timer");
    CHECK_FALSE(is_known(static_cast<RunnerOp>(0)));
}

TEST_CASE("protocol 3 carries the ABI 1.1 calls: a metric's value bit for bit, subscribe flags") {
    CHECK(kRunnerProtocolVersion == 3);
    Frame metric;
    metric.op = RunnerOp::publish_metric;
    metric.seq = 9;
    const double value = -0.1;
    std::memcpy(&metric.a, &value, sizeof value);
    metric.strings = {std::string("temp_c"), std::nullopt};
    Frame subscribe;
    subscribe.op = RunnerOp::subscribe_with;
    subscribe.flags = kHasOut;
    subscribe.status = 1;  // LUCID_SUBSCRIBE_DEDUP
    subscribe.a = 1;
    subscribe.b = 5;
    subscribe.strings = {std::string("/site/#")};
    const std::string bytes = encode(metric) + encode(subscribe);
    FrameDecoder in;
    in.feed(bytes.data(), bytes.size());
    auto first = in.next();
    REQUIRE(first);
    check_same(*first, metric);
    double back = 0;
    std::memcpy(&back, &first->a, sizeof back);
    CHECK(back == value);
    CHECK(first->c_str(1) == nullptr);
    auto second = in.next();
    REQUIRE(second);
    check_same(*second, subscribe);
    CHECK(std::string(op_name(RunnerOp::publish_metric)) == "publish_metric");
    CHECK(std::string(op_name(RunnerOp::subscribe_with)) == "subscribe_with");
}
