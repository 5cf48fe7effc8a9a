// run_as: the runner gives up root for another user before it loads the plugin. Looked up first
// (the writable directory is made theirs while still root), switched to after it.
#pragma once

#include <sys/types.h>

#include <string>
#include <variant>
#include <vector>

namespace lucid::runner::containment {

struct Identity {
    std::string user;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary: the user's own (getgrouplist) + extra groups
};

// The user and groups to become, or the "failed: ..." text: "failed: no such user: X",
// "failed: no such group: X", "failed: run_as needs root (running as uid N)".
std::variant<Identity, std::string> look_up_identity(const std::string& user,
                                                     const std::vector<std::string>& extra_groups);

// setgroups, setresgid, setresuid (real, effective and saved: no way back to root), then
// checks that root cannot be regained.
std::string become(const Identity& identity);

}  // namespace lucid::runner::containment
