// Which install channel owns a component, and the rules where the drop-in directory and MQTT
// cross (issue 13 #4; README "Drop-in directory"):
//
//  - A component belongs to the channel that installed it last. The registry entry's
//    `source` records it: `type` "dropin" is the drop-in directory; a source with
//    `desired_revision` (the revision that installed it) is the desired state (contract §4.11);
//    every other source (`inline`, `url`, `github`, `broker`) and an entry without a source
//    (the earlier agent's) is MQTT. So every registry ever written reads the same way.
//  - The desired state is MQTT's equal: a command may change a component the desired state
//    installed (the next revision applies the document again), and each takes a drop-in
//    component over the same way.
//  - A drop-in file takes a component installed over MQTT (or by the desired state) only with a
//    newer version; an older
//    or equal one is ignored (dropin_yields_to says why). Nor does an older drop-in file
//    downgrade a drop-in component: otherwise every start, which sees all files in name
//    order, would downgrade and upgrade again (or end at the older one: `x-10.0.0.so` sorts
//    before `x-9.0.0.so`).
//  - When MQTT uninstalls a drop-in component, or installs another version over it, the file
//    (and its `.sig`) is moved aside as the hidden `.<name>.uninstalled` / `.<name>.superseded`:
//    nothing is deleted, and a hidden name is never loaded again. An uninstall moves every other
//    file of that dist in the directory aside too: an older one would install it again.
//  - Deleting a drop-in file uninstalls only a component whose entry names that file.
//
// Thread: pure functions, except move_dropin_aside (renames files). Errors: Status; none thrown.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "lucid/registry/entry.hpp"

namespace lucid::host::components {

enum class Channel { mqtt, dropin, desired };

// The member of a stored source that marks the desired state's installs.
inline constexpr const char* kDesiredRevision = "desired_revision";

// The channel of an install source (the JSON stored as the entry's `source`).
Channel channel_of_source(const std::string& source_json);
inline Channel owner_of(const registry::Entry& entry) {
    return channel_of_source(entry.source_json);
}

// The drop-in file an install source names (`source.path`); empty when the source is not the
// drop-in directory. dropin_file_of: the file a registered component was installed from.
std::filesystem::path dropin_file_of_source(const std::string& source_json);
inline std::filesystem::path dropin_file_of(const registry::Entry& entry) {
    return dropin_file_of_source(entry.source_json);
}

// Whether a drop-in file of `file_version` must leave `installed` alone: nullopt when it may
// install over it (over an MQTT component: only a newer version; over a drop-in one: any
// version but an older one), else the reason, e.g.
//   drop-in /d/echo-1.0.0.so ignored: echo was installed over MQTT at version 2.0.0; a drop-in
//   file takes it over only with a newer version
//   drop-in /d/echo-1.0.0.so ignored: echo runs version 2.0.0 from the drop-in file
//   /d/echo-2.0.0.so; an older drop-in file does not downgrade it
std::optional<std::string> dropin_yields_to(const registry::Entry& installed,
                                            const std::string& file_version,
                                            const std::filesystem::path& file);

// Renames `file` to `.<name>.<suffix>` in its directory, and `file.sig` to `.<name>.sig.<suffix>`
// when there is one. Done too when `file` is gone already; the error names the file and the errno
// text.
Status move_dropin_aside(const std::filesystem::path& file, const std::string& suffix);

}  // namespace lucid::host::components
