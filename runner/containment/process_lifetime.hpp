// The runner's lifetime tied to the agent's: its own process group (the agent signals the whole
// group, plugin children included, with one kill(-pgid)) and death with the agent
// (PR_SET_PDEATHSIG), so no runner outlives the agent that supervises it.
#pragma once

#include <sys/types.h>

#include <string>

namespace lucid::runner::containment {

// setpgid(0, 0) unless this process already leads its group (a session leader may not move).
std::string make_process_group();

// PR_SET_PDEATHSIG(SIGKILL), then checks getppid() == expected_parent: a parent that exited
// before the prctl can no longer deliver the signal, and the runner has been re-parented.
// expected_parent 0: "not requested".
std::string die_with_parent(pid_t expected_parent);

}  // namespace lucid::runner::containment
