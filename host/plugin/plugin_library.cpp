#include "plugin/plugin_library.hpp"

#include <dlfcn.h>

#include <system_error>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS
#endif
#include <boost/dll/shared_library.hpp>

#include "plugin_abi/descriptor_check.hpp"

namespace lucid::host {

struct PluginLibrary::Impl {
    boost::dll::shared_library library;
};

PluginLibrary::PluginLibrary() : impl_(std::make_unique<Impl>()) {}

PluginLibrary::~PluginLibrary() {
    if (impl_->library.is_loaded()) unload();
}

Expected<std::unique_ptr<PluginLibrary>> PluginLibrary::load(const std::filesystem::path& file) {
    const std::string where = file.string() + ": ";
    auto fail = [](std::string error) { return Error{Errc::invalid, std::move(error)}; };

    // 1. Nothing of the plugin runs before these checks pass.
    ManifestResult manifest = read_manifest(file);
    if (!manifest.ok()) return fail(manifest.error);
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        return fail(checked.error().message);
    }

    // 2. From here on the plugin's static initializers have run.
    std::unique_ptr<PluginLibrary> self(new PluginLibrary());
    self->path_ = file;
    self->manifest_ = *manifest.manifest;
    std::error_code ec;
    self->impl_->library.load(file, ec,
                              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec || !self->impl_->library.is_loaded()) {
        const char* detail = dlerror();
        return fail(where + "cannot load: " + (detail ? detail : ec.message()));
    }

    // 3. The entry point and its descriptor.
    if (!self->impl_->library.has(LUCID_PLUGIN_ENTRY_SYMBOL)) {
        return fail(where + "missing entry point " LUCID_PLUGIN_ENTRY_SYMBOL
                            " (declare the plugin with LUCID_PLUGIN)");
    }
    auto entry =
        self->impl_->library.get<const lucid_plugin_descriptor*()>(LUCID_PLUGIN_ENTRY_SYMBOL);
    const std::string bad = plugin_abi::check_descriptor(entry(), where, self->descriptor_);
    if (!bad.empty()) return fail(bad);
    return self;
}

PluginLibrary::UnloadReport PluginLibrary::unload() {
    descriptor_ = lucid_plugin_descriptor{};  // no dangling function pointers
    impl_->library.unload();
    bool mapped = is_mapped(path_);
    return UnloadReport{!mapped, mapped};
}

bool PluginLibrary::is_mapped(const std::filesystem::path& file) {
    // RTLD_NOLOAD never maps anything: it only returns a handle to an already mapped object.
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return false;
    dlclose(handle);  // drop the reference NOLOAD just took
    return true;
}

}  // namespace lucid::host
