#include "dropin/dropin_reporter.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <system_error>
#include <utility>
#include <vector>

#include "common/logging.hpp"
#include "dropin/dropin_name.hpp"

namespace lucid::host::dropin {
namespace {

const char* const kLogger = "dropin";

// Callbacks run on the watcher thread, whose entry must not throw: an owner's bug is logged and
// the next event is still delivered.
template <typename Fn, typename... Args>
void invoke(const char* what, const Fn& fn, const Args&... args) {
    if (!fn) return;
    try {
        fn(args...);
    } catch (const std::exception& e) {
        logger(kLogger)->error("drop-in {} callback threw: {}", what, e.what());
    } catch (...) {
        logger(kLogger)->error("drop-in {} callback threw a non-standard exception", what);
    }
}

constexpr std::uint32_t kWatchGone = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED;

}  // namespace

DropinReporter::DropinReporter(std::filesystem::path directory, DropinCallbacks callbacks)
    : directory_(std::move(directory)), callbacks_(std::move(callbacks)) {}

void DropinReporter::scan() {
    if (lost_) return;
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory_, ec), end; !ec && it != end;
         it.increment(ec)) {
        // Everything but directories (is_directory follows symlinks): a link to an artifact is
        // one, and a FIFO, a device or a dangling link is reported too, to be refused with its
        // log line, not skipped in silence.
        std::error_code type_ec;
        if (!it->is_directory(type_ec)) names.push_back(it->path().filename().string());
    }
    if (ec) {
        const std::string message =
            "cannot list drop-in directory " + directory_.string() + ": " + ec.message();
        logger(kLogger)->error("{}", message);
        invoke("watch_error", callbacks_.watch_error, message);
        return;
    }
    std::sort(names.begin(), names.end());
    std::set<std::string> present;
    for (const auto& name : names) {
        const auto kind = classify_dropin_name(name).kind;
        // A signature found by a scan adds nothing: its artifact is reported on its own.
        if (kind == DropinNameKind::signature) continue;
        if (kind == DropinNameKind::artifact) present.insert(name);
        report_present(name);
    }
    // Deletions the kernel dropped with an overflowed queue: without this, the owner would keep
    // running a component whose file is gone.
    std::vector<std::string> gone;
    std::set_difference(reported_.begin(), reported_.end(), present.begin(), present.end(),
                        std::back_inserter(gone));
    for (const auto& name : gone) report_gone(name);
}

DropinReporter::Outcome DropinReporter::handle(std::uint32_t mask, std::string_view name) {
    if (lost_) return Outcome::watch_lost;
    if (mask & IN_Q_OVERFLOW) {
        logger(kLogger)->warn("inotify queue overflowed on {}; rescanning", directory_.string());
        scan();
        return Outcome::keep_watching;
    }
    if (mask & kWatchGone) {
        lose_watch("it was deleted, moved or unmounted");
        return Outcome::watch_lost;
    }
    // Subdirectories are not part of the drop-in contract; nothing inside them is watched.
    if ((mask & IN_ISDIR) || name.empty()) return Outcome::keep_watching;
    const std::string file(name);
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        report_present(file);
    } else if (mask & IN_CREATE) {
        // A regular file is ready once written (IN_CLOSE_WRITE). Nothing is ever written to a
        // symlink (`ln -s`, a valid drop-in), a FIFO or a device made in place: each is handled
        // (installed or refused, with its log line) now, or never until the next start.
        struct stat st {};
        if (::lstat((directory_ / file).c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            report_present(file);
        }
    } else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
        report_gone(file);
    }
    return Outcome::keep_watching;
}

void DropinReporter::lose_watch(const std::string& message) {
    if (lost_) return;
    lost_ = true;
    // The callback logs it, with the directory, and reports it in core/state.
    invoke("watch_error", callbacks_.watch_error, message);
}

void DropinReporter::report_present(const std::string& name) {
    const DropinName kind = classify_dropin_name(name);
    const auto path = directory_ / name;
    if (kind.kind == DropinNameKind::artifact) {
        reported_.insert(name);
        logger(kLogger)->info("drop-in file ready: {}", path.string());
        invoke("file_ready", callbacks_.file_ready, path);
    } else if (kind.kind == DropinNameKind::signature) {
        // A signature arriving after its artifact (the usual order of two copies) must not
        // leave that artifact refused as unsigned until someone touches it: report it again.
        std::error_code ec;
        if (!std::filesystem::is_regular_file(directory_ / kind.artifact, ec)) return;
        logger(kLogger)->info("drop-in signature ready: {}; considering {} again", path.string(),
                              kind.artifact);
        report_present(kind.artifact);
    } else if (kind.kind == DropinNameKind::rejected) {
        // Once per version of the file: a rescan or a second close without a change must not
        // repeat the same complaint.
        const auto version = file_version(path);
        if (auto it = rejected_.find(name); it != rejected_.end() && it->second == version) return;
        rejected_[name] = version;
        // Logged by the owner (once per version of the file, also across restarts).
        invoke("file_rejected", callbacks_.file_rejected, path, kind.reason);
    }
}

void DropinReporter::report_gone(const std::string& name) {
    rejected_.erase(name);
    // Only artifact names: a rejected or temporary file was never handed to the owner, and a
    // signature going away changes nothing that runs. An artifact is reported even when this
    // watcher did not see it arrive (e.g. a hard link, or a file from before a restart): the
    // owner ignores removals it has nothing for.
    if (classify_dropin_name(name).kind != DropinNameKind::artifact) return;
    reported_.erase(name);
    const auto path = directory_ / name;
    logger(kLogger)->info("drop-in file removed: {}", path.string());
    invoke("file_removed", callbacks_.file_removed, path);
}

}  // namespace lucid::host::dropin
