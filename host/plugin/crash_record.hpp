// Which plugin took the agent down (issue 13): plugins run in-process, so a segfault in one
// kills the agent. Without knowing which one, the next start would load it and die again.
//
// Every plugin worker marks its thread, before each callback, with a record prepared there and
// then (InPluginCall): "<component_id>\t<version>\t<callback>". The agent's handler of SIGSEGV,
// SIGBUS, SIGILL, SIGFPE and SIGABRT, on a thread so marked, writes "<SIGNAL>\t<record>\n" to
// `{data}/last_crash` with open/write/fsync/close only (async-signal-safe; the path is
// formatted when the handler is installed), then gives the signal back to the previous action
// (the default, or a sanitizer's report) and lets it take the process down. A fault on any
// other thread (the agent's own code, a thread a plugin started itself) writes nothing.
//
// The callback names, as in `crashed: SIGSEGV in command 'boom'`: `start` (create and start),
// `stop` (stop and destroy), `command '<name>'`, `timer`, `message`, `config`.
//
// Thread: install_fatal_signal_handler() once, from main, before any plugin runs; the rest from
// any thread. Errors: nothing throws; an unreadable or cut-short record reads as none.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace lucid::host::crash {

// `{data}/last_crash`.
std::filesystem::path record_path(const std::filesystem::path& data_dir);

// Installs the handler; later calls only change the record file.
void install_fatal_signal_handler(const std::filesystem::path& record_file);

// The callback name of a PluginWorker task ("message on a/b" → "message", "config change" →
// "config"; start, stop, timer and command '<name>' as they are).
std::string callback_name(const std::string& task_what);

// "<component_id>\t<version>" for PluginWorker: the part of the record fixed per worker.
std::string worker_identity(const std::string& component_id, const std::string& version);

// Marks the calling thread as running `callback` of the worker `identity` until destroyed.
// Nests (the previous mark comes back). Copies the text into the thread's own buffer, so that
// the handler reads only memory that is there.
class InPluginCall {
  public:
    InPluginCall(const std::string& identity, const std::string& callback);
    ~InPluginCall();
    InPluginCall(const InPluginCall&) = delete;
    InPluginCall& operator=(const InPluginCall&) = delete;

  private:
    bool had_previous_ = false;
    std::string previous_;
};

// An alternate signal stack for the calling thread while it lives (when it has none): a plugin
// that overflows its stack still gets its SIGSEGV handled and recorded.
class SignalStack {
  public:
    SignalStack();
    ~SignalStack();
    SignalStack(const SignalStack&) = delete;
    SignalStack& operator=(const SignalStack&) = delete;

  private:
    void* memory_ = nullptr;
};

struct CrashRecord {
    std::string signal;  // "SIGSEGV"
    std::string component_id;
    std::string version;
    std::string callback;  // "command 'boom'"
};

// nullopt when the file is missing, empty or not a whole record.
std::optional<CrashRecord> read_crash_record(const std::filesystem::path& file);

// "crashed: SIGSEGV in command 'boom'": the component's error once it is quarantined.
std::string crash_error(const CrashRecord& record);

}  // namespace lucid::host::crash
