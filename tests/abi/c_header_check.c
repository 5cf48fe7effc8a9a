/* Proves lucid/plugin.h is valid C11 (this file is compiled as C with -Wpedantic) and that C
 * and C++ agree on the layout of every ABI struct (test_c_header.cpp compares the numbers). */
#include <lucid/plugin.h>

#if !defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L
#error "this check must be compiled as C11"
#endif

size_t lucid_c_sizeof_descriptor(void);
size_t lucid_c_sizeof_host_api(void);
size_t lucid_c_offsetof_config_changed(void);
size_t lucid_c_offsetof_call_respond(void);
size_t lucid_c_sizeof_message(void);

size_t lucid_c_sizeof_descriptor(void) { return sizeof(lucid_plugin_descriptor); }
size_t lucid_c_sizeof_host_api(void) { return sizeof(lucid_host_api); }
size_t lucid_c_offsetof_config_changed(void) {
    return offsetof(lucid_plugin_descriptor, config_changed);
}
size_t lucid_c_offsetof_call_respond(void) { return offsetof(lucid_host_api, call_respond); }
size_t lucid_c_sizeof_message(void) { return sizeof(lucid_message); }
