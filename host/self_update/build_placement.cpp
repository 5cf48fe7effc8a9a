#include "self_update/build_placement.hpp"

#include <sys/stat.h>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "install/digest.hpp"
#include "install/elf_section_reader.hpp"
#include "self_update/agent_versions.hpp"
#include "self_update/build_signature.hpp"
#include "self_update/version_probe.hpp"

namespace lucid::host::self_update {
namespace fs = std::filesystem;

namespace {

constexpr fs::perms kProgramPerms = fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec;  // 0750, as the data directory

struct StagingDir {
    fs::path dir;
    ~StagingDir() {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
    }
};

// Everything but the download: the staged `file` is what runs if this passes.
Status check_build(const fs::path& file, const UpgradeRequest& request,
                   const PlacementSettings& settings) {
    std::string actual;
    try {
        actual = install::sha256_file(file);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot stage the artifact: ") + e.what()};
    }
    if (actual != request.source.sha256)
        return Error{Errc::invalid, "sha256 mismatch: got=" + actual};
    auto signed_by = check_build_signature(file, request.version, request.source.signature,
                                           settings.verifier.signatures);
    if (!signed_by) return signed_by.error();
    if (const std::string elf = check_elf_program(file); !elf.empty()) {
        return Error{Errc::invalid, elf};
    }
    fs::permissions(file, kProgramPerms);
    auto printed = probe_version(file, settings.version_timeout);
    if (!printed) return printed.error();
    const std::string says = printed_version(printed.value());
    if (says != request.version) {
        return Error{Errc::invalid, "version mismatch: the build says '" + says +
                                        "', the command '" + request.version + "'"};
    }
    return done();
}

// Moves the checked build into {data}/agent/<version>/ with its signature and the runner.
void place(const fs::path& file, const UpgradeRequest& request, const PlacementSettings& settings) {
    const fs::path target = version_dir(settings.data_dir, request.version);
    const fs::path fresh = versions_dir(settings.data_dir) / ("." + request.version + ".new");
    std::error_code ec;
    fs::remove_all(fresh, ec);
    // A directory left by an earlier attempt at this version is not running (the caller refuses
    // the running version and anything not newer): it is replaced.
    fs::remove_all(target, ec);
    make_directories(fresh, kDataDirMode);
    fs::rename(file, fresh / "lucid-agent");
    if (request.source.signature) {
        write_file_atomically(fresh / "lucid-agent.sig", *request.source.signature + "\n");
    }
    if (fs::exists(settings.runner, ec)) {
        fs::copy_file(settings.runner, fresh / "lucid-plugin-runner");
        fs::permissions(fresh / "lucid-plugin-runner", kProgramPerms);
    } else {
        logger("upgrade")->warn("no plugin runner at {}: the new build runs no isolated plugin",
                                settings.runner.string());
    }
    fs::rename(fresh, target);
}

}  // namespace

Status place_build(const UpgradeRequest& request, const std::string& request_id,
                   const PlacementSettings& settings, const install::ProgressFn& progress) {
    install::ComponentFiles files(settings.data_dir);
    auto staged =
        install::stage_source(request.source, "lucid-agent", files, settings.verifier, progress);
    if (!staged) return staged.error();
    StagingDir cleanup{staged.value().dir};
    if (Status checked = check_build(staged.value().file, request, settings); !checked) {
        return checked;
    }
    try {
        auto state = load_agent_versions(settings.data_dir);
        if (!state) return Error{Errc::io, "cannot place the build: " + state.error().message};
        place(staged.value().file, request, settings);
        AgentVersions next = state.value();
        next.pending = PendingVersion{request.version, 0, 1, request_id};
        // The commit point: from here the next `lucid-agent run` starts the new build.
        save_agent_versions(settings.data_dir, next);
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove_all(version_dir(settings.data_dir, request.version), ec);
        return Error{Errc::io, std::string("cannot place the build: ") + e.what()};
    }
    return done();
}

}  // namespace lucid::host::self_update
