/*
 * lucid plugin ABI (C11). The only contract between the lucid agent and a component (.so).
 *
 * THREADING (the one place it is written down)
 *   - The host gives every loaded plugin ONE worker thread of its own. Every callback into the
 *     plugin (create, start, stop, destroy, config_changed, message, timer and command
 *     callbacks) runs on that worker, one at a time, in order. Never on the MQTT network thread,
 *     never concurrently with another callback of the same plugin. A plugin that blocks only
 *     delays itself: other plugins and the MQTT keepalive go on.
 *   - Every lucid_host_api function is thread-safe. It may be called from the worker (inside a
 *     callback) or from threads the plugin started itself, from create() until destroy()
 *     returns. Threads a plugin starts must be joined in stop(): nothing of the plugin may run
 *     after destroy() returns, because the host then unloads the library.
 *   - unsubscribe() and timer_cancel() guarantee, when they return, that the callback will not
 *     start again; called from a plugin thread they also wait for a running call to finish.
 *   - Host API functions never block on another plugin's callbacks.
 *
 * OWNERSHIP
 *   - Strings and buffers passed by the plugin to the host are borrowed for the duration of the
 *     call; the host copies what it keeps.
 *   - Strings and structs passed by the host to a callback are owned by the host and valid only
 *     until the callback returns; copy what you keep.
 *   - The descriptor and the manifest strings are static data of the plugin; they must stay
 *     valid while the library is loaded.
 *   - user_data pointers are opaque to the host: never dereferenced or freed by it.
 *
 * ERRORS
 *   Every fallible function returns a lucid_status. No C++ exception may cross this boundary
 *   (lucid/plugin.hpp catches everything for you). A callback that receives a lucid_call* can
 *   explain a failure with api->call_fail(call, "message"); the text ends up in the component's
 *   status or in the command result.
 *
 * THE SMALLEST PLUGIN (C++, see lucid/plugin.hpp; built with lucid_add_plugin() in CMake):
 *
 *     #include <lucid/plugin.hpp>
 *     struct Hello : lucid::Plugin {
 *         void start() override {
 *             every(std::chrono::seconds(5), [this] { publish_event("tick", "{}"); });
 *         }
 *     };
 *     LUCID_PLUGIN(Hello)
 *
 * In C, fill a lucid_plugin_descriptor and declare it with LUCID_PLUGIN_C(...) (end of file).
 */
#ifndef LUCID_PLUGIN_H
#define LUCID_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI VERSION. abi_version = (major << 16) | minor.
 * Bump policy:
 *   - MINOR: fields APPENDED to lucid_plugin_descriptor, lucid_host_api or a callback struct,
 *     new enum values. Old plugins keep working (the host zero-fills what they lack); new
 *     plugins check LUCID_HOST_HAS() before using a host function newer than 1.0.
 * History:
 *   1.0  the first ABI.
 *   1.1  lucid_host_api gains publish_metric and subscribe_with (the first two reserved slots;
 *        the table keeps its size), lucid_subscribe_options and LUCID_SUBSCRIBE_DEDUP. A 1.0
 *        plugin runs unchanged on a 1.1 host; a 1.1 plugin on a 1.0 host finds both NULL.
 *   - MAJOR: anything else (a field removed, reordered or retyped, a semantic change). The
 *     host refuses a plugin of another major version with a message naming the file, the
 *     version found and the version expected, before running any of its code.
 */
#define LUCID_PLUGIN_ABI_MAJOR 1
#define LUCID_PLUGIN_ABI_MINOR 1
#define LUCID_PLUGIN_ABI_VERSION \
    ((uint32_t)(((uint32_t)LUCID_PLUGIN_ABI_MAJOR << 16) | (uint32_t)LUCID_PLUGIN_ABI_MINOR))
#define LUCID_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define LUCID_ABI_MINOR_OF(v) ((uint32_t)(v)&0xffffu)

/* Name of the one exported function, and of the ELF section holding the manifest. */
#define LUCID_PLUGIN_ENTRY_SYMBOL "lucid_plugin_entry"
#define LUCID_PLUGIN_MANIFEST_SECTION ".lucid_manifest"

typedef enum lucid_status {
    LUCID_OK = 0,
    LUCID_ERR_INVALID_ARGUMENT = 1, /* NULL where not allowed, bad topic/filter, bad JSON */
    LUCID_ERR_NOT_FOUND = 2,        /* unknown subscription, timer or command */
    LUCID_ERR_UNSUPPORTED = 3,      /* the host is too old for this call */
    LUCID_ERR_STATE = 4,            /* called at the wrong time (e.g. after stop) */
    LUCID_ERR_REFUSED = 5,          /* e.g. a config change the plugin does not accept */
    LUCID_ERR_FAILED = 6,           /* the operation failed; see the error text */
    LUCID_ERR_INTERNAL = 7          /* an exception or bug inside the plugin or the host */
} lucid_status;

typedef enum lucid_log_level {
    LUCID_LOG_DEBUG = 0,
    LUCID_LOG_INFO = 1,
    LUCID_LOG_WARNING = 2,
    LUCID_LOG_ERROR = 3
} lucid_log_level;

/* States a plugin may report about itself (the host adds starting/stopped around them). */
typedef enum lucid_component_state {
    LUCID_STATE_RUNNING = 0, /* healthy; clears a previous error */
    LUCID_STATE_FAILED = 1   /* unhealthy: `error` says why; the plugin stays loaded */
} lucid_component_state;

/* Opaque handle of the plugin's context in the host. Valid from create() to destroy(). */
typedef struct lucid_host lucid_host;
/* Opaque handle of one callback invocation; valid only until that callback returns. */
typedef struct lucid_call lucid_call;

/* An MQTT message delivered to a subscription. Owned by the host, valid during the callback. */
typedef struct lucid_message {
    uint32_t struct_size;
    uint32_t reserved0;
    const char* topic;   /* full topic, NUL-terminated */
    const void* payload; /* payload_len bytes, NOT NUL-terminated */
    size_t payload_len;
    int qos;
    int retain;
} lucid_message;

/* A command received on components/{cid}/cmd/{action}. Owned by the host, valid during the
 * callback. The host answers on components/{cid}/evt/{action}_result with schema, ts,
 * request_id, ok, error, plus the members of the object given to call_respond(). */
typedef struct lucid_command {
    uint32_t struct_size;
    uint32_t reserved0;
    const char* action;     /* the {action} topic level */
    const char* request_id; /* from the payload; never NULL */
    const char* payload;    /* the whole request, a JSON object text */
} lucid_command;

typedef lucid_status (*lucid_message_fn)(void* user_data, const lucid_message* message);

/* Since 1.1. Flags of lucid_subscribe_options. */
/* Drops a message whose payload is an envelope (a JSON object with a string "id") already
 * delivered to this subscription within the last 30 s (at most 2,048 ids remembered per
 * subscription; the oldest is forgotten first). A message without an envelope id is always
 * delivered. Each drop counts in `duplicates_dropped` of components/{cid}/status. */
#define LUCID_SUBSCRIBE_DEDUP 0x1u

/* Since 1.1: options of subscribe_with(). Zero-initialise it and set struct_size, so that a
 * host reads only the fields this plugin knows. */
typedef struct lucid_subscribe_options {
    uint32_t struct_size; /* sizeof(lucid_subscribe_options) as the plugin saw it */
    uint32_t flags;       /* LUCID_SUBSCRIBE_* */
} lucid_subscribe_options;
typedef lucid_status (*lucid_timer_fn)(void* user_data);
typedef lucid_status (*lucid_command_fn)(void* user_data, const lucid_command* command,
                                         lucid_call* call);

/*
 * TOPICS. A topic (or filter) is relative unless it starts with '/':
 *   "temperature"     -> {root}/components/{cid}/temperature
 *   "/site/alerts"    -> site/alerts (the leading '/' is removed, the rest used verbatim)
 * where {root} is the agent's topic root (default lucid/agents/{agent_id}). Publishing to an
 * absolute topic inside {root}/ is refused (use a relative one): the agent's own topics are
 * written by the host only. Subscribing to any absolute filter is allowed.
 */
typedef struct lucid_host_api {
    uint32_t struct_size; /* sizeof the host's table; see LUCID_HOST_HAS() */
    uint32_t abi_version; /* the host's LUCID_PLUGIN_ABI_VERSION */

    /* Publishes payload (payload_len bytes, copied) on a relative or absolute topic; qos 0-2.
     * Returns LUCID_ERR_INVALID_ARGUMENT for an empty topic, wildcards or a bad qos. */
    lucid_status (*publish)(lucid_host* host, const char* topic, const void* payload,
                            size_t payload_len, int qos, int retain);

    /* Publishes an event on components/{cid}/evt/{type}, QoS 1, not retained, wrapped by the
     * host in the envelope {"id","type","ts","source","correlation_id","data"}.
     * data_json: a JSON value text (NULL means null). correlation_id: may be NULL. */
    lucid_status (*publish_event)(lucid_host* host, const char* type, const char* data_json,
                                  const char* correlation_id);

    /* Subscribes to a relative or absolute filter (MQTT '+' and '#' allowed). The callback runs
     * on the plugin's worker for each matching message. *out_id (not NULL) receives an id for
     * unsubscribe(). */
    lucid_status (*subscribe)(lucid_host* host, const char* filter, int qos, lucid_message_fn fn,
                              void* user_data, uint64_t* out_id);
    lucid_status (*unsubscribe)(lucid_host* host, uint64_t subscription_id);

    /* Starts a timer: fn runs on the worker after first_ms, then every period_ms (0 = once).
     * *out_id (not NULL) receives an id for timer_cancel(). A one-shot timer that fired is
     * forgotten; cancelling it then returns LUCID_ERR_NOT_FOUND. */
    lucid_status (*timer_start)(lucid_host* host, uint32_t first_ms, uint32_t period_ms,
                                lucid_timer_fn fn, void* user_data, uint64_t* out_id);
    lucid_status (*timer_cancel)(lucid_host* host, uint64_t timer_id);

    /* Logs through the host's logger for this component (the plugin never links a logger). */
    void (*log)(lucid_host* host, lucid_log_level level, const char* message);

    /* Reports the plugin's health; published on components/{cid}/status. error may be NULL. */
    lucid_status (*report_status)(lucid_host* host, lucid_component_state state, const char* error);

    /* Copies the component's config (a JSON object text, "{}" when none) into buf, snprintf
     * style: writes at most capacity bytes including the NUL, returns the full length without
     * the NUL. Call with capacity 0 to learn the size. */
    size_t (*get_config)(lucid_host* host, char* buf, size_t capacity);

    /* Registers the handler of components/{cid}/cmd/{action}. One handler per action. */
    lucid_status (*register_command)(lucid_host* host, const char* action, lucid_command_fn fn,
                                     void* user_data);
    lucid_status (*unregister_command)(lucid_host* host, const char* action);

    /* Only inside the callback that received `call`: explains a failure (copied; the last call
     * wins) and, for a command, sets the result members (a JSON object text, copied). */
    void (*call_fail)(lucid_call* call, const char* message);
    lucid_status (*call_respond)(lucid_call* call, const char* result_json);

    /* ---- 1.1: check LUCID_HOST_HAS(api, <name>) first; a 1.0 host leaves them NULL ---- */

    /* Publishes a metric on components/{cid}/telemetry/{metric}, QoS 0, not retained, in the
     * envelope of agent metrics (type = metric, data {"value", "unit"}), when the runtime config
     * lets it: `telemetry_enabled` and telemetry.components.<cid>.<metric> (enabled, interval_s,
     * change_threshold_percent). Call it with each new reading: the host publishes at most one
     * value per interval_s, earlier when it moved by the threshold (never twice within a
     * second), and drops the rest. Returns LUCID_OK for a value held back by the config too.
     * metric: [a-z0-9][a-z0-9_-]{0,63}; value: finite; unit: may be NULL (""). Errors:
     * LUCID_ERR_INVALID_ARGUMENT (bad name, NaN or infinity), LUCID_ERR_STATE (after stop). */
    lucid_status (*publish_metric)(lucid_host* host, const char* metric, double value,
                                   const char* unit);

    /* subscribe() with options (NULL options: exactly subscribe()). Flags this host does not
     * know return LUCID_ERR_UNSUPPORTED. Example, de-duplicated by envelope id:
     *     lucid_subscribe_options o = {sizeof o, LUCID_SUBSCRIBE_DEDUP};
     *     api->subscribe_with(host, "/site/orders/#", 1, &o, on_order, self, &id); */
    lucid_status (*subscribe_with)(lucid_host* host, const char* filter, int qos,
                                   const lucid_subscribe_options* options, lucid_message_fn fn,
                                   void* user_data, uint64_t* out_id);

    /* Future minor versions first fill these (NULL until then), then append after them. */
    void (*reserved[6])(void);
} lucid_host_api;

/* True when the host's table is large enough to contain `field` and the field is set. */
#define LUCID_HOST_HAS(api, field)                                                   \
    ((api)->struct_size >= offsetof(lucid_host_api, field) + sizeof((api)->field) && \
     (api)->field != NULL)

/*
 * THE DESCRIPTOR returned by the entry point. Static data of the plugin.
 * Lifecycle, each on the plugin's worker: create -> start -> [callbacks] -> stop -> destroy.
 * When start fails, stop is NOT called; destroy is (clean up a partial start there).
 */
typedef struct lucid_plugin_descriptor {
    uint32_t struct_size; /* sizeof(lucid_plugin_descriptor) as the plugin saw it */
    uint32_t abi_version; /* LUCID_PLUGIN_ABI_VERSION as the plugin saw it */
    const char* dist_name;
    const char* version;
    const char* component_id;

    /* Creates the instance. api and host stay valid until destroy() returns. */
    lucid_status (*create)(const lucid_host_api* api, lucid_host* host, void** out_instance,
                           lucid_call* call);
    lucid_status (*start)(void* instance, lucid_call* call);
    lucid_status (*stop)(void* instance, lucid_call* call);
    /* Frees the instance. Subscriptions, timers and commands are already gone. */
    void (*destroy)(void* instance);

    /* Optional (NULL accepts everything). Called with the proposed whole config (JSON object
     * text) before it is stored; return LUCID_ERR_REFUSED and call_fail() to refuse it. When it
     * returns LUCID_OK the new config is stored and get_config() returns it. */
    lucid_status (*config_changed)(void* instance, const char* config_json, lucid_call* call);
} lucid_plugin_descriptor;

/* The fields every 1.x descriptor has (up to destroy); a smaller descriptor is refused. */
#define LUCID_PLUGIN_DESCRIPTOR_MIN_SIZE \
    (offsetof(lucid_plugin_descriptor, destroy) + sizeof(void (*)(void*)))

typedef const lucid_plugin_descriptor* (*lucid_plugin_entry_fn)(void);

/* ---- declaring a plugin ------------------------------------------------------------------ */

#define LUCID_STR_(x) #x
#define LUCID_STR(x) LUCID_STR_(x)

#if defined(__GNUC__) || defined(__clang__)
#define LUCID_PLUGIN_EXPORT __attribute__((visibility("default")))
#define LUCID_MANIFEST_ATTR_ __attribute__((used, section(LUCID_PLUGIN_MANIFEST_SECTION)))
#else
#error "lucid plugins need GCC or Clang (ELF sections and visibility attributes)"
#endif

/*
 * Embeds the manifest, read by the host and lucidctl WITHOUT loading the library: a text of
 * "key=value\n" lines in the ELF section .lucid_manifest. The arguments are string literals.
 */
#define LUCID_PLUGIN_MANIFEST_WITH_ABI(dist, version, component_id, abi_major, abi_minor) \
    static LUCID_MANIFEST_ATTR_ const char lucid_plugin_manifest_[] =                     \
        "lucid-manifest=1\n"                                                              \
        "dist=" dist                                                                      \
        "\n"                                                                              \
        "version=" version                                                                \
        "\n"                                                                              \
        "component=" component_id                                                         \
        "\n"                                                                              \
        "abi=" LUCID_STR(abi_major) "." LUCID_STR(abi_minor) "\n";
#define LUCID_PLUGIN_MANIFEST(dist, version, component_id)                              \
    LUCID_PLUGIN_MANIFEST_WITH_ABI(dist, version, component_id, LUCID_PLUGIN_ABI_MAJOR, \
                                   LUCID_PLUGIN_ABI_MINOR)

#ifdef __cplusplus
#define LUCID_EXTERN_C_ extern "C"
#else
#define LUCID_EXTERN_C_
#endif

/* Defines the exported entry point returning a pointer to a static descriptor. */
#define LUCID_PLUGIN_ENTRY(descriptor_ptr)                                                        \
    LUCID_EXTERN_C_ LUCID_PLUGIN_EXPORT const lucid_plugin_descriptor* lucid_plugin_entry(void);  \
    LUCID_EXTERN_C_ LUCID_PLUGIN_EXPORT const lucid_plugin_descriptor* lucid_plugin_entry(void) { \
        return (descriptor_ptr);                                                                  \
    }

/*
 * A C plugin in one line, e.g.
 *     LUCID_PLUGIN_C("my-dist", "1.0.0", "mine", my_create, my_start, my_stop, my_destroy, NULL)
 * lucid_add_plugin() defines LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION and LUCID_PLUGIN_COMPONENT,
 * so inside such a target the first three arguments can be those macros.
 */
#define LUCID_PLUGIN_C(dist, version, component_id, create_fn, start_fn, stop_fn, destroy_fn, \
                       config_fn)                                                             \
    LUCID_PLUGIN_MANIFEST(dist, version, component_id)                                        \
    static const lucid_plugin_descriptor lucid_plugin_descriptor_ = {                         \
        sizeof(lucid_plugin_descriptor),                                                      \
        LUCID_PLUGIN_ABI_VERSION,                                                             \
        dist,                                                                                 \
        version,                                                                              \
        component_id,                                                                         \
        create_fn,                                                                            \
        start_fn,                                                                             \
        stop_fn,                                                                              \
        destroy_fn,                                                                           \
        config_fn};                                                                           \
    LUCID_PLUGIN_ENTRY(&lucid_plugin_descriptor_)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LUCID_PLUGIN_H */
