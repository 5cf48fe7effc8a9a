// The desired state's document (contract/desired_document.hpp) and its reconciler
// (fleet/desired_state.hpp) with a fake component target: the rules of revisions, refusals,
// exclusive removal, platforms and resuming after a restart.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "contract/deployment_report.hpp"
#include "contract/desired_document.hpp"
#include "fleet/desired_state.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
using lucid::test::TempDir;

namespace {

std::string error_of(const std::string& payload) {
    auto doc = contract::parse_desired_document(payload);
    return doc ? "" : doc.error().message;
}

// Components in memory; every call is recorded as "<op> <cid>[ <detail>]".
struct FakeTarget final : fleet::DesiredTarget {
    std::map<std::string, fleet::InstalledComponent> components;
    std::vector<std::string> calls;
    std::map<std::string, std::string> failing;  // cid → install error

    std::map<std::string, fleet::InstalledComponent> installed() const override {
        return components;
    }
    Status check_install(const fleet::DesiredInstallStep& step) const override {
        if (step.source_json.find("\"bad\"") != std::string::npos) {
            return Error{Errc::invalid, "validation_error: bad source"};
        }
        return done();
    }
    Status install(const fleet::DesiredInstallStep& step) override {
        calls.push_back("install " + step.component_id + " " + step.version +
                        (step.allow_downgrade ? " allow_downgrade" : "") +
                        (step.rollback_permit ? " permit " + *step.rollback_permit : "") +
                        (step.rollout.empty() ? "" : " rollout " + step.rollout) +
                        (step.rollback_of.empty() ? "" : " rollback_of " + step.rollback_of));
        if (auto it = failing.find(step.component_id); it != failing.end()) {
            return Error{Errc::plugin, it->second};
        }
        components[step.component_id] = {step.version,
                                         true,
                                         step.config_json.value_or("{}"),
                                         true,
                                         step.isolation.value_or("in_process"),
                                         step.limits.value_or(lucid::registry::Limits{}),
                                         step.run_as.value_or(lucid::registry::RunAs{})};
        return done();
    }
    Status uninstall(std::uint64_t, const std::string& cid) override {
        calls.push_back("uninstall " + cid);
        components.erase(cid);
        return done();
    }
    Status set_enabled(std::uint64_t, const std::string& cid, bool enabled) override {
        calls.push_back(std::string(enabled ? "enable " : "disable ") + cid);
        components[cid].enabled = enabled;
        components[cid].running = enabled;
        return done();
    }
    Status set_config(std::uint64_t, const std::string& cid, const std::string& json) override {
        calls.push_back("config " + cid + " " + json);
        components[cid].config_json = json;
        return done();
    }
    Status set_isolation(std::uint64_t, const std::string& cid,
                         const std::optional<std::string>& isolation,
                         const std::optional<lucid::registry::Limits>& limits,
                         const std::optional<lucid::registry::RunAs>& run_as) override {
        calls.push_back("isolate " + cid + " " + isolation.value_or("-"));
        if (isolation) components[cid].isolation = *isolation;
        if (limits) components[cid].limits = *limits;
        if (run_as) components[cid].run_as = *run_as;
        return done();
    }
};

const char* const kPlatform = "linux_x86_64";

std::string doc(int revision, const std::string& components, const std::string& extra = "") {
    return "{\"revision\":" + std::to_string(revision) + ",\"components\":{" + components + "}" +
           extra + "}";
}

std::string echo(const std::string& version, const std::string& extra = "",
                 const std::string& platform = kPlatform) {
    return R"("echo":{"version":")" + version + R"(","artifacts":{")" + platform +
           R"(":{"source":{"type":"url","url":"file:///e.so","sha256":"x"}}})" + extra + "}";
}

struct Rig {
    TempDir dir;
    FakeTarget target;
    std::vector<std::string> published;
    std::unique_ptr<fleet::DesiredState> desired;
    fleet::AgentTarget* agent = nullptr;  // the agent's self-update, when a test gives one

    Rig() { restart(); }
    void restart() {
        desired = std::make_unique<fleet::DesiredState>(
            fleet::DesiredStateSettings{dir.path() / "deployment.json", kPlatform}, target,
            [this](const std::string& p) { published.push_back(p); });
        desired->set_agent_target(agent);
    }
    void update_self_with(fleet::AgentTarget& target_of_agent) {
        agent = &target_of_agent;
        desired->set_agent_target(agent);
    }
    contract::Deployment apply(const std::string& payload) {
        desired->offer(payload);
        desired->apply_offered();
        return report();
    }
    contract::Deployment report() const {
        return contract::parse_deployment(desired->payload()).value();
    }
};

}  // namespace

TEST_CASE("desired document: the contract's shape, every error exact") {
    auto parsed = contract::parse_desired_document(
        doc(7, echo("1.2.0", R"(,"enabled":false,"config":{"a":1})"), R"(,"remove":["old"])"));
    REQUIRE(parsed);
    CHECK(parsed.value().revision == 7);
    CHECK_FALSE(parsed.value().exclusive);
    const auto& e = parsed.value().components.at("echo");
    CHECK(e.version == "1.2.0");
    CHECK_FALSE(e.enabled);
    CHECK(e.config_json == std::string(R"({"a":1})"));
    CHECK(parsed.value().remove == std::vector<std::string>{"old"});
    CHECK(contract::source_for_platform(e.sources, kPlatform));
    CHECK(contract::source_for_platform(e.sources, "linux_aarch64").error().message ==
          "no artifact for platform linux_aarch64 (the document has linux_x86_64)");

    CHECK(error_of("{") ==
          "invalid desired state: invalid JSON: Missing a name for object "
          "member. at offset 1");
    CHECK(error_of("[]") == "invalid desired state: the document must be a JSON object");
    CHECK(error_of("{}") ==
          "invalid desired state: revision must be an integer from 1 to 9007199254740991");
    CHECK(error_of(R"({"revision":0})") ==
          "invalid desired state: revision must be an integer from 1 to 9007199254740991");
    CHECK(error_of(R"({"revision":1.5})") ==
          "invalid desired state: revision must be an integer from 1 to 9007199254740991");
    CHECK(error_of(R"({"revision":9007199254740992})") ==
          "invalid desired state: revision must be an integer from 1 to 9007199254740991");
    CHECK(error_of(R"({"revision":1,"revision":2})") ==
          "invalid desired state: duplicate key 'revision'");
    CHECK(error_of(R"({"revison":1})") == "invalid desired state: unknown field 'revison'");
    CHECK(error_of(doc(1, echo("1.0.0", R"(,"enabeld":true)"))) ==
          "invalid desired state: unknown field 'enabeld' in components.echo");
    CHECK(error_of(doc(1, echo("1.0"))) ==
          "invalid desired state: components.echo.version '1.0' is not a semantic version");
    CHECK(error_of(doc(1, R"("Echo":{})")) ==
          "invalid desired state: components key 'Echo' is not a component id "
          "([a-z0-9][a-z0-9_-]{0,63})");
    CHECK(error_of(doc(1, R"("echo":{"version":"1.0.0"})")) ==
          "invalid desired state: components.echo.artifacts is missing");
    CHECK(error_of(doc(1, R"("echo":{"version":"1.0.0","artifacts":{"x":{"source":1}}})")) ==
          "invalid desired state: components.echo.artifacts.x.source must be an object");
    CHECK(error_of(doc(1, echo("1.0.0", R"(,"config":[])"))) ==
          "invalid desired state: components.echo.config must be an object");
    CHECK(error_of(doc(1, echo("1.0.0"), R"(,"remove":["echo"])")) ==
          "invalid desired state: 'echo' is both in components and in remove");
    CHECK(error_of(doc(1, "", R"(,"exclusive":"yes")")) ==
          "invalid desired state: exclusive must be true or false");
    // Version floors (contract §8.12): a permission per component, the rollout per document.
    auto floors = contract::parse_desired_document(
        doc(2, echo("1.0.0", R"(,"allow_downgrade":true)"), R"(,"rollout":"r-1")"));
    REQUIRE(floors);
    CHECK(floors.value().components.at("echo").allow_downgrade);
    CHECK(floors.value().rollout == "r-1");
    CHECK(floors.value().rollback_of.empty());
    CHECK(error_of(doc(1, echo("1.0.0", R"(,"allow_downgrade":null)"))) ==
          "invalid desired state: components.echo.allow_downgrade must be true or false");
    CHECK(error_of(doc(1, echo("1.0.0", R"(,"rollback_permit":"P")"))) ==
          "invalid desired state: components.echo.rollback_permit goes with allow_downgrade: true");
    CHECK(error_of(doc(1, echo("1.0.0", R"(,"allow_downgrade":true,"rollback_permit":{})"))) ==
          "invalid desired state: components.echo.rollback_permit must be a string");
    CHECK(error_of(doc(1, "", R"(,"rollout":"R 1")")) ==
          "invalid desired state: rollout must be a rollout id ([a-z0-9-]{1,64})");
    CHECK(error_of(doc(1, "", R"(,"rollback_of":7)")) ==
          "invalid desired state: rollback_of must be a rollout id ([a-z0-9-]{1,64})");
    CHECK(error_of(std::string("{\"revision\":1}\0x", 16)) ==
          "invalid desired state: invalid JSON: NUL byte at offset 14");
}

TEST_CASE("desired state: applied once, lower revisions and changed revisions refused") {
    Rig rig;
    CHECK(rig.report().state == "none");
    auto d = rig.apply(doc(3, echo("1.0.0")));
    CHECK(d.state == "converged");
    CHECK(d.revision == 3u);
    CHECK(d.components.at("echo").action == "install");
    CHECK(d.components.at("echo").outcome == "applied");
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});

    // The same document again (a reconnect): nothing.
    rig.apply(doc(3, echo("1.0.0")));
    CHECK(rig.target.calls.size() == 1);
    // Other bytes under the same revision: refused.
    d = rig.apply(doc(3, echo("2.0.0")));
    REQUIRE(d.rejected);
    CHECK(d.rejected->error ==
          "revision 3 was applied with other content; publish the change as a higher revision");
    // Lower: refused, and the refusal says which revision it was.
    d = rig.apply(doc(2, echo("0.1.0")));
    REQUIRE(d.rejected);
    CHECK(d.rejected->revision == 2u);
    CHECK(d.state == "converged");
    CHECK(rig.target.calls.size() == 1);

    // A restart keeps the applied revision: still no replayed downgrade.
    rig.restart();
    d = rig.apply(doc(2, echo("0.1.0")));
    CHECK(d.rejected);
    CHECK(rig.target.calls.size() == 1);

    // Empty: no desired state; nothing removed; the floor stays.
    d = rig.apply("");
    CHECK(d.state == "none");
    CHECK(rig.target.components.count("echo") == 1);
    d = rig.apply(doc(2, echo("0.1.0")));
    CHECK(d.rejected);
}

TEST_CASE("desired state: order of steps, exclusive, enable and config, platform missing") {
    Rig rig;
    rig.target.components["old"] = {"1.0.0", true, "{}", true, "in_process", {}};
    rig.target.components["other"] = {"1.0.0", true, "{}", true, "in_process", {}};
    rig.target.components["echo"] = {"1.0.0", true, R"({"a":1})", true, "in_process", {}};
    auto d = rig.apply(doc(1, echo("1.0.0", R"(,"enabled":false,"config":{"a":2})"),
                           R"(,"exclusive":true,"remove":["gone"])"));
    CHECK(d.state == "converged");
    CHECK(rig.target.calls == std::vector<std::string>{"uninstall old", "uninstall other",
                                                       "disable echo", R"(config echo {"a":2})"});
    CHECK(d.components.at("old").action == "remove");
    CHECK(d.components.at("gone").outcome == "unchanged");
    CHECK(d.components.at("echo").action == "disable");

    // Config that is the same JSON written otherwise changes nothing.
    rig.target.calls.clear();
    d = rig.apply(doc(2, echo("1.0.0", R"(,"enabled":false,"config":{ "a" : 2 })")));
    CHECK(rig.target.calls.empty());
    CHECK(d.components.at("echo").action == "none");
    CHECK(d.components.at("echo").outcome == "unchanged");

    // A downgrade is named so; a component without this platform fails alone.
    d = rig.apply(
        doc(3, echo("0.9.0") + "," +
                   R"("cpu":{"version":"1.0.0","artifacts":{"linux_aarch64":{"source":{}}}})"));
    CHECK(d.state == "failed");
    CHECK(d.components.at("echo").action == "downgrade");
    CHECK(d.components.at("echo").outcome == "applied");
    CHECK(d.components.at("cpu").outcome == "failed");
    CHECK(d.components.at("cpu").error ==
          "no artifact for platform linux_x86_64 (the document has linux_aarch64)");

    // The version floor's inputs reach the install: the permission, the rollout, its abort.
    rig.target.calls.clear();
    rig.apply(doc(4, echo("0.8.0", R"(,"allow_downgrade":true,"rollback_permit":"P")"),
                  R"(,"rollout":"r-1")"));
    rig.apply(doc(5, echo("0.7.0"), R"(,"rollback_of":"r-1")"));
    CHECK(rig.target.calls ==
          std::vector<std::string>{"install echo 0.8.0 allow_downgrade permit P rollout r-1",
                                   "install echo 0.7.0 rollback_of r-1"});
}

TEST_CASE("desired state: a component under a revoked key is installed again, same version") {
    Rig rig;
    rig.target.components["echo"] = {"1.0.0", true, "{}", true, "in_process", {}};
    rig.target.components["echo"].signer_revoked = true;
    auto d = rig.apply(doc(1, echo("1.0.0")));
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});
    CHECK(d.components.at("echo").action == "install");
    CHECK(d.state == "converged");
    // Once signed anew (the fake's install clears it), the same document changes nothing.
    rig.target.calls.clear();
    d = rig.apply(doc(2, echo("1.0.0")));
    CHECK(rig.target.calls.empty());
}

TEST_CASE("desired state: an invalid source refuses the whole document; failures reported") {
    Rig rig;
    auto d = rig.apply(doc(
        1, R"("echo":{"version":"1.0.0","artifacts":{"linux_x86_64":{"source":{"type":"bad"}}}})"));
    REQUIRE(d.rejected);
    CHECK(d.rejected->error ==
          "invalid desired state: components.echo.artifacts.linux_x86_64.source: "
          "validation_error: bad source");
    CHECK(d.state == "none");
    CHECK(rig.target.calls.empty());
    CHECK(d.rejected->revision == 1u);  // the revision it named, wrong elsewhere
    CHECK_FALSE(rig.apply(R"({"revision":0,"components":{}})").rejected->revision);

    rig.target.failing["echo"] = "start failed: boom";
    d = rig.apply(doc(2, echo("1.0.0")));
    CHECK(d.state == "failed");
    CHECK(d.components.at("echo").error == "start failed: boom");
    CHECK_FALSE(d.rejected);
}

TEST_CASE("desired state: restarted mid-apply, the same revision is applied again") {
    Rig rig;
    rig.apply(doc(4, echo("1.0.0")));
    // What a kill during the apply leaves: the state file says applying.
    auto state = rig.report();
    state.state = "applying";
    {
        std::ofstream(rig.dir.path() / "deployment.json")
            << contract::deployment_payload(state, contract::Clock::now());
    }
    rig.target.components.erase("echo");
    rig.restart();
    auto d = rig.apply(doc(4, echo("1.0.0")));
    CHECK(d.state == "converged");
    CHECK(rig.target.calls.size() == 2);

    // A state file that cannot be read is set aside and said so.
    { std::ofstream(rig.dir.path() / "deployment.json") << "{garbage"; }
    rig.restart();
    CHECK(rig.desired->load_problem().find("desired state: cannot read") == 0);
    CHECK(rig.report().state == "none");
}

TEST_CASE(
    "desired state: a clear keeps the revision's content; the applied bytes clear a refusal") {
    Rig rig;
    rig.apply(doc(5, echo("1.0.0")));
    rig.apply("");
    auto d = rig.apply(doc(5, echo("2.0.0")));
    REQUIRE(d.rejected);
    CHECK(d.rejected->error ==
          "revision 5 was applied with other content; publish the change as a higher revision");
    // The applied document again: applied (state none before), the refusal gone.
    d = rig.apply(doc(5, echo("1.0.0")));
    CHECK(d.state == "converged");
    CHECK_FALSE(d.rejected);
    d = rig.apply(doc(5, echo("3.0.0")));
    CHECK(d.rejected);
    d = rig.apply(doc(5, echo("1.0.0")));
    CHECK_FALSE(d.rejected);
    CHECK(d.state == "converged");
}

TEST_CASE("desired state: enabled means running; a component stopped by a command is started") {
    Rig rig;
    rig.target.components["echo"] = {"1.0.0", true, "{}", false, "in_process", {}};
    auto d = rig.apply(doc(1, echo("1.0.0")));
    CHECK(d.components.at("echo").action == "enable");
    CHECK(rig.target.calls == std::vector<std::string>{"enable echo"});
    CHECK(rig.target.components["echo"].running);
}

namespace {

// A target whose install gives the next document a chance to arrive (as a long download would).
struct SlowTarget final : fleet::DesiredTarget {
    FakeTarget inner;
    std::function<void()> during_install;
    std::map<std::string, fleet::InstalledComponent> installed() const override {
        return inner.installed();
    }
    Status check_install(const fleet::DesiredInstallStep& s) const override {
        return inner.check_install(s);
    }
    Status install(const fleet::DesiredInstallStep& step) override {
        if (during_install) {
            auto hook = std::move(during_install);
            during_install = nullptr;
            hook();
            // What a download does when told to give up.
            if (step.cancelled && step.cancelled->load()) {
                return Error{Errc::cancelled, "download failed: cancelled"};
            }
        }
        return inner.install(step);
    }
    Status uninstall(std::uint64_t r, const std::string& c) override {
        return inner.uninstall(r, c);
    }
    Status set_enabled(std::uint64_t r, const std::string& c, bool e) override {
        return inner.set_enabled(r, c, e);
    }
    Status set_isolation(std::uint64_t r, const std::string& c, const std::optional<std::string>& i,
                         const std::optional<lucid::registry::Limits>& l,
                         const std::optional<lucid::registry::RunAs>& u) override {
        return inner.set_isolation(r, c, i, l, u);
    }
    Status set_config(std::uint64_t r, const std::string& c, const std::string& j) override {
        return inner.set_config(r, c, j);
    }
};

}  // namespace

TEST_CASE("desired state: a newer document or a stop interrupts an apply, which stays applying") {
    TempDir dir;
    SlowTarget target;
    fleet::DesiredState desired({dir.path() / "deployment.json", kPlatform}, target,
                                [](const std::string&) {});
    auto report = [&] { return contract::parse_deployment(desired.payload()).value(); };
    // A stop during the install: the revision stays applying, the step pending.
    target.during_install = [&] { desired.interrupt(); };
    desired.offer(doc(1, echo("1.0.0")));
    desired.apply_offered();
    CHECK(report().state == "applying");
    CHECK(report().components.at("echo").outcome == "pending");
    CHECK(target.inner.components.empty());

    // After a restart the same revision is applied again.
    fleet::DesiredState again({dir.path() / "deployment.json", kPlatform}, target,
                              [](const std::string&) {});
    again.offer(doc(1, echo("1.0.0")));
    again.apply_offered();
    CHECK(contract::parse_deployment(again.payload()).value().state == "converged");

    // The same document again during its own apply (a subscription made again at connect
    // redelivers the retained message): no interruption, applied once.
    target.during_install = [&] { again.offer(doc(4, echo("4.0.0"))); };
    again.offer(doc(4, echo("4.0.0")));
    again.apply_offered();
    CHECK(contract::parse_deployment(again.payload()).value().state == "converged");
    CHECK(contract::parse_deployment(again.payload()).value().revision == 4u);

    // A newer document during an install: the older gives up, the newer is applied.
    target.during_install = [&] { again.offer(doc(6, echo("6.0.0"))); };
    again.offer(doc(5, echo("5.0.0")));
    again.apply_offered();
    again.apply_offered();
    const auto d = contract::parse_deployment(again.payload()).value();
    CHECK(d.revision == 6u);
    CHECK(d.state == "converged");
    CHECK(target.inner.components.at("echo").version == "6.0.0");
}

TEST_CASE("desired document: platform keys are platform tags") {
    CHECK(
        error_of(doc(1, R"("echo":{"version":"1.0.0","artifacts":{"linux x86":{"source":{}}}})")) ==
        "invalid desired state: components.echo.artifacts key 'linux x86' is not a platform tag "
        "([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
    CHECK(error_of(doc(1, R"("echo":{"version":"1.0.0","artifacts":{"":{"source":{}}}})")) ==
          "invalid desired state: components.echo.artifacts key '' is not a platform tag "
          "([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
}

TEST_CASE("a desired document moves a component into process isolation and back") {
    Rig rig;
    rig.target.components["echo"] = {"1.0.0", true, "{}", true, "in_process", {}};
    auto report =
        rig.apply(doc(1, echo("1.0.0", R"(,"isolation":"process","limits":{"memory_mb":64})")));
    CHECK(rig.target.calls == std::vector<std::string>{"isolate echo process"});
    CHECK(rig.target.components["echo"].isolation == "process");
    CHECK(rig.target.components["echo"].limits.memory_mb == std::optional<std::uint64_t>(64));
    CHECK(report.state == "converged");

    // Already so: nothing to do.
    rig.target.calls.clear();
    rig.apply(doc(2, echo("1.0.0", R"(,"isolation":"process")")));
    CHECK(rig.target.calls.empty());

    // A first install takes its isolation with it: one start, in the right place.
    rig.target.components.clear();
    rig.target.calls.clear();
    rig.apply(doc(3, echo("1.0.0", R"(,"isolation":"process")")));
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});
    CHECK(rig.target.components["echo"].isolation == "process");
}

TEST_CASE("a desired document sets the user a component's child runs as, and clears it") {
    Rig rig;
    rig.target.components["echo"] = {"1.0.0", true, "{}", true, "process", {}};
    rig.apply(doc(1, echo("1.0.0", R"(,"run_as":{"user":"nobody","groups":["nogroup"]})")));
    CHECK(rig.target.calls == std::vector<std::string>{"isolate echo -"});
    CHECK(rig.target.components["echo"].run_as == lucid::registry::RunAs{"nobody", {"nogroup"}});

    rig.target.calls.clear();  // already so
    rig.apply(doc(2, echo("1.0.0", R"(,"run_as":{"user":"nobody","groups":["nogroup"]})")));
    CHECK(rig.target.calls.empty());
    rig.apply(doc(3, echo("1.0.0", "")));  // none: left as it is
    CHECK(rig.target.calls.empty());

    rig.apply(doc(4, echo("1.0.0", R"(,"run_as":{})")));  // the agent's own user again
    CHECK(rig.target.calls == std::vector<std::string>{"isolate echo -"});
    CHECK(rig.target.components["echo"].run_as.empty());

    auto bad =
        contract::parse_desired_document(doc(5, echo("1.0.0", R"(,"run_as":{"groups":["x"]})")));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message ==
          "invalid desired state: components.echo: 'run_as.groups' needs 'run_as.user'");
}

TEST_CASE("a desired document with a bad isolation or limit is refused whole") {
    for (
        const auto& [extra, error] : std::vector<std::pair<std::string, std::string>>{
            {R"(,"isolation":"vm")",
             R"(invalid desired state: components.echo.isolation must be "in_process" or "process")"},
            {R"(,"limits":{"memory_mb":0})",
             "invalid desired state: components.echo: 'limits.memory_mb' must be a positive "
             "integer"},
            {R"(,"limits":{"memroy_mb":5})",
             "invalid desired state: components.echo: 'limits.memroy_mb' is not a limit "
             "(memory_mb, open_files, cpu_seconds)"}}) {
        CAPTURE(extra);
        auto parsed = contract::parse_desired_document(doc(1, echo("1.0.0", extra)));
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message == error);
    }
}

namespace {

// The agent's self-update in memory: how a revision's update ended is what state.json would say
// (`records`); place() records the hand-over the launcher would act on.
struct FakeAgent final : fleet::AgentTarget {
    std::string running = "1.0.0";
    std::map<std::uint64_t, fleet::AgentUpdateRecord> records;  // by revision
    std::vector<std::string> calls;
    std::string place_error;
    bool commits = true;

    std::string version() const override { return running; }
    Status check_update(const fleet::DesiredAgentStep& step) const override {
        if (step.source_json.find("\"bad\"") != std::string::npos) {
            return Error{Errc::invalid, "validation_error: bad source"};
        }
        return done();
    }
    fleet::AgentUpdateRecord record(const fleet::DesiredAgentStep& step) const override {
        const auto it = records.find(step.revision);
        return it == records.end() ? fleet::AgentUpdateRecord{} : it->second;
    }
    Status await_commit(const fleet::DesiredAgentStep& step) override {
        calls.push_back("await_commit " + step.version);
        if (!commits) return Error{Errc::cancelled, "did not commit"};
        return done();
    }
    Status place(const fleet::DesiredAgentStep& step) override {
        calls.push_back("place " + step.version + " revision " + std::to_string(step.revision));
        if (!place_error.empty()) return Error{Errc::invalid, place_error};
        records[step.revision] = {fleet::AgentUpdate::pending, ""};
        return done();
    }
    void hand_over() override { calls.push_back("hand_over"); }
};

std::string agent_entry(const std::string& version, const std::string& source = "\"x\"") {
    return R"(,"agent":{"version":")" + version + R"(","artifacts":{")" + kPlatform +
           R"(":{"source":{"type":"url","url":"file:///lucid-agent","sha256":)" + source + "}}}}";
}

}  // namespace

TEST_CASE("desired document: the agent entry and its errors") {
    auto parsed = contract::parse_desired_document(doc(3, "", agent_entry("1.1.0")));
    REQUIRE(parsed);
    REQUIRE(parsed.value().agent);
    CHECK(parsed.value().agent->version == "1.1.0");
    CHECK(contract::source_for_platform(parsed.value().agent->sources, kPlatform));
    CHECK_FALSE(contract::parse_desired_document(doc(3, "")).value().agent);

    CHECK(error_of(doc(1, "", R"(,"agent":[])")) ==
          "invalid desired state: agent must be an object");
    CHECK(error_of(doc(1, "", R"(,"agent":{"version":"1.1.0","artifacts":{},"enabled":true})")) ==
          "invalid desired state: unknown field 'enabled' in agent");
    CHECK(error_of(doc(1, "", R"(,"agent":{"artifacts":{}})")) ==
          "invalid desired state: agent.version must be a string");
    CHECK(error_of(doc(1, "", R"(,"agent":{"version":"2","artifacts":{}})")) ==
          "invalid desired state: agent.version '2' is not a semantic version");
    CHECK(error_of(doc(1, "", R"(,"agent":{"version":"1.1.0"})")) ==
          "invalid desired state: agent.artifacts is missing");
    CHECK(error_of(doc(1, "", R"(,"agent":{"version":"1.1.0","artifacts":{"X":{}}})")) ==
          "invalid desired state: agent.artifacts key 'X' is not a platform tag "
          "([a-z][a-z0-9_]{0,63}, e.g. linux_aarch64)");
}

TEST_CASE("desired state: the agent updates itself first, once per revision") {
    Rig rig;
    FakeAgent agent;
    rig.update_self_with(agent);

    // A newer agent: placed, then handed over before any component is touched; the revision
    // stays applying with the agent's step pending.
    auto d = rig.apply(doc(1, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(agent.calls == std::vector<std::string>{"place 1.1.0 revision 1", "hand_over"});
    CHECK(rig.target.calls.empty());
    CHECK(d.state == "applying");
    REQUIRE(d.agent);
    CHECK(d.agent->action == "upgrade");
    CHECK(d.agent->outcome == "pending");

    // The new build starts and gets the document again: it waits for its commit, then applies
    // the components.
    agent.running = "1.1.0";
    agent.calls.clear();
    rig.restart();
    d = rig.apply(doc(1, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(agent.calls == std::vector<std::string>{"await_commit 1.1.0"});
    CHECK(d.state == "converged");
    CHECK(d.agent->action == "upgrade");
    CHECK(d.agent->outcome == "applied");
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});

    // Already that version: nothing to do.
    agent.calls.clear();
    d = rig.apply(doc(2, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(agent.calls.empty());
    CHECK(d.agent->action == "none");
    CHECK(d.agent->outcome == "unchanged");
}

TEST_CASE("desired state: an agent update that rolled back fails its revision, not retried") {
    Rig rig;
    FakeAgent agent;
    rig.update_self_with(agent);
    rig.apply(doc(1, echo("1.0.0"), agent_entry("1.1.0")));
    // The launcher rolled the new build back: the old build gets the same revision again.
    agent.records[1] = {fleet::AgentUpdate::rolled_back,
                        "1.1.0 did not come up healthy (it exited, crashed, or did not commit "
                        "within its window)"};
    agent.calls.clear();
    rig.restart();
    auto d = rig.apply(doc(1, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(agent.calls.empty());
    CHECK(d.state == "failed");
    CHECK(d.agent->outcome == "failed");
    CHECK(d.agent->error ==
          "upgrade rolled back: 1.1.0 did not come up healthy (it exited, crashed, or did not "
          "commit within its window)");
    // The components are still applied by the build that runs.
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});

    // A higher revision tries again.
    d = rig.apply(doc(2, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(agent.calls == std::vector<std::string>{"place 1.1.0 revision 2", "hand_over"});
}

TEST_CASE("desired state: an agent update refused fails alone; a bad source refuses the document") {
    Rig rig;
    FakeAgent agent;
    rig.update_self_with(agent);
    agent.place_error = "sha256 mismatch: got=abc";
    auto d = rig.apply(doc(1, echo("1.0.0"), agent_entry("1.1.0")));
    CHECK(d.state == "failed");
    CHECK(d.agent->error == "sha256 mismatch: got=abc");
    CHECK(rig.target.calls == std::vector<std::string>{"install echo 1.0.0"});

    d = rig.apply(doc(2, "", agent_entry("1.2.0", "\"bad\"")));
    REQUIRE(d.rejected);
    CHECK(d.rejected->error == std::string("invalid desired state: agent.artifacts.") + kPlatform +
                                   ".source: validation_error: bad source");
    CHECK(d.revision == 1u);

    // No artifact for this agent's platform: that step fails, whatever runs.
    d = rig.apply(
        doc(3, "", R"(,"agent":{"version":"1.2.0","artifacts":{"linux_riscv64":{"source":{}}}})"));
    CHECK(d.agent->error == std::string("no artifact for platform ") + kPlatform +
                                " (the document has linux_riscv64)");
}
