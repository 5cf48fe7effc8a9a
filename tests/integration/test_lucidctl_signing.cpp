// Signing from nothing, as the README tells a new operator (contract §8.11, issue 18 items 1-2):
// lucidctl key generate, the public key into the device's trusted keys, lucidctl sign,
// lucidctl verify, then installs through a real agent with LUCID_SIGNATURE_POLICY=required.
// The statements the agent must refuse are made with openssl alone, following the contract's
// recipe for the canonical statement: what a third party's tooling would produce.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "signing_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

// The key id as the README computes it with openssl.
std::string openssl_key_id(SigningRig& rig, const std::string& key_file) {
    const auto id = rig.sh("openssl pkey -in " + key_file +
                           " -pubout -outform DER | tail -c 32 | sha256sum | cut -c1-16");
    REQUIRE(id.first == 0);
    return id.second.substr(0, 16);
}

// A lucid-sig-1 line for `statement` (its members in canonical order), signed with openssl by
// `key_file`: the contract's recipe.
std::string openssl_signed(SigningRig& rig, const std::string& key_file, const std::string& key_id,
                           const std::vector<std::pair<std::string, std::string>>& statement) {
    std::string canonical = "{";
    for (const auto& [k, v] : statement) {
        canonical += (canonical.size() > 1 ? "," : "") + json_string(k) + ":" + json_string(v);
    }
    canonical += "}";
    std::ofstream(rig.work.path() / "statement.json", std::ios::binary) << canonical;
    const auto signature = rig.sh("openssl pkeyutl -sign -rawin -inkey " + key_file +
                                  " -in statement.json | base64 -w0");
    REQUIRE_MESSAGE(signature.first == 0, signature.second);
    return R"({"format":"lucid-sig-1","key_id":")" + key_id + R"(","statement":)" + canonical +
           R"(,"signature":")" + signature.second + "\"}";
}

// The statement members of a lucid-sig-1 line, in canonical order.
std::vector<std::pair<std::string, std::string>> statement_of(const std::string& line) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE_MESSAGE(doc.IsObject(), line);
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* k : {"sha256", "dist", "version", "component", "platform", "signed_at"}) {
        out.emplace_back(k, doc["statement"][k].GetString());
    }
    return out;
}

void set(std::vector<std::pair<std::string, std::string>>& statement, const std::string& key,
         const std::string& value) {
    for (auto& [k, v] : statement) {
        if (k == key) v = value;
    }
}

}  // namespace

TEST_CASE("key generate, sign, verify and install a signed plugin with signatures required") {
    SigningRig rig("sign-1");
    const std::string made = rig.generate_key("release");
    const std::string id = openssl_key_id(rig, "release.key");
    CHECK_MESSAGE(has_text(made, "key id " + id), made);
    struct stat st {};
    REQUIRE(::stat((rig.work.path() / "release.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // A key is never overwritten.
    const std::string before = read_text(rig.work.path() / "release.key");
    const auto again = rig.sh(std::string("'") + LUCIDCTL_BIN + "' key generate release");
    CHECK(again.first == 2);
    CHECK_MESSAGE(has_text(again.second, "release.key exists already"), again.second);
    CHECK(read_text(rig.work.path() / "release.key") == before);
    const auto suffixed = rig.sh(std::string("'") + LUCIDCTL_BIN + "' key generate other.key");
    CHECK(suffixed.first == 2);
    CHECK_MESSAGE(has_text(suffixed.second, "give the bare name (other makes other.key"),
                  suffixed.second);
    rig.start_agent();

    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    const auto signed_v1 =
        rig.ctl({"sign", v1, "--key", (rig.work.path() / "release.key").string()});
    REQUIRE_MESSAGE(signed_v1.code == 0, signed_v1.output);
    CHECK(signed_v1.has("wrote " + v1 + ".sig"));
    const std::string line = read_text(v1 + ".sig");
    CHECK(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);  // one line
    const auto statement = statement_of(line);
    CHECK(statement[0].second == sha256_hex(read_bytes(v1)));
    CHECK(statement[1].second == "lucid-agent-echo");
    CHECK(statement[2].second == "1.0.0");
    CHECK(statement[3].second == "echo");
    CHECK(has_text(line, R"("key_id":")" + id + "\""));

    const auto verified = rig.ctl({"verify", v1, "--keys", rig.keys.string()});
    CHECK_MESSAGE(verified.code == 0, verified.output);
    CHECK(verified.has(v1 + ": signed by key " + id + " (release.pem in " + rig.keys.string()));
    CHECK(verified.has("lucid-sig-1: lucid-agent-echo 1.0.0, component echo"));
    // Without --keys: LUCID_TRUSTED_KEYS_DIR, as on the device.
    rig.ctl_env["LUCID_TRUSTED_KEYS_DIR"] = rig.keys.string();
    CHECK(rig.ctl({"verify", v1}).code == 0);

    const auto installed = rig.ctl({"plugin", "install", v1});
    CHECK_MESSAGE(installed.code == 0, installed.output << rig.agent.log());
    CHECK(rig.wait_registered("echo", "1.0.0"));

    // The 1.0.0 statement beside the 2.0.0 file: a replay under another name.
    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    std::ofstream(v2 + ".sig", std::ios::binary) << line;
    const std::string sha2 = sha256_hex(read_bytes(v2));
    const std::string sha_refusal =
        "signature statement mismatch: sha256 " + statement[0].second + ", artifact " + sha2;
    const auto replay_verify = rig.ctl({"verify", v2});
    CHECK(replay_verify.code == 2);
    CHECK_MESSAGE(replay_verify.has(sha_refusal), replay_verify.output);
    const auto replay = rig.ctl({"plugin", "install", v2});
    CHECK(replay.code == 1);
    CHECK_MESSAGE(replay.has(sha_refusal), replay.output);

    // A validly signed statement about these bytes that claims another version.
    auto claims = statement_of(line);
    set(claims, "sha256", sha2);
    set(claims, "version", "1.0.0");
    std::ofstream(v2 + ".sig", std::ios::binary | std::ios::trunc)
        << openssl_signed(rig, "release.key", id, claims) << "\n";
    const std::string version_refusal =
        "signature statement mismatch: version 1.0.0, artifact 2.0.0";
    const auto wrong_verify = rig.ctl({"verify", v2});
    CHECK(wrong_verify.code == 2);
    CHECK_MESSAGE(wrong_verify.has(version_refusal), wrong_verify.output);
    const auto wrong = rig.ctl({"plugin", "install", v2});
    CHECK(wrong.code == 1);
    CHECK_MESSAGE(wrong.has(version_refusal), wrong.output);

    // The same, claiming 2.0.0 (what lucidctl sign writes, made by openssl): installed.
    set(claims, "version", "2.0.0");
    std::ofstream(v2 + ".sig", std::ios::binary | std::ios::trunc)
        << openssl_signed(rig, "release.key", id, claims) << "\n";
    const auto right = rig.ctl({"plugin", "install", v2});
    CHECK_MESSAGE(right.code == 0, right.output << rig.agent.log());
    CHECK(rig.wait_registered("echo", "2.0.0"));

    // A key the device does not trust, named by its id.
    rig.generate_key("stranger");
    fs::remove(rig.keys / "stranger.pem");
    const std::string stranger_id = openssl_key_id(rig, "stranger.key");
    // An upgrade (1.0.0 again would be a downgrade now, refused before its signature is read).
    const std::string v21 = rig.copy(LUCID_ITEST_ECHO_2_1, "lucid_agent_echo-2.1.0.so");
    REQUIRE(rig.ctl({"sign", v21, "--key", (rig.work.path() / "stranger.key").string()}).code == 0);
    const auto unknown = rig.ctl({"plugin", "install", v21});
    CHECK(unknown.code == 1);
    CHECK_MESSAGE(unknown.has("signature invalid: unknown key_id " + stranger_id +
                              ": not among the trusted keys (" + id + " (release.pem))"),
                  unknown.output);
}

TEST_CASE("a bare signature installs with a deprecation warning, and is refused when turned off") {
    SigningRig yes("sign-bare-yes");
    yes.generate_key("release");
    yes.start_agent();
    const std::string v1 = yes.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    const auto bare = yes.sh(
        "openssl pkeyutl -sign -rawin -inkey release.key -in "
        "lucid_agent_echo-1.0.0.so | base64 -w0 > lucid_agent_echo-1.0.0.so.sig");
    REQUIRE(bare.first == 0);
    const auto verified = yes.ctl({"verify", v1, "--keys", yes.keys.string()});
    CHECK_MESSAGE(verified.code == 0, verified.output);
    CHECK(verified.has("bare signature (deprecated"));
    const auto accepted = yes.ctl({"plugin", "install", v1});
    CHECK_MESSAGE(accepted.code == 0, accepted.output << yes.agent.log());
    CHECK(yes.wait_registered("echo", "1.0.0"));
    CHECK_MESSAGE(
        has_text(yes.agent.log(), "lucid_agent_echo-1.0.0.so (sha256 " +
                                      sha256_hex(read_bytes(v1)) + ") carries a bare signature"),
        yes.agent.log());

    SigningRig no("sign-bare-no");
    no.env["LUCID_ACCEPT_BARE_SIGNATURES"] = "no";
    fs::copy_file(yes.work.path() / "release.pem", no.keys / "release.pem");
    no.start_agent();
    // lucidctl verify on a machine whose settings refuse bare signatures refuses it too.
    auto strict_env = no.ctl_env;
    strict_env["LUCID_ACCEPT_BARE_SIGNATURES"] = "no";
    const auto strict = run_ctl({"verify", v1, "--keys", no.keys.string()}, strict_env);
    CHECK(strict.code == 2);
    CHECK_MESSAGE(strict.has("bare signature refused"), strict.output);
    const auto refused = run_ctl({"plugin", "install", v1}, no.ctl_env);
    CHECK(refused.code == 1);
    CHECK_MESSAGE(refused.has("signature invalid: bare signature refused "
                              "(LUCID_ACCEPT_BARE_SIGNATURES=no): sign it with lucidctl sign "
                              "(lucid-sig-1)"),
                  refused.output);
    // The same file signed as lucid-sig-1 installs there, its .sig named by --signature too.
    REQUIRE(yes.ctl({"sign", v1, "--key", (yes.work.path() / "release.key").string()}).code == 0);
    fs::rename(v1 + ".sig", yes.work.path() / "elsewhere.sig");
    const auto statement = run_ctl(
        {"plugin", "install", v1, "--signature", (yes.work.path() / "elsewhere.sig").string()},
        no.ctl_env);
    CHECK_MESSAGE(statement.code == 0, statement.output << no.agent.log());
    CHECK(run_ctl({"plugin", "install", v1, "--signature", ""}, no.ctl_env).code == 2);
}

TEST_CASE("a typo in LUCID_ACCEPT_BARE_SIGNATURES is a configuration error naming it") {
    SigningRig rig("sign-typo");
    const auto check = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                         {{"LUCID_ENV_FILE", "/dev/null"},
                                          {"LUCID_ACCEPT_BARE_SIGNATURES", "nope"},
                                          {"LUCID_DATA_DIR", rig.data().string()}});
    CHECK(check.first == 2);
    CHECK_MESSAGE(has_text(check.second,
                           "accept_bare_signatures (environment LUCID_ACCEPT_BARE_SIGNATURES) "
                           "must be yes or no, got 'nope'"),
                  check.second);
    const auto shown = run_to_completion({LUCID_AGENT_BIN, "check-config"},
                                         {{"LUCID_ENV_FILE", "/dev/null"},
                                          {"LUCID_ACCEPT_BARE_SIGNATURES", "no"},
                                          {"LUCID_DATA_DIR", rig.data().string()}});
    CHECK(shown.first == 0);
    CHECK_MESSAGE(has_text(shown.second, "accept_bare_signatures"), shown.second);
    CHECK(has_text(shown.second, "(environment LUCID_ACCEPT_BARE_SIGNATURES)"));
}

TEST_CASE("the drop-in directory takes the lucid-sig-1 .sig beside a file, and checks it") {
    SigningRig rig("sign-dropin");
    const fs::path dropin = rig.agent.data_dir() / "dropin";
    fs::create_directories(dropin);
    rig.env["LUCID_PLUGIN_DIR"] = dropin.string();
    rig.generate_key("release");
    rig.start_agent();
    const std::string key = (rig.work.path() / "release.key").string();

    // 2.0.0 signed, then its statement put beside a 2.1.0 file: refused by its sha256 and
    // version claims (the sha256 first), never installed.
    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    REQUIRE(rig.ctl({"sign", v2, "--key", key}).code == 0);
    const std::string v21_name = "lucid_agent_echo-2.1.0.so";
    fs::copy_file(v2 + ".sig", dropin / (v21_name + ".sig"));
    fs::copy_file(LUCID_ITEST_ECHO_2_1, dropin / (v21_name + ".part"));
    fs::rename(dropin / (v21_name + ".part"), dropin / v21_name);
    CHECK_MESSAGE(rig.agent.wait_for_log("signature statement mismatch: sha256 " +
                                             sha256_hex(read_bytes(v2)) + ", artifact " +
                                             sha256_hex(read_bytes(LUCID_ITEST_ECHO_2_1)),
                                         std::chrono::seconds(10)),
                  rig.agent.log());
    fs::remove(dropin / v21_name);
    fs::remove(dropin / (v21_name + ".sig"));

    // The .sig first, then the file: installed under signatures required.
    const std::string name = "lucid_agent_echo-2.0.0.so";
    fs::copy_file(v2 + ".sig", dropin / (name + ".sig"));
    fs::copy_file(v2, dropin / (name + ".part"));
    fs::rename(dropin / (name + ".part"), dropin / name);
    CHECK_MESSAGE(rig.wait_status("echo", "running", "2.0.0"), rig.agent.log());
}

TEST_CASE("artifact publish carries the whole lucid-sig-1 line to a desired state, checked there") {
    SigningRig rig("sign-desired");
    rig.generate_key("release");
    rig.start_agent();
    const std::string key = (rig.work.path() / "release.key").string();
    // Named with their platform, as artifact publish wants them.
    const std::string v1 =
        rig.copy(LUCID_ITEST_ECHO_1_0, fs::path(LUCID_ITEST_ECHO_1_0).filename().string());
    REQUIRE(rig.ctl({"sign", v1, "--key", key}).code == 0);
    std::string line = read_text(v1 + ".sig");
    line.pop_back();  // its line end

    // The source of an artifact and the desired state naming it, as an operator writes them.
    auto publish = [&](const std::string& file) {
        const auto published = rig.ctl({"artifact", "publish", file, "--json"});
        REQUIRE_MESSAGE(published.code == 0, published.output);
        auto out = published.json();
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        out["source"].Accept(writer);
        return std::make_pair(std::string(out["platform"].GetString()),
                              std::string(buffer.GetString()));
    };
    auto desire = [&](const std::string& version, const std::pair<std::string, std::string>& p) {
        const fs::path file = rig.work.path() / "desired.json";
        std::ofstream(file, std::ios::trunc)
            << R"({"components":{"echo":{"version":")" << version << R"(","artifacts":{")"
            << p.first << R"(":{"source":)" << p.second << "}}}}}";
        return rig.ctl({"desired", "set", file.string()});
    };

    const auto p1 = publish(v1);
    rapidjson::Document source;
    source.Parse(p1.second.c_str());
    CHECK(std::string(source["signature"].GetString()) == line);
    const auto set = desire("1.0.0", p1);
    CHECK_MESSAGE(set.code == 0, set.output << rig.agent.log());
    CHECK(set.has("converged"));
    CHECK(rig.wait_registered("echo", "1.0.0"));

    // 2.0.0 published with the 1.0.0 statement beside it: the desired state fails on it.
    const std::string v2 =
        rig.copy(LUCID_ITEST_ECHO_2_0, fs::path(LUCID_ITEST_ECHO_2_0).filename().string());
    fs::copy_file(v1 + ".sig", v2 + ".sig");
    const auto replayed = desire("2.0.0", publish(v2));
    CHECK(replayed.code == 1);
    CHECK_MESSAGE(
        replayed.has("signature statement mismatch: sha256 " + sha256_hex(read_bytes(v1)) +
                     ", artifact " + sha256_hex(read_bytes(v2))),
        replayed.output);
}

TEST_CASE("signatures required: a downgrade needs a rollback permit for that dist and version") {
    SigningRig rig("permit-1");
    const std::string id = openssl_key_id(rig, (rig.generate_key("release"), "release.key"));
    rig.start_agent();
    const std::string key = (rig.work.path() / "release.key").string();
    const std::string v1 = rig.copy(LUCID_ITEST_ECHO_1_0, "lucid_agent_echo-1.0.0.so");
    const std::string v2 = rig.copy(LUCID_ITEST_ECHO_2_0, "lucid_agent_echo-2.0.0.so");
    for (const auto& f : {v1, v2}) REQUIRE(rig.ctl({"sign", f, "--key", key}).code == 0);
    REQUIRE(rig.ctl({"plugin", "install", v1}).code == 0);
    REQUIRE(rig.ctl({"plugin", "install", v2}).code == 0);
    REQUIRE(rig.wait_registered("echo", "2.0.0"));

    // allow_downgrade alone is not enough when signatures are required.
    const auto bare = rig.ctl({"plugin", "install", v1, "--force"});
    CHECK(bare.code == 1);
    CHECK_MESSAGE(bare.has("downgrade refused: lucid-agent-echo 1.0.0 < 2.0.0: allow_downgrade "
                           "needs a rollback_permit (LUCID_SIGNATURE_POLICY=required)"),
                  bare.output);

    auto permit = [&](const std::string& dist, const std::string& version,
                      const std::string& expires = "1h", const std::string& with = "release.key") {
        const auto made = rig.sh(std::string("'") + LUCIDCTL_BIN + "' permit " + dist + " " +
                                 version + " --key " + with + " --expires " + expires);
        REQUIRE_MESSAGE(made.first == 0, made.second);
        std::string normalized = dist;  // the file is named after the normalized dist
        std::replace(normalized.begin(), normalized.end(), '_', '-');
        return (rig.work.path() / (normalized + "-" + version + ".permit")).string();
    };
    auto install_with = [&](const std::string& permit_file) {
        return rig.ctl({"plugin", "install", v1, "--force", "--permit", permit_file});
    };
    const auto other_version = install_with(permit("lucid-agent-echo", "0.9.0"));
    CHECK(other_version.code == 1);
    CHECK_MESSAGE(other_version.has("rollback permit mismatch: version 0.9.0, install 1.0.0"),
                  other_version.output);
    const auto other_dist = install_with(permit("lucid_agent_other", "1.0.0"));
    CHECK_MESSAGE(other_dist.has(
                      "rollback permit mismatch: dist lucid-agent-other, install lucid-agent-echo"),
                  other_dist.output);

    // Made as the contract says, with openssl: signed, but expired.
    const std::string canonical =
        R"({"dist":"lucid-agent-echo","version":"1.0.0","expires_at":"2026-01-01T00:00:00.000Z"})";
    std::ofstream(rig.work.path() / "permit.json", std::ios::binary) << canonical;
    const auto signature =
        rig.sh("openssl pkeyutl -sign -rawin -inkey release.key -in permit.json | base64 -w0");
    REQUIRE(signature.first == 0);
    const auto expired_file = rig.work.path() / "expired.permit";
    std::ofstream(expired_file) << R"({"format":"lucid-permit-1","key_id":")" << id
                                << R"(","permit":)" << canonical << R"(,"signature":")"
                                << signature.second << "\"}\n";
    const auto expired = install_with(expired_file.string());
    CHECK_MESSAGE(expired.has("rollback permit expired at 2026-01-01T00:00:00.000Z"),
                  expired.output);

    // A permit whose text was changed after signing; one from a key the device does not trust.
    const std::string good = permit("lucid-agent-echo", "1.0.0");
    std::string forged = read_text(good);
    forged.replace(forged.find("\"1.0.0\""), 7, "\"0.1.0\"");
    std::ofstream(rig.work.path() / "forged.permit") << forged;
    CHECK(install_with((rig.work.path() / "forged.permit").string())
              .has("rollback permit invalid: the permit's signature does not verify with key " +
                   id + " (release.pem)"));
    rig.generate_key("stranger");
    fs::remove(rig.keys / "stranger.pem");
    const auto stranger = install_with(permit("lucid-agent-echo", "1.0.0", "1h", "stranger.key"));
    CHECK_MESSAGE(stranger.has("rollback permit invalid: unknown key_id " +
                               openssl_key_id(rig, "stranger.key")),
                  stranger.output);
    CHECK(rig.ctl({"plugin", "list"}).has("2.0.0"));  // nothing of it got through

    // The right one: installed; usage errors stay local.
    const auto allowed = install_with(permit("lucid-agent-echo", "1.0.0"));
    CHECK_MESSAGE(allowed.code == 0, allowed.output << rig.agent.log());
    CHECK(rig.wait_registered("echo", "1.0.0"));
    const auto no_force = rig.ctl({"plugin", "install", v1, "--permit", good});
    CHECK(no_force.code == 2);
    CHECK(no_force.has("--permit goes with --force"));
    const auto forever = rig.sh(std::string("'") + LUCIDCTL_BIN +
                                "' permit lucid-agent-echo 1.0.0 --key release.key --expires 90d");
    CHECK(forever.first == 2);
    CHECK_MESSAGE(
        has_text(forever.second,
                 "--expires must be an age from 1s to 30d, like 90m, 1h or 2d, got '90d'"),
        forever.second);
}
