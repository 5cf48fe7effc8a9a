#include <doctest/doctest.h>
#include <lucid/plugin.h>

extern "C" {
size_t lucid_c_sizeof_descriptor(void);
size_t lucid_c_sizeof_host_api(void);
size_t lucid_c_offsetof_config_changed(void);
size_t lucid_c_offsetof_call_respond(void);
size_t lucid_c_sizeof_message(void);
}

TEST_CASE("the C header compiles as C11 and has the same layout in C and C++") {
    CHECK(lucid_c_sizeof_descriptor() == sizeof(lucid_plugin_descriptor));
    CHECK(lucid_c_sizeof_host_api() == sizeof(lucid_host_api));
    CHECK(lucid_c_offsetof_config_changed() == offsetof(lucid_plugin_descriptor, config_changed));
    CHECK(lucid_c_offsetof_call_respond() == offsetof(lucid_host_api, call_respond));
    CHECK(lucid_c_sizeof_message() == sizeof(lucid_message));
}

TEST_CASE("the ABI version packs major and minor") {
    CHECK(LUCID_ABI_MAJOR_OF(LUCID_PLUGIN_ABI_VERSION) == LUCID_PLUGIN_ABI_MAJOR);
    CHECK(LUCID_ABI_MINOR_OF(LUCID_PLUGIN_ABI_VERSION) == LUCID_PLUGIN_ABI_MINOR);
    CHECK(LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE < sizeof(lucid_plugin_descriptor));
}
