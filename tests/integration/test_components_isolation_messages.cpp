// Messages in process isolation (contract §5.7): the agent posts them to the child without
// waiting for each (a window of them in flight), and every promise plugin.h makes about
// subscriptions still holds — checked in both runtimes with the same plugin
// (plugins/message_probe.cpp): no callback after unsubscribe, from the subscription's own
// callback thread or from another thread, even with a full window; a crash in a message
// callback is named; a hung message callback makes the component unresponsive and then
// recovers.
#include <doctest/doctest.h>

#include <fstream>

#include "component_rig.hpp"

using namespace lucid::itest;

namespace {

const std::string kModes[] = {"process", "in_process"};

struct MessageRig : ComponentRig {
    MessageRig(const std::string& agent_id, const std::string& isolation,
               const std::string& stall_s = "1")
        : ComponentRig(agent_id) {
        env["LUCID_PLUGIN_STALL_S"] = stall_s;
        start_agent();
        auto installed = install(
            install_payload("install-msg", "msgprobe", inline_source(artifact(LUCID_ITEST_MSG)),
                            R"(,"isolation":")" + isolation + "\""),
            "install-msg");
        REQUIRE_MESSAGE(ok_of(installed), installed.payload);
        REQUIRE(wait_status("msgprobe", "running"));
    }

    rapidjson::Document counts(const std::string& request_id) {
        auto answer = plugin_command("msgprobe", "counts",
                                     R"({"request_id":")" + request_id + "\"}", request_id);
        REQUIRE_MESSAGE(answer, agent.log());
        REQUIRE(ok_of(*answer));
        return answer->json();
    }

    void burst(const std::string& topic, int count) {
        for (int i = 0; i < count; ++i) client->publish_nowait(topic, "m" + std::to_string(i));
    }
};

}  // namespace

TEST_CASE("a subscription's messages stop at unsubscribe, also with a full window") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        MessageRig rig("msg-window-" + mode, mode);
        // b's callback works 300 ms while 600 messages for `a` queue up behind it (more than
        // the 256 the agent lets the child owe), then unsubscribes `a`: none of them may run.
        rig.client->publish("itest/msg/b", "unsubscribe-a");
        rig.burst("itest/msg/a", 600);
        auto counts = rig.counts("counts-1");
        CHECK(counts["a"].GetInt() == 0);
        // The subscription is gone on the broker side too: later messages are not counted.
        rig.burst("itest/msg/a", 10);
        CHECK(rig.counts("counts-2")["a"].GetInt() == 0);
        CHECK(ok_of(rig.ping("ping-after")));
    }
}

TEST_CASE("unsubscribe from a plugin thread returns after the running callback, none after") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        MessageRig rig("msg-thread-" + mode, mode);
        // The plugin's thread unsubscribes once 20 of these ran (5 ms each): callbacks of `c`
        // run and are queued while it does.
        auto started =
            rig.plugin_command("msgprobe", "unsubscribe_c", R"({"request_id":"u1"})", "u1");
        REQUIRE(started);
        rig.burst("itest/msg/c", 300);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int round = 0;
        bool unsubscribed = false;
        while (!unsubscribed && std::chrono::steady_clock::now() < deadline) {
            unsubscribed =
                rig.counts("poll-" + std::to_string(++round))["c_unsubscribed"].GetBool();
        }
        REQUIRE(unsubscribed);
        rig.burst("itest/msg/c", 20);
        auto counts = rig.counts("counts-after");
        CHECK(counts["violations"].GetInt() == 0);
        CHECK(counts["c"].GetInt() < 300);  // it did stop part way
    }
}

TEST_CASE("a stop goes before the messages still queued: they are dropped, not run") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        MessageRig rig("msg-stop-" + mode, mode);
        rig.burst("itest/msg/c", 300);  // 5 ms each: 1.5 s of work queued
        auto stopped = rig.control("stop", "msgprobe", "stop-1");
        CHECK_MESSAGE(ok_of(stopped), stopped.payload);
        CHECK_FALSE(flag_of(stopped, "restart_required"));
        auto event = rig.client->wait_for(rig.agent.topic("components/msgprobe/evt/stopped"),
                                          [](const Message&) { return true; });
        REQUIRE_MESSAGE(event, rig.agent.log());
        CHECK(event->json()["data"]["c"].GetInt() < 300);
        CHECK(rig.agent.log().find("did not return") == std::string::npos);
        CHECK(rig.agent.log().find("killed") == std::string::npos);
    }
}

TEST_CASE("more than the runner protocol carries fails the call, not the isolated plugin") {
    // 65 MiB strings take a while in a sanitizer build: not a stall.
    MessageRig rig("msg-big", "process", "60");
    // 65 MiB through the agent takes seconds under ThreadSanitizer: waited for longer.
    const auto big_answer = [&](const std::string& action, const std::string& request_id) {
        rig.client->publish(rig.agent.topic("components/msgprobe/cmd/" + action),
                            R"({"request_id":")" + request_id + "\"}");
        return rig.client->wait_for(
            rig.agent.topic("components/msgprobe/evt/" + action + "_result"),
            with_request_id(request_id), std::chrono::seconds(120));
    };
    auto published = big_answer("publish_big", "big-1");
    REQUIRE_MESSAGE(published, rig.agent.log());
    CHECK(ok_of(*published));
    CHECK_FALSE(flag_of(*published, "published"));
    auto result = big_answer("result_big", "big-2");
    REQUIRE_MESSAGE(result, rig.agent.log());
    CHECK_FALSE(ok_of(*result));
    CHECK(has_text(error_of(*result), "result too large for process isolation: "));
    CHECK(has_text(error_of(*result), " bytes (at most 64 MiB)"));
    // The child lived through both: no restart, still answering.
    CHECK(rig.counts("counts-after")["violations"].GetInt() == 0);
    for (const auto& status : rig.client->messages(rig.agent.topic("components/msgprobe/status"))) {
        CHECK_MESSAGE(status.str("state") != "failed", status.payload);
    }
}

TEST_CASE("a crash in an isolated plugin's message callback is named, and it runs again") {
    MessageRig rig("msg-crash", "process");
    rig.client->publish("itest/msg/a", "first");
    rig.client->publish("itest/msg/crash", "now");
    auto failed = rig.wait_status("msgprobe", "failed");
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK(failed->str("error") == "crashed: SIGSEGV in message callback");
    rig.client->clear();
    REQUIRE(rig.wait_status("msgprobe", "running"));
    CHECK(rig.counts("counts-after")["a"].GetInt() == 0);  // a new child counts from zero
    CHECK(ok_of(rig.ping("ping-after")));
}

TEST_CASE("a message callback that hangs makes the component unresponsive until it returns") {
    for (const std::string& mode : kModes) {
        CAPTURE(mode);
        MessageRig rig("msg-hang-" + mode, mode);
        const auto release = rig.agent.data_dir() / "release";
        rig.client->publish("itest/msg/hang", release.string());
        auto hung = rig.client->wait_for(
            rig.agent.topic("components/msgprobe/status"),
            [](const Message& m) { return m.str("error").rfind("unresponsive: ", 0) == 0; },
            std::chrono::seconds(10));
        REQUIRE_MESSAGE(hung, rig.agent.log());
        CHECK(hung->str("state") == "failed");
        CHECK(has_text(hung->str("error"), "unresponsive: message on itest/msg/hang running for"));
        rig.client->clear();
        std::ofstream(release.string()) << "go";
        REQUIRE(rig.wait_status("msgprobe", "running"));
        CHECK(rig.counts("counts-after")["a"].GetInt() == 0);
    }
}
