// contract §4 cfg/set validation and the core_config.json store.
#include <doctest/doctest.h>

#include "agent/core_config.hpp"
#include "common/atomic_file.hpp"
#include "temp_dir.hpp"

using namespace lucid::host::agent;
using lucid::host::write_file_atomically;

namespace {

CfgSetResult apply(const char* json, const CoreConfig& current = {}) {
    rapidjson::Document doc;
    doc.Parse(json);
    REQUIRE_FALSE(doc.HasParseError());
    return apply_cfg_set(current, doc);
}

}  // namespace

TEST_CASE("applies every known key") {
    const auto result = apply(
        R"({"request_id":"r","set":{"heartbeat_s":60,"log_level":"DEBUG","telemetry_enabled":false}})");
    REQUIRE(result.config.has_value());
    CHECK(result.config->heartbeat_s == 60);
    CHECK(result.config->log_level == "DEBUG");
    CHECK_FALSE(result.config->telemetry_enabled);
}

TEST_CASE("log_level and logs_level take the same names in any case, stored canonical") {
    const auto result = apply(R"({"set":{"log_level":"warn","logs_level":"WARNING"}})");
    REQUIRE(result.config.has_value());
    CHECK(result.config->log_level == "WARNING");  // the earlier agent's word
    CHECK(result.config->logs_level == "warn");
    const auto more = apply(R"({"set":{"log_level":"Err","logs_level":"TRACE"}})");
    REQUIRE(more.config.has_value());
    CHECK(more.config->log_level == "ERROR");
    CHECK(more.config->logs_level == "trace");
}

TEST_CASE("merges a partial set into the current config") {
    CoreConfig current;
    current.log_level = "ERROR";
    const auto result = apply(R"({"set":{"heartbeat_s":5}})", current);
    CHECK(result.config->heartbeat_s == 5);
    CHECK(result.config->log_level == "ERROR");
}

TEST_CASE("answers each invalid cfg/set with its exact error") {
    struct Case {
        const char* payload;
        const char* error;
    };
    const Case cases[] = {
        {R"({"request_id":"r"})", "missing 'set' field in payload"},
        {R"({"set":[1]})", "'set' must be an object"},
        {R"({"set":"x"})", "'set' must be an object"},
        {R"({"set":{"colour":"blue"}})", "unknown config key: colour"},
        {R"({"set":{"heartbeat_s":"30"}})", "heartbeat_s must be int"},
        {R"({"set":{"heartbeat_s":30.5}})", "heartbeat_s must be int"},
        {R"({"set":{"heartbeat_s":true}})", "heartbeat_s must be int"},
        {R"({"set":{"log_level":3}})", "log_level must be str"},
        {R"({"set":{"telemetry_enabled":"yes"}})", "telemetry_enabled must be bool"},
        {R"({"set":{"heartbeat_s":4}})", "heartbeat_s must be between 5 and 3600"},
        {R"({"set":{"heartbeat_s":3601}})", "heartbeat_s must be between 5 and 3600"},
        {R"({"set":{"heartbeat_s":-99999999999}})", "heartbeat_s must be between 5 and 3600"},
        {R"({"set":{"log_level":"verbose"}})",
         "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
        {R"({"set":{"log_level":"CRITICAL"}})",
         "log_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
        {R"({"set":{"logs_enabled":"true"}})", "logs_enabled must be bool"},
        {R"({"set":{"logs_level":2}})", "logs_level must be str"},
        {R"({"set":{"logs_level":"INFO!"}})",
         "logs_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
        {R"({"set":{"logs_level":"warnings"}})",
         "logs_level must be one of trace, debug, info, warn, error (any case; warning and err "
         "too)"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.payload);
        const auto result = apply(c.payload);
        CHECK_FALSE(result.config.has_value());
        CHECK(result.error == c.error);
    }
}

TEST_CASE("logs_enabled and logs_level: off at info by default, set, stored and shown") {
    const CoreConfig defaults;
    CHECK_FALSE(defaults.logs_enabled);
    CHECK(defaults.logs_level == "info");
    const auto result = apply(R"({"set":{"logs_enabled":true,"logs_level":"debug"}})");
    REQUIRE(result.config.has_value());
    CHECK(result.config->logs_enabled);
    CHECK(result.config->logs_level == "debug");
    rapidjson::Document out;
    write_core_config(*result.config, out, out.GetAllocator());
    CHECK(out["logs_enabled"].GetBool());
    CHECK(std::string(out["logs_level"].GetString()) == "debug");
}

TEST_CASE("the first error wins and nothing of a failed set is applied") {
    const auto result = apply(R"({"set":{"heartbeat_s":10,"nope":1,"log_level":"bad"}})");
    CHECK(result.error == "unknown config key: nope");
    CHECK_FALSE(result.config.has_value());
}

TEST_CASE("the store returns defaults when there is no file, and round-trips a config") {
    lucid::test::TempDir dir;
    CoreConfigStore store(dir.path());
    CHECK(store.load() == CoreConfig{});
    CoreConfig config;
    config.heartbeat_s = 120;
    config.log_level = "WARNING";
    config.telemetry_enabled = false;
    store.save(config);
    CHECK(store.load() == config);
}

TEST_CASE("a corrupt or invalid config file is moved aside and reported") {
    for (const char* content : {"{\"heartbeat_s\": 3", "{\"heartbeat_s\": 1}", "[]"}) {
        CAPTURE(content);
        lucid::test::TempDir dir;
        write_file_atomically(dir / "core_config.json", content);
        std::string problem;
        CHECK(CoreConfigStore(dir.path()).load(&problem) == CoreConfig{});
        CHECK(problem.find("moved aside") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(dir / "core_config.json"));
    }
}

TEST_CASE("a huge unknown key is not echoed back whole") {
    const std::string key(1000000, 'k');
    rapidjson::Document doc;
    doc.SetObject();
    rapidjson::Value set(rapidjson::kObjectType);
    set.AddMember(rapidjson::Value(key, doc.GetAllocator()), rapidjson::Value(1),
                  doc.GetAllocator());
    doc.AddMember("set", set, doc.GetAllocator());
    const auto result = apply_cfg_set(CoreConfig{}, doc);
    CHECK(result.error.size() < 300);
    CHECK(result.error.find("unknown config key: kkk") == 0);
    CHECK(result.error.find("1000000 bytes") != std::string::npos);
}
