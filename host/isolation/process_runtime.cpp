#include "isolation/process_runtime.hpp"

#include <algorithm>

#include "common/logging.hpp"
#include "install/plugin_manifest.hpp"

namespace lucid::host::isolation {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The plugin's services, passed through, but for its statuses: stamped with the isolation facts,
// and silenced once its child is being torn down after a crash (the crash status says it all).
class ProcessRuntime::Services final : public PluginHostServices {
  public:
    Services(PluginHostServices& inner, RunnerChannel::Measures containment, registry::RunAs run_as)
        : inner_(inner), containment_(std::move(containment)), run_as_(std::move(run_as)) {}
    void mute() { muted_ = true; }
    void set_restarts(std::uint64_t n) { restarts_ = n; }
    ComponentStatus stamp(ComponentStatus status) const {
        status.isolation = "process";
        status.containment = containment_;
        status.run_as = run_as_;
        status.restarts = restarts_;
        return status;
    }

    bool publish(const std::string& t, const std::string& p, int q, bool r) override {
        return inner_.publish(t, p, q, r);
    }
    bool publish_metric(const std::string& c, const std::string& m, double v,
                        const std::string& u) override {
        return inner_.publish_metric(c, m, v, u);
    }
    std::optional<contract::CommandRequest> admit_command(const std::string& c,
                                                          const std::string& a,
                                                          const std::string& p) override {
        return inner_.admit_command(c, a, p);
    }
    void answer_command(const std::string& c, const std::string& a,
                        const contract::CommandRequest& q, contract::Result r) override {
        inner_.answer_command(c, a, q, std::move(r));
    }
    void refuse_command(const std::string& c, const std::string& a, const std::string& p,
                        const std::string& e) override {
        inner_.refuse_command(c, a, p, e);
    }
    std::string not_run_error(const std::string& c) override { return inner_.not_run_error(c); }
    void subscribe(const std::string& c, std::uint64_t s, const std::string& f, int q) override {
        inner_.subscribe(c, s, f, q);
    }
    void unsubscribe(const std::string& c, std::uint64_t s, const std::string& f) override {
        inner_.unsubscribe(c, s, f);
    }
    void unsubscribe_all(const std::string& c) override { inner_.unsubscribe_all(c); }
    std::chrono::system_clock::time_point now() override { return inner_.now(); }
    std::string agent_id() override { return inner_.agent_id(); }
    std::string base_topic() override { return inner_.base_topic(); }
    void status_changed(const std::string& c, const ComponentStatus& status) override {
        if (!muted_) inner_.status_changed(c, stamp(status));
    }
    std::string read_config(const std::string& c) override { return inner_.read_config(c); }
    Status persist_config(const std::string& c, const std::string& j) override {
        return inner_.persist_config(c, j);
    }

  private:
    PluginHostServices& inner_;
    const RunnerChannel::Measures containment_;
    const registry::RunAs run_as_;
    std::atomic<bool> muted_{false};
    std::atomic<std::uint64_t> restarts_{0};
};

// Destroyed in reverse: the plugin (its worker joined), then its services, then the channel
// (the child gone, its reader joined).
struct ProcessRuntime::Instance {
    std::uint64_t generation = 0;
    fs::path file;
    RunOptions options;
    std::string component_id;  // the manifest's
    std::unique_ptr<RunnerChannel> channel;
    std::unique_ptr<Services> services;
    std::unique_ptr<PluginContext> plugin;
};

struct ProcessRuntime::Slot {
    std::unique_ptr<Instance> live;  // null while waiting to restart, or quarantined
    fs::path file;
    RunOptions options;
    std::deque<Clock::time_point> crashes;  // within the window
    std::uint64_t restarts = 0;
    std::optional<Clock::time_point> restart_at;
    bool quarantined = false;
    bool starting = false;                        // run() is in the plugin's start
    std::optional<RunnerChannel::Death> pending;  // its child died meanwhile
};

namespace {

std::vector<std::string> runner_args(const std::string& component_id, const fs::path& dir,
                                     const fs::path& file, const RunOptions& options) {
    const registry::Limits& limits = options.limits;
    std::vector<std::string> args{"--component", component_id, "--dir", dir.string()};
    if (!options.run_as.empty()) {
        // The plugin file is the agent's (0640 under a 0750 data dir): the runner copies it
        // while still root, and loads the copy once it runs as this user (runner/plugin_image).
        args.insert(args.end(), {"--run-as", options.run_as.user, "--plugin", file.string()});
        for (const auto& group : options.run_as.groups) args.insert(args.end(), {"--group", group});
    }
    if (limits.memory_mb)
        args.insert(args.end(), {"--memory-mb", std::to_string(*limits.memory_mb)});
    if (limits.open_files)
        args.insert(args.end(), {"--open-files", std::to_string(*limits.open_files)});
    if (limits.cpu_seconds)
        args.insert(args.end(), {"--cpu-seconds", std::to_string(*limits.cpu_seconds)});
    for (const char* p : {"/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev"}) {
        args.insert(args.end(), {"--read", p});
    }
    args.insert(args.end(), {"--read", file.parent_path().string()});
    for (const std::string& p : {dir.string(), std::string("/tmp"), std::string("/dev/null")}) {
        args.insert(args.end(), {"--write", p});
    }
    return args;
}

// Kills the child when `work` has not returned within `after`: a plugin stuck in a call is
// ended with its process, so the call returns (failed) instead of being left behind.
template <class F>
auto with_kill_guard(RunnerChannel& channel, std::chrono::milliseconds after, std::string reason,
                     F&& work) {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::thread guard([&] {
        std::unique_lock<std::mutex> lock(mutex);
        if (!cv.wait_for(lock, after, [&] { return done; })) channel.kill(reason);
    });
    auto result = work();
    {
        std::lock_guard<std::mutex> lock(mutex);
        done = true;
    }
    cv.notify_all();
    guard.join();
    return result;
}

}  // namespace

ProcessRuntime::ProcessRuntime(PluginHostServices& services, ProcessRuntimeSettings settings)
    : services_(services), settings_(std::move(settings)), stall_watch_(settings_.stall_after) {
    supervisor_ = std::thread([this] { supervise(); });
}

ProcessRuntime::~ProcessRuntime() {
    std::vector<std::string> ids;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, slot] : slots_) ids.push_back(id);
    }
    for (const auto& id : ids) stop(id);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ending_ = true;
        mapped_.clear();
    }
    wake_.notify_all();
    supervisor_.join();
}

std::chrono::milliseconds ProcessRuntime::kill_after() const {
    // Well before the plugin's own call timeout, so that the call returns (failed) rather than
    // being left behind; no later than a stalled callback is reported.
    return std::min(settings_.plugin.call_timeout / 2, settings_.stall_after);
}

void ProcessRuntime::on_quarantine(QuarantineFn fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    quarantine_ = std::move(fn);
}

Expected<std::unique_ptr<ProcessRuntime::Instance>> ProcessRuntime::launch(
    const fs::path& file, const RunOptions& options) {
    // Nothing of the plugin runs in the agent: the manifest is read from the file.
    auto manifest = read_manifest(file);
    if (!manifest.ok()) return Error{Errc::invalid, manifest.error};
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) return checked.error();
    auto instance = std::make_unique<Instance>();
    instance->file = file;
    instance->options = options;
    instance->component_id = manifest.manifest->component_id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        instance->generation = next_generation_++;
    }
    // Checked again here, not only by the command: the entry may predate the setting in force.
    if (auto refused = registry::run_as_refusal(settings_.run_as_allowed, options.run_as)) {
        return Error{Errc::refused, *refused};
    }
    const fs::path dir = settings_.component_dirs / instance->component_id;
    // The runner makes its own directory (owned by its user); the parent is the agent's, and
    // only searchable by others, so that a run_as user reaches its own directory and no other.
    std::error_code ec;
    fs::create_directories(settings_.component_dirs, ec);
    if (ec) {
        return Error{Errc::io,
                     "cannot create " + settings_.component_dirs.string() + ": " + ec.message()};
    }
    fs::permissions(settings_.component_dirs, fs::perms(0711), ec);
    auto channel = RunnerChannel::open(
        settings_.runner, runner_args(instance->component_id, dir, file, options),
        settings_.plugin.call_timeout,
        [this, cid = instance->component_id,
         gen = instance->generation](const RunnerChannel::Death& death) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                deaths_.push_back(Death{cid, gen, death});
            }
            wake_.notify_all();
        });
    if (!channel)
        return Error{channel.error().code, file.string() + ": " + channel.error().message};
    instance->channel = std::move(channel.value());
    for (const auto& [name, result] : instance->channel->containment()) {
        if (result.rfind("failed", 0) == 0) {
            return Error{Errc::refused, file.string() + ": containment " + name + " " + result};
        }
    }
    if (Status loaded = instance->channel->load(file, settings_.plugin.call_timeout); !loaded) {
        return loaded.error();
    }
    instance->services =
        std::make_unique<Services>(services_, instance->channel->containment(), options.run_as);
    instance->plugin = std::make_unique<PluginContext>(
        instance->channel->descriptor(), instance->component_id, manifest.manifest->version,
        *instance->services, settings_.plugin.call_timeout, settings_.plugin.queue,
        PluginCallbackSite{true,
                           [channel = instance->channel.get()] { return channel->posted_busy(); }});
    RunnerChannel::register_host(reinterpret_cast<lucid_host*>(instance->plugin.get()),
                                 instance->channel.get());
    return instance;
}

Expected<PluginRuntime::Mapped> ProcessRuntime::map(const fs::path& file,
                                                    const RunOptions& options) {
    auto instance = launch(file, options);
    if (!instance) return instance.error();
    std::lock_guard<std::mutex> lock(mutex_);
    const Token token = next_token_++;
    Mapped mapped{token, instance.value()->component_id};
    mapped_[token] = std::move(instance.value());
    return mapped;
}

void ProcessRuntime::discard(Token token) {
    std::unique_ptr<Instance> instance;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return;
        instance = std::move(it->second);
        mapped_.erase(it);
    }
    teardown(std::move(instance));
}

Status ProcessRuntime::start(Token token, const std::string& component_id) {
    std::unique_ptr<Instance> instance;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = mapped_.find(token);
        if (it == mapped_.end()) return Error{Errc::invalid, "no such mapped plugin"};
        instance = std::move(it->second);
        mapped_.erase(it);
        Slot& slot = slots_[component_id];
        slot = Slot{};  // a start by the lifecycle begins the crash count again
        slot.file = instance->file;
        slot.options = instance->options;
    }
    return run(std::move(instance), component_id, false);
}

Status ProcessRuntime::run(std::unique_ptr<Instance> instance, const std::string& component_id,
                           bool restart) {
    PluginContext& plugin = *instance->plugin;
    RunnerChannel& channel = *instance->channel;
    const std::uint64_t generation = instance->generation;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        auto it = slots_.find(component_id);
        if (it == slots_.end() || it->second.live) {  // stopped, or started by the lifecycle
            lock.unlock();
            teardown(std::move(instance));
            return Error{Errc::cancelled, "component stopped: " + component_id};
        }
        instance->services->set_restarts(it->second.restarts);
        it->second.live = std::move(instance);
        it->second.starting = true;
        it->second.pending.reset();
    }
    {
        std::lock_guard<std::mutex> lock(contexts_mutex_);
        contexts_[component_id] = &plugin;
    }
    stall_watch_.watch(component_id, plugin);
    const auto timeout = kill_after();
    Status started = with_kill_guard(
        channel, timeout,
        "start did not return within " + std::to_string(timeout.count()) + " ms: killed",
        [&] { return plugin.start(); });
    std::optional<RunnerChannel::Death> died;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = slots_.find(component_id);
        if (it != slots_.end()) {
            it->second.starting = false;
            died = std::move(it->second.pending);
            it->second.pending.reset();
        }
    }
    // A restart whose child dies again counts as a crash (backoff, quarantine); a start the
    // lifecycle asked for fails with the plugin's error and is not retried.
    if (died && (started || restart)) {
        handle_death(Death{component_id, generation, *died});
    } else if (!started) {
        stop(component_id);
    }
    return started;
}

void ProcessRuntime::teardown(std::unique_ptr<Instance> instance) {
    if (!instance) return;
    const std::string cid = instance->component_id;
    if (instance->plugin) {
        PluginContext& plugin = *instance->plugin;
        // A callback stuck past the stall threshold would keep stop from running at all: its
        // child goes first, so the callback returns (failed) and stop runs against a dead child.
        if (plugin.unresponsive()) instance->channel->kill("stopped while unresponsive: killed");
        const auto timeout = kill_after();
        const Status stopped = with_kill_guard(
            *instance->channel, timeout,
            "stop did not return within " + std::to_string(timeout.count()) + " ms: killed",
            [&] { return plugin.stop(); });
        // A child that is already gone cannot stop cleanly: its end was reported already.
        if (!stopped && !instance->channel->dead()) {
            logger("components")
                ->warn("component {} stopped with an error: {}", cid, stopped.error().message);
        }
        RunnerChannel::unregister_host(reinterpret_cast<lucid_host*>(instance->plugin.get()));
        if (plugin.stuck()) {
            // Its worker may still be inside a call to the channel: the child is killed (the call
            // returns at once) and both are kept for the rest of the process, as in-process
            // (PluginContext::abandon). No library is mapped here: restart_required stays false.
            instance->channel->kill("stop did not return: killed");
            PluginContext::abandon(std::move(instance->plugin));
            static std::mutex kept_mutex;
            static auto* kept = new std::vector<std::unique_ptr<Instance>>();  // never freed
            std::lock_guard<std::mutex> lock(kept_mutex);
            kept->push_back(std::move(instance));
            return;
        }
        instance->channel->unbind_host();  // a plugin thread's late call finds no context
        instance->plugin.reset();
    }
    instance->channel->close();
    instance.reset();  // joins the channel's threads: the child is reaped
}

PluginRuntime::Stopped ProcessRuntime::stop(const std::string& component_id) {
    std::unique_ptr<Instance> instance;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = slots_.find(component_id);
        if (it == slots_.end()) return {};
        instance = std::move(it->second.live);
        slots_.erase(it);
    }
    {
        std::lock_guard<std::mutex> lock(contexts_mutex_);
        contexts_.erase(component_id);
    }
    stall_watch_.unwatch(component_id);
    teardown(std::move(instance));
    services_.unsubscribe_all(component_id);
    return {true, false};
}

bool ProcessRuntime::running(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = slots_.find(component_id);
    return it != slots_.end() && !it->second.quarantined;
}

Status ProcessRuntime::propose_config(const std::string& component_id,
                                      const std::string& config_json) {
    std::lock_guard<std::mutex> lock(contexts_mutex_);
    auto it = contexts_.find(component_id);
    if (it == contexts_.end())
        return Error{Errc::refused, "component not running: " + component_id};
    return it->second->propose_config(config_json);
}

void ProcessRuntime::deliver(const std::string& component_id, std::uint64_t subscription,
                             const std::string& topic, const std::string& payload, int qos,
                             bool retain) {
    std::lock_guard<std::mutex> lock(contexts_mutex_);
    auto it = contexts_.find(component_id);
    if (it != contexts_.end()) it->second->deliver_to(subscription, topic, payload, qos, retain);
}

bool ProcessRuntime::take_command(const std::string& component_id, const std::string& action,
                                  const std::string& payload) {
    std::lock_guard<std::mutex> lock(contexts_mutex_);
    auto it = contexts_.find(component_id);
    return it != contexts_.end() && it->second->take_command(action, payload);
}

void ProcessRuntime::remove_data(const std::string& component_id) {
    std::error_code ec;
    fs::remove_all(settings_.component_dirs / component_id, ec);
    if (ec) {
        logger("components")
            ->warn("cannot remove {}: {}", (settings_.component_dirs / component_id).string(),
                   ec.message());
    }
}

// ---- the supervisor ----

void ProcessRuntime::supervise() {
    std::unique_lock<std::mutex> lock(mutex_);
    auto next_watch = Clock::now() + settings_.watch_interval;
    while (!ending_) {
        auto until = next_watch;
        for (const auto& [id, slot] : slots_) {
            if (slot.restart_at) until = std::min(until, *slot.restart_at);
        }
        wake_.wait_until(lock, until, [&] { return ending_ || !deaths_.empty(); });
        if (ending_) break;
        while (!deaths_.empty()) {
            Death death = std::move(deaths_.front());
            deaths_.pop_front();
            lock.unlock();
            handle_death(death);
            lock.lock();
        }
        lock.unlock();
        restart_due();
        if (Clock::now() >= next_watch) {
            watch();
            next_watch = Clock::now() + settings_.watch_interval;
        }
        lock.lock();
    }
}

void ProcessRuntime::handle_death(const Death& death) {
    const std::string& cid = death.component_id;
    std::unique_ptr<Instance> instance;
    ComponentStatus status;
    std::optional<std::string> quarantine_error;
    QuarantineFn quarantine;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = slots_.find(cid);
        // Stopped, replaced, or an instance that never ran (map, discard): nothing to restart.
        if (it == slots_.end() || !it->second.live ||
            it->second.live->generation != death.generation) {
            return;
        }
        Slot& slot = it->second;
        if (slot.starting) {  // run() is in the plugin's start: it decides when that returns
            slot.pending = death.death;
            return;
        }
        instance = std::move(slot.live);
        const auto now = Clock::now();
        slot.crashes.push_back(now);
        while (!slot.crashes.empty() && now - slot.crashes.front() > settings_.crash_window) {
            slot.crashes.pop_front();
        }
        std::string reason = death.death.reason;
        if (reason.rfind("limit exceeded: cpu_seconds", 0) == 0 &&
            slot.options.limits.cpu_seconds) {
            reason =
                "limit exceeded: cpu_seconds=" + std::to_string(*slot.options.limits.cpu_seconds);
        }
        const auto crashes = static_cast<int>(slot.crashes.size());
        status.state = ComponentState::failed;
        status.version = instance->plugin ? instance->plugin->status().version : std::string();
        if (crashes >= std::max(1, settings_.crashes_before_quarantine)) {
            slot.quarantined = true;
            slot.restart_at.reset();
            const auto minutes =
                std::chrono::duration_cast<std::chrono::minutes>(settings_.crash_window).count();
            quarantine_error = "quarantined: crashed " + std::to_string(crashes) + " times in " +
                               std::to_string(minutes) + " minutes (last: " + reason +
                               "); enable or re-install it to try again";
            status.error = *quarantine_error;
            quarantine = quarantine_;
        } else {
            // The first crash in the window restarts at once (a one-off fault costs no downtime);
            // then first_backoff, doubling, up to max_backoff.
            const auto backoff =
                crashes <= 1 ? std::chrono::milliseconds(0)
                             : std::min<std::chrono::milliseconds>(
                                   settings_.max_backoff,
                                   settings_.first_backoff * (1 << std::min(crashes - 2, 16)));
            slot.restart_at = now + backoff;
            status.error = reason;
        }
        slot.restarts += slot.quarantined ? 0 : 1;
        instance->services->set_restarts(slot.restarts);
        instance->services->mute();
    }
    {
        std::lock_guard<std::mutex> lock(contexts_mutex_);
        contexts_.erase(cid);
    }
    stall_watch_.unwatch(cid);
    status = instance->services->stamp(status);
    logger("components")->warn("component {} (process isolation) {}", cid, status.error);
    teardown(std::move(instance));
    services_.unsubscribe_all(cid);
    // A quarantine is shown by the lifecycle once it is on disk (registry, marker): whoever reads
    // the status then finds it kept out.
    if (quarantine_error && quarantine) {
        quarantine(cid, *quarantine_error);
    } else {
        services_.status_changed(cid, status);
    }
}

void ProcessRuntime::restart_due() {
    std::vector<std::tuple<std::string, fs::path, RunOptions>> work;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto now = Clock::now();
        for (auto& [id, slot] : slots_) {
            if (slot.restart_at && *slot.restart_at <= now && !slot.live) {
                slot.restart_at.reset();
                work.emplace_back(id, slot.file, slot.options);
            }
        }
    }
    for (auto& [cid, file, options] : work) {
        auto instance = launch(file, options);
        if (!instance) {
            logger("components")
                ->error("component {} could not be started again: {}", cid,
                        instance.error().message);
            ComponentStatus status;
            status.state = ComponentState::failed;
            status.error = instance.error().message;
            status.isolation = "process";
            services_.status_changed(cid, status);
            continue;
        }
        logger("components")->info("component {} started again in process isolation", cid);
        static_cast<void>(run(std::move(instance.value()), cid, true));
    }
}

void ProcessRuntime::watch() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, slot] : slots_) {
        if (!slot.live) continue;
        RunnerChannel& channel = *slot.live->channel;
        if (const auto& mb = slot.options.limits.memory_mb) {
            const auto rss = channel.rss_bytes();
            if (rss && *rss > *mb * 1024 * 1024) {
                channel.kill("limit exceeded: memory_mb=" + std::to_string(*mb));
                continue;
            }
        }
        if (!channel.ping(settings_.silence_limit)) {
            channel.kill("stopped answering for " +
                         std::to_string(settings_.silence_limit.count()) + " ms");
        }
    }
}

}  // namespace lucid::host::isolation
