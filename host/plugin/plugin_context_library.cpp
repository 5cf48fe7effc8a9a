// PluginContext members about the library it runs from: the loader, the unload once stopped,
// and keeping a stuck plugin for ever.
#include <mutex>
#include <vector>

#include "plugin/plugin_context.hpp"

namespace lucid::host {

Expected<std::unique_ptr<PluginContext>> PluginContext::load(const std::filesystem::path& file,
                                                             PluginHostServices& services,
                                                             Options options) {
    auto loaded = PluginLibrary::load(file);
    if (!loaded) return loaded.error();
    std::unique_ptr<PluginLibrary>& library = loaded.value();
    auto plugin = std::make_unique<PluginContext>(
        library->descriptor(), library->manifest().component_id, library->manifest().version,
        services, options.call_timeout, options.queue);
    plugin->library_ = std::move(library);
    return plugin;
}

PluginLibrary::UnloadReport PluginContext::unload() {
    if (!library_) return {};
    if (stuck()) return {false, true};  // its code may still run: never unmapped
    return library_->unload();
}

void PluginContext::abandon(std::unique_ptr<PluginContext> plugin) {
    // Whatever the stuck thread does when it comes back must not reach the agent, which may by
    // then have uninstalled the component or be destroying itself at exit.
    plugin->leave_host();
    static std::mutex mutex;
    static auto* kept = new std::vector<std::unique_ptr<PluginContext>>();  // never freed
    std::lock_guard<std::mutex> lock(mutex);
    kept->push_back(std::move(plugin));
}

}  // namespace lucid::host
