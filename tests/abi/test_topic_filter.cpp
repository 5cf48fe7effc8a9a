#include <doctest/doctest.h>

#include "mqtt/topic_filter.hpp"
#include "plugin/plugin_topics.hpp"

using namespace lucid::host;
using namespace lucid::host::mqtt;

TEST_CASE("a filter without wildcards matches only the same topic") {
    CHECK(topic_matches("a/b", "a/b"));
    CHECK_FALSE(topic_matches("a/b", "a/b/c"));
    CHECK_FALSE(topic_matches("a/b", "a"));
    CHECK_FALSE(topic_matches("a/b", "a/bc"));
}

TEST_CASE("plus matches exactly one level, including an empty one") {
    CHECK(topic_matches("a/+/c", "a/b/c"));
    CHECK(topic_matches("a/+", "a/"));
    CHECK_FALSE(topic_matches("a/+", "a"));
    CHECK_FALSE(topic_matches("a/+/c", "a/b/d/c"));
    CHECK(topic_matches("+/+", "x/y"));
}

TEST_CASE("hash matches the parent level and everything below it") {
    CHECK(topic_matches("a/#", "a"));
    CHECK(topic_matches("a/#", "a/b/c/d"));
    CHECK(topic_matches("#", "anything/at/all"));
    CHECK_FALSE(topic_matches("a/#", "b/a"));
}

TEST_CASE("topics starting with $ do not match a leading wildcard") {
    CHECK_FALSE(topic_matches("#", "$SYS/broker"));
    CHECK_FALSE(topic_matches("+/broker", "$SYS/broker"));
    CHECK(topic_matches("$SYS/#", "$SYS/broker"));
}

TEST_CASE("filters with misplaced wildcards are invalid") {
    CHECK(is_valid_topic_filter("a/+/#"));
    CHECK_FALSE(is_valid_topic_filter("a/#/b"));
    CHECK_FALSE(is_valid_topic_filter("a/b+"));
    CHECK_FALSE(is_valid_topic_filter("a#"));
    CHECK_FALSE(is_valid_topic_filter(""));
    CHECK_FALSE(is_valid_topic_name("a/+"));
    CHECK(is_valid_topic_name("a/b"));
}

TEST_CASE("relative plugin topics resolve under the component, absolute ones verbatim") {
    CHECK(resolve_publish_topic("lucid/agents/d", "cpu", "load").topic ==
          "lucid/agents/d/components/cpu/load");
    CHECK(resolve_publish_topic("lucid/agents/d", "cpu", "/site/alerts").topic == "site/alerts");
    CHECK(resolve_subscription_filter("lucid/agents/d", "cpu", "cmd/+").topic ==
          "lucid/agents/d/components/cpu/cmd/+");
    CHECK(resolve_subscription_filter("lucid/agents/d", "cpu", "/lucid/agents/+/status").topic ==
          "lucid/agents/+/status");
}

TEST_CASE("a plugin may not publish into the agent's own tree, with wildcards, or nowhere") {
    CHECK_FALSE(resolve_publish_topic("lucid/agents/d", "cpu", "/lucid/agents/d/status").ok());
    CHECK_FALSE(resolve_publish_topic("lucid/agents/d", "cpu", "a/#").ok());
    CHECK_FALSE(resolve_publish_topic("lucid/agents/d", "cpu", "").ok());
    CHECK_FALSE(resolve_subscription_filter("lucid/agents/d", "cpu", "a/#/b").ok());
}
