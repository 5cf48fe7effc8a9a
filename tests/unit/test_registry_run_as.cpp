// run_as: the entry's field (older files have none), and LUCID_RUN_AS_ALLOWED, the local list
// that alone decides which users and groups a child may be given (run_as_allowed.hpp).
#include <doctest/doctest.h>

#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/run_as_allowed.hpp"

using namespace lucid::registry;

namespace {

RunAsAllowed parsed(const std::string& text) {
    RunAsAllowed allowed;
    const auto error = parse_run_as_allowed(text, allowed);
    INFO(text);
    REQUIRE_FALSE(error);
    return allowed;
}

std::string parse_error(const std::string& text) {
    RunAsAllowed allowed;
    allowed.users["kept"] = {};
    const auto error = parse_run_as_allowed(text, allowed);
    CHECK(allowed.users.count("kept") == 1);  // a malformed value leaves the output alone
    return error.value_or("");
}

RunAs read(const char* json, bool strict = true) {
    rapidjson::Document doc;
    doc.Parse(json);
    return read_run_as(doc, strict);
}

}  // namespace

TEST_CASE("LUCID_RUN_AS_ALLOWED lists users, each with the extra groups it may be given") {
    CHECK(parsed("").users.empty());
    CHECK(parsed("  ").users.empty());
    const auto allowed = parsed("nobody, lucid-cam:video:plugdev ,svc_1.x");
    CHECK(allowed.users.size() == 3);
    CHECK(allowed.users.at("nobody").empty());
    CHECK(allowed.users.at("lucid-cam") == std::vector<std::string>{"video", "plugdev"});
    CHECK(run_as_allowed_text(allowed) == "lucid-cam:video:plugdev,nobody,svc_1.x");
    CHECK(run_as_allowed_text(RunAsAllowed{}) == "(none)");
}

TEST_CASE("a malformed LUCID_RUN_AS_ALLOWED is an error naming the entry, never 'allow nothing'") {
    CHECK(parse_error("nobody::video") == "entry 1 'nobody::video': empty group name");
    CHECK(parse_error("nobody:") == "entry 1 'nobody:': empty group name");
    CHECK(parse_error(":video") == "entry 1 ':video': empty user name");
    CHECK(parse_error("nobody,,daemon") == "entry 2 '': empty user name");
    CHECK(parse_error("nobody,") == "entry 2 '': empty user name");
    CHECK(parse_error("nobody,nobody:video") == "entry 2 'nobody:video': nobody is listed twice");
    CHECK(parse_error("0") ==
          "entry 1 '0': 'user' '0' is not a user or group name ([A-Za-z0-9_][A-Za-z0-9_.-]{0,31}, "
          "not all digits)");
    CHECK(parse_error("no body").find("'user' 'no body' is not a user or group name") !=
          std::string::npos);
    CHECK(parse_error("nobody:vid/eo").find("'group' 'vid/eo' is not") != std::string::npos);
    CHECK(parse_error("-rf").find("'user' '-rf' is not") != std::string::npos);
    CHECK_FALSE(parse_error(std::string(33, 'a')).empty());
    CHECK(parsed(std::string(32, 'a')).users.size() == 1);
}

TEST_CASE("only listed users and, per user, listed groups are allowed; root is no exception") {
    const auto allowed = parsed("nobody:nogroup,cam:video:plugdev");
    CHECK_FALSE(run_as_refusal(allowed, RunAs{}));  // the agent's own user
    CHECK_FALSE(run_as_refusal(allowed, RunAs{"nobody", {}}));
    CHECK_FALSE(run_as_refusal(allowed, RunAs{"nobody", {"nogroup"}}));
    CHECK_FALSE(run_as_refusal(allowed, RunAs{"cam", {"plugdev"}}));
    CHECK_FALSE(run_as_refusal(allowed, RunAs{"cam", {"video", "plugdev"}}));
    CHECK(run_as_refusal(allowed, RunAs{"root", {}}) ==
          "run_as not allowed: root (not in LUCID_RUN_AS_ALLOWED)");
    CHECK(run_as_refusal(allowed, RunAs{"nobody", {"video"}}) ==
          "run_as not allowed: group video for nobody (not in LUCID_RUN_AS_ALLOWED)");
    CHECK(run_as_refusal(allowed, RunAs{"cam", {"video", "root"}}) ==
          "run_as not allowed: group root for cam (not in LUCID_RUN_AS_ALLOWED)");
    CHECK(run_as_refusal(RunAsAllowed{}, RunAs{"nobody", {}}) ==
          "run_as not allowed: nobody (not in LUCID_RUN_AS_ALLOWED)");
    CHECK_FALSE(run_as_refusal(parsed("root"), RunAs{"root", {}}));
}

TEST_CASE("run_as is read strictly from commands and leniently from the registry file") {
    CHECK(read(R"({"user":"nobody","groups":["nogroup"]})") == RunAs{"nobody", {"nogroup"}});
    CHECK(read(R"({"user":"nobody"})") == RunAs{"nobody", {}});
    CHECK(read("{}").empty());
    CHECK_THROWS_WITH(read(R"({"user":"nobody","group":["x"]})"),
                      "'run_as.group' is not a run_as field (user, groups)");
    CHECK(read(R"({"user":"nobody","later":1})", false) == RunAs{"nobody", {}});
    CHECK_THROWS_WITH(read(R"({"groups":["video"]})"), "'run_as.groups' needs 'run_as.user'");
    CHECK_THROWS_WITH(read(R"({"user":7})"), "'run_as.user' must be a string");
    CHECK_THROWS_WITH(read(R"({"user":"nobody","groups":"video"})"),
                      "'run_as.groups' must be an array");
    CHECK_THROWS_WITH(read(R"({"user":"../x"})"),
                      "'run_as.user' '../x' is not a user or group name "
                      "([A-Za-z0-9_][A-Za-z0-9_.-]{0,31}, not all digits)");
    CHECK_THROWS_WITH(read(R"("nobody")"), "'run_as' must be an object");
}

TEST_CASE("an entry keeps its run_as; one of an older file without it runs as the agent's user") {
    Registry registry;
    Entry entry;
    entry.component_id = "cam";
    entry.version = "1.0.0";
    entry.isolation = "process";
    entry.run_as = {"cam", {"video"}};
    registry.put(entry);
    const std::string text = serialize_registry(registry);
    CHECK(text.find(R"("run_as": {)") != std::string::npos);
    auto doc = parse_json_object(text, "registry");
    const auto again = parse_registry(doc);
    REQUIRE(again.problems.empty());
    CHECK(*again.registry.find("cam") == entry);

    auto older = parse_json_object(
        R"({"format":1,"components":{"cam":{"version":"1.0.0","isolation":"process"}}})",
        "registry");
    const auto read_older = parse_registry(older);
    REQUIRE(read_older.problems.empty());
    CHECK(read_older.registry.find("cam")->run_as.empty());
    // Nothing written for the agent's user: files stay as older agents wrote them.
    entry.run_as = {};
    Registry plain;
    plain.put(entry);
    CHECK(serialize_registry(plain).find("run_as") == std::string::npos);
}
