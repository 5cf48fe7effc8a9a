// Rollback permits (install/rollback_permit.hpp): what an install command's or a desired
// component's `rollback_permit` carries, from the network.
//
// What must hold for any input:
//   - the parser either returns a permit or the error "rollback permit invalid: not a
//     lucid-permit-1 permit: ...", never both, never a crash;
//   - a parsed permit is written back (permit_text) to a text that parses to the same permit,
//     and its canonical permit is a fixed point (what the signer signed is what the agent checks);
//   - the canonical permit is plain JSON with no whitespace and no escape;
//   - verifying against no trusted keys never succeeds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "install/rollback_permit.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

bool same(const lucid::host::install::SignedPermit& a,
          const lucid::host::install::SignedPermit& b) {
    return a.key_id == b.key_id && a.signature == b.signature && a.permit.dist == b.permit.dist &&
           a.permit.version == b.permit.version && a.permit.expires_at == b.permit.expires_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::install;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_rollback_permit(input);
    check(!verify_rollback_permit(input, TrustedKeySet{}, {}, std::chrono::system_clock::now()));
    if (!parsed) {
        check(parsed.error().message.rfind("rollback permit invalid: not a lucid-permit-1 permit: ",
                                           0) == 0);
        return 0;
    }
    const std::string canonical = canonical_permit(parsed.value().permit);
    check(canonical.front() == '{' && canonical.back() == '}');
    check(canonical.find_first_of(" \n\t\\") == std::string::npos);
    const std::string text = permit_text(parsed.value());
    const auto again = parse_rollback_permit(text);
    check(again.ok() && same(again.value(), parsed.value()));
    check(canonical_permit(again.value().permit) == canonical);
    check(permit_text(again.value()) == text);
    return 0;
}
