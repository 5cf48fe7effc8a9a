// Revoking a signing key (contract §8.14, issue 18 item 4), as an operator does it: lucidctl key
// revoke makes a signed list, lucidctl revoke sends it, or a file goes into revoked/ inside the
// trusted keys directory on the device. From then on the key's signatures are refused by name,
// and the components installed under it are failed (LUCID_SIGNATURE_POLICY=required) or carry a
// warning (optional) until a build signed by a trusted key replaces them. The revocation outlives
// a restart; a revoked key cannot revoke the others.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>

#include "http_server.hpp"
#include "signing_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The key id lucidctl key generate printed ("key id <16 hex>").
std::string key_id_from(const std::string& generated) {
    const auto at = generated.find("key id ");
    REQUIRE_MESSAGE(at != std::string::npos, generated);
    return generated.substr(at + 7, 16);
}

// `file` signed with `key` (lucidctl sign: FILE.so.sig beside it).
void sign(SigningRig& rig, const std::string& file, const std::string& key) {
    const auto done = rig.ctl({"sign", file, "--key", (rig.work.path() / key).string()});
    REQUIRE_MESSAGE(done.code == 0, done.output);
}

// The value of `member` of the core/components entry of `cid` in the latest snapshot.
std::string component_member(SigningRig& rig, const std::string& cid, const char* member) {
    const auto listed = rig.ctl({"--json", "plugin", "info", cid});
    REQUIRE_MESSAGE(listed.code == 0, listed.output);
    const auto doc = listed.json();
    const auto it = doc.FindMember(member);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace

TEST_CASE("a key revoked by a signed list: its component fails, its signatures are refused") {
    SigningRig rig("revoke-1");
    const std::string old_id = key_id_from(rig.generate_key("old"));
    const std::string new_id = key_id_from(rig.generate_key("new"));
    rig.start_agent();

    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    sign(rig, v1, "old.key");
    const auto installed = rig.ctl({"plugin", "install", v1});
    REQUIRE_MESSAGE(installed.code == 0, installed.output << rig.agent.log());
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    // The registry records who vouched for it.
    CHECK(component_member(rig, "echo", "signed_by") == old_id);

    // The list, made by the operator with another trusted key, naming the old key by its file.
    const auto made =
        rig.sh(std::string("'") + LUCIDCTL_BIN + "' key revoke old.pem --key new.key");
    REQUIRE_MESSAGE(made.first == 0, made.second);
    const std::string list_file = (rig.work.path() / ("revoke-" + old_id + ".json")).string();
    REQUIRE_MESSAGE(fs::exists(list_file), made.second);

    rig.client->clear();
    const auto sent = rig.ctl({"--json", "revoke", list_file});
    REQUIRE_MESSAGE(sent.code == 0, sent.output << rig.agent.log());
    const auto result = sent.json();
    CHECK(std::string(result["signed_by"].GetString()) == new_id);
    REQUIRE(result["newly_revoked"].Size() == 1);
    CHECK(std::string(result["newly_revoked"][0].GetString()) == old_id);
    REQUIRE(result["components"].Size() == 1);
    CHECK(std::string(result["components"][0].GetString()) == "echo");
    CHECK(std::string(result["components_state"].GetString()) == "failed");

    const std::string why = "by a list signed by key " + new_id + " at ";
    const std::string kept_out =
        "key revoked: signed by key " + old_id + ", which is revoked (" + why;
    const auto failed = rig.wait_status("echo", "failed", "1.0.0");
    REQUIRE_MESSAGE(failed, rig.agent.log());
    CHECK_MESSAGE(failed->str("error").rfind(kept_out, 0) == 0, failed->str("error"));
    const auto start = rig.control("start", "echo", "revoke-start");
    CHECK_FALSE(ok_of(start));
    CHECK_MESSAGE(has_text(error_of(start), "component echo is " + kept_out), error_of(start));

    // Sending it again changes nothing.
    const auto again = rig.ctl({"--json", "revoke", list_file});
    REQUIRE_MESSAGE(again.code == 0, again.output);
    CHECK(again.json()["newly_revoked"].Size() == 0);
    const auto plain = rig.ctl({"revoke", list_file});  // what an operator reads
    CHECK_MESSAGE((plain.has("revoke: ok") && plain.has("newly_revoked=") &&
                   plain.has("components_state=failed")),
                  plain.output);

    // The old key's signature on a new build is refused by name.
    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    sign(rig, v2, "old.key");
    const auto refused = rig.ctl({"plugin", "install", v2});
    CHECK(refused.code == 1);
    CHECK_MESSAGE(refused.has("signature invalid: key " + old_id + " (old.pem) is revoked (" + why),
                  refused.output);

    // A revoked key cannot revoke the others (it may be the attacker's).
    const auto counter =
        rig.sh(std::string("'") + LUCIDCTL_BIN + "' key revoke new.pem --key old.key");
    REQUIRE_MESSAGE(counter.first == 0, counter.second);
    const auto countered =
        rig.ctl({"revoke", (rig.work.path() / ("revoke-" + new_id + ".json")).string()});
    CHECK(countered.code == 1);
    CHECK_MESSAGE(countered.has("revocation invalid: key " + old_id + " (old.pem) is revoked"),
                  countered.output);

    // The revocation is in the trust state: a restart keeps the component out.
    rig.agent.stop(SIGTERM);
    rig.client->clear();
    rig.start_agent();
    const auto after_restart = rig.wait_status("echo", "failed", "1.0.0");
    REQUIRE_MESSAGE(after_restart, rig.agent.log());
    CHECK(after_restart->str("error").rfind(kept_out, 0) == 0);

    // The same bytes signed by the trusted key: vouched for again, and running.
    sign(rig, v1, "new.key");
    rig.client->clear();
    const auto resigned = rig.ctl({"plugin", "install", v1});
    CHECK_MESSAGE(resigned.code == 0, resigned.output << rig.agent.log());
    CHECK_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    CHECK(component_member(rig, "echo", "signed_by") == new_id);
}

TEST_CASE("a key revoked in revoked/ on the device: a warning where signatures are optional") {
    SigningRig rig("revoke-2");
    rig.env["LUCID_SIGNATURE_POLICY"] = "optional";
    const std::string old_id = key_id_from(rig.generate_key("old"));
    rig.generate_key("new");
    rig.start_agent();

    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    sign(rig, v1, "old.key");
    REQUIRE(rig.ctl({"plugin", "install", v1}).code == 0);
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));

    // The operator on site: the key's id as a file name in revoked/, then a reload.
    fs::create_directories(rig.keys / "revoked");
    std::ofstream(rig.keys / "revoked" / old_id) << "stolen laptop, 2026-12-01\n";
    rig.client->clear();
    rig.agent.process().signal(SIGHUP);
    REQUIRE_MESSAGE(rig.agent.wait_for_log("reload applied", std::chrono::seconds(10)),
                    rig.agent.log());
    const std::string warning =
        "signed by key " + old_id + ", which is revoked (revoked/" + old_id + ")";
    const auto warned = rig.client->wait_for(
        rig.agent.topic("components/echo/status"),
        [&](const Message& m) { return m.str("warning") == warning; }, std::chrono::seconds(10));
    REQUIRE_MESSAGE(warned, rig.agent.log());
    CHECK(warned->str("state") == "running");  // optional: reported, not stopped
    rig.echo_answers("revoke-echo");

    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    sign(rig, v2, "old.key");
    const auto refused = rig.ctl({"plugin", "install", v2});
    CHECK(refused.code == 1);
    CHECK_MESSAGE(refused.has("signature invalid: key " + old_id +
                              " (old.pem) is revoked (revoked/" + old_id + ")"),
                  refused.output);
    // lucidctl verify reads revoked/ as the agent does.
    const auto verified = rig.ctl({"verify", v2, "--keys", rig.keys.string()});
    CHECK(verified.code == 2);
    CHECK_MESSAGE(verified.has("is revoked"), verified.output);

    // An upgrade signed by the other key replaces it: no warning any more.
    sign(rig, v2, "new.key");
    rig.client->clear();
    CHECK(rig.ctl({"plugin", "install", v2}).code == 0);
    CHECK_MESSAGE(rig.client->wait_for(rig.agent.topic("components/echo/status"),
                                       [](const Message& m) {
                                           return m.str("version") == "2.0.0" &&
                                                  m.str("state") == "running" &&
                                                  m.str("warning").empty();
                                       }),
                  rig.agent.log());
}

TEST_CASE("a key revoked while an install of its artifact downloads: the install is refused") {
    SigningRig rig("revoke-3");
    const std::string old_id = key_id_from(rig.generate_key("old"));
    rig.generate_key("new");
    rig.start_agent();
    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    sign(rig, v1, "old.key");
    std::string signature = read_text(v1 + ".sig");
    signature.pop_back();  // its line end
    HttpServer http;
    const Artifact echo = artifact(LUCID_ITEST_ECHO_1_0);
    http.serve("/" + echo.name, echo.bytes);
    http.hold("/" + echo.name);  // the download waits, past the signature policy's snapshot

    rig.client->publish(rig.agent.topic("core/cmd/components/install"),
                        install_payload("revoke-slow", "echo",
                                        url_source(http.url("/" + echo.name), echo.sha256,
                                                   ",\"signature\":" + json_string(signature))));
    REQUIRE_MESSAGE(http.wait_held(1, std::chrono::seconds(10)), rig.agent.log());
    const auto made =
        rig.sh(std::string("'") + LUCIDCTL_BIN + "' key revoke old.pem --key new.key");
    REQUIRE_MESSAGE(made.first == 0, made.second);
    const auto sent =
        rig.ctl({"revoke", (rig.work.path() / ("revoke-" + old_id + ".json")).string()});
    REQUIRE_MESSAGE(sent.code == 0, sent.output << rig.agent.log());
    http.release();

    const auto result = rig.client->wait_for(rig.agent.topic("core/evt/components/install_result"),
                                             with_request_id("revoke-slow"));
    REQUIRE_MESSAGE(result, rig.agent.log());
    CHECK_FALSE(ok_of(*result));
    CHECK_MESSAGE(has_text(error_of(*result),
                           "signature invalid: key " + old_id + " (old.pem) is revoked (by a list"),
                  result->payload);
    const auto registry = rig.registry();
    CHECK_FALSE((registry.HasMember("components") && registry["components"].HasMember("echo")));
}
