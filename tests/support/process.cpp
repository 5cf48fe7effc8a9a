#include "process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace lucid::test {
namespace {

std::vector<std::string> environment(const Env& env) {
    Env merged;
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

// e_machine of an ELF file (0 when it is none): at offset 18 in both ELF classes.
std::uint16_t elf_machine_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char header[20] = {};
    if (!in.read(header, sizeof header) || std::memcmp(header,
                                                       "\x7f"
                                                       "ELF",
                                                       4) != 0)
        return 0;
    std::uint16_t machine = 0;
    std::memcpy(&machine, header + 18, sizeof machine);
    return machine;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), log_file_(std::move(other.log_file_)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) stop(SIGKILL);
        pid_ = std::exchange(other.pid_, -1);
        log_file_ = std::move(other.log_file_);
    }
    return *this;
}

Process::~Process() {
    if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(5));
}

std::vector<std::string> test_emulator() {
    const char* given = std::getenv("LUCID_TEST_EMULATOR");
    std::istringstream words(given ? given : LUCID_TEST_EMULATOR_DEFAULT);
    std::vector<std::string> out;
    for (std::string word; words >> word;) out.push_back(word);
    return out;
}

std::vector<std::string> with_emulator(const std::vector<std::string>& argv) {
    std::vector<std::string> emulator = test_emulator();
    // Under qemu-user /proc/self/exe is the emulated program, this test: its machine is the
    // target's.
    if (emulator.empty() || argv.empty() ||
        elf_machine_of(argv[0]) != elf_machine_of("/proc/self/exe")) {
        return argv;
    }
    emulator.insert(emulator.end(), argv.begin(), argv.end());
    return emulator;
}

void Process::start(const std::vector<std::string>& argv, const Env& env,
                    const std::filesystem::path& log_file) {
    log_file_ = log_file;
    auto env_strings = environment(env);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = with_emulator(argv);
    std::vector<char*> argp;
    for (auto& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);

    // posix_spawn, not fork: the caller is multi-threaded (libmosquitto loop threads).
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Unblock every signal the caller may have blocked, and reset the ones it handles, so
    // SIGTERM reaches the program's own handling.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argp[0], &actions, &attr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv[0] + " (log " + log_file.string() + ")");
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
        // waitpid has no timeout; a short poll keeps the exit time (which the bench measures)
        // accurate to ~0.2 ms.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
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
                                              const Env& env) {
    char path[] = "/tmp/lucid-test-out-XXXXXX";
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

}  // namespace lucid::test
