// ABI 1.1, the first minor bump (lucid/plugin.h's bump policy): a plugin built against the 1.0
// header runs unchanged on this host, and a 1.1 plugin finds the 1.1 functions with
// LUCID_HOST_HAS on this host and goes without them on a table cut to 1.0 (what an older agent
// offers). Real .so files, loaded as the agent loads them.
#include <doctest/doctest.h>

#include <dlfcn.h>

#include <cmath>
#include <cstddef>
#include <string>

#include "fake_host_services.hpp"
#include "plugin/plugin_context.hpp"

using namespace lucid::host;
using lucid::test::FakeHostServices;

namespace {

const std::string kComponentsRoot = "lucid/agents/dev1/components/";

// An envelope as another plugin's publish_event() would carry it.
std::string envelope(const std::string& id) {
    return R"({"id":")" + id +
           R"(","type":"t","ts":"2026-12-01T00:00:00.000Z","source":"s",)"
           R"("correlation_id":null,"data":1})";
}

// The plugin's descriptor, from a library the test keeps loaded.
struct Library {
    void* handle = nullptr;
    const lucid_plugin_descriptor* descriptor = nullptr;
    explicit Library(const char* file) {
        handle = ::dlopen(file, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(handle != nullptr, ::dlerror());
        auto entry = reinterpret_cast<lucid_plugin_entry_fn>(::dlsym(handle, "lucid_plugin_entry"));
        REQUIRE(static_cast<bool>(entry));
        descriptor = entry();
        REQUIRE(descriptor != nullptr);
    }
    ~Library() { ::dlclose(handle); }
};

}  // namespace

TEST_CASE("1.1 fills two reserved slots of the host table: its size and older offsets hold") {
    // 1.0: struct_size, abi_version, 13 functions, reserved[8]. 1.1 takes reserved[0] and [1].
    CHECK(sizeof(lucid_host_api) == 2 * sizeof(uint32_t) + 21 * sizeof(void (*)(void)));
    CHECK(offsetof(lucid_host_api, publish_metric) ==
          offsetof(lucid_host_api, call_respond) + sizeof(void (*)(void)));
    CHECK(offsetof(lucid_host_api, subscribe_with) ==
          offsetof(lucid_host_api, publish_metric) + sizeof(void (*)(void)));
    CHECK(LUCID_PLUGIN_ABI_VERSION == 0x10001u);
    const lucid_host_api& table = PluginContext::api_table();
    CHECK(table.abi_version == LUCID_PLUGIN_ABI_VERSION);
    CHECK(LUCID_HOST_HAS(&table, publish_metric));
    CHECK(LUCID_HOST_HAS(&table, subscribe_with));
    for (auto* slot : table.reserved) CHECK_FALSE(static_cast<bool>(slot));
}

TEST_CASE("a plugin built against the 1.0 header runs unchanged on the 1.1 host") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_ABI_1_0, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    auto& component = *loaded.value();
    REQUIRE(component.start().ok());
    // It sees the 1.1 table through its 1.0 struct: same size, the new functions in what it
    // knows as reserved slots (never called).
    auto seen = services.wait_for_publish(kComponentsRoot + "abi10/seen");
    REQUIRE(seen);
    CHECK(seen->payload ==
          std::to_string(LUCID_PLUGIN_ABI_VERSION) + " " + std::to_string(sizeof(lucid_host_api)));
    // Its 1.0 subscribe delivers every copy: no de-duplication it did not ask for.
    CHECK(component.deliver_message(kComponentsRoot + "abi10/in", envelope("e-1"), 1, false));
    CHECK(component.deliver_message(kComponentsRoot + "abi10/in", envelope("e-1"), 1, false));
    CHECK(component.deliver_message(kComponentsRoot + "abi10/in", "last", 1, false));
    const auto out = services.wait_for_count(kComponentsRoot + "abi10/out", 3);
    REQUIRE(out.size() == 3);
    CHECK(out[2] == "last");
    REQUIRE(component.stop().ok());
    CHECK(component.status().duplicates_dropped == 0);
    CHECK(component.unload().unmapped);
}

TEST_CASE("a 1.1 plugin uses publish_metric and a de-duplicated subscribe on the 1.1 host") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_ABI_1_1, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    auto& component = *loaded.value();
    REQUIRE(component.start().ok());
    auto abi = services.wait_for_publish(kComponentsRoot + "abi11/abi");
    REQUIRE(abi);
    CHECK(abi->payload == "1 1");
    const auto metrics = services.wait_for_metrics(1);
    REQUIRE(metrics.size() == 1);
    CHECK(metrics[0].component_id == "abi11");
    CHECK(metrics[0].metric == "answer");
    CHECK(metrics[0].value == 42.0);
    CHECK(metrics[0].unit == "units");
    CHECK(services.payloads_on(kComponentsRoot + "abi11/evt/answer").empty());

    // The same envelope twice is handed over once; a payload without an envelope id always.
    for (const auto& payload : {envelope("e-1"), envelope("e-1"), std::string("raw"),
                                std::string("raw"), envelope("e-2")}) {
        CHECK(component.deliver_message(kComponentsRoot + "abi11/in", payload, 1, false));
    }
    // e-2 comes last: once it is out, everything before it was handled.
    auto out = services.wait_for_count(kComponentsRoot + "abi11/out", 4);
    REQUIRE(out.size() == 4);
    REQUIRE(out.back() == envelope("e-2"));
    REQUIRE(component.stop().ok());
    out = services.payloads_on(kComponentsRoot + "abi11/out");
    REQUIRE(out.size() == 4);
    CHECK(out[0] == envelope("e-1"));
    CHECK(out[1] == "raw");
    CHECK(out[2] == "raw");
    CHECK(out[3] == envelope("e-2"));
    CHECK(component.status().duplicates_dropped == 1);
    CHECK(services.statuses().back().second.duplicates_dropped == 1);
    CHECK(component.unload().unmapped);
}

TEST_CASE("a 1.1 plugin checking LUCID_HOST_HAS goes without 1.1 on a table cut to 1.0") {
    Library library(LUCID_TEST_PLUGIN_ABI_1_1);
    // What a 1.0 agent hands over: the same size, the slots NULL; and a table that ends where
    // 1.0's functions end (a hypothetical smaller host): LUCID_HOST_HAS must refuse both, the
    // second by its size alone although the pointers are there.
    lucid_host_api nulls = PluginContext::api_table();
    nulls.abi_version = (1u << 16) | 0u;
    nulls.publish_metric = nullptr;
    nulls.subscribe_with = nullptr;
    lucid_host_api short_table = PluginContext::api_table();
    short_table.abi_version = (1u << 16) | 0u;
    short_table.struct_size = offsetof(lucid_host_api, publish_metric);

    for (const lucid_host_api* cut : {&nulls, &short_table}) {
        CAPTURE(cut->struct_size);
        FakeHostServices services;
        PluginCallbackSite site;
        site.api = cut;
        PluginContext component(*library.descriptor, "abi11", "1.0.0", services,
                                std::chrono::seconds(10), {}, site);
        REQUIRE(component.start().ok());
        auto abi = services.wait_for_publish(kComponentsRoot + "abi11/abi");
        REQUIRE(abi);
        CHECK(abi->payload == "0 0");
        // The fallbacks: an event instead of the metric, a plain subscription.
        CHECK(services.wait_for_publish(kComponentsRoot + "abi11/evt/answer"));
        CHECK(services.wait_for_metrics(0).empty());
        CHECK(component.deliver_message(kComponentsRoot + "abi11/in", envelope("e-1"), 1, false));
        CHECK(component.deliver_message(kComponentsRoot + "abi11/in", envelope("e-1"), 1, false));
        CHECK(services.wait_for_count(kComponentsRoot + "abi11/out", 2).size() == 2);
        REQUIRE(component.stop().ok());
        CHECK(component.status().duplicates_dropped == 0);
    }
}

TEST_CASE("publish_metric and subscribe_with refuse what the contract refuses") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_ABI_1_1, services);
    REQUIRE(loaded.ok());
    auto& c = *loaded.value();
    REQUIRE(c.start().ok());
    CHECK(c.publish_metric(nullptr, 1, "u") == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.publish_metric("Bad.Name", 1, "u") == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.publish_metric("a/b", 1, "u") == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.publish_metric("nan", std::nan(""), "u") == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.publish_metric("inf", HUGE_VAL, "u") == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.publish_metric("no_unit", 1, nullptr) == LUCID_OK);
    CHECK(services.wait_for_metrics(2).back().unit.empty());

    auto fn = [](void*, const lucid_message*) { return LUCID_OK; };
    uint64_t id = 0;
    lucid_subscribe_options future{sizeof(lucid_subscribe_options), 0x80u};
    CHECK(c.subscribe_with("x", 1, &future, fn, nullptr, &id) == LUCID_ERR_UNSUPPORTED);
    lucid_subscribe_options tiny{4, LUCID_SUBSCRIBE_DEDUP};
    CHECK(c.subscribe_with("x", 1, &tiny, fn, nullptr, &id) == LUCID_ERR_INVALID_ARGUMENT);
    CHECK(c.subscribe_with("x", 1, nullptr, fn, nullptr, &id) == LUCID_OK);
    REQUIRE(c.stop().ok());
    CHECK(c.publish_metric("late", 1, "u") == LUCID_ERR_STATE);
}
