// How the agent runs an in-process plugin's callback: call_plugin (plugin_abi/plugin_call.hpp),
// and an escaped exception's what() then cut, redacted and kept on one line, as the texts a
// plugin gives call_fail() are (plugin_api_table.cpp): it reaches results, statuses and logs,
// and an exception's text often holds a URL with its password. (An isolated plugin's texts
// reach the agent through its call_fail, which does the same.)
#pragma once

#include "common/log_tap.hpp"
#include "plugin_abi/plugin_call.hpp"

#include <utility>

namespace lucid::host {

template <class F>
lucid_status call_plugin_in_process(PluginCall& call, F&& f) noexcept {
    const lucid_status status = call_plugin(call, std::forward<F>(f));
    if (call.escaped) {
        try {
            call.error = LogTap::instance().plugin_line(call.error);
        } catch (...) {
            call.error = "exception escaped the plugin";  // no memory to redact: say less
        }
    }
    return status;
}

}  // namespace lucid::host
