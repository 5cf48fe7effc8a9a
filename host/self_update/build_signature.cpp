#include "self_update/build_signature.hpp"

#include "install/detached_signature.hpp"
#include "install/digest.hpp"

namespace lucid::host::self_update {
namespace fs = std::filesystem;

Expected<install::SignatureCheck> check_build_signature(
    const fs::path& binary, const std::string& version,
    const std::optional<std::string>& signature_text, const install::SignaturePolicy& policy) {
    std::string sha256;
    try {
        sha256 = install::sha256_file(binary);
    } catch (const std::exception& e) {
        return Error{Errc::io, e.what()};
    }
    auto checked = install::check_signature(binary, sha256, signature_text, policy);
    if (!checked) return checked;
    if (const auto& s = checked.value().statement) {
        auto mismatch = [](const std::string& what, const std::string& theirs,
                           const std::string& ours, const char* side) {
            return Error{Errc::invalid, "signature statement mismatch: " + what + " " + theirs +
                                            ", " + side + " " + ours};
        };
        if (s->dist != kAgentDist) return mismatch("dist", s->dist, kAgentDist, "artifact");
        if (s->version != version) return mismatch("version", s->version, version, "artifact");
        if (s->platform != policy.platform) {
            return mismatch("platform", s->platform, policy.platform, "agent");
        }
    }
    return checked;
}

std::optional<std::string> read_build_signature(const fs::path& binary) {
    // Through LocalFile (install/detached_signature.hpp): a FIFO planted there is refused, not
    // waited on by the launcher.
    return install::read_detached_signature(binary.string() + ".sig");
}

}  // namespace lucid::host::self_update
