// Attacks on the supply chain (issue 18 item 5; contract §4.11, §8.5, §8.11-§8.13), each played
// by an attacker who may publish on the broker, against a real agent with real signed plugins:
// keys made and artifacts signed with lucidctl as an operator does (lucid-sig-1).
//
// - A replayed old desired state: the operator's earlier document, genuinely signed artifacts
//   and all, published again after the agent converged on a newer one — as it was (a lower
//   revision: ignored), as the applied revision (other bytes: refused), renumbered above the
//   applied revision (the document itself is not signed, so anyone who may publish it can),
//   relabelled as a higher version, with allow_downgrade, with a forged rollback_of, after a
//   restart, and on an agent that lost its applied revision. echo stays at 2.0.0 in every case.
// - A trusted-keys directory that vanished while the agent runs (rm -rf, a broken deploy, a
//   wiped /etc): the keys loaded keep checking every install, before and after a SIGHUP, under
//   the policy `required` and the default `optional`; nothing is let in as "unchecked".
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "signing_rig.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kDist = "lucid-agent-echo";

// The signing rig (support/signing_rig.hpp) under `policy` ("": the default, optional).
struct AttackRig : SigningRig {
    AttackRig(const std::string& id, const std::string& policy) : SigningRig(id) {
        if (policy.empty()) {
            env.erase("LUCID_SIGNATURE_POLICY");
        } else {
            env["LUCID_SIGNATURE_POLICY"] = policy;
        }
    }
    // `lucidctl key generate NAME` in the operator's directory; returns the key id (openssl, as
    // the README computes it). `trusted`: its public key goes into the device's directory.
    std::string generate_key(const std::string& name, bool trusted) {
        const auto made = sh(std::string("'") + LUCIDCTL_BIN + "' key generate " + name +
                             " >/dev/null && openssl pkey -in " + name +
                             ".key -pubout -outform DER | tail -c 32 | sha256sum | cut -c1-16");
        REQUIRE_MESSAGE(made.first == 0, made.second);
        if (trusted) fs::copy_file(work.path() / (name + ".pem"), keys / (name + ".pem"));
        return made.second.substr(0, 16);
    }
    // A copy of a built plugin in `work/<signer>/`, signed there with `lucidctl sign` by the key
    // `signer`; returns the file (its .sig beside it).
    fs::path signed_copy(const char* built, const std::string& signer) {
        const fs::path dir = work.path() / signer;
        fs::create_directories(dir);
        const fs::path file = dir / fs::path(built).filename();
        fs::copy_file(built, file, fs::copy_options::overwrite_existing);
        const auto sig =
            ctl({"sign", file.string(), "--key", (work.path() / (signer + ".key")).string()});
        REQUIRE_MESSAGE(sig.code == 0, sig.output);
        return file;
    }
};

// The text of FILE.sig without its line end: what a source's `signature` carries.
std::string signature_of(const fs::path& file) {
    std::string line = read_text(file.string() + ".sig");
    REQUIRE_MESSAGE(line.rfind("{\"format\":\"lucid-sig-1\"", 0) == 0, line);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
}

// An inline install source for `file`, carrying `signature` when it is not empty.
std::string source_of(const fs::path& file, const std::string& signature = "") {
    const std::string bytes = read_bytes(file);
    std::string source = inline_source(file.filename().string(), bytes, sha256_hex(bytes));
    if (signature.empty()) return source;
    source.pop_back();
    return source + R"(,"signature":)" + json_string(signature) + "}";
}

std::string downgrade_refused(const std::string& version, const std::string& floor) {
    return "downgrade refused: " + kDist + " " + version + " < " + floor;
}

// ---- desired state ------------------------------------------------------------------------------

std::optional<Message> deployment(AttackRig& rig, const Predicate& accept) {
    return rig.client->wait_for(rig.agent.topic("core/deployment"), accept,
                                std::chrono::seconds(20));
}

Predicate state_of(unsigned long long revision, const std::string& state) {
    return [=](const Message& m) {
        return !m.payload.empty() && uint_field(m.payload, "revision") == revision &&
               m.str("state") == state;
    };
}

std::string rejected_error(const Message& m) {
    auto doc = m.json();
    return doc["rejected"].IsObject() ? doc["rejected"]["error"].GetString() : "";
}

// components.echo.<field> of a core/deployment, "" when absent or null.
std::string echo_field(const Message& m, const char* field) {
    auto doc = m.json();
    const auto& echo = doc["components"]["echo"];
    return echo.IsObject() && echo.HasMember(field) && echo[field].IsString()
               ? echo[field].GetString()
               : "";
}

// The operator's way: `lucidctl artifact publish` (the retained artifact on the fleet root, its
// signature in the source) and `lucidctl desired set`, which numbers the revision and waits
// until the agent converged. Returns the document as the broker keeps it (retained).
std::string operator_desires(AttackRig& rig, const fs::path& file, const std::string& version,
                             unsigned long long revision) {
    const auto published = rig.ctl({"artifact", "publish", file.string(), "--json"});
    REQUIRE_MESSAGE(published.code == 0, published.output);
    auto out = published.json();
    CHECK(std::string(out["source"]["signature"].GetString()) == signature_of(file));
    rapidjson::StringBuffer source;
    rapidjson::Writer<rapidjson::StringBuffer> writer(source);
    out["source"].Accept(writer);
    const fs::path doc = rig.work.path() / ("desired-" + version + ".json");
    std::ofstream(doc, std::ios::trunc)
        << R"({"components":{"echo":{"version":")" << version << R"(","artifacts":{")"
        << out["platform"].GetString() << R"(":{"source":)" << source.GetString() << "}}}}}";
    rig.client->clear();
    const auto set = rig.ctl({"desired", "set", doc.string()});
    REQUIRE_MESSAGE(set.code == 0, set.output << rig.agent.log());
    REQUIRE_MESSAGE(deployment(rig, state_of(revision, "converged")), rig.agent.log());
    const auto kept = rig.client->wait_for(rig.agent.topic("desired"), [&](const Message& m) {
        return !m.payload.empty() && uint_field(m.payload, "revision") == revision;
    });
    REQUIRE(kept);
    return kept->payload;
}

// `document` with its revision set to `revision` and, at top level or in components.echo, the
// members of `extra_top` and `extra_echo` ({"allow_downgrade":true} ...): what an attacker who
// may publish the document makes of a recorded one.
std::string renumbered(const std::string& document, unsigned long long revision,
                       const std::string& extra_top = "{}", const std::string& extra_echo = "{}") {
    rapidjson::Document doc;
    doc.Parse(document.c_str());
    REQUIRE(doc.IsObject());
    doc["revision"].SetUint64(revision);
    auto merge = [&doc](rapidjson::Value& into, const std::string& members) {
        rapidjson::Document more(&doc.GetAllocator());
        more.Parse(members.c_str());
        REQUIRE(more.IsObject());
        for (auto& m : more.GetObject()) into.AddMember(m.name, m.value, doc.GetAllocator());
    };
    merge(doc, extra_top);
    merge(doc["components"]["echo"], extra_echo);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
    return buffer.GetString();
}

// Publishes `document` retained on the agent's desired topic (what the attacker does) and
// returns the core/deployment that says what came of revision `revision`: its refusal when
// `refused`, else its end (converged or failed).
Message attacker_publishes(AttackRig& rig, const std::string& document, unsigned long long revision,
                           bool refused) {
    rig.client->clear();
    rig.client->publish(rig.agent.topic("desired"), document, 1, true);
    auto seen = deployment(rig, [&](const Message& m) {
        if (m.payload.empty()) return false;
        auto doc = m.json();
        if (refused) {
            return doc["rejected"].IsObject() && doc["rejected"]["revision"].IsUint64() &&
                   doc["rejected"]["revision"].GetUint64() == revision;
        }
        return uint_field(m.payload, "revision") == revision &&
               (m.str("state") == "converged" || m.str("state") == "failed");
    });
    REQUIRE_MESSAGE(seen, rig.agent.log());
    return *seen;
}

// echo runs at 2.0.0: the registry says so and the plugin answers.
void still_at_2(AttackRig& rig, const std::string& request_id) {
    const auto registry = rig.registry();
    REQUIRE(registry["components"].HasMember("echo"));
    CHECK(std::string(registry["components"]["echo"]["version"].GetString()) == "2.0.0");
    rig.echo_answers(request_id);
}

// ---- trusted keys
// --------------------------------------------------------------------------------

// SIGHUP, then the log up to "reload applied"; the agent process is the same and online.
void reload(AttackRig& rig) {
    const std::size_t before = rig.agent.log().size();
    rig.agent.process().signal(SIGHUP);
    REQUIRE_MESSAGE(rig.agent.wait_for_log("reload applied", std::chrono::seconds(10)),
                    rig.agent.log());
    REQUIRE(rig.agent.log().find("reload applied", before) != std::string::npos);
}

// The ERROR and the outcome of a reload that found the directory gone: they name it, and the
// key kept.
void reload_kept(AttackRig& rig, const std::string& key_id, const std::string& policy) {
    const std::string dir = rig.keys.string();
    const std::string kept = "1 from " + dir + " (release.pem " + key_id + ")";
    const std::string log = rig.agent.log();
    CHECK_MESSAGE(has_text(log, "[error] reload: trusted_keys_dir " + dir +
                                    ": no usable Ed25519 public key (the directory does not "
                                    "exist); keeping the previous trusted keys: " +
                                    kept),
                  log);
    CHECK_MESSAGE(has_text(log, "reload applied: trusted keys " + kept + "; signature_policy " +
                                    policy + ";"),
                  log);
    CHECK_FALSE(has_text(log, "signatures are not checked any more"));
}

void online_throughout(AttackRig& rig, pid_t pid, const std::string& request_id) {
    CHECK(rig.agent.process().running());
    CHECK(rig.agent.process().pid() == pid);
    CHECK(ok_of(rig.ping(request_id)));
    const auto statuses = rig.client->messages(rig.agent.topic("status"));
    REQUIRE_FALSE(statuses.empty());
    CHECK(statuses.back().str("state") == "online");
    CHECK(session_of(statuses.back()) == rig.session);
}

std::string unknown_key(const std::string& stranger_id, const std::string& release_id) {
    return "signature invalid: unknown key_id " + stranger_id + ": not among the trusted keys (" +
           release_id + " (release.pem))";
}

}  // namespace

TEST_CASE(
    "a replayed old signed desired state cannot take a component back: its lower revision is "
    "ignored, and renumbered it is refused by the version floor (also with allow_downgrade, a "
    "forged rollback_of, and after the agent lost its applied revision)") {
    AttackRig rig("atk-desired", "required");
    rig.generate_key("release", true);
    const fs::path v1 = rig.signed_copy(LUCID_ITEST_ECHO_1_0, "release");
    const fs::path v2 = rig.signed_copy(LUCID_ITEST_ECHO_2_0, "release");
    rig.start_agent();

    // The operator's history: revision 1 with echo 1.0.0, revision 2 with echo 2.0.0, both
    // signed by the trusted key and published on the fleet root.
    const std::string old_document = operator_desires(rig, v1, "1.0.0", 1);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    operator_desires(rig, v2, "2.0.0", 2);
    still_at_2(rig, "atk-d-2");

    // 1. The recorded revision 1, byte for byte: ignored, and reported.
    auto seen = attacker_publishes(rig, old_document, 1, true);
    CHECK(rejected_error(seen) ==
          "revision 1 is lower than the applied revision 2; ignored (publish a higher revision "
          "to change this agent)");
    CHECK(uint_field(seen.payload, "revision") == 2);
    CHECK(seen.str("state") == "converged");
    still_at_2(rig, "atk-d-replayed");
    // Numbered as the applied revision: other bytes under a revision applied already.
    seen = attacker_publishes(rig, renumbered(old_document, 2), 2, true);
    CHECK(rejected_error(seen) ==
          "revision 2 was applied with other content; publish the change as a higher revision");
    CHECK(seen.str("state") == "converged");
    still_at_2(rig, "atk-d-same-revision");

    // 2. Renumbered above the applied revision: the document is not signed, the artifact is
    // (genuinely, for 1.0.0): the floor refuses it; 2.0.0 keeps running.
    seen = attacker_publishes(rig, renumbered(old_document, 3), 3, false);
    CHECK(seen.str("state") == "failed");
    CHECK(echo_field(seen, "action") == "downgrade");
    CHECK(echo_field(seen, "outcome") == "failed");
    CHECK(echo_field(seen, "error") == downgrade_refused("1.0.0", "2.0.0"));
    still_at_2(rig, "atk-d-renumbered");
    // Relabelled too: the 1.0.0 bytes (and their genuine statement) republished on the fleet
    // root as 2.1.0, and the document claiming 2.1.0 from there: above the floor by its word.
    {
        rapidjson::Document relabelled;
        relabelled.Parse(renumbered(old_document, 4).c_str());
        auto& echo = relabelled["components"]["echo"];
        echo["version"].SetString("2.1.0");
        auto& source = echo["artifacts"].MemberBegin()->value["source"];
        std::string topic = source["topic"].GetString();
        topic.replace(topic.find("/1.0.0/"), 7, "/2.1.0/");
        rig.client->publish(topic, read_bytes(v1), 1, true);
        source["topic"].SetString(topic.c_str(), relabelled.GetAllocator());
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        relabelled.Accept(writer);
        seen = attacker_publishes(rig, buffer.GetString(), 4, false);
        CHECK(seen.str("state") == "failed");
        CHECK(echo_field(seen, "outcome") == "failed");
        // The staged file is named as its topic says; its manifest says otherwise. (Behind
        // this, the floor is checked again on the manifest's version before the file is placed.)
        CHECK_MESSAGE(
            has_text(echo_field(seen, "error"), ": manifest says dist '" + kDist +
                                                    "' version '1.0.0' but the file name says '" +
                                                    kDist + "' '2.1.0'"),
            seen.payload);
        still_at_2(rig, "atk-d-relabelled");
    }

    // 3. With allow_downgrade: under signatures required that takes a signed rollback permit.
    seen = attacker_publishes(rig, renumbered(old_document, 5, "{}", R"({"allow_downgrade":true})"),
                              5, false);
    CHECK(seen.str("state") == "failed");
    CHECK(echo_field(seen, "error") ==
          downgrade_refused("1.0.0", "2.0.0") +
              ": allow_downgrade needs a rollback_permit (LUCID_SIGNATURE_POLICY=required)");
    still_at_2(rig, "atk-d-allow");

    // 4. Posing as a rollout's abort: no rollout holds this floor, so rollback_of opens nothing.
    seen =
        attacker_publishes(rig, renumbered(old_document, 6, R"({"rollback_of":"r-1"})"), 6, false);
    CHECK(seen.str("state") == "failed");
    CHECK(echo_field(seen, "error") == downgrade_refused("1.0.0", "2.0.0"));
    still_at_2(rig, "atk-d-rollback-of");

    // 5. After an empty document and a restart, the applied revision is still known: revision
    // 1 again is ignored.
    rig.client->publish(rig.agent.topic("desired"), "", 1, true);  // no document at restart
    REQUIRE_MESSAGE(deployment(rig, state_of(6, "none")), rig.agent.log());
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.start_agent();
    seen = attacker_publishes(rig, old_document, 1, true);
    CHECK(rejected_error(seen) ==
          "revision 1 is lower than the applied revision 6; ignored (publish a higher revision "
          "to change this agent)");
    still_at_2(rig, "atk-d-restarted");

    // 6. An agent that lost its applied revision (deployment.json unreadable: set aside, the
    // next document is applied whatever its revision) gets revision 1 again, byte for byte:
    // the floor, in its own file, still refuses it.
    rig.client->publish(rig.agent.topic("desired"), "", 1, true);
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    const fs::path state_file = rig.data() / "deployment.json";
    REQUIRE(fs::exists(state_file));
    std::ofstream(state_file, std::ios::trunc) << "{\"revision\":";
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(has_text(rig.agent.log(), "desired state: cannot read " + state_file.string()),
                  rig.agent.log());
    bool set_aside = false;
    for (const auto& entry : fs::directory_iterator(rig.data())) {
        set_aside |= entry.path().filename().string().rfind("deployment.corrupt.", 0) == 0;
    }
    CHECK(set_aside);
    seen = attacker_publishes(rig, old_document, 1, false);
    CHECK(seen.str("state") == "failed");
    CHECK(echo_field(seen, "action") == "downgrade");
    CHECK(echo_field(seen, "error") == downgrade_refused("1.0.0", "2.0.0"));
    still_at_2(rig, "atk-d-forgotten");
}

TEST_CASE(
    "a trusted-keys directory removed while the agent runs (signatures required): the loaded key "
    "keeps refusing unsigned and unknown-key artifacts, and a SIGHUP keeps it, naming the "
    "directory") {
    AttackRig rig("atk-keys-req", "required");
    const std::string release = rig.generate_key("release", true);
    const std::string stranger = rig.generate_key("stranger", false);
    const fs::path v1 = rig.signed_copy(LUCID_ITEST_ECHO_1_0, "release");
    const fs::path v2 = rig.signed_copy(LUCID_ITEST_ECHO_2_0, "release");
    const fs::path v21_stranger = rig.signed_copy(LUCID_ITEST_ECHO_2_1, "stranger");
    rig.start_agent();
    const pid_t pid = rig.agent.process().pid();

    auto installed = rig.install("atk-k-v1", "echo", source_of(v1, signature_of(v1)));
    REQUIRE_MESSAGE(ok_of(installed), installed.payload << rig.agent.log());
    CHECK(rig.wait_status("echo", "running", "1.0.0"));

    fs::remove_all(rig.keys);
    REQUIRE_FALSE(fs::exists(rig.keys));

    // Without a reload: the key loaded at start is what checks.
    auto unsigned_v2 = rig.install("atk-k-unsigned", "echo", source_of(v2));
    CHECK_FALSE(ok_of(unsigned_v2));
    CHECK(error_of(unsigned_v2) == "signature required: the artifact is unsigned");
    auto foreign =
        rig.install("atk-k-stranger", "echo", source_of(v21_stranger, signature_of(v21_stranger)));
    CHECK_FALSE(ok_of(foreign));
    CHECK(error_of(foreign) == unknown_key(stranger, release));
    rig.echo_answers("atk-k-still-1");
    online_throughout(rig, pid, "atk-k-ping-1");

    // SIGHUP with the directory gone: the key is kept (ERROR naming the directory), the policy
    // stays required.
    reload(rig);
    reload_kept(rig, release, "required");
    unsigned_v2 = rig.install("atk-k-unsigned-2", "echo", source_of(v2));
    CHECK(error_of(unsigned_v2) == "signature required: the artifact is unsigned");
    foreign = rig.install("atk-k-stranger-2", "echo",
                          source_of(v21_stranger, signature_of(v21_stranger)));
    CHECK(error_of(foreign) == unknown_key(stranger, release));
    CHECK(std::string(rig.registry()["components"]["echo"]["version"].GetString()) == "1.0.0");
    // The operator is not locked out: what the kept key signed installs.
    auto upgraded = rig.install("atk-k-v2", "echo", source_of(v2, signature_of(v2)));
    CHECK_MESSAGE(ok_of(upgraded), upgraded.payload << rig.agent.log());
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    online_throughout(rig, pid, "atk-k-ping-2");
}

TEST_CASE(
    "a trusted-keys directory removed while the agent runs (signatures optional): after SIGHUP a "
    "present signature is still checked with the kept key, never taken as unchecked") {
    AttackRig rig("atk-keys-opt", "");
    const std::string release = rig.generate_key("release", true);
    const std::string stranger = rig.generate_key("stranger", false);
    const fs::path v1 = rig.signed_copy(LUCID_ITEST_ECHO_1_0, "release");
    const fs::path v2 = rig.signed_copy(LUCID_ITEST_ECHO_2_0, "release");
    const fs::path v1_stranger = rig.signed_copy(LUCID_ITEST_ECHO_1_0, "stranger");
    rig.start_agent();
    const pid_t pid = rig.agent.process().pid();

    fs::remove_all(rig.keys);
    reload(rig);
    reload_kept(rig, release, "optional");

    // A signature by a key the device never trusted: refused, not ignored.
    auto foreign =
        rig.install("atk-o-stranger", "echo", source_of(v1_stranger, signature_of(v1_stranger)));
    CHECK_FALSE(ok_of(foreign));
    CHECK(error_of(foreign) == unknown_key(stranger, release));
    // The trusted key's statement about other bytes (1.0.0's beside 2.0.0): refused.
    auto replayed = rig.install("atk-o-replayed", "echo", source_of(v2, signature_of(v1)));
    CHECK_FALSE(ok_of(replayed));
    CHECK(error_of(replayed) == "signature statement mismatch: sha256 " +
                                    sha256_hex(read_bytes(v1)) + ", artifact " +
                                    sha256_hex(read_bytes(v2)));
    CHECK(registry_entry(rig.registry(), "echo").empty());
    // Its own statement: verified with the kept key, installed.
    auto good = rig.install("atk-o-v1", "echo", source_of(v1, signature_of(v1)));
    CHECK_MESSAGE(ok_of(good), good.payload << rig.agent.log());
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    // Unsigned is what the policy optional allows (contract §8.2), with or without a directory.
    auto unsigned_v2 = rig.install("atk-o-unsigned", "echo", source_of(v2));
    CHECK_MESSAGE(ok_of(unsigned_v2), unsigned_v2.payload);
    online_throughout(rig, pid, "atk-o-ping");
}
