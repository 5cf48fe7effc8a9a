#include "broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace lucid::test {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
}

// The lines both brokers share.
void write_common(std::ofstream& conf, int port) {
    conf << "listener " << port << " 127.0.0.1\n"
         << "set_tcp_nodelay true\n"
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\n";
    // Started as root, mosquitto switches to user "mosquitto", which could not write its
    // persistence file into our directory: stay the user running the test.
    if (const passwd* pw = getpwuid(geteuid())) conf << "user " << pw->pw_name << "\n";
}

}  // namespace

int free_port() {
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

bool wait_until_accepting(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr = loopback(port);
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (ok) return true;
        // The broker is still starting; retry shortly (bounded by the deadline). Short: the
        // bench's reconnect figure counts from the broker accepting again.
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return false;
}

Broker::Broker(bool persistence, std::optional<Auth> auth, std::optional<Tls> tls,
               const std::string& extra_config)
    : temp_(std::in_place), dir_(temp_->path()), port_(free_port()), tls_(tls.has_value()) {
    std::ofstream conf(dir_ / "mosquitto.conf");
    write_common(conf, port_);
    conf << "log_type notice\n";
    if (tls) conf << "certfile " << tls->certfile << "\nkeyfile " << tls->keyfile << "\n";
    if (auth) {
        conf << "allow_anonymous false\n"
             << "password_file " << auth->password_file << "\n"
             << "acl_file " << auth->acl_file << "\n";
    } else {
        conf << "allow_anonymous true\n";
    }
    if (persistence) {
        conf << "persistence true\n"
             << "persistence_location " << dir_.string() << "/\n"
             << "autosave_interval 0\n";
    }
    conf << extra_config;
}

Broker::Broker(Bench bench) : dir_(std::move(bench.dir)), port_(free_port()) {
    std::filesystem::create_directories(dir_);
    std::ofstream conf(dir_ / "mosquitto.conf");
    write_common(conf, port_);
    conf << "allow_anonymous true\n"
         << "max_queued_messages 0\n"
         << "sys_interval 1\n";  // the fleet scenario counts PUBLISH packets from $SYS
}

Broker::Broker(Bridge bridge) : temp_(std::in_place), dir_(temp_->path()), port_(free_port()) {
    std::ofstream conf(dir_ / "mosquitto.conf");
    write_common(conf, port_);
    conf << "log_type notice\n"
         << "allow_anonymous true\n"
         << "connection site-to-central\n"
         << "address 127.0.0.1:" << bridge.remote_port << "\n"
         << "topic lucid/# both 1\n"
         << "cleansession false\n"
         << "try_private true\n"
         << "restart_timeout 1\n";
}

Broker::~Broker() { stop(); }

void Broker::start() {
    process_.start({"/usr/sbin/mosquitto", "-c", (dir_ / "mosquitto.conf").string()}, {},
                   dir_ / "mosquitto.log");
    if (!wait_until_accepting(port_, std::chrono::seconds(10))) {
        throw std::runtime_error("mosquitto did not start:\n" + process_.log());
    }
}

void Broker::stop() {
    if (process_.running()) process_.stop(SIGTERM);
}

void Broker::kill() {
    if (process_.running()) process_.stop(SIGKILL);
}

}  // namespace lucid::test
