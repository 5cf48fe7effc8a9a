#include "install/artifact_verifier.hpp"

#include <mutex>
#include <set>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/local_file.hpp"
#include "common/logging.hpp"
#include "install/detached_signature.hpp"
#include "install/digest.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;

StagedArtifact::StagedArtifact(fs::path dir, fs::path file, std::string sha256,
                               PluginManifest manifest, SignatureCheck signature)
    : dir_(std::move(dir)),
      file_(std::move(file)),
      sha256_(std::move(sha256)),
      manifest_(std::move(manifest)),
      signature_(std::move(signature)) {}

StagedArtifact::StagedArtifact(StagedArtifact&& other) noexcept
    : dir_(std::move(other.dir_)),
      file_(std::move(other.file_)),
      sha256_(std::move(other.sha256_)),
      manifest_(std::move(other.manifest_)),
      signature_(std::move(other.signature_)) {
    other.dir_.clear();
}

StagedArtifact::~StagedArtifact() {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

namespace {

// The deprecation of bare signatures is said once per artifact (by its bytes), not at every
// drop-in rescan or desired-state retry of the same file. Bounded: a long-running agent that
// saw thousands of bare-signed artifacts forgets the oldest and may say it again.
void warn_bare_signature_once(const std::string& name, const std::string& sha256,
                              const std::string& key_id) {
    static std::mutex mutex;
    static std::set<std::string> warned;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (warned.size() >= 1024) warned.clear();
        if (!warned.insert(sha256).second) return;
    }
    logger("install")->warn(
        "{} (sha256 {}) carries a bare signature (key {}): deprecated, re-sign it with lucidctl "
        "sign for a lucid-sig-1 statement; LUCID_ACCEPT_BARE_SIGNATURES=no refuses it",
        name, sha256, key_id);
}

// The checks shared by every source once the bytes are in `file` (inside `dir`).
VerifyOutcome verify_staged(const fs::path& dir, const fs::path& file,
                            const std::string& expected_sha256,
                            const std::optional<std::string>& signature,
                            const VerifierSettings& settings) {
    auto fail = [&](std::string error) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        return VerifyOutcome(Error{Errc::invalid, std::move(error)});
    };
    const std::string actual = sha256_file(file);
    if (actual != expected_sha256) return fail("sha256 mismatch: got=" + actual);
    // The signature before the manifest is parsed: a lucid-sig-1 statement binds the bytes by
    // their sha256, so what is parsed next is what its signer signed.
    auto signed_by = check_signature(file, actual, signature, settings.signatures);
    if (!signed_by) return fail(signed_by.error().message);
    // read_manifest refuses anything that is not an ELF shared object for this machine.
    auto manifest = read_manifest(file);
    if (!manifest.ok()) return fail(manifest.error);
    if (const auto& statement = signed_by.value().statement) {
        if (Status claims =
                check_statement(*statement, *manifest.manifest, settings.signatures.platform);
            !claims) {
            return fail(claims.error().message);
        }
    }
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        return fail(checked.error().message);
    }
    if (signed_by.value().form == SignatureCheck::Form::bare) {
        warn_bare_signature_once(file.filename().string(), actual, signed_by.value().key_id);
    }
    return StagedArtifact(dir, file, actual, std::move(*manifest.manifest),
                          std::move(signed_by.value()));
}

// The source's bytes into `file`: downloaded, copied (file://) or decoded. Returns the URLs the
// download went through (none for inline and broker bytes). Throws DownloadError or what the
// disk said.
std::vector<std::string> fetch_into(const InstallSource& source, const fs::path& file,
                                    const VerifierSettings& settings, const ProgressFn& progress) {
    if (source.type == SourceType::inline_data || source.type == SourceType::broker) {
        // Atomic: a staged file under its real name is always complete.
        write_file_atomically(file, source.inline_data, real_file_ops(), kDataFileMode);
        return {};
    }
    return download_to_file(source.url, file, settings.limits,
                            [&](std::uint64_t bytes, std::uint64_t total) {
                                if (progress) progress("download", bytes, total);
                            });
}

fs::path fresh_staging_dir(ComponentFiles& files) {
    // One directory per install, so the artifact keeps its real file name: the manifest check
    // compares the manifest with that name.
    const fs::path dir = files.new_staging_path("install");
    make_directories(dir, kStagingDirMode);
    return dir;
}

}  // namespace

VerifyOutcome stage_and_verify(const InstallRequest& request, ComponentFiles& files,
                               const VerifierSettings& settings, const ProgressFn& progress) {
    fs::path dir;
    fs::path file;
    try {
        dir = fresh_staging_dir(files);
        // A download link names its artifact by where it led: it lands under a hidden name
        // first and gets its real one (the name the manifest is checked against) below.
        const bool named_by_download = request.source.file_name.empty();
        file = dir / (named_by_download ? ".download" : request.source.file_name);
        const auto urls = fetch_into(request.source, file, settings, progress);
        if (named_by_download) {
            const auto named = artifact_name_from_urls(urls, request.version);
            if (named.file_name.empty()) {
                std::error_code ec;
                fs::remove_all(dir, ec);
                return Error{Errc::invalid, named.error};
            }
            const fs::path downloaded = file;
            file = dir / named.file_name;
            fs::rename(downloaded, file);
        }
    } catch (const DownloadError& e) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        return Error{Errc::io, e.what()};  // "download failed: ..." says what it was doing

    } catch (const std::exception& e) {
        // A full or read-only disk: the error names the step, the path and the errno's text.
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
        return Error{Errc::io, std::string("cannot stage the artifact: ") + e.what()};
    }
    return verify_staged(dir, file, request.source.sha256, request.source.signature, settings);
}

Expected<StagedFile> stage_source(const InstallSource& source, const std::string& name,
                                  ComponentFiles& files, const VerifierSettings& settings,
                                  const ProgressFn& progress) {
    fs::path dir;
    try {
        dir = fresh_staging_dir(files);
        fetch_into(source, dir / name, settings, progress);
        return StagedFile{dir, dir / name};
    } catch (const DownloadError& e) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        return Error{Errc::io, e.what()};
    } catch (const std::exception& e) {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
        return Error{Errc::io, std::string("cannot stage the artifact: ") + e.what()};
    }
}

VerifyOutcome stage_local_file(const fs::path& source, ComponentFiles& files,
                               const VerifierSettings& settings) {
    std::optional<Error> failed;
    fs::path dir;
    std::optional<std::string> signature;
    try {
        // Opened and checked (regular file, size cap) before anything is copied: a FIFO would
        // block the drop-in lane, a huge sparse file would fill the staging disk.
        const auto artifact = LocalFile::open(source, settings.limits.max_bytes);
        signature = read_detached_signature(source.string() + ".sig");
        dir = fresh_staging_dir(files);
        artifact.copy_to(dir / source.filename(), kDataFileMode);
    } catch (const LocalFileError& e) {
        failed = Error{Errc::invalid, e.what()};
    } catch (const std::exception& e) {
        failed = Error{Errc::io, std::string("cannot stage the artifact: ") + e.what()};
    }
    if (failed) {
        std::error_code ignored;
        if (!dir.empty()) fs::remove_all(dir, ignored);
        return *failed;
    }
    const fs::path file = dir / source.filename();
    // The copy is what gets loaded: its own hash is the one recorded.
    VerifyOutcome verified = verify_staged(dir, file, sha256_file(file), signature, settings);
    // The operator knows the drop-in file, not a staging copy that is gone already (and has
    // another name at each attempt, which would make the same refusal look new every time).
    if (verified) return verified;
    const std::string staged = file.string();
    std::string& error = verified.error().message;
    for (auto at = error.find(staged); at != std::string::npos;
         at = error.find(staged, at + source.string().size())) {
        error.replace(at, staged.size(), source.string());
    }
    return verified;
}

}  // namespace lucid::host::install
