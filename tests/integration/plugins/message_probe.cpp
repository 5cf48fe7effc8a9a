// Message delivery under load, for process isolation (where messages are posted to the child
// without waiting for each one, runner_protocol.hpp): every promise plugin.h makes about
// subscriptions must still hold. Absolute topics under itest/msg/ (filters "/itest/msg/..."):
//   a     counted;
//   b     "unsubscribe-a": 300 ms of work (while a burst on `a` queues up behind it), then
//         unsubscribes `a` from this callback: no message of `a` may run afterwards;
//   c     5 ms of work each; a callback that finds `c` already unsubscribed (on entry or on
//         leaving) is a violation;
//   crash dies (SIGSEGV) in the message callback;
//   hang  does not return until the file named by the payload exists (at most 60 s).
// Commands: "unsubscribe_c" answers at once and starts a thread of the plugin's own (not the
// callback thread) that unsubscribes `c` once 20 messages of it ran (or after 10 s); "inspect"
// answers {"sockets": [the descriptors that are sockets], "lucid_env": [names of LUCID_*
// variables in its environment]} (what a plugin could reach of the agent's). stop() publishes
// the event "stopped" {"c": how many messages of `c` ran}; "publish_big" publishes 65 MiB on its
// relative topic "big" and answers {"published": whether the host took it}; "result_big"
// answers with a 65 MiB result; "counts"
// answers {"a", "c", "violations", "c_unsubscribed"}.
#include <lucid/plugin.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

extern char** environ;

#include "test_plugin_helpers.hpp"

namespace {

void work(std::chrono::milliseconds how_long) { std::this_thread::sleep_for(how_long); }

}  // namespace

struct MessageProbe : lucid::Plugin {
    void start() override {
        a_ = subscribe("/itest/msg/a", [this](const lucid::Message&) { ++a_count_; });
        subscribe("/itest/msg/b", [this](const lucid::Message& m) {
            if (m.payload != "unsubscribe-a") return;
            work(std::chrono::milliseconds(300));
            unsubscribe(a_);
        });
        c_ = subscribe("/itest/msg/c", [this](const lucid::Message&) {
            if (c_unsubscribed_) ++violations_;
            ++c_count_;
            work(std::chrono::milliseconds(5));
            if (c_unsubscribed_) ++violations_;
        });
        subscribe("/itest/msg/crash", [](const lucid::Message&) { segfault(); });
        subscribe("/itest/msg/hang", [](const lucid::Message& m) {
            wait_for_file(std::string(m.payload), std::chrono::seconds(60));
        });
        on_command("unsubscribe_c", [this](const lucid::Command&) {
            unsubscriber_ = std::thread([this] {
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (c_count_ < 20 && std::chrono::steady_clock::now() < deadline) {
                    work(std::chrono::milliseconds(1));
                }
                unsubscribe(c_);
                c_unsubscribed_ = true;
            });
            return std::string("{}");
        });
        on_command("inspect", [](const lucid::Command&) {
            std::string sockets, names;
            if (DIR* dir = ::opendir("/proc/self/fd")) {
                while (dirent* e = ::readdir(dir)) {
                    if (e->d_name[0] == '.' || std::atoi(e->d_name) == ::dirfd(dir)) continue;
                    char target[256] = {};
                    const std::string link = std::string("/proc/self/fd/") + e->d_name;
                    if (::readlink(link.c_str(), target, sizeof target - 1) > 0 &&
                        std::strncmp(target, "socket:", 7) == 0) {
                        sockets += (sockets.empty() ? "" : ",") + std::string(e->d_name);
                    }
                }
                ::closedir(dir);
            }
            for (char** e = environ; e && *e; ++e) {
                if (std::strncmp(*e, "LUCID_", 6) != 0) continue;
                const char* eq = std::strchr(*e, '=');
                names += (names.empty() ? "\"" : ",\"") +
                         std::string(*e, eq ? static_cast<size_t>(eq - *e) : std::strlen(*e)) +
                         "\"";
            }
            return "{\"sockets\":[" + sockets + "],\"lucid_env\":[" + names + "]}";
        });
        on_command("publish_big", [this](const lucid::Command&) {
            // 65 MiB: more than one frame of the runner protocol may carry.
            const std::string big(65u * 1024u * 1024u, 'x');
            try {
                publish("big", big, 0);
                return std::string("{\"published\":true}");
            } catch (const std::exception& e) {
                return std::string("{\"published\":false}");
            }
        });
        on_command("result_big", [](const lucid::Command&) {
            return "{\"big\":\"" + std::string(65u * 1024u * 1024u, 'x') + "\"}";
        });
        on_command("counts", [this](const lucid::Command&) {
            char text[160];
            // Not std::to_string: see lucid/plugin.hpp (STB_GNU_UNIQUE).
            std::snprintf(text, sizeof text,
                          "{\"a\":%d,\"c\":%d,\"violations\":%d,\"c_unsubscribed\":%s}",
                          a_count_.load(), c_count_.load(), violations_.load(),
                          c_unsubscribed_ ? "true" : "false");
            return std::string(text);
        });
    }
    void stop() override {
        if (unsubscriber_.joinable()) unsubscriber_.join();
        char text[48];
        std::snprintf(text, sizeof text, "{\"c\":%d}", c_count_.load());
        publish_event("stopped", text);
    }

  private:
    uint64_t a_ = 0, c_ = 0;
    std::atomic<int> a_count_{0}, c_count_{0}, violations_{0};
    std::atomic<bool> c_unsubscribed_{false};
    std::thread unsubscriber_;
};

LUCID_PLUGIN(MessageProbe)
