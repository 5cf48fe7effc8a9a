#include "fleet/desired_state.hpp"

#include <rapidjson/document.h>

#include <optional>
#include <set>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "contract/json_fields.hpp"
#include "install/curl_library.hpp"
#include "install/digest.hpp"
#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::fleet {
namespace outcome = contract::deployment_outcome;
namespace state = contract::deployment_state;
namespace {

// The revision a refused document names, when it names a valid one (the document is wrong
// elsewhere): its refusal is then reported against that revision, which lucidctl counts when
// it picks the next one.
std::optional<std::uint64_t> named_revision(const std::string& payload) {
    if (registry::json_too_deep(payload)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    if (doc.HasParseError()) return std::nullopt;
    const auto revision = contract::uint_at(doc, "revision");
    if (!revision || *revision < 1 || *revision > 9007199254740991ull) return std::nullopt;
    return revision;
}

bool same_json(const std::string& a, const std::string& b) {
    rapidjson::Document x;
    rapidjson::Document y;
    x.Parse(a.c_str());
    y.Parse(b.c_str());
    if (x.HasParseError() || y.HasParseError()) return a == b;
    return x == y;
}

std::string change_of_version(const std::string& from, const std::string& to) {
    if (from.empty()) return "install";
    const auto a = registry::Version::parse(from);
    const auto b = registry::Version::parse(to);
    return a && b && *b < *a ? "downgrade" : "upgrade";
}

// Where it runs, or its limits, are not what the document says.
bool isolation_differs(const InstalledComponent& installed,
                       const contract::DesiredComponent& wanted) {
    return (wanted.isolation && *wanted.isolation != installed.isolation) ||
           (wanted.limits && !(*wanted.limits == installed.limits)) ||
           (wanted.run_as && !(*wanted.run_as == installed.run_as));
}

// What converging `wanted` will do first, seen from what is installed (nullptr: nothing).
std::string planned_action(const InstalledComponent* installed,
                           const contract::DesiredComponent& wanted) {
    if (!installed || installed->signer_revoked) return "install";
    if (installed->version != wanted.version) {
        return change_of_version(installed->version, wanted.version);
    }
    if (installed->enabled != wanted.enabled || installed->running != wanted.enabled) {
        return wanted.enabled ? "enable" : "disable";
    }
    if (wanted.config_json && !same_json(*wanted.config_json, installed->config_json)) {
        return "configure";
    }
    if (isolation_differs(*installed, wanted)) return "configure";
    return "none";
}

contract::DeploymentComponent failed(contract::DeploymentComponent c, const std::string& error) {
    c.outcome = std::string(outcome::kFailed);
    c.error = error;
    return c;
}

}  // namespace

DesiredState::DesiredState(DesiredStateSettings settings, DesiredTarget& target, PublishFn publish)
    : settings_(std::move(settings)), target_(target), publish_(std::move(publish)) {
    deployment_.platform = settings_.platform;
    std::error_code ec;
    if (!std::filesystem::exists(settings_.state_file, ec)) return;
    try {
        auto loaded = contract::parse_deployment(read_file(settings_.state_file));
        if (!loaded) throw std::runtime_error(loaded.error().message);
        deployment_ = std::move(loaded.value());
        deployment_.platform = settings_.platform;
    } catch (const std::exception& e) {
        // Without it the applied revision is forgotten: the next document is applied whatever
        // its revision. Kept aside for a look, never read again.
        load_problem_ = "desired state: cannot read " + settings_.state_file.string() + " (" +
                        e.what() +
                        "); set aside, the next document is applied whatever its revision";
        try {
            move_aside(settings_.state_file, "corrupt");
        } catch (const std::exception&) {
        }
    }
}

void DesiredState::offer(std::string payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    // The document being applied, again (the broker sends a retained message once more for a
    // subscription made again at connect): nothing changed, the apply goes on.
    if (!offered_ && applying_ == payload) return;
    offered_ = std::move(payload);
    interrupted_->store(true);
}

void DesiredState::interrupt() { interrupted_->store(true); }

void DesiredState::apply_offered() {
    std::optional<std::string> payload;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        payload.swap(offered_);
        if (!payload) return;
        interrupted_->store(false);
        applying_ = payload;
    }
    apply(*payload);
    std::lock_guard<std::mutex> lock(mutex_);
    applying_.reset();
}

std::string DesiredState::payload() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return contract::deployment_payload(deployment_, contract::Clock::now());
}

void DesiredState::apply(const std::string& payload) {
    // deployment_ changes on this lane only: reading it here needs no lock.
    if (payload.empty()) {
        if (deployment_.state == state::kNone) return;
        logger("desired")->info("desired state cleared: the components stay as they are");
        std::lock_guard<std::mutex> lock(mutex_);
        // The revision and its digest stay: the same revision with other content is still
        // refused after a clear.
        deployment_.state = std::string(state::kNone);
        deployment_.components.clear();
        deployment_.agent.reset();
        deployment_.rejected.reset();
        deployment_.updated_at = contract::Clock::now();
    } else {
        auto parsed = contract::parse_desired_document(payload);
        if (!parsed) return reject(named_revision(payload), parsed.error().message);
        const contract::DesiredDocument& doc = parsed.value();
        const std::string digest = install::sha256_hex(payload);
        const std::string revision = std::to_string(doc.revision);
        if (const auto applied = deployment_.revision) {
            if (doc.revision < *applied) {
                return reject(doc.revision,
                              "revision " + revision + " is lower than the applied revision " +
                                  std::to_string(*applied) +
                                  "; ignored (publish a higher revision to change this agent)");
            }
            const bool same = doc.revision == *applied;
            if (same && digest != deployment_.digest) {
                return reject(doc.revision, "revision " + revision +
                                                " was applied with other content; publish the "
                                                "change as a higher revision");
            }
            // Applied already: the copy a reconnect hands over again (or the applied document
            // published again after a refused one, whose refusal it clears).
            if (same &&
                (deployment_.state == state::kConverged || deployment_.state == state::kFailed)) {
                if (!deployment_.rejected) return;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    deployment_.rejected.reset();
                    deployment_.updated_at = contract::Clock::now();
                }
                return report();
            }
        }
        // Refused before anything changes: an install the pipeline would refuse for its form.
        // A URL source is checked with libcurl, loaded once for all of them (and only when one
        // is there: install/curl_library.hpp); a text that only looks like one costs a load.
        std::optional<install::CurlLease> curl;
        for (const auto& [id, wanted] : doc.components) {
            const auto source = contract::source_for_platform(wanted.sources, settings_.platform);
            if (!source) continue;  // this component fails alone, at its turn
            if (!curl && (source.value().find("\"url\"") != std::string::npos ||
                          source.value().find("github_release") != std::string::npos)) {
                if (auto lease = install::CurlLease::acquire()) curl = std::move(lease.value());
            }
            const auto checked = target_.check_install(
                {doc.revision, id, wanted.version, source.value(), wanted.config_json,
                 wanted.isolation, wanted.limits, wanted.run_as, nullptr, wanted.allow_downgrade,
                 doc.rollout, doc.rollback_of, wanted.rollback_permit});
            if (!checked) {
                return reject(doc.revision, "invalid desired state: components." + id +
                                                ".artifacts." + settings_.platform +
                                                ".source: " + checked.error().message);
            }
        }
        if (doc.agent && agent_) {
            const auto source =
                contract::source_for_platform(doc.agent->sources, settings_.platform);
            if (source) {
                const auto checked = agent_->check_update(
                    {doc.revision, doc.agent->version, source.value(), nullptr});
                if (!checked) {
                    return reject(doc.revision, "invalid desired state: agent.artifacts." +
                                                    settings_.platform +
                                                    ".source: " + checked.error().message);
                }
            }
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            deployment_.revision = doc.revision;
            deployment_.digest = digest;
            deployment_.state = std::string(state::kApplying);
            deployment_.rejected.reset();
            deployment_.components.clear();
            deployment_.agent.reset();
            deployment_.updated_at = contract::Clock::now();
        }
        logger("desired")->info("desired state revision {}: applying", revision);
        reconcile(doc);
        return;
    }
    report();
}

void DesiredState::reject(std::optional<std::uint64_t> revision, const std::string& error) {
    logger("desired")->warn("desired state refused, nothing changed: {}", error);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        deployment_.rejected = contract::Deployment::Rejected{revision, error};
        deployment_.updated_at = contract::Clock::now();
    }
    report();
}

void DesiredState::reconcile(const contract::DesiredDocument& doc) {
    const auto installed = target_.installed();
    std::set<std::string> removals(doc.remove.begin(), doc.remove.end());
    if (doc.exclusive) {
        for (const auto& [id, component] : installed) {
            if (!doc.components.count(id)) removals.insert(id);
        }
    }
    // Every step is shown pending first: an operator sees the whole plan from the start.
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& id : removals) deployment_.components[id] = {"remove", "", "pending", ""};
        for (const auto& [id, wanted] : doc.components) {
            const auto it = installed.find(id);
            deployment_.components[id] = {
                planned_action(it == installed.end() ? nullptr : &it->second, wanted),
                wanted.version, std::string(outcome::kPending), ""};
        }
        if (doc.agent) {
            const std::string own = agent_ ? agent_->version() : "";
            deployment_.agent = contract::DeploymentComponent{
                own == doc.agent->version ? "none" : change_of_version(own, doc.agent->version),
                doc.agent->version, std::string(outcome::kPending), ""};
        }
    }
    report();
    bool all_ok = true;
    auto record = [&](const std::string& id, const contract::DeploymentComponent& c) {
        all_ok = all_ok && c.outcome != outcome::kFailed;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            deployment_.components[id] = c;
            deployment_.updated_at = contract::Clock::now();
        }
        report();
    };
    auto interrupted = [&] {
        if (!interrupted_->load()) return false;
        logger("desired")->info(
            "desired state revision {}: interrupted (a newer document, or the agent stops); "
            "applied again when it comes back",
            doc.revision);
        report();
        return true;
    };
    if (doc.agent) {
        bool handed_over = false;
        auto c = converge_agent(doc, handed_over);
        if (handed_over) {
            // The new build applies this revision again; the step stays pending until then.
            logger("desired")->info(
                "desired state revision {}: the agent hands over to lucid-agent {}", doc.revision,
                doc.agent->version);
            report();
            agent_->hand_over();
            return;
        }
        // A step cut short by the interruption is not its failure: it stays pending.
        if (interrupted()) return;
        all_ok = c.outcome != outcome::kFailed;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            deployment_.agent = c;
            deployment_.updated_at = contract::Clock::now();
        }
        report();
    }
    for (const auto& id : removals) {
        if (interrupted()) return;
        contract::DeploymentComponent c{"remove", "", std::string(outcome::kUnchanged), ""};
        if (installed.count(id)) {
            const Status removed = target_.uninstall(doc.revision, id);
            c = removed ? contract::DeploymentComponent{"remove", "",
                                                        std::string(outcome::kApplied), ""}
                        : failed(c, removed.error().message);
        }
        record(id, c);
    }
    for (const auto& [id, wanted] : doc.components) {
        if (interrupted()) return;
        auto c = converge(doc, id, wanted);
        // A step cut short by the interruption is not its failure: it stays pending.
        if (interrupted_->load()) {
            interrupted();
            return;
        }
        record(id, c);
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        deployment_.state = std::string(all_ok ? state::kConverged : state::kFailed);
        deployment_.updated_at = contract::Clock::now();
    }
    logger("desired")->info("desired state revision {}: {}", doc.revision,
                            all_ok ? "converged" : "failed");
    report();
}

contract::DeploymentComponent DesiredState::converge_agent(const contract::DesiredDocument& doc,
                                                           bool& handed_over) {
    const contract::DesiredAgent& wanted = *doc.agent;
    contract::DeploymentComponent c{"none", wanted.version, std::string(outcome::kUnchanged), ""};
    if (!agent_) return failed(c, "this agent cannot update itself here");
    const std::string own = agent_->version();
    const auto source = contract::source_for_platform(wanted.sources, settings_.platform);
    // Without an artifact for this platform there is nothing to compare: the step fails alone,
    // as a component's does, whatever version runs.
    if (!source) return failed(c, source.error().message);
    const DesiredAgentStep step{doc.revision, wanted.version, source.value(), interrupted_};
    const AgentUpdateRecord record = agent_->record(step);
    if (own == wanted.version) {
        if (record.state == AgentUpdate::pending) {
            // This is the new build, not committed yet: converged only once it is for good.
            if (Status committed = agent_->await_commit(step); !committed) {
                return failed(c, committed.error().message);
            }
        }
        if (record.state == AgentUpdate::pending || record.state == AgentUpdate::committed) {
            c.action = "upgrade";
            c.outcome = std::string(outcome::kApplied);
        }
        return c;
    }
    c.action = change_of_version(own, wanted.version);
    if (record.state == AgentUpdate::rolled_back) {
        // Tried for this revision already: not again (publish a higher revision to retry).
        return failed(c, "upgrade rolled back: " + record.reason);
    }
    if (Status placed = agent_->place(step); !placed) return failed(c, placed.error().message);
    handed_over = true;
    return c;
}

contract::DeploymentComponent DesiredState::converge(const contract::DesiredDocument& doc,
                                                     const std::string& id,
                                                     const contract::DesiredComponent& wanted) {
    const std::uint64_t revision = doc.revision;
    auto current = target_.installed();
    auto it = current.find(id);
    contract::DeploymentComponent c{
        planned_action(it == current.end() ? nullptr : &it->second, wanted), wanted.version,
        std::string(outcome::kUnchanged), ""};
    bool config_given = false;
    if (it == current.end() || it->second.version != wanted.version || it->second.signer_revoked) {
        const auto source = contract::source_for_platform(wanted.sources, settings_.platform);
        if (!source) return failed(c, source.error().message);
        const Status installed = target_.install(
            {revision, id, wanted.version, source.value(), wanted.config_json, wanted.isolation,
             wanted.limits, wanted.run_as, interrupted_, wanted.allow_downgrade, doc.rollout,
             doc.rollback_of, wanted.rollback_permit});
        if (!installed) return failed(c, installed.error().message);
        c.outcome = std::string(outcome::kApplied);
        config_given = wanted.config_json.has_value();
        current = target_.installed();
        it = current.find(id);
        if (it == current.end()) return failed(c, "not installed after its install");
    }
    if (it->second.enabled != wanted.enabled || it->second.running != wanted.enabled) {
        const Status changed = target_.set_enabled(revision, id, wanted.enabled);
        if (!changed) return failed(c, changed.error().message);
        c.outcome = std::string(outcome::kApplied);
    }
    if (wanted.config_json && !config_given &&
        !same_json(*wanted.config_json, it->second.config_json)) {
        const Status configured = target_.set_config(revision, id, *wanted.config_json);
        if (!configured) return failed(c, configured.error().message);
        c.outcome = std::string(outcome::kApplied);
    }
    if (isolation_differs(it->second, wanted)) {
        const Status moved =
            target_.set_isolation(revision, id, wanted.isolation, wanted.limits, wanted.run_as);
        if (!moved) return failed(c, moved.error().message);
        c.outcome = std::string(outcome::kApplied);
    }
    return c;
}

void DesiredState::report() {
    std::string json;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        json = contract::deployment_payload(deployment_, contract::Clock::now());
    }
    try {
        write_file_atomically(settings_.state_file, json, real_file_ops(), kDataFileMode);
    } catch (const std::exception& e) {
        logger("desired")->error("cannot save the desired state's progress: {}", e.what());
    }
    publish_(json);
}

}  // namespace lucid::host::fleet
