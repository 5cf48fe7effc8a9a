#include "self_update/launch_decision.hpp"

#include "lucid/registry/semver.hpp"

namespace lucid::host::self_update {

namespace {

// a > b by semver; a version that does not parse is never newer (the state's versions are
// checked when read, the packaged one is this build's).
bool newer(const std::string& a, const std::string& b) {
    const auto va = registry::Version::parse(a);
    const auto vb = registry::Version::parse(b);
    if (!va) return false;
    if (!vb) return true;
    return *va > *vb;
}

}  // namespace

AgentVersions roll_back(AgentVersions state, const std::string& reason, const std::string& now) {
    if (!state.pending) return state;
    LastUpgrade last;
    last.version = state.pending->version;
    last.outcome = std::string(kRolledBack);
    last.reason = reason;
    last.ts = now;
    last.request_id = state.pending->request_id;
    state.last_upgrade = std::move(last);
    state.pending.reset();
    return state;
}

AgentVersions commit(AgentVersions state, const std::string& version, const std::string& now) {
    LastUpgrade last;
    last.version = version;
    last.outcome = std::string(kCommitted);
    last.ts = now;
    if (state.pending && state.pending->version == version) {
        last.request_id = state.pending->request_id;
    }
    if (state.committed && *state.committed != version) state.previous = state.committed;
    state.committed = version;
    state.pending.reset();
    state.last_upgrade = std::move(last);
    return state;
}

LaunchDecision decide_launch(const AgentVersions& state, const std::string& packaged_version,
                             const std::string& now) {
    LaunchDecision d;
    d.state = state;
    if (d.state.pending) {
        const PendingVersion& p = *d.state.pending;
        if (!newer(p.version, packaged_version)) {
            d.state = roll_back(d.state,
                                "the packaged agent " + packaged_version + " is not older than " +
                                    p.version + " (a package upgrade wins)",
                                now);
            d.save = true;
        } else if (p.attempts >= p.allowed) {
            d.state = roll_back(d.state,
                                p.version +
                                    " did not come up healthy (it exited, crashed, or did not "
                                    "commit within its window)",
                                now);
            d.save = true;
        } else {
            // Counted before the exec: a build that takes the machine down with it has used its
            // attempt all the same.
            d.state.pending->attempts += 1;
            d.save = true;
            d.exec_version = p.version;
            d.exec_pending = true;
            d.why = "pending " + p.version + ", start attempt " +
                    std::to_string(d.state.pending->attempts) + " of " + std::to_string(p.allowed);
            return d;
        }
    }
    if (d.state.committed && newer(*d.state.committed, packaged_version)) {
        d.exec_version = d.state.committed;
        d.why = "committed " + *d.state.committed;
        return d;
    }
    d.why = d.state.committed ? "the packaged " + packaged_version +
                                    " is not older than the "
                                    "committed " +
                                    *d.state.committed
                              : "no self-updated build";
    if (d.state.last_upgrade && d.state.last_upgrade->outcome == kRolledBack && d.save) {
        d.why +=
            "; " + d.state.last_upgrade->version + " rolled back: " + d.state.last_upgrade->reason;
    }
    return d;
}

}  // namespace lucid::host::self_update
