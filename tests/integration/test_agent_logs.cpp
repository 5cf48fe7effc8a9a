// The log over MQTT (contract §4.15, issue 19 items 3, 4 and 6), as an operator uses it: the
// `logs` stream turned on by cfg/set at a level, its batches, a flood cut and counted while the
// agent keeps answering, a component's own level (in a child process too), a temporary stream
// that ends by itself, lucidctl logs and --follow, and credentials that never reach a line.
#include <doctest/doctest.h>

#include <csignal>
#include <regex>

#include "ctl_runner.hpp"
#include "logs_rig.hpp"

using namespace lucid::itest;

TEST_CASE("logs: off until enabled, then streamed at logs_level in batches, off again") {
    LogsRig rig("logs-1");
    // Off by default, and shown as such.
    auto state = rig.client->wait_for(rig.agent.topic("core/cfg/state"), any_message());
    REQUIRE(state);
    CHECK_FALSE(state->json()["cfg"]["logs_enabled"].GetBool());
    CHECK(std::string(state->json()["cfg"]["logs_level"].GetString()) == "info");
    rig.plugin_logs("warning", "before-enable");

    auto on = rig.cfg_set(R"({"logs_enabled":true,"logs_level":"info"})");
    REQUIRE_MESSAGE(ok_of(on), on.payload);
    // The agent's log names what changed, whichever key it is.
    CHECK_MESSAGE(
        rig.agent.wait_for_log("cfg/set applied: logs_enabled=true\n", std::chrono::seconds(5)),
        rig.agent.log());
    CHECK(on.json()["cfg"]["logs_enabled"].GetBool());
    rig.plugin_logs("debug", "dbg-hidden");
    rig.plugin_logs("info", "info-shown");
    auto shown = rig.wait_line("info-shown #0");
    REQUIRE_MESSAGE(shown, rig.agent.log());
    CHECK_FALSE(shown->retain);
    const auto doc = shown->json();
    CHECK(std::string(doc["schema"].GetString()) == "lucid.core.v1.0.0");
    CHECK(doc["dropped"].GetUint64() == 0);
    bool found = false;
    for (const auto& l : rig.streamed()) {
        if (l.message != "info-shown #0") continue;
        found = true;
        CHECK(l.level == "info");
        CHECK(l.logger == "logprobe");
        CHECK(std::regex_match(l.ts, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    }
    CHECK(found);
    CHECK_FALSE(rig.streamed_any("dbg-hidden"));     // below logs_level
    CHECK_FALSE(rig.streamed_any("before-enable"));  // logged while the stream was off
    // The agent's own lines are there too, as `core`.
    rig.cfg_set(R"({"heartbeat_s":30})");
    auto core = rig.client->wait_for(rig.agent.topic("logs"), [](const Message& m) {
        for (const auto& l : lines_of({m})) {
            if (l.logger == "core" && l.message.find("cfg/set applied") != std::string::npos) {
                return true;
            }
        }
        return false;
    });
    CHECK_MESSAGE(core, rig.agent.log());

    // Batches: at most 50 lines a message, none lost.
    rig.client->clear();
    rig.plugin_logs("info", "batch", 120);
    REQUIRE_MESSAGE(rig.wait_line("batch #119"), rig.agent.log());
    std::size_t batch_lines = 0;
    std::size_t batch_messages = 0;
    for (const auto& m : rig.client->messages(rig.agent.topic("logs"))) {
        const auto lines = lines_of({m});
        CHECK(lines.size() <= 50);
        CHECK(m.json()["dropped"].GetUint64() == 0);
        std::size_t here = 0;
        for (const auto& l : lines) here += l.message.rfind("batch #", 0) == 0 ? 1 : 0;
        batch_lines += here;
        batch_messages += here > 0 ? 1 : 0;
    }
    CHECK(batch_lines == 120);
    CHECK(batch_messages >= 3);

    // A higher level: info is no longer streamed.
    REQUIRE(ok_of(rig.cfg_set(R"({"logs_level":"warn"})")));
    rig.plugin_logs("info", "info-below-warn");
    rig.plugin_logs("warning", "warn-shown");
    auto warn = rig.wait_line("warn-shown #0");
    REQUIRE_MESSAGE(warn, rig.agent.log());
    CHECK_FALSE(rig.streamed_any("info-below-warn"));

    // Off: nothing, until it is on again.
    REQUIRE(ok_of(rig.cfg_set(R"({"logs_enabled":false})")));
    rig.plugin_logs("error", "after-disable");
    REQUIRE(ok_of(rig.cfg_set(R"({"logs_enabled":true})")));
    rig.plugin_logs("error", "enabled-again");
    REQUIRE_MESSAGE(rig.wait_line("enabled-again #0"), rig.agent.log());
    CHECK_FALSE(rig.streamed_any("after-disable"));

    // The exact errors; nothing applied.
    auto bad = rig.cfg_set(R"({"logs_level":"loud"})");
    CHECK(error_of(bad) ==
          "logs_level must be one of trace, debug, info, warn, error (any case; warning and err "
          "too)");
    CHECK(error_of(rig.cfg_set(R"({"logs_enabled":"yes"})")) == "logs_enabled must be bool");
    CHECK(error_of(rig.cfg_set(R"({"logs_level":3})")) == "logs_level must be str");
}

TEST_CASE("a plugin logging what it received cannot forge a line of the agent's log file") {
    LogsRig rig("logs-forge");
    // A payload a plugin logs as it came: a line break, then what looks like an audit line, and
    // terminal escapes.
    rig.plugin_logs("info",
                    R"(hello\n[2026-12-02 01:29:30.000] [audit] [info] audit: op=uninstall forged)"
                    R"(\t\u001b[2J\u0007end)");
    REQUIRE_MESSAGE(rig.agent.wait_for_log("end #0", std::chrono::seconds(10)), rig.agent.log());
    const std::string log = rig.agent.log();
    CHECK_MESSAGE(log.find("\n[2026-12-02 01:29:30.000] [audit]") == std::string::npos, log);
    CHECK(log.find("hello\\n[2026-12-02 01:29:30.000] [audit]") != std::string::npos);
    CHECK(log.find("forged\\t\\x1b[2J\\x07end #0") != std::string::npos);
    CHECK(log.find('\x1b') == std::string::npos);
}

TEST_CASE("a log flood is cut and counted, and the agent keeps answering") {
    LogsRig rig("logs-flood");
    REQUIRE(ok_of(rig.cfg_set(R"({"logs_enabled":true,"logs_level":"info"})")));
    rig.client->clear();
    constexpr int kFlood = 20000;
    const auto started = std::chrono::steady_clock::now();
    // Not waited for: the agent must answer ping while the plugin floods.
    rig.client->publish(rig.agent.topic("components/logprobe/cmd/log"),
                        R"({"request_id":"flood","level":"info","message":"flood","count":)" +
                            std::to_string(kFlood) + "}");
    for (int i = 0; i < 5; ++i) {
        const auto before = std::chrono::steady_clock::now();
        auto pong = rig.ping("flood-ping-" + std::to_string(i));
        CHECK(ok_of(pong));
        CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(2));
    }
    auto done = rig.client->wait_for(rig.agent.topic("components/logprobe/evt/log_result"),
                                     with_request_id("flood"), std::chrono::seconds(60));
    REQUIRE_MESSAGE(done, rig.agent.log());
    // Every line of the flood is either published or counted as dropped (the count covers
    // every logger's lines, so it is at least the flood's share).
    std::uint64_t published = 0;
    std::uint64_t dropped = 0;
    std::vector<Message> seen;
    const std::string logs = rig.agent.topic("logs");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (published + dropped < static_cast<std::uint64_t>(kFlood)) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        auto m =
            rig.client->take([&](const Message& x) { return x.topic == logs; },
                             std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        if (!m) break;
        dropped += m->json()["dropped"].GetUint64();
        for (const auto& l : lines_of({*m}))
            published += l.message.rfind("flood #", 0) == 0 ? 1 : 0;
        seen.push_back(*m);
    }
    REQUIRE_MESSAGE(published + dropped >= static_cast<std::uint64_t>(kFlood),
                    "published " << published << " dropped " << dropped);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(dropped > 0);
    CHECK(published > 0);
    // At most 500 lines a second (and a first second's burst of 500).
    CHECK_MESSAGE(published <= 500 * (seconds + 1), published << " in " << seconds << " s");
    for (const auto& m : seen) CHECK(lines_of({m}).size() <= 50);
    // Afterwards the stream carries lines again, at once.
    rig.plugin_logs("warning", "after-flood");
    CHECK_MESSAGE(rig.wait_line("after-flood #0"), rig.agent.log());
}

TEST_CASE("a component's own level, in a child process too, stored across a restart") {
    LogsRig rig("logs-comp", R"(,"isolation":"process")");
    // Below the agent's log_level (INFO): neither kept nor streamed.
    rig.plugin_logs("debug", "dbg-before");
    rig.settle("1");
    CHECK_FALSE(rig.kept(R"(,"component":"logprobe")", "dbg-before"));

    auto set = rig.component_level("logprobe", R"(,"log_level":"debug")");
    REQUIRE_MESSAGE(ok_of(set), set.payload);
    CHECK(set.str("component_id") == "logprobe");
    CHECK(set.str("log_level") == "debug");
    CHECK(set.json_text("applied") == R"({"log_level":"debug"})");
    rig.plugin_logs("debug", "dbg-kept");
    rig.settle("2");
    CHECK_MESSAGE(rig.kept(R"(,"component":"logprobe")", "dbg-kept #0"), rig.agent.log());
    // Streaming at warn: the component's debug lines go out, the agent's info lines do not.
    REQUIRE(ok_of(rig.cfg_set(R"({"logs_enabled":true,"logs_level":"warn"})")));
    rig.plugin_logs("debug", "dbg-streamed");
    auto streamed = rig.wait_line("dbg-streamed #0");
    REQUIRE_MESSAGE(streamed, rig.agent.log());
    for (const auto& l : rig.streamed()) {
        if (l.logger == "core") CHECK_MESSAGE(l.level != "info", l.message);
    }

    // Stored: it holds after a restart.
    CHECK(rig.agent.stop(SIGTERM) == 0);
    rig.client->clear();
    rig.start_agent();
    REQUIRE(rig.wait_status("logprobe", "running"));
    rig.plugin_logs("debug", "dbg-after-restart");
    rig.settle("3");
    CHECK(rig.kept(R"(,"component":"logprobe")", "dbg-after-restart #0"));

    // null: the agent's levels again.
    auto cleared = rig.component_level("logprobe", R"(,"log_level":null)");
    REQUIRE_MESSAGE(ok_of(cleared), cleared.payload);
    CHECK(cleared.json_text("log_level") == "null");
    rig.plugin_logs("debug", "dbg-cleared");
    rig.settle("4");
    CHECK_FALSE(rig.kept(R"(,"component":"logprobe")", "dbg-cleared"));

    // The exact errors.
    CHECK(error_of(rig.component_level("nosuch", R"(,"log_level":"debug")")) ==
          "component not found: nosuch");
    CHECK(error_of(rig.component_level("logprobe", R"(,"log_level":"verbose")")) ==
          "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
          "too), or default (or null) for none");
    CHECK(error_of(rig.component_level("logprobe", R"(,"log_level":7)")) ==
          "log_level must be str");
    CHECK(error_of(rig.component_level("logprobe", "")) == "missing 'log_level' field in payload");
}

TEST_CASE("a temporary stream streams whatever logs_enabled says, then ends by itself") {
    LogsRig rig("logs-temp");
    auto on = rig.stream_for(R"(,"level":"debug","seconds":2)");
    REQUIRE_MESSAGE(ok_of(on), on.payload);
    CHECK(on.str("level") == "debug");
    CHECK(on.json_text("seconds") == "2");
    CHECK(!on.str("until").empty());
    rig.plugin_logs("info", "temp-on");
    REQUIRE_MESSAGE(rig.wait_line("temp-on #0"), rig.agent.log());
    // It ends: the agent says so in its log, and what is logged then is not streamed.
    REQUIRE_MESSAGE(
        rig.agent.wait_for_log("the temporary log stream at debug ended", std::chrono::seconds(10)),
        rig.agent.log());
    rig.plugin_logs("error", "temp-off");
    REQUIRE(ok_of(rig.stream_for(R"(,"seconds":60)")));
    rig.plugin_logs("error", "temp-again");
    REQUIRE_MESSAGE(rig.wait_line("temp-again #0"), rig.agent.log());
    CHECK_FALSE(rig.streamed_any("temp-off"));
    // Still off in the stored config: nothing of this is persisted.
    auto state = rig.client->wait_for(rig.agent.topic("core/cfg/state"), any_message());
    REQUIRE(state);
    CHECK_FALSE(state->json()["cfg"]["logs_enabled"].GetBool());

    CHECK(error_of(rig.stream_for(R"(,"seconds":0)")) ==
          "validation_error: 'seconds' must be an integer from 1 to 3600");
    CHECK(error_of(rig.stream_for(R"(,"seconds":3601)")) ==
          "validation_error: 'seconds' must be an integer from 1 to 3600");
    CHECK(error_of(rig.stream_for(R"(,"level":"loud")")) ==
          "validation_error: 'level' must be one of trace, debug, info, warn, error (any case; "
          "warning and err too)");
    CHECK(error_of(rig.logs_get(R"(,"n":0)")) ==
          "validation_error: 'n' must be an integer from 1 to 1000");
    CHECK(error_of(rig.logs_get(R"(,"component":"Bad")")) ==
          "validation_error: 'component' must be core or a component id "
          "([a-z0-9][a-z0-9_-]{0,63})");
}

TEST_CASE("lucidctl logs prints the kept lines, and --follow the streamed ones") {
    LogsRig rig("logs-ctl");
    rig.plugin_logs("info", "kept", 3);
    rig.plugin_logs("warning", "warned");
    auto last = run_ctl({"logs", "-n", "2", "--component", "logprobe"}, rig.ctl_env);
    REQUIRE_MESSAGE(last.code == 0, last.output);
    CHECK_MESSAGE(last.has(" info  logprobe: kept #2\n"), last.output);
    CHECK_MESSAGE(last.has(" warn  logprobe: warned #0\n"), last.output);
    CHECK_FALSE(last.has("kept #1"));
    CHECK(std::regex_search(last.output, std::regex(R"(^\d{4}-\d\d-\d\dT[\d:.]+Z info  logprobe)",
                                                    std::regex::multiline)));
    auto warn_only = run_ctl({"logs", "--level", "warn"}, rig.ctl_env);
    REQUIRE(warn_only.code == 0);
    CHECK(warn_only.has("warned #0"));
    CHECK_FALSE(warn_only.has("kept #"));
    auto core = run_ctl({"logs", "--component", "core"}, rig.ctl_env);
    CHECK_MESSAGE(core.has(" core: lucid-agent "), core.output);  // the start line
    CHECK_FALSE(core.has("logprobe:"));
    // Nothing kept of a component says so instead of printing nothing.
    auto none = run_ctl({"logs", "--component", "nosuch", "--level", "error"}, rig.ctl_env);
    CHECK_MESSAGE(none.code == 0, none.output);
    CHECK_MESSAGE(none.has("no kept lines of nosuch at or above error"), none.output);
    auto json = run_ctl({"logs", "-n", "1", "--json"}, rig.ctl_env);
    REQUIRE(json.code == 0);
    const auto line = json.json();
    CHECK(line.HasMember("ts"));
    CHECK(line.HasMember("logger"));

    // Usage errors, before anything is sent.
    auto bad_n = run_ctl({"logs", "-n", "0"}, rig.ctl_env);
    CHECK(bad_n.code == 2);
    CHECK_MESSAGE(bad_n.has("-n must be a number of lines from 1 to 1000, got '0'"), bad_n.output);
    auto bad_level = run_ctl({"logs", "--level", "loud"}, rig.ctl_env);
    CHECK(bad_level.code == 2);
    CHECK(
        bad_level.has("--level must be one of trace, debug, info, warn, error (any case; "
                      "warning and err too), got 'loud'"));
    // The agent's vocabulary, in any case.
    auto warning = run_ctl({"logs", "--level", "WARNING"}, rig.ctl_env);
    CHECK_MESSAGE(warning.code == 0, warning.output);
    CHECK(warning.has("warned #0"));
    CHECK_FALSE(warning.has("kept #"));
    CHECK(run_ctl({"status", "-n", "3"}, rig.ctl_env).has("option -n does not apply to 'status'"));

    // --follow: the kept lines, then what is logged, with the stream off in the config.
    Process follow;
    TempDir dir;
    follow.start({LUCIDCTL_BIN, "logs", "--follow", "--component", "logprobe", "-n", "1"},
                 {{"LUCID_MQTT_URL", rig.broker.url()},
                  {"LUCID_AGENT_ID", rig.agent.agent_id()},
                  {"LUCID_ENV_FILE", "/dev/null"}},
                 dir.path() / "follow.log");
    REQUIRE_MESSAGE(wait_for_output(follow, "warned #0", std::chrono::seconds(10)), follow.log());
    auto stream =
        rig.client->wait_for(rig.agent.topic("core/evt/logs/stream_result"), any_message());
    REQUIRE_MESSAGE(stream, rig.agent.log());
    CHECK(ok_of(*stream));
    CHECK(stream->json_text("seconds") == "60");  // nothing stays on long after lucidctl
    rig.plugin_logs("info", "live");
    CHECK_MESSAGE(wait_for_output(follow, "logprobe: live #0", std::chrono::seconds(10)),
                  follow.log());
    CHECK(follow.log().find("kept #2") == std::string::npos);  // -n 1
    follow.stop(SIGINT);
}

TEST_CASE("credentials in log text never reach a published or kept line") {
    // As test_security_secrets.cpp greps the log file: the broker password (percent-encoded in
    // the URL), a token URL, a presigned query and a password= value, logged by a plugin while
    // the stream is on at debug.
    const std::vector<std::string> secrets{"S3cr3t-Pa55w0rd", "T0KENUSER", "PASSW0RD", "S1GNATURE",
                                           "HUNTER2"};
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "logs-secret");
    MqttClient client(broker.port());
    client.subscribe(agent.topic("#"));
    agent.start({{"LUCID_MQTT_URL",
                  "mqtt://agent:S3cr3t-Pa55w0rd%21@127.0.0.1:" + std::to_string(broker.port())}});
    REQUIRE_MESSAGE(wait_online(client, agent), agent.log());
    REQUIRE(send_command(client, agent, "core/cfg/set", "core/evt/cfg_set_result",
                         R"({"request_id":"c1","set":{"logs_enabled":true,"logs_level":"debug"}})",
                         "c1"));
    auto installed = send_command(
        client, agent, "core/cmd/components/install", "core/evt/components/install_result",
        install_payload("i1", "logprobe", inline_source(artifact(LUCID_ITEST_LOG_PROBE))), "i1");
    REQUIRE(installed);
    REQUIRE_MESSAGE(ok_of(*installed), installed->payload);
    int n = 0;
    for (const char* text :
         {"fetching https://T0KENUSER:PASSW0RD@example.com/x.so?sig=S1GNATURE now",
          "login password=HUNTER2 done", "broker password S3cr3t-Pa55w0rd! leaked"}) {
        const std::string id = "l" + std::to_string(++n);
        auto answer = send_command(
            client, agent, "components/logprobe/cmd/log", "components/logprobe/evt/log_result",
            R"({"request_id":")" + id + R"(","level":"warning","message":")" + text + "\"}", id);
        REQUIRE(answer);
    }
    auto redacted = client.wait_for(agent.topic("logs"), [](const Message& m) {
        return has_message(m, "fetching https://***@example.com/x.so?*** now");
    });
    REQUIRE_MESSAGE(redacted, agent.log());
    REQUIRE(client.wait_for(agent.topic("logs"), [](const Message& m) {
        return has_message(m, "broker password *** leaked");
    }));
    auto kept = send_command(client, agent, "core/cmd/logs/get", "core/evt/logs/get_result",
                             R"({"request_id":"g1","n":1000})", "g1");
    REQUIRE(kept);
    CHECK(has_text(kept->payload, "agent:***@"));  // the start line names the broker, redacted
    CHECK(has_text(kept->payload, "login password=*** done"));
    CHECK(agent.stop(SIGTERM) == 0);

    std::size_t searched = 0;
    for (const auto& m : client.all_messages()) {
        if (has_text(m.topic, "/cmd/")) continue;  // what the test sent
        searched += has_text(m.topic, "/logs") ? 1 : 0;
        for (const auto& secret : secrets) CHECK_MESSAGE(!has_text(m.payload, secret), m.topic);
    }
    CHECK(searched >= 2);  // the search had input
    // The log file is redacted the same way, a plugin's text included.
    for (const auto& secret : secrets) CHECK_MESSAGE(!has_text(agent.log(), secret), secret);
}

TEST_CASE("a component's level is shown in its status, and an uninstall drops it") {
    LogsRig rig("logs-uninst");
    rig.client->clear();
    REQUIRE(ok_of(rig.component_level("logprobe", R"(,"log_level":"debug")")));
    auto shown =
        rig.client->wait_for(rig.agent.topic("components/logprobe/status"),
                             [](const Message& m) { return m.str("log_level") == "debug"; });
    CHECK_MESSAGE(shown, rig.agent.log());
    // "default" clears it as null does, and the status says so (no log_level).
    rig.client->clear();
    auto cleared = rig.component_level("logprobe", R"(,"log_level":"default")");
    REQUIRE_MESSAGE(ok_of(cleared), cleared.payload);
    CHECK(cleared.json_text("log_level") == "null");
    auto plain =
        rig.client->wait_for(rig.agent.topic("components/logprobe/status"),
                             [](const Message& m) { return !m.json().HasMember("log_level"); });
    CHECK_MESSAGE(plain, rig.agent.log());

    REQUIRE(ok_of(rig.component_level("logprobe", R"(,"log_level":"debug")")));
    CHECK(read_bytes(rig.data() / "log_levels.json").find("logprobe") != std::string::npos);
    auto gone = rig.uninstall(R"({"request_id":"u-1","component_id":"logprobe"})", "u-1");
    REQUIRE_MESSAGE(ok_of(gone), gone.payload);
    CHECK(read_bytes(rig.data() / "log_levels.json").find("logprobe") == std::string::npos);

    // Installed again, it follows the agent's levels: its debug lines are not kept.
    auto again = rig.install(
        install_payload("i-again", "logprobe", inline_source(artifact(LUCID_ITEST_LOG_PROBE))),
        "i-again");
    REQUIRE_MESSAGE(ok_of(again), again.payload);
    rig.plugin_logs("debug", "dbg-reinstalled");
    rig.settle("r");
    CHECK_FALSE(rig.kept(R"(,"component":"logprobe")", "dbg-reinstalled"));
}

TEST_CASE("what a plugin's handler throws reaches the operator, cut and redacted") {
    LogsRig rig("logs-throw");
    auto thrown = rig.plugin_command(
        "logprobe", "throw",
        R"({"request_id":"t-1","message":"sensor gone\nbroker https://u:hunter2@h/x password=hunter2 )" +
            std::string(5000, 'z') + R"("})",
        "t-1");
    REQUIRE_MESSAGE(thrown, rig.agent.log());
    CHECK_FALSE(ok_of(*thrown));
    const std::string error = error_of(*thrown);
    CHECK_MESSAGE(error.rfind("sensor gone\\nbroker https://***@h/x password=*** zzz", 0) == 0,
                  error);
    CHECK(error.find("hunter2") == std::string::npos);
    CHECK_MESSAGE(error.size() < 4200, error.size());
    // A host call the host refused: the status by name and what it means, not a bare number.
    auto refused = rig.plugin_command("logprobe", "publish_bad", R"({"request_id":"t-2"})", "t-2");
    REQUIRE(refused);
    CHECK_MESSAGE(error_of(*refused) ==
                      "publish bad/+/topic failed: LUCID_ERR_INVALID_ARGUMENT (NULL where not "
                      "allowed, a bad topic, filter, qos or name, or bad JSON)",
                  refused->payload);
}
