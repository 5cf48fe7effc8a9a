// lucidctl top: a live view of one agent (top_view.hpp), redrawn in place on a terminal; a new
// screen each --interval otherwise (as `top -b`), or one with --once.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

#include "lucidctl/top_view.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using Clock = std::chrono::steady_clock;

bool on_terminal() {
    const char* term = std::getenv("TERM");
    return ::isatty(STDOUT_FILENO) && term != nullptr && std::string(term) != "dumb";
}

std::size_t columns() {
    winsize size{};
    return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}

std::chrono::milliseconds interval_option(const CtlOptions& o) {
    const auto text = command_option(o, "interval");
    if (!text) return std::chrono::seconds(2);
    char* end = nullptr;
    const double seconds = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !(seconds >= 0.2 && seconds <= 3600)) {
        throw UsageError("--interval must be a number of seconds from 0.2 to 3600, got '" + *text +
                         "'");
    }
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

int cmd_top(Session& s) {
    expect_args(s.options(), 1);
    if (s.json()) throw UsageError("top has no --json: lucidctl watch --json prints every message");
    const auto interval = interval_option(s.options());
    const bool once = command_switch(s.options(), "once");
    const bool live = !once && on_terminal();

    TopModel model;
    model.agent_id = s.target().agent_id;
    const std::string base = s.target().topic_root + "/" + s.target().agent_id + "/";
    // Everything under the agent: snapshots come retained at once, telemetry as it is published.
    s.client().subscribe(base + "#");

    auto draw = [&](Clock::time_point now) {
        const auto lines =
            top_screen(model, live ? columns() : 0, now, std::chrono::system_clock::now());
        if (live) s.out() << "\x1b[H\x1b[2J";  // home, clear: the screen is redrawn whole
        for (const auto& line : lines) s.out() << line << "\n";
        if (!live) s.out() << "\n";
        s.out().flush();
    };

    // A terminal gets its first screen once the retained snapshots are in, then one a second
    // (the ages move) or each interval if shorter; a pipe gets a screen each interval; --once
    // one screen after listening for an interval.
    const auto period =
        live ? std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(1)) : interval;
    auto next_draw = Clock::now() + (live ? std::chrono::milliseconds(300) : interval);
    while (true) {
        auto message = s.client().wait_for([](const ReceivedMessage&) { return true; }, next_draw);
        const auto now = Clock::now();
        if (message && message->topic.compare(0, base.size(), base) == 0) {
            apply_top_message(model, message->topic.substr(base.size()), message->payload, now);
        }
        if (now < next_draw) continue;
        draw(now);
        if (once && model.state.empty()) {
            // Nothing retained of the agent: a wrong --agent or an agent that never connected.
            s.err() << "lucidctl: the broker has no status of agent '" << model.agent_id
                    << "': is --agent right?\n";
            return kUnreachable;
        }
        if (once || !s.out()) return kOk;  // !out: the output was closed (lucidctl top | head)
        next_draw = now + period;
    }
}

}  // namespace lucid::host::ctl
