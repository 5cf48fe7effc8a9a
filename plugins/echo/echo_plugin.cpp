// The echo plugin: the request/response example. A command on `components/echo/cmd/echo`
//   {"request_id": "r1", "message": "hi"}
// is answered on `components/echo/evt/echo_result` with
//   {"schema", "ts", "request_id": "r1", "ok": true, "error": null, "echo": <the request>}
#include <lucid/plugin.hpp>

struct Echo : lucid::Plugin {
    void start() override {
        on_command("echo", [](const lucid::Command& c) {
            return "{\"echo\":" + std::string(c.payload) + "}";
        });
    }
};

LUCID_PLUGIN(Echo)
