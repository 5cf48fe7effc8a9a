// Landlock filesystem confinement: after it, the runner (and the plugin it loads) may read only
// beneath read_paths and write only beneath write_paths, whoever it runs as. Confines the
// calling thread and the threads it starts later, not threads already running.
#pragma once

#include <string>
#include <vector>

namespace lucid::runner::containment {

// Built in two steps: the paths are opened while the runner may still be root (run_as may
// switch to a user who cannot reach them, e.g. its writable directory below a root-only
// directory; a rule grants nothing the file permissions refuse), and enforced after
// no_new_privs, which landlock_restrict_self requires.
class FilesystemRuleset {
  public:
    // Paths that do not exist are skipped. Both lists empty: "not requested".
    FilesystemRuleset(const std::vector<std::string>& read_paths,
                      const std::vector<std::string>& write_paths);
    ~FilesystemRuleset();
    FilesystemRuleset(const FilesystemRuleset&) = delete;
    FilesystemRuleset& operator=(const FilesystemRuleset&) = delete;

    // The landlock measure: "applied"; "not requested"; "unavailable: <the kernel's reason>"
    // when the kernel has no Landlock or does not enable it; "failed: ..." otherwise.
    std::string enforce();

  private:
    int fd_ = -1;
    std::string result_;  // set when known before enforce(): not requested, unavailable, failed
};

}  // namespace lucid::runner::containment
