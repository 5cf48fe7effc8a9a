/* A plugin of ABI 1.1 that uses the 1.1 host functions only where LUCID_HOST_HAS says the host
 * offers them, and falls back to 1.0 otherwise (plugin.h's bump policy):
 *   - start publishes, on the relative topic "abi", "<metric> <dedup>": 1 where it found
 *     publish_metric / subscribe_with, 0 where it did not;
 *   - with publish_metric it offers the metric "answer" = 42 (unit "units"); without it
 *     publishes the event "answer" instead;
 *   - it subscribes to "in", de-duplicated where subscribe_with exists (plain otherwise); each
 *     message is published again on "out". */
#include <lucid/plugin.h>

#include <stdio.h>
#include <string.h>

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
    const lucid_host_api* api = me->api;
    const int metric = LUCID_HOST_HAS(api, publish_metric);
    const int dedup = LUCID_HOST_HAS(api, subscribe_with);
    char abi[16];
    lucid_status status;
    (void)call;
    snprintf(abi, sizeof abi, "%d %d", metric, dedup);
    status = api->publish(me->host, "abi", abi, strlen(abi), 1, 0);
    if (status != LUCID_OK) return status;
    status = metric ? api->publish_metric(me->host, "answer", 42.0, "units")
                    : api->publish_event(me->host, "answer", "42", NULL);
    if (status != LUCID_OK) return status;
    if (dedup) {
        lucid_subscribe_options options;
        memset(&options, 0, sizeof options);
        options.struct_size = sizeof options;
        options.flags = LUCID_SUBSCRIBE_DEDUP;
        return api->subscribe_with(me->host, "in", 1, &options, on_message, me, &me->subscription);
    }
    return api->subscribe(me->host, "in", 1, on_message, me, &me->subscription);
}
static lucid_status stop(void* self, lucid_call* call) {
    (void)self, (void)call;
    return LUCID_OK;
}
static void destroy(void* self) { (void)self; }

LUCID_PLUGIN_C(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, create, start, stop,
               destroy, NULL)
