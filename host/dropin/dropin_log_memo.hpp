// Says whether something about a drop-in file is worth a log line: the same outcome (a refusal,
// a rejected name, an "ignored" warning) for the same version of the file and of its `.sig` is
// logged once, however often the file is reported (a rescan, a second close, a signature
// arriving that changes nothing) and across restarts: what was logged is remembered in a small
// file in the data directory, so a refused file sitting in plugins.d does not repeat its
// complaint at every start of the agent. A new version of either file, or another outcome, is
// news again.
//
// Thread: safe (one mutex); the drop-in lane is the only caller in the agent. Errors: the memory
// file is best effort: one that cannot be read or parsed (or is larger than 1 MiB) starts an
// empty memory (load_problem() says why), one that cannot be written keeps the memory in
// this process only. Never throws except std::bad_alloc.
//
// Example:
//   DropinLogMemo memo(data_dir / "dropin_log.json");
//   if (memo.first_time(file, error)) log->error("drop-in {} refused: {}", file.string(), error);
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "dropin/file_version.hpp"

namespace lucid::host::dropin {

class DropinLogMemo {
  public:
    // At most this many files are remembered; beyond, the oldest entries are forgotten.
    static constexpr std::size_t kMaxEntries = 256;

    // `memory_file` empty: remembered in this process only.
    explicit DropinLogMemo(std::filesystem::path memory_file = {});

    // True the first time `outcome` is seen for the current versions of `file` and `file.sig`.
    bool first_time(const std::filesystem::path& file, const std::string& outcome);
    // The file was installed or removed: whatever happens to it next is news.
    void forget(const std::filesystem::path& file);

    // How many outcomes first_time() kept quiet because an earlier start of the agent had
    // logged them already (for one summary line after the start-up scan).
    std::size_t quiet_from_earlier_starts() const;
    // Why the memory file was not loaded ("" when it was, or there was none).
    const std::string& load_problem() const { return load_problem_; }

  private:
    struct Seen {
        FileVersion file;
        FileVersion signature;
        std::string outcome;
        bool from_earlier_start = false;
        std::uint64_t order = 0;  // when it was last logged, for forgetting the oldest
    };
    void load();
    void save();  // with mutex_ held

    const std::filesystem::path memory_file_;
    std::string load_problem_;
    mutable std::mutex mutex_;
    std::map<std::string, Seen> seen_;  // by the file's path
    std::uint64_t next_order_ = 0;
    std::size_t quiet_from_earlier_ = 0;
};

}  // namespace lucid::host::dropin
