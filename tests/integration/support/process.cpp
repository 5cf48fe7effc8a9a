#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace lucid::itest {
namespace {

std::vector<std::string> environment(const std::map<std::string, std::string>& env) {
    std::map<std::string, std::string> merged;
    for (const char* name : {"PATH", "HOME"}) {
        if (const char* v = std::getenv(name)) merged[name] = v;
    }
    // Sanitizer settings of the test run apply to the agent too.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
        if (const char* v = std::getenv(name)) merged[name] = v;
    }
    for (const auto& [k, v] : env) merged[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Process::~Process() {
    if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(5));
}

void Process::start(const std::vector<std::string>& argv,
                    const std::map<std::string, std::string>& env,
                    const std::filesystem::path& log_file) {
    log_file_ = log_file;
    auto env_strings = environment(env);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);

    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log_file.string());
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec. Unblock every signal the test may
        // have blocked, so SIGTERM reaches the program's own handling.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argp[0], argp.data(), envp.data());
        _exit(127);
    }
    ::close(fd);
    pid_ = pid;
}

void Process::signal(int signo) {
    if (pid_ > 0) ::kill(pid_, signo);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        int status = 0;
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return decode_status(status);
        }
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        // waitpid has no timeout; poll the child's state at a short interval until the deadline.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

int Process::stop(int signo, std::chrono::milliseconds timeout) {
    signal(signo);
    if (auto code = wait_exit(timeout)) return *code;
    signal(SIGKILL);
    return wait_exit(std::chrono::seconds(5)).value_or(-1);
}

std::string Process::log() const {
    std::ifstream in(log_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::pair<int, std::string> run_to_completion(const std::vector<std::string>& argv,
                                              const std::map<std::string, std::string>& env) {
    char path[] = "/tmp/lucid-itest-out-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    Process p;
    p.start(argv, env, path);
    const auto code = p.wait_exit(std::chrono::seconds(30)).value_or(-1);
    auto out = p.log();
    ::unlink(path);
    return {code, out};
}

}  // namespace lucid::itest
