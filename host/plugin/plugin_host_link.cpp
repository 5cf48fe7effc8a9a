#include "plugin/plugin_host_link.hpp"

namespace lucid::host {

HostLink::Call::Call(HostLink& link) : link_(link) {
    std::lock_guard<std::mutex> lock(link_.mutex_);
    services = link_.services_;
    if (services) ++link_.calls_;
}

HostLink::Call::~Call() {
    if (!services) return;
    std::lock_guard<std::mutex> lock(link_.mutex_);
    if (--link_.calls_ == 0) link_.calls_ended_.notify_all();
}

bool HostLink::publish(const std::string& topic, const std::string& payload, int qos, bool retain) {
    Call call(*this);
    return call.services && call.services->publish(topic, payload, qos, retain);
}

bool HostLink::publish_metric(const std::string& component_id, const std::string& metric,
                              double value, const std::string& unit) {
    Call call(*this);
    return call.services && call.services->publish_metric(component_id, metric, value, unit);
}

std::optional<contract::CommandRequest> HostLink::admit_command(const std::string& component_id,
                                                                const std::string& action,
                                                                const std::string& payload) {
    Call call(*this);
    if (!call.services) return std::nullopt;
    return call.services->admit_command(component_id, action, payload);
}

void HostLink::answer_command(const std::string& component_id, const std::string& action,
                              const contract::CommandRequest& request, contract::Result result) {
    Call call(*this);
    if (call.services) {
        call.services->answer_command(component_id, action, request, std::move(result));
    }
}

void HostLink::refuse_command(const std::string& component_id, const std::string& action,
                              const std::string& payload, const std::string& error) {
    Call call(*this);
    if (call.services) call.services->refuse_command(component_id, action, payload, error);
}

std::string HostLink::not_run_error(const std::string& component_id) {
    Call call(*this);
    return call.services ? call.services->not_run_error(component_id)
                         : "component not running: " + component_id;
}

void HostLink::subscribe(const std::string& component_id, std::uint64_t subscription,
                         const std::string& filter, int qos) {
    Call call(*this);
    if (call.services) call.services->subscribe(component_id, subscription, filter, qos);
}

void HostLink::unsubscribe(const std::string& component_id, std::uint64_t subscription,
                           const std::string& filter) {
    Call call(*this);
    if (call.services) call.services->unsubscribe(component_id, subscription, filter);
}

std::chrono::system_clock::time_point HostLink::now() {
    Call call(*this);
    return call.services ? call.services->now() : std::chrono::system_clock::now();
}

void HostLink::status_changed(const std::string& component_id, const ComponentStatus& status) {
    Call call(*this);
    if (call.services) call.services->status_changed(component_id, status);
}

std::string HostLink::read_config(const std::string& component_id) {
    Call call(*this);
    return call.services ? call.services->read_config(component_id) : "{}";
}

Status HostLink::persist_config(const std::string& component_id, const std::string& json) {
    Call call(*this);
    if (!call.services) return Error{Errc::cancelled, "the component was left behind"};
    return call.services->persist_config(component_id, json);
}

void HostLink::cut() {
    std::unique_lock<std::mutex> lock(mutex_);
    services_ = nullptr;
    calls_ended_.wait(lock, [&] { return calls_ == 0; });
}

bool HostLink::connected() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return services_ != nullptr;
}

}  // namespace lucid::host
