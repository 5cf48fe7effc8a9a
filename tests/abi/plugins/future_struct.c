/* A plugin built against a newer 1.7 header: a larger descriptor with fields this host does
 * not know. The host copies only what it knows and runs it. */
#include <lucid/plugin.h>

typedef struct future_descriptor {
    lucid_plugin_descriptor base;
    void (*added_in_1_3)(void);
    uint64_t added_in_1_7[4];
} future_descriptor;

static lucid_status create(const lucid_host_api* api, lucid_host* host, void** out,
                           lucid_call* call) {
    (void)call;
    *out = 0;
    /* Uses only what the host offers; a NULL pointer means "not in this host". */
    if (LUCID_HOST_HAS(api, publish)) api->publish(host, "hello", "future", 6, 1, 0);
    return LUCID_OK;
}
static lucid_status ok(void* instance, lucid_call* call) {
    (void)instance, (void)call;
    return LUCID_OK;
}
static void destroy(void* instance) { (void)instance; }
static void not_called(void) {}

LUCID_PLUGIN_MANIFEST_WITH_ABI(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, 1,
                               7)
static const future_descriptor descriptor = {
    {sizeof(future_descriptor), (1u << 16) | 7u, LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION,
     LUCID_PLUGIN_COMPONENT, create, ok, ok, destroy, 0},
    not_called,
    {1, 2, 3, 4}};
LUCID_PLUGIN_ENTRY(&descriptor.base)
