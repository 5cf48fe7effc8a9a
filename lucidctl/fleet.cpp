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

std::string read_local(const std::string& file, const char* what) {
    require_regular_file(file);
    try {
        return read_file(file);
    } catch (const std::exception& e) {
        throw LocalError(std::string("cannot read the ") + what + " " + file + ": " + e.what());
    }
}

std::string desired_topic(Session& s) { return s.topics().at(topics::kDesired); }
std::string deployment_topic(Session& s) { return s.topics().at(topics::kCoreDeployment); }

std::optional<contract::Deployment> current_deployment(Session& s) {
    const auto payload = s.retained_one(deployment_topic(s));
    if (!payload) return std::nullopt;
    auto parsed = contract::parse_deployment(*payload);
    if (!parsed) return std::nullopt;
    return std::move(parsed.value());
}

// The revision a document without one gets: above the agent's applied one and above the
// document on the broker.
std::uint64_t next_revision(Session& s) {
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
    s.client().publish(desired_topic(s), "", true);
    if (!s.json()) {
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
    const std::string text = read_local(file, "desired state");
    Document doc;
    if (Status parsed = contract::parse_json_text(text, doc); !parsed || !doc.IsObject()) {
        throw LocalError(
            file + ": invalid desired state: " +
            (parsed ? std::string("the document must be a JSON object") : parsed.error().message));
    }
    if (!doc.HasMember("revision")) doc.AddMember("revision", next_revision(s), doc.GetAllocator());
    const std::string payload = contract::to_json(doc);
    auto checked = contract::parse_desired_document(payload);
    if (!checked) throw LocalError(file + ": " + checked.error().message);
    const std::uint64_t revision = checked.value().revision;
    const std::string digest = install::sha256_hex(payload);

    const std::string deployment = deployment_topic(s);
    s.client().subscribe(deployment);
    s.client().publish(desired_topic(s), payload, true);
    if (!s.json())
        s.err() << "published revision " << revision << " for " << s.target().agent_id << "\n";
    if (command_switch(s.options(), "no-wait")) return kOk;
    if (s.presence().known && !s.presence().online) {
        s.err() << "agent " << s.target().agent_id << " is " << Session::offline_since(s.presence())
                << ": it applies revision " << revision << " when it comes back\n";
        return kPending;
    }
    // Each report of this revision pushes the deadline: an install may download for long.
    auto deadline = s.deadline() + agent_bound("install");
    std::optional<contract::Deployment> last;
    while (true) {
        auto message = s.client().wait_for(
            [&](const ReceivedMessage& m) { return m.topic == deployment; }, deadline);
        if (!message) break;
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

int cmd_artifact(Session& s) {
    const std::string& sub = arg(s.options(), 1, "artifact subcommand (publish)");
    if (sub != "publish") {
        throw UsageError(unknown_word_error("artifact subcommand", sub, known_words({"artifact"})));
    }
    const std::string& file = arg(s.options(), 2, "FILE.so");
    expect_args(s.options(), 3);
    require_regular_file(file);
    auto manifest = read_manifest(file);
    if (!manifest.ok()) throw LocalError(manifest.error);
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        throw LocalError(checked.error().message);
    }
    std::string platform = registry::parse_artifact_name(file).platform_tag;
    if (auto given = command_option(s.options(), "platform")) platform = *given;
    if (platform.empty() || !contract::valid_topic_root(platform) ||
        platform.find('/') != std::string::npos) {
        throw LocalError(file +
                         " names no platform (<dist>-<version>-<platform>.so): give --platform, "
                         "e.g. --platform linux_x86_64");
    }
    const std::string bytes = read_local(file, "artifact");
    if (bytes.size() > s.target().max_artifact_bytes) {
        throw LocalError(file + " is " + std::to_string(bytes.size()) +
                         " bytes, more than max_artifact_bytes (" +
                         std::to_string(s.target().max_artifact_bytes) + ", " +
                         s.target().max_artifact_origin + "): agents would refuse it");
    }
    const auto& m = *manifest.manifest;
    const std::string topic = contract::artifacts_prefix(s.target().fleet_root) +
                              registry::normalize_dist_name(m.dist_name) + "/" + m.version + "/" +
                              platform;
    Document source(rapidjson::kObjectType);
    auto& a = source.GetAllocator();
    source.AddMember("type", "broker", a);
    source.AddMember("topic", Value(topic, a), a);
    source.AddMember("sha256", Value(install::sha256_hex(bytes), a), a);
    const std::filesystem::path sig = file + ".sig";
    std::error_code ec;
    if (std::filesystem::exists(sig, ec)) {
        source.AddMember("signature", Value(signature_file(sig), a), a);
    }
    s.client().publish(topic, bytes, true);
    if (s.json()) {
        Document out(rapidjson::kObjectType);
        auto& oa = out.GetAllocator();
        out.AddMember("topic", Value(topic, oa), oa);
        out.AddMember("bytes", Value(static_cast<std::uint64_t>(bytes.size())), oa);
        out.AddMember("component_id", Value(m.component_id, oa), oa);
        out.AddMember("platform", Value(platform, oa), oa);
        out.AddMember("source", Value(source, oa), oa);
        s.out() << contract::to_json(out) << "\n";
    } else {
        s.out() << "published " << file << " (" << bytes.size() << " bytes) retained on " << topic
                << "\nsource for " << m.component_id << " " << m.version << " on " << platform
                << ": " << contract::to_json(source) << "\n";
    }
    return kOk;
}

}  // namespace lucid::host::ctl
