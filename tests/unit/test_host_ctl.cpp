// lucidctl's pure parts: option parsing, "did you mean", an agent's presence from its retained
// status, durations, ages and byte counts, and how long it waits for the agent.
#include <doctest/doctest.h>

#include <sstream>

#include "components/component_manager.hpp"
#include "contract/payloads.hpp"
#include "contract/plugin_call_timeout.hpp"
#include "lucidctl/agent_presence.hpp"
#include "lucidctl/isolation_options.hpp"
#include "lucidctl/nearest_word.hpp"
#include "lucidctl/options.hpp"
#include "lucidctl/progress_line.hpp"
#include "lucidctl/session.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

using namespace lucid::host::ctl;

TEST_CASE("lucidctl outwaits the agent's plugin call timeout, which it knows without the agent") {
    // lucidctl does not link the components: the constant it uses must stay the agent's default.
    const auto agents = lucid::host::components::ManagerSettings{}.plugin_call_timeout;
    CHECK(lucid::host::contract::kPluginCallTimeout == agents);
    CHECK(agent_bound("stop") == agents);
    CHECK(agent_bound("restart") == 2 * agents);
    CHECK(agent_bound("cfg/set") == agents);  // a component's config waits on config_changed
    CHECK(agent_bound("ping") == std::chrono::milliseconds(0));
}

TEST_CASE("KEY=VALUE settings: typed values; labels for the core, KEY:=JSON for both") {
    auto set_of = [](SettingKeys keys, std::vector<std::string> assignments) {
        rapidjson::Document set(rapidjson::kObjectType);
        for (const auto& a : assignments) add_setting(set, a, set.GetAllocator(), keys);
        return lucid::host::contract::to_json(set);
    };
    CHECK(set_of(SettingKeys::component, {"on=true", "n=-5", "name=12b", "empty=", "labels=a=b"}) ==
          R"({"on":true,"n":-5,"name":"12b","empty":"","labels":"a=b"})");
    CHECK(set_of(SettingKeys::component,
                 {R"(limits:={"max":5})", "ids:=[1,2]", "r:=0.5", "s:=\"x\"", "z:=null"}) ==
          R"({"limits":{"max":5},"ids":[1,2],"r":0.5,"s":"x","z":null})");
    CHECK(set_of(SettingKeys::core, {"labels=site=b"}) == R"({"labels":{"site":"b"}})");
    // KEY:=JSON for the agent's settings too, a dotted KEY a path as with KEY=VALUE.
    CHECK(set_of(SettingKeys::core, {"heartbeat_s:=30"}) == R"({"heartbeat_s":30})");
    // The agent's switches in any case (a walk finding: TRUE was sent as a string, refused);
    // a component's config keeps its strings as typed.
    CHECK(set_of(SettingKeys::core, {"logs_enabled=TRUE", "telemetry_enabled=False"}) ==
          R"({"logs_enabled":true,"telemetry_enabled":false})");
    CHECK(set_of(SettingKeys::component, {"mode=TRUE"}) == R"({"mode":"TRUE"})");
    CHECK(set_of(SettingKeys::core, {R"(telemetry.metrics.cpu_percent:={"enabled":true})",
                                     R"(labels:={"site":"b"})"}) ==
          R"({"telemetry":{"metrics":{"cpu_percent":{"enabled":true}}},"labels":{"site":"b"}})");
    auto refused = [&](std::vector<std::string> assignments) {
        try {
            set_of(SettingKeys::component, assignments);
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(refused({"n=1", "n:=2"}) == "n given twice");
    CHECK(refused({"n:={"}) == "n:= takes a JSON value (n:=5, n:=[1,2], n:={\"max\":5}), got '{'");
    CHECK(refused({"n:=" + std::string(65, '[') + std::string(65, ']')}).rfind("n:= takes", 0) ==
          0);
    CHECK(refused({"=1"}) == "expected KEY=VALUE, got '=1'");
}

TEST_CASE("the nearest known word is suggested only for a likely typo") {
    CHECK(edit_distance("stauts", "status") == 1);  // two neighbours swapped: one edit
    CHECK(edit_distance("tpo", "top") == 1);
    CHECK(edit_distance("abc", "ca") == 3);  // not a swap of neighbours once an edit is between
    CHECK(edit_distance("", "top") == 3);
    CHECK(nearest_word("stauts", known_words({})) == "status");
    CHECK(nearest_word("tpo", known_words({})) == "top");
    CHECK(nearest_word("pimg", known_words({})) == "ping");
    // "pign" is one edit from both ping (a swap) and sign: the first known wins.
    CHECK(nearest_word("pign", known_words({})) == "ping");
    CHECK(nearest_word("unistall", known_words({"plugin"})) == "uninstall");
    CHECK_FALSE(nearest_word("x", known_words({})));
    CHECK_FALSE(nearest_word("frobnicate", known_words({})));
    CHECK_FALSE(nearest_word("status", known_words({})));  // not a typo
}

TEST_CASE("lucidctl options: aliases, switches, the timeout range") {
    auto o = parse_ctl_options({"--mqtt-url", "mqtt://b:1", "--tls-ca=/ca.pem", "plugin", "install",
                                "x.so", "--force", "--env-file", "/e"});
    CHECK(o.error.empty());
    CHECK(*o.url == "mqtt://b:1");
    CHECK(o.url_flag == "--mqtt-url");
    CHECK(*o.tls_ca == "/ca.pem");
    CHECK(*o.env_file == "/e");
    CHECK(command_switch(o, "force"));
    CHECK(o.words == std::vector<std::string>{"plugin", "install", "x.so"});
    CHECK(parse_ctl_options({"--timeout", "0", "ping"}).error ==
          "--timeout must be a number of seconds from 1 to 3600, got '0'");
    CHECK(parse_ctl_options({"--timeout", "1", "ping"}).timeout.count() == 1000);
    CHECK(parse_ctl_options({"--force=yes"}).error == "option --force takes no value");
    // A mistyped command with an option is named as the unknown command (a walk finding).
    CHECK(parse_ctl_options({"log", "-n", "2"}).error ==
          "unknown command 'log' (did you mean 'logs'?)");
    CHECK(parse_ctl_options({"--versoin"}).error ==
          "unknown option '--versoin' (did you mean '--version'?)");
    CHECK(parse_ctl_options({"--version"}).version);

    std::ostringstream err;
    print_usage_error(err, "missing component id", {"plugin", "info"});
    CHECK(err.str() == "lucidctl: missing component id\ntry 'lucidctl plugin info --help'\n");
}

TEST_CASE("--help of a word that only has subcommands shows their usage, not the overview") {
    // A walk finding: 'lucidctl config --help' printed the whole overview.
    const std::string config = ctl_help({"config"});
    CHECK(config.rfind("usage: lucidctl config get", 0) == 0);
    CHECK(config.find("usage: lucidctl config set") != std::string::npos);
    CHECK(config.find("More on each: lucidctl config SUBCOMMAND --help") != std::string::npos);
    CHECK(ctl_help({"config", "set"}).find("usage: lucidctl config set") == 0);
    CHECK(ctl_help({}) == ctl_help({"nonsense"}));
}

TEST_CASE(
    "plugin isolate --run-as USER[:GROUP,...] and --run-as-agent become the payload's run_as") {
    auto payload_of = [](std::vector<std::string> args) {
        const auto o = parse_ctl_options(args);
        INFO(o.error);
        REQUIRE(o.error.empty());
        rapidjson::Document payload(rapidjson::kObjectType);
        add_isolation_fields(o, std::optional<std::string>("process"), payload);
        return lucid::host::contract::to_json(payload);
    };
    CHECK(payload_of({"plugin", "isolate", "cam", "process", "--run-as", "cam:video,plugdev"}) ==
          R"({"isolation":"process","run_as":{"user":"cam","groups":["video","plugdev"]}})");
    CHECK(payload_of({"plugin", "isolate", "cam", "process", "--run-as", "nobody"}) ==
          R"({"isolation":"process","run_as":{"user":"nobody"}})");
    CHECK(payload_of({"plugin", "isolate", "cam", "process", "--run-as-agent"}) ==
          R"({"isolation":"process","run_as":{}})");
    auto refused = [](std::vector<std::string> args) {
        const auto o = parse_ctl_options(args);
        REQUIRE(o.error.empty());
        rapidjson::Document payload(rapidjson::kObjectType);
        try {
            add_isolation_fields(o, std::nullopt, payload);
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(refused({"plugin", "isolate", "cam", "--run-as", "a", "--run-as-agent"}) ==
          "give --run-as USER or --run-as-agent, not both");
    CHECK(refused({"plugin", "isolate", "cam", "--run-as", "cam:"}).find("'--run-as' '' is not") ==
          0);
    CHECK(refused({"plugin", "isolate", "cam", "--run-as", "1000"}).find("'--run-as' '1000'") == 0);
}

TEST_CASE("an agent's presence: online uptime from connected_since, offline since last seen") {
    const auto now = *parse_utc_timestamp("2026-11-30T01:00:00.000Z");
    rapidjson::Document online;
    online.Parse(R"({"ts":"2026-11-30T00:00:00.000Z","state":"online","agent_id":"a",)"
                 R"("session":4,"connected_since":"2026-11-30T00:50:00.000Z","uptime_s":1.5})");
    const auto p = agent_presence(online, {}, now);
    CHECK(p.known);
    CHECK(p.online);
    CHECK(p.session == "4");
    REQUIRE(p.uptime_s);
    CHECK(*p.uptime_s == doctest::Approx(600));

    // A Will carries its connect time; a later core/state is a later sign of life.
    rapidjson::Document will;
    will.Parse(R"({"ts":"2026-11-30T00:00:00.000Z","state":"offline","agent_id":"a","session":4})");
    const auto q = agent_presence(will, {"2026-11-30T00:30:00.500Z", "garbage"}, now);
    CHECK_FALSE(q.online);
    CHECK(q.last_seen == "2026-11-30T00:30:00.500Z");
    REQUIRE(q.offline_for);
    CHECK(*q.offline_for == doctest::Approx(1799.5));
    CHECK_FALSE(q.uptime_s);

    rapidjson::Document nothing;
    nothing.Parse("{}");
    CHECK_FALSE(agent_presence(nothing, {}, now).known);
    rapidjson::Document conflict;
    conflict.Parse(R"({"state":"online","conflict":"another instance"})");
    CHECK(agent_presence(conflict, {}, now).conflict == "another instance");
}

TEST_CASE("timestamps, durations, ages and byte counts") {
    CHECK(parse_utc_timestamp("2026-11-30T00:36:36Z"));
    CHECK_FALSE(parse_utc_timestamp("2026-11-30 00:36:36"));
    // Only the contract's shape: no whitespace (a line break in a logged value), no signs.
    CHECK_FALSE(parse_utc_timestamp(" 2026-11-30T00:36:36Z"));
    CHECK_FALSE(parse_utc_timestamp("\n2026-11-30T-1:+1:\r5Z"));
    CHECK_FALSE(parse_utc_timestamp("2026-11-30T-1:00:00Z"));
    CHECK_FALSE(parse_utc_timestamp("2026-11-30T00:36:36.1\nZ"));
    CHECK_FALSE(parse_utc_timestamp("2026-11-30T00:36:36.123"));
    // A hostile retained message: years the clock cannot hold are no time (it overflowed).
    CHECK_FALSE(parse_utc_timestamp("2262-04-11T23:47:16.855Z"));
    CHECK_FALSE(parse_utc_timestamp("1677-09-21T00:12:43.145Z"));
    // Milliseconds are one to three digits; a date must exist; no leap second.
    CHECK(parse_utc_timestamp("2026-11-30T00:36:36.1Z"));
    CHECK(parse_utc_timestamp("2028-02-29T00:00:00Z"));
    for (const char* bad : {"2099-01-01T00:00:00.Z", "2099-01-01T00:00:00.1234Z",
                            "2099-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
                            "2099-04-31T00:00:00Z", "2099-12-31T23:59:60Z"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_utc_timestamp(bad));
    }
    CHECK(format_duration(93784) == "1d2h3m4s");
    CHECK(format_duration(59) == "59s");
    CHECK(*parse_age("7d") == 7 * 86400);
    CHECK(*parse_age("90") == 90);
    CHECK(*parse_age("1.5h") == 5400);
    CHECK_FALSE(parse_age("soon"));
    CHECK_FALSE(parse_age("0d"));
    CHECK_FALSE(parse_age("-1d"));
    CHECK(format_bytes(12) == "12 B");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(70.0 * 1024 * 1024) == "70.0 MiB");
}

TEST_CASE("a progress line is cleared before anything else is printed, and silent off a tty") {
    std::ostringstream out;
    {
        ProgressLine line(out, true);
        line.update("download", 512, 1024);
        line.clear();
    }
    CHECK(out.str().find("download [##########") != std::string::npos);
    CHECK(out.str().size() > 3);
    CHECK(out.str().substr(out.str().size() - 4) == "\r\x1b[K");
    std::ostringstream quiet;
    {
        ProgressLine line(quiet, false);
        line.update("download", 1, 2);
        line.note("uploading");
    }
    CHECK(quiet.str().empty());
}

TEST_CASE("a progress line shows the rate and the time left of its phase") {
    std::ostringstream out;
    auto now = std::chrono::steady_clock::time_point{};
    ProgressLine line(out, true, [&now] { return now; });
    line.update("download", 1024, 4096);  // the phase starts here: no rate yet
    CHECK(out.str().find("/s") == std::string::npos);
    now += std::chrono::seconds(2);
    line.update("download", 3072, 4096);  // 2 KiB in 2 s; 1 KiB left
    CHECK_MESSAGE(out.str().find("3.0 KiB / 4.0 KiB  1.0 KiB/s  1s left") != std::string::npos,
                  out.str());
    now += std::chrono::seconds(1);
    line.update("install", 10, 0);  // a new phase starts its own rate; no total, no time left
    const std::string last = out.str().substr(out.str().rfind('\r'));
    CHECK(last.find("install") != std::string::npos);
    CHECK(last.find("/s") == std::string::npos);
    CHECK(last.find("left") == std::string::npos);
}

TEST_CASE("what lucidctl prints from the broker cannot drive the terminal") {
    CHECK(printable("9\x1b]52;c;ZWNobw==\x07") == "9?]52;c;ZWNobw==?");
    CHECK(printable("x\r\x1b[2K\x1b[1Aok") == "x??[2K?[1Aok");
    CHECK(printable("a\xc2\x9b"
                    "31mb") == "a?31mb");                          // C1 CSI
    CHECK(printable("caf\xc3\xa9 1.0.0") == "caf\xc3\xa9 1.0.0");  // UTF-8 text stays
    TextTable table({"ID"});
    table.add({"evil\x1b[2J"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str().find('\x1b') == std::string::npos);
}

TEST_CASE("a field as text: a fraction reads back as it was set, a whole number without decimals") {
    // A walk finding: plugin config get showed ratio=0.75 as ratio=1.
    rapidjson::Document doc;
    doc.Parse(R"({"ratio":0.75,"count":3,"big":1e20,"whole":2.0,"off":false,"none":null})");
    CHECK(str(doc, "ratio") == "0.75");
    CHECK(str(doc, "count") == "3");
    CHECK(str(doc, "whole") == "2");
    CHECK(str(doc, "big") == "100000000000000000000");
    CHECK(str(doc, "off") == "false");
    CHECK(str(doc, "none", "null") == "null");
    CHECK(str(doc, "missing", "-") == "-");
}
