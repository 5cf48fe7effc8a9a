// lucid-plugin-runner: one plugin of the agent in a process of its own (issue 17, README
// "Process isolation"). The agent starts it with one end of a socketpair and the containment
// to apply; it contains itself before any code of the plugin is loaded, says what each measure
// became, then serves the agent (plugin_runner.hpp) until the agent closes the socket.
// It links libc and libstdc++ only: no MQTT, no logger, no download stack.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "containment/sanitizer_build.hpp"
#include "plugin_runner.hpp"
#include "runner_containment.hpp"
#include "runner_options.hpp"

namespace {

// Every descriptor above 2 but the agent's socket goes before anything else runs: the agent
// closes them when it spawns the runner already; this holds for a runner started any other way.
void close_inherited(int keep) {
    if (keep < 3) {
        ::syscall(SYS_close_range, 3u, ~0u, 0u);
        return;
    }
    if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
    ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u);
}

}  // namespace

int main(int argc, char** argv) {
    // An operator checking what a package installed asks every program its version.
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("lucid-plugin-runner %s\n", LUCID_VERSION);
        return 0;
    }
    const auto parsed = lucid::runner::parse_runner_options(argc, argv);
    if (!parsed.error.empty()) {
        std::fprintf(stderr, "lucid-plugin-runner: %s\n", parsed.error.c_str());
        return 2;
    }
    close_inherited(parsed.options.fd);
    // A write to a socket the agent closed is an error to handle, not a signal to die of.
    ::signal(SIGPIPE, SIG_IGN);
    // A plugin's fatal signal ends the runner by that signal, which the agent reports
    // ("crashed: SIGSEGV in timer callback"). A sanitizer build would turn it into a report and
    // exit status 1 instead; its memory checks stay on.
    if (lucid::runner::kSanitizerBuild) {
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
    }
    auto contained = lucid::runner::contain(parsed.options);
    lucid::runner::PluginRunner runner(parsed.options.fd, std::move(contained.measures),
                                       std::move(contained.image));
    return runner.run();
}
