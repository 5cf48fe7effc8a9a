#include "broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace lucid::bench {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
}

}  // namespace

int free_loopback_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot bind a loopback port");
    }
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool wait_accepting(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr = loopback(port);
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return false;
}

Broker::Broker(std::filesystem::path dir) : dir_(std::move(dir)), port_(free_loopback_port()) {
    std::filesystem::create_directories(dir_);
    std::ofstream conf(dir_ / "mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "set_tcp_nodelay true\n"
         // No queue limit: a throughput run must not be measured on dropped messages.
         << "max_queued_messages 0\n"
         << "persistence false\n"
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\n";
    // Started as root, mosquitto would switch to user "mosquitto": stay who we are.
    if (const passwd* pw = getpwuid(geteuid())) conf << "user " << pw->pw_name << "\n";
}

Broker::~Broker() { stop(); }

void Broker::start() {
    process_.start({"/usr/sbin/mosquitto", "-c", (dir_ / "mosquitto.conf").string()}, {},
                   dir_ / "mosquitto.log");
    if (!wait_accepting(port_, std::chrono::seconds(10))) {
        throw std::runtime_error("mosquitto did not start: " + read_text(dir_ / "mosquitto.log"));
    }
}

void Broker::stop() {
    if (process_.running()) process_.stop(SIGTERM);
}

}  // namespace lucid::bench
