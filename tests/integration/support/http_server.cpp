#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>

namespace lucid::itest {
namespace {

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool send_all(int fd, const std::string& s) { return send_all(fd, s.data(), s.size()); }

// Reads the request head; "" when the client went away or sent nothing in time.
std::string read_request_head(int fd) {
    std::string head;
    char buffer[1024];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return "";
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return "";
        head.append(buffer, static_cast<std::size_t>(n));
    }
    return head;
}

std::string response_head(const std::string& status, std::size_t length,
                          const std::string& extra = "") {
    return "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(length) +
           "\r\nContent-Type: application/octet-stream\r\n" + extra + "Connection: close\r\n\r\n";
}

}  // namespace

HttpServer::HttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ||
        ::listen(listen_fd_, 16)) {
        if (listen_fd_ >= 0) ::close(listen_fd_);
        throw std::runtime_error("http server: cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    acceptor_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    acceptor_.join();
    // No new connection threads once the acceptor is gone.
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
}

void HttpServer::serve(const std::string& path, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_[path] = std::move(bytes);
}

void HttpServer::redirect(const std::string& path, const std::string& location) {
    std::lock_guard<std::mutex> lock(mutex_);
    redirects_[path] = location;
}

void HttpServer::hold(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    held_paths_[path] = true;
    released_ = false;
}

void HttpServer::release() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        released_ = true;
        held_paths_.clear();
    }
    cv_.notify_all();
}

void HttpServer::trickle(const std::string& path, std::chrono::milliseconds interval) {
    std::lock_guard<std::mutex> lock(mutex_);
    trickled_paths_[path] = interval;
}

bool HttpServer::wait_trickles_ended(int count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return trickles_ended_ >= count; });
}

int HttpServer::requests(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = requests_.find(path);
    return it == requests_.end() ? 0 : it->second;
}

bool HttpServer::wait_held(int count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return held_now_ >= count; });
}

void HttpServer::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.emplace_back([this, fd] {
            handle(fd);
            ::close(fd);
        });
    }
}

void HttpServer::handle(int fd) {
    const std::string head = read_request_head(fd);
    const auto first_space = head.find(' ');
    const auto second_space = head.find(' ', first_space + 1);
    if (first_space == std::string::npos || second_space == std::string::npos) return;
    const std::string path = head.substr(first_space + 1, second_space - first_space - 1);

    std::string body;
    bool found = false;
    bool held = false;
    std::optional<std::chrono::milliseconds> trickle;
    std::string location;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++requests_[path];
        if (auto r = redirects_.find(path); r != redirects_.end()) {
            location = r->second;
        } else if (auto f = files_.find(path); f != files_.end()) {
            found = true;
            body = f->second;
            held = held_paths_.count(path) > 0;
            if (auto t = trickled_paths_.find(path); t != trickled_paths_.end())
                trickle = t->second;
        }
    }
    cv_.notify_all();

    if (!location.empty()) {
        send_all(fd, response_head("302 Found", 0, "Location: " + location + "\r\n"));
        return;
    }
    if (!found) {
        const std::string text = "not found";
        send_all(fd, response_head("404 Not Found", text.size()) + text);
        return;
    }
    if (!send_all(fd, response_head("200 OK", body.size()))) return;
    if (trickle) {
        // The pace is the point here: wait_for on the stop condition doubles as the interval.
        std::unique_lock<std::mutex> lock(mutex_);
        for (std::size_t i = 0; i < body.size() && !stopping_; ++i) {
            lock.unlock();
            const bool sent = send_all(fd, body.data() + i, 1);
            lock.lock();
            if (!sent) break;
            cv_.wait_for(lock, *trickle, [&] { return stopping_; });
        }
        ++trickles_ended_;
        cv_.notify_all();
        return;
    }
    if (held && !body.empty()) {
        if (!send_all(fd, body.data(), 1)) return;
        std::unique_lock<std::mutex> lock(mutex_);
        ++held_now_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_ || stopping_; });
        --held_now_;
        if (stopping_) return;
        lock.unlock();
        send_all(fd, body.data() + 1, body.size() - 1);
        return;
    }
    send_all(fd, body);
}

}  // namespace lucid::itest
