// The component lifecycle (host/components/component_lifecycle.hpp) with fakes behind its three
// ports: every transition and failure path — boot, install, upgrade and its rollbacks, the
// health window, uninstall, start/stop/restart, enable/disable, configure, crash recovery and
// quarantine, the drop-in quarantine — without a broker, a disk or a plugin library.
#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "commands/command_dispatcher.hpp"
#include "components/component_lifecycle.hpp"
#include "lucid/registry/registry_json.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using namespace lucid::host::components;
using lucid::registry::Entry;
using lucid::registry::EntryKind;
using lucid::registry::Registry;

namespace {

// The disk, in memory. Placed files are "dist/version" strings.
struct FakeStore : ComponentStore {
    Registry saved;
    bool fail_save = false;
    std::set<std::string> files;
    std::map<std::string, StartMarker> starting;
    std::map<std::string, PendingInstall> installing;
    std::map<std::string, Quarantine> quarantined;
    DeathEvidence evidence;
    bool deaths_consumed = false;
    std::vector<std::string> set_aside_files;

    Loaded load() override { return {saved, false, {}}; }
    Status save(const Registry& registry) override {
        if (fail_save) return Error{Errc::io, "No space left on device"};
        saved = registry;
        return done();
    }
    Expected<Registry> update_config(const std::string& cid, const std::string& json) override {
        if (const auto* entry = saved.find(cid)) {
            Entry changed = *entry;
            changed.config_json = json;
            saved.put(changed);
        }
        return saved;
    }
    Expected<Placed> place(const std::filesystem::path&, const std::string& dist,
                           const std::string& version, const std::string& file_name,
                           const std::string&) override {
        const bool created = files.insert(dist + "/" + version).second;
        return Placed{"/data/components/" + dist + "/" + version + "/" + file_name, created};
    }
    void discard(const Placed& placed, const std::string& dist,
                 const std::string& version) override {
        if (placed.created) files.erase(dist + "/" + version);
    }
    void remove_version(const std::string& dist, const std::string& version) override {
        files.erase(dist + "/" + version);
    }
    std::mutex markers_mutex;  // the boot's parallel starts mark and clear at once
    void mark_starting(const std::string& cid, const StartMarker& marker) override {
        std::lock_guard<std::mutex> lock(markers_mutex);
        starting[cid] = marker;
    }
    void clear_starting(const std::string& cid) override {
        std::lock_guard<std::mutex> lock(markers_mutex);
        starting.erase(cid);
    }
    void mark_installing(const std::string& cid, const PendingInstall& pending) override {
        installing[cid] = pending;
    }
    void clear_installing(const std::string& cid) override { installing.erase(cid); }
    std::optional<Quarantine> quarantine(const std::string& cid) override {
        auto it = quarantined.find(cid);
        if (it == quarantined.end()) return std::nullopt;
        return it->second;
    }
    std::map<std::string, Quarantine> quarantines() override { return quarantined; }
    void set_quarantine(const std::string& cid, const Quarantine& q) override {
        quarantined[cid] = q;
    }
    void lift_quarantine(const std::string& cid) override { quarantined.erase(cid); }
    DeathEvidence read_deaths() override { return evidence; }
    void consume_deaths() override {
        evidence = {};
        deaths_consumed = true;
    }
    dropin::FileVersion file_version(const std::filesystem::path&) override {
        return {true, 7, 42, 0};
    }
    Status set_aside(const std::filesystem::path& file, const std::string&) override {
        set_aside_files.push_back(file.string());
        return done();
    }
    std::vector<std::filesystem::path> other_dropin_files;  // what files_of_dist finds
    std::vector<std::filesystem::path> files_of_dist(const std::filesystem::path&,
                                                     const std::string&) override {
        return other_dropin_files;
    }
};

// Plugins by file path: what each declares and how it behaves. Reports its states to the
// lifecycle as a real plugin's context does.
struct FakeRuntime : PluginRuntime {
    struct Plugin {
        std::string component_id;
        std::string version;
        bool maps = true;
        std::string start_error;         // start fails with it
        bool fails_after_start = false;  // starts, then reports failed at once
        bool stuck_on_stop = false;      // its library stays mapped
        std::string config_error;        // refuses every config

        Plugin& failing_start(std::string error) { return start_error = std::move(error), *this; }
        Plugin& failing_after_start() { return fails_after_start = true, *this; }
        Plugin& unloadable() { return maps = false, *this; }
        Plugin& stuck() { return stuck_on_stop = true, *this; }
    };
    std::map<std::string, Plugin> plugins;  // by path
    ComponentLifecycle* lifecycle = nullptr;
    Token next = 1;
    std::map<Token, std::string> mapped;               // token → path
    std::map<std::string, std::string> running_;       // cid → path
    std::vector<std::string> started;                  // "cid@version", in order
    std::function<void(const std::string&)> on_start;  // runs as a start begins
    std::vector<std::string> proposed;                 // configs proposed
    std::vector<std::string> delivered;

    void add(const std::string& path, Plugin plugin) { plugins[path] = std::move(plugin); }

    std::vector<RunOptions> options_seen;  // what each map() was asked to run with
    // Guards the bookkeeping above (the boot's parallel starts); never held while reporting.
    mutable std::mutex mutex;

    Expected<Mapped> map(const std::filesystem::path& file, const RunOptions& options) override {
        std::lock_guard<std::mutex> lock(mutex);
        options_seen.push_back(options);
        auto it = plugins.find(file.string());
        if (it == plugins.end() || !it->second.maps) {
            return Error{Errc::plugin, "cannot load " + file.string() + ": not a plugin"};
        }
        mapped[next] = file.string();
        return Mapped{next++, it->second.component_id};
    }
    Status start(Token token, const std::string& cid) override {
        Plugin p;
        std::string path;
        {
            std::lock_guard<std::mutex> lock(mutex);
            path = mapped.at(token);
            mapped.erase(token);
            p = plugins.at(path);
            started.push_back(cid + "@" + p.version);
        }
        if (on_start) on_start(cid);
        lifecycle->report_status(cid, {ComponentState::starting, p.version, ""});
        if (!p.start_error.empty()) {
            lifecycle->report_status(cid, {ComponentState::stopped, p.version, ""});
            return Error{Errc::plugin, p.start_error};
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            running_[cid] = path;
        }
        lifecycle->report_status(cid, {ComponentState::running, p.version, ""});
        if (p.fails_after_start) {
            lifecycle->report_status(cid, {ComponentState::failed, p.version, "lost its device"});
        }
        return done();
    }
    void discard(Token token) override { mapped.erase(token); }
    Stopped stop(const std::string& cid) override {
        auto it = running_.find(cid);
        if (it == running_.end()) return {};
        const Plugin p = plugins.at(it->second);
        running_.erase(it);
        if (p.stuck_on_stop) {
            lifecycle->report_status(
                cid, {ComponentState::failed, p.version, "stop did not return within 1 s"});
        } else {
            lifecycle->report_status(cid, {ComponentState::stopped, p.version, ""});
        }
        return {true, p.stuck_on_stop};
    }
    bool running(const std::string& cid) const override {
        std::lock_guard<std::mutex> lock(mutex);
        return running_.count(cid) > 0;
    }
    std::string running_version(const std::string& cid) const {
        auto it = running_.find(cid);
        return it == running_.end() ? "" : plugins.at(it->second).version;
    }
    Status propose_config(const std::string& cid, const std::string& json) override {
        const Plugin& p = plugins.at(running_.at(cid));
        if (!p.config_error.empty()) return Error{Errc::plugin, p.config_error};
        proposed.push_back(json);
        if (auto persisted = lifecycle->persist_config(cid, json); !persisted) {
            return persisted.error();
        }
        return done();
    }
    void deliver(const std::string&, std::uint64_t, const std::string& topic, const std::string&,
                 int, bool) override {
        delivered.push_back(topic);
    }
    bool take_command(const std::string& cid, const std::string&, const std::string&) override {
        return running(cid);
    }
};

struct FakeSink : StatusSink {
    std::mutex mutex;
    std::map<std::string, ComponentStatus> statuses;
    std::map<std::string, std::string> configs;
    std::set<std::string> forgotten_ids;
    int changes = 0;

    void status(const std::string& cid, const ComponentStatus& s) override {
        std::lock_guard<std::mutex> lock(mutex);
        statuses[cid] = s;
        forgotten_ids.erase(cid);
    }
    void config(const std::string& cid, const std::string& json) override {
        std::lock_guard<std::mutex> lock(mutex);
        configs[cid] = json;
    }
    void forgotten(const std::string& cid) override {
        std::lock_guard<std::mutex> lock(mutex);
        statuses.erase(cid);
        forgotten_ids.insert(cid);
    }
    void changed() override {
        std::lock_guard<std::mutex> lock(mutex);
        ++changes;
    }
    ComponentState state(const std::string& cid) {
        std::lock_guard<std::mutex> lock(mutex);
        return statuses.at(cid).state;
    }
};

Entry entry(const std::string& cid, const std::string& version, bool enabled = true) {
    Entry e;
    e.component_id = cid;
    e.dist_name = cid;
    e.version = version;
    e.sha256 = "sha-" + cid + "-" + version;
    e.path = "/data/components/" + cid + "/" + version + "/" + cid + "-" + version + ".so";
    e.enabled = enabled;
    return e;
}

// An entry the operator put in process isolation: a crash blamed on it quarantines it (an
// in-process one is moved into process isolation instead).
Entry isolated(Entry e) {
    e.isolation = "process";
    return e;
}

struct World {
    FakeStore store;
    FakeRuntime runtime;
    FakeSink sink;
    ComponentLifecycle lifecycle;
    std::vector<InterruptedInstall> answered;

    // `trust_dir`: where the version floors are kept (none: no floors). `parallel`: how many
    // components the boot starts at once.
    explicit World(const std::filesystem::path& trust_dir = {}, std::size_t parallel = 1)
        : lifecycle{
              {std::chrono::milliseconds(20), 3, Isolation::in_process, {}, trust_dir, parallel},
              store,
              runtime,
              sink} {
        runtime.lifecycle = &lifecycle;
    }

    // A registered component whose library the runtime knows.
    void registered(const Entry& e, FakeRuntime::Plugin behaviour = {}) {
        store.saved.put(e);
        store.files.insert(e.dist_name + "/" + e.version);
        behaviour.component_id = e.component_id;
        behaviour.version = e.version;
        runtime.add(e.path, behaviour);
    }
    std::vector<std::string> boot() {
        return lifecycle.boot([this](const InterruptedInstall& i) { answered.push_back(i); });
    }
    // An order for `cid` `version`, whose placed library behaves as `behaviour`.
    InstallOrder order(const std::string& cid, const std::string& version,
                       FakeRuntime::Plugin behaviour = {}) {
        const std::string file = cid + "-" + version + ".so";
        behaviour.component_id = behaviour.component_id.empty() ? cid : behaviour.component_id;
        behaviour.version = version;
        runtime.add("/data/components/" + cid + "/" + version + "/" + file, behaviour);
        return InstallOrder{
            "r-" + version,
            cid,
            R"({"type":"inline"})",
            std::nullopt,
            StagedFile{"/staging/" + file, cid, version, "sha-" + cid + "-" + version},
            std::nullopt,
            std::nullopt,
            std::nullopt,
            {}};
    }
};

}  // namespace

TEST_CASE("boot starts the enabled components and shows the others as they are") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.registered(entry("disk", "1.0.0", false));
    Entry wheel = entry("legacy", "0.9.0");
    wheel.kind = EntryKind::python_wheel;
    w.store.saved.put(wheel);
    w.registered(entry("broken", "1.0.0"), FakeRuntime::Plugin().failing_start("no sensor"));

    const auto problems = w.boot();
    CHECK(w.runtime.running("cpu"));
    CHECK(w.sink.state("cpu") == ComponentState::running);
    CHECK(w.sink.state("disk") == ComponentState::stopped);
    CHECK(w.sink.state("legacy") == ComponentState::unsupported);
    CHECK(w.sink.state("broken") == ComponentState::failed);
    CHECK(w.sink.statuses.at("broken").error == "no sensor");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "component broken did not start: no sensor");
    CHECK(w.store.starting.empty());  // every start marker cleared once the start returned
    CHECK(w.sink.changes > 0);
}

TEST_CASE("an install places, starts, registers and shows the new component") {
    World w;
    w.boot();
    const Outcome outcome = w.lifecycle.install(w.order("cpu", "1.0.0"));
    REQUIRE(outcome.ok());
    CHECK_FALSE(outcome.noop);
    CHECK_FALSE(outcome.rolled_back);
    CHECK(w.runtime.running("cpu"));
    REQUIRE(w.store.saved.find("cpu"));
    CHECK(w.store.saved.find("cpu")->version == "1.0.0");
    CHECK(w.store.files.count("cpu/1.0.0"));
    CHECK(w.store.installing.empty());  // answered: nothing left to answer after a crash
    CHECK(w.sink.configs.at("cpu") == "{}");

    SUBCASE("the same build again is a noop, before and after staging") {
        auto decided = w.lifecycle.decide_install("cpu", "cpu", "1.0.0", "sha-cpu-1.0.0");
        REQUIRE(decided);
        CHECK(decided->noop);
        CHECK(w.lifecycle.install(w.order("cpu", "1.0.0")).noop);
        CHECK(w.runtime.started.size() == 1);
    }
    SUBCASE("another build of the version it runs is refused") {
        auto decided = w.lifecycle.decide_install("cpu", "cpu", "1.0.0", "sha-other");
        REQUIRE(decided);
        REQUIRE_FALSE(decided->ok());
        CHECK(decided->error->code == Errc::conflict);
    }
    SUBCASE("its dist cannot be installed as another component") {
        auto decided = w.lifecycle.decide_install("cpu2", "cpu", "2.0.0", "sha-x");
        REQUIRE(decided);
        CHECK(decided->error->message == "dist_name 'cpu' is already installed as component 'cpu'");
    }
}

TEST_CASE("a new component that fails to start leaves nothing behind") {
    World w;
    w.boot();
    const Outcome outcome =
        w.lifecycle.install(w.order("cpu", "1.0.0", FakeRuntime::Plugin().failing_start("boom")));
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error->message == "boom");
    CHECK_FALSE(outcome.rolled_back);
    CHECK_FALSE(w.store.saved.find("cpu"));
    CHECK(w.store.files.empty());
    CHECK(w.sink.forgotten_ids.count("cpu"));  // no failed ghost an operator cannot remove
    CHECK(w.lifecycle.not_run_error("cpu") == "component not found: cpu");
}

TEST_CASE("an upgrade that fails rolls back to the running version") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    REQUIRE(w.runtime.running_version("cpu") == "1.0.0");

    FakeRuntime::Plugin behaviour;
    std::string expected;
    SUBCASE("its start fails") {
        behaviour.failing_start("no sensor");
        expected = "no sensor";
    }
    SUBCASE("it fails within the health window") {
        behaviour.failing_after_start();
        expected = "the new version failed right after starting: lost its device";
    }
    const Outcome outcome = w.lifecycle.install(w.order("cpu", "2.0.0", behaviour));
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error->message == expected);
    CHECK(outcome.rolled_back);
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(w.sink.state("cpu") == ComponentState::running);
    CHECK(w.sink.statuses.at("cpu").version == "1.0.0");
    CHECK(w.store.saved.find("cpu")->version == "1.0.0");
    CHECK(w.store.files == std::set<std::string>{"cpu/1.0.0"});
}

TEST_CASE("an upgrade whose library does not load never stops the running version") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    const Outcome outcome =
        w.lifecycle.install(w.order("cpu", "2.0.0", FakeRuntime::Plugin().unloadable()));
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.rolled_back);
    CHECK(w.runtime.started.size() == 1);  // 1.0.0 at boot, never again
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(w.store.files == std::set<std::string>{"cpu/1.0.0"});
}

TEST_CASE("an upgrade that cannot be registered is undone") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    w.store.fail_save = true;
    const Outcome outcome = w.lifecycle.install(w.order("cpu", "2.0.0"));
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error->message == "cannot save the registry: No space left on device");
    CHECK(outcome.rolled_back);
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(w.store.files == std::set<std::string>{"cpu/1.0.0"});
}

TEST_CASE("a healthy upgrade keeps one version for rollback and says a stuck one needs a restart") {
    World w;
    Entry old = entry("cpu", "1.0.0");
    old.previous = lucid::registry::PreviousVersion{"0.9.0", "sha-0.9", "/p"};
    w.store.files.insert("cpu/0.9.0");
    w.registered(old, FakeRuntime::Plugin().stuck());
    w.boot();
    const Outcome outcome = w.lifecycle.install(w.order("cpu", "2.0.0"));
    REQUIRE(outcome.ok());
    CHECK(outcome.restart_required);
    CHECK(w.runtime.running_version("cpu") == "2.0.0");
    const Entry* saved = w.store.saved.find("cpu");
    REQUIRE(saved->previous);
    CHECK(saved->previous->version == "1.0.0");
    CHECK(w.store.files == std::set<std::string>{"cpu/1.0.0", "cpu/2.0.0"});
}

TEST_CASE("uninstall unregisters first, then removes files, status and quarantine") {
    World w;
    Entry e = entry("cpu", "2.0.0");
    e.previous = lucid::registry::PreviousVersion{"1.0.0", "sha", "/p"};
    w.store.files.insert("cpu/1.0.0");
    w.registered(e, FakeRuntime::Plugin().stuck());
    w.boot();
    const Outcome outcome = w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt);
    REQUIRE(outcome.ok());
    CHECK(outcome.restart_required);
    CHECK(outcome.dist_name == "cpu");
    CHECK(outcome.version == "2.0.0");
    CHECK_FALSE(w.runtime.running("cpu"));
    CHECK_FALSE(w.store.saved.find("cpu"));
    CHECK(w.store.files.empty());
    CHECK(w.sink.forgotten_ids.count("cpu"));

    CHECK(w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt).noop);
}

TEST_CASE("an uninstall that cannot be saved leaves the component running") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    w.store.fail_save = true;
    const Outcome outcome = w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error->code == Errc::io);
    CHECK(w.runtime.running("cpu"));
    CHECK(w.store.files.count("cpu/1.0.0"));
}

TEST_CASE("an entry of the earlier agent without dist_name needs one to be uninstalled") {
    World w;
    Entry e = entry("cpu", "1.0.0");
    e.dist_name.clear();
    w.registered(e);
    w.boot();
    CHECK(w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt).error->message ==
          "registry missing dist_name for component; provide dist_name in uninstall payload for "
          "migration");
    CHECK(w.lifecycle.uninstall("cpu", Channel::mqtt, std::string("bad name!")).error->message ==
          "validation_error: dist_name 'bad name!' is invalid");
    CHECK(w.lifecycle.uninstall("cpu", Channel::mqtt, std::string("CPU_Plugin")).ok());
}

TEST_CASE("uninstalling a drop-in component over MQTT sets its file aside") {
    World w;
    Entry e = entry("cpu", "1.0.0");
    e.source_json = R"({"type":"dropin","path":"/plugins.d/cpu-1.0.0.so"})";
    w.registered(e);
    w.boot();
    // An older file of it, left in the directory, would install it again at the next start.
    w.store.other_dropin_files = {"/plugins.d/cpu-0.9.0.so"};
    REQUIRE(w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt).ok());
    CHECK(w.store.set_aside_files ==
          std::vector<std::string>{"/plugins.d/cpu-1.0.0.so", "/plugins.d/cpu-0.9.0.so"});
}

TEST_CASE("start, stop and restart say when there was nothing to do") {
    World w;
    w.registered(entry("cpu", "1.0.0"), FakeRuntime::Plugin().stuck());
    w.boot();
    CHECK(w.lifecycle.start("cpu").noop);
    Outcome stopped = w.lifecycle.stop("cpu");
    CHECK_FALSE(stopped.noop);
    CHECK(stopped.restart_required);
    // Left stuck in a call: it keeps the failed status its runtime reported, and why.
    CHECK(w.sink.state("cpu") == ComponentState::failed);
    CHECK(w.sink.statuses.at("cpu").error == "stop did not return within 1 s");
    CHECK(w.lifecycle.stop("cpu").noop);
    CHECK(w.lifecycle.not_run_error("cpu") == "component not running: cpu");
    CHECK(w.lifecycle.restart("cpu").ok());
    CHECK(w.runtime.running("cpu"));
    CHECK(w.lifecycle.start("nope").error->message == "component not found: nope");
}

TEST_CASE("a crash recorded for an in-process plugin moves it into process isolation") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.registered(entry("disk", "1.0.0"));
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "cpu", "1.0.0", "command 'boom'"};
    const auto problems = w.boot();

    CHECK(std::find(problems.begin(), problems.end(),
                    "component cpu 1.0.0 took the agent down (crashed: SIGSEGV in command "
                    "'boom'): it runs in process isolation from now on") != problems.end());
    CHECK(w.runtime.running("cpu"));
    CHECK(w.runtime.running("disk"));
    const Entry* saved = w.store.saved.find("cpu");
    REQUIRE(saved);
    CHECK(saved->enabled);
    CHECK(saved->isolation == "process");
    CHECK(saved->demoted == "crashed: SIGSEGV in command 'boom'");
    CHECK(w.store.quarantined.empty());
    CHECK(w.store.deaths_consumed);
    // It was started in a child process; the other one where it was.
    REQUIRE(w.runtime.options_seen.size() == 2);
    int isolated_starts = 0;
    for (const auto& o : w.runtime.options_seen) {
        isolated_starts += o.isolation == Isolation::process ? 1 : 0;
    }
    CHECK(isolated_starts == 1);
    CHECK(w.sink.statuses.at("cpu").demoted == "crashed: SIGSEGV in command 'boom'");
    CHECK(w.sink.statuses.at("cpu").isolation == "process");

    // The operator moving it back ends the demotion.
    REQUIRE(w.lifecycle.set_isolation("cpu", Isolation::in_process, std::nullopt).ok());
    CHECK(w.store.saved.find("cpu")->demoted.empty());
    CHECK(w.store.saved.find("cpu")->isolation == "in_process");
    CHECK(w.sink.statuses.at("cpu").demoted.empty());
}

TEST_CASE("a crash recorded for a plugin in process isolation quarantines that build") {
    World w;
    w.registered(isolated(entry("cpu", "1.0.0")));
    w.registered(entry("disk", "1.0.0"));
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "cpu", "1.0.0", "command 'boom'"};
    const auto problems = w.boot();

    CHECK(std::find(problems.begin(), problems.end(),
                    "component cpu 1.0.0 took the agent down: SIGSEGV in command 'boom'") !=
          problems.end());
    CHECK_FALSE(w.runtime.running("cpu"));
    CHECK(w.runtime.running("disk"));
    CHECK(w.sink.state("cpu") == ComponentState::quarantined);
    CHECK(w.sink.statuses.at("cpu").error == "crashed: SIGSEGV in command 'boom'");
    CHECK_FALSE(w.store.saved.find("cpu")->enabled);
    CHECK(w.store.deaths_consumed);
    CHECK(w.lifecycle.start("cpu").error->message ==
          "component cpu is quarantined (crashed: SIGSEGV in command 'boom'); enable it to try "
          "again");

    // Enabling lifts it: the operator's way to try again.
    REQUIRE(w.lifecycle.set_enabled("cpu", true).ok());
    CHECK(w.store.quarantined.empty());
    CHECK(w.sink.state("cpu") == ComponentState::stopped);
    CHECK(w.lifecycle.start("cpu").ok());
    CHECK(w.runtime.running("cpu"));
}

TEST_CASE("deaths while a component starts: it starts first and alone, then is quarantined") {
    World w;
    w.registered(entry("a", "1.0.0"));
    w.registered(entry("z", "1.0.0"));
    StartMarker marker{"/p", "1.0.0", 0};

    SUBCASE("below the limit, the suspect starts first and its count goes on") {
        marker.deaths = 1;
        w.store.evidence.starting["z"] = marker;
        int deaths_in_marker = -1;
        w.runtime.on_start = [&](const std::string& cid) {
            if (cid == "z") deaths_in_marker = w.store.starting.at("z").deaths;
        };
        const auto problems = w.boot();
        CHECK(w.runtime.started == std::vector<std::string>{"z@1.0.0", "a@1.0.0"});
        CHECK(w.runtime.running("z"));
        // The marker of this start carries the deaths so far: one more makes the third.
        CHECK(deaths_in_marker == 2);
        CHECK(std::find(problems.begin(), problems.end(),
                        "component z 1.0.0: the agent stopped while it was starting (2 of 3 "
                        "before quarantine); starting it first, alone") != problems.end());
    }
    SUBCASE("at the limit, an in-process one is moved into process isolation") {
        marker.deaths = 2;
        w.store.evidence.starting["z"] = marker;
        w.boot();
        CHECK(w.runtime.running("z"));
        CHECK(w.store.saved.find("z")->isolation == "process");
        CHECK(w.store.saved.find("z")->demoted ==
              "the agent died 3 times in a row while this component was starting");
    }
    SUBCASE("at the limit, one in process isolation is quarantined") {
        w.registered(isolated(entry("z", "1.0.0")));
        marker.deaths = 2;
        w.store.evidence.starting["z"] = marker;
        w.boot();
        CHECK(w.runtime.started == std::vector<std::string>{"a@1.0.0"});
        CHECK(w.sink.state("z") == ComponentState::quarantined);
        CHECK(w.sink.statuses.at("z").error ==
              "quarantined: the agent died 3 times in a row while this component was starting; "
              "enable or re-install it to try again");
    }
}

TEST_CASE("the boot starts independent components in parallel, the suspects first and alone") {
    World w({}, 3);
    for (const char* cid : {"a", "b", "c", "m", "s"}) w.registered(entry(cid, "1.0.0"));
    // A death nobody could be blamed for while m and s were starting.
    w.store.evidence.starting["m"] = StartMarker{"/p", "1.0.0", 0};
    w.store.evidence.starting["s"] = StartMarker{"/p", "1.0.0", 0};
    std::mutex mutex;
    std::condition_variable cv;
    int in_flight = 0;
    bool overlapped = false;  // two of the others were starting at the same time
    std::map<std::string, int>
        in_flight_at;  // what was starting beside each start, itself included
    std::map<std::string, std::size_t> markers_at;  // start markers on disk as each started
    w.runtime.on_start = [&](const std::string& cid) {
        std::unique_lock<std::mutex> lock(mutex);
        ++in_flight;
        in_flight_at[cid] = in_flight;
        {
            std::lock_guard<std::mutex> markers(w.store.markers_mutex);
            markers_at[cid] = w.store.starting.size();
        }
        if (cid != "m" && cid != "s") {
            // Waits (bounded) for another to start beside it: only a parallel boot gets there.
            if (in_flight >= 2) overlapped = true;
            cv.notify_all();
            cv.wait_for(lock, std::chrono::seconds(5), [&] { return overlapped; });
        }
        --in_flight;
    };
    w.boot();
    const std::vector<std::string> first(w.runtime.started.begin(), w.runtime.started.begin() + 2);
    CHECK(first == std::vector<std::string>{"m@1.0.0", "s@1.0.0"});
    CHECK(in_flight_at.at("m") == 1);
    CHECK(in_flight_at.at("s") == 1);
    // Alone under its marker: a death now counts against it only.
    CHECK(markers_at.at("m") == 1);
    CHECK(markers_at.at("s") == 1);
    CHECK(overlapped);
    for (const char* cid : {"a", "b", "c", "m", "s"}) {
        CAPTURE(cid);
        CHECK(w.runtime.running(cid));
        CHECK(w.sink.state(cid) == ComponentState::running);
    }
    CHECK(w.store.starting.empty());  // every marker cleared once its start returned
}

TEST_CASE("an install the agent died in is answered before anything starts") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.store.evidence.crash = crash::CrashRecord{"SIGABRT", "cpu", "2.0.0", "start"};
    w.store.evidence.installing["cpu"] =
        PendingInstall{"req-7", "cpu", "2.0.0", "sha-2", R"({"type":"inline"})", ""};
    w.boot();
    REQUIRE(w.answered.size() == 1);
    const auto& answer = w.answered[0];
    CHECK(answer.pending.request_id == "req-7");
    CHECK(answer.rolled_back);
    CHECK(answer.from == "1.0.0");
    CHECK(answer.error == "crashed: SIGABRT in start");
    // The version that was installed before runs again; the crashing build is not registered.
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(w.store.saved.find("cpu")->enabled);
}

// An older agent's marker does not carry the entry: the first install cannot be registered.
TEST_CASE("a first MQTT install that took the agent down, older marker: answered, no status") {
    World w;
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "new", "1.0.0", "start"};
    w.store.evidence.installing["new"] = PendingInstall{"r", "new", "1.0.0", "s", "{}", ""};
    w.boot();
    CHECK_FALSE(w.answered.at(0).rolled_back);
    CHECK(w.sink.statuses.count("new") == 0);
    CHECK(w.lifecycle.views().empty());
    CHECK(w.lifecycle.not_run_error("new") == "component not found: new");
}

TEST_CASE("a first drop-in install that took the agent down, older marker: failed until gone") {
    World w;
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "new", "1.0.0", "start"};
    w.store.evidence.installing["new"] = PendingInstall{
        "", "new", "1.0.0", "s", R"({"type":"dropin","path":"/plugins.d/new-1.0.0.so"})", ""};
    w.boot();
    CHECK(w.sink.state("new") == ComponentState::quarantined);
    const auto views = w.lifecycle.views();
    REQUIRE(views.size() == 1);
    CHECK_FALSE(views[0].config_json);
    CHECK(w.lifecycle.not_run_error("new") == "component not running: new");
    CHECK(w.lifecycle.uninstall("new", Channel::mqtt, std::nullopt).noop);
    CHECK(w.sink.forgotten_ids.count("new"));
}

TEST_CASE("a first install that took the agent down in-process is installed in a child") {
    for (const std::string& source : {std::string(R"({"type":"inline"})"),
                                      std::string(R"({"type":"dropin","path":"/p.d/new.so"})")}) {
        CAPTURE(source);
        World w;
        Entry pending = entry("new", "1.0.0");
        pending.source_json = source;
        FakeRuntime::Plugin plugin;
        plugin.component_id = "new";
        plugin.version = "1.0.0";
        w.runtime.add(pending.path, plugin);
        w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "new", "1.0.0", "start"};
        w.store.evidence.installing["new"] =
            PendingInstall{"r-new",        "new",  "1.0.0",
                           pending.sha256, source, lucid::registry::entry_to_json(pending)};
        const auto problems = w.boot();

        REQUIRE(w.answered.size() == 1);
        CHECK(w.answered[0].demoted);
        CHECK_FALSE(w.answered[0].rolled_back);
        CHECK(w.answered[0].error == "crashed: SIGSEGV in start");
        const Entry* saved = w.store.saved.find("new");
        REQUIRE(saved);
        CHECK(saved->isolation == "process");
        CHECK(saved->demoted == "crashed: SIGSEGV in start");
        CHECK(saved->path == pending.path);
        CHECK(saved->source_json == source);
        CHECK(w.store.quarantined.empty());
        REQUIRE(w.runtime.options_seen.size() == 1);
        CHECK(w.runtime.options_seen[0].isolation == Isolation::process);
        CHECK(w.runtime.running("new"));
        CHECK(w.sink.statuses.at("new").demoted == "crashed: SIGSEGV in start");
        CHECK(std::find(problems.begin(), problems.end(),
                        "component new 1.0.0 took the agent down in its first start (crashed: "
                        "SIGSEGV in start): installed in process isolation") != problems.end());
    }
}

TEST_CASE("an upgrade that took the agent down is rolled back, its file removed") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.store.files.insert("cpu/2.0.0");
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "cpu", "2.0.0", "start"};
    Entry upgrade = entry("cpu", "2.0.0");
    w.store.evidence.installing["cpu"] = PendingInstall{
        "r-up", "cpu", "2.0.0", upgrade.sha256, "{}", lucid::registry::entry_to_json(upgrade)};
    w.boot();
    REQUIRE(w.answered.size() == 1);
    CHECK_FALSE(w.answered[0].demoted);
    CHECK(w.answered[0].rolled_back);
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(w.store.files.count("cpu/2.0.0") == 0);
}

TEST_CASE("installing the quarantined build again lifts the quarantine and runs it enabled") {
    World w;
    w.registered(isolated(entry("cpu", "1.0.0")));
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "cpu", "1.0.0", "start"};
    w.boot();
    REQUIRE(w.sink.state("cpu") == ComponentState::quarantined);
    auto decided = w.lifecycle.decide_install("cpu", "cpu", "1.0.0", "sha-cpu-1.0.0");
    CHECK_FALSE(decided);  // not a noop: it goes on to the install
    const Outcome outcome = w.lifecycle.install(w.order("cpu", "1.0.0"));
    REQUIRE(outcome.ok());
    CHECK_FALSE(outcome.noop);
    CHECK(w.store.quarantined.empty());
    CHECK(w.runtime.running("cpu"));
    CHECK(w.store.saved.find("cpu")->enabled);
}

TEST_CASE("another build installed over a quarantined one runs enabled, also at the next boot") {
    World w;
    w.registered(isolated(entry("cpu", "1.0.0")));
    w.store.evidence.crash = crash::CrashRecord{"SIGSEGV", "cpu", "1.0.0", "start"};
    w.boot();
    REQUIRE_FALSE(w.store.saved.find("cpu")->enabled);
    REQUIRE(w.lifecycle.install(w.order("cpu", "2.0.0")).ok());
    CHECK(w.runtime.running_version("cpu") == "2.0.0");
    CHECK(w.store.saved.find("cpu")->enabled);
}

TEST_CASE("configure proposes the stored config with the set keys replaced") {
    World w;
    Entry e = entry("cpu", "1.0.0");
    e.config_json = R"({"interval":5,"unit":"C"})";
    w.registered(e);
    w.boot();
    rapidjson::Document set;
    set.Parse(R"({"interval":10})");
    REQUIRE(w.lifecycle.configure("cpu", set).ok());
    REQUIRE(w.runtime.proposed.size() == 1);
    CHECK(w.runtime.proposed[0] == R"({"unit":"C","interval":10})");
    CHECK(w.store.saved.find("cpu")->config_json == w.runtime.proposed[0]);
    CHECK(w.sink.configs.at("cpu") == w.runtime.proposed[0]);
    CHECK(w.lifecycle.config_of("cpu") == w.runtime.proposed[0]);

    w.lifecycle.stop("cpu");
    CHECK(w.lifecycle.configure("cpu", set).error->message == "component not running: cpu");
}

TEST_CASE("a quarantined drop-in file is loaded again only once it changed") {
    World w;
    Entry e = entry("cpu", "1.0.0", false);
    e.source_json = R"({"type":"dropin","path":"/plugins.d/cpu-1.0.0.so"})";
    w.registered(e);
    w.store.quarantined["cpu"] = Quarantine{"crashed: SIGSEGV in start",
                                            "1.0.0",
                                            e.sha256,
                                            "/plugins.d/cpu-1.0.0.so",
                                            {true, 7, 42, 0}};
    w.boot();
    CHECK(w.sink.state("cpu") == ComponentState::quarantined);

    const auto blocked =
        w.lifecycle.dropin_blocked("/plugins.d/cpu-1.0.0.so", {true, 7, 42, 0}, "cpu", e.sha256);
    REQUIRE(blocked);
    CHECK(*blocked ==
          "drop-in /plugins.d/cpu-1.0.0.so not loaded: crashed: SIGSEGV in start (it is loaded "
          "again once the file changes)");
    CHECK_FALSE(w.runtime.running("cpu"));

    // Touched (another mtime): the quarantine is lifted and the same build starts again.
    CHECK_FALSE(
        w.lifecycle.dropin_blocked("/plugins.d/cpu-1.0.0.so", {true, 7, 43, 0}, "cpu", e.sha256));
    CHECK(w.store.quarantined.empty());
    CHECK(w.store.saved.find("cpu")->enabled);
    CHECK(w.runtime.running("cpu"));
}

TEST_CASE("a drop-in file removed takes the quarantine of an unregistered component along") {
    World w;
    w.store.quarantined["gone"] =
        Quarantine{"crashed", "1.0.0", "s", "/plugins.d/gone-1.0.0.so", {true, 1, 1, 0}};
    w.boot();
    CHECK(w.sink.state("gone") == ComponentState::quarantined);
    w.lifecycle.dropin_removed("/plugins.d/gone-1.0.0.so");
    CHECK(w.store.quarantined.empty());
    CHECK(w.sink.forgotten_ids.count("gone"));
}

TEST_CASE("after stop_all every command is answered as the agent stopping") {
    World w;
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    w.lifecycle.stop_all();
    CHECK_FALSE(w.runtime.running("cpu"));
    CHECK(w.lifecycle.not_run_error("cpu") == commands::CommandDispatcher::kShuttingDown);
}

// The error of an outcome, "" when it succeeded.
std::string error_text(const Outcome& outcome) {
    return outcome.ok() ? "" : outcome.error->message;
}

TEST_CASE("version floors: a committed upgrade raises it; below it only with allow_downgrade") {
    lucid::test::TempDir dir;
    World w(dir.path());
    w.registered(entry("cpu", "1.0.0"));
    w.boot();  // seeds the floor from what is installed: 1.0.0
    REQUIRE(w.lifecycle.install(w.order("cpu", "2.0.0")).ok());

    // Refused before anything is downloaded, and again under the lock for every channel.
    auto decided = w.lifecycle.decide_install("cpu", "cpu", "1.0.0", "sha-cpu-1.0.0");
    REQUIRE(decided);
    CHECK(error_text(*decided) == "downgrade refused: cpu 1.0.0 < 2.0.0");
    const Outcome refused = w.lifecycle.install(w.order("cpu", "1.0.0"));
    REQUIRE_FALSE(refused.ok());
    CHECK(error_text(refused) == "downgrade refused: cpu 1.0.0 < 2.0.0");
    CHECK_FALSE(refused.rolled_back);
    CHECK(w.runtime.running_version("cpu") == "2.0.0");
    CHECK(w.store.saved.find("cpu")->version == "2.0.0");

    // The floor survives an uninstall: a reinstall of the old version is a downgrade still.
    REQUIRE(w.lifecycle.uninstall("cpu", Channel::mqtt, std::nullopt).ok());
    CHECK(error_text(w.lifecycle.install(w.order("cpu", "1.0.0"))) ==
          "downgrade refused: cpu 1.0.0 < 2.0.0");

    InstallOrder allowed = w.order("cpu", "1.0.0");
    allowed.floor.allow_downgrade = true;
    CHECK_FALSE(w.lifecycle.decide_install("cpu", "cpu", "1.0.0", "sha-cpu-1.0.0", allowed.floor));
    REQUIRE(w.lifecycle.install(allowed).ok());
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    // The permission was for that install: the floor stays the highest version committed.
    CHECK(install::TrustState(dir.path()).load().value().at("cpu").version == "2.0.0");
}

TEST_CASE("version floors: a failed upgrade's rollback is no downgrade and raises nothing") {
    lucid::test::TempDir dir;
    World w(dir.path());
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    const Outcome failed =
        w.lifecycle.install(w.order("cpu", "2.0.0", FakeRuntime::Plugin().failing_after_start()));
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.rolled_back);
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(install::TrustState(dir.path()).load().value().at("cpu").effective() == "1.0.0");
    CHECK(w.lifecycle.install(w.order("cpu", "1.5.0")).ok());  // 1.5.0 < 2.0.0 is fine
}

TEST_CASE("version floors: a trust state that cannot be read refuses installs, places nothing") {
    lucid::test::TempDir dir;
    World w(dir.path());
    w.boot();
    std::ofstream(dir / install::kTrustStateFile, std::ios::trunc) << "{\"format\":1,";
    const Outcome refused = w.lifecycle.install(w.order("cpu", "1.0.0"));
    REQUIRE_FALSE(refused.ok());
    CHECK(error_text(refused).rfind("install refused: trust state " +
                                        (dir / install::kTrustStateFile).string() +
                                        " cannot be read: invalid JSON: ",
                                    0) == 0);
    CHECK(w.store.files.empty());
    CHECK_FALSE(w.store.saved.find("cpu"));
}

TEST_CASE("version floors: the abort of the rollout that raised it may go back") {
    lucid::test::TempDir dir;
    World w(dir.path());
    w.registered(entry("cpu", "1.0.0"));
    w.boot();
    InstallOrder rolled = w.order("cpu", "2.0.0");
    rolled.floor.rollout = "r-1";
    REQUIRE(w.lifecycle.install(rolled).ok());
    InstallOrder other_abort = w.order("cpu", "1.0.0");
    other_abort.floor.rollback_of = "r-2";
    CHECK(error_text(w.lifecycle.install(other_abort)) == "downgrade refused: cpu 1.0.0 < 2.0.0");
    InstallOrder abort = w.order("cpu", "1.0.0");
    abort.floor.rollback_of = "r-1";
    REQUIRE(w.lifecycle.install(abort).ok());
    CHECK(w.runtime.running_version("cpu") == "1.0.0");
    CHECK(install::TrustState(dir.path()).load().value().at("cpu").effective() == "1.0.0");
}
