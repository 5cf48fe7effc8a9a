// Labels (contract/labels.hpp) and the label selector (contract/label_selector.hpp): the
// grammar operators type after lucidctl agents --select, and LUCID_LABELS.
#include <doctest/doctest.h>

#include <string>

#include "contract/label_selector.hpp"
#include "contract/labels.hpp"

using namespace lucid::host::contract;

namespace {

std::string error_of_labels(const std::string& text) {
    auto parsed = parse_labels_text(text);
    return parsed ? "" : parsed.error().message;
}

std::string error_of_selector(const std::string& text) {
    auto parsed = parse_label_selector(text);
    return parsed ? "" : parsed.error().message;
}

bool selects(const std::string& selector, const Labels& labels) {
    auto parsed = parse_label_selector(selector);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
    return parsed.value().matches(labels);
}

}  // namespace

TEST_CASE("LUCID_LABELS text: key=value pairs, validated and sorted") {
    auto labels = parse_labels_text(" site=berlin , role=gateway,rack.row-2=a_1 ");
    REQUIRE(labels.ok());
    CHECK(labels.value() == Labels{{"site", "berlin"}, {"role", "gateway"}, {"rack.row-2", "a_1"}});
    CHECK(labels_text(labels.value()) == "rack.row-2=a_1,role=gateway,site=berlin");
    CHECK(parse_labels_text("").value().empty());
    CHECK(parse_labels_text("  ").value().empty());
    CHECK(error_of_labels("site") == "label 'site' must be key=value");
    CHECK(error_of_labels("Site=berlin") ==
          "label key 'Site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_labels("site=Berlin") ==
          "label value 'Berlin' of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_labels("site=") ==
          "label value '' of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_labels("-x=1") == "label key '-x' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_labels("a=1,a=2") == "label 'a' given twice");
    CHECK(error_of_labels("a=1,,b=2") == "label '' must be key=value");
    CHECK(error_of_labels(std::string(65, 'k') + "=v").find("must match") != std::string::npos);
    CHECK(error_of_labels(std::string(64, 'k') + "=v").empty());
    std::string many;
    for (int i = 0; i <= 64; ++i)
        many += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    CHECK(error_of_labels(many) == "at most 64 labels");
}

TEST_CASE("labels from cfg/set's JSON object") {
    rapidjson::Document doc;
    doc.Parse(R"({"site":"berlin","role":"gw"})");
    auto labels = labels_from_json(doc);
    REQUIRE(labels.ok());
    CHECK(labels.value().size() == 2);
    doc.Parse(R"(["site"])");
    CHECK(labels_from_json(doc).error().message == "labels must be dict");
    doc.Parse(R"({"site":7})");
    CHECK(labels_from_json(doc).error().message == "labels.site must be str");
    doc.Parse(R"({"Site":7})");
    CHECK(labels_from_json(doc).error().message ==
          "label key 'Site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    doc.Parse(R"({"site":"a b"})");
    CHECK(labels_from_json(doc).error().message ==
          "label value 'a b' of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    doc.Parse(R"({})");
    CHECK(labels_from_json(doc).value().empty());
    rapidjson::Document out;
    const auto json = labels_to_json({{"a", "1"}}, out.GetAllocator());
    CHECK(std::string(json["a"].GetString()) == "1");
}

TEST_CASE("a selector: equality, inequality, sets and existence, all of which must hold") {
    const Labels berlin_gw{{"site", "berlin"}, {"role", "gateway"}};
    const Labels paris_test{{"site", "paris"}, {"role", "test"}, {"canary", "yes"}};
    const Labels bare{};
    CHECK(selects("", berlin_gw));
    CHECK(selects("", bare));
    CHECK(selects("site=berlin", berlin_gw));
    CHECK(selects("site==berlin", berlin_gw));
    CHECK_FALSE(selects("site=berlin", paris_test));
    CHECK(selects("site=berlin,role!=test", berlin_gw));
    CHECK_FALSE(selects("site=berlin,role!=test", paris_test));
    CHECK(selects("role!=test", bare));  // != holds for an agent without the key
    CHECK(selects("site in (berlin, paris)", paris_test));
    CHECK(selects("site in (berlin,paris),role notin (test)", berlin_gw));
    CHECK_FALSE(selects("site notin (paris)", paris_test));
    CHECK(selects("site notin (paris)", bare));
    CHECK_FALSE(selects("site in (paris)", bare));
    CHECK(selects("canary", paris_test));
    CHECK_FALSE(selects("canary", berlin_gw));
    CHECK(selects("!canary", berlin_gw));
    CHECK_FALSE(selects("!canary", paris_test));
    CHECK(selects(" site = berlin ,  ! canary ", berlin_gw));
    // "in" is a word: a key starting with it is a key.
    CHECK(selects("inside", Labels{{"inside", "1"}}));
    CHECK(selects("index=1", Labels{{"index", "1"}}));
}

TEST_CASE("a bad selector is refused naming it and what is wrong") {
    CHECK(error_of_selector("site in (a") == "selector 'site in (a': missing ')'");
    CHECK(error_of_selector("site in a") == "selector 'site in a': '(' expected after 'site in'");
    CHECK(error_of_selector("site notin a") ==
          "selector 'site notin a': '(' expected after 'site notin'");
    CHECK(error_of_selector("Site=a") ==
          "selector 'Site=a': label key 'Site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_selector("site=") ==
          "selector 'site=': the value of 'site' must match [a-z0-9][a-z0-9_.-]{0,63}");
    CHECK(error_of_selector("site!berlin") ==
          "selector 'site!berlin': '!' after 'site' must be '!='");
    CHECK(error_of_selector("a=1 b=2") == "selector 'a=1 b=2': ',' expected between requirements");
    CHECK(error_of_selector(",") == "selector ',': a label key is missing");
    CHECK(error_of_selector("a=1,") == "selector 'a=1,': a label key is missing");
    CHECK(error_of_selector("site in ()") ==
          "selector 'site in ()': a value in the set of 'site' must match "
          "[a-z0-9][a-z0-9_.-]{0,63}");
}
