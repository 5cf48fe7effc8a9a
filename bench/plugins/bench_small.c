/* The small plugin of the install and start-up benchmarks, in C so that the 50 variants the
 * start-up figure needs compile in no time. On start it subscribes to its relative topic "in"
 * (a plugin that does nothing would flatter the host). Built with BENCH_FAIL_START its start
 * fails, which makes an upgrade to it roll back. */
#include <lucid/plugin.h>

typedef struct instance {
    const lucid_host_api* api;
    lucid_host* host;
} instance;

static instance the_instance;

#ifndef BENCH_FAIL_START
static lucid_status on_message(void* user, const lucid_message* message) {
    (void)user, (void)message;
    return LUCID_OK;
}
#endif

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
#ifdef BENCH_FAIL_START
    me->api->call_fail(call, "bench: this version fails on purpose");
    return LUCID_ERR_FAILED;
#else
    uint64_t id = 0;
    (void)call;
    return me->api->subscribe(me->host, "in", 1, on_message, NULL, &id);
#endif
}

static lucid_status stop(void* self, lucid_call* call) {
    (void)self, (void)call;
    return LUCID_OK;
}

static void destroy(void* self) { (void)self; }

LUCID_PLUGIN_C(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, create, start, stop,
               destroy, NULL)
