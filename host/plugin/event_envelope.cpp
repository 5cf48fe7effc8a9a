#include "plugin/event_envelope.hpp"

#include <cstdio>
#include <mutex>
#include <random>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "contract/topics.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host {

EnvelopeResult event_envelope(const EventFields& fields, std::string_view data_json) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& alloc = doc.GetAllocator();
    rapidjson::Document data(&alloc);
    if (!data_json.empty()) {
        data.Parse(data_json.data(), data_json.size());
        if (data.HasParseError()) {
            return EnvelopeResult{{},
                                  std::string("event data is not valid JSON: ") +
                                      rapidjson::GetParseError_En(data.GetParseError())};
        }
    }
    auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), alloc); };
    doc.AddMember("id", str(fields.id), alloc);
    doc.AddMember("type", str(fields.type), alloc);
    doc.AddMember("ts", str(fields.ts), alloc);
    doc.AddMember("source", str(fields.source), alloc);
    rapidjson::Value correlation;  // null
    if (fields.correlation_id) correlation = str(*fields.correlation_id);
    doc.AddMember("correlation_id", correlation, alloc);
    doc.AddMember("data", static_cast<rapidjson::Value&>(data), alloc);

    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
    return EnvelopeResult{std::string(buffer.GetString(), buffer.GetSize()), {}};
}

std::string new_event_id() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    {
        std::lock_guard<std::mutex> lock(mutex);
        hi = rng();
        lo = rng();
    }
    hi = (hi & ~0xf000ULL) | 0x4000ULL;            // version 4
    lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);  // variant 10xx
    char text[37];
    std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff),
                  static_cast<unsigned long long>(hi & 0xffff),
                  static_cast<unsigned long long>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return text;
}

bool is_valid_event_type(std::string_view type) { return contract::valid_topic_level(type); }

bool is_valid_metric_name(std::string_view metric) { return registry::is_valid_identifier(metric); }

}  // namespace lucid::host
