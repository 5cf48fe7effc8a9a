/* A plugin built against the 1.0 header (abi_1_0/lucid/plugin.h, frozen), as every plugin built
 * before ABI 1.1 was: it must run unchanged on a 1.1 host. On start it publishes, on the
 * relative topic "seen", the host's abi_version and struct_size as "<version> <size>", and
 * subscribes to "in"; each message there is published again on "out". */
#include <lucid/plugin.h>

#include <stdio.h>
#include <string.h>

#if LUCID_PLUGIN_ABI_MAJOR != 1 || LUCID_PLUGIN_ABI_MINOR != 0
#error "this plugin must be built against the frozen 1.0 header"
#endif

typedef struct instance {
    const lucid_host_api* api;
    lucid_host* host;
    uint64_t subscription;
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
static lucid_status on_message(void* self, const lucid_message* message) {
    instance* me = (instance*)self;
    return me->api->publish(me->host, "out", message->payload, message->payload_len, 1, 0);
}
static lucid_status start(void* self, lucid_call* call) {
    instance* me = (instance*)self;
    char seen[64];
    (void)call;
    snprintf(seen, sizeof seen, "%u %u", (unsigned)me->api->abi_version,
             (unsigned)me->api->struct_size);
    lucid_status status = me->api->publish(me->host, "seen", seen, strlen(seen), 1, 0);
    if (status != LUCID_OK) return status;
    return me->api->subscribe(me->host, "in", 1, on_message, me, &me->subscription);
}
static lucid_status stop(void* self, lucid_call* call) {
    (void)self, (void)call;
    return LUCID_OK;
}
static void destroy(void* self) { (void)self; }

LUCID_PLUGIN_C(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, create, start, stop,
               destroy, NULL)
