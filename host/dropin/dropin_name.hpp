// What the drop-in directory does with a file name (contract §7): an artifact to report, the
// detached signature of one, a name to reject, or a name to ignore silently.
//
// Ignored silently: hidden files (leading '.') and temporary names ending in `.tmp`, `.part` or
// `~`. This is how an operator copies a file in safely: copy it as `name.so.part` (never
// reported, however long the copy takes), then `mv name.so.part name.so`; the rename is atomic,
// so the watcher only ever sees the complete file.
//
// Pure function; thread-safe; never throws.
#pragma once

#include <string>
#include <string_view>

namespace lucid::host::dropin {

enum class DropinNameKind {
    artifact,   // parses as `<dist>-<version>[-<platform tag>].so`
    signature,  // `<artifact name>.sig`: the detached signature of that artifact, not one itself
    rejected,   // does not parse; `reason` says why
    ignored,    // hidden or temporary, or a `.so.sig` of a name that does not parse: not reported
};

struct DropinName {
    DropinNameKind kind = DropinNameKind::ignored;
    std::string reason;    // lucid::registry::parse_artifact_name's message when rejected
    std::string artifact;  // for a signature: the artifact's basename (the name without `.sig`)
};

// `file_name` is a basename (as inotify and directory listings give it).
//   classify_dropin_name("lucid_agent_cpu-1.0.0.so").kind == DropinNameKind::artifact
//   classify_dropin_name("lucid_agent_cpu-1.0.0.so.part").kind == DropinNameKind::ignored
//   classify_dropin_name("lucid_agent_cpu-1.0.0.so.sig").artifact == "lucid_agent_cpu-1.0.0.so"
//   classify_dropin_name("notes.txt").kind == DropinNameKind::rejected
DropinName classify_dropin_name(std::string_view file_name);

}  // namespace lucid::host::dropin
