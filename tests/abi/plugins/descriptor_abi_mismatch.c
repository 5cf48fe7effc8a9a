/* The manifest says ABI 1.0 but the descriptor says 2.0: refused after loading, by the
 * descriptor check. */
#include <lucid/plugin.h>

static lucid_status create(const lucid_host_api* api, lucid_host* host, void** out,
                           lucid_call* call) {
    (void)api, (void)host, (void)call;
    *out = 0;
    return LUCID_OK;
}
static lucid_status start(void* instance, lucid_call* call) {
    (void)instance, (void)call;
    return LUCID_OK;
}
static void destroy(void* instance) { (void)instance; }

LUCID_PLUGIN_MANIFEST(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT)
static const lucid_plugin_descriptor descriptor = {sizeof(lucid_plugin_descriptor),
                                                   (2u << 16) | 0u,
                                                   LUCID_PLUGIN_DIST,
                                                   LUCID_PLUGIN_VERSION,
                                                   LUCID_PLUGIN_COMPONENT,
                                                   create,
                                                   start,
                                                   start,
                                                   destroy,
                                                   0};
LUCID_PLUGIN_ENTRY(&descriptor)
