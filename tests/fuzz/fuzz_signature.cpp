// Signature texts (install/signed_statement.hpp): what an install command's source.signature
// and a `.sig` file beside an artifact carry, from the network or a drop-in directory.
//
// What must hold for any input:
//   - the parser either returns a statement or the error "signature invalid: not a lucid-sig-1
//     statement: ...", never both, never a crash;
//   - a parsed statement is written back (signature_text) to a text that parses to the same
//     statement, and its canonical statement is exactly what a fresh parse writes again (the
//     canonical form is a fixed point: what the signer signed is what the agent checks);
//   - the canonical statement is plain JSON with no whitespace, no escape and six members;
//   - a text the parser accepts is one the form test calls lucid-sig-1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "install/signed_statement.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

bool same(const lucid::host::install::SignedStatement& a,
          const lucid::host::install::SignedStatement& b) {
    const auto& x = a.statement;
    const auto& y = b.statement;
    return a.key_id == b.key_id && a.signature == b.signature && x.sha256 == y.sha256 &&
           x.dist == y.dist && x.version == y.version && x.component == y.component &&
           x.platform == y.platform && x.signed_at == y.signed_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::host::install;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_signed_statement(input);
    if (!parsed) {
        check(parsed.error().message.rfind("signature invalid: not a lucid-sig-1 statement: ", 0) ==
              0);
        return 0;
    }
    check(is_statement_form(input));
    const std::string canonical = canonical_statement(parsed.value().statement);
    check(canonical.front() == '{' && canonical.back() == '}');
    check(canonical.find_first_of(" \n\t\\") == std::string::npos);
    const std::string text = signature_text(parsed.value());
    const auto again = parse_signed_statement(text);
    check(again.ok() && same(again.value(), parsed.value()));
    check(canonical_statement(again.value().statement) == canonical);
    check(signature_text(again.value()) == text);
    return 0;
}
