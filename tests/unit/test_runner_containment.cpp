// The runner's containment measures (runner/containment/containment.hpp). They are process-wide
// and irreversible, so every case applies them in a forked child, which reports what it sees
// over a pipe ("key\tvalue" lines); the checks run here, in the parent. The children end with
// _exit: no atexit handler (LeakSanitizer's included) runs under their seccomp filter.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "containment/containment.hpp"
#include "containment/plugin_image.hpp"
#include "containment/writable_dir.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using lucid::runner::ContainmentRequest;
using lucid::runner::kSanitizerBuild;
using lucid::runner::Measure;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// The child's side of the pipe: one "key\tvalue" line per fact.
class Report {
  public:
    explicit Report(int fd) : fd_(fd) {}
    void put(const std::string& key, const std::string& value) {
        std::string line = key + '\t' + value;
        std::replace(line.begin(), line.end(), '\n', ' ');
        line += '\n';
        const char* data = line.data();
        std::size_t left = line.size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, data, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            data += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    void put(const std::string& key, long long value) { put(key, std::to_string(value)); }
    void measures(const std::vector<Measure>& measures) {
        for (const Measure& m : measures) put("measure " + m.name, m.result);
        put("failed", lucid::runner::containment_failed(measures) ? "yes" : "no");
    }

  private:
    int fd_;
};

// What a child reported, and how it ended.
struct ChildRun {
    std::vector<std::pair<std::string, std::string>> lines;  // in order
    std::map<std::string, std::string> facts;
    int status = 0;
    bool timed_out = false;

    const std::string& operator[](const std::string& key) const {
        static const std::string missing = "<not reported>";
        const auto it = facts.find(key);
        return it == facts.end() ? missing : it->second;
    }
    std::vector<std::string> measure_names() const {
        std::vector<std::string> names;
        for (const auto& [key, value] : lines) {
            if (key.rfind("measure ", 0) == 0) names.push_back(key.substr(8));
        }
        return names;
    }
    std::string measures_text() const {
        std::string text;
        for (const auto& [key, value] : lines) {
            if (key.rfind("measure ", 0) == 0) text += "  " + key.substr(8) + ": " + value + "\n";
        }
        return text;
    }
};

void parse_lines(const std::string& text, ChildRun& run) {
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        const std::size_t tab = line.find('\t');
        if (tab != std::string::npos) {
            run.lines.emplace_back(line.substr(0, tab), line.substr(tab + 1));
            run.facts[line.substr(0, tab)] = line.substr(tab + 1);
        }
        start = end + 1;
    }
}

// Reads `fd` until every writer has closed it (EOF) or `timeout` passes.
std::string read_until_eof(int fd, std::chrono::milliseconds timeout, bool& timed_out) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text;
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            return text;
        }
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;  // the deadline check above ends it
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

// Before a fork: doctest's buffered output would otherwise be written once more by a child
// whose end flushes stdio (a sanitizer's report on a signal).
void flush_output() {
    std::cout.flush();
    std::fflush(nullptr);
}

// Runs `body` in a forked child and collects its report; the child is killed after `timeout`.
ChildRun in_child(const std::function<void(Report&)>& body,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    flush_output();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        Report report(fds[1]);
        try {
            body(report);
        } catch (const std::exception& e) {
            report.put("exception", e.what());
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    ChildRun run;
    const std::string text = read_until_eof(fds[0], timeout, run.timed_out);
    ::close(fds[0]);
    if (run.timed_out) ::kill(pid, SIGKILL);
    ::waitpid(pid, &run.status, 0);
    parse_lines(text, run);
    return run;
}

// "ok" when a system call succeeded, else its errno's name ("EPERM").
std::string outcome(long rc) {
    if (rc >= 0) return "ok";
    const char* name = ::strerrorname_np(errno);
    return name ? name : std::to_string(errno);
}

std::string vm_size_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmSize:", 0) == 0)
            return std::to_string(std::stoull(line.substr(7)) / 1024);
    }
    return "0";
}

void report_limit(Report& report, const std::string& key, int resource) {
    rlimit limit{};
    ::getrlimit(resource, &limit);
    report.put(key, std::to_string(limit.rlim_cur) + "/" + std::to_string(limit.rlim_max));
}

const std::vector<std::string> kNames = {
    "process_group", "pdeathsig", "no_new_privs", "rlimit_memory", "rlimit_open_files",
    "rlimit_cpu",    "run_as",    "writable_dir", "landlock",      "seccomp"};

}  // namespace

TEST_CASE("every measure is reported by name in a fixed order, the unasked ones as not requested") {
    const ChildRun run = in_child([](Report& report) {
        report.measures(lucid::runner::apply_containment(ContainmentRequest{}));
    });
    MESSAGE("measures for a default request:\n" << run.measures_text());
    CHECK(run.measure_names() == kNames);
    CHECK(run["measure process_group"] == "applied");
    CHECK(run["measure pdeathsig"] == "not requested");
    CHECK(run["measure no_new_privs"] == "applied");
    CHECK(run["measure rlimit_memory"] == "not requested");
    CHECK(run["measure rlimit_open_files"] == "not requested");
    CHECK(run["measure rlimit_cpu"] == "not requested");
    CHECK(run["measure run_as"] == "not requested");
    CHECK(run["measure writable_dir"] == "not requested");
    CHECK(run["measure landlock"] == "not requested");
    CHECK(run["measure seccomp"] == "applied");
    CHECK(run["failed"] == "no");
}

TEST_CASE(
    "the child leads its own process group, dies with its parent, gains no privileges and "
    "has its rlimits") {
    lucid::test::TempDir dir;
    const pid_t parent = ::getpid();
    const std::string writable = (dir / "component").string();
    const ChildRun run = in_child([&](Report& report) {
        ContainmentRequest request;
        request.expected_parent = parent;
        request.open_files = 64;
        request.cpu_seconds = 30;
        request.memory_mb = 1024;
        request.address_space_limit = !kSanitizerBuild;
        request.sanitizer_build = kSanitizerBuild;
        request.writable_dir = writable;
        request.read_paths = {"/usr", "/lib", "/lib64", "/etc", "/proc", "/dev", "/sys"};
        request.write_paths = {"/tmp", "/dev/null"};
        report.measures(lucid::runner::apply_containment(request));
        report.put("group leader", ::getpgrp() == ::getpid() ? "yes" : "no");
        int pdeathsig = 0;
        ::prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
        report.put("pdeathsig", pdeathsig);
        report.put("no_new_privs", ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        report_limit(report, "nofile", RLIMIT_NOFILE);
        report_limit(report, "cpu", RLIMIT_CPU);
        report_limit(report, "as", RLIMIT_AS);
        report.put("cwd", fs::current_path().string());
    });
    const std::string build = kSanitizerBuild ? "sanitizer" : "plain";
    MESSAGE("measures on this machine (" << build << " build):\n" << run.measures_text());
    REQUIRE_FALSE(run.timed_out);
    CHECK(run.measure_names() == kNames);
    CHECK(run["measure process_group"] == "applied");
    CHECK(run["group leader"] == "yes");
    CHECK(run["measure pdeathsig"] == "applied");
    CHECK(run["pdeathsig"] == std::to_string(SIGKILL));
    CHECK(run["measure no_new_privs"] == "applied");
    CHECK(run["no_new_privs"] == "1");
    CHECK(run["measure rlimit_open_files"] == "applied");
    CHECK(run["nofile"] == "64/64");
    CHECK(run["measure rlimit_cpu"] == "applied");
    CHECK(run["cpu"] == "30/31");  // SIGXCPU at 30 s, SIGKILL at 31 s
    if (kSanitizerBuild) {
        CHECK(run["measure rlimit_memory"] ==
              "unavailable: sanitizer build reserves address space");
        CHECK(run["as"] == std::to_string(RLIM_INFINITY) + "/" + std::to_string(RLIM_INFINITY));
    } else {
        CHECK(run["measure rlimit_memory"] == "applied");
        CHECK(run["as"] == std::to_string(1024 * kMiB) + "/" + std::to_string(1024 * kMiB));
    }
    CHECK(run["measure writable_dir"] == "applied");
    CHECK(run["cwd"] == writable);
    struct stat st {};
    REQUIRE(::stat(writable.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(run["measure seccomp"] == (kSanitizerBuild
                                         ? "applied (ptrace allowed: LeakSanitizer in this "
                                           "sanitizer build needs it)"
                                         : "applied"));
    const std::string& landlock = run["measure landlock"];
    CHECK((landlock == "applied" || landlock.rfind("unavailable: ", 0) == 0));
    CHECK(run["failed"] == "no");
}

TEST_CASE("rlimit_memory caps the address space: a mapping beyond memory_mb fails with ENOMEM") {
    // The limit sits 256 MiB above what the child already maps, so the check works in a
    // sanitizer build too (its reserved terabytes are already mapped; the limit stops more).
    const ChildRun run = in_child([](Report& report) {
        const std::uint64_t limit_mb = std::stoull(vm_size_mib()) + 256;
        ContainmentRequest request;
        request.memory_mb = limit_mb;
        request.seccomp = false;
        report.measures(lucid::runner::apply_containment(request));
        report.put("expected",
                   std::to_string(limit_mb * kMiB) + "/" + std::to_string(limit_mb * kMiB));
        report_limit(report, "as", RLIMIT_AS);
        report_limit(report, "data", RLIMIT_DATA);
        void* big =
            ::mmap(nullptr, 512 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        report.put("512 MiB", outcome(big == MAP_FAILED ? -1 : 0));
        void* small =
            ::mmap(nullptr, 16 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        report.put("16 MiB", outcome(small == MAP_FAILED ? -1 : 0));
    });
    REQUIRE_FALSE(run.timed_out);
    CHECK(run["measure rlimit_memory"] == "applied");
    CHECK(run["as"] == run["expected"]);
    CHECK(run["data"] == run["expected"]);
    CHECK(run["512 MiB"] == "ENOMEM");
    CHECK(run["16 MiB"] == "ok");
}

TEST_CASE("without the address space limit (sanitizer builds) rlimit_memory says why") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.memory_mb = 64;
        request.address_space_limit = false;
        report.measures(lucid::runner::apply_containment(request));
    });
    CHECK(run["measure rlimit_memory"] == "unavailable: sanitizer build reserves address space");
    CHECK(run["failed"] == "no");
}

TEST_CASE("opening files beyond open_files fails with EMFILE") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.open_files = 24;
        report.measures(lucid::runner::apply_containment(request));
        int highest = -1;
        for (int i = 0; i < 100; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                report.put("open", outcome(fd));
                break;
            }
            highest = std::max(highest, fd);
        }
        report.put("highest fd", highest);
    });
    CHECK(run["measure rlimit_open_files"] == "applied");
    CHECK(run["open"] == "EMFILE");
    CHECK(run["highest fd"] == "23");
}

TEST_CASE("a child spinning past cpu_seconds is ended by SIGXCPU") {
    const ChildRun run = in_child([](Report& report) {
        const rlimit no_core{0, 0};  // SIGXCPU dumps core by default
        ::setrlimit(RLIMIT_CORE, &no_core);
        ContainmentRequest request;
        request.cpu_seconds = 1;
        report.measures(lucid::runner::apply_containment(request));
        for (volatile unsigned long spin = 0;; spin = spin + 1) {
        }
    });
    REQUIRE_FALSE(run.timed_out);
    CHECK(run["measure rlimit_cpu"] == "applied");
    REQUIRE(WIFSIGNALED(run.status));
    CHECK(lucid::runner::describe_signal(WTERMSIG(run.status)) == "SIGXCPU");
}

TEST_CASE("seccomp refuses ptrace, namespaces and mounts with EPERM; ordinary calls still work") {
    lucid::test::TempDir dir;
    const std::string file = (dir / "written").string();
    const ChildRun run = in_child([&](Report& report) {
        ContainmentRequest request;
        request.sanitizer_build = false;  // the child never runs LeakSanitizer: it ends with _exit
        report.measures(lucid::runner::apply_containment(request));
        // Each probe fails harmlessly without the filter too, but with another errno.
        report.put("ptrace cont", outcome(::ptrace(PTRACE_CONT, ::getppid(), nullptr, nullptr)));
        report.put("mount", outcome(::mount("none", "/nonexistent/lucid", "tmpfs", 0, nullptr)));
        // CLONE_FS with CLONE_NEWUSER is EINVAL in the kernel: no process is ever made here.
        report.put("clone newuser",
                   outcome(::syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
#ifdef SYS_clone3
        report.put("clone3", outcome(::syscall(SYS_clone3, nullptr, 0)));
#endif
#ifdef SYS_fsopen
        report.put("fsopen", outcome(::syscall(SYS_fsopen, "lucid-no-such-fs", 0)));
#endif
        report.put("bpf", outcome(::syscall(SYS_bpf, 0, nullptr, 0)));
#if defined(__x86_64__) && defined(__X32_SYSCALL_BIT)
        // The x32 ABI shares x86_64's audit arch but numbers its calls otherwise.
        report.put("x32 getpid", outcome(::syscall(__X32_SYSCALL_BIT | SYS_getpid)));
#endif
        // What a plugin does every day.
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        report.put("open", outcome(fd));
        report.put("write", outcome(::write(fd, "x", 1)));
        ::close(fd);
        void* page =
            ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        report.put("mmap", outcome(page == MAP_FAILED ? -1 : 0));
        timespec now{};
        report.put("clock_gettime", outcome(::clock_gettime(CLOCK_MONOTONIC, &now)));
        bool ran = false;
        std::thread([&] { ran = true; }).join();  // glibc tries clone3, then clone
        report.put("thread", ran ? "ok" : "did not run");
        const pid_t grandchild = ::fork();
        if (grandchild == 0) ::_exit(7);
        int status = 0;
        ::waitpid(grandchild, &status, 0);
        report.put("fork", WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "ok" : "failed");
        // Late: were it allowed, the probes after it would run in a user namespace of their own.
        report.put("unshare", outcome(::unshare(CLONE_NEWUSER)));
        // Last: were it allowed, the child would stop at its next signal, traced by doctest.
        report.put("ptrace traceme", outcome(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)));
    });
    REQUIRE_FALSE(run.timed_out);
    CHECK(run["measure seccomp"] == "applied");
    CHECK(run["ptrace cont"] == "EPERM");
    CHECK(run["ptrace traceme"] == "EPERM");
    CHECK(run["unshare"] == "EPERM");
    CHECK(run["mount"] == "EPERM");
    CHECK(run["clone newuser"] == "EPERM");
#ifdef SYS_clone3
    CHECK(run["clone3"] == "ENOSYS");
#endif
#ifdef SYS_fsopen
    CHECK(run["fsopen"] == "EPERM");
#endif
    CHECK(run["bpf"] == "EPERM");
#if defined(__x86_64__) && defined(__X32_SYSCALL_BIT)
    CHECK(run["x32 getpid"] == "EPERM");
#endif
    CHECK(run["open"] == "ok");
    CHECK(run["write"] == "ok");
    CHECK(run["mmap"] == "ok");
    CHECK(run["clock_gettime"] == "ok");
    CHECK(run["thread"] == "ok");
    CHECK(run["fork"] == "ok");
    CHECK(run["exception"] == "<not reported>");
}

TEST_CASE("without the filter the same probes fail otherwise: EPERM above is the filter's") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.seccomp = false;
        report.measures(lucid::runner::apply_containment(request));
        report.put("ptrace cont", outcome(::ptrace(PTRACE_CONT, ::getppid(), nullptr, nullptr)));
        report.put("mount", outcome(::mount("none", "/nonexistent/lucid", "tmpfs", 0, nullptr)));
        report.put("clone newuser",
                   outcome(::syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
    });
    CHECK(run["measure seccomp"] == "not requested");
    CHECK(run["ptrace cont"] == "ESRCH");  // not our tracee
    CHECK(run["clone newuser"] == "EINVAL");
    if (::geteuid() == 0) CHECK(run["mount"] == "ENOENT");
}

TEST_CASE("in a sanitizer build the filter leaves ptrace to LeakSanitizer and says so") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.sanitizer_build = true;
        report.measures(lucid::runner::apply_containment(request));
        report.put("ptrace cont", outcome(::ptrace(PTRACE_CONT, ::getppid(), nullptr, nullptr)));
        report.put("unshare", outcome(::unshare(CLONE_NEWUSER)));
    });
    CHECK(run["measure seccomp"] ==
          "applied (ptrace allowed: LeakSanitizer in this sanitizer build needs it)");
    CHECK(run["ptrace cont"] == "ESRCH");
    CHECK(run["unshare"] == "EPERM");
}

#if defined(__x86_64__)
namespace {
// getpid through the i386 entry (int $0x80, number 20): another audit architecture.
long i386_getpid() {
    long result = 20;
    asm volatile("int $0x80" : "+a"(result) : : "memory", "cc", "r8", "r9", "r10", "r11");
    return result;
}
}  // namespace

TEST_CASE("a system call through another architecture's entry kills the filtered process") {
    // Without the filter first: a kernel without IA32 emulation has no such entry at all.
    const ChildRun plain = in_child([](Report& report) {
        // A kernel without the entry faults the call: the default action, not doctest's report
        // or the sanitizer's.
        ::signal(SIGSEGV, SIG_DFL);
        report.put("getpid", i386_getpid() == ::getpid() ? "ok" : "other");
    });
    if (plain["getpid"] != "ok") {
        const std::string how = WIFSIGNALED(plain.status)
                                    ? lucid::runner::describe_signal(WTERMSIG(plain.status))
                                    : "a wrong result";
        MESSAGE("this kernel has no i386 system call entry (int $0x80 ends in "
                << how << "); not checked");
        return;
    }
    const ChildRun run = in_child([](Report& report) {
        const rlimit no_core{0, 0};  // the kill dumps core like SIGSYS
        ::setrlimit(RLIMIT_CORE, &no_core);
        report.measures(lucid::runner::apply_containment(ContainmentRequest{}));
        report.put("getpid", i386_getpid() == ::getpid() ? "ok" : "other");
    });
    CHECK(run["measure seccomp"] == "applied");
    CHECK(run["getpid"] == "<not reported>");
    REQUIRE(WIFSIGNALED(run.status));
    CHECK(WTERMSIG(run.status) == SIGSYS);
}
#endif

TEST_CASE("landlock confines writes to write_paths, or says why it is unavailable") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "writable");
    fs::create_directories(dir / "readonly");
    std::ofstream(dir / "readonly" / "data") << "readable";
    const ChildRun run = in_child([&](Report& report) {
        ContainmentRequest request;
        request.read_paths = {"/usr",
                              "/lib",
                              "/lib64",
                              "/etc",
                              "/proc",
                              "/dev",
                              "/sys",
                              (dir / "readonly").string(),
                              "/nonexistent/lucid"};
        request.write_paths = {(dir / "writable").string(), "/dev/null"};
        report.measures(lucid::runner::apply_containment(request));
        const auto create = [](const fs::path& path) {
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            const std::string result = outcome(fd);
            if (fd >= 0) ::close(fd);
            return result;
        };
        report.put("create inside", create(dir / "writable" / "new"));
        report.put("create in read_paths", create(dir / "readonly" / "new"));
        report.put("create elsewhere", create(dir / "new"));
        std::ifstream readable(dir / "readonly" / "data");
        std::string text;
        readable >> text;
        report.put("read", text);
    });
    REQUIRE_FALSE(run.timed_out);
    const std::string& landlock = run["measure landlock"];
    MESSAGE("landlock: " << landlock);
    CHECK(run["read"] == "readable");
    CHECK(run["create inside"] == "ok");
    if (landlock == "applied") {
        CHECK(run["create in read_paths"] == "EACCES");
        CHECK(run["create elsewhere"] == "EACCES");
    } else {
        REQUIRE(landlock.rfind("unavailable: ", 0) == 0);
        CHECK(landlock.size() > std::string("unavailable: ").size());
        CHECK(landlock.find("landlock_create_ruleset") != std::string::npos);
        CHECK(run["create elsewhere"] == "ok");  // nothing confines it: hence "unavailable"
    }
    CHECK(run["failed"] == "no");
}

TEST_CASE("pdeathsig fails when the parent is not the expected one (the agent is gone)") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.expected_parent = ::getpid();  // anyone but the real parent
        report.measures(lucid::runner::apply_containment(request));
        report.put("parent", ::getppid());
        report.put("self", ::getpid());
    });
    CHECK(run["measure pdeathsig"] == "failed: the parent is pid " + run["parent"] +
                                          ", not the agent (pid " + run["self"] +
                                          "): the agent is gone");
    CHECK(run["failed"] == "yes");
}

namespace {
// A grandchild contained with `request` (expected_parent: its parent) reports its measures and
// waits forever; its parent then exits. Returns whether the grandchild died with it (the pipe
// it holds reached EOF) and what it reported.
ChildRun outlives_parent(ContainmentRequest request, bool& died_with_parent) {
    int fds[2];
    int ready[2];  // the grandchild tells its parent it is contained
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    flush_output();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::close(ready[0]);
            request.expected_parent = ::getppid();
            Report report(fds[1]);
            report.put("pid", ::getpid());
            report.measures(lucid::runner::apply_containment(request));
            report.put("waiting", "yes");
            (void)!::write(ready[1], "r", 1);
            for (;;) ::pause();
        }
        // Exit once the grandchild is contained (or gone: read returns 0).
        ::close(fds[1]);
        ::close(ready[1]);
        char byte;
        (void)!::read(ready[0], &byte, 1);
        ::_exit(0);
    }
    ::close(fds[1]);
    ::close(ready[0]);
    ::close(ready[1]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ChildRun run;
    const std::string text = read_until_eof(fds[0], std::chrono::seconds(10), run.timed_out);
    ::close(fds[0]);
    parse_lines(text, run);
    died_with_parent = !run.timed_out;
    if (run.timed_out && run["pid"] != "<not reported>") ::kill(std::stoi(run["pid"]), SIGKILL);
    return run;
}
}  // namespace

TEST_CASE("the contained process dies with its parent, also after run_as changed its user") {
    ContainmentRequest request;
    bool died = false;
    const ChildRun plain = outlives_parent(request, died);
    CHECK(plain["measure pdeathsig"] == "applied");
    CHECK(plain["waiting"] == "yes");
    CHECK(died);

    if (::geteuid() != 0) {
        MESSAGE("not root: run_as is not checked here (CI runs the tests as root)");
        return;
    }
    // A change of credentials clears PR_SET_PDEATHSIG in the kernel: it must be set again.
    request.run_as = "nobody";
    const ChildRun switched = outlives_parent(request, died);
    CHECK(switched["measure run_as"] == "applied");
    CHECK(switched["measure pdeathsig"] == "applied");
    CHECK(switched["waiting"] == "yes");
    CHECK(died);
}

TEST_CASE("run_as a user that does not exist fails naming it") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.run_as = "lucid-no-such-user";
        report.measures(lucid::runner::apply_containment(request));
    });
    CHECK(run["measure run_as"] == "failed: no such user: lucid-no-such-user");
    CHECK(run["failed"] == "yes");
}

TEST_CASE("run_as with a supplementary group that does not exist fails naming it") {
    const ChildRun run = in_child([](Report& report) {
        ContainmentRequest request;
        request.run_as = "nobody";
        request.extra_groups = {"lucid-no-such-group"};
        report.measures(lucid::runner::apply_containment(request));
        report.put("uid", ::getuid());
    });
    CHECK(run["measure run_as"] == "failed: no such group: lucid-no-such-group");
    CHECK(run["uid"] == std::to_string(::getuid()));  // nothing was switched
    CHECK(run["failed"] == "yes");
}

TEST_CASE("run_as nobody: the child runs as nobody with its groups and owns its writable dir") {
    if (::geteuid() != 0) {
        MESSAGE("not root: run_as cannot switch users here (CI runs the tests as root)");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    const uid_t nobody_uid = nobody->pw_uid;
    const gid_t nobody_gid = nobody->pw_gid;
    const group* extra = ::getgrnam("dialout");
    const bool has_extra = extra != nullptr;
    const gid_t extra_gid = has_extra ? extra->gr_gid : 0;

    lucid::test::TempDir dir;
    const std::string writable = (dir / "component").string();
    const ChildRun run = in_child([&](Report& report) {
        ContainmentRequest request;
        request.expected_parent = ::getppid();
        request.run_as = "nobody";
        if (has_extra) request.extra_groups = {"dialout"};
        request.writable_dir = writable;
        report.measures(lucid::runner::apply_containment(request));
        uid_t ruid, euid, suid;
        ::getresuid(&ruid, &euid, &suid);
        report.put("uids",
                   std::to_string(ruid) + "/" + std::to_string(euid) + "/" + std::to_string(suid));
        report.put("gid", ::getgid());
        gid_t groups[64];
        const int count = ::getgroups(64, groups);
        std::string listed;
        for (int i = 0; i < count; ++i) listed += " " + std::to_string(groups[i]) + " ";
        report.put("groups", listed);
        report.put("setuid 0", outcome(::setuid(0)));
        const int fd = ::open("own-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        report.put("write in dir", outcome(fd));
        int pdeathsig = 0;
        ::prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
        report.put("pdeathsig", pdeathsig);
    });
    MESSAGE("measures with run_as nobody:\n" << run.measures_text());
    REQUIRE_FALSE(run.timed_out);
    CHECK(run["measure run_as"] == "applied");
    CHECK(run["measure writable_dir"] == "applied");
    const std::string uid = std::to_string(nobody_uid);
    CHECK(run["uids"] == uid + "/" + uid + "/" + uid);
    CHECK(run["gid"] == std::to_string(nobody_gid));
    CHECK(run["setuid 0"] == "EPERM");
    CHECK(run["write in dir"] == "ok");
    CHECK(run["pdeathsig"] == std::to_string(SIGKILL));
    if (has_extra)
        CHECK(run["groups"].find(" " + std::to_string(extra_gid) + " ") != std::string::npos);
    CHECK(run["groups"].find(" 0 ") == std::string::npos);  // root's group is gone
    struct stat st {};
    REQUIRE(::stat(writable.c_str(), &st) == 0);
    CHECK(st.st_uid == nobody_uid);
    CHECK(st.st_gid == nobody_gid);
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(run["failed"] == "no");  // Landlock too: its rule for the dir is made while still root
}

TEST_CASE("a plugin image copied while root is readable after run_as and Landlock, its file not") {
    if (::geteuid() != 0) {
        MESSAGE("not root: run_as cannot switch users here (CI runs the tests as root)");
        return;
    }
    using lucid::runner::containment::PluginImage;
    lucid::test::TempDir dir;
    const std::string file = (dir / "plugin.so").string();
    {
        std::ofstream out(file);
        out << "the plugin's bytes";
    }
    ::chmod(file.c_str(), 0640);  // as installed: the agent's
    const ChildRun run = in_child([&](Report& report) {
        auto copied = PluginImage::copy(file);
        REQUIRE(std::holds_alternative<PluginImage>(copied));
        const PluginImage& image = std::get<PluginImage>(copied);
        report.put("source", image.source());
        ContainmentRequest request;
        request.run_as = "nobody";
        request.read_paths = {"/usr", "/lib", "/proc"};  // not the plugin's directory
        report.measures(lucid::runner::apply_containment(request));
        report.put("open file", outcome(::open(file.c_str(), O_RDONLY | O_CLOEXEC)));
        const int fd = ::open(image.path().c_str(), O_RDONLY | O_CLOEXEC);
        report.put("open image", outcome(fd));
        char bytes[64] = {};
        if (fd >= 0) report.put("bytes", std::string(bytes, ::read(fd, bytes, sizeof bytes)));
        // Sealed: what is loaded is what was read as root.
        report.put("write image", outcome(::write(image.fd(), "x", 1)));
    });
    REQUIRE_FALSE(run.timed_out);
    CHECK(run["measure run_as"] == "applied");
    CHECK(run["source"] == file);
    CHECK(run["open file"] == "EACCES");
    CHECK(run["open image"] == "ok");
    CHECK(run["bytes"] == "the plugin's bytes");
    CHECK(run["write image"] == "EPERM");
}

TEST_CASE(
    "a plugin image is made and maps executable where vm.memfd_noexec=2 forbids exec memfds") {
    // The sysctl is per pid namespace (Linux 6.3+): set in a namespace of the test's own, so the
    // machine's value is untouched.
    if (::geteuid() != 0 || !std::filesystem::exists("/proc/sys/vm/memfd_noexec")) {
        MESSAGE("skipped: needs root and a kernel with vm.memfd_noexec (6.3+)");
        return;
    }
    using lucid::runner::containment::PluginImage;
    lucid::test::TempDir dir;
    const std::string file = (dir / "plugin.so").string();
    {
        std::ofstream out(file);
        out << std::string(8192, 'x');
    }
    const ChildRun run = in_child([&](Report& report) {
        if (::unshare(CLONE_NEWPID) != 0) {
            report.put("unshare", outcome(-1));
            return;
        }
        const pid_t inner = ::fork();
        if (inner == 0) {  // the first process of the new namespace
            std::ofstream("/proc/sys/vm/memfd_noexec") << "2";
            std::ifstream check("/proc/sys/vm/memfd_noexec");
            int value = 0;
            check >> value;
            if (value != 2) ::_exit(3);
            auto copied = PluginImage::copy(file);
            if (!std::holds_alternative<PluginImage>(copied)) ::_exit(4);
            const int fd = ::open(std::get<PluginImage>(copied).path().c_str(), O_RDONLY);
            if (fd < 0) ::_exit(5);
            void* code = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
            ::_exit(code == MAP_FAILED ? 6 : 0);
        }
        int status = 0;
        ::waitpid(inner, &status, 0);
        report.put("unshare", "ok");
        report.put("exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    });
    REQUIRE_FALSE(run.timed_out);
    if (run["unshare"] != "ok") {
        MESSAGE("skipped: no pid namespace here (" << run["unshare"] << ")");
        return;
    }
    CHECK(run["exit"] == "0");  // 3: not set, 4: no copy, 5: not reopened, 6: not executable
}

TEST_CASE("a plugin image of a file that cannot be read names the file") {
    using lucid::runner::containment::PluginImage;
    auto copied = PluginImage::copy("/nonexistent/plugin.so");
    REQUIRE(std::holds_alternative<std::string>(copied));
    CHECK(std::get<std::string>(copied) ==
          "cannot copy /nonexistent/plugin.so into memory for run_as: open: No such file or "
          "directory");
    auto directory = PluginImage::copy("/tmp");
    REQUIRE(std::holds_alternative<std::string>(directory));
    CHECK(std::get<std::string>(directory) ==
          "cannot copy /tmp into memory for run_as: not a regular file");
}

TEST_CASE("a new run_as user gets what the last one left in its dir, and nothing a link names") {
    if (::geteuid() != 0) {
        MESSAGE("not root: cannot give files to another user here (CI runs the tests as root)");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    lucid::test::TempDir dir;
    const fs::path component = dir / "component";
    fs::create_directories(component / "sub");
    std::ofstream(component / "state.txt") << "x";
    std::ofstream(component / "sub" / "deep.txt") << "y";
    std::ofstream(dir / "outside.txt") << "z";
    fs::create_symlink(dir / "outside.txt", component / "link");
    fs::create_directory_symlink(dir.path(), component / "dirlink");
    const ChildRun run = in_child([&](Report& report) {
        report.put("result", lucid::runner::containment::prepare_writable_dir(
                                 component.string(), lucid::runner::containment::Owner{
                                                         nobody->pw_uid, nobody->pw_gid}));
    });
    CHECK(run["result"] == "applied");
    const auto owner_of = [](const fs::path& p) {
        struct stat st {};
        REQUIRE(::lstat(p.c_str(), &st) == 0);
        return st.st_uid;
    };
    CHECK(owner_of(component) == nobody->pw_uid);
    CHECK(owner_of(component / "state.txt") == nobody->pw_uid);
    CHECK(owner_of(component / "sub") == nobody->pw_uid);
    CHECK(owner_of(component / "sub" / "deep.txt") == nobody->pw_uid);
    CHECK(owner_of(component / "link") == nobody->pw_uid);
    CHECK(owner_of(dir / "outside.txt") == 0);
    CHECK(owner_of(dir.path()) == 0);
}

TEST_CASE("the writable dir must be a directory of its own: links and files are refused") {
    lucid::test::TempDir dir;
    fs::create_directories(dir / "elsewhere");
    fs::create_directory_symlink(dir / "elsewhere", dir / "link");
    std::ofstream(dir / "file") << "x";
    const auto result_for = [](const std::string& path) {
        return in_child([&](Report& report) {
            ContainmentRequest request;
            request.writable_dir = path;
            report.measures(lucid::runner::apply_containment(request));
        });
    };
    const std::string link = (dir / "link").string();
    const std::string file = (dir / "file").string();
    const std::string orphan = (dir / "missing" / "component").string();
    CHECK(result_for(link)["measure writable_dir"] == "failed: " + link + " is a symbolic link");
    CHECK(result_for(file)["measure writable_dir"] == "failed: " + file + " is not a directory");
    CHECK(result_for(orphan)["measure writable_dir"] ==
          "failed: mkdir " + orphan + ": No such file or directory");
}

TEST_CASE("containment_failed is true only when a measure failed") {
    using lucid::runner::containment_failed;
    CHECK_FALSE(containment_failed({{"seccomp", "applied"}, {"landlock", "unavailable: no"}}));
    CHECK_FALSE(containment_failed({{"run_as", "not requested"}}));
    CHECK(containment_failed({{"seccomp", "applied"}, {"run_as", "failed: no such user: x"}}));
}

TEST_CASE("signals are named as the shell names them") {
    using lucid::runner::describe_signal;
    CHECK(describe_signal(SIGSEGV) == "SIGSEGV");
    CHECK(describe_signal(SIGXCPU) == "SIGXCPU");
    CHECK(describe_signal(SIGKILL) == "SIGKILL");
    CHECK(describe_signal(SIGABRT) == "SIGABRT");
    CHECK(describe_signal(SIGRTMIN) == "SIGRTMIN");
    CHECK(describe_signal(SIGRTMIN + 2) == "SIGRTMIN+2");
    CHECK(describe_signal(999) == "signal 999");
}
