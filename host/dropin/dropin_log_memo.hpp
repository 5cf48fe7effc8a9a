// Says whether something about a drop-in file is worth a log line: the same outcome (a refusal,
// an "ignored" warning) for the same version of the file and of its `.sig` is logged once per
// process, however often the file is reported (a rescan, a second close, a signature arriving
// that changes nothing). A new version of either file, or another outcome, is news again.
//
// Thread: safe (one mutex); the drop-in lane is the only caller in the agent. Never throws
// except std::bad_alloc.
//
// Example:
//   if (memo.first_time(file, error)) log->error("drop-in {} refused: {}", file.string(), error);
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "dropin/file_version.hpp"

namespace lucid::host::dropin {

class DropinLogMemo {
  public:
    // True the first time `outcome` is seen for the current versions of `file` and `file.sig`.
    bool first_time(const std::filesystem::path& file, const std::string& outcome);
    // The file was installed or removed: whatever happens to it next is news.
    void forget(const std::filesystem::path& file);

  private:
    struct Seen {
        FileVersion file;
        FileVersion signature;
        std::string outcome;
    };
    std::mutex mutex_;
    std::map<std::string, Seen> seen_;  // by the file's path
};

}  // namespace lucid::host::dropin
