// One component's whole lifecycle, from file to unload: what the agent core and the install
// pipeline call.
//
//   auto loaded = PluginComponent::load("/data/components/x/1.0.0/x-1.0.0-linux_x86_64.so",
//                                       services);
//   if (!loaded) report(loaded.error().message);      // bad file, ABI, name: nothing ran
//   auto started = loaded.value()->start();           // create + start on its worker
//   ...  loaded.value()->context().deliver_message(topic, payload, qos, retain);
//   auto stopped = loaded.value()->stop_and_unload();
//   if (stopped.restart_required) ...                 // the .so is still mapped
//
// Errors: results, never exceptions. Thread: load/start/stop_and_unload from one thread at a
// time (the core's component lane); context() from any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "install/plugin_manifest.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_host_services.hpp"
#include "plugin/plugin_library.hpp"

namespace lucid::host {

class PluginComponent {
  public:
    struct Options {
        // Upper bound for create/start/stop/config calls into the plugin.
        std::chrono::milliseconds call_timeout = std::chrono::seconds(10);
        // Bounds of the plugin's queue of commands and messages; unbounded by default.
        PluginWorker::Limits queue;
    };
    struct StopReport {
        bool ok = false;                // stop() returned LUCID_OK
        std::string error;              // stop's error, or why it did not return
        bool unmapped = false;          // the library left the address space
        bool restart_required = false;  // it did not: an agent restart is needed to free it
    };

    // Manifest checks, dlopen, descriptor checks (plugin_library.hpp). No plugin callback runs.
    // The error names the file; e.g. the ABI found and the one expected.
    static Expected<std::unique_ptr<PluginComponent>> load(const std::filesystem::path& file,
                                                           PluginHostServices& services,
                                                           Options options);
    static Expected<std::unique_ptr<PluginComponent>> load(const std::filesystem::path& file,
                                                           PluginHostServices& services) {
        return load(file, services, Options{});
    }

    ~PluginComponent();  // stop_and_unload() when still loaded
    PluginComponent(const PluginComponent&) = delete;
    PluginComponent& operator=(const PluginComponent&) = delete;

    // On failure the component is `failed` (status and error); unload it with stop_and_unload.
    PluginContext::StepResult start();
    // stop → destroy → close the worker → dlclose → check the library really left.
    StopReport stop_and_unload();

    // Valid until stop_and_unload().
    PluginContext& context() { return *context_; }
    const PluginManifest& manifest() const { return manifest_; }
    const std::filesystem::path& path() const { return path_; }
    ComponentStatus status() const { return context_ ? context_->status() : final_status_; }

  private:
    PluginComponent() = default;
    // A plugin stuck in a call keeps running code of its library on its worker: the library
    // and the context it uses are kept for the rest of the process instead of being freed.
    void abandon();

    std::filesystem::path path_;
    PluginManifest manifest_;
    std::unique_ptr<PluginLibrary> library_;
    std::unique_ptr<PluginContext> context_;  // destroyed before library_
    ComponentStatus final_status_;            // status() after stop_and_unload()
    bool stuck_ = false;
    bool unloaded_ = false;
};

}  // namespace lucid::host
