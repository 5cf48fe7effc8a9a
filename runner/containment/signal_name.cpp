// describe_signal (containment.hpp): the agent names the signal that ended a runner with it.
#include <signal.h>

#include <cstring>
#include <string>

#include "containment/containment.hpp"

namespace lucid::runner {

std::string describe_signal(int signo) {
    // sigabbrev_np knows the classic signals only (glibc 2.32); real-time ones are named as
    // the shell names them.
    if (const char* abbrev = ::sigabbrev_np(signo)) return std::string("SIG") + abbrev;
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    }
    return "signal " + std::to_string(signo);
}

}  // namespace lucid::runner
