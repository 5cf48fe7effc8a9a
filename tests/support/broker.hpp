// A real mosquitto on a free loopback port, configured from a file in its own directory.
// restart() stops it and starts it again on the same port; with persistence on, sessions,
// queued QoS 1 messages and retained messages survive that (what a production broker restart
// looks like). Thread: one owner thread. Errors: start() throws std::runtime_error.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "process.hpp"
#include "temp_dir.hpp"

namespace lucid::test {

class Broker {
  public:
    // Without `auth` anyone may connect; with it, only the users of its password file, each
    // confined by its ACL file.
    struct Auth {
        std::string password_file;
        std::string acl_file;
    };
    // With `tls` the listener speaks only TLS (mqtts://) with this server certificate.
    struct Tls {
        std::string certfile;
        std::string keyfile;
    };
    // The tests' broker, in a temp dir removed with it.
    // `extra_config`: lines appended to its configuration (a limit under test).
    explicit Broker(bool persistence = false, std::optional<Auth> auth = std::nullopt,
                    std::optional<Tls> tls = std::nullopt, const std::string& extra_config = "");
    // The bench's broker: its files in `dir` (kept with lucid-bench --keep), no limit on queued
    // messages (no figure is measured on messages the broker dropped) and no notice lines in
    // its log.
    struct Bench {
        std::filesystem::path dir;
    };
    explicit Broker(Bench bench);
    // A site broker bridged to the broker on `remote_port` (127.0.0.1): `lucid/#` both ways,
    // QoS 1, a persistent bridge session, mosquitto's private bridge protocol (retained flags
    // and no loops).
    struct Bridge {
        int remote_port;
    };
    explicit Broker(Bridge bridge);
    ~Broker();

    int port() const { return port_; }
    pid_t pid() const { return process_.pid(); }
    std::string url() const {
        return (tls_ ? "mqtts://127.0.0.1:" : "mqtt://127.0.0.1:") + std::to_string(port_);
    }

    void start();  // returns once the broker accepts TCP connections
    void stop();   // SIGTERM: mosquitto writes its persistence file on the way out
    void kill();   // SIGKILL: whatever changed since the last persistence file is lost
    void restart() {
        stop();
        start();
    }
    std::string log() const { return process_.log(); }

  private:
    std::optional<TempDir> temp_;
    std::filesystem::path dir_;
    int port_ = 0;
    bool tls_ = false;
    Process process_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();
// Retries connect() until it succeeds or the deadline passes.
bool wait_until_accepting(int port, std::chrono::milliseconds timeout);

}  // namespace lucid::test
