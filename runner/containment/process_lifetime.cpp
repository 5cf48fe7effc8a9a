#include "containment/process_lifetime.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "containment/measure_text.hpp"

namespace lucid::runner::containment {

std::string make_process_group() {
    if (::getpgrp() == ::getpid()) return kApplied;
    if (::setpgid(0, 0) != 0) return failed(system_error_text("setpgid", errno));
    return kApplied;
}

std::string die_with_parent(pid_t expected_parent) {
    if (expected_parent == 0) return kNotRequested;
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
        return failed(system_error_text("prctl(PR_SET_PDEATHSIG)", errno));
    }
    // After the prctl: if the agent died before it, we are someone else's child by now.
    const pid_t parent = ::getppid();
    if (parent != expected_parent) {
        return failed("the parent is pid " + std::to_string(parent) + ", not the agent (pid " +
                      std::to_string(expected_parent) + "): the agent is gone");
    }
    return kApplied;
}

}  // namespace lucid::runner::containment
