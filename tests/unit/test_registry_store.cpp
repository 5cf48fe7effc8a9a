// The registry file: round trip, lookups, corrupt and damaged files, legacy import, locking.
#include <doctest/doctest.h>

#include <fstream>

#include "lucid/registry/registry_json.hpp"
#include "lucid/registry/registry_store.hpp"
#include "temp_dir.hpp"

using namespace lucid::registry;
using lucid::host::FileOps;
using lucid::host::read_file;
using lucid::host::write_file_atomically;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = LUCID_FIXTURES;

Entry make_entry(const std::string& id, const std::string& dist, const std::string& version) {
    Entry e;
    e.component_id = id;
    e.dist_name = dist;
    e.version = version;
    e.sha256 = std::string(64, 'a');
    e.path = "/data/components/" + dist + "/" + version + "/x.so";
    e.source_json = R"({"type":"url","url":"https://example.com/x.so"})";
    e.config_json = R"({"interval_s":5})";
    e.installed_at = "2026-11-22T10:00:00.000Z";
    return e;
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().rfind(prefix, 0) == 0) found.push_back(e.path());
    }
    return found;
}

void install_fixture(const fs::path& fixture, const fs::path& target) {
    fs::copy_file(fixture, target, fs::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("a missing registry loads empty and reports nothing") {
    lucid::test::TempDir dir;
    const auto report = RegistryStore(dir.path()).load();
    CHECK(report.registry.empty());
    CHECK(report.problems.empty());
}

TEST_CASE("saves and loads back every field of an entry") {
    lucid::test::TempDir dir;
    RegistryStore store(dir.path());
    Registry registry;
    Entry cpu = make_entry("cpu", "lucid-agent-cpu", "1.2.0");
    cpu.previous = PreviousVersion{"1.1.0", std::string(64, 'b'), "/old.so"};
    cpu.enabled = false;
    registry.put(cpu);
    Entry legacy = make_entry("mystery", "", "0.0.1");
    legacy.kind = EntryKind::python_wheel;
    legacy.legacy_json = R"({"entrypoint":"thing:Thing"})";
    registry.put(legacy);
    store.save(registry);

    const auto report = store.load();
    CHECK(report.problems.empty());
    CHECK(report.registry == registry);
    CHECK(report.registry.find("cpu")->previous->version == "1.1.0");
}

TEST_CASE("finds entries by component_id and by dist_name") {
    Registry registry;
    registry.put(make_entry("cpu", "lucid-agent-cpu", "1.0.0"));
    registry.put(make_entry("echo", "lucid-agent-echo", "1.0.0"));
    CHECK(registry.find("cpu")->dist_name == "lucid-agent-cpu");
    CHECK(registry.find_by_dist("lucid-agent-echo")->component_id == "echo");
    CHECK(registry.find("nope") == nullptr);
    CHECK(registry.find_by_dist("") == nullptr);
    CHECK(registry.erase("cpu"));
    CHECK_FALSE(registry.erase("cpu"));
    CHECK(registry.size() == 1);
}

TEST_CASE("a dist_name belongs to one component only") {
    Registry registry;
    registry.put(make_entry("cpu", "lucid-agent-cpu", "1.0.0"));
    CHECK_THROWS_WITH_AS(registry.put(make_entry("cpu2", "lucid-agent-cpu", "2.0.0")),
                         doctest::Contains("already installed as component 'cpu'"),
                         std::invalid_argument);
    registry.put(make_entry("cpu", "lucid-agent-cpu", "2.0.0"));  // an upgrade of the same one
    CHECK(registry.find("cpu")->version == "2.0.0");
    CHECK_THROWS_AS(registry.put(make_entry("Bad/Id", "x", "1.0.0")), std::invalid_argument);
}

TEST_CASE("loads the format-1 fixture") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "registry/format1.json", dir / "registry.json");
    const auto report = RegistryStore(dir.path()).load();
    CHECK(report.problems.empty());
    REQUIRE(report.registry.size() == 2);
    const Entry& cpu = *report.registry.find("cpu");
    CHECK(cpu.version == "1.2.0");
    CHECK(cpu.config_json == R"({"interval_s":5})");
    CHECK(cpu.previous->version == "1.1.0");
    CHECK_FALSE(report.registry.find("echo")->enabled);
    CHECK_FALSE(report.registry.find("echo")->previous.has_value());
}

TEST_CASE("corrupt, empty and truncated files are moved aside and the registry starts empty") {
    for (const char* fixture :
         {"legacy-registry/truncated.json", "legacy-registry/empty.json", "registry/binary.json",
          "registry/array.json", "registry/components-not-object.json"}) {
        CAPTURE(fixture);
        lucid::test::TempDir dir;
        install_fixture(kFixtures / fixture, dir / "registry.json");
        const std::string original = read_file(dir / "registry.json");

        const auto report = RegistryStore(dir.path()).load();
        CHECK(report.registry.empty());
        REQUIRE(report.moved_aside.has_value());
        CHECK(report.moved_aside->filename().string().rfind("registry.corrupt.", 0) == 0);
        CHECK(read_file(*report.moved_aside) == original);  // nothing lost
        CHECK_FALSE(fs::exists(dir / "registry.json"));
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("moved aside") != std::string::npos);
    }
}

TEST_CASE("entries of the wrong shape are reported and the file is kept as it was") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "registry/format1-bad-entries.json", dir / "registry.json");
    const std::string original = read_file(dir / "registry.json");
    const auto report = RegistryStore(dir.path()).load();

    CHECK(report.registry.size() == 1);
    CHECK(report.registry.find("echo") != nullptr);
    auto mentions = [&](const std::string& needle) {
        for (const auto& p : report.problems) {
            if (p.find(needle) != std::string::npos) return true;
        }
        return false;
    };
    CHECK(mentions("'no-version' left out: missing field 'version'"));
    CHECK(mentions("'Bad/Id' left out"));
    CHECK(mentions("'wrong-enabled' left out: field 'enabled' must be a boolean"));
    CHECK(mentions("'dup' left out"));
    REQUIRE(report.rejected_copy.has_value());
    CHECK(read_file(*report.rejected_copy) == original);
}

TEST_CASE("a registry of a newer format is refused, not rewritten") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "registry/format-future.json", dir / "registry.json");
    const std::string original = read_file(dir / "registry.json");
    CHECK_THROWS_WITH_AS(RegistryStore(dir.path()).load(), doctest::Contains("format 2"),
                         UnsupportedRegistryFormat);
    CHECK(read_file(dir / "registry.json") == original);
}

TEST_CASE("a legacy registry.json is migrated in place with a backup") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "legacy-registry/v0.9-dist-name.json", dir / "registry.json");
    const std::string original = read_file(dir / "registry.json");
    const auto report = RegistryStore(dir.path()).load();

    CHECK(report.registry.size() == 3);
    REQUIRE(report.legacy_backup.has_value());
    CHECK(read_file(*report.legacy_backup) == original);
    // The file on disk is now format 1 and loads again without migrating.
    const auto again = RegistryStore(dir.path()).load();
    CHECK_FALSE(again.migrated_from.has_value());
    CHECK(again.registry == report.registry);
}

TEST_CASE("imports the earlier agent's components_registry.json once and leaves it in place") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "legacy-registry/v1.1-enabled-config.json",
                    dir / "components_registry.json");
    RegistryStore store(dir.path(), legacy_registry_candidates(dir.path(), std::nullopt));
    const auto report = store.load();
    CHECK(report.migrated_from == dir / "components_registry.json");
    CHECK(report.registry.size() == 2);
    CHECK(fs::exists(dir / "components_registry.json"));
    CHECK(fs::exists(dir / "registry.json"));

    // Once imported, a later edit of the old file is not imported again.
    install_fixture(kFixtures / "legacy-registry/v0.1-flat.json", dir / "components_registry.json");
    const auto again = store.load();
    CHECK_FALSE(again.migrated_from.has_value());
    CHECK(again.registry.size() == 2);
}

TEST_CASE("imports the file named by LUCID_LEGACY_REGISTRY") {
    lucid::test::TempDir dir;
    const auto legacy = dir / "old" / "components.json";
    fs::create_directories(legacy.parent_path());
    install_fixture(kFixtures / "legacy-registry/v0.1-flat.json", legacy);
    RegistryStore store(dir / "data", legacy_registry_candidates(dir / "data", legacy.string()));
    const auto report = store.load();
    CHECK(report.migrated_from == legacy);
    CHECK(report.registry.find("cpu")->dist_name == "lucid-agent-cpu");
}

TEST_CASE("a corrupt legacy file is reported and left where it is") {
    lucid::test::TempDir dir;
    install_fixture(kFixtures / "legacy-registry/truncated.json", dir / "components_registry.json");
    RegistryStore store(dir.path(), {dir / "components_registry.json"});
    const auto report = store.load();
    CHECK(report.registry.empty());
    CHECK(fs::exists(dir / "components_registry.json"));
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].find("legacy registry not imported") != std::string::npos);
}

TEST_CASE("update is a read-modify-write that writes nothing when the change throws") {
    lucid::test::TempDir dir;
    RegistryStore store(dir.path());
    store.update([](Registry& r) { r.put(make_entry("cpu", "lucid-agent-cpu", "1.0.0")); });
    CHECK_THROWS(store.update([](Registry& r) {
        r.erase("cpu");
        throw std::runtime_error("install failed half way");
    }));
    CHECK(store.load().registry.find("cpu") != nullptr);
}

TEST_CASE("a failed save leaves the previous registry on disk") {
    class NoSpace : public FileOps {
        ssize_t write(int, const void*, std::size_t) const override {
            errno = ENOSPC;
            return -1;
        }
    };
    lucid::test::TempDir dir;
    RegistryStore(dir.path()).update([](Registry& r) {
        r.put(make_entry("cpu", "lucid-agent-cpu", "1.0.0"));
    });
    NoSpace no_space;
    RegistryStore failing(dir.path(), {}, no_space);
    CHECK_THROWS_AS(failing.update([](Registry& r) { r.erase("cpu"); }), std::system_error);
    CHECK(RegistryStore(dir.path()).load().registry.find("cpu") != nullptr);
    CHECK(files_starting_with(dir.path(), "registry.json.tmp").empty());
}

TEST_CASE("a registry nested absurdly deep is moved aside like any corrupt file") {
    lucid::test::TempDir dir;
    write_file_atomically(dir / "registry.json", std::string(200000, '{'));
    const auto report = RegistryStore(dir.path()).load();
    CHECK(report.registry.empty());
    REQUIRE(report.moved_aside.has_value());
    CHECK(report.problems[0].find("deeper than 64 levels") != std::string::npos);
}

TEST_CASE("what a save killed half-way left is removed at the next load, and reported") {
    lucid::test::TempDir dir;
    RegistryStore store(dir.path());
    store.update([](Registry& r) { r.put(make_entry("cpu", "lucid-agent-cpu", "1.0.0")); });
    std::ofstream(dir / "registry.json.tmp.999999.0") << R"({"format":1,"compo)";

    const auto report = store.load();
    CHECK(report.registry.find("cpu") != nullptr);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].find("interrupted save") != std::string::npos);
    CHECK_FALSE(report.rejected_copy);
    CHECK(files_starting_with(dir.path(), "registry.json.tmp").empty());
}
