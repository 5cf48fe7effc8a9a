// TLS to the broker: with the right CA the agent comes online over mqtts://; with a CA that did
// not sign the broker's certificate it refuses the connection and never reports online; lucidctl
// says why (the CA file and OpenSSL's reason).
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

#include "agent_harness.hpp"
#include "ctl_runner.hpp"

using namespace lucid::itest;

namespace {

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto [code, output] = run_to_completion(argv, {});
    REQUIRE_MESSAGE(code == 0, output);
}

// A self-signed CA in `dir/<name>.pem` (key `<name>.key`).
void make_ca(const TempDir& dir, const std::string& name) {
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
             "-keyout", (dir / (name + ".key")).string(), "-out",
             (dir / (name + ".pem")).string()});
}

// A server certificate for 127.0.0.1 signed by CA `ca`.
void make_server_cert(const TempDir& dir, const std::string& ca) {
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
             (dir / "server.key").string(), "-out", (dir / "server.csr").string()});
    std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
    openssl({"x509", "-req", "-in", (dir / "server.csr").string(), "-CA",
             (dir / (ca + ".pem")).string(), "-CAkey", (dir / (ca + ".key")).string(),
             "-CAcreateserial", "-days", "2", "-extfile", (dir / "san.ext").string(), "-out",
             (dir / "server.pem").string()});
}

}  // namespace

TEST_CASE("the agent connects over TLS with the right CA and refuses a broker a wrong CA signed") {
    TempDir pki;
    make_ca(pki, "fleet-ca");
    make_ca(pki, "other-ca");
    make_server_cert(pki, "fleet-ca");
    Broker broker(false, std::nullopt,
                  Broker::Tls{(pki / "server.pem").string(), (pki / "server.key").string()});
    broker.start();

    {
        MqttClient observer(broker.port(), "", "", "", (pki / "fleet-ca.pem").string());
        AgentHarness agent(broker, "tls-good");
        observer.subscribe(agent.topic("#"));
        agent.start({{"LUCID_TLS_CA", (pki / "fleet-ca.pem").string()}});
        CHECK_MESSAGE(wait_online(observer, agent), agent.log(), broker.log());
        CHECK(agent.stop(SIGTERM) == 0);
    }
    {
        AgentHarness agent(broker, "tls-bad");
        agent.start({{"LUCID_TLS_CA", (pki / "other-ca.pem").string()}});
        CHECK_MESSAGE(agent.wait_for_log("certificate verify failed", std::chrono::seconds(10)),
                      agent.log());
        // OpenSSL's reason and the CA file, not only libmosquitto's "A TLS error occurred".
        CHECK_MESSAGE(agent.wait_for_log("certificate verify failed: unable to get local issuer "
                                         "certificate (broker 127.0.0.1, CA " +
                                             (pki / "other-ca.pem").string() + ")",
                                         std::chrono::seconds(10)),
                      agent.log());
        CHECK(agent.log().find("connected to mqtts://") == std::string::npos);
        CHECK(agent.stop(SIGTERM) == 0);
    }
    {
        // No CA file: the system's CAs, which do not know the fleet's CA. The handshake is
        // tried and refused; the session is not given up with "Invalid function arguments".
        AgentHarness agent(broker, "tls-system");
        agent.start({});
        CHECK_MESSAGE(agent.wait_for_log("certificate verify failed", std::chrono::seconds(10)),
                      agent.log());
        CHECK(agent.log().find("TLS setup failed") == std::string::npos);
        CHECK(agent.stop(SIGTERM) == 0);
    }
    {
        // The right CA, but the broker's certificate is for 127.0.0.1, not "localhost".
        AgentHarness agent(broker, "tls-host");
        agent.start({{"LUCID_TLS_CA", (pki / "fleet-ca.pem").string()},
                     {"LUCID_MQTT_URL", "mqtts://localhost:" + std::to_string(broker.port())}});
        CHECK_MESSAGE(agent.wait_for_log("certificate verify failed: hostname mismatch (broker "
                                         "localhost",
                                         std::chrono::seconds(10)),
                      agent.log());
        CHECK(agent.stop(SIGTERM) == 0);
    }
}

TEST_CASE("lucidctl names the CA file and OpenSSL's reason when TLS fails") {
    TempDir pki;
    make_ca(pki, "fleet-ca");
    make_ca(pki, "other-ca");
    make_server_cert(pki, "fleet-ca");
    Broker broker(false, std::nullopt,
                  Broker::Tls{(pki / "server.pem").string(), (pki / "server.key").string()});
    broker.start();
    const std::string port = std::to_string(broker.port());
    auto ctl = [&](const std::string& url, const std::string& ca) {
        return run_ctl({"--timeout", "5", "--url", url, "--tls-ca", ca, "agents"}, {});
    };

    const auto good = ctl(broker.url(), (pki / "fleet-ca.pem").string());
    CHECK_MESSAGE(good.code == 0, good.output);

    const std::string other = (pki / "other-ca.pem").string();
    const auto wrong_ca = ctl(broker.url(), other);
    CHECK(wrong_ca.code == 3);
    CHECK_MESSAGE(wrong_ca.has("TLS handshake with mqtts://127.0.0.1:" + port +
                               " failed: certificate verify failed: unable to get local issuer "
                               "certificate (CA file " +
                               other + ")"),
                  wrong_ca.output);

    const std::string fleet = (pki / "fleet-ca.pem").string();
    const auto wrong_name = ctl("mqtts://localhost:" + port, fleet);
    CHECK(wrong_name.code == 3);
    CHECK_MESSAGE(
        wrong_name.has("certificate verify failed: hostname mismatch (CA file " + fleet + ")"),
        wrong_name.output);

    const auto missing = ctl(broker.url(), (pki / "nope.pem").string());
    CHECK(missing.code == 2);
    CHECK_MESSAGE(
        missing.has("tls_ca " + (pki / "nope.pem").string() + ": No such file or directory"),
        missing.output);
    // Not a certificate, or a key of another certificate: a local problem too (exit 2), named
    // as the agent names it, not a failed handshake.
    const auto junk = pki / "junk.pem";
    std::ofstream(junk) << "not a certificate\n";
    const auto not_a_ca = ctl(broker.url(), junk.string());
    CHECK(not_a_ca.code == 2);
    CHECK_MESSAGE(not_a_ca.has("tls_ca " + junk.string() + ": no PEM certificate in it ("),
                  not_a_ca.output);
}
