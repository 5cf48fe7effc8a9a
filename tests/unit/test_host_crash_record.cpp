// Crash attribution (issue 13): the fatal-signal handler writes which component's callback was
// running on the faulting thread, and only then; the records the boot reads back.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "components/crash_records.hpp"
#include "plugin/crash_record.hpp"
#include "plugin/plugin_worker.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `body` in a child process with the handler installed; returns its wait status.
template <class F>
int in_child(const fs::path& record, F body) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // As in the agent: the default actions before ours (not doctest's crash reporter).
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
        crash::install_fatal_signal_handler(record);
        body();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

// A real fault the sanitizers do not intercept first: a write to a page mapped without access.
void segfault() {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *static_cast<volatile int*>(page) = 1;
}

}  // namespace

TEST_CASE("a fault inside a plugin call is recorded with its component and callback") {
    lucid::test::TempDir dir;
    const fs::path record = crash::record_path(dir.path());
    const int status = in_child(record, [] {
        const crash::InPluginCall call(crash::worker_identity("boom", "1.2.0"),
                                       crash::callback_name("command 'boom'"));
        segfault();
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSEGV);  // the default action ends it, after the record
    CHECK(read_text(record) == "SIGSEGV\tboom\t1.2.0\tcommand 'boom'\n");
    const auto parsed = crash::read_crash_record(record);
    REQUIRE(parsed);
    CHECK(parsed->component_id == "boom");
    CHECK(parsed->version == "1.2.0");
    CHECK(crash::crash_error(*parsed) == "crashed: SIGSEGV in command 'boom'");
}

TEST_CASE("a plugin worker marks each task with the callback it runs") {
    lucid::test::TempDir dir;
    const fs::path record = crash::record_path(dir.path());
    const int status = in_child(record, [] {
        PluginWorker worker("plugin.w", crash::worker_identity("w", "3.0.0"));
        worker.post([] {}, 0, "command 'fine'");
        worker.post([] { ::abort(); }, 0, "message on a/b");
        std::this_thread::sleep_for(std::chrono::seconds(30));  // the abort ends the child
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    CHECK(read_text(record) == "SIGABRT\tw\t3.0.0\tmessage\n");
}

TEST_CASE("a fault outside any plugin call records nothing") {
    lucid::test::TempDir dir;
    const fs::path record = crash::record_path(dir.path());
    const int status = in_child(record, [] {
        { const crash::InPluginCall call(crash::worker_identity("x", "1.0.0"), "start"); }
        ::abort();  // the agent's own code: not blamed on the plugin that ran before
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    CHECK_FALSE(fs::exists(record));
    CHECK_FALSE(crash::read_crash_record(record));
}

TEST_CASE("callback names and records cut short") {
    CHECK(crash::callback_name("start") == "start");
    CHECK(crash::callback_name("stop") == "stop");
    CHECK(crash::callback_name("timer") == "timer");
    CHECK(crash::callback_name("command 'x'") == "command 'x'");
    CHECK(crash::callback_name("message on a/b") == "message");
    CHECK(crash::callback_name("config change") == "config");
    lucid::test::TempDir dir;
    const fs::path record = dir / "last_crash";
    std::ofstream(record) << "SIGSEGV\tx\t1.0";  // no newline: the write was cut short
    CHECK_FALSE(crash::read_crash_record(record));
}

TEST_CASE("start markers, pending installs and quarantines read back; older markers too") {
    using namespace lucid::host::components;
    const auto marker = parse_start_marker(to_json(StartMarker{"/d/c/x/1.0.0/x.so", "1.0.0", 2}));
    REQUIRE(marker);
    CHECK(marker->deaths == 2);
    CHECK(marker->version == "1.0.0");
    const auto old = parse_start_marker("/data/components/x/2.1.0/x-2.1.0.so");
    REQUIRE(old);
    CHECK(old->version == "2.1.0");
    CHECK(old->deaths == 0);

    const auto pending = parse_pending_install(
        to_json(PendingInstall{"i1", "x", "1.0.0", "ab", R"({"type":"dropin","path":"/p/x.so"})",
                               R"({"version":"1.0.0"})"}));
    REQUIRE(pending);
    CHECK(pending->request_id == "i1");
    CHECK(pending->source_json == R"({"type":"dropin","path":"/p/x.so"})");
    CHECK(pending->entry_json == R"({"version":"1.0.0"})");

    Quarantine q{"crashed: SIGSEGV in timer", "1.0.0", "ab", "/p/x.so", {true, 42, 7, 9}};
    const auto back = parse_quarantine(to_json(q), "legacy");
    REQUIRE(back);
    CHECK(back->error == q.error);
    CHECK(back->dropin == q.dropin);
    const auto legacy = parse_quarantine("\n", "legacy");
    REQUIRE(legacy);
    CHECK(legacy->error == "legacy");
    CHECK(legacy->version.empty());
}
