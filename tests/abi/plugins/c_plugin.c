/* A plugin written in plain C with the one-line LUCID_PLUGIN_C declaration. On start it
 * publishes "hello from C" on the relative topic "hello". */
#include <lucid/plugin.h>

typedef struct instance {
    const lucid_host_api* api;
    lucid_host* host;
} instance;

static instance the_instance;

static lucid_status create(const lucid_host_api* api, lucid_host* host, void** out,
                           lucid_call* call) {
    (void)call;
    the_instance.api = api;
    the_instance.host = host;
    *out = &the_instance;
    return LUCID_OK;
}
static lucid_status start(void* self, lucid_call* call) {
    instance* me = (instance*)self;
    (void)call;
    return me->api->publish(me->host, "hello", "hello from C", 12, 1, 0);
}
static lucid_status stop(void* self, lucid_call* call) {
    (void)self, (void)call;
    return LUCID_OK;
}
static void destroy(void* self) { (void)self; }

LUCID_PLUGIN_C(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, create, start, stop,
               destroy, NULL)
