// The drop-in watcher against a real inotify on a temporary directory, and its reporting rules
// (names, overflow, lost watch) fed directly.
//
// No sleeps: every wait is on a condition with a deadline. To show that something did NOT
// happen, a later "marker" file is written on the same watcher: inotify delivers one watch's
// events in order, so once the marker is seen, any event for the earlier file would have been.
#include <doctest/doctest.h>
#include <sys/inotify.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "dropin/dropin_name.hpp"
#include "dropin/dropin_reporter.hpp"
#include "dropin/dropin_watcher.hpp"
#include "lucid/registry/dist_name.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using lucid::host::dropin::classify_dropin_name;
using lucid::host::dropin::DropinCallbacks;
using lucid::host::dropin::DropinNameKind;
using lucid::host::dropin::DropinReporter;
using lucid::host::dropin::DropinWatcher;
using lucid::test::TempDir;
using Events = std::vector<std::string>;

namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// Records callbacks as "ready:<basename>", "removed:...", "rejected:...", "error".
class EventLog {
  public:
    DropinCallbacks callbacks() {
        return {[this](const fs::path& f) { add("ready:" + f.filename().string()); },
                [this](const fs::path& f) { add("removed:" + f.filename().string()); },
                [this](const fs::path& f, const std::string& reason) {
                    // The reason first: add() wakes the waiter, who may read it at once.
                    {
                        std::lock_guard<std::mutex> lock(mutex_);
                        reasons_.push_back(reason);
                    }
                    add("rejected:" + f.filename().string());
                },
                [this](const std::string&) { add("error"); }};
    }

    // Waits until `event` was recorded; returns every event recorded so far.
    Events wait_for(const std::string& event) {
        std::unique_lock<std::mutex> lock(mutex_);
        const bool seen = cv_.wait_for(lock, kDeadline, [&] {
            return std::find(events_.begin(), events_.end(), event) != events_.end();
        });
        if (!seen) FAIL_CHECK("timed out waiting for " << event);
        return events_;
    }

    Events events() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_;
    }
    std::vector<std::string> reasons() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return reasons_;
    }
    void add(const std::string& event) {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(event);
        cv_.notify_all();
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    Events events_;
    std::vector<std::string> reasons_;
};

void write_file(const fs::path& path, const std::string& content = "ELF-ish bytes") {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Writes a complete marker file and waits until the watcher reports it: every event for an
// earlier change has been delivered by then. Returns the events recorded up to the marker.
Events fence(EventLog& log, const TempDir& dir, int n = 1) {
    const std::string name = "marker-" + std::to_string(n) + ".0.0.so";
    write_file(dir / name);
    return log.wait_for("ready:" + name);
}

}  // namespace

TEST_CASE("drop-in names: artifacts count, temporary and hidden ones are ignored") {
    CHECK(classify_dropin_name("lucid_agent_cpu-1.0.0.so").kind == DropinNameKind::artifact);
    CHECK(classify_dropin_name("Lucid_Agent.CPU-1.0.0-linux_x86_64.so").kind ==
          DropinNameKind::artifact);
    for (const char* name :
         {".hidden-1.0.0.so", "a-1.0.0.so.part", "a-1.0.0.so.tmp", "a-1.0.0.so~", ".", ".."}) {
        CAPTURE(name);
        CHECK(classify_dropin_name(name).kind == DropinNameKind::ignored);
    }
    const auto rejected = classify_dropin_name("noversion.so");
    CHECK(rejected.kind == DropinNameKind::rejected);
    std::string expected;
    try {
        lucid::registry::parse_artifact_name("noversion.so");
    } catch (const std::invalid_argument& e) {
        expected = e.what();
    }
    CHECK_FALSE(expected.empty());
    CHECK(rejected.reason == expected);
}

TEST_CASE("a detached signature is not an artifact and is never rejected") {
    const auto sig = classify_dropin_name("lucid_agent_cpu-1.0.0.so.sig");
    CHECK(sig.kind == DropinNameKind::signature);
    CHECK(sig.artifact == "lucid_agent_cpu-1.0.0.so");
    // The signature of a name that does not parse adds nothing to that name's own rejection.
    CHECK(classify_dropin_name("noversion.so.sig").kind == DropinNameKind::ignored);
    CHECK(classify_dropin_name(".x-1.0.0.so.sig").kind == DropinNameKind::ignored);
    CHECK(classify_dropin_name("notes.sig").kind == DropinNameKind::rejected);
}

TEST_CASE("a signature written after its artifact reports the artifact ready again") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    write_file(dir / "sigma-1.0.0.so");
    log.wait_for("ready:sigma-1.0.0.so");
    write_file(dir / "sigma-1.0.0.so.sig", "c2ln");
    // A signature whose artifact is not there (yet) is simply waited for: the artifact, when
    // it comes, is reported with its signature beside it.
    write_file(dir / "tau-1.0.0.so.sig", "c2ln");
    fs::remove(dir / "sigma-1.0.0.so.sig");  // changes nothing that runs: not reported
    CHECK(fence(log, dir) ==
          Events{"ready:sigma-1.0.0.so", "ready:sigma-1.0.0.so", "ready:marker-1.0.0.so"});
}

TEST_CASE("a scan reports artifacts with signatures once and signatures never") {
    TempDir dir;
    write_file(dir / "a-1.0.0.so");
    write_file(dir / "a-1.0.0.so.sig", "c2ln");
    write_file(dir / "orphan-1.0.0.so.sig", "c2ln");
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    watcher.initial_scan();
    CHECK(log.events() == Events{"ready:a-1.0.0.so"});
}

TEST_CASE("a rejected file is reported once per version of it, however often it is seen") {
    TempDir dir;
    EventLog log;
    DropinReporter reporter(dir.path(), log.callbacks());
    write_file(dir / "bad.so", "one");
    reporter.handle(IN_CLOSE_WRITE, "bad.so");
    reporter.handle(IN_CLOSE_WRITE, "bad.so");  // a writer that closes twice
    reporter.scan();                            // a rescan (overflow, initial scan)
    CHECK(log.events() == Events{"rejected:bad.so"});
    write_file(dir / "bad.so", "a new version");
    reporter.handle(IN_CLOSE_WRITE, "bad.so");
    reporter.scan();
    CHECK(log.events() == Events{"rejected:bad.so", "rejected:bad.so"});
    // Gone and back (the same bytes again) is news too.
    fs::remove(dir / "bad.so");
    reporter.handle(IN_DELETE, "bad.so");
    write_file(dir / "bad.so", "a new version");
    reporter.handle(IN_CLOSE_WRITE, "bad.so");
    CHECK(log.events() == Events{"rejected:bad.so", "rejected:bad.so", "rejected:bad.so"});
}

TEST_CASE("a file written completely is reported ready") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    write_file(dir / "alpha-1.0.0.so");
    CHECK(log.wait_for("ready:alpha-1.0.0.so") == Events{"ready:alpha-1.0.0.so"});
}

TEST_CASE("the callback receives the watched directory joined with the file name") {
    TempDir dir;
    std::mutex mutex;
    std::condition_variable cv;
    fs::path reported;
    DropinCallbacks callbacks;
    callbacks.file_ready = [&](const fs::path& f) {
        std::lock_guard<std::mutex> lock(mutex);
        reported = f;
        cv.notify_all();
    };
    DropinWatcher watcher(dir.path(), callbacks);
    write_file(dir / "alpha-1.0.0.so");
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(cv.wait_for(lock, kDeadline, [&] { return !reported.empty(); }));
    CHECK(reported == dir / "alpha-1.0.0.so");
}

TEST_CASE("a file still open for writing is not reported ready until it is closed") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    std::ofstream half(dir / "beta-1.0.0.so", std::ios::binary);
    half << "first half";
    half.flush();
    CHECK(fence(log, dir) == Events{"ready:marker-1.0.0.so"});
    half << "second half";
    half.close();
    CHECK(log.wait_for("ready:beta-1.0.0.so") ==
          Events{"ready:marker-1.0.0.so", "ready:beta-1.0.0.so"});
}

TEST_CASE("a file moved in is reported ready once") {
    TempDir dir;
    TempDir outside;
    write_file(outside / "gamma-1.0.0.so");
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    fs::rename(outside / "gamma-1.0.0.so", dir / "gamma-1.0.0.so");
    CHECK(fence(log, dir) == Events{"ready:gamma-1.0.0.so", "ready:marker-1.0.0.so"});
}

TEST_CASE("a deleted or moved-out artifact is reported removed") {
    TempDir dir;
    TempDir outside;
    write_file(dir / "delta-1.0.0.so");
    write_file(dir / "epsilon-1.0.0.so");
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    fs::remove(dir / "delta-1.0.0.so");
    fs::rename(dir / "epsilon-1.0.0.so", outside / "epsilon-1.0.0.so");
    CHECK(fence(log, dir) ==
          Events{"removed:delta-1.0.0.so", "removed:epsilon-1.0.0.so", "ready:marker-1.0.0.so"});
}

TEST_CASE("a file whose name is not an artifact name is rejected with the parser's reason") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    write_file(dir / "noversion.so");
    CHECK(log.wait_for("rejected:noversion.so") == Events{"rejected:noversion.so"});
    REQUIRE(log.reasons().size() == 1);
    CHECK(log.reasons()[0] == classify_dropin_name("noversion.so").reason);
    CHECK(log.reasons()[0].find("noversion.so") != std::string::npos);
    // Removing a rejected file is not news to the owner: it was never handed over.
    fs::remove(dir / "noversion.so");
    CHECK(fence(log, dir) == Events{"rejected:noversion.so", "ready:marker-1.0.0.so"});
}

TEST_CASE("copying as .part then renaming gives exactly one ready, for the final name") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    write_file(dir / "zeta-1.0.0.so.part");
    write_file(dir / ".hidden-1.0.0.so");
    write_file(dir / "zeta-1.0.0.so.tmp");
    write_file(dir / "zeta-1.0.0.so~");
    fs::rename(dir / "zeta-1.0.0.so.part", dir / "zeta-1.0.0.so");
    CHECK(fence(log, dir) == Events{"ready:zeta-1.0.0.so", "ready:marker-1.0.0.so"});
}

TEST_CASE("subdirectories and files inside them are ignored") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    fs::create_directory(dir / "sub-1.0.0.so");
    write_file(dir / "sub-1.0.0.so" / "inner-1.0.0.so");
    fs::remove_all(dir / "sub-1.0.0.so");
    CHECK(fence(log, dir) == Events{"ready:marker-1.0.0.so"});
}

TEST_CASE("initial_scan reports the files already present and rejects bad names") {
    TempDir dir;
    write_file(dir / "b-2.0.0-linux_x86_64.so");
    write_file(dir / "a-1.0.0.so");
    write_file(dir / "bad.so");
    write_file(dir / ".hidden-1.0.0.so");
    write_file(dir / "c-1.0.0.so.part");
    fs::create_directory(dir / "d-1.0.0.so");
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    // Synchronous: the events are all there when it returns, in name order.
    watcher.initial_scan();
    CHECK(log.events() ==
          Events{"ready:a-1.0.0.so", "ready:b-2.0.0-linux_x86_64.so", "rejected:bad.so"});
    // And the watcher goes on watching afterwards.
    CHECK(fence(log, dir).back() == "ready:marker-1.0.0.so");
}

TEST_CASE("the directory is created when missing") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir / "data" / "plugins.d", log.callbacks());
    CHECK(fs::is_directory(dir / "data" / "plugins.d"));
    CHECK(watcher.watching());
    write_file(dir / "data" / "plugins.d" / "eta-1.0.0.so");
    log.wait_for("ready:eta-1.0.0.so");
}

TEST_CASE("a path that is a file cannot be watched and the constructor says so") {
    TempDir dir;
    write_file(dir / "not-a-dir");
    EventLog log;
    CHECK_THROWS_AS(DropinWatcher(dir / "not-a-dir", log.callbacks()), std::system_error);
}

TEST_CASE("stop is prompt, idempotent, and nothing is reported afterwards") {
    TempDir dir;
    EventLog log;
    DropinWatcher watcher(dir.path(), log.callbacks());
    const auto start = std::chrono::steady_clock::now();
    watcher.stop();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::seconds(1));
    CHECK_FALSE(watcher.watching());
    watcher.stop();
    watcher.initial_scan();  // a no-op once stopped; must not block
    write_file(dir / "theta-1.0.0.so");
    CHECK(log.events().empty());
}

TEST_CASE("deleting the watched directory reports an error once and stops watching") {
    TempDir parent;
    EventLog log;
    DropinWatcher watcher(parent / "plugins.d", log.callbacks());
    write_file(parent / "plugins.d" / "iota-1.0.0.so");
    log.wait_for("ready:iota-1.0.0.so");
    fs::remove_all(parent / "plugins.d");
    CHECK(log.wait_for("error") == Events{"ready:iota-1.0.0.so", "removed:iota-1.0.0.so", "error"});
    // The thread ends on its own; watching() turns false (wait, not sleep).
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (watcher.watching() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    CHECK_FALSE(watcher.watching());
}

TEST_CASE("a callback that throws does not stop the watcher") {
    TempDir dir;
    EventLog log;
    DropinCallbacks callbacks = log.callbacks();
    callbacks.file_rejected = [](const fs::path&, const std::string&) {
        throw std::runtime_error("owner bug");
    };
    DropinWatcher watcher(dir.path(), callbacks);
    write_file(dir / "bad.so");
    CHECK(fence(log, dir) == Events{"ready:marker-1.0.0.so"});
}

TEST_CASE("a queue overflow rescans: everything present is ready again, lost deletions removed") {
    TempDir dir;
    EventLog log;
    DropinReporter reporter(dir.path(), log.callbacks());
    write_file(dir / "kappa-1.0.0.so");
    write_file(dir / "lambda-1.0.0.so");
    CHECK(reporter.handle(IN_CLOSE_WRITE, "kappa-1.0.0.so") ==
          DropinReporter::Outcome::keep_watching);
    reporter.handle(IN_MOVED_TO, "lambda-1.0.0.so");
    reporter.handle(IN_CLOSE_WRITE, "gone-1.0.0.so");  // its deletion is the event lost below
    reporter.handle(IN_CLOSE_WRITE | IN_ISDIR, "subdir-1.0.0.so");
    CHECK(reporter.handle(IN_Q_OVERFLOW, "") == DropinReporter::Outcome::keep_watching);
    CHECK(log.events() == Events{"ready:kappa-1.0.0.so", "ready:lambda-1.0.0.so",
                                 "ready:gone-1.0.0.so", "ready:kappa-1.0.0.so",
                                 "ready:lambda-1.0.0.so", "removed:gone-1.0.0.so"});
}

TEST_CASE("the directory going away loses the watch once; later events are dropped") {
    TempDir dir;
    EventLog log;
    DropinReporter reporter(dir.path(), log.callbacks());
    CHECK(reporter.handle(IN_DELETE_SELF, "") == DropinReporter::Outcome::watch_lost);
    CHECK(reporter.handle(IN_IGNORED, "") == DropinReporter::Outcome::watch_lost);
    CHECK(reporter.handle(IN_CLOSE_WRITE, "mu-1.0.0.so") == DropinReporter::Outcome::watch_lost);
    CHECK(reporter.watch_lost());
    CHECK(log.events() == Events{"error"});
}

TEST_CASE("a real kernel queue overflow is recovered by a rescan that also finds lost deletions") {
    std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
    long limit = 0;
    limit_file >> limit;
    REQUIRE(limit > 0);
    if (limit > 200000) {
        MESSAGE("max_queued_events is " << limit << "; too large to overflow quickly, skipped");
        return;
    }
    TempDir dir;
    EventLog log;
    // The first callback for block-1.0.0.so holds the watcher thread, so the kernel queue fills.
    std::mutex mutex;
    std::condition_variable cv;
    bool blocked = false;
    bool released = false;
    DropinCallbacks callbacks = log.callbacks();
    callbacks.file_ready = [&, record = callbacks.file_ready](const fs::path& f) {
        record(f);
        if (f.filename() != "block-1.0.0.so") return;
        std::unique_lock<std::mutex> lock(mutex);
        if (blocked) return;  // only the first time
        blocked = true;
        cv.notify_all();
        cv.wait_for(lock, kDeadline, [&] { return released; });
    };
    DropinWatcher watcher(dir.path(), callbacks);
    write_file(dir / "gone-1.0.0.so");
    log.wait_for("ready:gone-1.0.0.so");
    write_file(dir / "block-1.0.0.so");
    {
        std::unique_lock<std::mutex> lock(mutex);
        REQUIRE(cv.wait_for(lock, kDeadline, [&] { return blocked; }));
    }
    // Each rename queues two events (moved from, moved to) for ignored names.
    write_file(dir / "flood.part");
    for (long i = 0; i <= limit / 2; ++i) {
        fs::rename(dir / (i % 2 ? "flood2.part" : "flood.part"),
                   dir / (i % 2 ? "flood.part" : "flood2.part"));
    }
    fs::remove(dir / "gone-1.0.0.so");  // its event finds the queue full and is dropped
    {
        std::lock_guard<std::mutex> lock(mutex);
        released = true;
        cv.notify_all();
    }
    CHECK(log.wait_for("removed:gone-1.0.0.so") ==
          Events{"ready:gone-1.0.0.so", "ready:block-1.0.0.so", "ready:block-1.0.0.so",
                 "removed:gone-1.0.0.so"});
}
