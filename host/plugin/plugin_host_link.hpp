// A PluginContext's way to the rest of the agent (PluginHostServices), which can be cut.
//
// A plugin stuck in a callback is left behind when it is stopped (PluginContext::abandon): its
// context and library are kept for the rest of the process, and its thread may come back from
// the plugin at any time: after an uninstall, or while the agent is exiting and destroying
// the services (the MQTT session, the component manager). Once cut(), nothing that thread
// does reaches the agent any more: a late command result, status, subscription or config is
// dropped, so an uninstalled component stays gone and no freed object is touched.
//
//   HostLink host(services);
//   host.publish(topic, payload, 1, false);  // false when cut (or when services refuse)
//   host.cut();                              // waits for calls in progress, refuses the rest
//
// Thread: every member is safe from any thread. cut() waits for calls already inside the
// services, so it must not be called from inside one of them, nor while holding a lock those
// calls take (the services take none of the component lifecycle's: plugin_host_services.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "plugin/plugin_host_services.hpp"

namespace lucid::host {

class HostLink {
  public:
    explicit HostLink(PluginHostServices& services) : services_(&services) {}
    HostLink(const HostLink&) = delete;
    HostLink& operator=(const HostLink&) = delete;

    // PluginHostServices, or nothing once cut (the value after "cut:" is what is returned).
    bool publish(const std::string& topic, const std::string& payload, int qos,
                 bool retain);  // cut: false
    bool publish_metric(const std::string& component_id, const std::string& metric, double value,
                        const std::string& unit);  // cut: false
    std::optional<contract::CommandRequest> admit_command(const std::string& component_id,
                                                          const std::string& action,
                                                          const std::string& payload);  // cut: {}
    void answer_command(const std::string& component_id, const std::string& action,
                        const contract::CommandRequest& request, contract::Result result);
    void refuse_command(const std::string& component_id, const std::string& action,
                        const std::string& payload, const std::string& error);
    std::string not_run_error(const std::string& component_id);  // cut: the default's
    void subscribe(const std::string& component_id, std::uint64_t subscription,
                   const std::string& filter, int qos);
    void unsubscribe(const std::string& component_id, std::uint64_t subscription,
                     const std::string& filter);
    std::chrono::system_clock::time_point now();  // cut: the system clock
    void status_changed(const std::string& component_id, const ComponentStatus& status);
    std::string read_config(const std::string& component_id);  // cut: "{}"
    Status persist_config(const std::string& component_id,
                          const std::string& json);  // cut: says it was not stored

    void cut();
    bool connected() const;

  private:
    // Counts a call in progress for its lifetime; `services` is null when the link is cut.
    class Call {
      public:
        explicit Call(HostLink& link);
        ~Call();
        Call(const Call&) = delete;
        Call& operator=(const Call&) = delete;
        PluginHostServices* services = nullptr;

      private:
        HostLink& link_;
    };

    mutable std::mutex mutex_;
    std::condition_variable calls_ended_;
    PluginHostServices* services_;  // null once cut
    int calls_ = 0;
};

}  // namespace lucid::host
