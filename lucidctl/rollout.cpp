// Staged rollouts (contract §4.12): lucidctl drives them, the broker keeps them. The plan and
// every agent's progress are retained on `{fleet}/rollouts/{id}` after each step, so that a
// rollout whose lucidctl stopped (Ctrl-C, a closed laptop) is `paused` there and `rollout resume`
// continues it from any machine. Each agent is changed by writing its desired state (contract
// §4.11) and followed through its core/deployment.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <ostream>
#include <random>
#include <set>
#include <sstream>

#include "contract/deployment_report.hpp"
#include "contract/desired_document.hpp"
#include "contract/label_selector.hpp"
#include "contract/labels.hpp"
#include "contract/payloads.hpp"
#include "install/digest.hpp"
#include "install/plugin_manifest.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucidctl/rollout_plan.hpp"
#include "lucidctl/rollout_view.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

namespace state = rollout_agent;
using rapidjson::Document;
using rapidjson::Value;

constexpr int kInterrupted = 130;
constexpr std::uint64_t kDefaultTimeoutS = 600;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// The view of the rollout this process drives, while drive() runs (one rollout per process,
// like the interrupt flag); before it, lines go out plain.
RolloutView* g_view = nullptr;

std::string now_text() { return contract::utc_timestamp(contract::Clock::now()); }

std::string rollouts_prefix(Session& s) { return s.target().fleet_root + "/rollouts/"; }

std::string new_rollout_id() {
    std::random_device random;
    std::ostringstream id;
    std::string stamp = now_text();  // 2026-11-30T17:12:00.123Z
    stamp.erase(
        std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
        stamp.end());
    id << "r" << stamp.substr(0, 15) << "-" << std::hex << std::setw(4) << std::setfill('0')
       << (random() & 0xffff);
    std::string text = id.str();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// One above every revision the agent and the broker know of.
std::uint64_t next_revision(const FleetAgent& agent) {
    std::uint64_t highest = 0;
    if (agent.desired) {
        if (auto doc = contract::parse_desired_document(*agent.desired))
            highest = doc.value().revision;
    }
    if (agent.deployment) {
        if (agent.deployment->revision) highest = std::max(highest, *agent.deployment->revision);
        if (agent.deployment->rejected && agent.deployment->rejected->revision) {
            highest = std::max(highest, *agent.deployment->rejected->revision);
        }
    }
    return highest + 1;
}

void save(Session& s, Rollout& r) {
    if (g_view) g_view->show(r);
    r.updated_at = now_text();
    s.client().publish(rollouts_prefix(s) + r.id, rollout_json(r), true);
}

std::vector<Rollout> stored_rollouts(Session& s) {
    std::vector<Rollout> out;
    for (const auto& m : s.client().retained(rollouts_prefix(s) + "+", s.deadline())) {
        if (auto r = parse_rollout(m.payload)) out.push_back(std::move(r.value()));
    }
    return out;
}

Rollout stored_rollout(Session& s, const std::string& id) {
    // An id is a topic level: a wildcard would read whichever rollout comes first.
    const bool plain =
        !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        });
    if (!plain) throw UsageError("'" + id + "' is not a rollout id (see lucidctl rollout list)");
    auto payload = s.retained_one(rollouts_prefix(s) + id);
    if (!payload) throw LocalError("no rollout '" + id + "' under " + rollouts_prefix(s));
    auto r = parse_rollout(*payload);
    if (!r) throw LocalError("rollout '" + id + "' unreadable: " + r.error().message);
    return std::move(r.value());
}

// A line a person needs (a failure, an offline agent, a rollback), shown as it comes.
void say(Session& s, const std::string& line) {
    if (g_view) {
        g_view->event(printable(line));
    } else if (!s.json()) {
        s.out() << printable(line) << std::endl;
    }
}

// A routine step (an agent written or converged): in plain output only; a terminal shows it in
// the batch's bar.
void detail(Session& s, const std::string& line) {
    if (g_view) {
        g_view->detail(printable(line));
    } else if (!s.json()) {
        s.out() << printable(line) << std::endl;
    }
}

// How drive() shows the rollout: nothing with --json, a live block on a terminal (stdout, and
// TERM not dumb), plain lines otherwise; the block is cut to the terminal's width.
struct ViewScope {
    RolloutView view;
    explicit ViewScope(Session& s) : view(s.out(), mode(s), columns()) { g_view = &view; }
    ~ViewScope() { g_view = nullptr; }
    ViewScope(const ViewScope&) = delete;
    ViewScope& operator=(const ViewScope&) = delete;

    static RolloutView::Mode mode(Session& s) {
        if (s.json()) return RolloutView::Mode::quiet;
        const char* term = std::getenv("TERM");
        const bool dumb = term == nullptr || std::string(term) == "dumb";
        return ::isatty(STDOUT_FILENO) && !dumb ? RolloutView::Mode::live
                                                : RolloutView::Mode::plain;
    }
    static std::size_t columns() {
        winsize size{};
        return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
    }
};

// Writes the rollout's desired document for one agent (or marks it skipped).
void write_agent(Session& s, Rollout& r, const std::string& id, const FleetAgent* seen) {
    RolloutAgent& agent = r.agents[id];
    const std::string desired_topic = s.target().topic_root + "/" + id + "/desired";
    if (!r.document) {
        Document artifacts;
        artifacts.Parse(r.artifacts_json.c_str());
        if (!artifacts.HasMember(agent.platform.c_str())) {
            agent.state = state::kSkipped;
            agent.error = "no artifact for platform " +
                          (agent.platform.empty() ? std::string("(unknown)") : agent.platform);
            say(s, "  " + id + " skipped: " + agent.error);
            return;
        }
    }
    FleetAgent none;
    const FleetAgent& known = seen ? *seen : none;
    agent.previous = known.desired;
    agent.revision = next_revision(known);
    const std::string doc = compose_desired(known.desired, r.component, r.version, r.artifacts_json,
                                            r.document, agent.revision, r.id);
    agent.digest = install::sha256_hex(doc);
    s.client().publish(desired_topic, doc, true);
    agent.state = known.presence.online ? state::kApplying : state::kPending;
    const std::string line =
        "  " + id + (known.presence.online ? " writing revision " : " offline, revision ") +
        std::to_string(agent.revision) + (known.presence.online ? "" : " waits for it");
    known.presence.online ? detail(s, line) : say(s, line);
}

// An agent settled: a failure is shown as it comes, a convergence only in plain output.
void settled_line(Session& s, const std::string& id, const RolloutAgent& agent) {
    const std::string line =
        "  " + id + " " + agent.state + (agent.error.empty() ? "" : ": " + agent.error);
    agent.state == state::kConverged ? detail(s, line) : say(s, line);
}

// A settled deployment of the revision written to `agent`: converged or failed, with the error.
std::optional<std::pair<bool, std::string>> settled(const RolloutAgent& agent,
                                                    const contract::Deployment& d) {
    if (d.rejected && d.rejected->revision == agent.revision) {
        return std::make_pair(false, d.rejected->error);
    }
    if (d.revision != agent.revision || d.digest != agent.digest) return std::nullopt;
    if (d.state == contract::deployment_state::kConverged) return std::make_pair(true, "");
    if (d.state != contract::deployment_state::kFailed) return std::nullopt;
    std::string error;
    // The agent's own update first: a rollback of it (upgrade rolled back: …) is this failure.
    if (d.agent && !d.agent->error.empty()) error = "the agent: " + d.agent->error;
    for (const auto& [cid, c] : d.components) {
        if (!c.error.empty()) error += (error.empty() ? "" : "; ") + cid + ": " + c.error;
    }
    return std::make_pair(false, error.empty() ? "failed" : error);
}

// Settles the agents whose retained core/deployment already says how the revision written to
// them ended (reports that arrived while the retained messages were being read).
void absorb(Session& s, Rollout& r, const Fleet& fleet) {
    for (auto& [id, agent] : r.agents) {
        if (agent.state != state::kApplying && agent.state != state::kPending) continue;
        const auto it = fleet.find(id);
        if (it == fleet.end() || !it->second.deployment) continue;
        if (auto done = settled(agent, *it->second.deployment)) {
            agent.state = done->first ? state::kConverged : state::kFailed;
            agent.error = done->second;
            settled_line(s, id, agent);
        }
    }
}

// Follows deployments and statuses until no agent of `batch` is applying, or the deadline.
// Pending agents of any batch that come back and converge are counted as they do. False when
// interrupted.
bool follow(Session& s, Rollout& r, std::size_t batch, SteadyClock::time_point deadline) {
    const std::string& root = s.target().topic_root;
    auto busy = [&] {
        for (const auto& [id, a] : r.agents) {
            if (a.batch == batch && a.state == state::kApplying) return true;
        }
        return false;
    };
    auto waiting_pending = [&] { return batch == SIZE_MAX && r.count(state::kPending) > 0; };
    // Agents whose report of the written revision says they are updating themselves: the
    // handover takes them offline for a moment (contract §4.11 `agent`), which is no absence.
    std::set<std::string> handing_over;
    while (busy() || waiting_pending()) {
        if (g_interrupted) return false;
        if (SteadyClock::now() >= deadline) break;  // also under a steady stream of messages
        const auto slice = std::min(deadline, SteadyClock::now() + std::chrono::milliseconds(250));
        auto m = s.client().wait_for([](const ReceivedMessage&) { return true; }, slice);
        if (!m) {
            if (SteadyClock::now() >= deadline) break;
            continue;
        }
        if (m->topic == rollouts_prefix(s) + r.id) {
            // Aborted meanwhile by another lucidctl: this one stops driving, and writes nothing.
            if (str(parse_object(m->payload), "state") == "aborted") {
                r.state = "aborted";
                return false;
            }
            continue;
        }
        if (m->topic.compare(0, root.size() + 1, root + "/") != 0) continue;
        const std::string rest = m->topic.substr(root.size() + 1);
        const std::string id = rest.substr(0, rest.find('/'));
        auto it = r.agents.find(id);
        if (it == r.agents.end()) continue;
        RolloutAgent& agent = it->second;
        if (agent.state != state::kApplying && agent.state != state::kPending) continue;
        if (rest == id + "/status") {
            const bool online = str(parse_object(m->payload), "state") == "online";
            if (!online && handing_over.count(id)) continue;  // it comes back as the new build
            agent.state = online ? state::kApplying : state::kPending;
            // An agent pending since an earlier batch does not hold this one up.
            if (online && agent.batch != batch) agent.state = state::kPending;
            continue;
        }
        if (rest != id + "/core/deployment") continue;
        auto d = contract::parse_deployment(m->payload);
        if (!d) continue;
        const bool updating = d.value().revision == agent.revision &&
                              d.value().digest == agent.digest && d.value().agent &&
                              d.value().agent->action != "none" &&
                              d.value().agent->outcome == contract::deployment_outcome::kPending;
        if (updating) {
            handing_over.insert(id);
        } else {
            handing_over.erase(id);
        }
        auto done = settled(agent, d.value());
        if (!done) continue;
        agent.state = done->first ? state::kConverged : state::kFailed;
        agent.error = done->second;
        settled_line(s, id, agent);
        save(s, r);
    }
    for (auto& [id, a] : r.agents) {
        if (a.batch == batch && a.state == state::kApplying) {
            a.state = state::kTimeout;
            a.error = "no converged or failed report within " + std::to_string(r.timeout_s) + " s";
            say(s, "  " + id + " timeout");
        }
    }
    return true;
}

// The ids of the agents `keep` says yes to.
std::vector<std::string> ids_where(const Rollout& r,
                                   const std::function<bool(const RolloutAgent&)>& keep) {
    std::vector<std::string> ids;
    for (const auto& [id, a] : r.agents) {
        if (keep(a)) ids.push_back(id);
    }
    return ids;
}

// Written, not settled yet.
bool unsettled(const RolloutAgent& a) {
    return a.state == state::kApplying || a.state == state::kPending;
}

// "revision 7" of a desired document, "another document" when it has none readable.
std::string desired_revision_text(const std::string& document) {
    const auto doc = contract::parse_desired_document(document);
    return doc ? "revision " + std::to_string(doc.value().revision) : "another document";
}

// Restores the desired state the changed agents had before the rollout, each under a revision
// above every one it knows. An agent whose document is no longer the one this rollout wrote is
// left alone (and says so). Their state and error stay: why an agent failed is what an operator
// needs afterwards.
void roll_back(Session& s, Rollout& r) {
    const auto fleet = read_agents(s, ids_where(r, [](const RolloutAgent& a) {
                                       return a.state != state::kWaiting &&
                                              a.state != state::kSkipped && !a.rolled_back;
                                   }));
    for (auto& [id, a] : r.agents) {
        if (a.state == state::kWaiting || a.state == state::kSkipped || a.rolled_back) continue;
        const std::string topic = s.target().topic_root + "/" + id + "/desired";
        const auto it = fleet.find(id);
        // Someone wrote (or cleared) its desired state after this rollout did (another rollout,
        // `desired set`): restoring the old document would undo that change, so it stays.
        if (it != fleet.end() &&
            (!it->second.desired || install::sha256_hex(*it->second.desired) != a.digest)) {
            const std::string note =
                "not rolled back: its desired state changed after this rollout wrote it (" +
                (it->second.desired ? "now " + desired_revision_text(*it->second.desired)
                                    : std::string("cleared")) +
                ")";
            a.error = a.error.empty() ? note : a.error + "; " + note;
            say(s, "  " + id + " " + note);
            continue;
        }
        const std::uint64_t revision =
            std::max(a.revision + 1, it == fleet.end() ? 0 : next_revision(it->second));
        const auto doc = a.previous ? with_revision(*a.previous, revision, r.id) : std::nullopt;
        std::string note;
        if (doc) {
            s.client().publish(topic, *doc, true);
            a.revision = revision;
            a.digest = install::sha256_hex(*doc);
            note = "rolled back to its desired state before the rollout (revision " +
                   std::to_string(revision) + ")";
        } else {
            // Nothing to restore: the document goes, what the agent runs stays.
            s.client().publish(topic, "", true);
            note = "it had no desired state before the rollout: cleared; " +
                   (r.component.empty() ? std::string("its components stay")
                                        : r.component + " stays as it runs");
        }
        a.rolled_back = true;
        a.error = a.error.empty() ? note : a.error + "; " + note;
        say(s, "  " + id + " " + note);
    }
}

int finish(Session& s, Rollout& r) {
    save(s, r);
    if (s.json()) {
        s.out() << rollout_json(r) << "\n";
    } else {
        s.out() << "rollout " << r.id << ": " << r.state << " (" << r.count(state::kConverged)
                << " converged, " << r.failures() << " failed, " << r.count(state::kPending)
                << " pending, " << r.count(state::kSkipped) << " skipped, " << r.rolled_back()
                << " rolled back)\n";
        for (const auto& [id, a] : r.agents) {
            if (a.state == state::kPending) s.out() << "  still pending: " << id << "\n";
        }
    }
    if (r.state == "converged") return kOk;
    if (r.state == "pending") return kPending;
    if (r.state == "paused") return kInterrupted;
    return kCommandFailed;
}

// follow() gave up: interrupted here (paused), or aborted by another lucidctl (left as it wrote).
int stopped(Session& s, Rollout& r) {
    if (r.state == "aborted") {
        say(s, "rollout " + r.id + " was aborted meanwhile (lucidctl rollout abort); stopping");
        return kCommandFailed;
    }
    r.state = "paused";
    say(s, "paused; continue with: lucidctl rollout resume " + r.id);
    return finish(s, r);
}

// Runs the rollout from its next batch to the end.
int drive(Session& s, Rollout& r) {
    ViewScope scope(s);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::signal(SIGHUP, on_interrupt);  // the terminal closed (a laptop lid, an ssh drop)
    const std::string& root = s.target().topic_root;
    // Live reports first: nothing written below can be missed.
    s.client().subscribe(root + "/+/core/deployment");
    s.client().subscribe(root + "/+/status");
    s.client().subscribe(rollouts_prefix(s) + r.id);
    r.state = "running";
    save(s, r);
    // Reports that came while no lucidctl was driving (a resume); from here on they are
    // followed live, and each batch reads only its own agents.
    absorb(s, r, read_agents(s, ids_where(r, unsettled)));
    const auto timeout = std::chrono::seconds(r.timeout_s);
    while (r.next_batch < r.batches.size()) {
        const std::size_t b = r.next_batch;
        std::vector<std::string> to_write;
        for (const auto& id : r.batches[b]) {
            if (r.agents[id].state == state::kWaiting) to_write.push_back(id);
        }
        const auto fleet = read_agents(s, to_write);
        detail(s, "batch " + std::to_string(b + 1) + "/" + std::to_string(r.batches.size()) +
                      (b == 0 && r.canary > 0 ? " (canary)" : "") + ":");
        for (const auto& id : r.batches[b]) {
            auto& agent = r.agents[id];
            if (agent.state != state::kWaiting) continue;  // written before a pause
            const auto it = fleet.find(id);
            if (it != fleet.end()) agent.platform = it->second.platform;
            write_agent(s, r, id, it == fleet.end() ? nullptr : &it->second);
        }
        save(s, r);
        if (!follow(s, r, b, SteadyClock::now() + timeout)) return stopped(s, r);
        r.next_batch = b + 1;
        if (r.failures() > r.max_failures) {
            say(s, std::to_string(r.failures()) + " failure(s), more than --max-failures " +
                       std::to_string(r.max_failures) + ": stopping");
            r.state = "failed";
            if (r.rollback) roll_back(s, r);
            return finish(s, r);
        }
        save(s, r);
    }
    // Agents that were offline get until the timeout to come back.
    if (r.count(state::kPending) > 0) {
        say(s, "waiting up to " + std::to_string(r.timeout_s) + " s for " +
                   std::to_string(r.count(state::kPending)) + " offline agent(s)");
        absorb(s, r, read_agents(s, ids_where(r, unsettled)));
        if (!follow(s, r, SIZE_MAX, SteadyClock::now() + timeout)) return stopped(s, r);
    }
    r.state = r.failures() > 0 ? "failed" : r.count(state::kPending) > 0 ? "pending" : "converged";
    // Nothing changed anywhere is no success.
    if (r.count(state::kConverged) + r.count(state::kPending) + r.failures() == 0) {
        say(s, "no selected agent has an artifact for its platform: nothing was changed");
        r.state = "failed";
    }
    return finish(s, r);
}

// What `rollout start` rolls out: artifacts (FILE.so..., checked here and published only once
// the whole rollout was found possible; or a URL) or a whole document. Returns the files to
// publish, by platform.
std::map<std::string, std::string> read_inputs(Session& s, Rollout& r,
                                               const std::vector<std::string>& inputs) {
    const auto is_json = [](const std::string& f) {
        return f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0;
    };
    if (std::any_of(inputs.begin(), inputs.end(), is_json)) {
        if (inputs.size() != 1) {
            throw UsageError("a DESIRED.json is the only thing a rollout takes: give it alone");
        }
        // Checked as the agents will check it; each agent gets its own revision.
        r.document = read_desired_file(inputs[0], [] { return std::uint64_t{1}; });
        return {};
    }
    const auto platform_option = command_option(s.options(), "platform");
    if (platform_option && inputs.size() > 1) {
        throw UsageError(
            "--platform names the platform of one artifact; several FILE.so name "
            "theirs in their file names");
    }
    if (platform_option && !contract::valid_platform_tag(*platform_option)) {
        throw UsageError("--platform '" + *platform_option +
                         "' is not a platform tag ([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
    }
    Document artifacts(rapidjson::kObjectType);
    auto& a = artifacts.GetAllocator();
    std::map<std::string, std::string> files;
    for (const auto& input : inputs) {
        std::string cid, version, platform;
        Document src(rapidjson::kObjectType);
        if (input.find("://") != std::string::npos) {
            const auto sha = command_option(s.options(), "sha256");
            const auto id = command_option(s.options(), "id");
            if (!sha || !id) throw UsageError("a URL needs --id and --sha256");
            const std::string name = input.substr(0, input.find_first_of("?#"));
            try {
                const auto parsed =
                    registry::parse_artifact_name(name.substr(name.find_last_of('/') + 1));
                version = parsed.version;
                platform = platform_option.value_or(parsed.platform_tag);
            } catch (const std::exception& e) {
                throw LocalError(e.what());
            }
            cid = *id;
            src.AddMember("type", "url", src.GetAllocator());
            src.AddMember("url", Value(input, src.GetAllocator()), src.GetAllocator());
            src.AddMember("sha256", Value(*sha, src.GetAllocator()), src.GetAllocator());
        } else {
            require_regular_file(input);
            // Any machine: the artifacts of a multi-arch rollout are not this host's.
            auto manifest = read_manifest(input, ElfMachine::any);
            if (!manifest.ok()) throw LocalError(manifest.error);
            if (Status checked = check_manifest(input, *manifest.manifest); !checked) {
                throw LocalError(checked.error().message);
            }
            cid = manifest.manifest->component_id;
            version = manifest.manifest->version;
            platform = platform_option.value_or(registry::parse_artifact_name(input).platform_tag);
            if (Status fits = check_platform(input, manifest.machine, platform);
                !platform.empty() && !fits) {
                throw LocalError(fits.error().message);
            }
            files[platform] = input;  // its source once published
        }
        if (platform.empty() || !contract::valid_platform_tag(platform)) {
            throw LocalError(input +
                             " names no platform (<dist>-<version>-<platform>.so): give "
                             "--platform, e.g. --platform linux_x86_64");
        }
        if (!r.component.empty() && (cid != r.component || version != r.version)) {
            throw LocalError("every artifact of a rollout is one component and version: " + input +
                             " is " + cid + " " + version + ", not " + r.component + " " +
                             r.version);
        }
        if (artifacts.HasMember(platform.c_str())) {
            throw LocalError("two artifacts for platform " + platform);
        }
        r.component = cid;
        r.version = version;
        Value entry(rapidjson::kObjectType);
        entry.AddMember("source", Value(src, a), a);
        artifacts.AddMember(Value(platform, a), entry, a);
    }
    r.artifacts_json = contract::to_json(artifacts);
    return files;
}

// Publishes the FILE.so of a rollout and puts their broker sources into its artifacts.
void publish_inputs(Session& s, Rollout& r, const std::map<std::string, std::string>& files) {
    Document artifacts;
    artifacts.Parse(r.artifacts_json.c_str());
    auto& a = artifacts.GetAllocator();
    for (const auto& [platform, file] : files) {
        const auto p = publish_artifact(s, file, platform);
        say(s, "published " + file + " on " + p.topic);
        Document source;
        source.Parse(p.source_json.c_str());
        artifacts[platform.c_str()]["source"] = Value(source, a);
    }
    r.artifacts_json = contract::to_json(artifacts);
}

int cmd_rollout_start(Session& s) {
    const auto& words = s.options().words;
    if (words.size() < 3) throw UsageError("missing FILE.so..., URL or DESIRED.json");
    const auto selector_text = command_option(s.options(), "select");
    if (!selector_text) throw UsageError("--select is required (--select '' for every agent)");
    auto selector = contract::parse_label_selector(*selector_text);
    if (!selector) throw UsageError(selector.error().message);
    const bool dry_run = command_switch(s.options(), "dry-run");

    Rollout r;
    r.id = new_rollout_id();
    r.created_at = now_text();
    r.selector = *selector_text;
    r.rollback = !command_switch(s.options(), "no-rollback");
    r.timeout_s = s.options().timeout_given
                      // Whole seconds, rounded up: --timeout 1.5 waits 2 s, never 1.
                      ? static_cast<std::uint64_t>((s.options().timeout.count() + 999) / 1000)
                      : kDefaultTimeoutS;
    // Everything that can be refused is, before anything is published or written.
    for (const char* option : {"canary", "batch", "max-failures"}) {
        if (auto text = command_option(s.options(), option)) {
            auto n = parse_count(*text, 100, (std::string("--") + option).c_str(),
                                 std::string(option) == "batch");
            if (!n) throw UsageError(n.error().message);
        }
    }
    const auto files = read_inputs(s, r, std::vector<std::string>(words.begin() + 2, words.end()));

    const auto fleet = read_fleet(s);
    // The canary must be able to say something: online agents first.
    std::vector<std::string> ids;
    for (const bool online : {true, false}) {
        for (const auto& [id, agent] : fleet) {
            if (agent.presence.online == online && selector.value().matches(agent.labels)) {
                ids.push_back(id);
            }
        }
    }
    if (ids.empty()) throw LocalError("no agent matches --select '" + *selector_text + "'");
    auto count = [&](const char* option, const char* fallback, bool at_least_one) {
        auto n = parse_count(command_option(s.options(), option).value_or(fallback), ids.size(),
                             (std::string("--") + option).c_str(), at_least_one);
        if (!n) throw UsageError(n.error().message);
        return n.value();
    };
    r.canary = std::min(count("canary", "1", false), ids.size());
    r.batch_size = count("batch", "10%", true);
    r.max_failures = count("max-failures", "0", false);
    r.batches = plan_batches(ids, r.canary, r.batch_size);
    for (std::size_t b = 0; b < r.batches.size(); ++b) {
        for (const auto& id : r.batches[b]) {
            RolloutAgent agent;
            agent.batch = b;
            agent.platform = fleet.at(id).platform;
            agent.from = fleet.at(id).installed(r.component);
            r.agents[id] = agent;
        }
    }
    if (!command_switch(s.options(), "force")) {
        for (const auto& other : stored_rollouts(s)) {
            if (!other.active()) continue;
            std::string shared;
            for (const auto& id : ids) {
                if (other.agents.count(id)) shared += (shared.empty() ? "" : ", ") + id;
            }
            if (!shared.empty()) {
                throw LocalError("rollout " + other.id + " (" + other.state + ") also targets " +
                                 shared + "; finish or abort it first, or add --force");
            }
        }
    }
    if (!dry_run) publish_inputs(s, r, files);
    if (dry_run) {
        if (s.json()) {
            s.out() << rollout_json(r) << "\n";
            return kOk;
        }
        s.out() << "rollout plan: " << ids.size() << " agent(s), "
                << (r.component.empty() ? "a desired document" : r.component + " " + r.version)
                << ", canary " << r.canary << ", batches of " << r.batch_size << ", at most "
                << r.max_failures << " failure(s), " << r.timeout_s << " s per batch"
                << (r.rollback ? "" : ", no rollback") << "\n";
        TextTable table({"BATCH", "AGENT", "PLATFORM", "FROM", "TO", "NOTE"});
        Document artifacts;
        artifacts.Parse(r.artifacts_json.c_str());
        for (const auto& [id, a] : r.agents) {
            const bool skipped = !r.document && !artifacts.HasMember(a.platform.c_str());
            table.add({std::to_string(a.batch + 1) + (a.batch == 0 && r.canary ? " canary" : ""),
                       printable(id), printable(a.platform),
                       a.from.empty() ? "-" : printable(a.from),
                       r.version.empty() ? "-" : r.version,
                       skipped                        ? "skipped: no artifact for its platform"
                       : fleet.at(id).presence.online ? ""
                                                      : "offline: pending"});
        }
        table.print(s.out());
        return kOk;
    }
    say(s, "rollout " + r.id + ": " + std::to_string(ids.size()) + " agent(s) in " +
               std::to_string(r.batches.size()) + " batch(es)");
    return drive(s, r);
}

int cmd_rollout_status(Session& s) {
    const auto& words = s.options().words;
    std::vector<Rollout> shown;
    if (words.size() > 2) {
        expect_args(s.options(), 3);
        shown.push_back(stored_rollout(s, words[2]));
    } else {
        for (auto& r : stored_rollouts(s)) {
            if (r.active()) shown.push_back(std::move(r));
        }
    }
    if (s.json()) {
        s.out() << "[";
        for (std::size_t i = 0; i < shown.size(); ++i)
            s.out() << (i ? "," : "") << rollout_json(shown[i]);
        s.out() << "]\n";
        return kOk;
    }
    if (shown.empty()) s.out() << "no active rollout (finished ones: lucidctl rollout list)\n";
    for (const auto& r : shown) {
        s.out() << "rollout " << r.id << ": " << r.state << ", "
                << (r.component.empty() ? "a desired document" : r.component + " " + r.version)
                << ", --select '" << printable(r.selector) << "', " << r.next_batch << " of "
                << r.batches.size() << " batch(es) done, updated " << r.updated_at << "\n";
        std::map<std::string, std::size_t> by_state;
        for (const auto& [id, a] : r.agents) ++by_state[a.state];
        for (const auto& [st, n] : by_state) s.out() << "  " << st << ": " << n << "\n";
        for (const auto& [id, a] : r.agents) {
            if (!a.error.empty()) {
                s.out() << "  " << printable(id) << ": " << printable(a.error) << "\n";
            } else if (a.state == state::kPending) {
                s.out() << "  " << printable(id) << ": pending (offline; its document waits)\n";
            }
        }
    }
    return kOk;
}

int cmd_rollout_list(Session& s) {
    expect_args(s.options(), 2);
    const auto all = stored_rollouts(s);
    if (s.json()) {
        s.out() << "[";
        for (std::size_t i = 0; i < all.size(); ++i)
            s.out() << (i ? "," : "") << rollout_json(all[i]);
        s.out() << "]\n";
        return kOk;
    }
    TextTable table({"ID", "STATE", "WHAT", "SELECT", "AGENTS", "CONVERGED", "FAILED", "UPDATED"});
    for (const auto& r : all) {
        table.add({r.id, r.state, r.component.empty() ? "document" : r.component + " " + r.version,
                   printable(r.selector), std::to_string(r.agents.size()),
                   std::to_string(r.count(state::kConverged)), std::to_string(r.failures()),
                   r.updated_at});
    }
    table.print(s.out());
    return kOk;
}

}  // namespace

int cmd_rollout(Session& s) {
    const std::string& sub =
        arg(s.options(), 1, "rollout subcommand (start, resume, status, abort, list)");
    if (sub == "start") return cmd_rollout_start(s);
    if (sub == "status") return cmd_rollout_status(s);
    if (sub == "list") return cmd_rollout_list(s);
    if (sub == "resume" || sub == "abort") {
        const std::string& id = arg(s.options(), 2, "rollout id");
        expect_args(s.options(), 3);
        Rollout r = stored_rollout(s, id);
        // A pending rollout goes on: its offline agents may have come back since.
        const bool resumable = r.active() || (sub == "resume" && r.state == "pending");
        if (!resumable) {
            throw LocalError("rollout " + id + " is " + r.state + ": nothing to " + sub);
        }
        if (sub == "resume" && r.state == "running" && !command_switch(s.options(), "force")) {
            throw LocalError("rollout " + id + " is running (updated " + r.updated_at +
                             "): another lucidctl may be driving it; if it is gone, resume with "
                             "--force");
        }
        if (sub == "resume") return drive(s, r);
        r.state = "aborted";
        if (r.rollback && !command_switch(s.options(), "no-rollback")) roll_back(s, r);
        return finish(s, r);
    }
    throw UsageError(unknown_word_error("rollout subcommand", sub, known_words({"rollout"})));
}

}  // namespace lucid::host::ctl
