#include "lucidctl/isolation_options.hpp"

#include <cstdlib>

#include "lucidctl/session.hpp"

namespace lucid::host::ctl {

bool add_isolation_fields(const CtlOptions& options, const std::optional<std::string>& mode,
                          rapidjson::Document& payload) {
    auto& a = payload.GetAllocator();
    bool added = false;
    if (mode) {
        if (*mode != "in_process" && *mode != "process") {
            throw UsageError("isolation must be in_process or process, got '" + *mode + "'");
        }
        payload.AddMember("isolation", rapidjson::Value(*mode, a), a);
        added = true;
    }
    rapidjson::Value limits(rapidjson::kObjectType);
    for (const char* name : {"memory-mb", "open-files", "cpu-seconds"}) {
        auto text = command_option(options, name);
        if (!text) continue;
        char* end = nullptr;
        const unsigned long long value = std::strtoull(text->c_str(), &end, 10);
        if (text->empty() || *end != '\0' || text->front() == '-' || value == 0) {
            throw UsageError(std::string("--") + name + " must be a positive integer, got '" +
                             *text + "'");
        }
        std::string key(name);
        for (char& c : key) c = c == '-' ? '_' : c;
        limits.AddMember(rapidjson::Value(key, a),
                         rapidjson::Value(static_cast<std::uint64_t>(value)), a);
    }
    if (!limits.ObjectEmpty()) {
        payload.AddMember("limits", limits, a);
        added = true;
    }
    return added;
}

}  // namespace lucid::host::ctl
