/* A plugin built against an older 1.x header whose descriptor ends after destroy (no
 * config_changed). Its struct_size says so; the bytes after it hold a config_changed that
 * refuses everything, which the host must NOT read: it zero-fills the missing field, so config
 * changes are accepted. */
#include <lucid/plugin.h>

static lucid_status create(const lucid_host_api* api, lucid_host* host, void** out,
                           lucid_call* call) {
    (void)api, (void)host, (void)call;
    *out = 0;
    return LUCID_OK;
}
static lucid_status ok(void* instance, lucid_call* call) {
    (void)instance, (void)call;
    return LUCID_OK;
}
static void destroy(void* instance) { (void)instance; }
static lucid_status refuse(void* instance, const char* json, lucid_call* call) {
    (void)instance, (void)json, (void)call;
    return LUCID_ERR_REFUSED;
}

LUCID_PLUGIN_MANIFEST(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT)
static const lucid_plugin_descriptor descriptor = {(uint32_t)LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE,
                                                   LUCID_PLUGIN_ABI_VERSION,
                                                   LUCID_PLUGIN_DIST,
                                                   LUCID_PLUGIN_VERSION,
                                                   LUCID_PLUGIN_COMPONENT,
                                                   create,
                                                   ok,
                                                   ok,
                                                   destroy,
                                                   refuse};
LUCID_PLUGIN_ENTRY(&descriptor)
