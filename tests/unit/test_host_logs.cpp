// The log over MQTT (contract §4.15): redaction of a line, the levels and the kept lines of the
// tap, the stream's payload and the log commands' payloads.
#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>

#include <rapidjson/document.h>

#include "agent/log_requests.hpp"
#include "agent/log_stream.hpp"
#include "common/log_levels.hpp"
#include "common/log_redaction.hpp"
#include "common/log_tap.hpp"
#include "common/logging.hpp"
#include "plugin/plugin_callback.hpp"

using namespace lucid::host;
using namespace lucid::host::agent;

namespace {

rapidjson::Document json(const char* text) {
    rapidjson::Document doc;
    doc.Parse(text);
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

}  // namespace

TEST_CASE("URL credentials, queries and passwords never survive a log line") {
    CHECK(redact_log_text("got https://tok@h/x.so?sig=1 ok") == "got https://***@h/x.so?*** ok");
    CHECK(redact_log_text("mqtt://agent:p4ss@broker:1883 down") == "mqtt://***@broker:1883 down");
    // The agent's own form of a broker URL is kept: the user is not secret.
    CHECK(redact_log_text("connected to mqtt://agent:***@127.0.0.1:1883") ==
          "connected to mqtt://agent:***@127.0.0.1:1883");
    // A raw '/' in a password does not end the userinfo.
    CHECK(redact_log_text("'http://user:PASSW0RD/x@h/f.so'") == "'http://***@h/f.so'");
    CHECK(redact_log_text("http://h/p#frag and http://h/q?a=1#f") ==
          "http://h/p#*** and http://h/q?***#***");
    CHECK(redact_log_text("password=hunter2, user=x") == "password=***, user=x");
    CHECK(redact_log_text(R"({"Password": "hunter2"})") == R"({"Password": "***"})");
    CHECK(redact_log_text("passwd: hunter2") == "passwd: ***");
    CHECK(redact_log_text("the key S3cr3t and S3cr3t%21", {"S3cr3t"}) == "the key *** and ***%21");
    CHECK(redact_log_text("no url :// here, no password") == "no url :// here, no password");
    // A broker password of one or two characters is redacted too, where it stands as a word.
    CHECK(redact_log_text("login as u with ab failed; tab about", {"ab"}) ==
          "login as u with *** failed; tab about");
    CHECK(redact_log_text("auth x,y: x", {"x"}) == "auth ***,y: ***");
    CHECK(redact_log_text("ab", {"ab"}) == "***");
    for (const char* text : {"https://tok@h/x.so?sig=1", "password=x", "a://b@c?d#e"}) {
        const std::string once = redact_log_text(text);
        CHECK(redact_log_text(once) == once);  // idempotent
    }
}

TEST_CASE("a plugin's text stays one line that cannot drive a terminal") {
    CHECK(escape_control_characters("plain text, caf\u00e9 \\ ok") ==
          "plain text, caf\u00e9 \\ ok");
    CHECK(escape_control_characters("hello\n[2026-12-02 01:29:30.000] [audit] forged") ==
          "hello\\n[2026-12-02 01:29:30.000] [audit] forged");
    CHECK(escape_control_characters("a\rb\tc\x1b[2J\x07\x7f") == "a\\rb\\tc\\x1b[2J\\x07\\x7f");
    CHECK(escape_control_characters("csi \xc2\x9b end") == "csi \\xc2\\x9b end");
    CHECK(escape_control_characters(std::string("nul\0x", 5)) == "nul\\x00x");
    // What PluginContext::log writes: cut, redacted, one line.
    const auto line = LogTap::instance().plugin_line("got https://u:p@h/x\nsecond line " +
                                                     std::string(5000, 'y'));
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.rfind("got https://***@h/x\\nsecond line yyy", 0) == 0);
    CHECK(line.size() < 4200);
}

TEST_CASE("an exception escaping an in-process plugin is reported redacted and on one line") {
    // Its what() reaches the result, the status and the log as call_fail() texts do.
    PluginCall call;
    const lucid_status status = call_plugin_in_process(call, []() -> lucid_status {
        throw std::runtime_error("fetch https://admin:hunter2@repo/x failed\nforged line");
    });
    CHECK(status == LUCID_ERR_INTERNAL);
    CHECK(call.error ==
          "exception escaped the plugin: fetch https://***@repo/x failed\\nforged line");
    PluginCall quiet;
    CHECK(call_plugin_in_process(quiet, [] { return LUCID_OK; }) == LUCID_OK);
    CHECK(quiet.error.empty());
}

TEST_CASE("levels are one vocabulary: five names in any case, warning and err as aliases") {
    CHECK(parse_level_name("trace") == spdlog::level::trace);
    CHECK(parse_level_name("warn") == spdlog::level::warn);
    CHECK(parse_level_name("error") == spdlog::level::err);
    CHECK(parse_level_name("WARNING") == spdlog::level::warn);
    CHECK(parse_level_name("Warn") == spdlog::level::warn);
    CHECK(parse_level_name("ERR") == spdlog::level::err);
    CHECK(parse_level_name("DEBUG") == spdlog::level::debug);
    CHECK_FALSE(parse_level_name("critical").has_value());
    CHECK_FALSE(parse_level_name("warnin").has_value());
    CHECK_FALSE(parse_level_name("").has_value());
    CHECK(is_default_level("Default"));
    CHECK_FALSE(is_default_level("defaults"));
    // Canonical on output: lowercase, and the earlier agent's words for cfg/set's log_level.
    CHECK(stream_level_name(spdlog::level::critical) == "error");
    CHECK(file_level_name(spdlog::level::warn) == "WARNING");
    CHECK(file_level_name(spdlog::level::trace) == "TRACE");
}

TEST_CASE("the tap keeps what the log file gets and queues what streams") {
    auto& tap = LogTap::instance();
    auto core = logger("test-core");
    auto plugin = logger("plugin.probe");
    tap.set_file_level(spdlog::level::info);
    tap.set_stream_level(std::nullopt);
    core->debug("hidden debug");
    core->info("kept info https://tok@h/x?q=1");
    plugin->warn("plugin warn");
    auto kept = tap.kept(2, spdlog::level::trace, std::nullopt);
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].logger == "core");
    CHECK(kept[0].message == "kept info https://***@h/x?***");
    CHECK(kept[1].logger == "probe");
    CHECK(kept[1].level == spdlog::level::warn);
    CHECK(tap.kept(1, spdlog::level::trace, std::string("probe"))[0].message == "plugin warn");
    CHECK(tap.take(50).lines.empty());  // nothing streams

    tap.set_stream_level(spdlog::level::debug);
    core->debug("streamed debug");  // below the file's level: streamed, not kept
    core->trace("nobody wants it");
    auto taken = tap.take(50);
    REQUIRE(taken.lines.size() == 1);
    CHECK(taken.lines[0].message == "streamed debug");
    CHECK(tap.kept(1, spdlog::level::trace, std::nullopt)[0].message == "plugin warn");

    // A component's own level replaces both for its lines.
    tap.set_component_level("probe", spdlog::level::err);
    plugin->warn("below the component's level");
    plugin->error("at it");
    taken = tap.take(50);
    REQUIRE(taken.lines.size() == 1);
    CHECK(taken.lines[0].message == "at it");
    tap.set_component_level("probe", spdlog::level::trace);
    plugin->trace("plugin trace");
    CHECK(tap.take(50).lines.size() == 1);
    CHECK(tap.kept(1, spdlog::level::trace, std::nullopt)[0].message == "plugin trace");
    tap.set_component_level("probe", std::nullopt);

    // A full queue drops and counts, and `dropped` stands where the gap is: before the first
    // line queued after it, never with the lines before it (a walk finding).
    for (std::size_t i = 0; i < LogTap::kPendingLines + 5; ++i) core->debug("flood {}", i);
    taken = tap.take(10);
    CHECK(taken.lines.size() == 10);
    CHECK(taken.dropped == 0);
    core->debug("after the gap");  // room again: queued, 5 lines lost before it
    taken = tap.take(LogTap::kPendingLines + 10);
    CHECK(taken.lines.size() == LogTap::kPendingLines - 10);  // the take ends at the gap
    CHECK(taken.dropped == 0);
    CHECK(taken.lines.back().message == "flood 999");
    taken = tap.take(50);
    REQUIRE(taken.lines.size() == 1);
    CHECK(taken.lines[0].message == "after the gap");
    CHECK(taken.dropped == 5);
    // Lost lines with nothing queued after them are taken alone.
    for (std::size_t i = 0; i < LogTap::kPendingLines + 3; ++i) core->debug("flood {}", i);
    CHECK(tap.take(LogTap::kPendingLines).dropped == 0);
    taken = tap.take(50);
    CHECK(taken.lines.empty());
    CHECK(taken.dropped == 3);
    std::thread([&] {
        LogTap::mute_this_thread();
        core->warn("from the publisher");
    }).join();
    CHECK(tap.take(50).lines.empty());
    CHECK(tap.kept(1, spdlog::level::trace, std::nullopt)[0].message == "from the publisher");
    tap.set_stream_level(std::nullopt);
}

TEST_CASE("a message longer than 4 KiB is cut at a character boundary") {
    auto& tap = LogTap::instance();
    tap.set_file_level(spdlog::level::info);
    std::string text(4095, 'a');
    text += "\xc3\xa9tail";
    logger("test-core")->info("{}", text);
    const auto kept = tap.kept(1, spdlog::level::trace, std::nullopt);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].message == std::string(4095, 'a') + "...(4101 bytes)");
}

TEST_CASE("the stream's payload: schema, ts, lines and dropped") {
    const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
    const std::string payload =
        LogStream::payload({{at, spdlog::level::warn, "core", "disk \xff full"}}, 3, at);
    auto doc = json(payload.c_str());
    CHECK(std::string(doc["schema"].GetString()) == "lucid.core.v1.0.0");
    CHECK(std::string(doc["ts"].GetString()) == "2023-11-14T22:13:20.123Z");
    CHECK(doc["dropped"].GetInt() == 3);
    REQUIRE(doc["lines"].Size() == 1);
    const auto& line = doc["lines"][0];
    CHECK(std::string(line["level"].GetString()) == "warn");
    CHECK(std::string(line["logger"].GetString()) == "core");
    CHECK(std::string(line["message"].GetString()) == "disk \xef\xbf\xbd full");
}

TEST_CASE("the log commands' payloads and their exact errors") {
    auto get = parse_logs_get(json(R"({"request_id":"r"})"));
    CHECK(get.error.empty());
    CHECK(get.n == 100);
    CHECK(get.level == spdlog::level::trace);
    CHECK_FALSE(get.component.has_value());
    get = parse_logs_get(json(R"({"request_id":"r","n":5,"level":"warn","component":"core"})"));
    CHECK(get.n == 5);
    CHECK(get.level == spdlog::level::warn);
    CHECK(get.component == std::string("core"));
    CHECK(parse_logs_get(json(R"({"n":0})")).error ==
          "validation_error: 'n' must be an integer from 1 to 1000");
    CHECK(parse_logs_get(json(R"({"n":1001})")).error ==
          "validation_error: 'n' must be an integer from 1 to 1000");
    CHECK(parse_logs_get(json(R"({"n":"5"})")).error ==
          "validation_error: 'n' must be an integer from 1 to 1000");
    CHECK(parse_logs_get(json(R"({"level":"WARN"})")).level == spdlog::level::warn);
    CHECK(parse_logs_get(json(R"({"level":"loud"})")).error ==
          "validation_error: 'level' must be one of trace, debug, info, warn, error (any case; "
          "warning and err too)");
    CHECK(parse_logs_get(json(R"({"component":"A"})")).error ==
          "validation_error: 'component' must be core or a component id "
          "([a-z0-9][a-z0-9_-]{0,63})");

    auto stream = parse_logs_stream(json(R"({"request_id":"r"})"));
    CHECK(stream.error.empty());
    CHECK(stream.level == spdlog::level::info);
    CHECK(stream.seconds == 60);
    stream = parse_logs_stream(json(R"({"level":"debug","seconds":3600})"));
    CHECK(stream.level == spdlog::level::debug);
    CHECK(stream.seconds == 3600);
    CHECK(parse_logs_stream(json(R"({"seconds":0})")).error ==
          "validation_error: 'seconds' must be an integer from 1 to 3600");
    CHECK(parse_logs_stream(json(R"({"seconds":3601})")).error ==
          "validation_error: 'seconds' must be an integer from 1 to 3600");
    CHECK(parse_logs_stream(json(R"({"level":null})")).error ==
          "validation_error: 'level' must be one of trace, debug, info, warn, error (any case; "
          "warning and err too)");

    CHECK(parse_component_log_level(json(R"({"request_id":"r"})")).error ==
          "missing 'log_level' field in payload");
    CHECK(parse_component_log_level(json(R"({"log_level":1})")).error == "log_level must be str");
    CHECK(parse_component_log_level(json(R"({"log_level":"DEBUG"})")).level ==
          spdlog::level::debug);
    CHECK(parse_component_log_level(json(R"({"log_level":"loud"})")).error ==
          "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
          "too), or default (or null) for none");
    const auto by_default = parse_component_log_level(json(R"({"log_level":"Default"})"));
    CHECK(by_default.error.empty());
    CHECK_FALSE(by_default.level.has_value());
    CHECK(parse_component_log_level(json(R"({"log_level":"debug"})")).level ==
          spdlog::level::debug);
    const auto cleared = parse_component_log_level(json(R"({"log_level":null})"));
    CHECK(cleared.error.empty());
    CHECK_FALSE(cleared.level.has_value());
}
