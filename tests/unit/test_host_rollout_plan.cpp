// The pure part of rollouts (lucidctl/rollout_plan.hpp): counts, batches, the document each agent
// gets, and the retained state read back as written.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "lucidctl/rollout_plan.hpp"

using namespace lucid::host::ctl;

TEST_CASE("rollout counts: N or P% of the selection") {
    CHECK(parse_count("3", 10, "--batch", true).value() == 3);
    CHECK(parse_count("25%", 10, "--batch", true).value() == 3);  // rounded up
    CHECK(parse_count("0", 10, "--max-failures", false).value() == 0);
    CHECK(parse_count("0%", 10, "--batch", true).error().message ==
          "--batch must be at least 1, got '0%'");
    CHECK(parse_count("101%", 10, "--batch", true).error().message ==
          "--batch must be N or P% (0 to 100), got '101%'");
    CHECK_FALSE(parse_count("x", 10, "--batch", true));
    CHECK_FALSE(parse_count("-1", 10, "--batch", true));
}

TEST_CASE("rollout batches: the canary, then batches in order") {
    const std::vector<std::string> ids{"a", "b", "c", "d", "e"};
    const auto batches = plan_batches(ids, 1, 2);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0] == std::vector<std::string>{"a"});
    CHECK(batches[1] == std::vector<std::string>{"b", "c"});
    CHECK(batches[2] == std::vector<std::string>{"d", "e"});
    CHECK(plan_batches(ids, 0, 10).size() == 1);
    CHECK(plan_batches(ids, 9, 1).size() == 1);  // a canary larger than the selection
    CHECK(plan_batches({}, 1, 1).empty());
}

TEST_CASE("rollout document: the component set, the rest of the agent's document kept") {
    const std::string previous =
        R"({"revision":4,"exclusive":true,"components":{"echo":{"version":"1.0.0","enabled":false,)"
        R"("config":{"a":1},"artifacts":{}},"cpu":{"version":"2.0.0","artifacts":{}}},)"
        R"("remove":["echo","old"]})";
    rapidjson::Document doc;
    doc.Parse(compose_desired(previous, "echo", "2.0.0", R"({"linux_x86_64":{"source":{}}})",
                              std::nullopt, 9)
                  .c_str());
    CHECK(doc["revision"].GetUint64() == 9);
    CHECK(doc["exclusive"].GetBool());
    CHECK(std::string(doc["components"]["echo"]["version"].GetString()) == "2.0.0");
    CHECK_FALSE(doc["components"]["echo"]["enabled"].GetBool());
    CHECK(doc["components"]["echo"]["config"]["a"].GetInt() == 1);
    CHECK(doc["components"]["echo"]["artifacts"].HasMember("linux_x86_64"));
    CHECK(doc["components"].HasMember("cpu"));
    CHECK(doc["remove"].Size() == 1);  // no longer removed: it is rolled out
    // No previous document, or a whole one given.
    doc.Parse(compose_desired(std::nullopt, "echo", "1.0.0", "{}", std::nullopt, 1).c_str());
    CHECK(doc["components"].HasMember("echo"));
    doc.Parse(compose_desired(previous, "echo", "", "{}", std::string(R"({"components":{}})"), 5)
                  .c_str());
    CHECK(doc["revision"].GetUint64() == 5);
    CHECK(doc["components"].MemberCount() == 0);
    CHECK(with_revision(previous, 11).value().find("\"revision\":11") != std::string::npos);
    CHECK_FALSE(with_revision("nope", 1));
}

TEST_CASE("rollout document: names its rollout; its rollback names the rollout it undoes") {
    const std::string previous = R"({"revision":4,"rollout":"r-old","components":{}})";
    rapidjson::Document doc;
    doc.Parse(compose_desired(previous, "echo", "2.0.0", "{}", std::nullopt, 9, "r-new").c_str());
    CHECK(std::string(doc["rollout"].GetString()) == "r-new");
    CHECK_FALSE(doc.HasMember("rollback_of"));
    doc.Parse(compose_desired(std::nullopt, "echo", "", "{}", std::string(R"({"components":{}})"),
                              5, "r-new")
                  .c_str());
    CHECK(std::string(doc["rollout"].GetString()) == "r-new");
    doc.Parse(with_revision(previous, 12, "r-new").value().c_str());
    CHECK(doc["revision"].GetUint64() == 12);
    CHECK(std::string(doc["rollback_of"].GetString()) == "r-new");
    CHECK_FALSE(doc.HasMember("rollout"));  // the previous document's own rollout is not its
}

TEST_CASE("rollout state: read back as written") {
    Rollout r;
    r.id = "r1";
    r.state = "paused";
    r.selector = "site=a";
    r.component = "echo";
    r.version = "2.0.0";
    r.artifacts_json = R"({"linux_x86_64":{"source":{"type":"broker"}}})";
    r.batches = {{"a"}, {"b", "c"}};
    r.next_batch = 1;
    r.max_failures = 2;
    r.rollback = false;
    r.agents["a"].state = rollout_agent::kConverged;
    r.agents["a"].previous = R"({"revision":1})";
    r.agents["b"].state = rollout_agent::kFailed;
    r.agents["b"].error = "start failed: boom";
    r.agents["c"].state = rollout_agent::kTimeout;
    const auto back = parse_rollout(rollout_json(r));
    REQUIRE(back);
    CHECK(rollout_json(back.value()) == rollout_json(r));
    CHECK(back.value().failures() == 2);
    CHECK(back.value().active());
    CHECK_FALSE(parse_rollout("{}"));
    CHECK_FALSE(parse_rollout("garbage"));
}
