// Steps 3-6 of the install pipeline (contract §4.1): get the artifact into staging, then verify it
// without running any of its code:
//
//   download or decode → sha256 → signature policy → ELF for this machine + manifest →
//   manifest agrees with the file name and the payload
//
// The result is a verified file in its own staging directory, ready to be placed; on any error
// the staging directory is removed. Nothing here touches the registry or loads a library.
//
// Thread: any (the slow command lane); blocking (downloads).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "install/component_files.hpp"
#include "install/download.hpp"
#include "install/install_request.hpp"
#include "install/plugin_manifest.hpp"
#include "install/signature.hpp"

namespace lucid::host::install {

struct VerifierSettings {
    DownloadLimits limits;
    SignaturePolicy signatures;
};

// A staged artifact that passed every check. Its directory is removed when it is destroyed,
// unless the file was moved out of it (placed) first.
class StagedArtifact {
  public:
    StagedArtifact(std::filesystem::path dir, std::filesystem::path file, std::string sha256,
                   PluginManifest manifest, SignatureCheck signature = {});
    ~StagedArtifact();
    StagedArtifact(StagedArtifact&& other) noexcept;
    StagedArtifact& operator=(StagedArtifact&&) = delete;
    StagedArtifact(const StagedArtifact&) = delete;

    const std::filesystem::path& file() const { return file_; }
    const std::string& sha256() const { return sha256_; }
    const PluginManifest& manifest() const { return manifest_; }
    // Which key vouched for it and in which form (unchecked: unsigned or no keys configured):
    // what a record of the signer (for revocation) or a version floor takes.
    const SignatureCheck& signature() const { return signature_; }

  private:
    std::filesystem::path dir_;
    std::filesystem::path file_;
    std::string sha256_;
    PluginManifest manifest_;
    SignatureCheck signature_;
};

// A staged artifact that passed every check, or why not (the install result's error; the staging
// directory is gone then).
using VerifyOutcome = Expected<StagedArtifact>;

using ProgressFn =
    std::function<void(const std::string& phase, std::uint64_t bytes, std::uint64_t total)>;

// Stages and verifies what `request` designates.
VerifyOutcome stage_and_verify(const InstallRequest& request, ComponentFiles& files,
                               const VerifierSettings& settings, const ProgressFn& progress);

// The bytes `source` designates in a staging directory of their own, under `name`, checked for
// nothing yet: the first step of stage_and_verify, for an artifact that is not a plugin (a build
// of the agent itself, self_update/). The caller removes `dir`. Errors as stage_and_verify's
// (`download failed: …`, `cannot stage the artifact: …`).
struct StagedFile {
    std::filesystem::path dir;
    std::filesystem::path file;
};
Expected<StagedFile> stage_source(const InstallSource& source, const std::string& name,
                                  ComponentFiles& files, const VerifierSettings& settings,
                                  const ProgressFn& progress);

// The same checks for a file already on this machine (the drop-in directory): opened by
// descriptor (common/local_file.hpp: a FIFO, a device or a file over `limits.max_bytes` is
// refused before anything is copied), then copied into staging from that descriptor, so that
// the checked bytes are the bytes that get loaded. A detached signature may sit beside it as
// `<file>.sig` (install/detached_signature.hpp: raw or base64).
VerifyOutcome stage_local_file(const std::filesystem::path& source, ComponentFiles& files,
                               const VerifierSettings& settings);

}  // namespace lucid::host::install
