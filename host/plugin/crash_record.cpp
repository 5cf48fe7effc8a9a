#include "plugin/crash_record.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace lucid::host::crash {
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr std::size_t kSignalCount = sizeof kSignals / sizeof kSignals[0];
constexpr std::size_t kRecordMax = 1024;

// Read by the handler: written before it is installed (the path) or by the thread itself
// outside of it (the record), so the handler reads only finished memory.
char g_path[4096];
struct sigaction g_previous[kSignalCount];
bool g_installed = false;
std::atomic_flag g_written = ATOMIC_FLAG_INIT;  // one record, by the first thread to fault

// Static TLS of the executable: reading it in a handler allocates nothing.
thread_local char t_record[kRecordMax];
thread_local std::size_t t_size = 0;  // 0: not inside a plugin call

const char* signal_name(int sig) {
    switch (sig) {
        case SIGSEGV:
            return "SIGSEGV";
        case SIGBUS:
            return "SIGBUS";
        case SIGILL:
            return "SIGILL";
        case SIGFPE:
            return "SIGFPE";
        case SIGABRT:
            return "SIGABRT";
        default:
            return "SIGNAL";
    }
}

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

// Async-signal-safe from here to the end of the function: open, write, fsync, close,
// sigaction, raise, and reads of memory prepared earlier.
void on_fatal_signal(int sig, siginfo_t* info, void*) {
    const int saved_errno = errno;
    const bool in_plugin = t_size > 0;
    if (in_plugin && !g_written.test_and_set()) {
        const int fd = ::open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd >= 0) {
            const char* name = signal_name(sig);
            write_all(fd, name, std::strlen(name));
            write_all(fd, "\t", 1);
            write_all(fd, t_record, t_size);
            write_all(fd, "\n", 1);
            ::fsync(fd);
            ::close(fd);
        }
    }
    // A plugin's fault ends the agent with the signal's default action. Anything else goes to
    // the action that was there before (the default, or a sanitizer's report of our own bug).
    for (std::size_t i = 0; i < kSignalCount; ++i) {
        if (kSignals[i] != sig) continue;
        if (in_plugin) {
            struct sigaction dfl;
            std::memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            sigemptyset(&dfl.sa_mask);
            ::sigaction(sig, &dfl, nullptr);
        } else {
            ::sigaction(sig, &g_previous[i], nullptr);
        }
    }
    errno = saved_errno;
    // A fault (si_code > 0) happens again when the instruction is retried on return; a signal
    // that was sent (abort(), kill) is sent again: it is blocked until we return.
    if (in_plugin || info == nullptr || info->si_code <= 0) ::raise(sig);
}

std::string sanitized(std::string text) {
    // Tabs and newlines separate the record's fields.
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return text;
}

void set_record(const std::string& record) {
    const std::size_t size = std::min(record.size(), kRecordMax);
    t_size = 0;  // never half a record: a signal now sees none
    std::memcpy(t_record, record.data(), size);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_size = size;
}

}  // namespace

std::filesystem::path record_path(const std::filesystem::path& data_dir) {
    return data_dir / "last_crash";
}

void install_fatal_signal_handler(const std::filesystem::path& record_file) {
    const std::string path = record_file.string();
    const std::size_t size = std::min(path.size(), sizeof g_path - 1);
    std::memcpy(g_path, path.data(), size);
    g_path[size] = '\0';
    if (g_installed) return;
    g_installed = true;
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fatal_signal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kSignalCount; ++i) {
        ::sigaction(kSignals[i], &action, &g_previous[i]);
    }
}

std::string callback_name(const std::string& task_what) {
    if (task_what.rfind("message on ", 0) == 0) return "message";
    if (task_what == "config change") return "config";
    return task_what;
}

std::string worker_identity(const std::string& component_id, const std::string& version) {
    return sanitized(component_id) + "\t" + sanitized(version);
}

InPluginCall::InPluginCall(const std::string& identity, const std::string& callback) {
    had_previous_ = t_size > 0;
    if (had_previous_) previous_.assign(t_record, t_size);
    set_record(identity + "\t" + sanitized(callback));
}

InPluginCall::~InPluginCall() {
    if (had_previous_) {
        set_record(previous_);
    } else {
        t_size = 0;
    }
}

SignalStack::SignalStack() {
    stack_t current;
    std::memset(&current, 0, sizeof current);
    // A thread that has one (a sanitizer sets its own) keeps it.
    if (::sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
    const std::size_t size = std::max<std::size_t>(SIGSTKSZ, 64 * 1024);
    memory_ = std::malloc(size);
    if (!memory_) return;
    stack_t stack;
    std::memset(&stack, 0, sizeof stack);
    stack.ss_sp = memory_;
    stack.ss_size = size;
    if (::sigaltstack(&stack, nullptr) != 0) {
        std::free(memory_);
        memory_ = nullptr;
    }
}

SignalStack::~SignalStack() {
    if (!memory_) return;
    stack_t off;
    std::memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
    std::free(memory_);
}

std::optional<CrashRecord> read_crash_record(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.empty() || text.back() != '\n') return std::nullopt;  // cut short
    text.pop_back();
    CrashRecord record;
    std::string* fields[] = {&record.signal, &record.component_id, &record.version};
    std::size_t start = 0;
    for (std::string* field : fields) {
        const std::size_t tab = text.find('\t', start);
        if (tab == std::string::npos) return std::nullopt;
        *field = text.substr(start, tab - start);
        start = tab + 1;
    }
    record.callback = text.substr(start);
    if (record.signal.empty() || record.component_id.empty() || record.callback.empty()) {
        return std::nullopt;
    }
    return record;
}

std::string crash_error(const CrashRecord& record) {
    return "crashed: " + record.signal + " in " + record.callback;
}

}  // namespace lucid::host::crash
