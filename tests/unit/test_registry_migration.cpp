// Migration of the earlier Python agent's registries: each step on the fixture of its era.
#include <doctest/doctest.h>

#include "common/atomic_file.hpp"
#include "lucid/registry/legacy_migration.hpp"
#include "lucid/registry/registry_json.hpp"

using namespace lucid::registry;
using lucid::host::read_file;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(LUCID_FIXTURES) / "legacy-registry";

rapidjson::Document load_fixture(const std::string& name) {
    return parse_json_object(read_file(kFixtures / name), name);
}

LegacyEntry fixture_entry(const std::string& file, const std::string& id) {
    const auto doc = load_fixture(file);
    return read_legacy_entry(id, doc[id.c_str()]);
}

}  // namespace

TEST_CASE("recognizes the era of each fixture's entries") {
    CHECK(detect_shape(fixture_entry("v0.1-flat.json", "cpu")) == LegacyShape::v0_1);
    CHECK(detect_shape(fixture_entry("v1.0-sha256-source.json", "cpu")) == LegacyShape::v1_0);
    CHECK(detect_shape(fixture_entry("v0.9-dist-name.json", "cpu")) == LegacyShape::v0_9);
    CHECK(detect_shape(fixture_entry("v1.1-enabled-config.json", "cpu")) == LegacyShape::v1_1);
}

TEST_CASE("migrates a v0.1 entry that lacks a checksum and a source") {
    const auto before = fixture_entry("v0.1-flat.json", "cpu");
    const auto after = add_checksum_and_source(before);
    CHECK(after.sha256 == std::optional<std::string>(""));  // never recorded: unknown
    REQUIRE(after.source.has_value());
    CHECK(after.source->type == "github_release");
    CHECK(after.source->owner == "LucidLabPlatform");
    CHECK(after.source->repo == "lucid-agent-cpu");
    CHECK(after.source->tag == "v0.1.3");
    CHECK(after.source->asset == "lucid_agent_cpu-0.1.3-py3-none-any.whl");
    CHECK(detect_shape(after) == LegacyShape::v1_0);
}

TEST_CASE("a wheel_url that is not a GitHub release becomes a url source") {
    LegacyEntry entry;
    entry.component_id = "x";
    entry.version = "1.0.0";
    entry.wheel_url = "https://mirror.example.com/x_thing-1.0.0-py3-none-any.whl";
    const auto after = add_checksum_and_source(entry);
    CHECK(after.source->type == "url");
    CHECK(after.source->url == entry.wheel_url);
}

TEST_CASE("migrates a v1.0 entry by deriving dist_name from source.asset") {
    const auto doc = load_fixture("v1.0-sha256-source.json");
    const auto cpu = add_dist_name(read_legacy_entry("cpu", doc["cpu"]));
    CHECK(cpu.dist_name == std::optional<std::string>("lucid-agent-cpu"));
    const auto led = add_dist_name(read_legacy_entry("led_strip", doc["led_strip"]));
    CHECK(led.dist_name == std::optional<std::string>("lucid-component-led-strip"));
    CHECK(detect_shape(cpu) == LegacyShape::v0_9);
}

TEST_CASE("derives dist_name from wheel_url when there is no source asset") {
    auto entry = add_dist_name(fixture_entry("v0.1-flat.json", "cpu"));
    CHECK(entry.dist_name == std::optional<std::string>("lucid-agent-cpu"));
}

TEST_CASE("leaves dist_name unknown when nothing names the artifact") {
    const auto mystery = add_dist_name(fixture_entry("v0.9-dist-name.json", "mystery"));
    CHECK_FALSE(mystery.dist_name.has_value());
    const auto entry = migrate_legacy_entry(fixture_entry("v0.9-dist-name.json", "mystery"));
    CHECK(entry.dist_name.empty());
    CHECK(entry.kind == EntryKind::python_wheel);
}

TEST_CASE("migrates a v0.9 entry by adding enabled and config") {
    const auto before = fixture_entry("v0.9-dist-name.json", "led_strip");
    const auto after = add_enabled_and_config(before);
    CHECK(after.enabled == std::optional<bool>(true));
    CHECK(after.config_json == std::optional<std::string>("{}"));
    CHECK(detect_shape(after) == LegacyShape::v1_1);
}

TEST_CASE("converts a v1.1 entry into a format-1 entry, keeping the original") {
    const auto entry = to_registry_entry(fixture_entry("v1.1-enabled-config.json", "led_strip"));
    CHECK(entry.component_id == "led_strip");
    CHECK(entry.dist_name == "lucid-component-led-strip");
    CHECK(entry.version == "0.2.0");
    CHECK(entry.sha256 == "8180566b9e607f746bc53a05e9caf2bb180e52563ee28f9deebeb386568b4225");
    CHECK_FALSE(entry.enabled);
    CHECK(entry.config_json == "{}");
    CHECK(entry.installed_at == "2026-02-13T09:05:00Z");
    CHECK(entry.kind == EntryKind::python_wheel);
    CHECK(entry.path.empty());
    CHECK(entry.source_json.find("\"type\":\"github_release\"") != std::string::npos);
    CHECK(entry.legacy_json.find("LedStripComponent") != std::string::npos);
}

TEST_CASE("every era's fixture migrates to the same dist_names") {
    for (const char* file : {"v0.1-flat.json", "v1.0-sha256-source.json", "v0.9-dist-name.json",
                             "v1.1-enabled-config.json"}) {
        CAPTURE(file);
        const auto migration = migrate_legacy_registry(load_fixture(file));
        CHECK(migration.problems.empty());
        CHECK(migration.registry.find("cpu")->dist_name == "lucid-agent-cpu");
        if (const Entry* led = migration.registry.find("led_strip")) {
            CHECK(led->dist_name == "lucid-component-led-strip");
        }
    }
}

TEST_CASE("keeps the v1.1 config and enabled flags through the whole migration") {
    const auto migration = migrate_legacy_registry(load_fixture("v1.1-enabled-config.json"));
    CHECK(migration.registry.find("cpu")->config_json == R"({"interval_s":5})");
    CHECK(migration.registry.find("cpu")->enabled);
    CHECK_FALSE(migration.registry.find("led_strip")->enabled);
}

TEST_CASE("reports wrong-shape legacy entries and keeps the good one") {
    const auto migration = migrate_legacy_registry(load_fixture("wrong-shapes.json"));
    CHECK(migration.registry.size() == 1);
    CHECK(migration.registry.find("cpu") != nullptr);
    REQUIRE(migration.problems.size() == 2);
    CHECK(migration.problems[0] == "legacy registry entry '42' left out: entry is an array");
    CHECK(migration.problems[1] == "legacy registry entry 'broken' left out: entry is a string");
}

TEST_CASE("a legacy field of the wrong type is reported, not guessed at") {
    rapidjson::Document doc;
    doc.Parse(R"({"x": {"version": "1.0.0", "sha256": 42}})");
    const auto migration = migrate_legacy_registry(doc);
    CHECK(migration.registry.empty());
    REQUIRE(migration.problems.size() == 1);
    CHECK(migration.problems[0].find("field 'sha256' must be a string") != std::string::npos);
}
