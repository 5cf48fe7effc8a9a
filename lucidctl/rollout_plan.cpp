#include "lucidctl/rollout_plan.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>

#include "contract/json_fields.hpp"
#include "contract/json_text.hpp"
#include "contract/payloads.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Value text(const std::string& s, Document::AllocatorType& a) { return Value(s, a); }

using contract::string_at;

std::uint64_t uint_at(const Value& object, const char* key, std::uint64_t fallback = 0) {
    return contract::uint_at(object, key).value_or(fallback);
}

// A JSON object from text; a null Value when it is not one.
Value parsed(const std::string& json, Document::AllocatorType& a) {
    Document doc;
    doc.Parse(json.c_str());
    if (doc.HasParseError() || !doc.IsObject()) return Value();
    return Value(doc, a);
}

}  // namespace

Expected<std::size_t> parse_count(const std::string& text, std::size_t total, const char* option,
                                  bool at_least_one) {
    const bool percent = !text.empty() && text.back() == '%';
    const std::string digits = percent ? text.substr(0, text.size() - 1) : text;
    const bool numeric =
        !digits.empty() && digits.size() <= 9 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned long value = numeric ? std::stoul(digits) : 0;
    if (!numeric || (percent && value > 100)) {
        return Error{Errc::invalid,
                     std::string(option) + " must be N or P% (0 to 100), got '" + text + "'"};
    }
    std::size_t count = value;
    if (percent) {
        count = static_cast<std::size_t>(std::ceil(static_cast<double>(total) * value / 100.0));
    }
    if (at_least_one && count == 0) {
        return Error{Errc::invalid,
                     std::string(option) + " must be at least 1, got '" + text + "'"};
    }
    return count;
}

std::vector<std::vector<std::string>> plan_batches(const std::vector<std::string>& ids,
                                                   std::size_t canary, std::size_t batch) {
    std::vector<std::vector<std::string>> batches;
    std::size_t at = 0;
    if (canary > 0 && !ids.empty()) {
        const std::size_t n = std::min(canary, ids.size());
        batches.emplace_back(ids.begin(), ids.begin() + static_cast<long>(n));
        at = n;
    }
    while (at < ids.size()) {
        const std::size_t n = std::min(std::max<std::size_t>(batch, 1), ids.size() - at);
        batches.emplace_back(ids.begin() + static_cast<long>(at),
                             ids.begin() + static_cast<long>(at + n));
        at += n;
    }
    return batches;
}

std::string compose_desired(const std::optional<std::string>& previous,
                            const std::string& component, const std::string& version,
                            const std::string& artifacts_json,
                            const std::optional<std::string>& whole, std::uint64_t revision,
                            const std::string& rollout) {
    Document doc;
    auto& a = doc.GetAllocator();
    if (whole) {
        doc.Parse(whole->c_str());
    } else if (previous) {
        doc.Parse(previous->c_str());
    }
    if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
    doc.RemoveMember("revision");
    doc.AddMember("revision", Value(revision), a);
    if (!rollout.empty()) {
        doc.RemoveMember("rollout");
        doc.RemoveMember("rollback_of");
        doc.AddMember("rollout", text(rollout, a), a);
    }
    if (whole) return contract::to_json(doc);
    if (!doc.HasMember("components") || !doc["components"].IsObject()) {
        doc.RemoveMember("components");
        doc.AddMember("components", Value(rapidjson::kObjectType), a);
    }
    Value& components = doc["components"];
    Value entry(rapidjson::kObjectType);
    if (auto old = components.FindMember(component.c_str()); old != components.MemberEnd()) {
        if (old->value.IsObject()) {
            for (const char* kept : {"enabled", "config"}) {
                if (auto it = old->value.FindMember(kept); it != old->value.MemberEnd()) {
                    entry.AddMember(Value(kept, a), Value(it->value, a), a);
                }
            }
        }
        components.RemoveMember(component.c_str());
    }
    entry.AddMember("version", text(version, a), a);
    entry.AddMember("artifacts", parsed(artifacts_json, a), a);
    components.AddMember(text(component, a), entry, a);
    if (auto remove = doc.FindMember("remove");
        remove != doc.MemberEnd() && remove->value.IsArray()) {
        auto& list = remove->value;
        for (auto it = list.Begin(); it != list.End();) {
            it = it->IsString() && component == it->GetString() ? list.Erase(it) : it + 1;
        }
    }
    return contract::to_json(doc);
}

std::optional<std::string> with_revision(const std::string& document, std::uint64_t revision,
                                         const std::string& rollback_of) {
    Document doc;
    doc.Parse(document.c_str());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    doc.RemoveMember("revision");
    doc.AddMember("revision", Value(revision), doc.GetAllocator());
    if (!rollback_of.empty()) {
        doc.RemoveMember("rollout");
        doc.RemoveMember("rollback_of");
        doc.AddMember("rollback_of", text(rollback_of, doc.GetAllocator()), doc.GetAllocator());
    }
    return contract::to_json(doc);
}

std::size_t Rollout::failures() const {
    return count(rollout_agent::kFailed) + count(rollout_agent::kTimeout);
}

std::size_t Rollout::count(const std::string& wanted) const {
    return static_cast<std::size_t>(
        std::count_if(agents.begin(), agents.end(),
                      [&](const auto& item) { return item.second.state == wanted; }));
}

std::size_t Rollout::rolled_back() const {
    return static_cast<std::size_t>(std::count_if(
        agents.begin(), agents.end(), [](const auto& item) { return item.second.rolled_back; }));
}

std::string rollout_json(const Rollout& r) {
    Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("schema", "lucid.rollout.v1", a);
    doc.AddMember("id", text(r.id, a), a);
    doc.AddMember("state", text(r.state, a), a);
    doc.AddMember("created_at", text(r.created_at, a), a);
    doc.AddMember("updated_at", text(r.updated_at, a), a);
    doc.AddMember("selector", text(r.selector, a), a);
    doc.AddMember("component", r.component.empty() ? Value() : text(r.component, a), a);
    doc.AddMember("version", r.version.empty() ? Value() : text(r.version, a), a);
    doc.AddMember("artifacts", parsed(r.artifacts_json, a), a);
    doc.AddMember("document", r.document ? parsed(*r.document, a) : Value(), a);
    doc.AddMember("canary", Value(static_cast<std::uint64_t>(r.canary)), a);
    doc.AddMember("batch_size", Value(static_cast<std::uint64_t>(r.batch_size)), a);
    doc.AddMember("max_failures", Value(static_cast<std::uint64_t>(r.max_failures)), a);
    doc.AddMember("timeout_s", Value(r.timeout_s), a);
    doc.AddMember("rollback", r.rollback, a);
    Value batches(rapidjson::kArrayType);
    for (const auto& batch : r.batches) {
        Value ids(rapidjson::kArrayType);
        for (const auto& id : batch) ids.PushBack(text(id, a), a);
        batches.PushBack(ids, a);
    }
    doc.AddMember("batches", batches, a);
    doc.AddMember("next_batch", Value(static_cast<std::uint64_t>(r.next_batch)), a);
    Value agents(rapidjson::kObjectType);
    for (const auto& [id, agent] : r.agents) {
        Value item(rapidjson::kObjectType);
        item.AddMember("batch", Value(static_cast<std::uint64_t>(agent.batch)), a);
        item.AddMember("platform", text(agent.platform, a), a);
        item.AddMember("state", text(agent.state, a), a);
        item.AddMember("from", agent.from.empty() ? Value() : text(agent.from, a), a);
        item.AddMember("revision", Value(agent.revision), a);
        item.AddMember("digest", text(agent.digest, a), a);
        item.AddMember("previous", agent.previous ? text(*agent.previous, a) : Value(), a);
        item.AddMember("error", agent.error.empty() ? Value() : text(agent.error, a), a);
        item.AddMember("rolled_back", agent.rolled_back, a);
        agents.AddMember(text(id, a), item, a);
    }
    doc.AddMember("agents", agents, a);
    return contract::to_json(doc);
}

Expected<Rollout> parse_rollout(const std::string& json) {
    Document doc;
    if (Status ok = contract::parse_json_text(json, doc); !ok) return ok.error();
    if (!doc.IsObject() || string_at(doc, "schema") != "lucid.rollout.v1") {
        return Error{Errc::invalid, "not a lucid rollout (schema lucid.rollout.v1)"};
    }
    Rollout r;
    r.id = string_at(doc, "id");
    r.state = string_at(doc, "state");
    r.created_at = string_at(doc, "created_at");
    r.updated_at = string_at(doc, "updated_at");
    r.selector = string_at(doc, "selector");
    r.component = string_at(doc, "component");
    r.version = string_at(doc, "version");
    if (doc.HasMember("artifacts") && doc["artifacts"].IsObject()) {
        r.artifacts_json = contract::to_json(doc["artifacts"]);
    }
    if (doc.HasMember("document") && doc["document"].IsObject()) {
        r.document = contract::to_json(doc["document"]);
    }
    r.canary = uint_at(doc, "canary");
    r.batch_size = uint_at(doc, "batch_size", 1);
    r.max_failures = uint_at(doc, "max_failures");
    r.timeout_s = uint_at(doc, "timeout_s", 600);
    r.rollback =
        !doc.HasMember("rollback") || !doc["rollback"].IsBool() || doc["rollback"].GetBool();
    if (doc.HasMember("batches") && doc["batches"].IsArray()) {
        for (const auto& batch : doc["batches"].GetArray()) {
            std::vector<std::string> ids;
            if (batch.IsArray()) {
                for (const auto& id : batch.GetArray()) {
                    if (id.IsString()) ids.emplace_back(id.GetString(), id.GetStringLength());
                }
            }
            r.batches.push_back(std::move(ids));
        }
    }
    r.next_batch = uint_at(doc, "next_batch");
    if (doc.HasMember("agents") && doc["agents"].IsObject()) {
        for (const auto& member : doc["agents"].GetObject()) {
            if (!member.value.IsObject()) continue;
            RolloutAgent agent;
            agent.batch = uint_at(member.value, "batch");
            agent.platform = string_at(member.value, "platform");
            agent.state = string_at(member.value, "state");
            agent.from = string_at(member.value, "from");
            agent.revision = uint_at(member.value, "revision");
            agent.digest = string_at(member.value, "digest");
            if (member.value.HasMember("previous") && member.value["previous"].IsString()) {
                agent.previous = string_at(member.value, "previous");
            }
            agent.error = string_at(member.value, "error");
            agent.rolled_back = member.value.HasMember("rolled_back") &&
                                member.value["rolled_back"].IsBool() &&
                                member.value["rolled_back"].GetBool();
            r.agents[{member.name.GetString(), member.name.GetStringLength()}] = agent;
        }
    }
    if (r.id.empty() || r.state.empty())
        return Error{Errc::invalid, "a rollout without id or state"};
    return r;
}

}  // namespace lucid::host::ctl
