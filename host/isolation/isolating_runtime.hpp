// The agent's PluginRuntime: each component in the runtime its isolation names (RunOptions),
// in-process (InProcessRuntime) or in a child process (ProcessRuntime). The lifecycle sees one
// runtime; a component moves from one to the other by a stop and a start.
//
// Thread: the port's rules (lifecycle_ports.hpp). Errors: the chosen runtime's.
#pragma once

#include <map>
#include <mutex>

#include "plugin/plugin_runtime.hpp"

namespace lucid::host::isolation {

class IsolatingRuntime final : public PluginRuntime {
  public:
    // Both outlive this.
    IsolatingRuntime(PluginRuntime& in_process, PluginRuntime& process);

    Expected<Mapped> map(const std::filesystem::path& file, const RunOptions& options) override;
    Status start(Token token, const std::string& component_id) override;
    void discard(Token token) override;
    Stopped stop(const std::string& component_id) override;
    bool running(const std::string& component_id) const override;
    Status propose_config(const std::string& component_id, const std::string& config_json) override;
    void deliver(const std::string& component_id, std::uint64_t subscription,
                 const std::string& topic, const std::string& payload, int qos,
                 bool retain) override;
    bool take_command(const std::string& component_id, const std::string& action,
                      const std::string& payload) override;
    void remove_data(const std::string& component_id) override;

  private:
    PluginRuntime* of(const std::string& component_id) const;

    PluginRuntime& in_process_;
    PluginRuntime& process_;
    mutable std::mutex mutex_;
    Token next_token_ = 1;
    std::map<Token, std::pair<PluginRuntime*, Token>> mapped_;
    std::map<std::string, PluginRuntime*> started_;  // cid -> the runtime it is in
};

}  // namespace lucid::host::isolation
