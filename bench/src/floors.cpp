#include "floors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "stats.hpp"

namespace lucid::bench {
namespace {

constexpr auto kEchoTimeout = std::chrono::seconds(30);

std::string echo_request(const std::string& id) { return "{\"request_id\":\"" + id + "\"}"; }

void write_all(int fd, const std::string& bytes, const fs::path& file) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) throw std::runtime_error("the floor cannot write " + file.string());
        done += static_cast<std::size_t>(n);
    }
}

void fsync_or_throw(int fd, const fs::path& file) {
    if (::fsync(fd) != 0) throw std::runtime_error("the floor cannot fsync " + file.string());
}

}  // namespace

void wait_echo_ready(MqttClient& driver) {
    for (int i = 0; i < 200; ++i) {
        const std::string id = next_request_id("echo-ready");
        driver.publish_nowait("bench/echo/cmd", echo_request(id));
        if (driver.take([&](const Message& m) { return has_request_id(m.payload, id); },
                        std::chrono::milliseconds(50))) {
            return;
        }
    }
    throw std::runtime_error("the echo client never answered");
}

double echo_once(MqttClient& driver) {
    const std::string id = next_request_id("echo");
    const auto start = Clock::now();
    driver.publish_nowait("bench/echo/cmd", echo_request(id));
    auto r = driver.take(
        [&](const Message& m) {
            return m.topic == "bench/echo/result" && has_request_id(m.payload, id);
        },
        kEchoTimeout);
    if (!r) throw std::runtime_error("echo timed out");
    return seconds_between(start, r->received);
}

DurableFloor::DurableFloor(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_);
    const fs::path journal = dir_ / "floor.journal";
    journal_fd_ = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (journal_fd_ < 0) throw std::runtime_error("cannot open " + journal.string());
}

DurableFloor::~DurableFloor() {
    if (journal_fd_ >= 0) ::close(journal_fd_);
}

double DurableFloor::append_synced(std::size_t bytes) {
    const std::string record(bytes, 'r');
    const auto start = Clock::now();
    write_all(journal_fd_, record, dir_ / "floor.journal");
    if (::fdatasync(journal_fd_) != 0) throw std::runtime_error("the floor's fdatasync failed");
    return seconds_between(start, Clock::now());
}

double DurableFloor::replace_synced(std::size_t bytes) {
    const std::string content(bytes, 'f');
    const fs::path target = dir_ / "floor.json", temp = dir_ / "floor.json.tmp";
    const auto start = Clock::now();
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) throw std::runtime_error("the floor cannot create " + temp.string());
    try {
        write_all(fd, content, temp);
        fsync_or_throw(fd, temp);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        throw std::runtime_error("the floor cannot rename onto " + target.string());
    }
    const int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) throw std::runtime_error("the floor cannot open " + dir_.string());
    const int rc = ::fsync(dir);
    ::close(dir);
    if (rc != 0) throw std::runtime_error("the floor cannot fsync " + dir_.string());
    return seconds_between(start, Clock::now());
}

}  // namespace lucid::bench
