#include "self_update/commit_window.hpp"

#include <cstdlib>

#include "common/logging.hpp"
#include "contract/timestamp.hpp"
#include "self_update/launch_decision.hpp"
#include "self_update/launcher.hpp"

namespace lucid::host::self_update {
namespace fs = std::filesystem;

std::unique_ptr<CommitWindow> CommitWindow::start_if_pending(const fs::path& data_dir,
                                                             const std::string& version,
                                                             std::chrono::milliseconds window,
                                                             GiveUp give_up) {
    const char* launched = std::getenv(kLaunchedEnv);
    if (launched == nullptr || version != launched) return nullptr;
    const auto state = load_agent_versions(data_dir);
    if (!state || !state.value().pending || state.value().pending->version != version) {
        return nullptr;
    }
    return std::make_unique<CommitWindow>(data_dir, version, window, std::move(give_up));
}

CommitWindow::CommitWindow(fs::path data_dir, std::string version, std::chrono::milliseconds window,
                           GiveUp give_up)
    : data_dir_(std::move(data_dir)), version_(std::move(version)), give_up_(std::move(give_up)) {
    logger("launcher")
        ->info("lucid-agent {} is pending: it commits once online and healthy, within {} ms",
               version_, window.count());
    thread_ = std::thread([this, window] { watch(window); });
}

CommitWindow::~CommitWindow() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void CommitWindow::watch(std::chrono::milliseconds window) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (changed_.wait_for(lock, window, [this] { return committed_ || stopping_; })) return;
    lock.unlock();
    const std::string why = "lucid-agent " + version_ + " was not online and healthy within " +
                            std::to_string(window.count()) +
                            " ms: giving up (the launcher rolls it back)";
    logger("launcher")->critical("{}", why);
    give_up_(why);
}

bool CommitWindow::healthy() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (committed_) return true;
    try {
        auto state = load_agent_versions(data_dir_);
        if (!state) throw std::runtime_error(state.error().message);
        const auto next = commit(std::move(state.value()), version_,
                                 contract::utc_timestamp(contract::Clock::now()));
        save_agent_versions(data_dir_, next);
        remove_unnamed_builds(data_dir_, next);
    } catch (const std::exception& e) {
        logger("launcher")->error("cannot commit lucid-agent {}: {}", version_, e.what());
        return false;
    }
    committed_ = true;
    logger("launcher")->info("lucid-agent {} committed", version_);
    changed_.notify_all();
    return true;
}

void remove_unnamed_builds(const fs::path& data_dir, const AgentVersions& state) {
    std::error_code ec;
    for (fs::directory_iterator it(versions_dir(data_dir), ec), end; !ec && it != end;
         it.increment(ec)) {
        if (!it->is_directory(ec)) continue;
        const std::string name = it->path().filename().string();
        if (name == state.committed || name == state.previous ||
            (state.pending && name == state.pending->version)) {
            continue;
        }
        std::error_code ignored;
        fs::remove_all(it->path(), ignored);
    }
}

}  // namespace lucid::host::self_update
