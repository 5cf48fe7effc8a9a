#include <doctest/doctest.h>

#include <dlfcn.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "fake_host_services.hpp"
#include "plugin/plugin_context.hpp"
#include "plugin/plugin_worker.hpp"

using namespace lucid::host;
using lucid::test::FakeHostServices;

TEST_CASE("a plugin blocked in a handler does not delay another plugin") {
    FakeHostServices services;
    auto slow = PluginContext::load(LUCID_TEST_PLUGIN_SLOW, services);
    auto echo = PluginContext::load(LUCID_PLUGIN_ECHO, services);
    REQUIRE_MESSAGE(slow.ok(), slow.error().message);
    REQUIRE_MESSAGE(echo.ok(), echo.error().message);
    REQUIRE(slow.value()->start().ok());
    REQUIRE(echo.value()->start().ok());

    const std::string base = "lucid/agents/dev1/components/";
    // The caller (standing in for the MQTT network thread) returns at once even though the
    // slow plugin's handler blocks.
    auto before = std::chrono::steady_clock::now();
    slow.value()->take_command("block", R"({"request_id":"b1"})");
    echo.value()->take_command("echo", R"({"request_id":"e1","message":"hi"})");
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(1));

    auto answer = services.wait_for_publish(base + "echo/evt/echo_result", std::chrono::seconds(5));
    REQUIRE(answer);
    CHECK(answer->payload.find(R"("message":"hi")") != std::string::npos);
    // The slow one is still blocked: its result has not been published.
    CHECK(services.count_published(base + "slow/evt/block_result") == 0);

    // Release it through the symbol it exports, then it answers.
    void* handle = dlopen(LUCID_TEST_PLUGIN_SLOW, RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(handle != nullptr);
    void* symbol = dlsym(handle, "lucid_test_slow_release");
    REQUIRE(symbol != nullptr);
    reinterpret_cast<void (*)()>(symbol)();
    dlclose(handle);
    auto released = services.wait_for_publish(base + "slow/evt/block_result");
    REQUIRE(released);
    CHECK(released->payload.find(R"("released":true)") != std::string::npos);

    CHECK(slow.value()->stop().ok());
    CHECK(echo.value()->stop().ok());
    CHECK(echo.value()->unload().unmapped);
}

TEST_CASE("a worker runs tasks in order and timers on the same thread") {
    PluginWorker worker("test");
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
        worker.post([&, i] {
            std::lock_guard<std::mutex> lock(mutex);
            order.push_back(i);
            cv.notify_all();
        });
    }
    int ticks = 0;
    std::uint64_t timer =
        worker.start_timer(std::chrono::milliseconds(1), std::chrono::milliseconds(1), [&] {
            std::lock_guard<std::mutex> lock(mutex);
            ++ticks;
            cv.notify_all();
        });
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5),
                        [&] { return order.size() == 5 && ticks >= 3; }));
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    lock.unlock();
    CHECK(worker.cancel_timer(timer));
    int after_cancel = 0;
    {
        std::lock_guard<std::mutex> guard(mutex);
        after_cancel = ticks;
    }
    // A task queued after the cancel runs after any tick that was pending: no tick may follow.
    CHECK(worker.run_and_wait([] {}, std::chrono::seconds(5)));
    std::lock_guard<std::mutex> guard(mutex);
    CHECK(ticks == after_cancel);
    CHECK_FALSE(worker.cancel_timer(timer));
}

TEST_CASE("a closed worker refuses new tasks and never runs the queued ones") {
    PluginWorker worker("test");
    std::mutex gate;
    std::unique_lock<std::mutex> hold(gate);
    bool second_ran = false;
    worker.post([&] { std::lock_guard<std::mutex> wait(gate); });  // blocks until released
    worker.post([&] { second_ran = true; });
    worker.close();
    hold.unlock();
    CHECK(worker.shutdown(std::chrono::seconds(5)));
    CHECK_FALSE(second_ran);
    CHECK_FALSE(worker.post([] {}));
}
