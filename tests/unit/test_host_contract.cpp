#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "contract/command_request.hpp"
#include "contract/component_id_field.hpp"
#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"
#include "contract/topics.hpp"
#include "contract/utf8.hpp"
#include "lucid/registry/echoed_value.hpp"

using namespace lucid::host::contract;
using lucid::registry::echoed_value;

namespace {

const Clock::time_point kNow = Clock::time_point(std::chrono::milliseconds(1795356301123LL));

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    CHECK(std::string(doc["schema"].GetString()) == "lucid.core.v1.0.0");
    CHECK(std::string(doc["ts"].GetString()) == "2026-11-22T14:05:01.123Z");
    return doc;
}

}  // namespace

TEST_CASE("timestamps are UTC ISO-8601 with milliseconds and Z") {
    CHECK(utc_timestamp(kNow) == "2026-11-22T14:05:01.123Z");
    CHECK(utc_timestamp(Clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    CHECK(utc_timestamp(Clock::time_point(std::chrono::milliseconds(-1))) ==
          "1969-12-31T23:59:59.999Z");
    // The same second again (formatted once per second), then the next one and back.
    CHECK(utc_timestamp(kNow + std::chrono::milliseconds(5)) == "2026-11-22T14:05:01.128Z");
    CHECK(utc_timestamp(kNow + std::chrono::milliseconds(877)) == "2026-11-22T14:05:02.000Z");
    CHECK(utc_timestamp(kNow - std::chrono::milliseconds(123)) == "2026-11-22T14:05:01.000Z");
    CHECK(utc_timestamp(kNow + std::chrono::hours(24 * 40)) == "2027-01-01T14:05:01.123Z");
}

TEST_CASE("topics are built under root and agent id") {
    AgentTopics t("lucid/agents", "pi-1");
    CHECK(t.status() == "lucid/agents/pi-1/status");
    CHECK(t.core_metadata() == "lucid/agents/pi-1/core/metadata");
    CHECK(t.core_state() == "lucid/agents/pi-1/core/state");
    CHECK(t.core_components() == "lucid/agents/pi-1/core/components");
    CHECK(t.core_cfg_state() == "lucid/agents/pi-1/core/cfg/state");
    CHECK(t.at(topics::kCfgSet.command) == "lucid/agents/pi-1/core/cfg/set");
    CHECK(t.at(topics::kCfgSet.result) == "lucid/agents/pi-1/core/evt/cfg_set_result");
    CHECK(t.at(topics::kPing.result) == "lucid/agents/pi-1/core/evt/ping_result");
    CHECK(t.at(topics::kInstall.result) == "lucid/agents/pi-1/core/evt/components/install_result");
    CHECK(t.component_status("cpu") == "lucid/agents/pi-1/components/cpu/status");
    CHECK(t.component_cfg_set_result("cpu") ==
          "lucid/agents/pi-1/components/cpu/evt/cfg_set_result");
    CHECK(t.component_command("cpu", "sample") == "lucid/agents/pi-1/components/cpu/cmd/sample");
    CHECK(t.component_command_result("cpu", "sample") ==
          "lucid/agents/pi-1/components/cpu/evt/sample_result");
    CHECK(all_agents_status_filter("site/a") == "site/a/+/status");
}

TEST_CASE("a plugin's action or event type is one topic level") {
    for (const char* good : {"sample", "read.value", "Read Temp", "x"})
        CHECK(valid_topic_level(good));
    for (const char* bad : {"", "a/b", "a+", "#", "/"}) CHECK_FALSE(valid_topic_level(bad));
    CHECK_FALSE(valid_topic_level(std::string_view("a\0b", 3)));
}

TEST_CASE("status carries state, session, connected_since and uptime") {
    StatusInfo info;
    info.agent_id = "a1";
    info.version = "1.2.3";
    info.session = 7;
    info.connected_since = kNow;
    info.uptime_s = 12.3456;
    auto doc = parse(status_payload(info, kNow));
    CHECK(std::string(doc["state"].GetString()) == "online");
    CHECK(std::string(doc["agent_id"].GetString()) == "a1");
    CHECK(std::string(doc["version"].GetString()) == "1.2.3");
    CHECK(doc["session"].GetUint64() == 7);
    CHECK(std::string(doc["connected_since"].GetString()) == "2026-11-22T14:05:01.123Z");
    CHECK(doc["uptime_s"].GetDouble() == doctest::Approx(12.345));
    CHECK(doc["conflict"].IsNull());
    info.instance = "00ff00ff00ff00ff";
    info.conflict = "another agent with this agent_id is online: instance 1234";
    auto conflict = parse(status_payload(info, kNow));
    CHECK(std::string(conflict["instance"].GetString()) == "00ff00ff00ff00ff");
    CHECK(std::string(conflict["conflict"].GetString()) == *info.conflict);
    CHECK(std::string(conflict["state"].GetString()) == "online");  // the state stays
}

TEST_CASE("the Will is an offline status with agent_id, version, session and instance") {
    auto doc = parse(will_payload("a1", "1.0.0", 3, "00ff00ff00ff00ff", kNow));
    CHECK(std::string(doc["state"].GetString()) == "offline");
    CHECK(doc["session"].GetUint64() == 3);
    CHECK(std::string(doc["version"].GetString()) == "1.0.0");
    CHECK(std::string(doc["instance"].GetString()) == "00ff00ff00ff00ff");
}

TEST_CASE("metadata and core state carry the contract fields") {
    auto meta = parse(metadata_payload({"a1",
                                        "1.0.0",
                                        "linux",
                                        "aarch64",
                                        "pi",
                                        "1.0",
                                        {{"site", "berlin"}, {"role", "gw"}},
                                        "linux_armv7l"},
                                       kNow));
    for (const char* key : {"agent_id", "version", "platform", "arch", "hostname", "plugin_abi",
                            "labels", "build_platform"}) {
        CHECK(meta.HasMember(key));
    }
    CHECK(std::string(meta["arch"].GetString()) == "aarch64");
    CHECK(std::string(meta["build_platform"].GetString()) == "linux_armv7l");
    CHECK(std::string(meta["labels"]["site"].GetString()) == "berlin");
    CHECK(meta["labels"].MemberCount() == 2);
    auto running = parse(core_state_payload({"a1", 1.0, 2, 0, {}}, kNow));
    CHECK(std::string(running["state"].GetString()) == "running");
    CHECK(running["components_running"].GetUint() == 2);
    CHECK(running["degraded_reasons"].IsArray());
    CHECK(running["degraded_reasons"].Empty());
    auto degraded = parse(core_state_payload({"a1", 1.0, 1, 1, {}}, kNow));
    CHECK(std::string(degraded["state"].GetString()) == "degraded");
    CHECK(degraded["components_failed"].GetUint() == 1);
    // The agent's own reasons degrade it too, with no component failed.
    auto read_only = parse(core_state_payload(
        {"a1", 1.0, 1, 0, {"data directory read-only: /d: Read-only file system"}}, kNow));
    CHECK(std::string(read_only["state"].GetString()) == "degraded");
    CHECK(std::string(read_only["degraded_reasons"][0].GetString()) ==
          "data directory read-only: /d: Read-only file system");
}

TEST_CASE("core/components is keyed by component id with entry fields and live state") {
    ComponentSnapshot c;
    c.entry.component_id = "cpu";
    c.entry.dist_name = "lucid-agent-cpu";
    c.entry.version = "1.0.0";
    c.entry.source_json = R"({"type":"url","url":"file:///x.so"})";
    c.entry.config_json = "not json";
    c.state = lucid::host::ComponentState::running;
    auto doc = parse(components_payload({c}, kNow));
    CHECK(doc["count"].GetUint() == 1);
    const auto& item = doc["components"]["cpu"];
    CHECK(std::string(item["dist_name"].GetString()) == "lucid-agent-cpu");
    CHECK(std::string(item["source"]["type"].GetString()) == "url");
    // Unreadable JSON does not break the snapshot: it shows as an empty object.
    CHECK(item["config"].IsObject());
    CHECK(item["config"].ObjectEmpty());
    CHECK(item["sha256"].IsNull());
    CHECK(item["previous"].IsNull());
    CHECK(std::string(item["state"].GetString()) == "running");
    CHECK(item["error"].IsNull());
    CHECK(item["floor"].IsNull());  // no version floor (contract §8.12)
    c.floor = "2.0.0";
    doc = parse(components_payload({c}, kNow));
    CHECK(std::string(doc["components"]["cpu"]["floor"].GetString()) == "2.0.0");
}

TEST_CASE("the core/components cache says what a fresh serialization says, change by change") {
    ComponentSnapshot a;
    a.entry.component_id = "a";
    a.entry.dist_name = "a";
    a.entry.version = "1.0.0";
    a.state = lucid::host::ComponentState::running;
    ComponentSnapshot b = a;
    b.entry.component_id = "b";
    b.entry.dist_name = "b";
    ComponentsPayloadCache cache;
    std::vector<ComponentSnapshot> list{a, b};
    CHECK(cache.payload(list, kNow) == components_payload(list, kNow));
    // A change of one member's state, error, version or entry shows at once.
    list[1].state = lucid::host::ComponentState::failed;
    list[1].error = "boom";
    CHECK(cache.payload(list, kNow) == components_payload(list, kNow));
    CHECK(parse(cache.payload(list, kNow))["components"]["b"]["error"].GetString() ==
          std::string("boom"));
    list[0].entry.version = "2.0.0";
    list[0].restarts = 3;
    CHECK(cache.payload(list, kNow) == components_payload(list, kNow));
    // Removed, then back with other content: not the member it had before.
    list.pop_back();
    CHECK(parse(cache.payload(list, kNow))["count"].GetUint() == 1);
    b.entry.version = "9.0.0";
    list.push_back(b);
    CHECK(cache.payload(list, kNow) == components_payload(list, kNow));
    CHECK(parse(cache.payload(list, kNow))["components"]["b"]["version"].GetString() ==
          std::string("9.0.0"));
    CHECK(parse(cache.payload({}, kNow))["components"].ObjectEmpty());
}

TEST_CASE("every component state publishes as one of the contract's values") {
    using lucid::host::ComponentState;
    // Unresponsive and quarantined are failed on the wire, with the error saying why.
    const std::pair<ComponentState, const char*> expected[] = {
        {ComponentState::stopped, "stopped"},     {ComponentState::starting, "starting"},
        {ComponentState::running, "running"},     {ComponentState::failed, "failed"},
        {ComponentState::unresponsive, "failed"}, {ComponentState::unsupported, "unsupported"},
        {ComponentState::quarantined, "failed"}};
    for (const auto& [state, wire] : expected) {
        CAPTURE(wire);
        auto status = parse(component_status_payload(state, "1.0.0", "why", 0, kNow));
        CHECK(std::string(status["state"].GetString()) == wire);
        CHECK(lucid::host::counts_as_failed(state) == (std::string(wire) == "failed"));
    }
}

TEST_CASE("cfg state wraps the runtime config") {
    rapidjson::Document cfg(rapidjson::kObjectType);
    cfg.AddMember("heartbeat_s", 45, cfg.GetAllocator());
    auto doc = parse(cfg_state_payload(cfg, kNow));
    CHECK(doc["cfg"]["heartbeat_s"].GetInt() == 45);
    CHECK(doc["telemetry_supported"].GetBool());
}

TEST_CASE("a result has request_id, ok, error and extra fields") {
    Result ok("r1", kNow);
    ok.set("snapshots_updated", 5).set("noop", false).set("dist_name", "x");
    auto doc = parse(ok.str());
    CHECK(std::string(doc["request_id"].GetString()) == "r1");
    CHECK(doc["ok"].GetBool());
    CHECK(doc["error"].IsNull());
    CHECK(doc["snapshots_updated"].GetInt() == 5);
    CHECK_FALSE(doc["noop"].GetBool());

    Result failed("", kNow);
    failed.fail("not supervised");
    failed.set("ok_field_twice", 1).set("ok_field_twice", 2);
    auto f = parse(failed.str());
    CHECK_FALSE(f["ok"].GetBool());
    CHECK(std::string(f["error"].GetString()) == "not supervised");
    CHECK(f["ok_field_twice"].GetInt() == 2);
    CHECK_FALSE(failed.ok());
}

TEST_CASE("command payloads: valid, malformed, non-object, without request_id") {
    auto good = parse_command(R"({"request_id":"abc","set":{}})");
    CHECK(good.ok());
    CHECK(good.request_id == "abc");

    auto garbage = parse_command("{not json");
    CHECK(garbage.error.rfind("invalid JSON:", 0) == 0);
    CHECK(garbage.request_id.empty());

    auto trailing = parse_command(R"({"request_id":"x"} extra)");
    CHECK(trailing.error.rfind("invalid JSON:", 0) == 0);

    for (const char* text : {"[1,2]", "42", "\"s\"", "null"}) {
        auto r = parse_command(text);
        CHECK(r.error == "validation_error: payload must be a JSON object");
        CHECK(r.request_id.empty());
    }
    CHECK(parse_command("{}").error == "validation_error: missing 'request_id'");
    CHECK(parse_command(R"({"request_id":5})").error.rfind("validation_error:", 0) == 0);
    CHECK(parse_command(R"({"request_id":""})").error.rfind("validation_error:", 0) == 0);
    CHECK(parse_command("{\"request_id\":\"" + std::string(300, 'x') + "\"}")
              .error.rfind("validation_error:", 0) == 0);
    CHECK(parse_command("").error.rfind("invalid JSON:", 0) == 0);
}

TEST_CASE("a payload nested deeper than the limit is refused without parsing it") {
    // A megabyte of '[' overflowed the parser's stack before the limit existed.
    const auto deep = parse_command(std::string(1000000, '['));
    CHECK(deep.error == "invalid JSON: nested deeper than 64 levels");
    CHECK(deep.request_id.empty());
    // Brackets inside strings do not count, and 64 levels are still fine.
    const std::string nested = std::string(63, '[') + std::string(63, ']');
    const auto ok = parse_command(
        R"({"request_id":"r","s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","x":)" +
        nested + "}");
    CHECK_MESSAGE(ok.ok(), ok.error);
}

TEST_CASE("a command payload must be UTF-8 text without raw NUL bytes") {
    using namespace std::string_literals;
    // The parser would stop at the NUL and accept the object before it.
    CHECK(parse_command("{\"request_id\":\"x\"}\0junk"s).error ==
          "invalid JSON: NUL byte at offset 18");
    CHECK(parse_command("{\"request_id\":\"a\0b\"}"s).error ==
          "invalid JSON: NUL byte at offset 16");
    CHECK(parse_command("{\"request_id\":\"\xff\"}").error ==
          "invalid JSON: Invalid encoding in string. at offset 15");
    CHECK(parse_command("{\"request_id\":\"r\",\"x\":\"\xc0\xaf\"}").error ==
          "invalid JSON: Invalid encoding in string. at offset 23");
    CHECK(parse_command(R"({"request_id":"\ud800"})").error ==
          "invalid JSON: The surrogate pair in string is invalid. at offset 15");
    const auto accents = parse_command("{\"request_id\":\"caf\xc3\xa9\"}");
    CHECK_MESSAGE(accents.ok(), accents.error);
    CHECK(accents.request_id == "caf\xc3\xa9");
}

TEST_CASE("a request_id with control characters is refused and not echoed") {
    for (const char* text : {R"({"request_id":"a\u0000b"})", R"({"request_id":"a\nb"})",
                             R"({"request_id":"\u001b[2J"})", R"({"request_id":"x\u007f"})"}) {
        CAPTURE(text);
        const auto r = parse_command(text);
        CHECK(r.error == "validation_error: 'request_id' must not contain control characters");
        CHECK(r.request_id.empty());
    }
    CHECK(parse_command(R"({"request_id":"tab is\tnot ok"})").request_id.empty());
    CHECK(parse_command(R"({"request_id":"spaces and \u00e9 are"})").ok());
}

TEST_CASE("UTF-8 is checked strictly and repaired byte by byte") {
    using namespace std::string_literals;
    for (const std::string& good : {""s, "plain"s, "caf\xc3\xa9"s, "\xe2\x82\xac"s,
                                    "\xf0\x9f\x98\x80"s, "\xf4\x8f\xbf\xbf"s, "nul\0ok"s}) {
        CAPTURE(good);
        CHECK(is_valid_utf8(good));
        CHECK(to_valid_utf8(good) == good);
    }
    const std::string fffd = "\xef\xbf\xbd";
    const std::pair<std::string, std::string> bad[] = {
        {"\xff", fffd},                                   // never a lead byte
        {"a\x80z", "a" + fffd + "z"},                     // stray continuation
        {"caf\xc3", "caf" + fffd},                        // cut inside a character
        {"\xc0\xaf", fffd + fffd},                        // overlong '/'
        {"\xe0\x80\xaf", fffd + fffd + fffd},             // overlong, 3 bytes
        {"\xed\xa0\x80", fffd + fffd + fffd},             // a surrogate (U+D800)
        {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
    };
    for (const auto& [text, repaired] : bad) {
        CAPTURE(text);
        CHECK_FALSE(is_valid_utf8(text));
        CHECK(to_valid_utf8(text) == repaired);
        CHECK(is_valid_utf8(to_valid_utf8(text)));
    }
}

TEST_CASE("a result stays valid UTF-8 JSON whatever its strings hold") {
    Result r("req", kNow);
    r.fail(std::string("plugin said \xc3", 13));
    r.set("detail", std::string_view("\xff\xfe"));
    const std::string text = r.str();
    CHECK(is_valid_utf8(text));
    auto doc = parse(text);
    CHECK(std::string(doc["error"].GetString()) == "plugin said \xef\xbf\xbd");
    CHECK(std::string(doc["detail"].GetString()) == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("a client's value is quoted back up to 128 bytes, cut between characters") {
    CHECK(echoed_value("") == "");
    CHECK(echoed_value(std::string(128, 'a')) == std::string(128, 'a'));
    CHECK(echoed_value(std::string(1 << 20, 'a')) == std::string(128, 'a') + "...(1048576 bytes)");
    // 'a' then two-byte characters: byte 128 is inside the 64th, which is left out whole.
    std::string accents = "a";
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
    const std::string shown = echoed_value(accents);
    CHECK(shown == accents.substr(0, 127) + "...(201 bytes)");
    CHECK(is_valid_utf8(shown));
    // Four-byte characters, whatever the alignment.
    for (int lead = 0; lead < 4; ++lead) {
        std::string emoji(static_cast<std::size_t>(lead), 'x');
        for (int i = 0; i < 40; ++i) emoji += "\xf0\x9f\x98\x80";
        CAPTURE(lead);
        CHECK(is_valid_utf8(echoed_value(emoji)));
        CHECK(echoed_value(emoji).size() <= 128 + std::string("...(163 bytes)").size());
    }
}

TEST_CASE("component_id is read with one error per kind of mistake") {
    auto read = [](const std::string& json) {
        rapidjson::Document doc;
        doc.Parse(json.c_str(), json.size());
        REQUIRE_FALSE(doc.HasParseError());
        return read_component_id(doc);
    };
    const std::string allowed = "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";
    CHECK(read(R"({"component_id":"cpu-1_x"})").id == "cpu-1_x");
    CHECK(read(R"({"component_id":"cpu-1_x"})").ok());
    CHECK(read("{}").error == "validation_error: missing field 'component_id'");
    CHECK(read("[]").error == "validation_error: missing field 'component_id'");
    for (const char* wrong : {"7", "null", "[]", "{}", "true"}) {
        CHECK(read(std::string(R"({"component_id":)") + wrong + "}").error ==
              "validation_error: 'component_id' must be a string");
    }
    for (const char* bad : {"", "A", "../x", "a/b", "+", "#", "-x"}) {
        CAPTURE(bad);
        CHECK(read(std::string(R"({"component_id":")") + bad + "\"}").error ==
              "validation_error: component_id '" + std::string(bad) + allowed);
    }
    CHECK(read(R"({"component_id":"a\u0000b"})").error ==
          "validation_error: component_id '" + std::string("a\0b", 3) + allowed);
    CHECK(read(R"({"component_id":")" + std::string(1000, 'c') + "\"}").error ==
          "validation_error: component_id '" + std::string(128, 'c') + "...(1000 bytes)" + allowed);
}

TEST_CASE("a request_id that is not valid UTF-8 is refused and not echoed") {
    // RapidJSON decodes an escaped lone low surrogate into the bytes ED B0 80: not UTF-8, and
    // "\udc00" and "\udc01" would both be echoed as U+FFFD while dedup told them apart.
    for (const char* text : {R"({"request_id":"\udc00"})", R"({"request_id":"a\udc01b"})",
                             R"({"request_id":"\udfff"})"}) {
        CAPTURE(text);
        const auto r = parse_command(text);
        CHECK(r.error == "validation_error: request_id is not valid UTF-8");
        CHECK(r.request_id.empty());
    }
    CHECK(parse_command(R"({"request_id":"\ud83d\ude00"})").ok());  // a real pair: U+1F600
}

TEST_CASE("a key given twice anywhere in a command payload is refused") {
    struct Case {
        std::string payload;
        std::string error;
        std::string request_id;
    };
    const std::string huge(1000, 'k');
    const Case cases[] = {
        {R"({"request_id":"r","url":"a","url":"b"})", "validation_error: duplicate key 'url'", "r"},
        {R"({"request_id":"r","source":{"type":"url","url":"a","url":"b"}})",
         "validation_error: duplicate key 'url'", "r"},
        {R"({"request_id":"r","source":{"data_base64":"QQ==","data_base64":"Qg=="}})",
         "validation_error: duplicate key 'data_base64'", "r"},
        {R"({"request_id":"r","set":{"heartbeat_s":5,"heartbeat_s":60}})",
         "validation_error: duplicate key 'heartbeat_s'", "r"},
        {R"({"request_id":"r","list":[1,{"a":{"b":1,"b":2}}]})",
         "validation_error: duplicate key 'b'", "r"},
        // Two request_ids: neither is echoed.
        {R"({"request_id":"a","request_id":"b"})", "validation_error: duplicate key 'request_id'",
         ""},
        // A nested request_id twice is only a duplicate key.
        {R"({"request_id":"r","config":{"request_id":1,"request_id":2}})",
         "validation_error: duplicate key 'request_id'", "r"},
        {R"({"request_id":"r",")" + huge + R"(":1,")" + huge + R"(":2})",
         "validation_error: duplicate key '" + std::string(128, 'k') + "...(1000 bytes)'", "r"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.payload);
        const auto r = parse_command(c.payload);
        CHECK(r.error == c.error);
        CHECK(r.request_id == c.request_id);
    }
    // The same key in different objects is no duplicate.
    CHECK(
        parse_command(R"({"request_id":"r","a":{"x":1},"b":{"x":1},"x":[{"x":1},{"x":2}]})").ok());
}

TEST_CASE("the request_id of a result is read even when the plugin's data repeats a key") {
    CHECK(result_request_id(R"({"request_id":"r","ok":true,"data":{"a":1,"a":2}})") == "r");
    CHECK(result_request_id(R"({"ok":true})").empty());
    CHECK(result_request_id("not json").empty());
}
