// Bad input on every command topic of a running agent (contract §2, §3, §4): invalid JSON,
// non-objects, missing or mistyped request_id and fields, huge values, deep nesting, NUL bytes,
// non-UTF-8 bytes, an oversized payload, and path or topic injection in every identifier. Each
// message gets its exact error on the matching result topic; every result is valid UTF-8 JSON;
// the agent answers a ping after every batch and, at the end, is still running and stops
// cleanly without a sanitizer report.
//
// Decisions recorded in contract §2.4, §3.5 (host/contract/: command_request, component_id_field,
// echoed_value, utf8; used by install_request and the component commands):
// - A command payload is UTF-8 JSON text without raw NUL bytes; anything else is
//   `invalid JSON: ...` (RapidJSON's message and offset, or `NUL byte at offset <n>`).
// - `request_id` is at most 256 characters and has no control characters (it is logged, stored
//   in the de-duplication record and handed to plugins as a C string); otherwise the result
//   says `validation_error: ...` with `request_id:""`.
// - `component_id`: absent → `missing field 'component_id'`; not a string → `'component_id'
//   must be a string`; any other string not matching §2, the empty one included → the §2 error.
// - A value a client sent is quoted back in an error up to 128 bytes, then `...(<n> bytes)`:
//   a 1 MiB component_id does not make a 1 MiB error. Control characters stay as they are
//   (JSON escapes them), so the result is still one valid JSON text.
// - A command topic naming an invalid component id (`components/A/cfg/set`) is not one of the
//   agent's topics: it is not answered. A command to a component that is not installed is
//   answered `component not found: <cid>` (contract §3.8).
#include <doctest/doctest.h>

#include <signal.h>

#include <functional>
#include <string>
#include <vector>

#include "component_rig.hpp"

using namespace lucid::itest;
using namespace std::string_literals;

namespace {

constexpr std::size_t kMiB = 1u << 20;
const std::string kSchema = "lucid.core.v1.0.0";
const std::string kAllowed = "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";

// One bad message and the exact result it must get.
struct Case {
    Case(std::string payload_, std::string error_, std::string request_id_ = "")
        : payload(std::move(payload_)),
          error(std::move(error_)),
          request_id(std::move(request_id_)) {}

    std::string payload;
    std::string error;       // exact, parser messages and offsets included
    std::string request_id;  // "" when none can be read
};

// How a client's value is quoted back in an error (see the header comment).
std::string quoted(const std::string& value) {
    if (value.size() <= 128) return value;
    return value.substr(0, 128) + "...(" + std::to_string(value.size()) + " bytes)";
}

std::string component_id_error(const std::string& value) {
    return "validation_error: component_id '" + quoted(value) + kAllowed;
}

// Short enough to print in a failure message.
std::string abbreviated(const std::string& s) {
    return s.size() <= 200 ? s : s.substr(0, 200) + "...(" + std::to_string(s.size()) + " bytes)";
}

// Strict: UTF-8 validated. Every result the agent publishes must pass.
rapidjson::Document strict_json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    return doc;
}

std::string string_member(const rapidjson::Value& doc, const char* key) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return "<not a string>";
    return {it->value.GetString(), it->value.GetStringLength()};
}

void check_result(const Message& m, const Case& c) {
    CAPTURE(abbreviated(c.payload));
    const auto doc = strict_json(m.payload);
    REQUIRE_MESSAGE((!doc.HasParseError() && doc.IsObject()),
                    "not valid JSON: " << abbreviated(m.payload));
    CHECK_FALSE(m.retain);
    CHECK(string_member(doc, "schema") == kSchema);
    CHECK(doc.HasMember("ts"));
    CHECK((doc.HasMember("ok") && doc["ok"].IsBool() && !doc["ok"].GetBool()));
    CHECK(string_member(doc, "request_id") == c.request_id);
    const std::string error = string_member(doc, "error");
    CHECK_MESSAGE(error == c.error,
                  "got:  " << abbreviated(error) << "\nwant: " << abbreviated(c.error));
}

// A payload `{"request_id":<id>,<members>}`.
std::string with_id(const std::string& id, const std::string& members) {
    return R"({"request_id":)" + json_string(id) + (members.empty() ? "" : "," + members) + "}";
}

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

// What every command topic answers the same way: the payload is not a usable command.
std::vector<Case> envelope_cases() {
    const std::string deep = "invalid JSON: nested deeper than 64 levels";
    const std::string not_object = "validation_error: payload must be a JSON object";
    const std::string no_id = "validation_error: missing 'request_id'";
    const std::string bad_id = "validation_error: 'request_id' must be a non-empty string";
    const std::string control =
        "validation_error: 'request_id' must not contain control characters";
    const std::string big(3 * kMiB, 'x');
    return {
        {"{oops", "invalid JSON: Missing a name for object member. at offset 1"},
        {"", "invalid JSON: The document is empty. at offset 0"},
        {"   ", "invalid JSON: The document is empty. at offset 3"},
        {R"({"request_id":"t-1"} {})",
         "invalid JSON: The document root must not be followed by other values. at offset 21"},
        {R"({"request_id":"t-2")",
         "invalid JSON: Missing a comma or '}' after an object member. "
         "at offset 19"},
        {R"({"request_id":"t-3\q"})",
         "invalid JSON: Invalid escape character in string. at offset 18"},
        {"[1,2,3]", not_object},
        {"42", not_object},
        {R"("a string")", not_object},
        {"null", not_object},
        {"true", not_object},
        {"{}", no_id},
        {R"({"requestid":"x","component_id":"echo"})", no_id},
        {R"({"request_id":7})", bad_id},
        {R"({"request_id":null})", bad_id},
        {R"({"request_id":["x"]})", bad_id},
        {R"({"request_id":{"id":"x"}})", bad_id},
        {R"({"request_id":true})", bad_id},
        {R"({"request_id":1.5})", bad_id},
        {R"({"request_id":""})", bad_id},
        {with_id(std::string(kMiB, 'r'), ""),
         "validation_error: 'request_id' must be at most 256 characters"},
        {with_id(std::string(257, 'r'), ""),
         "validation_error: 'request_id' must be at most 256 characters"},
        // Deep nesting, bare and inside a command that is otherwise fine.
        {nested_arrays(10000), deep},
        {with_id("t-4", R"("x":)" + nested_arrays(10000)), deep},
        {std::string(10000, '['), deep},
        // NUL: escaped inside the id, raw inside a string, raw after a complete object.
        {R"({"request_id":"a\u0000b"})", control},
        {R"({"request_id":"line\nbreak"})", control},
        {"{\"request_id\":\"a\0b\"}"s, "invalid JSON: NUL byte at offset 16"},
        {"{\"request_id\":\"t-5\"}\0trailing"s, "invalid JSON: NUL byte at offset 20"},
        // Not UTF-8: a stray byte, an overlong '/', a lone surrogate escape.
        {"{\"request_id\":\"\xff\"}", "invalid JSON: Invalid encoding in string. at offset 15"},
        {"{\"request_id\":\"t-6\",\"x\":\"\xc0\xaf\"}",
         "invalid JSON: Invalid encoding in string. at offset 25"},
        {R"({"request_id":"\ud800"})",
         "invalid JSON: The surrogate pair in string is invalid. at offset 15"},
        // Oversized: several MiB that do not end as a JSON text.
        {R"({"request_id":"t-7","pad":")" + big + "\"",
         "invalid JSON: Missing a comma or '}' after an object member. at offset " +
             std::to_string(27 + big.size() + 1)},
    };
}

// Identifiers that must never reach a topic or a path.
std::vector<std::string> bad_component_ids() {
    return {"../x",
            "a/b",
            "+",
            "#",
            "A",
            "",
            std::string(65, 'a'),
            "-lead",
            "_lead",
            "echo ",
            "echo\n",
            "a\0b"s,
            "caf\xc3\xa9",
            "echo/../../etc",
            "lucid/agents/other/core/cmd/restart",
            std::string(kMiB, 'c')};
}

// One broker, one agent (with the echo plugin installed when asked) and a subscribed client.
struct BadInput {
    ComponentRig rig;
    int counter = 0;

    // `before_start` prepares the data dir (e.g. a legacy registry) before the agent runs.
    explicit BadInput(const std::string& agent_id,
                      const std::function<void(ComponentRig&)>& before_start = {})
        : rig(agent_id) {
        // Everything the agent publishes, but not the commands: megabytes of bad input need not
        // come back to the test.
        rig.client = std::make_unique<MqttClient>(rig.broker.port());
        for (const char* filter : {"status", "core/evt/#", "core/components", "core/cfg/state",
                                   "components/+/status", "components/+/evt/#"}) {
            rig.client->subscribe(rig.agent.topic(filter));
        }
        if (before_start) before_start(rig);
        rig.start_agent();
    }

    std::string next_id() { return "bad-" + std::to_string(++counter); }

    void install_echo() {
        const auto echo = artifact(LUCID_ITEST_ECHO_1_0);
        auto m = rig.install(next_id(), "echo", inline_source(echo));
        REQUIRE_MESSAGE(ok_of(m), m.payload);
        REQUIRE(rig.wait_status("echo", "running"));
    }

    // Sends every case on `command`, then checks the answers on `result` in order: one client's
    // messages reach the agent in order, and one lane (or one plugin worker) runs a topic's
    // commands in arrival order. Then the agent must still answer a ping, and each case must
    // have had exactly one answer.
    void expect(const std::string& command, const std::string& result,
                const std::vector<Case>& cases) {
        CAPTURE(command);
        const std::string result_topic = rig.agent.topic(result);
        rig.client->clear();
        for (const auto& c : cases) rig.client->publish(rig.agent.topic(command), c.payload);
        const auto answers = rig.client->wait_for_count(result_topic, cases.size(), any_message(),
                                                        std::chrono::seconds(30));
        REQUIRE_MESSAGE(answers.size() == cases.size(), answers.size()
                                                            << " answers on " << result << "\n"
                                                            << rig.agent.log());
        for (std::size_t i = 0; i < cases.size(); ++i) check_result(answers[i], cases[i]);

        const std::string ping_id = next_id();
        REQUIRE_MESSAGE(ok_of(rig.ping(ping_id)), rig.agent.log());
        std::size_t total = 0;
        for (const auto& m : rig.client->messages(result_topic)) {
            total += m.str("request_id") != ping_id;
        }
        CHECK(total == cases.size());
    }

    // A message the agent must not answer: nothing on `result` by the time a later ping is
    // answered (the broker delivers one client's messages in order, and the agent routes them
    // in order before any lane runs).
    void expect_no_answer(const std::string& command, const std::string& result,
                          const std::string& payload) {
        CAPTURE(command);
        rig.client->clear();
        rig.client->publish(rig.agent.topic(command), payload);
        REQUIRE_MESSAGE(ok_of(rig.ping(next_id())), rig.agent.log());
        CHECK(rig.client->messages(rig.agent.topic(result)).empty());
    }

    // Still running, then a clean stop, and no sanitizer ever reported anything.
    void check_survived() {
        CHECK(ok_of(rig.ping(next_id())));
        CHECK_FALSE(rig.agent.process().wait_exit(std::chrono::milliseconds(0)));
        CHECK(rig.agent.stop(SIGTERM) == 0);
        const std::string log = rig.agent.log();
        for (const char* report : {"AddressSanitizer", "LeakSanitizer",
                                   "UndefinedBehaviorSanitizer", "runtime error:"}) {
            CHECK_MESSAGE(log.find(report) == std::string::npos, report << "\n" << log);
        }
    }
};

struct Topic {
    std::string command;
    std::string result;
};

std::vector<Topic> core_component_topics() {
    std::vector<Topic> out{
        {"core/cmd/components/install", "core/evt/components/install_result"},
        {"core/cmd/components/uninstall", "core/evt/components/uninstall_result"}};
    for (const char* action : {"start", "stop", "restart", "enable", "disable"}) {
        out.push_back({std::string("core/cmd/components/") + action,
                       std::string("core/evt/components/") + action + "_result"});
    }
    return out;
}

// The component_id errors every core component command shares. `members` completes the
// payload so that only component_id is wrong.
std::vector<Case> component_id_cases(BadInput& b, const std::string& members) {
    std::vector<Case> cases;
    // `{"request_id":…, <cid_member>, <members>}`, leaving out what is empty.
    auto payload = [&](const std::string& id, const std::string& cid_member) {
        std::string body = cid_member;
        if (!body.empty() && !members.empty()) body += ",";
        return with_id(id, body + members);
    };
    auto add = [&](const std::string& cid_member, const std::string& error) {
        const std::string id = b.next_id();
        cases.push_back({payload(id, cid_member), error, id});
    };
    add("", "validation_error: missing field 'component_id'");
    for (const char* wrong : {"7", "null", "[\"echo\"]", "{\"id\":\"echo\"}", "true", "1.5"}) {
        add(std::string(R"("component_id":)") + wrong,
            "validation_error: 'component_id' must be a string");
    }
    for (const auto& cid : bad_component_ids()) {
        add(R"("component_id":)" + json_string(cid), component_id_error(cid));
    }
    // Quoting stops on a character boundary: the result stays valid UTF-8.
    std::string accents = "a";
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
    const std::string id = b.next_id();
    std::string shortened = "a";
    for (int i = 0; i < 63; ++i) shortened += "\xc3\xa9";  // 127 bytes: the next é would end at 129
    cases.push_back({payload(id, R"("component_id":)" + json_string(accents)),
                     "validation_error: component_id '" + shortened + "...(201 bytes)" + kAllowed,
                     id});
    return cases;
}

}  // namespace

TEST_CASE("every command topic answers a malformed payload with its exact error") {
    BadInput b("bad-envelope");
    b.install_echo();
    std::vector<Topic> topics = core_component_topics();
    topics.push_back({"core/cmd/refresh", "core/evt/refresh_result"});
    topics.push_back({"core/cmd/ping", "core/evt/ping_result"});
    topics.push_back({"core/cmd/restart", "core/evt/restart_result"});
    topics.push_back({"core/cfg/set", "core/evt/cfg_set_result"});
    topics.push_back({"components/echo/cfg/set", "components/echo/evt/cfg_set_result"});
    topics.push_back({"components/echo/cmd/echo", "components/echo/evt/echo_result"});
    const auto cases = envelope_cases();
    for (const auto& topic : topics) b.expect(topic.command, topic.result, cases);
    b.check_survived();
}

TEST_CASE("component commands refuse bad component ids and fields with the contract errors") {
    BadInput b("bad-fields");
    // Never looked at: component_id is checked first.
    const std::string source = R"({"type":"inline","filename":"echo-1.0.0.so","data_base64":)"
                               R"("AAAA","sha256":")" +
                               std::string(64, '0') + "\"}";

    // component_id on every core component command.
    for (const auto& topic : core_component_topics()) {
        const bool install = topic.command == "core/cmd/components/install";
        b.expect(topic.command, topic.result,
                 component_id_cases(b, install ? R"("source":)" + source : ""));
    }
    // A well-formed id that names no component (uninstalling one is a noop, not an error).
    for (const auto& topic : core_component_topics()) {
        if (topic.command.find("install") != std::string::npos) continue;  // and uninstall
        const std::string id = b.next_id();
        b.expect(topic.command, topic.result,
                 {{with_id(id, R"("component_id":"nope")"), "component not found: nope", id}});
    }
    b.check_survived();
}

TEST_CASE("install refuses every malformed field and every path in a name") {
    BadInput b("bad-install");
    const auto echo = artifact(LUCID_ITEST_ECHO_1_0);
    const std::string sha = echo.sha256;
    std::vector<Case> cases;
    auto add = [&](const std::string& members, const std::string& error) {
        const std::string id = b.next_id();
        cases.push_back({with_id(id, members), "validation_error: " + error, id});
    };
    auto with_source = [](const std::string& source) {
        return R"("component_id":"echo","source":)" + source;
    };
    auto inline_named = [&](const std::string& filename) {
        return with_source(R"({"type":"inline","filename":)" + json_string(filename) +
                           R"(,"data_base64":"AAAA","sha256":")" + sha + "\"}");
    };
    auto release = [&](const std::string& owner, const std::string& tag, const std::string& asset) {
        return with_source(R"({"type":"github_release","owner":)" + json_string(owner) +
                           R"(,"repo":"r","tag":)" + json_string(tag) + R"(,"asset":)" +
                           json_string(asset) + R"(,"sha256":")" + sha + "\"}");
    };
    const std::string huge(kMiB, 'n');

    add(R"("component_id":"echo")", "missing field 'source'");
    for (const char* wrong : {"\"inline\"", "7", "[]", "null", "true"}) {
        add(with_source(wrong), "'source' must be an object");
    }
    add(with_source("{}"), "missing field 'source.type'");
    add(with_source(R"({"type":7,"sha256":")" + sha + "\"}"),
        "'source.type' must be a non-empty string");
    add(with_source(R"({"type":"ftp","sha256":")" + sha + "\"}"),
        "'source.type' must be one of url, github_release, inline, broker");
    add(with_source(R"({"type":"url","url":"https://h/echo-1.0.0.so"})"),
        "missing field 'source.sha256'");
    for (const char* wrong : {"7", "null", "\"\"", "[]"}) {
        add(with_source(R"({"type":"url","url":"https://h/echo-1.0.0.so","sha256":)" +
                        std::string(wrong) + "}"),
            "'source.sha256' must be a non-empty string");
    }
    for (const std::string& wrong : {std::string("xyz"), std::string(64, 'g'), sha + "0"}) {
        add(with_source(R"({"type":"url","url":"https://h/echo-1.0.0.so","sha256":")" + wrong +
                        "\"}"),
            "'source.sha256' must be 64 hex digits");
    }
    add(with_source(R"({"type":"url","url":"https://h/e-1.0.0.so","sha256":"a\u0000b"})"),
        "'source.sha256' contains a NUL byte");

    // url sources.
    add(with_source(R"({"type":"url","url":7,"sha256":")" + sha + "\"}"),
        "'source.url' must be a non-empty string");
    for (const char* url : {"ftp://h/echo-1.0.0.so", "file://relative/echo-1.0.0.so", "/etc/passwd",
                            "javascript:alert(1)"}) {
        add(with_source(R"({"type":"url","url":")" + std::string(url) + R"(","sha256":")" + sha +
                        "\"}"),
            "'source.url' must start with https://, http:// or file:///");
    }
    // `..` is resolved (the URL is normalised): what is left names no file.
    add(with_source(R"({"type":"url","url":"https://h/files/..","sha256":")" + sha + "\"}"),
        "'artifact file name' must be a plain file name, got ''");
    add(with_source(R"({"type":"url","url":"https://h/files/","sha256":")" + sha + "\"}"),
        "'artifact file name' must be a plain file name, got ''");

    // github_release: every field stays inside its URL segment.
    for (const std::string& bad : {std::string("../../etc"), std::string("a/b"), std::string("a?b"),
                                   std::string(".."), huge + "/"}) {
        add(release(bad, "v1", echo.name),
            "'source.owner' contains characters not allowed in a "
            "release path: '" +
                quoted(bad) + "'");
        add(release("o", bad, echo.name),
            "'source.tag' contains characters not allowed in a "
            "release path: '" +
                quoted(bad) + "'");
        add(release("o", "v1", bad),
            "'source.asset' contains characters not allowed in a "
            "release path: '" +
                quoted(bad) + "'");
    }

    // inline filenames: a plain name or nothing.
    for (const std::string& bad :
         {std::string("../../etc"), "sub/" + echo.name, "/tmp/" + echo.name, std::string(".."),
          std::string("a\\b-1.0.0.so"), huge + "/x-1.0.0.so"}) {
        add(inline_named(bad),
            "'source.filename' must be a plain file name, got '" + quoted(bad) + "'");
    }
    add(with_source(R"({"type":"inline","filename":"x\u0000/y-1.0.0.so","data_base64":"AAAA",)"
                    R"("sha256":")" +
                    sha + "\"}"),
        "'source.filename' contains a NUL byte");
    add(with_source(R"({"type":"inline","filename":")" + echo.name +
                    R"(","data_base64":"!!!!","sha256":")" + sha + "\"}"),
        "'source.data_base64' is not valid base64");
    add(with_source(R"({"type":"inline","filename":")" + echo.name +
                    R"(","data_base64":7,"sha256":")" + sha + "\"}"),
        "'source.data_base64' must be a non-empty string");

    // version and config, after a source that is fine.
    const std::string good = with_source(inline_source(echo));
    add(good + R"(,"version":7)", "'version' must be a string");
    add(good + R"(,"version":"2.0.0")", "'version' 2.0.0 does not match the artifact's 1.0.0");
    add(good + R"(,"version":)" + json_string(huge),
        "'version' " + quoted(huge) + " does not match the artifact's 1.0.0");
    add(good + R"(,"config":[])", "'config' must be an object");
    add(good + R"(,"config":"x")", "'config' must be an object");

    b.expect("core/cmd/components/install", "core/evt/components/install_result", cases);
    // Nothing was placed anywhere.
    std::error_code ec;
    CHECK((!std::filesystem::exists(b.rig.data() / "components", ec) ||
           std::filesystem::is_empty(b.rig.data() / "components", ec)));
    CHECK_FALSE(std::filesystem::exists(b.rig.data().parent_path() / "etc", ec));
    b.check_survived();
}

TEST_CASE("uninstall of a legacy entry refuses a dist_name that is not a name") {
    BadInput b("bad-uninstall", [](ComponentRig& rig) {
        std::filesystem::create_directories(rig.data());
        std::filesystem::copy_file(
            std::filesystem::path(LUCID_FIXTURES) / "legacy-registry" / "v0.9-dist-name.json",
            rig.data() / "registry.json");
    });
    const std::string missing =
        "registry missing dist_name for component; provide dist_name in uninstall payload for "
        "migration";
    std::vector<Case> cases;
    auto add = [&](const std::string& dist_member, const std::string& error) {
        const std::string id = b.next_id();
        cases.push_back({with_id(id, R"("component_id":"mystery")" + dist_member), error, id});
    };
    add("", missing);
    add(R"(,"dist_name":7)", missing);
    add(R"(,"dist_name":"")", missing);
    add(R"(,"dist_name":"../../etc")", "validation_error: dist_name '-/-/etc' is invalid");
    add(R"(,"dist_name":"a/b")", "validation_error: dist_name 'a/b' is invalid");
    add(R"(,"dist_name":"+")", "validation_error: dist_name '+' is invalid");
    add(R"(,"dist_name":"x\u0000y")", "validation_error: dist_name 'x\0y' is invalid"s);
    add(R"(,"dist_name":)" + json_string("/" + std::string(kMiB, 'd')),
        "validation_error: dist_name '" + quoted("/" + std::string(kMiB, 'd')) + "' is invalid");
    b.expect("core/cmd/components/uninstall", "core/evt/components/uninstall_result", cases);
    // Still registered: nothing was removed on a refusal.
    CHECK(b.rig.registry()["components"].HasMember("mystery"));
    b.check_survived();
}

TEST_CASE("cfg/set refuses bad shapes, types, keys and values with the contract errors") {
    BadInput b("bad-cfg");
    b.install_echo();
    std::vector<Case> core;
    std::vector<Case> component;
    auto add = [&](std::vector<Case>& to, const std::string& members, const std::string& error) {
        const std::string id = b.next_id();
        to.push_back({with_id(id, members), error, id});
    };
    for (auto* to : {&core, &component}) {
        add(*to, "", "missing 'set' field in payload");
        add(*to, R"("Set":{})", "missing 'set' field in payload");
        for (const char* wrong : {"7", "\"heartbeat_s=10\"", "[]", "null", "true"}) {
            add(*to, std::string(R"("set":)") + wrong, "'set' must be an object");
        }
    }
    const std::string huge(kMiB, 'k');
    add(core, R"("set":{"colour":"red"})", "unknown config key: colour");
    add(core, R"("set":{)" + json_string(huge) + ":1}", "unknown config key: " + quoted(huge));
    add(core, R"("set":{"heartbeat_s\u0000":10})", "unknown config key: heartbeat_s\0"s);
    add(core, R"("set":{"../../etc/passwd":1})", "unknown config key: ../../etc/passwd");
    for (const char* wrong : {"\"10\"", "5.5", "1e300", "null", "18446744073709551615", "[10]"}) {
        add(core, std::string(R"("set":{"heartbeat_s":)") + wrong + "}", "heartbeat_s must be int");
    }
    for (const char* range : {"-1", "0", "4", "3601", "9223372036854775807"}) {
        add(core, std::string(R"("set":{"heartbeat_s":)") + range + "}",
            "heartbeat_s must be between 5 and 3600");
    }
    add(core, R"("set":{"log_level":7})", "log_level must be str");
    // Any case, warning and err are level names too (contract §4.10): "info" is not refused.
    for (const char* level : {"inf", "DEBUG\\u0000", "VERBOSE", ""}) {
        add(core, std::string(R"("set":{"log_level":")") + level + "\"}",
            "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
            "too)");
    }
    add(core, R"("set":{"telemetry_enabled":"true"})", "telemetry_enabled must be bool");
    add(core, R"("set":{"telemetry_enabled":1})", "telemetry_enabled must be bool");
    // The first error wins and nothing is applied.
    add(core, R"("set":{"heartbeat_s":10,"log_level":"NOPE"})",
        "log_level must be one of trace, debug, info, warn, error (any case; warning and err too)");

    b.expect("core/cfg/set", "core/evt/cfg_set_result", core);
    b.expect("components/echo/cfg/set", "components/echo/evt/cfg_set_result", component);

    // Nothing changed.
    b.rig.client->clear();
    const std::string id = b.next_id();
    b.rig.command("core/cmd/refresh", "core/evt/refresh_result", with_id(id, ""), id);
    auto cfg = b.rig.client->wait_for(b.rig.agent.topic("core/cfg/state"), any_message());
    REQUIRE(cfg);
    CHECK(cfg->json()["cfg"]["heartbeat_s"].GetInt() == 30);
    CHECK(std::string(cfg->json()["cfg"]["log_level"].GetString()) == "INFO");
    b.check_survived();
}

TEST_CASE("identifiers in command topics cannot reach another component or topic") {
    BadInput b("bad-topics");
    b.install_echo();
    const std::string id = b.next_id();
    const std::string request = with_id(id, R"("set":{})");

    // A well-formed component id that is not installed: the contract error.
    b.expect("components/nope/cfg/set", "components/nope/evt/cfg_set_result",
             {{request, "component not found: nope", id}});
    // Not a component id at all: not one of the agent's topics, no answer anywhere.
    for (const std::string& cid :
         {std::string("A"), std::string(".."), std::string("-x"), std::string(65, 'a'),
          std::string("echo.x"), std::string("caf\xc3\xa9")}) {
        b.expect_no_answer("components/" + cid + "/cfg/set",
                           "components/" + cid + "/evt/cfg_set_result", request);
    }
    // A plugin command nobody registered is answered by the agent with `unknown command`.
    for (const std::string& action :
         {std::string("nope"), std::string("ECHO"), std::string(".."), std::string("echo_result"),
          std::string("caf\xc3\xa9"), std::string(1000, 'a')}) {
        const std::string cmd_id = b.next_id();
        b.expect("components/echo/cmd/" + action, "components/echo/evt/" + action + "_result",
                 {{with_id(cmd_id, ""), "unknown command: " + action, cmd_id}});
    }
    // Deeper paths under cmd/: no answer. A component that is not installed says so.
    b.expect_no_answer("components/echo/cmd/echo/x", "components/echo/evt/echo_result",
                       with_id(b.next_id(), ""));
    const std::string nope_id = b.next_id();
    b.expect("components/nope/cmd/echo", "components/nope/evt/echo_result",
             {{with_id(nope_id, ""), "component not found: nope", nope_id}});
    // And the plugin still works.
    const std::string echo_id = b.next_id();
    auto echoed =
        b.rig.plugin_command("echo", "echo", with_id(echo_id, R"("message":"hi")"), echo_id);
    REQUIRE(echoed);
    CHECK(ok_of(*echoed));
    b.check_survived();
}
