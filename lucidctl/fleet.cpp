// The fleet verbs of one agent (contract §4.11, §9): `artifact publish` puts an artifact on the
// broker once (retained, under {fleet}/artifacts/), `desired set|get|clear|status` writes and reads
// an agent's desired state and what it did with it (core/deployment).
//
// `desired set` checks the document with the agent's own parser before publishing it, fills in
// a missing revision (one above what the agent has), then follows core/deployment until that
// revision, with the very bytes published (its digest), is converged, failed or refused.
#include <ostream>

#include "common/atomic_file.hpp"
#include "contract/deployment_report.hpp"
#include "contract/desired_document.hpp"
#include "contract/json_text.hpp"
#include "contract/payloads.hpp"
#include "install/digest.hpp"
#include "install/plugin_manifest.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;

}  // namespace

std::string read_local(const std::string& file, const char* what) {
    require_regular_file(file);
    try {
        return read_file(file);
    } catch (const std::exception& e) {
        throw LocalError(std::string("cannot read the ") + what + " " + file + ": " + e.what());
    }
}

std::string read_desired_file(const std::string& file,
                              const std::function<std::uint64_t()>& revision) {
    const std::string text = read_local(file, "desired state");
    Document doc;
    if (Status parsed = contract::parse_json_text(text, doc); !parsed || !doc.IsObject()) {
        throw LocalError(
            file + ": invalid desired state: " +
            (parsed ? std::string("the document must be a JSON object") : parsed.error().message));
    }
    if (!doc.HasMember("revision")) doc.AddMember("revision", revision(), doc.GetAllocator());
    std::string payload = contract::to_json(doc);
    if (auto checked = contract::parse_desired_document(payload); !checked) {
        throw LocalError(file + ": " + checked.error().message);
    }
    return payload;
}

namespace {

std::string desired_topic(Session& s) { return s.topics().at(topics::kDesired); }
std::string deployment_topic(Session& s) { return s.topics().at(topics::kCoreDeployment); }

std::optional<contract::Deployment> current_deployment(Session& s) {
    const auto payload = s.retained_one(deployment_topic(s));
    if (!payload) return std::nullopt;
    auto parsed = contract::parse_deployment(*payload);
    if (!parsed) return std::nullopt;
    return std::move(parsed.value());
}

// The highest revision the agent and the broker know of (0: none).
std::uint64_t highest_revision(Session& s) {
    std::uint64_t highest = 0;
    if (auto deployment = current_deployment(s); deployment && deployment->revision) {
        highest = *deployment->revision;
        if (deployment->rejected && deployment->rejected->revision) {
            highest = std::max(highest, *deployment->rejected->revision);
        }
    }
    if (auto retained = s.retained_one(desired_topic(s))) {
        if (auto doc = contract::parse_desired_document(*retained)) {
            highest = std::max(highest, doc.value().revision);
        }
    }
    return highest;
}

// The revision a document without one gets: above every one known.
std::uint64_t next_revision(Session& s) {
    const std::uint64_t highest = highest_revision(s);
    if (highest >= contract::kMaxDesiredRevision) {
        throw LocalError("agent " + s.target().agent_id + " is at the largest revision there is (" +
                         std::to_string(highest) +
                         "); to start again from 1, stop the agent and remove deployment.json "
                         "from its data directory");
    }
    return highest + 1;
}

void print_deployment(Session& s, const contract::Deployment& d) {
    s.out() << "revision " << (d.revision ? std::to_string(*d.revision) : std::string("(none)"))
            << ": " << printable(d.state) << " (platform " << printable(d.platform);
    if (d.updated_at) s.out() << ", updated " << contract::utc_timestamp(*d.updated_at);
    s.out() << ")\n";
    TextTable table({"COMPONENT", "ACTION", "VERSION", "OUTCOME", "ERROR"});
    for (const auto& [id, c] : d.components) {
        table.add({printable(id), printable(c.action),
                   c.version.empty() ? "-" : printable(c.version), printable(c.outcome),
                   c.error.empty() ? "-" : printable(c.error)});
    }
    // The agent's own update (a document's `agent`): "(agent)" is no component id.
    if (const auto& c = d.agent) {
        table.add({"(agent)", printable(c->action), printable(c->version), printable(c->outcome),
                   c->error.empty() ? "-" : printable(c->error)});
    }
    table.print(s.out());
    if (d.rejected) {
        s.out() << "refused"
                << (d.rejected->revision ? " revision " + std::to_string(*d.rejected->revision)
                                         : std::string())
                << ": " << printable(d.rejected->error) << "\n";
    }
}

int cmd_desired_status(Session& s) {
    const auto payload = s.retained_one(deployment_topic(s));
    if (!payload) {
        throw LocalError("agent " + s.target().agent_id +
                         " has published no core/deployment (never connected, or older than "
                         "desired state)");
    }
    if (s.json()) {
        s.out() << *payload << "\n";
        return kOk;
    }
    auto parsed = contract::parse_deployment(*payload);
    if (!parsed) throw std::runtime_error("core/deployment unreadable: " + parsed.error().message);
    print_deployment(s, parsed.value());
    return kOk;
}

int cmd_desired_get(Session& s) {
    const auto payload = s.retained_one(desired_topic(s));
    if (!payload) {
        if (s.json()) {
            s.out() << "null\n";
        } else {
            s.out() << "no desired state for " << s.target().agent_id << "\n";
        }
        return kOk;
    }
    s.out() << (s.json() ? *payload : printable(*payload)) << "\n";
    return kOk;
}

int cmd_desired_clear(Session& s) {
    expect_args(s.options(), 2);
    // The same guard as set: clearing a typo'd --agent would say "cleared" and change nothing.
    if (!s.presence().known && !command_switch(s.options(), "force")) {
        throw LocalError("the broker has no status of agent '" + s.target().agent_id +
                         "': is --agent right? (add --force to clear it for an agent not seen "
                         "yet)");
    }
    s.client().publish(desired_topic(s), "", true);
    if (s.json()) {
        // Scripts get JSON on success too, not an empty line to guess from.
        rapidjson::Document doc(rapidjson::kObjectType);
        auto& a = doc.GetAllocator();
        doc.AddMember("ok", true, a);
        doc.AddMember("agent_id", rapidjson::Value(s.target().agent_id, a), a);
        doc.AddMember("cleared", rapidjson::Value(desired_topic(s), a), a);
        s.out() << contract::to_json(doc) << "\n";
    } else {
        s.out() << "desired state of " << s.target().agent_id
                << " cleared: its components stay as they are\n";
    }
    return kOk;
}

// Whether `message` is the agent's last word on the document of `revision` and `digest`.
bool settled(const contract::Deployment& d, std::uint64_t revision, const std::string& digest) {
    if (d.rejected && d.rejected->revision == revision) return true;
    return d.revision == revision && d.digest == digest &&
           (d.state == contract::deployment_state::kConverged ||
            d.state == contract::deployment_state::kFailed);
}

int cmd_desired_set(Session& s) {
    const std::string& file = arg(s.options(), 2, "FILE.json");
    expect_args(s.options(), 3);
    // An agent the broker never saw is most likely a typo'd --agent; a device not yet booted
    // is the exception an operator says so for.
    if (!s.presence().known && !command_switch(s.options(), "force")) {
        throw LocalError("the broker has no status of agent '" + s.target().agent_id +
                         "': is --agent right? (add --force to publish it for an agent not seen "
                         "yet)");
    }
    bool given_revision = true;
    const std::string payload = read_desired_file(file, [&] {
        given_revision = false;
        return next_revision(s);
    });
    auto checked = contract::parse_desired_document(payload);
    const std::uint64_t revision = checked.value().revision;
    const std::string digest = install::sha256_hex(payload);
    // Refused here rather than by the agent after it replaced the document in force.
    if (given_revision) {
        if (auto d = current_deployment(s); d && d->revision && revision <= *d->revision &&
                                            !(revision == *d->revision && digest == d->digest)) {
            throw LocalError(file + ": revision " + std::to_string(revision) +
                             " is not above the agent's applied revision " +
                             std::to_string(*d->revision) +
                             " (leave 'revision' out and lucidctl picks the next one)");
        }
    }

    const std::string deployment = deployment_topic(s);
    s.client().subscribe(deployment);
    s.client().subscribe(s.topics().status());
    s.client().publish(desired_topic(s), payload, true);
    if (!s.json())
        s.err() << "published revision " << revision << " for " << s.target().agent_id << "\n";
    if (command_switch(s.options(), "no-wait")) return kOk;
    if (!s.presence().known) {
        s.err() << "agent " << s.target().agent_id << " has never connected: it applies revision "
                << revision << " when it first does\n";
        return kPending;
    }
    if (!s.presence().online) {
        s.err() << "agent " << s.target().agent_id << " is " << Session::offline_since(s.presence())
                << ": it applies revision " << revision << " when it comes back\n";
        return kPending;
    }
    // Each report of this revision pushes the deadline: an install may download for long.
    auto deadline = s.deadline() + agent_bound("install");
    std::optional<contract::Deployment> last;
    while (true) {
        auto message = s.client().wait_for(
            [&](const ReceivedMessage& m) {
                return m.topic == deployment || m.topic == s.topics().status();
            },
            deadline);
        if (!message) break;
        if (message->topic == s.topics().status()) {
            if (str(parse_object(message->payload), "state") != "offline") continue;
            s.err() << "agent " << s.target().agent_id << " went offline; it applies revision "
                    << revision << " when it comes back\n";
            return kPending;
        }
        auto parsed = contract::parse_deployment(message->payload);
        if (!parsed) continue;
        if (parsed.value().revision == revision) deadline = s.deadline() + agent_bound("install");
        if (!settled(parsed.value(), revision, digest)) continue;
        last = std::move(parsed.value());
        if (s.json()) {
            s.out() << message->payload << "\n";
        } else {
            print_deployment(s, *last);
        }
        break;
    }
    if (!last) {
        s.err() << "agent " << s.target().agent_id << " has not finished revision " << revision
                << " yet; follow it with 'lucidctl desired status'\n";
        return kPending;
    }
    const bool refused = last->rejected && last->rejected->revision == revision;
    return !refused && last->state == contract::deployment_state::kConverged ? kOk : kCommandFailed;
}

}  // namespace

int cmd_desired(Session& s) {
    const std::string& sub = arg(s.options(), 1, "desired subcommand (set, get, clear, status)");
    if (sub == "set") return cmd_desired_set(s);
    expect_args(s.options(), 2);
    if (sub == "get") return cmd_desired_get(s);
    if (sub == "clear") return cmd_desired_clear(s);
    if (sub == "status") return cmd_desired_status(s);
    throw UsageError(unknown_word_error("desired subcommand", sub, known_words({"desired"})));
}

PublishedArtifact publish_artifact(Session& s, const std::string& file,
                                   const std::optional<std::string>& platform_option) {
    require_regular_file(file);
    // Any machine: an artifact for other devices (aarch64 ones from an x86_64 laptop).
    auto manifest = read_manifest(file, ElfMachine::any);
    if (!manifest.ok()) throw LocalError(manifest.error);
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        throw LocalError(checked.error().message);
    }
    PublishedArtifact out;
    out.platform = platform_option.value_or(registry::parse_artifact_name(file).platform_tag);
    if (platform_option && !contract::valid_platform_tag(*platform_option)) {
        throw UsageError("--platform '" + *platform_option +
                         "' is not a platform tag ([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
    }
    if (out.platform.empty() || !contract::valid_platform_tag(out.platform)) {
        throw LocalError(file +
                         " names no platform (<dist>-<version>-<platform>.so): give --platform, "
                         "e.g. --platform linux_x86_64");
    }
    if (Status fits = check_platform(file, manifest.machine, out.platform); !fits) {
        throw LocalError(fits.error().message);
    }
    const std::string bytes = read_local(file, "artifact");
    if (bytes.size() > s.target().max_artifact_bytes) {
        throw LocalError(file + " is " + std::to_string(bytes.size()) +
                         " bytes, more than max_artifact_bytes (" +
                         std::to_string(s.target().max_artifact_bytes) + ", " +
                         s.target().max_artifact_origin + "): agents would refuse it");
    }
    const auto& m = *manifest.manifest;
    out.component_id = m.component_id;
    out.version = m.version;
    out.bytes = bytes.size();
    out.topic = contract::artifacts_prefix(s.target().fleet_root) +
                registry::normalize_dist_name(m.dist_name) + "/" + m.version + "/" + out.platform;
    Document source(rapidjson::kObjectType);
    auto& a = source.GetAllocator();
    source.AddMember("type", "broker", a);
    source.AddMember("topic", Value(out.topic, a), a);
    const std::string sha256 = install::sha256_hex(bytes);
    source.AddMember("sha256", Value(sha256, a), a);
    const std::filesystem::path sig = file + ".sig";
    std::error_code ec;
    if (std::filesystem::exists(sig, ec)) {
        source.AddMember("signature", Value(signature_file(sig), a), a);
    }
    out.source_json = contract::to_json(source);
    s.client().publish(out.topic, bytes, true);
    // A broker may acknowledge a message and keep nothing (mosquitto drops one over its
    // message_size_limit after the PUBACK; an ACL denies in silence): agents would then wait
    // their whole download timeout for it. Read it back.
    const auto kept = s.retained_one(out.topic);
    if (!kept || kept->size() != bytes.size() || install::sha256_hex(*kept) != sha256) {
        throw LocalError("the broker did not keep the artifact on " + out.topic + " (" +
                         std::to_string(bytes.size()) +
                         " bytes): its message size limit is smaller (mosquitto: "
                         "message_size_limit, max_packet_size), or its ACL denies this topic");
    }
    return out;
}

int cmd_artifact(Session& s) {
    const std::string& sub = arg(s.options(), 1, "artifact subcommand (publish)");
    if (sub != "publish") {
        throw UsageError(unknown_word_error("artifact subcommand", sub, known_words({"artifact"})));
    }
    const std::string& file = arg(s.options(), 2, "FILE.so");
    expect_args(s.options(), 3);
    const auto p = publish_artifact(s, file, command_option(s.options(), "platform"));
    if (s.json()) {
        Document out(rapidjson::kObjectType);
        auto& oa = out.GetAllocator();
        out.AddMember("topic", Value(p.topic, oa), oa);
        out.AddMember("bytes", Value(static_cast<std::uint64_t>(p.bytes)), oa);
        out.AddMember("component_id", Value(p.component_id, oa), oa);
        out.AddMember("platform", Value(p.platform, oa), oa);
        Document source;
        source.Parse(p.source_json.c_str());
        out.AddMember("source", Value(source, oa), oa);
        s.out() << contract::to_json(out) << "\n";
    } else {
        s.out() << "published " << file << " (" << p.bytes << " bytes) retained on " << p.topic
                << "\nsource for " << p.component_id << " " << p.version << " on " << p.platform
                << ": " << p.source_json << "\n";
    }
    return kOk;
}

}  // namespace lucid::host::ctl
