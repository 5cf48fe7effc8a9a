#include "plugin/plugin_library.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS
#endif
#include <boost/dll/shared_library.hpp>

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
    const lucid_plugin_descriptor* theirs = entry();
    if (theirs == nullptr) return fail(where + LUCID_PLUGIN_ENTRY_SYMBOL " returned NULL");
    // The first two fields are the same in every version: read them before trusting the size.
    if (LUCID_ABI_MAJOR_OF(theirs->abi_version) != LUCID_PLUGIN_ABI_MAJOR) {
        return fail(where + "plugin ABI " +
                    std::to_string(LUCID_ABI_MAJOR_OF(theirs->abi_version)) + "." +
                    std::to_string(LUCID_ABI_MINOR_OF(theirs->abi_version)) +
                    " is not supported; this host expects ABI " +
                    std::to_string(LUCID_PLUGIN_ABI_MAJOR) + ".x");
    }
    if (theirs->struct_size < LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE) {
        return fail(where + "descriptor too small (" + std::to_string(theirs->struct_size) +
                    " bytes, at least " + std::to_string(LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE) +
                    " expected)");
    }
    // OBS-style copy: a smaller (older) struct leaves our newer fields zero, a larger (newer)
    // one is cut to what this host knows.
    std::memcpy(&self->descriptor_, theirs,
                std::min<std::size_t>(theirs->struct_size, sizeof(lucid_plugin_descriptor)));
    self->descriptor_.struct_size = sizeof(lucid_plugin_descriptor);
    const lucid_plugin_descriptor& d = self->descriptor_;
    if (!d.create || !d.start || !d.stop || !d.destroy) {
        return fail(where + "descriptor lacks create, start, stop or destroy");
    }
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
