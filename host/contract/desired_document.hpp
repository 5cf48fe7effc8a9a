// The desired state of one agent (contract §4.11): the retained document on
// `{root}/{agent_id}/desired`, parsed and checked. Pure; lucidctl checks a document with it before
// publishing it, the agent before applying it.
//
//   {"revision": 7, "exclusive": false,
//    "components": {"cpu": {"version": "1.2.0", "enabled": true, "config": {},
//                           "artifacts": {"linux_x86_64": {"source": {...}}}}},
//    "remove": ["old-thing"],
//    "agent": {"version": "0.3.0", "artifacts": {"linux_x86_64": {"source": {...}}}}}
//
//   auto doc = parse_desired_document(payload);
//   if (!doc) report(doc.error().message);  // "invalid desired state: revision must be ..."
//
// Unknown fields are refused (a typo'd `enabeld` must not silently mean "enabled"); a field a
// later agent understands is refused by this one rather than ignored.
// Thread: pure functions. Errors: Expected; nothing throws but bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "lucid/registry/entry.hpp"

namespace lucid::host::contract {

// Revisions are JSON integers an IEEE double holds exactly (every JSON library reads them).
inline constexpr std::uint64_t kMaxDesiredRevision = (1ull << 53) - 1;

struct DesiredComponent {
    std::string version;
    bool enabled = true;
    std::optional<std::string> config_json;  // the whole config; none: leave it as it is
    // Where it runs (in_process | process) and its limits; none: leave them as they are.
    std::optional<std::string> isolation;
    std::optional<registry::Limits> limits;
    // The child's user and extra groups ({}: the agent's user); none: leave it as it is.
    std::optional<registry::RunAs> run_as;
    // May go below the dist's version floor (contract §8.12); default false.
    bool allow_downgrade = false;
    // The lucid-permit-1 text that goes with it under LUCID_SIGNATURE_POLICY=required (§8.13).
    std::optional<std::string> rollback_permit;
    // platform tag → the install `source` object (JSON), checked by the install pipeline.
    std::map<std::string, std::string> sources;
};

// The agent itself (contract §4.11): the build an agent whose version differs updates itself to
// (core/cmd/upgrade's pipeline, §4.16), by platform like a component's artifacts.
struct DesiredAgent {
    std::string version;
    std::map<std::string, std::string> sources;  // platform tag → the upgrade `source` (JSON)
};

struct DesiredDocument {
    std::uint64_t revision = 0;
    bool exclusive = false;
    std::map<std::string, DesiredComponent> components;  // by component id
    std::vector<std::string> remove;                     // component ids
    std::optional<DesiredAgent> agent;                   // none: the agent stays as it is
    // The rollout that wrote the document (lucidctl rollout start), or whose abort it is
    // (rollout abort, a failure's rollback): the version floors hold a rollout's raise until
    // anything but its abort follows (install/trust_state.hpp). "" when none.
    std::string rollout;
    std::string rollback_of;
};

// Every error starts with "invalid desired state: ", e.g.
//   invalid desired state: invalid JSON: Missing a name for object member. at offset 1
//   invalid desired state: revision must be an integer from 1 to 9007199254740991
//   invalid desired state: components.cpu.version '1.2' is not a semantic version
//   invalid desired state: unknown field 'enabeld' in components.cpu
//   invalid desired state: 'cpu' is both in components and in remove
Expected<DesiredDocument> parse_desired_document(std::string_view payload);

// A rollout id (contract §4.12): [a-z0-9-]{1,64}.
bool valid_rollout_id(const std::string& id);

// A platform tag as artifacts are keyed by: [a-z][a-z0-9_]{0,63} (linux_x86_64, linux_aarch64).
bool valid_platform_tag(const std::string& tag);

// The source of `platform` among a component's (or the agent's) sources, or the error that
// reports it:
//   no artifact for platform linux_x86_64 (the document has linux_aarch64)
Expected<std::string> source_for_platform(const std::map<std::string, std::string>& sources,
                                          const std::string& platform);

}  // namespace lucid::host::contract
