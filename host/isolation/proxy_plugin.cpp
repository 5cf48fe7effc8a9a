#include "isolation/proxy_plugin.hpp"

#include "isolation/runner_channel.hpp"
#include "plugin/plugin_context.hpp"

namespace lucid::host::isolation {
namespace {

// The instance pointer the PluginContext keeps is the channel; its api table is bound at create.
RunnerChannel* channel_of(void* instance) { return static_cast<RunnerChannel*>(instance); }

// Copies the runner's call_fail/call_respond into the agent's call, returns the status.
lucid_status outcome(const Frame& result, const lucid_host_api& api, lucid_call* call) {
    if (call) {
        if (!result.text(0).empty()) api.call_fail(call, result.text(0).c_str());
        if (result.flags & 1) api.call_respond(call, result.text(1).c_str());
    }
    return static_cast<lucid_status>(result.status);
}

Frame call_of(RunnerOp op) {
    Frame f;
    f.op = op;
    return f;
}

// The agent's table, which the plugin's outcomes are copied with.
const lucid_host_api& api() { return PluginContext::api_table(); }

lucid_status proxy_create(const lucid_host_api* api, lucid_host* host, void** out_instance,
                          lucid_call* call) {
    RunnerChannel* channel = RunnerChannel::of_host(host);
    if (!channel || !api || !out_instance) return LUCID_ERR_INTERNAL;
    channel->bind_host(api, host);
    *out_instance = channel;
    return outcome(channel->invoke(call_of(RunnerOp::call_create)), *api, call);
}

lucid_status proxy_start(void* instance, lucid_call* call) {
    return outcome(channel_of(instance)->invoke(call_of(RunnerOp::call_start)), api(), call);
}

lucid_status proxy_stop(void* instance, lucid_call* call) {
    return outcome(channel_of(instance)->invoke(call_of(RunnerOp::call_stop)), api(), call);
}

void proxy_destroy(void* instance) {
    channel_of(instance)->invoke(call_of(RunnerOp::call_destroy));
}

lucid_status proxy_config_changed(void* instance, const char* config_json, lucid_call* call) {
    Frame f = call_of(RunnerOp::call_config);
    f.strings = {std::string(config_json ? config_json : "{}")};
    return outcome(channel_of(instance)->invoke(std::move(f)), api(), call);
}

}  // namespace

lucid_plugin_descriptor proxy_descriptor(const Frame& loaded) {
    lucid_plugin_descriptor d{};
    d.struct_size = sizeof(lucid_plugin_descriptor);
    d.abi_version = static_cast<uint32_t>(loaded.a);
    d.create = &proxy_create;
    d.start = &proxy_start;
    d.stop = &proxy_stop;
    d.destroy = &proxy_destroy;
    d.config_changed = (loaded.flags & 1) ? &proxy_config_changed : nullptr;
    return d;
}

lucid_status proxy_message(void* user, const lucid_message* message) {
    auto* ref = static_cast<RunnerChannel::HandleRef*>(user);
    Frame f = call_of(RunnerOp::call_message);
    f.a = ref->handle;
    f.b = static_cast<std::uint64_t>(message->qos & 0xff) | (message->retain ? 0x100u : 0u);
    f.strings = {std::string(message->topic ? message->topic : ""),
                 std::string(static_cast<const char*>(message->payload), message->payload_len)};
    return ref->channel->post(std::move(f));
}

lucid_status proxy_timer(void* user) {
    auto* ref = static_cast<RunnerChannel::HandleRef*>(user);
    Frame f = call_of(RunnerOp::call_timer);
    f.a = ref->handle;
    return static_cast<lucid_status>(ref->channel->invoke(std::move(f)).status);
}

lucid_status proxy_command(void* user, const lucid_command* command, lucid_call* call) {
    auto* ref = static_cast<RunnerChannel::HandleRef*>(user);
    Frame f = call_of(RunnerOp::call_command);
    f.a = ref->handle;
    f.strings = {std::string(command->action ? command->action : ""),
                 std::string(command->request_id ? command->request_id : ""),
                 std::string(command->payload ? command->payload : "")};
    return outcome(ref->channel->invoke(std::move(f)), api(), call);
}

}  // namespace lucid::host::isolation
