#include "self_update/launcher.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "common/logging.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/data_dir_lock.hpp"
#include "self_update/build_signature.hpp"
#include "self_update/launch_decision.hpp"

namespace lucid::host::self_update {
namespace fs = std::filesystem;

namespace {

std::string now_text() { return contract::utc_timestamp(contract::Clock::now()); }

// Why `version` may not be started, or "" when it may: the binary is there and, when signatures
// are required, its signature verifies now.
std::string refusal(const LaunchSettings& settings, const std::string& version) {
    const fs::path binary = version_binary(settings.data_dir, version);
    if (::access(binary.c_str(), X_OK) != 0) {
        return "cannot start " + binary.string() + ": " + std::strerror(errno);
    }
    if (!settings.signatures) return "";
    try {
        auto checked = check_build_signature(binary, version, read_build_signature(binary),
                                             *settings.signatures);
        if (!checked) return "refused before exec: " + checked.error().message;
    } catch (const std::exception& e) {
        return std::string("refused before exec: ") + e.what();
    }
    return "";
}

void exec_build(const LaunchSettings& settings, const std::string& version, char** argv) {
    const fs::path binary = version_binary(settings.data_dir, version);
    std::vector<char*> args;
    std::string program = binary.string();
    args.push_back(program.data());
    for (char** a = argv + 1; *a != nullptr; ++a) args.push_back(*a);
    args.push_back(nullptr);
    ::setenv(kLaunchedEnv, version.c_str(), 1);
    ::execv(program.c_str(), args.data());
    const int error = errno;
    ::unsetenv(kLaunchedEnv);
    errno = error;
}

// Saves `state`; false (logged) when it cannot be: then a pending build is not started, since
// its attempt would not be counted.
bool save(const LaunchSettings& settings, const AgentVersions& state) {
    try {
        save_agent_versions(settings.data_dir, state);
        return true;
    } catch (const std::exception& e) {
        logger("launcher")
            ->error("cannot save {}: {}", state_path(settings.data_dir).string(), e.what());
        return false;
    }
}

void remove_build(const LaunchSettings& settings, const std::string& version) {
    std::error_code ec;
    fs::remove_all(version_dir(settings.data_dir, version), ec);
}

}  // namespace

bool launched_by_launcher() { return std::getenv(kLaunchedEnv) != nullptr; }

void launch(const LaunchSettings& settings, char** argv) {
    if (launched_by_launcher()) return;
    auto log = logger("launcher");
    // The data directory's lock while the launcher reads and changes state.json: a second
    // `lucid-agent run` (by hand, beside the service) must not roll back or delete the build
    // the running agent is (a walk finding). Released before the agent takes it: by the exec
    // (the descriptors are close-on-exec) or when this returns.
    std::optional<registry::DataDirLock> lock;
    try {
        lock.emplace(settings.data_dir);
    } catch (const registry::DataDirInUse&) {
        // The agent says who holds it, and exits; nothing here is touched.
        return;
    } catch (const std::exception&) {
        // No directory yet (a first start), or not openable: no state to protect; the agent
        // reports the directory itself.
    }
    auto loaded = load_agent_versions(settings.data_dir);
    if (!loaded) {
        // Never a reason not to start: the packaged build runs, and says why.
        log->error("self-updated builds ignored: {}", loaded.error().message);
        return;
    }
    AgentVersions state = std::move(loaded.value());
    // Twice at most: a pending build that cannot be started is rolled back, then the committed
    // one is tried.
    for (int round = 0; round < 2; ++round) {
        LaunchDecision d = decide_launch(state, settings.own_version, now_text());
        if (!d.exec_version) {
            if (d.save && save(settings, d.state) && d.state.last_upgrade &&
                d.state.last_upgrade->outcome == kRolledBack && !d.state.pending) {
                remove_build(settings, d.state.last_upgrade->version);
            }
            log->info("running the packaged lucid-agent {}: {}", settings.own_version, d.why);
            return;
        }
        const std::string version = *d.exec_version;
        if (const std::string why = refusal(settings, version); !why.empty()) {
            log->error("lucid-agent {}: {}", version, why);
            if (!d.exec_pending) return;  // the committed build: the packaged one runs
            state = roll_back(state, why, now_text());
            if (save(settings, state)) remove_build(settings, version);
            continue;
        }
        if (d.save && !save(settings, d.state)) return;
        log->info("starting lucid-agent {} ({})", version, d.why);
        log->flush();  // exec discards what is buffered
        exec_build(settings, version, argv);
        const std::string why = "cannot exec " +
                                version_binary(settings.data_dir, version).string() + ": " +
                                std::strerror(errno);
        log->error("{}", why);
        if (!d.exec_pending) return;
        state = roll_back(d.state, why, now_text());
        save(settings, state);
    }
}

}  // namespace lucid::host::self_update
