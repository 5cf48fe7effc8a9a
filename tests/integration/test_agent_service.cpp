// Running under systemd: install-service writes the unit and a private env file; the agent
// speaks the notify protocol (READY=1, WATCHDOG=1, STOPPING=1) to $NOTIFY_SOCKET.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <poll.h>
#include <fstream>

#include "agent_harness.hpp"

using namespace lucid::itest;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
  public:
    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~NotifySocket() { ::close(fd_); }

    // The next datagram containing `text`, waiting up to `timeout`.
    bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0))) <= 0) continue;
            char buf[256];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0 &&
                std::string(buf, static_cast<std::size_t>(n)).find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
    int fd_ = -1;
};

}  // namespace

TEST_CASE("install-service writes the unit and keeps an existing env file") {
    TempDir dir;
    const std::map<std::string, std::string> env{
        {"LUCID_SYSTEMD_UNIT_DIR", (dir / "units").string()}};
    const auto env_file = (dir / "etc/agent.env").string();
    auto [code, output] =
        run_to_completion({LUCID_AGENT_BIN, "install-service", "--env-file", env_file}, env);
    REQUIRE_MESSAGE(code == 0, output);
    const std::string unit = read_text(dir / "units/lucid-agent.service");
    CHECK(unit.find("Type=notify") != std::string::npos);
    CHECK(unit.find("WatchdogSec=") != std::string::npos);
    CHECK(unit.find("Restart=on-failure") != std::string::npos);
    CHECK(unit.find("DynamicUser=yes") != std::string::npos);
    CHECK(unit.find("NoNewPrivileges=yes") != std::string::npos);
    CHECK(unit.find("--env-file " + env_file) != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(env_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);

    std::ofstream(env_file) << "LUCID_MQTT_URL=mqtt://operator:secret@broker:1883\n";
    auto [again, again_output] =
        run_to_completion({LUCID_AGENT_BIN, "install-service", "--env-file", env_file}, env);
    CHECK(again == 0);
    CHECK(again_output.find("kept") != std::string::npos);
    CHECK(read_text(env_file).find("operator:secret") != std::string::npos);
}

TEST_CASE("the agent tells systemd it is ready, feeds the watchdog and says when it stops") {
    Broker broker;
    broker.start();
    AgentHarness agent(broker, "svc-1");
    TempDir dir;
    NotifySocket notify(dir / "notify.sock");
    agent.start({{"NOTIFY_SOCKET", notify.path().string()}, {"WATCHDOG_USEC", "200000"}});
    CHECK_MESSAGE(notify.wait_for("READY=1", std::chrono::seconds(10)), agent.log());
    CHECK_MESSAGE(notify.wait_for("WATCHDOG=1", std::chrono::seconds(10)), agent.log());
    CHECK_MESSAGE(notify.wait_for("WATCHDOG=1", std::chrono::seconds(10)), agent.log());
    agent.process().signal(SIGTERM);
    CHECK(notify.wait_for("STOPPING=1", std::chrono::seconds(10)));
    CHECK(agent.process().wait_exit(std::chrono::seconds(10)) == 0);
}
