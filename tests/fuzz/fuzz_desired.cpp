// The desired state (contract/desired_document.hpp) and core/deployment
// (contract/deployment_report.hpp): a retained document anyone allowed to write it may have
// written, and the state file the agent reads back at start.
//
// What must hold for any input:
//   - parsing says either a document or why not (an error starting "invalid desired state: "),
//     never crashes;
//   - a parsed document has a revision in range, valid component ids, no id both kept and
//     removed, semantic versions;
//   - a deployment read from any bytes writes back to a payload that reads the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "contract/deployment_report.hpp"
#include "contract/desired_document.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/semver.hpp"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    using namespace lucid::host::contract;
    auto doc = parse_desired_document(input);
    if (doc) {
        const auto& d = doc.value();
        check(d.revision >= 1 && d.revision <= kMaxDesiredRevision);
        for (const auto& [id, component] : d.components) {
            check(lucid::registry::is_valid_identifier(id));
            check(lucid::registry::Version::parse(component.version).has_value());
            (void)source_for_platform(component.sources, "linux_x86_64");
        }
        for (const auto& id : d.remove) {
            check(lucid::registry::is_valid_identifier(id) && d.components.count(id) == 0);
        }
    } else {
        check(doc.error().message.rfind("invalid desired state: ", 0) == 0);
    }
    auto deployment = parse_deployment(input);
    if (deployment) {
        const auto now = Clock::now();
        const std::string written = deployment_payload(deployment.value(), now);
        auto again = parse_deployment(written);
        check(again.ok());
        check(deployment_payload(again.value(), now) == written);
    }
    return 0;
}
