// The trust state (host/install/trust_state.hpp): the version floor of each dist, stored
// atomically in {data}/trust_state.json; a corrupt file is never taken for "no floors"; the
// first start seeds it; a rollout's raise is held for that rollout's abort only.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "common/atomic_file.hpp"
#include "install/trust_state.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using namespace lucid::host::install;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string refusal(const TrustState& trust, const std::string& dist, const std::string& version,
                    const FloorContext& context = {}) {
    const auto refused = trust.check(dist, version, context);
    return refused ? refused->message : "";
}

FloorContext allowing() {
    FloorContext c;
    c.allow_downgrade = true;
    return c;
}

FloorContext rollout(const std::string& id) {
    FloorContext c;
    c.rollout = id;
    return c;
}

FloorContext abort_of(const std::string& id) {
    FloorContext c;
    c.rollback_of = id;
    return c;
}

std::vector<std::string> temporaries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp.") != std::string::npos) out.push_back(name);
    }
    return out;
}

}  // namespace

TEST_CASE("the highest committed version is the floor; a lower one is refused without permission") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    REQUIRE(trust.seed_if_absent({}).value());
    CHECK(refusal(trust, "echo", "0.1.0").empty());  // no floor yet
    REQUIRE(trust.commit("echo", "1.0.0", {}));
    REQUIRE(trust.commit("echo", "2.0.0", {}));
    CHECK(refusal(trust, "echo", "1.0.0") == "downgrade refused: echo 1.0.0 < 2.0.0");
    CHECK(trust.check("echo", "1.0.0", {})->code == Errc::refused);
    CHECK(refusal(trust, "echo", "2.0.0-rc.1") == "downgrade refused: echo 2.0.0-rc.1 < 2.0.0");
    CHECK(refusal(trust, "echo", "2.0.0").empty());
    CHECK(refusal(trust, "echo", "2.0.0+build.7").empty());  // build metadata does not count
    CHECK(refusal(trust, "echo", "10.0.0").empty());         // semver, not text, order
    CHECK(refusal(trust, "echo", "1.0.0", allowing()).empty());
    CHECK(refusal(trust, "other", "0.0.1").empty());  // per dist

    // An allowed downgrade is committed, but the floor stays the highest ever committed.
    REQUIRE(trust.commit("echo", "1.0.0", allowing()));
    CHECK(trust.load().value().at("echo").version == "2.0.0");

    // Written atomically: the file parses, no temporary is left, and a second reader agrees.
    CHECK(temporaries(dir.path()).empty());
    const auto text = read_file(dir / kTrustStateFile);
    CHECK(text == "{\"format\":1,\"floors\":{\"echo\":{\"version\":\"2.0.0\"}}}\n");
    CHECK(TrustState(dir.path()).load().value().at("echo").effective() == "2.0.0");
}

TEST_CASE("the first start seeds the floors from what is installed, and only then") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    CHECK(trust.check("echo", "1.0.0", {})->code == Errc::not_found);  // never "no floors"
    CHECK(refusal(trust, "echo", "1.0.0").find("is missing") != std::string::npos);
    auto seeded = trust.seed_if_absent({{"echo", "1.5.0"}, {"cpu", "0.3.0"}});
    REQUIRE(seeded);
    CHECK(seeded.value());
    CHECK(refusal(trust, "echo", "1.0.0") == "downgrade refused: echo 1.0.0 < 1.5.0");
    CHECK(refusal(trust, "cpu", "0.2.9") == "downgrade refused: cpu 0.2.9 < 0.3.0");
    // A file that exists is never seeded again (an operator's reset stays reset).
    REQUIRE(trust.reset("echo", std::nullopt));
    seeded = trust.seed_if_absent({{"echo", "1.5.0"}});
    REQUIRE(seeded);
    CHECK_FALSE(seeded.value());
    CHECK(refusal(trust, "echo", "1.0.0").empty());
}

TEST_CASE("a corrupt trust state refuses every install and is left for the operator") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    for (const std::string bad :
         {"", "{", "[]", R"({"format":2,"floors":{}})", R"({"format":1})",
          R"({"format":1,"floors":{"echo":{"version":"two"}}})",
          R"({"format":1,"floors":{"echo":"2.0.0"}})",
          R"({"format":1,"floors":{"echo":{"version":"2.0.0","held":{"version":"3.0.0"}}}})",
          R"({"format":1,"floors":{"echo":{"version":"2.0.0"},"echo":{"version":"0.1.0"}}})"}) {
        CAPTURE(bad);
        std::ofstream(dir / kTrustStateFile, std::ios::trunc) << bad;
        const auto refused = trust.check("echo", "9.0.0", {});
        REQUIRE(refused);
        CHECK(refused->code == Errc::invalid);
        CHECK(refused->message.rfind("install refused: trust state " +
                                         (dir / kTrustStateFile).string() + " cannot be read: ",
                                     0) == 0);
        CHECK(refused->message.find("move the file aside, start the agent") != std::string::npos);
        // Neither a commit, a seed nor a reset overwrites it.
        CHECK_FALSE(trust.commit("echo", "9.0.0", {}));
        CHECK_FALSE(trust.seed_if_absent({{"echo", "9.0.0"}}).value());
        CHECK_FALSE(trust.reset("echo", std::nullopt));
        CHECK(read_file(dir / kTrustStateFile) == bad);
    }
}

TEST_CASE("a rollout's raise is held: only that rollout's abort goes back, not below the floor") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    REQUIRE(trust.seed_if_absent({{"echo", "1.0.0"}}).value());
    REQUIRE(trust.commit("echo", "2.0.0", rollout("r-1")));
    const Floor held = trust.load().value().at("echo");
    CHECK(held.version == "1.0.0");
    REQUIRE(held.held);
    CHECK(held.held->version == "2.0.0");
    CHECK(held.effective() == "2.0.0");

    // Everyone else sees 2.0.0; another rollout's abort too; the abort never goes below 1.0.0.
    CHECK(refusal(trust, "echo", "1.0.0") == "downgrade refused: echo 1.0.0 < 2.0.0");
    CHECK(refusal(trust, "echo", "1.0.0", abort_of("r-2")) ==
          "downgrade refused: echo 1.0.0 < 2.0.0");
    CHECK(refusal(trust, "echo", "0.9.0", abort_of("r-1")) ==
          "downgrade refused: echo 0.9.0 < 2.0.0");
    CHECK(refusal(trust, "echo", "1.0.0", abort_of("r-1")).empty());

    SUBCASE("the abort takes the raise back") {
        REQUIRE(trust.commit("echo", "1.0.0", abort_of("r-1")));
        const Floor after = trust.load().value().at("echo");
        CHECK(after.version == "1.0.0");
        CHECK_FALSE(after.held);
    }
    SUBCASE("anything else after it makes the raise final") {
        REQUIRE(trust.commit("cpu", "1.0.0", {}));  // another dist changes nothing here
        CHECK(trust.load().value().at("echo").held);
        REQUIRE(trust.commit("echo", "2.0.0", rollout("r-3")));
        const Floor after = trust.load().value().at("echo");
        CHECK(after.version == "2.0.0");  // r-1's raise is final: r-3 took over
        CHECK_FALSE(after.held);          // and r-3 raised nothing above it
        CHECK(refusal(trust, "echo", "1.0.0", abort_of("r-1")) ==
              "downgrade refused: echo 1.0.0 < 2.0.0");
    }
    SUBCASE("a rollout that installs a dist first holds it without a floor below") {
        REQUIRE(trust.commit("fresh", "1.0.0", rollout("r-9")));
        const Floor fresh = trust.load().value().at("fresh");
        CHECK(fresh.version.empty());
        CHECK(fresh.effective() == "1.0.0");
        CHECK(read_file(dir / kTrustStateFile).find(R"("fresh":{"held":)") != std::string::npos);
        CHECK(TrustState(dir.path()).load().value().at("fresh").effective() == "1.0.0");
    }
}

TEST_CASE("floor reset removes, lowers or sets one floor") {
    lucid::test::TempDir dir;
    TrustState trust(dir.path());
    CHECK(trust.reset("echo", std::string("1.0.0")).error().code == Errc::not_found);  // no file
    REQUIRE(trust.seed_if_absent({{"echo", "2.0.0"}, {"cpu", "1.0.0"}}).value());
    REQUIRE(trust.reset("echo", std::string("1.5.0")));
    CHECK(refusal(trust, "echo", "1.0.0") == "downgrade refused: echo 1.0.0 < 1.5.0");
    REQUIRE(trust.reset("echo", std::nullopt));
    CHECK(refusal(trust, "echo", "1.0.0").empty());
    CHECK(trust.reset("echo", std::nullopt).error().code == Errc::not_found);
    CHECK(trust.reset("cpu", std::string("one")).error().message ==
          "'one' is not a semantic version");
    CHECK(trust.load().value().at("cpu").version == "1.0.0");
    // A dist without a floor gets one: what a trust state moved aside held, put back.
    REQUIRE(trust.reset("echo", std::string("1.2.0")));
    CHECK(refusal(trust, "echo", "1.0.0") == "downgrade refused: echo 1.0.0 < 1.2.0");
    REQUIRE(trust.reset("gone", std::string("3.0.0")));
    CHECK(refusal(trust, "gone", "2.9.9") == "downgrade refused: gone 2.9.9 < 3.0.0");
    CHECK(trust.reset("other", std::string("0.x")).error().code == Errc::invalid);
    CHECK_FALSE(trust.load().value().count("other"));
}

TEST_CASE("a trust state that cannot be opened is not called corrupt: its owner and mode are") {
    lucid::test::TempDir dir;
    const fs::path missing = dir / "no-such-data-dir";
    TrustState trust(missing);
    const auto refused = trust.check("echo", "1.0.0", {});
    REQUIRE(refused);
    CHECK(refused->code == Errc::invalid);
    CAPTURE(refused->message);
    CHECK(refused->message.rfind("install refused: trust state " +
                                     (missing / kTrustStateFile).string() + " cannot be read: ",
                                 0) == 0);
    CHECK(refused->message.find("No such file or directory; installs are refused until the "
                                "agent's user can read and write it and trust_state.lock beside "
                                "it (check the data directory, their owner and mode)") !=
          std::string::npos);
    CHECK(refused->message.find("move the file aside") == std::string::npos);
    CHECK(trust.load().error().message ==
          refused->message.substr(std::strlen("install refused: ")));
}

TEST_CASE("root's writes are given to the data directory's owner, never through a link") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root (chown)");
        return;
    }
    lucid::test::TempDir dir;
    lucid::test::TempDir elsewhere;
    REQUIRE(::chown(dir.path().c_str(), 65534, 65534) == 0);
    const fs::path file = dir / kTrustStateFile;
    const fs::path lock = dir / kTrustStateLock;
    const auto owner = [](const fs::path& p) {
        struct stat st {};
        REQUIRE(::lstat(p.c_str(), &st) == 0);
        return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " " +
               std::to_string(st.st_mode & 0777);
    };
    const std::string agents = "65534:65534 " + std::to_string(0640);
    const std::string roots = "0:0 " + std::to_string(0640);

    // Without being asked (the agent itself): the writer's.
    REQUIRE(TrustState(dir.path()).seed_if_absent({{"echo", "2.0.0"}}).value());
    CHECK(owner(file) == roots);
    CHECK(owner(lock) == roots);

    TrustState trust(dir.path());
    trust.give_files_to_directory_owner();
    REQUIRE(trust.load());  // a read gives back both, even those root left before
    CHECK(owner(file) == agents);
    CHECK(owner(lock) == agents);
    fs::remove(lock);
    REQUIRE(trust.reset("echo", std::string("1.0.0")));  // a new lock, a new file
    CHECK(owner(file) == agents);
    CHECK(owner(lock) == agents);
    CHECK(temporaries(dir.path()).empty());

    // A link the directory's owner put there is not followed, nor given away.
    const fs::path shadow = elsewhere / "shadow";
    std::ofstream(shadow) << "root:secret\n";
    fs::permissions(shadow, fs::perms(0640));
    fs::remove(lock);
    fs::create_symlink(shadow, lock);
    auto refused = trust.load();
    REQUIRE_FALSE(refused);
    // Not even opened (common/file_lock.cpp: O_NOFOLLOW).
    CHECK_MESSAGE(contains(refused.error().message, "cannot open lock file '" + lock.string() +
                                                        "': Too many levels of symbolic links"),
                  refused.error().message);
    CHECK(owner(shadow) == roots);
    fs::remove(lock);
    fs::create_hard_link(shadow, lock);
    CHECK(trust.reset("echo", std::string("1.0.0")).error().message ==
          "cannot give " + lock.string() + " to the owner of " + dir.path().string() +
              ": it has 2 links");
    CHECK(owner(shadow) == roots);
}

TEST_CASE("floor names are dist names: compared normalized, one spelling each") {
    lucid::test::TempDir dir;
    std::ofstream(dir / kTrustStateFile)
        << R"({"format":1,"floors":{"My_Hello":{"version":"9.0.0"}}})";
    TrustState trust(dir.path());
    CHECK(trust.load().value().at("my-hello").version == "9.0.0");
    CHECK(trust.check("my-hello", "1.2.0", {})->message ==
          "downgrade refused: my-hello 1.2.0 < 9.0.0");
    std::ofstream(dir / kTrustStateFile, std::ios::trunc)
        << R"({"format":1,"floors":{"My_Hello":{"version":"9.0.0"},"my-hello":{"version":"1.0.0"}}})";
    const auto twice = trust.load();
    REQUIRE_FALSE(twice);
    CHECK_MESSAGE(
        twice.error().message.find("floors.my-hello names my-hello again (another spelling)") !=
            std::string::npos,
        twice.error().message);
}
