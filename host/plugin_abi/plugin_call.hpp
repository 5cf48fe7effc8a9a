// What stands behind the opaque `lucid_call*` of lucid/plugin.h: the outcome of one callback
// invocation that a plugin fills through call_fail()/call_respond(). Lives on the host's stack
// for the duration of the callback, on the plugin's worker thread only. The agent's table and
// lucid-plugin-runner's fill it the same way (fail(), respond()).
#pragma once

#include <lucid/plugin.h>

#include <exception>
#include <string>

#include <rapidjson/document.h>

namespace lucid::host {

struct PluginCall {
    std::string error;        // call_fail(); last call wins
    std::string result_json;  // call_respond(); a JSON object text
    bool responded = false;
    bool escaped = false;  // an exception escaped the callback (call_plugin)

    // call_fail(): the last call wins.
    void fail(const char* message) { error = message ? message : ""; }
    // call_respond(): a JSON object text, else LUCID_ERR_INVALID_ARGUMENT.
    lucid_status respond(const char* json) {
        if (!json) return LUCID_ERR_INVALID_ARGUMENT;
        rapidjson::Document doc;
        doc.Parse(json);
        if (doc.HasParseError() || !doc.IsObject()) return LUCID_ERR_INVALID_ARGUMENT;
        result_json = json;
        responded = true;
        return LUCID_OK;
    }

    lucid_call* handle() { return reinterpret_cast<lucid_call*>(this); }
    static PluginCall* from(lucid_call* call) { return reinterpret_cast<PluginCall*>(call); }

    // The error to report for a failed status: the plugin's text, else the status by name.
    std::string failure(const char* step, lucid_status status) const {
        std::string text = std::string(step) + " failed";
        return error.empty() ? text + " (lucid_status " + std::to_string(status) + " " +
                                   status_name(status) + ")"
                             : text + ": " + error;
    }
    static const char* status_name(lucid_status status) {
        switch (status) {
            case LUCID_OK:
                return "LUCID_OK";
            case LUCID_ERR_INVALID_ARGUMENT:
                return "LUCID_ERR_INVALID_ARGUMENT";
            case LUCID_ERR_NOT_FOUND:
                return "LUCID_ERR_NOT_FOUND";
            case LUCID_ERR_UNSUPPORTED:
                return "LUCID_ERR_UNSUPPORTED";
            case LUCID_ERR_STATE:
                return "LUCID_ERR_STATE";
            case LUCID_ERR_REFUSED:
                return "LUCID_ERR_REFUSED";
            case LUCID_ERR_FAILED:
                return "LUCID_ERR_FAILED";
            case LUCID_ERR_INTERNAL:
                return "LUCID_ERR_INTERNAL";
        }
        return "unknown";
    }
};

// Runs one plugin callback; an exception that escapes a (non-C++-wrapper) plugin is turned
// into a status here rather than killing the worker.
template <class F>
lucid_status call_plugin(PluginCall& call, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        call.escaped = true;
        call.error = std::string("exception escaped the plugin: ") + e.what();
    } catch (...) {
        call.escaped = true;
        call.error = "exception escaped the plugin";
    }
    return LUCID_ERR_INTERNAL;
}

}  // namespace lucid::host
