// The component's own writable directory: the one place the plugin may keep files (Landlock
// lets it write there), and its working directory, so relative paths land in it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace lucid::runner::containment {

struct Owner {
    uid_t uid;
    gid_t gid;
};

// Creates `path` if missing (the last component only, mode 0700), makes it owned by `owner`
// when given and mode 0700, and changes into it; when it was another owner's (run_as changed),
// what is inside becomes `owner`'s too, symbolic links re-owned themselves and never followed.
// A symlink is refused: the directory must be the component's own, not a link elsewhere. Empty
// path: "not requested".
std::string prepare_writable_dir(const std::string& path, std::optional<Owner> owner);

}  // namespace lucid::runner::containment
