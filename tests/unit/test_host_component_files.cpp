// The component directory layout and crash recovery of files against the registry.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <set>

#include "install/component_files.hpp"
#include "install/digest.hpp"
#include "temp_dir.hpp"

using namespace lucid::host::install;
using lucid::registry::Entry;
using lucid::registry::Registry;
namespace fs = std::filesystem;

namespace {

fs::path stage(ComponentFiles& files, const std::string& name, const std::string& content) {
    const auto path = files.new_staging_path(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

Entry entry_for(const std::string& id, const fs::path& path, const std::string& version) {
    Entry e;
    e.component_id = id;
    e.dist_name = "lucid-agent-" + id;
    e.version = version;
    e.path = path.string();
    return e;
}

}  // namespace

TEST_CASE("places a staged file under components/{dist}/{version}") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto staged = stage(files, "x-1.0.0.so", "one");
    const auto placed = files.place(staged, "x", "1.0.0", "x-1.0.0.so", sha256_hex("one"));
    CHECK(placed.path == dir / "components/x/1.0.0/x-1.0.0.so");
    CHECK(placed.created);
    CHECK(fs::exists(placed.path));
    CHECK_FALSE(fs::exists(staged));
}

TEST_CASE("never overwrites an installed file with different content") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    files.place(stage(files, "x-1.0.0.so", "one"), "x", "1.0.0", "x-1.0.0.so", sha256_hex("one"));
    CHECK_THROWS_WITH(files.place(stage(files, "x-1.0.0.so", "two"), "x", "1.0.0", "x-1.0.0.so",
                                  sha256_hex("two")),
                      doctest::Contains("already installed with a different sha256"));
    std::ifstream in(dir / "components/x/1.0.0/x-1.0.0.so");
    std::string content((std::istreambuf_iterator<char>(in)), {});
    CHECK(content == "one");
    // The same bytes again are simply reused.
    CHECK_NOTHROW(files.place(stage(files, "x-1.0.0.so", "one"), "x", "1.0.0", "x-1.0.0.so",
                              sha256_hex("one")));
}

TEST_CASE("compares builds by sha256, never by file name") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto first = files.place(stage(files, "x-1.0.0.so", "one"), "x", "1.0.0", "x-1.0.0.so",
                                   sha256_hex("one"));
    // Another build of the same version under another name: refused, nothing added.
    CHECK_THROWS_WITH(files.place(stage(files, "X-1.0.0-any.so", "two"), "x", "1.0.0",
                                  "X-1.0.0-any.so", sha256_hex("two")),
                      doctest::Contains("already installed with a different sha256"));
    // The same build under another name: the file already there is reused.
    const auto again = files.place(stage(files, "X-1.0.0-any.so", "one"), "x", "1.0.0",
                                   "X-1.0.0-any.so", sha256_hex("one"));
    CHECK(again.path == first.path);
    CHECK_FALSE(again.created);
    std::set<std::string> names;
    for (const auto& f : fs::directory_iterator(dir / "components/x/1.0.0")) {
        names.insert(f.path().filename().string());
    }
    CHECK(names == std::set<std::string>{"x-1.0.0.so"});
}

TEST_CASE("discarding a failed install removes what it placed, never a reused file") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto created = files.place(stage(files, "x-1.0.0.so", "one"), "x", "1.0.0", "x-1.0.0.so",
                                     sha256_hex("one"));
    const auto reused = files.place(stage(files, "x-1.0.0.so", "one"), "x", "1.0.0", "x-1.0.0.so",
                                    sha256_hex("one"));
    files.discard(reused, "x", "1.0.0");
    CHECK(fs::exists(created.path));
    files.discard(created, "x", "1.0.0");
    CHECK_FALSE(fs::exists(dir / "components/x"));
}

TEST_CASE("recovery removes unreferenced files inside a referenced version folder") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto kept = files
                          .place(stage(files, "a-1.0.0.so", "a"), "lucid-agent-a", "1.0.0",
                                 "a-1.0.0.so", sha256_hex("a"))
                          .path;
    // What an older agent let a renamed, failed install leave beside the referenced file.
    const fs::path stray = kept.parent_path() / "LUCID_AGENT_A-1.0.0.so";
    std::ofstream(stray) << "another build";
    Registry registry;
    registry.put(entry_for("a", kept, "1.0.0"));

    const auto recovery = files.recover(registry);
    CHECK(fs::exists(kept));
    CHECK_FALSE(fs::exists(stray));
    CHECK(recovery.problems.size() == 1);
}

TEST_CASE("refuses to place a file outside the components directory") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    CHECK_THROWS_AS(files.place(stage(files, "a.so", "x"), "..", "..", "evil.so", sha256_hex("x")),
                    std::invalid_argument);
    CHECK_FALSE(fs::exists(dir.path().parent_path() / "evil.so"));
}

TEST_CASE("recovery removes staging leftovers and files no entry references") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto kept = files
                          .place(stage(files, "a-1.0.0.so", "a"), "lucid-agent-a", "1.0.0",
                                 "a-1.0.0.so", sha256_hex("a"))
                          .path;
    const auto orphan = files
                            .place(stage(files, "b-1.0.0.so", "b"), "lucid-agent-b", "1.0.0",
                                   "b-1.0.0.so", sha256_hex("b"))
                            .path;
    stage(files, "c-1.0.0.so", "half a download");
    Registry registry;
    registry.put(entry_for("a", kept, "1.0.0"));

    const auto recovery = files.recover(registry);
    CHECK_FALSE(recovery.registry_changed);
    CHECK(fs::exists(kept));
    CHECK_FALSE(fs::exists(orphan));
    CHECK_FALSE(fs::exists(dir / "components/lucid-agent-b"));
    CHECK(fs::is_empty(files.staging_dir()));
    CHECK(recovery.problems.size() == 2);
}

TEST_CASE("recovery rolls an entry whose file vanished back to its previous version") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const auto old_path = files
                              .place(stage(files, "a-1.0.0.so", "old"), "lucid-agent-a", "1.0.0",
                                     "a-1.0.0.so", sha256_hex("old"))
                              .path;
    Entry e = entry_for("a", dir / "components/lucid-agent-a/2.0.0/a-2.0.0.so", "2.0.0");
    e.previous = lucid::registry::PreviousVersion{"1.0.0", sha256_hex("old"), old_path.string()};
    Registry registry;
    registry.put(e);
    registry.put(entry_for("gone", dir / "components/lucid-agent-gone/1.0.0/g-1.0.0.so", "1.0.0"));

    const auto recovery = files.recover(registry);
    CHECK(recovery.registry_changed);
    CHECK(recovery.registry.find("a")->version == "1.0.0");
    CHECK(recovery.registry.find("a")->path == old_path.string());
    CHECK(recovery.registry.find("gone") == nullptr);
    CHECK(fs::exists(old_path));
}

TEST_CASE("recovery removes what interrupted atomic writes left in the data and marker dirs") {
    lucid::test::TempDir dir;
    ComponentFiles files(dir.path());
    const std::string pid = std::to_string(::getpid());
    for (const char* marker_dir : {"starting", "installing", "quarantine"}) {
        fs::create_directories(dir / marker_dir);
    }
    const fs::path leftovers[] = {
        dir / ("request_log.json.tmp." + pid + ".3"), dir / ("starting/echo.tmp." + pid + ".1"),
        dir / ("installing/echo.tmp." + pid + ".4"), dir / ("quarantine/echo.tmp." + pid + ".2")};
    for (const auto& file : leftovers) std::ofstream(file) << "half";
    std::ofstream(dir / "notes.tmp") << "not ours";

    const auto recovery = files.recover(Registry{});
    for (const auto& file : leftovers) CHECK_FALSE(fs::exists(file));
    CHECK(fs::exists(dir / "notes.tmp"));
    CHECK(recovery.problems.size() == std::size(leftovers));
}

TEST_CASE("recovery keeps the files of a registry written through another path to the data dir") {
    // systemd's DynamicUser= with StateDirectory= makes /var/lib/lucid a symlink to
    // /var/lib/private/lucid: the registry names one path, the agent is started with the other.
    lucid::test::TempDir dir;
    fs::create_directories(dir / "real");
    fs::create_directory_symlink(dir / "real", dir / "link");
    ComponentFiles installed_via_real(dir / "real");
    const auto placed =
        installed_via_real.place(stage(installed_via_real, "a-1.0.0.so", "a"), "lucid-agent-a",
                                 "1.0.0", "a-1.0.0.so", sha256_hex("a"));
    Registry registry;
    registry.put(entry_for("a", placed.path, "1.0.0"));

    ComponentFiles started_via_link(dir / "link");
    const auto recovery = started_via_link.recover(registry);
    CHECK(recovery.problems.empty());
    CHECK_FALSE(recovery.registry_changed);
    CHECK(fs::exists(placed.path));
    // And the other way round: installed through the link, started through the real path.
    ComponentFiles installed_via_link(dir / "link");
    const auto linked =
        installed_via_link.place(stage(installed_via_link, "b-1.0.0.so", "b"), "lucid-agent-b",
                                 "1.0.0", "b-1.0.0.so", sha256_hex("b"));
    registry.put(entry_for("b", linked.path, "1.0.0"));
    CHECK(installed_via_real.recover(registry).problems.empty());
    CHECK(fs::exists(linked.path));
    CHECK(fs::exists(placed.path));
}
