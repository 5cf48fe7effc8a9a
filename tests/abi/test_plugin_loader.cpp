#include <doctest/doctest.h>

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "fake_host_services.hpp"
#include "plugin/plugin_context.hpp"

using namespace lucid::host;
using lucid::test::FakeHostServices;

namespace {

const std::string kBase = "lucid/agents/dev1/components/";

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a well-behaved plugin runs through create, start, stop, destroy and unload") {
    FakeHostServices services;
    services.set_config("good", R"({"mode":"fast"})");
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_GOOD, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    auto& component = *loaded.value();
    auto started = component.start();
    REQUIRE_MESSAGE(started.ok(), started.error().message);
    CHECK(component.status().state == lucid::host::ComponentState::running);

    // The one-shot timer publishes the config as an event in the envelope.
    auto tick = services.wait_for_publish(kBase + "good/evt/tick");
    REQUIRE(tick);
    CHECK(contains(tick->payload, R"("type":"tick")"));
    CHECK(contains(tick->payload, R"("source":"lucid/agents/dev1/components/good")"));
    CHECK(contains(tick->payload, R"("correlation_id":null)"));
    CHECK(contains(tick->payload, R"("data":{"mode":"fast"})"));
    CHECK(contains(tick->payload, R"("id":")"));
    CHECK(contains(tick->payload, R"("ts":")"));

    // A message on a subscribed relative filter reaches the plugin, which republishes it.
    CHECK(component.deliver_message(kBase + "good/in/x/y", "payload-1", 1, false));
    CHECK_FALSE(component.deliver_message(kBase + "other/in/x", "nope", 1, false));
    auto out = services.wait_for_publish(kBase + "good/out");
    REQUIRE(out);
    CHECK(out->payload == "payload-1");

    // A command is answered on evt/{action}_result with the plugin's members.
    component.take_command("add", R"({"request_id":"r1","a":2,"b":3})");
    auto result = services.wait_for_publish(kBase + "good/evt/add_result");
    REQUIRE(result);
    CHECK(contains(result->payload, R"("request_id":"r1")"));
    CHECK(contains(result->payload, R"("ok":true)"));
    CHECK(contains(result->payload, R"("sum":5)"));

    // Config changes are validated by the plugin; a refused one is not stored.
    auto refused = component.propose_config(R"({"mode":"bad"})");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "mode bad is refused");
    CHECK(services.read_config("good") == R"({"mode":"fast"})");
    CHECK(component.propose_config(R"({"mode":"slow"})").ok());
    CHECK(services.read_config("good") == R"({"mode":"slow"})");

    // One the plugin accepts but the disk cannot store is refused, and the plugin gets the
    // stored config back: what runs is what the next start gets.
    services.fail_persist("No space left on device");
    auto unsaved = component.propose_config(R"({"mode":"eco"})");
    REQUIRE_FALSE(unsaved.ok());
    CHECK(unsaved.error().message == "cannot save config: No space left on device");
    CHECK(services.read_config("good") == R"({"mode":"slow"})");
    const auto applied = services.payloads_on(kBase + "good/evt/applied");
    REQUIRE(applied.size() == 3);
    CHECK(contains(applied[1], R"("data":{"mode":"eco"})"));
    CHECK(contains(applied[2], R"("data":{"mode":"slow"})"));
    services.fail_persist("");

    CHECK(component.stop().ok());
    auto unloaded = component.unload();
    CHECK(unloaded.unmapped);
    CHECK_FALSE(unloaded.restart_required);
    CHECK_FALSE(PluginLibrary::is_mapped(LUCID_TEST_PLUGIN_GOOD));
    CHECK(services.subscription_count("good") == 0);
    CHECK(component.status().state == lucid::host::ComponentState::stopped);
}

TEST_CASE("a command with malformed JSON or an unknown action still gets a result") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_GOOD, services);
    REQUIRE(loaded.ok());
    REQUIRE(loaded.value()->start().ok());
    loaded.value()->take_command("add", "{not json");
    auto bad = services.wait_for_publish(kBase + "good/evt/add_result");
    REQUIRE(bad);
    CHECK(contains(bad->payload, R"("ok":false)"));
    CHECK(contains(bad->payload, R"("error":"invalid JSON)"));
    loaded.value()->take_command("nope", R"({"request_id":"r2"})");
    auto unknown = services.wait_for_publish(kBase + "good/evt/nope_result");
    REQUIRE(unknown);
    CHECK(contains(unknown->payload, "unknown command: nope"));
}

TEST_CASE("a wrong ABI major in the manifest is refused before any plugin code runs") {
    FakeHostServices services;
    ::unsetenv("LUCID_TEST_ABI_MISMATCH_RAN");
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_ABI_MISMATCH, services);
    REQUIRE_FALSE(loaded.ok());
    CHECK(contains(loaded.error().message, LUCID_TEST_PLUGIN_ABI_MISMATCH));
    CHECK(contains(loaded.error().message,
                   "plugin ABI 2.0 is not supported; this host expects ABI 1.x"));
    CHECK(std::getenv("LUCID_TEST_ABI_MISMATCH_RAN") == nullptr);  // its constructor never ran
    CHECK_FALSE(PluginLibrary::is_mapped(LUCID_TEST_PLUGIN_ABI_MISMATCH));
}

TEST_CASE("a descriptor declaring another ABI major is refused and unloaded") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_DESCRIPTOR_ABI, services);
    REQUIRE_FALSE(loaded.ok());
    CHECK(contains(loaded.error().message, LUCID_TEST_PLUGIN_DESCRIPTOR_ABI));
    CHECK(contains(loaded.error().message, "plugin ABI 2.0 is not supported"));
    CHECK_FALSE(PluginLibrary::is_mapped(LUCID_TEST_PLUGIN_DESCRIPTOR_ABI));
}

TEST_CASE("a library without the entry point is refused clearly") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_NO_ENTRY, services);
    REQUIRE_FALSE(loaded.ok());
    CHECK(contains(loaded.error().message, "missing entry point lucid_plugin_entry"));
}

TEST_CASE("a plugin that throws in start is isolated and reported failed") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_THROWS, services);
    REQUIRE(loaded.ok());
    auto started = loaded.value()->start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().message == "start failed: sensor missing");
    CHECK(loaded.value()->status().state == lucid::host::ComponentState::failed);
    CHECK(loaded.value()->status().error == "start failed: sensor missing");
    CHECK(services.statuses().back().second.state == lucid::host::ComponentState::failed);
    // What it registered before throwing is forgotten; nothing is delivered to it any more.
    CHECK(services.subscription_count("throws") == 0);
    CHECK_FALSE(loaded.value()->deliver_message(kBase + "throws/in", "x", 0, false));
    CHECK(loaded.value()->stop().ok());  // nothing to stop
    CHECK(loaded.value()->unload().unmapped);
}

TEST_CASE("an older, smaller descriptor is zero-filled: the fields it lacks are not read") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_OLD_STRUCT, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded.value()->start().ok());
    // The bytes after its struct_size hold a config_changed that refuses; it must not run.
    CHECK(loaded.value()->propose_config(R"({"x":1})").ok());
    CHECK(loaded.value()->stop().ok());
    CHECK(loaded.value()->unload().unmapped);
}

TEST_CASE("a newer, larger descriptor of the same major is truncated and runs") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_FUTURE_STRUCT, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded.value()->start().ok());
    auto hello = services.wait_for_publish(kBase + "future-struct/hello");
    REQUIRE(hello);
    CHECK(hello->payload == "future");
    CHECK(loaded.value()->stop().ok());
    CHECK(loaded.value()->unload().unmapped);
}

TEST_CASE("the cpu plugin publishes usage and load on its configured interval, then unloads") {
    FakeHostServices services;
    services.set_config("cpu", R"({"interval_s":1})");
    auto loaded = PluginContext::load(LUCID_PLUGIN_CPU, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded.value()->start().ok());
    auto event = services.wait_for_publish(kBase + "cpu/evt/cpu", std::chrono::seconds(5));
    REQUIRE(event);
    CHECK(contains(event->payload, R"("type":"cpu")"));
    CHECK(contains(event->payload, R"("load1":)"));
    CHECK(contains(event->payload, R"("usage_percent":)"));
    auto refused = loaded.value()->propose_config(R"({"interval_s":0})");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "interval_s must be an integer between 1 and 3600");
    CHECK(loaded.value()->stop().ok());
    CHECK(loaded.value()->unload().unmapped);
}

TEST_CASE("a library that stays mapped after unload is reported as needing a restart") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_PLUGIN_ECHO, services);
    REQUIRE(loaded.ok());
    REQUIRE(loaded.value()->start().ok());
    // A second reference (as a leaked handle or a NODELETE flag would) keeps it mapped.
    void* extra = dlopen(LUCID_PLUGIN_ECHO, RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(extra != nullptr);
    CHECK(loaded.value()->stop().ok());
    auto report = loaded.value()->unload();
    CHECK_FALSE(report.unmapped);
    CHECK(report.restart_required);
    dlclose(extra);
    CHECK_FALSE(PluginLibrary::is_mapped(LUCID_PLUGIN_ECHO));
}

TEST_CASE("a plain C plugin declared with LUCID_PLUGIN_C loads, runs and unloads") {
    FakeHostServices services;
    auto loaded = PluginContext::load(LUCID_TEST_PLUGIN_C, services);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded.value()->start().ok());
    auto hello = services.wait_for_publish(kBase + "c-plugin/hello");
    REQUIRE(hello);
    CHECK(hello->payload == "hello from C");
    CHECK(loaded.value()->stop().ok());
    CHECK(loaded.value()->unload().unmapped);
}
