// A mosquitto of the bench's own on a free loopback port, with set_tcp_nodelay and no queue
// limits (so that no benchmark measures messages the broker dropped). stop() and start() again
// keep the port: the reconnect benchmark restarts the broker under connected clients.
// Thread: one owner thread. Errors: start() throws std::runtime_error.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "child_process.hpp"

namespace lucid::bench {

int free_loopback_port();
// True once a TCP connect to 127.0.0.1:port succeeds (polled until the deadline).
bool wait_accepting(int port, std::chrono::milliseconds timeout);

class Broker {
  public:
    explicit Broker(std::filesystem::path dir);
    ~Broker();

    void start();
    void stop();
    int port() const { return port_; }
    std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

  private:
    std::filesystem::path dir_;
    int port_;
    ChildProcess process_;
};

}  // namespace lucid::bench
