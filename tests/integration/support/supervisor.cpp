#include "supervisor.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "agent_harness.hpp"

namespace lucid::itest {

namespace {
constexpr int kStartLimit = 10;
}

Supervisor::Supervisor(std::vector<std::string> argv, lucid::test::Env env,
                       std::filesystem::path log_file)
    : argv_(std::move(argv)), env_(std::move(env)), log_file_(std::move(log_file)) {}

Supervisor::~Supervisor() { stop(); }

void Supervisor::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    child_.start(argv_, env_, log_file_);
    pid_ = child_.pid();
    ++starts_;
    thread_ = std::thread([this] { watch(); });
}

void Supervisor::watch() {
    std::optional<std::chrono::steady_clock::time_point> stop_sent;
    while (true) {
        // Process has no wait with an event to block on; its wait_exit polls waitpid briefly.
        const auto code = child_.wait_exit(std::chrono::milliseconds(100));
        std::unique_lock<std::mutex> lock(mutex_);
        if (!code) {
            if (stopping_) {
                if (!stop_sent) {
                    child_.signal(SIGTERM);
                    stop_sent = std::chrono::steady_clock::now();
                } else if (std::chrono::steady_clock::now() - *stop_sent >
                           std::chrono::seconds(10)) {
                    child_.signal(SIGKILL);
                }
            }
            continue;
        }
        exits_.push_back(*code);
        pid_ = -1;
        changed_.notify_all();
        if (stopping_ || *code == 0 || starts_ >= kStartLimit) return;
        child_.start(argv_, env_, log_file_);  // Restart=on-failure
        pid_ = child_.pid();
        ++starts_;
    }
}

void Supervisor::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
}

void Supervisor::signal(int signo) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pid_ > 0) ::kill(pid_, signo);
}

std::vector<int> Supervisor::wait_exits(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return exits_.size() >= count; });
    return exits_;
}

std::vector<int> Supervisor::exits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return exits_;
}

int Supervisor::starts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return starts_;
}

bool Supervisor::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    return wait_for_file_text(log_file_, text, timeout);
}

std::string Supervisor::log() const {
    std::ifstream in(log_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace lucid::itest
