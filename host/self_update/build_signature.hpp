// The signature of an agent build (contract §8.15): `lucid-agent.sig` beside the binary in
// {data}/agent/{version}/, the same text an upgrade command's `source.signature` carried
// (contract §8.11: a lucid-sig-1 statement or, deprecated, a bare signature). Checked when the
// build is placed and, when signatures are required, again by the launcher before it execs the
// build: the agent's own user can write {data}, so what it placed is not trusted by where it is.
//
// A lucid-sig-1 statement must name the dist `lucid-agent`, the build's version and this agent's
// platform; its `component` is `lucid-agent` too. Thread: any. Errors: returned, the contract's
// text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "install/signature.hpp"

namespace lucid::host::self_update {

inline constexpr const char* kAgentDist = "lucid-agent";

// `binary`'s signature text, when given, against `policy` (install/signature.hpp), then the
// statement's claims against `version`:
//   signature statement mismatch: dist <d>, artifact lucid-agent
//   signature statement mismatch: version <v>, artifact <version>
//   signature statement mismatch: platform <p>, agent <platform>
Expected<install::SignatureCheck> check_build_signature(
    const std::filesystem::path& binary, const std::string& version,
    const std::optional<std::string>& signature_text, const install::SignaturePolicy& policy);

// The signature kept beside a placed build: `<binary>.sig`, nullopt when there is none. Throws
// LocalFileError when it is there but cannot be read.
std::optional<std::string> read_build_signature(const std::filesystem::path& binary);

}  // namespace lucid::host::self_update
