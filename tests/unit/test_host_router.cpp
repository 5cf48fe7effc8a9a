#include <doctest/doctest.h>

#include "mqtt/message_router.hpp"
#include "mqtt/subscription_set.hpp"

using namespace lucid::host::mqtt;

TEST_CASE("routes a message to every handler whose filter matches, wildcards included") {
    MessageRouter router;
    std::vector<std::string> seen;
    router.add("a/+/c", [&](const MqttMessage& m) { seen.push_back("plus:" + m.topic); });
    router.add("a/#", [&](const MqttMessage& m) { seen.push_back("hash:" + m.topic); });
    router.add("x/y", [&](const MqttMessage& m) { seen.push_back("exact:" + m.topic); });
    CHECK(router.dispatch({"a/b/c", "p", 1, false}) == 2);
    CHECK(seen == std::vector<std::string>{"plus:a/b/c", "hash:a/b/c"});
    CHECK(router.dispatch({"z", "p", 1, false}) == 0);
}

TEST_CASE("a removed route receives nothing more and a throwing handler does not stop others") {
    MessageRouter router;
    int calls = 0;
    auto id = router.add("t", [&](const MqttMessage&) { ++calls; });
    router.add("t", [](const MqttMessage&) { throw std::runtime_error("boom"); });
    CHECK(router.dispatch({"t", "", 0, false}) == 2);
    router.remove(id);
    CHECK(router.dispatch({"t", "", 0, false}) == 1);
    CHECK(calls == 1);
}

TEST_CASE("subscriptions are reference-counted per filter") {
    SubscriptionSet set;
    CHECK(set.add("a/#", 1));
    CHECK_FALSE(set.add("a/#", 1));  // shared: no second SUBSCRIBE
    CHECK(set.add("b", 0));
    CHECK(set.add("b", 1));  // a higher QoS must be re-sent
    CHECK(set.all().size() == 2);
    CHECK_FALSE(set.remove("a/#"));
    CHECK(set.remove("a/#"));
    CHECK_FALSE(set.remove("never"));
    REQUIRE(set.all().size() == 1);
    CHECK(set.all()[0].filter == "b");
    CHECK(set.all()[0].qos == 1);
}

TEST_CASE("an UNSUBSCRIBE stays owed until the broker has it, unless the filter is wanted again") {
    SubscriptionSet set;
    set.add("a/#", 1);
    set.add("b", 1);
    set.add("c", 1);
    CHECK(set.owed_unsubscribes().empty());
    CHECK(set.remove("a/#"));
    CHECK(set.remove("b"));
    CHECK(set.remove("c"));
    CHECK(set.owed_unsubscribes() == std::vector<std::string>{"a/#", "b", "c"});
    set.unsubscribed("a/#");  // sent
    set.add("b", 1);          // subscribed again before it was sent: nothing to undo
    CHECK(set.owed_unsubscribes() == std::vector<std::string>{"c"});
}
