// The files by which a component that took the agent down is found and kept from doing it again
// (README "Crash quarantine"), all small JSON files written atomically by ComponentManager:
//
//   {data}/starting/{cid}    a start() in progress: the file, its version, and how many times
//                            in a row the agent already died while starting that version
//   {data}/installing/{cid}  an install in progress (MQTT or drop-in): what is being installed
//                            and the request to answer if it takes the agent down
//   {data}/quarantine/{cid}  a build that is not to run again: why (the component's error),
//                            which version and sha256, and for a drop-in file its size and mtime
//   {data}/last_crash        written by the fatal-signal handler (plugin/crash_record.hpp)
//
// Thread: pure functions and file reads. Errors: nothing throws; unreadable content reads as
// nullopt (an older agent's plain-text markers are read as such).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "dropin/file_version.hpp"

namespace lucid::host::components {

struct StartMarker {
    std::string path;     // the library whose start() runs
    std::string version;  // its version
    int deaths = 0;       // agent deaths in a row while starting this version, before this start
};
std::string to_json(const StartMarker& marker);
// An older agent's marker (the path alone) reads with the version taken from the path's folder.
std::optional<StartMarker> parse_start_marker(const std::string& text);

struct PendingInstall {
    std::string request_id;  // empty for a drop-in file
    std::string dist_name;
    std::string version;
    std::string sha256;
    std::string source_json;  // the install's source, {"type":"dropin","path":...} for a drop-in
    // The registry entry the install registers once started (an object's text; empty in an
    // older agent's marker): what a first install that took the agent down in-process is
    // registered as, in process isolation (lifecycle_quarantine.cpp).
    std::string entry_json;
};
std::string to_json(const PendingInstall& pending);
std::optional<PendingInstall> parse_pending_install(const std::string& text);

struct Quarantine {
    std::string error;    // the component's status error while quarantined
    std::string version;  // the build kept from running; empty: whatever is registered
    std::string sha256;
    std::string dropin_path;     // a drop-in file not loaded again until it changes:
    dropin::FileVersion dropin;  // until its size or mtime (or its sha256) differ
};
std::string to_json(const Quarantine& quarantine);
// An older agent's marker ("\n") reads as {legacy_error, any version}.
std::optional<Quarantine> parse_quarantine(const std::string& text,
                                           const std::string& legacy_error);

}  // namespace lucid::host::components
