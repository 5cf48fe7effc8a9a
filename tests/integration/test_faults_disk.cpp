// Reliability: a full and a read-only data directory during installs. The data directory is a
// small tmpfs, mounted in a mount namespace of this test process (the broker and the agent
// inherit it): filled up with a filler file, or remounted read-only, under a running agent.
// Every refused operation says why (the errno's text, after the step that failed), leaves the
// running version running, the registry byte for byte as it was and no partial file behind;
// the agent keeps answering, and its record of answered requests loses nothing.
//
// Mounting needs root, or unprivileged user namespaces: without either the tests are skipped
// (README.md, "Testing").
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>

#include "component_rig.hpp"
#include "http_server.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

const std::string kDist = "lucid-agent-echo";
constexpr std::size_t kPage = 4096;

bool write_file(const char* path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    return static_cast<bool>(out.flush());
}

// A mount namespace of our own with "/" private, so that mounts stay in this process tree.
// Returns why it could not be made (the tests are then skipped).
std::optional<std::string> enter_mount_namespace() {
    std::string error;
    if (::unshare(CLONE_NEWNS) != 0) {
        error = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
        // Not root: an unprivileged user namespace, where we are root, may mount a tmpfs.
        const auto uid = ::getuid();
        const auto gid = ::getgid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            return error + "; unshare(CLONE_NEWUSER|CLONE_NEWNS): " + std::strerror(errno);
        }
        if (!write_file("/proc/self/setgroups", "deny") ||
            !write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
            !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
            return error + "; cannot map ids in the new user namespace";
        }
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return std::string("making / private: ") + std::strerror(errno);
    }
    return std::nullopt;
}

// Entered before main(): a user namespace can only be entered while single-threaded.
const std::optional<std::string> g_no_namespace = [] {
    auto error = enter_mount_namespace();
    if (error) {
        std::fprintf(stderr,
                     "test_faults_disk: skipped: cannot mount a tmpfs (%s); needs root or "
                     "unprivileged user namespaces\n",
                     error->c_str());
    }
    return error;
}();

// A tmpfs of `bytes` on `dir` for the life of the object.
class Tmpfs {
  public:
    Tmpfs(fs::path dir, std::size_t bytes) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        const std::string options = "size=" + std::to_string(bytes) + ",mode=0750";
        REQUIRE_MESSAGE(::mount("lucid-itest", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0,
                        std::strerror(errno));
    }
    ~Tmpfs() { ::umount2(dir_.c_str(), MNT_DETACH); }
    void remount(bool read_only) {
        const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
        REQUIRE_MESSAGE(::mount(nullptr, dir_.c_str(), nullptr, flags, nullptr) == 0,
                        std::strerror(errno));
    }

  private:
    fs::path dir_;
};

// A file that takes all the free space of its file system, and gives some back on demand.
class Filler {
  public:
    explicit Filler(fs::path path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(fd_ >= 0);
        const std::string chunk(64 * 1024, 'x');
        for (;;) {
            const ssize_t n = ::write(fd_, chunk.data(), chunk.size());
            if (n > 0) {
                size_ += static_cast<std::size_t>(n);
                continue;
            }
            REQUIRE_MESSAGE(errno == ENOSPC, std::strerror(errno));
            break;
        }
    }
    ~Filler() { remove(); }
    // Frees `pages` pages (tmpfs allocates whole pages).
    void give_back(std::size_t pages) {
        size_ -= pages * kPage;
        REQUIRE(::ftruncate(fd_, static_cast<off_t>(size_)) == 0);
    }
    void remove() {
        if (fd_ < 0) return;
        ::close(fd_);
        fd_ = -1;
        ::unlink(path_.c_str());
    }

  private:
    fs::path path_;
    int fd_ = -1;
    std::size_t size_ = 0;
};

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        names.insert(e.path().filename().string());
    return names;
}

// What a refused operation must leave: the registry as it was, only `versions` of the echo
// component on disk and no other component, no staging or temporary file, echo answering.
void check_intact(ComponentRig& rig, const std::string& registry_before,
                  const std::set<std::string>& versions, const std::string& request_id) {
    CHECK(read_bytes(rig.data() / "registry.json") == registry_before);
    CHECK(names_in(rig.data() / "components") == std::set<std::string>{kDist});
    CHECK(names_in(rig.data() / "components" / kDist) == versions);
    CHECK(names_in(rig.data() / "staging").empty());
    for (const auto& e : fs::recursive_directory_iterator(rig.data())) {
        CHECK_MESSAGE(e.path().filename().string().find(".tmp.") == std::string::npos, e.path());
    }
    auto answer =
        rig.plugin_command("echo", "echo", R"({"request_id":")" + request_id + "\"}", request_id);
    CHECK_MESSAGE(answer, rig.agent.log());
}

// The refusal of `result`: ok:false, an error naming the step and `reason`.
void check_refused(const Message& result, const std::string& step, const std::string& reason) {
    MESSAGE(result.payload);
    CHECK_FALSE(ok_of(result));
    CHECK_MESSAGE(error_of(result).rfind(step, 0) == 0, error_of(result));
    CHECK_MESSAGE(has_text(error_of(result), reason), error_of(result));
}

std::size_t pages_of(const std::string& bytes) { return (bytes.size() + kPage - 1) / kPage; }

}  // namespace

TEST_CASE("a full disk refuses installs cleanly and they work once there is room" *
          doctest::skip(g_no_namespace.has_value())) {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    const Artifact probe = artifact(LUCID_ITEST_PROBE);
    HttpServer http;
    http.serve("/" + probe.name, probe.bytes);
    ComponentRig rig("disk-full");
    Tmpfs disk(rig.data(), 8 << 20);
    rig.start_agent();
    REQUIRE(ok_of(rig.install("full-v1", "echo", inline_source(v1))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    const std::string registry_before = read_bytes(rig.data() / "registry.json");

    Filler filler(rig.data() / "filler");
    const std::string enospc = "No space left on device";
    const Message upgrade = rig.install("full-v2", "echo", inline_source(v2));
    check_refused(upgrade, "cannot stage the artifact: ", enospc);
    CHECK_FALSE(flag_of(upgrade, "rolled_back"));  // nothing was replaced
    check_intact(rig, registry_before, {"1.0.0"}, "full-echo-1");
    const Message fresh =
        rig.install("full-probe", "probe", url_source(http.url("/" + probe.name), probe.sha256));
    check_refused(fresh, "download failed: ", enospc);
    check_intact(rig, registry_before, {"1.0.0"}, "full-echo-2");

    // Room for the artifact, none for the registry: the new version was placed and started,
    // then everything of it is undone.
    filler.give_back(pages_of(v2.bytes));
    const Message unsaved = rig.install("full-v2-again", "echo", inline_source(v2));
    check_refused(unsaved, "cannot save the registry: ", enospc);
    CHECK(flag_of(unsaved, "rolled_back"));
    CHECK(rig.wait_status("echo", "running", "1.0.0"));
    check_intact(rig, registry_before, {"1.0.0"}, "full-echo-3");

    // The answers could not be recorded on disk, yet they are remembered: a retry gets the
    // first answer (not a run that would now succeed), also after a restart.
    filler.remove();
    CHECK(rig.install("full-v2", "echo", inline_source(v2)).payload == upgrade.payload);
    CHECK(ok_of(rig.ping("full-ping")));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    rig.start_agent();
    CHECK(rig.install("full-v2", "echo", inline_source(v2)).payload == upgrade.payload);
    CHECK(rig.install("full-v2-again", "echo", inline_source(v2)).payload == unsaved.payload);

    const Message upgraded = rig.install("full-v2-room", "echo", inline_source(v2));
    CHECK_MESSAGE(ok_of(upgraded), upgraded.payload);
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    const Message installed = rig.install("full-probe-room", "probe",
                                          url_source(http.url("/" + probe.name), probe.sha256));
    CHECK_MESSAGE(ok_of(installed), installed.payload);
    CHECK(rig.wait_status("probe", "running", "1.0.0"));
}

TEST_CASE("a read-only data directory refuses changes cleanly and the agent keeps answering" *
          doctest::skip(g_no_namespace.has_value())) {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("disk-ro");
    Tmpfs disk(rig.data(), 8 << 20);
    rig.start_agent();
    REQUIRE(ok_of(rig.install("ro-v1", "echo", inline_source(v1))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    const std::string registry_before = read_bytes(rig.data() / "registry.json");

    disk.remount(true);
    const std::string erofs = "Read-only file system";
    const Message upgrade = rig.install("ro-v2", "echo", inline_source(v2));
    check_refused(upgrade, "cannot stage the artifact: ", erofs);
    check_intact(rig, registry_before, {"1.0.0"}, "ro-echo-1");

    rig.client->clear();
    const Message uninstall =
        rig.uninstall(R"({"request_id":"ro-uninstall","component_id":"echo"})", "ro-uninstall");
    check_refused(uninstall, "cannot save the registry: ", erofs);
    CHECK(rig.wait_status("echo", "running", "1.0.0"));  // stopped, then started again
    check_intact(rig, registry_before, {"1.0.0"}, "ro-echo-2");

    check_refused(rig.control("disable", "echo", "ro-disable"),
                  "cannot save the registry: ", erofs);
    check_refused(rig.command("core/cfg/set", "core/evt/cfg_set_result",
                              R"({"request_id":"ro-cfg","set":{"heartbeat_s":60}})", "ro-cfg"),
                  "cannot save config: ", erofs);
    // A component config the plugin accepts but the disk cannot store is refused too.
    check_refused(rig.command("components/echo/cfg/set", "components/echo/evt/cfg_set_result",
                              R"({"request_id":"ro-echo-cfg","set":{"n":1}})", "ro-echo-cfg"),
                  "cannot save config: ", erofs);
    CHECK(ok_of(rig.ping("ro-ping")));
    // Remembered though not recorded on disk: the retry gets the first answer again.
    CHECK(rig.install("ro-v2", "echo", inline_source(v2)).payload == upgrade.payload);
    check_intact(rig, registry_before, {"1.0.0"}, "ro-echo-3");

    disk.remount(false);
    const Message upgraded = rig.install("ro-v2-rw", "echo", inline_source(v2));
    CHECK_MESSAGE(ok_of(upgraded), upgraded.payload);
    CHECK(rig.wait_status("echo", "running", "2.0.0"));
    const Message cfg =
        rig.command("core/cfg/set", "core/evt/cfg_set_result",
                    R"({"request_id":"rw-cfg","set":{"heartbeat_s":60}})", "rw-cfg");
    CHECK_MESSAGE(ok_of(cfg), cfg.payload);
    const Message echo_cfg =
        rig.command("components/echo/cfg/set", "components/echo/evt/cfg_set_result",
                    R"({"request_id":"rw-echo-cfg","set":{"n":1}})", "rw-echo-cfg");
    CHECK_MESSAGE(ok_of(echo_cfg), echo_cfg.payload);
}

TEST_CASE("an agent starts on a read-only data directory, runs what it holds, refuses changes" *
          doctest::skip(g_no_namespace.has_value())) {
    const Artifact v1 = artifact(LUCID_ITEST_ECHO_1_0);
    const Artifact v2 = artifact(LUCID_ITEST_ECHO_2_0);
    ComponentRig rig("disk-ro-start");
    Tmpfs disk(rig.data(), 8 << 20);
    rig.start_agent();
    REQUIRE(ok_of(rig.install("ros-v1", "echo", inline_source(v1))));
    REQUIRE(rig.wait_status("echo", "running", "1.0.0"));
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
    const std::string registry_before = read_bytes(rig.data() / "registry.json");

    disk.remount(true);  // as ext4's errors=remount-ro leaves it at the next boot
    rig.client->clear();
    rig.start_agent();
    CHECK_MESSAGE(rig.wait_status("echo", "running", "1.0.0"), rig.agent.log());
    rig.echo_answers("ros-echo");
    const std::string erofs = "Read-only file system";
    auto state = rig.client->wait_for(rig.agent.topic("core/state"), any_message());
    REQUIRE(state);
    MESSAGE(state->payload);
    CHECK(state->str("state") == "degraded");
    auto doc = state->json();
    REQUIRE(doc["degraded_reasons"].IsArray());
    REQUIRE(doc["degraded_reasons"].Size() == 1);
    CHECK(std::string(doc["degraded_reasons"][0].GetString()) ==
          "data directory read-only: " + rig.data().string() + ": " + erofs);

    check_refused(rig.install("ros-v2", "echo", inline_source(v2)),
                  "cannot stage the artifact: ", erofs);
    check_refused(rig.control("disable", "echo", "ros-disable"),
                  "cannot save the registry: ", erofs);
    check_refused(rig.command("core/cfg/set", "core/evt/cfg_set_result",
                              R"({"request_id":"ros-cfg","set":{"heartbeat_s":60}})", "ros-cfg"),
                  "cannot save config: ", erofs);
    CHECK(ok_of(rig.ping("ros-ping")));
    CHECK(read_bytes(rig.data() / "registry.json") == registry_before);
    rig.echo_answers("ros-echo-2");

    // Even read-only, the directory is one agent's: a second one is refused.
    AgentHarness second(rig.broker, "disk-ro-second");
    second.start({{"LUCID_DATA_DIR", rig.data().string()}});
    const auto code = second.process().wait_exit(std::chrono::seconds(10));
    REQUIRE_MESSAGE(code, second.log());
    CHECK(*code == 2);
    CHECK_MESSAGE(
        second.log().find("pid " + std::to_string(rig.agent.process().pid())) != std::string::npos,
        second.log());
    REQUIRE(rig.agent.stop(SIGTERM) == 0);
}
