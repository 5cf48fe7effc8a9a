#include "lucidctl/isolation_options.hpp"

#include <cstdlib>

#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/run_as_allowed.hpp"
#include "lucidctl/session.hpp"

namespace lucid::host::ctl {
namespace {

// --run-as USER[:GROUP,GROUP...] as the payload's run_as; --run-as-agent as {} (the agent's user).
std::optional<registry::RunAs> run_as_option(const CtlOptions& options) {
    const auto text = command_option(options, "run-as");
    const bool agent = command_switch(options, "run-as-agent");
    if (text && agent) throw UsageError("give --run-as USER or --run-as-agent, not both");
    if (agent) return registry::RunAs{};
    if (!text) return std::nullopt;
    registry::RunAs run_as;
    const auto colon = text->find(':');
    run_as.user = text->substr(0, colon);
    if (auto bad = registry::account_name_error("--run-as", run_as.user)) throw UsageError(*bad);
    if (colon != std::string::npos) {
        std::string rest = text->substr(colon + 1);
        for (;;) {
            const auto comma = rest.find(',');
            run_as.groups.push_back(rest.substr(0, comma));
            if (auto bad = registry::account_name_error("--run-as", run_as.groups.back())) {
                throw UsageError(*bad);
            }
            if (comma == std::string::npos) break;
            rest.erase(0, comma + 1);
        }
    }
    return run_as;
}

}  // namespace

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
    if (const auto run_as = run_as_option(options)) {
        rapidjson::Value value;
        registry::write_run_as(*run_as, value, a);
        payload.AddMember("run_as", value, a);
        added = true;
    }
    return added;
}

}  // namespace lucid::host::ctl
