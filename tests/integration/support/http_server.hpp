// A tiny HTTP/1.1 server for download tests: a thread with a listening socket on
// 127.0.0.1:0 that serves files from a map path → bytes, answers 404 for anything else,
// answers 302 for paths registered as redirects, and can hold a response after its first body
// byte until the test releases it (a slow download the test controls, with no sleeping).
// Every request is counted per path, so a test can prove that nothing was downloaded.
//
// One thread accepts; each connection gets its own thread (a held response never blocks the
// others). Connection: close on every response. Thread: all methods are safe from any thread.
//
//   HttpServer http;
//   http.serve("/files/x-1.0.0.so", bytes);
//   http.hold("/files/x-1.0.0.so");        // next responses stop after one body byte
//   ... http.wait_held(1, 5s) ... http.release();
//   http.trickle("/files/x-1.0.0.so", 200ms); // one body byte every 200 ms
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lucid::itest {

class HttpServer {
  public:
    HttpServer();   // listening when it returns; throws std::runtime_error
    ~HttpServer();  // releases held responses, stops and joins every thread
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string url(const std::string& path) const { return base_url() + path; }

    void serve(const std::string& path, std::string bytes);
    void redirect(const std::string& path, const std::string& location);
    // Responses for `path` send their headers and one body byte, then wait for release().
    void hold(const std::string& path);
    void release();
    // Responses for `path` send their body one byte every `interval` (a slow-loris server)
    // until the client gives up or the server stops.
    void trickle(const std::string& path, std::chrono::milliseconds interval);
    // Waits until `count` trickled responses have ended (the client hung up or all was sent).
    bool wait_trickles_ended(int count, std::chrono::milliseconds timeout);

    // How many requests for `path` arrived (the path as requested, query included).
    int requests(const std::string& path) const;
    // Waits until `count` responses are being held; false on timeout.
    bool wait_held(int count, std::chrono::milliseconds timeout);

  private:
    void accept_loop();
    void handle(int fd);

    int listen_fd_ = -1;
    int wake_fd_ = -1;  // eventfd that ends accept_loop
    int port_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::string, std::string> files_;
    std::map<std::string, std::string> redirects_;
    std::map<std::string, bool> held_paths_;
    std::map<std::string, std::chrono::milliseconds> trickled_paths_;
    int trickles_ended_ = 0;
    std::map<std::string, int> requests_;
    int held_now_ = 0;
    bool released_ = false;
    bool stopping_ = false;
    std::vector<std::thread> connections_;
    std::thread acceptor_;
};

}  // namespace lucid::itest
