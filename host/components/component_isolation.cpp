// core/cmd/components/configure (README "Process isolation"): where a component runs and the
// limits of its child process, persisted in its registry entry.
#include "components/audit_log.hpp"
#include "components/component_manager.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::components {

contract::Result ComponentManager::configure_isolation(const contract::CommandRequest& request) {
    const auto cid = contract::read_component_id(request.payload);
    const std::string version = cid.ok() ? lifecycle_.installed_version(cid.id) : "";
    contract::Result result = configure_isolation_request(request);
    audit({"configure", cid.echo.value_or(""), request.request_id, "", version, version}, result);
    return result;
}

contract::Result ComponentManager::configure_isolation_request(
    const contract::CommandRequest& request) {
    contract::Result result(request.request_id, now());
    const auto cid = read_component_id(request.payload, result);
    if (!cid) return result;
    const rapidjson::Value& payload = request.payload;
    std::optional<Isolation> isolation;
    if (auto it = payload.FindMember("isolation");
        it != payload.MemberEnd() && !it->value.IsNull()) {
        if (it->value.IsString()) isolation = parse_isolation(it->value.GetString());
        if (!isolation) {
            return std::move(
                result.fail("validation_error: 'isolation' must be \"in_process\" or \"process\""));
        }
    }
    std::optional<registry::Limits> limits;
    if (auto it = payload.FindMember("limits"); it != payload.MemberEnd() && !it->value.IsNull()) {
        try {
            limits = registry::read_limits(it->value);
        } catch (const std::invalid_argument& e) {
            return std::move(result.fail(std::string("validation_error: ") + e.what()));
        }
    }
    std::optional<registry::RunAs> run_as;
    if (auto it = payload.FindMember("run_as"); it != payload.MemberEnd() && !it->value.IsNull()) {
        try {
            run_as = registry::read_run_as(it->value);
        } catch (const std::invalid_argument& e) {
            return std::move(result.fail(std::string("validation_error: ") + e.what()));
        }
    }
    if (!isolation && !limits && !run_as) {
        return std::move(
            result.fail("validation_error: nothing to configure: give 'isolation', 'limits' "
                        "or 'run_as'"));
    }
    const Outcome outcome = lifecycle_.set_isolation(*cid, isolation, limits, run_as);
    if (outcome.ok() || outcome.error->code != Errc::not_found) {
        result.set("restart_required", outcome.restart_required);
    }
    if (!outcome.ok()) return std::move(result.fail(outcome.error->message));
    if (outcome.noop) result.set("noop", true);
    // What is in force now.
    const registry::Registry registry = lifecycle_.registry();
    if (const registry::Entry* entry = registry.find(*cid)) {
        const Isolation in_force = lifecycle_.isolation_of(*entry);
        result.set("isolation", to_string(in_force));
        rapidjson::Value applied;
        registry::write_limits(entry->limits, applied, result.allocator());
        result.set("limits", applied);
        rapidjson::Value user;
        registry::write_run_as(entry->run_as, user, result.allocator());
        result.set("run_as", user);
        // Kept, but nothing enforces them in the agent's own process.
        if (in_force == Isolation::in_process && !entry->limits.empty()) {
            result.set("warning",
                       "limits apply in process isolation only; " + *cid + " runs in_process");
        }
    }
    return result;
}

}  // namespace lucid::host::components
