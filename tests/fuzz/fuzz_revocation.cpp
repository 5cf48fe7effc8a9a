// Revocation lists (install/revocation_list.hpp): what core/cmd/keys/revoke carries, from the
// network. Properties:
//   - the parser either returns a list or the error "revocation invalid: not a lucid-revoke-1
//     list: ...", never both, never a crash;
//   - a parsed list holds 1 to 15 distinct key ids of 16 lowercase hex digits;
//   - it is written back (revocation_text) to a text that parses to the same list, and its
//     canonical revocation is a fixed point (what the signer signed is what the agent checks);
//   - verification with no trusted key never succeeds.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "install/revocation_list.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::install;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_revocation_list(input);
    check(!verify_revocation_list(input, TrustedKeySet{}, {}));
    if (!parsed) {
        check(parsed.error().message.rfind("revocation invalid: not a lucid-revoke-1 list: ", 0) ==
              0);
        return 0;
    }
    const auto& ids = parsed.value().revocation.key_ids;
    check(!ids.empty() && ids.size() <= 15);
    check(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    for (const auto& id : ids) check(id.size() == 16);
    const std::string canonical = canonical_revocation(parsed.value().revocation);
    check(canonical.rfind("{\"key_ids\":", 0) == 0 && canonical.back() == '}');
    check(canonical.find_first_of(" \n\t\\") == std::string::npos);
    const std::string text = revocation_text(parsed.value());
    const auto again = parse_revocation_list(text);
    check(again.ok() && again.value().revocation.key_ids == ids &&
          again.value().key_id == parsed.value().key_id &&
          again.value().signature == parsed.value().signature);
    check(canonical_revocation(again.value().revocation) == canonical);
    check(revocation_text(again.value()) == text);
    return 0;
}
