#include "components/component_payloads.hpp"

#include <rapidjson/document.h>

#include "contract/payloads.hpp"

namespace lucid::host::components {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Document envelope(contract::Clock::time_point now) {
    Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("schema", Value(contract::kSchema.data(), a), a);
    doc.AddMember("ts", Value(contract::utc_timestamp(now), a), a);
    return doc;
}

}  // namespace

std::string component_status_payload(const ComponentStatus& status,
                                     contract::Clock::time_point now) {
    Document doc = envelope(now);
    auto& a = doc.GetAllocator();
    doc.AddMember("state", Value(status.state, a), a);
    doc.AddMember("version", Value(status.version, a), a);
    doc.AddMember("error", status.error.empty() ? Value() : Value(status.error, a), a);
    return contract::to_json(doc);
}

std::string component_cfg_state_payload(const std::string& config_json,
                                        contract::Clock::time_point now) {
    Document doc = envelope(now);
    auto& a = doc.GetAllocator();
    Document config;
    config.Parse(config_json.c_str());
    if (config.HasParseError() || !config.IsObject()) config.SetObject();
    doc.AddMember("cfg", Value(config, a), a);
    return contract::to_json(doc);
}

std::string install_progress_payload(const std::string& request_id, const std::string& phase,
                                     std::uint64_t bytes, std::uint64_t total,
                                     contract::Clock::time_point now) {
    Document doc = envelope(now);
    auto& a = doc.GetAllocator();
    doc.AddMember("request_id", Value(request_id, a), a);
    doc.AddMember("phase", Value(phase, a), a);
    doc.AddMember("bytes", bytes, a);
    doc.AddMember("total", total, a);
    return contract::to_json(doc);
}

}  // namespace lucid::host::components
