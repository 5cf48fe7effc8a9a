// One installed component as the registry records it (contract §6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lucid::registry {

// What kind of artifact an entry points at. Python wheels come only from registries of the
// earlier agent: this host cannot run them, lists them as `unsupported`, and can uninstall them.
enum class EntryKind { native, python_wheel };

// The version kept for rollback after an upgrade.
struct PreviousVersion {
    std::string version;
    std::string sha256;
    std::string path;

    bool operator==(const PreviousVersion& o) const {
        return version == o.version && sha256 == o.sha256 && path == o.path;
    }
};

// Resource limits of a component run in process isolation (contract §6); unset: none.
struct Limits {
    std::optional<std::uint64_t> memory_mb;
    std::optional<std::uint64_t> open_files;
    std::optional<std::uint64_t> cpu_seconds;

    bool empty() const { return !memory_mb && !open_files && !cpu_seconds; }
    bool operator==(const Limits& o) const {
        return memory_mb == o.memory_mb && open_files == o.open_files &&
               cpu_seconds == o.cpu_seconds;
    }
};

// The user (and extra supplementary groups) a component's child process runs as (contract §6);
// an empty user: the agent's own. Only users of LUCID_RUN_AS_ALLOWED (run_as_allowed.hpp).
struct RunAs {
    std::string user;
    std::vector<std::string> groups;

    bool empty() const { return user.empty(); }
    bool operator==(const RunAs& o) const { return user == o.user && groups == o.groups; }
};

struct Entry {
    std::string component_id;
    std::string dist_name;  // PEP 503 normalized; empty when unknown (legacy entry, see §4)
    std::string version;
    std::string sha256;  // lowercase hex; empty when the earlier agent never recorded one
    std::string path;    // the loaded .so; empty for legacy wheel entries
    std::string source_json = "{}";  // the install source object, serialized JSON
    bool enabled = true;
    std::string config_json = "{}";  // the component's config object, serialized JSON
    std::string installed_at;        // UTC ISO-8601
    std::optional<PreviousVersion> previous;
    EntryKind kind = EntryKind::native;
    std::string legacy_json;  // the earlier agent's entry as found, serialized; empty otherwise
    // "in_process", "process", or empty: the agent's default (LUCID_DEFAULT_ISOLATION).
    std::string isolation;
    Limits limits;
    RunAs run_as;  // process isolation only; empty: the agent's user
    // Why the agent moved it into process isolation by itself (it took the agent down while in
    // process: "crashed: SIGSEGV in timer"); empty when the isolation is the operator's choice.
    std::string demoted;
    // The key id (16 hex) of the trusted key whose signature it was installed with (contract
    // §8.14: a revoked key's components are reported); empty when unsigned or unchecked.
    std::string signed_by;

    bool operator==(const Entry& o) const;
};

const char* to_string(EntryKind kind);

}  // namespace lucid::registry
