// The runner protocol's decoder (plugin_abi/runner_protocol.hpp): the agent reads what a
// lucid-plugin-runner child sends, and that child runs a plugin nobody vouches for.
//
// What must hold for any input:
//   - decoding says either frames or why not, never crashes, never reads past the input;
//   - every frame decoded encodes to bytes that decode to the same frame;
//   - the input fed in two pieces (split at its first byte's value) decodes to the same frames
//     and the same verdict as fed whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plugin_abi/runner_protocol.hpp"

namespace {

using lucid::host::plugin_abi::Frame;
using lucid::host::plugin_abi::FrameDecoder;

void check(bool condition) {
    if (!condition) __builtin_trap();
}

bool same(const Frame& a, const Frame& b) {
    return a.op == b.op && a.flags == b.flags && a.seq == b.seq && a.status == b.status &&
           a.a == b.a && a.b == b.b && a.strings == b.strings;
}

std::vector<Frame> decode_all(FrameDecoder& decoder) {
    std::vector<Frame> out;
    while (auto frame = decoder.next()) out.push_back(std::move(*frame));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    FrameDecoder whole;
    whole.feed(bytes, size);
    const std::vector<Frame> frames = decode_all(whole);

    for (const Frame& frame : frames) {
        const std::string encoded = lucid::host::plugin_abi::encode(frame);
        check(encoded.size() == lucid::host::plugin_abi::encoded_size(frame));
        FrameDecoder again;
        again.feed(encoded.data(), encoded.size());
        auto back = again.next();
        check(back.has_value() && same(*back, frame) && !again.failed());
    }

    const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    FrameDecoder pieces;
    pieces.feed(bytes, cut);
    std::vector<Frame> split = decode_all(pieces);
    pieces.feed(bytes + cut, size - cut);
    for (auto& f : decode_all(pieces)) split.push_back(std::move(f));
    check(split.size() == frames.size());
    for (std::size_t i = 0; i < split.size(); ++i) check(same(split[i], frames[i]));
    check(pieces.failed() == whole.failed());
    return 0;
}
