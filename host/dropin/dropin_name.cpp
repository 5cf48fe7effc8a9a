#include "dropin/dropin_name.hpp"

#include <stdexcept>

#include "lucid/registry/dist_name.hpp"

namespace lucid::host::dropin {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Names editors, downloaders and careful operators use while a file is still being written.
bool is_hidden_or_temporary(std::string_view name) {
    return name.empty() || name.front() == '.' || ends_with(name, ".tmp") ||
           ends_with(name, ".part") || ends_with(name, "~");
}

}  // namespace

DropinName classify_dropin_name(std::string_view file_name) {
    if (is_hidden_or_temporary(file_name)) return {DropinNameKind::ignored, {}, {}};
    constexpr std::string_view sig = ".sig";
    if (ends_with(file_name, ".so.sig")) {
        // Never an artifact, never "bad": the artifact beside it is what gets reported (a
        // signature of a name that does not parse adds nothing to that name's own rejection).
        const std::string_view stem = file_name.substr(0, file_name.size() - sig.size());
        if (classify_dropin_name(stem).kind != DropinNameKind::artifact) return {};
        return {DropinNameKind::signature, {}, std::string(stem)};
    }
    try {
        registry::parse_artifact_name(file_name);
        return {DropinNameKind::artifact, {}, {}};
    } catch (const std::invalid_argument& e) {
        return {DropinNameKind::rejected, e.what(), {}};
    }
}

}  // namespace lucid::host::dropin
