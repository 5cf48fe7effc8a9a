// What the drop-in directory tests share: the agent's drop-in directory, the careful way to put a
// file into it, and how to tell that the drop-in lane has handled everything written before.
// Header-only (doctest), like component_rig.hpp.
#pragma once

#include <fstream>

#include "component_rig.hpp"

namespace lucid::itest {

// A ComponentRig whose agent watches `dropin()` (created, not yet started).
struct DropinRig : ComponentRig {
    explicit DropinRig(const std::string& agent_id) : ComponentRig(agent_id) {
        std::filesystem::create_directories(dropin());
        env["LUCID_PLUGIN_DIR"] = dropin().string();
    }
    std::filesystem::path dropin() const { return agent.data_dir() / "dropin"; }

    // The careful way in: write under a temporary name, then rename into place.
    void move_in(const Artifact& a) const { move_in(a, a.name); }
    void move_in(const Artifact& a, const std::string& name) const {
        const auto part = dropin() / (name + ".part");
        std::filesystem::copy_file(a.path, part);
        std::filesystem::rename(part, dropin() / name);
    }

    // The drop-in lane handles files one at a time, in order: once probe's file, dropped after
    // everything else, has installed probe (or its removal uninstalled it), all earlier files
    // were handled. `present`: drop the file in, else remove it.
    void fence(bool present) {
        const Artifact probe = artifact(LUCID_ITEST_PROBE);
        client->clear();
        if (present) {
            move_in(probe);
            REQUIRE_MESSAGE(wait_status("probe", "running", "1.0.0"), agent.log());
        } else {
            std::filesystem::remove(dropin() / probe.name);
            REQUIRE_MESSAGE(client->wait_for(agent.topic("components/probe/status"),
                                             [](const Message& m) { return m.payload.empty(); }),
                            agent.log());
        }
    }

    // The retained status of `cid` was deleted (uninstalled).
    bool retained_deleted(const std::string& cid) {
        return client
            ->wait_for(agent.topic("components/" + cid + "/status"),
                       [](const Message& m) { return m.payload.empty(); })
            .has_value();
    }
};

// Opens `file` for writing and closes it without writing: inotify reports it written again
// (IN_CLOSE_WRITE) while its size and mtime stay the same.
inline void close_unchanged(const std::filesystem::path& file) {
    std::ofstream(file, std::ios::binary | std::ios::app).flush();
}

// How many times `needle` occurs in `text`.
inline int occurrences(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace lucid::itest
