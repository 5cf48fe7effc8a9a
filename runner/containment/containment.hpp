// The measures lucid-plugin-runner applies to itself before it loads a plugin (process
// isolation): its own process group, death with the agent, no_new_privs, resource limits,
// another user, a writable directory of its own, Landlock and a seccomp filter.
//
// Every measure is reported, in a fixed order, with one of these results, never skipped
// silently (the agent shows them as `containment` in the component status):
//   "applied"                 set (seccomp may add a note: "applied (ptrace allowed: ...)")
//   "not requested"           the request does not ask for it (no limit given, no run_as ...)
//   "unavailable: <why>"      asked for, but this kernel or build cannot do it; the plugin may
//                             still be loaded (e.g. Landlock not enabled in the kernel)
//   "failed: <why>"           asked for and not set: the caller must not load the plugin
//
// Thread: call once, from the runner's only thread, before the plugin is loaded and before any
// thread is started (Landlock confines only the calling thread, and threads started later
// inherit everything). Every measure is process-wide and irreversible: tests apply them in a
// forked child. Linux only; links nothing but libc.
//
// Example (the runner, before dlopen):
//     lucid::runner::ContainmentRequest request;
//     request.expected_parent = agent_pid;
//     request.open_files = 256;
//     request.writable_dir = "/var/lib/lucid/components/cpu/data";
//     request.read_paths = {"/usr", "/lib", "/etc", plugin_dir};
//     request.sanitizer_build = lucid::runner::kSanitizerBuild;
//     request.address_space_limit = !lucid::runner::kSanitizerBuild;
//     const auto measures = lucid::runner::apply_containment(request);
//     if (lucid::runner::containment_failed(measures)) { /* report them and exit */ }
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "containment/sanitizer_build.hpp"

namespace lucid::runner {

struct ContainmentRequest {
    // The agent's pid. PR_SET_PDEATHSIG (SIGKILL) is racy: the agent may exit before it is set,
    // so getppid() is checked against this afterwards; a mismatch is "failed: ...". 0: the
    // pdeathsig measure is "not requested".
    pid_t expected_parent = 0;
    // RLIMIT_AS and RLIMIT_DATA (soft = hard) when address_space_limit is true.
    std::optional<std::uint64_t> memory_mb;
    // RLIMIT_NOFILE (soft = hard).
    std::optional<std::uint64_t> open_files;
    // RLIMIT_CPU: soft = N, hard = N + 1, so SIGXCPU comes first, SIGKILL a second later.
    std::optional<std::uint64_t> cpu_seconds;
    // False in sanitizer builds (they reserve terabytes of address space): memory is then
    // enforced only by the agent watching the RSS, and rlimit_memory reads
    // "unavailable: sanitizer build reserves address space".
    bool address_space_limit = true;
    // A user name: setgroups (that user's groups from getgrouplist, plus extra_groups), setgid,
    // setuid. Only possible as root; the agent checks LUCID_RUN_AS_ALLOWED before asking.
    std::optional<std::string> run_as;
    // Supplementary group names added for run_as (ignored without run_as).
    std::vector<std::string> extra_groups;
    // The component's own directory: created if missing (the leaf only, 0700, owned by the
    // run_as user when given), made the working directory, and writable under Landlock.
    std::string writable_dir;
    // Landlock: read (and execute) beneath these, e.g. /usr /lib /lib64 /etc /proc /dev /sys
    // and the plugin file's directory. Paths that do not exist are skipped.
    std::vector<std::string> read_paths;
    // Landlock: read and write beneath these (/tmp, /dev/null ...); writable_dir is added.
    // Both lists empty: landlock is "not requested".
    std::vector<std::string> write_paths;
    // Install the seccomp filter (EPERM for ptrace, mount, module loading, namespaces, ...).
    bool seccomp = true;
    // LeakSanitizer stops the world with ptrace: the filter then leaves ptrace allowed and
    // says so in the seccomp result.
    bool sanitizer_build = false;
};

struct Measure {
    std::string name;    // "process_group", "pdeathsig", ... (kMeasureNames)
    std::string result;  // "applied", "not requested", "unavailable: <why>", "failed: <why>"
};

// The measure names, in the order apply_containment reports them.
inline constexpr const char* kMeasureNames[] = {
    "process_group", "pdeathsig", "no_new_privs", "rlimit_memory", "rlimit_open_files",
    "rlimit_cpu",    "run_as",    "writable_dir", "landlock",      "seccomp"};

// Applies every measure, in a safe order: process group (setpgid(0,0) unless already a
// leader), pdeathsig, rlimits, writable dir, the Landlock rules (their paths opened while still
// root), run_as (drops root; pdeathsig is set again after it because a change of credentials
// clears it), no_new_privs, Landlock enforced, seccomp last.
// A measure that fails does not stop the others. Returns one Measure per kMeasureNames entry,
// in that order. Never throws for a system error (they are results); std::bad_alloc may pass.
std::vector<Measure> apply_containment(const ContainmentRequest& request);

// True when any measure reads "failed: ...": the caller must not load the plugin.
bool containment_failed(const std::vector<Measure>& measures);

// "SIGSEGV", "SIGXCPU", "SIGRTMIN+2"; "signal 99" for a number that is no signal.
// Async-signal-unsafe (builds a string); the agent uses it for "crashed: SIGSEGV in ...".
std::string describe_signal(int signo);

}  // namespace lucid::runner
