// Running under systemd: install-service writes the unit and a private env file; the agent
// speaks the notify protocol (READY=1, WATCHDOG=1, STOPPING=1) to $NOTIFY_SOCKET.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grp.h>
#include <poll.h>
#include <pwd.h>

#include <fstream>
#include <sstream>

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

// `Environment=K=V` lines of a unit.
std::map<std::string, std::string> unit_environment(const std::string& unit) {
    std::map<std::string, std::string> env;
    std::istringstream in(unit);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Environment=", 0) != 0) continue;
        const auto assignment = line.substr(12);
        const auto eq = assignment.find('=');
        env[assignment.substr(0, eq)] = assignment.substr(eq + 1);
    }
    return env;
}

// The program's path on $PATH (the process helper execs without a search); "" when missing.
std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const fs::path candidate = fs::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return {};
}

bool has_text(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// A staging root as install-service --root writes it, and as systemd would prepare it for the
// service user: /run/lucid (RuntimeDirectory, 0700) and /var/lib/lucid (StateDirectory, 0750)
// owned by that user.
struct StagedService {
    TempDir dir;
    fs::path root = dir / "root";
    std::string unit;

    explicit StagedService(const std::vector<std::string>& extra_args = {}) {
        std::vector<std::string> argv{LUCID_AGENT_BIN, "install-service", "--root", root.string()};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        auto [code, output] = run_to_completion(argv, {});
        REQUIRE_MESSAGE(code == 0, output);
        unit = read_text(root / "etc/systemd/system/lucid-agent.service");
        REQUIRE_FALSE(unit.empty());
    }
    fs::path env_file() const { return root / "etc/lucid/agent.env"; }
    fs::path unit_file() const { return root / "etc/systemd/system/lucid-agent.service"; }
};

}  // namespace

TEST_CASE("install-service --root writes the unit, a private env file, and keeps an existing one") {
    StagedService staged;
    const std::string& unit = staged.unit;
    CHECK(has_line(unit, "Type=notify"));
    CHECK(has_line(unit, "WatchdogSec=60"));
    CHECK(has_line(unit, "Restart=on-failure"));
    CHECK(has_line(unit, "DynamicUser=yes"));
    CHECK(has_line(unit, "NoNewPrivileges=yes"));
    CHECK(has_line(unit, "PrivateDevices=yes"));
    // The dynamic user cannot read the root-owned env file: PID 1 stages a copy for it.
    CHECK(unit.find("--env-file") == std::string::npos);
    CHECK(has_line(unit, std::string("ExecStartPre=+") + LUCID_AGENT_BIN +
                             " stage-env-file /etc/lucid/agent.env /run/lucid/agent.env"));
    CHECK(has_line(unit, std::string("ExecStart=") + LUCID_AGENT_BIN + " run"));
    CHECK(has_line(unit, "Environment=LUCID_ENV_FILE=/run/lucid/agent.env"));
    CHECK(has_line(unit, "RuntimeDirectory=lucid"));
    CHECK(has_line(unit, "RuntimeDirectoryMode=0700"));
    CHECK(has_line(unit, std::string("ExecReload=+") + LUCID_AGENT_BIN +
                             " stage-env-file /etc/lucid/agent.env /run/lucid/agent.env"));
    CHECK(has_line(unit, "ExecReload=/bin/kill -HUP $MAINPID"));
    CHECK(has_line(unit, "SuccessExitStatus=75"));
    CHECK(has_line(unit, "RestartForceExitStatus=75"));
    CHECK(has_line(unit, "StartLimitIntervalSec=300"));
    CHECK(has_line(unit, "StartLimitBurst=10"));
    CHECK(unit.find("\nDocumentation=") != std::string::npos);
    // SECURITY.md: only the agent (and root) read {data}.
    CHECK(has_line(unit, "StateDirectoryMode=0750"));
    CHECK(has_line(unit, "UMask=0027"));
    struct stat st {};
    REQUIRE(::stat(staged.env_file().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK_FALSE(fs::exists(staged.root / "etc/systemd/system/lucid-agent.service.d"));

    std::ofstream(staged.env_file()) << "LUCID_MQTT_URL=mqtt://operator:secret@broker:1883\n";
    auto [again, again_output] =
        run_to_completion({LUCID_AGENT_BIN, "install-service", "--root", staged.root.string()}, {});
    CHECK(again == 0);
    CHECK(again_output.find("kept") != std::string::npos);
    CHECK(read_text(staged.env_file()).find("operator:secret") != std::string::npos);
    // Run from the build tree (under /tmp or a home directory in a fresh clone): the ExecStart=
    // would break at the next rebuild or be hidden from the service; say so.
    CHECK_MESSAGE(again_output.find("ExecStart=" + std::string(LUCID_AGENT_BIN) + " is ") !=
                      std::string::npos,
                  again_output);
    CHECK(again_output.find("install the agent") != std::string::npos);

    auto [removed, removed_output] = run_to_completion(
        {LUCID_AGENT_BIN, "uninstall-service", "--root", staged.root.string()}, {});
    CHECK_MESSAGE(removed == 0, removed_output);
    CHECK_FALSE(fs::exists(staged.unit_file()));
    CHECK(fs::exists(staged.env_file()));  // settings survive a reinstall
    CHECK(removed_output.find("kept " + staged.env_file().string()) != std::string::npos);

    // systemd resolves a relative env file against /, not where install-service ran.
    auto [relative, relative_output] =
        run_to_completion({LUCID_AGENT_BIN, "install-service", "--root", staged.root.string(),
                           "--env-file", "rel.env"},
                          {});
    CHECK(relative == 2);
    CHECK(relative_output.find("--env-file rel.env must be an absolute path") != std::string::npos);
    CHECK_FALSE(fs::exists(staged.unit_file()));
}

TEST_CASE("install-service --device-access keeps the hardening and opens GPIO, I2C and serial") {
    StagedService staged({"--device-access"});
    const auto dropin =
        read_text(staged.root / "etc/systemd/system/lucid-agent.service.d/device-access.conf");
    CHECK(has_line(dropin, "PrivateDevices=no"));
    CHECK(has_line(dropin, "DevicePolicy=closed"));
    for (const char* device :
         {"char-gpiochip", "char-i2c", "char-ttyS", "char-ttyUSB", "char-ttyACM"}) {
        CHECK(has_line(dropin, std::string("DeviceAllow=") + device + " rw"));
    }
    CHECK(has_line(dropin, "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"));
    // Only groups that exist: a missing one would make the unit fail to start (216/GROUP).
    for (const char* group : {"gpio", "i2c", "dialout"}) {
        const bool exists = ::getgrnam(group) != nullptr;
        CHECK_MESSAGE((dropin.find(std::string(" ") + group) != std::string::npos ||
                       dropin.find(std::string("=") + group) != std::string::npos) == exists,
                      group);
    }
    // The main unit keeps every hardening line.
    CHECK(has_line(staged.unit, "PrivateDevices=yes"));
    CHECK(has_line(staged.unit, "NoNewPrivileges=yes"));

    // Without the flag, install-service takes device access away again.
    auto [code, output] =
        run_to_completion({LUCID_AGENT_BIN, "install-service", "--root", staged.root.string()}, {});
    CHECK(code == 0);
    CHECK_FALSE(
        fs::exists(staged.root / "etc/systemd/system/lucid-agent.service.d/device-access.conf"));
}

TEST_CASE("systemd-analyze verify accepts the unit and its device-access drop-in") {
    const std::string analyze = find_program("systemd-analyze");
    REQUIRE_MESSAGE(!analyze.empty(), "systemd-analyze is missing: scripts/setup.sh installs it");
    StagedService staged({"--device-access"});
    auto [code, output] =
        run_to_completion({analyze, "verify", "--man=no", staged.unit_file().string()},
                          {{"SYSTEMD_LOG_LEVEL", "notice"}});
    CHECK_MESSAGE(code == 0, output);
    // Unknown or misspelt options are only warnings to systemd: none may appear.
    CHECK_MESSAGE(output.find("lucid-agent.service") == std::string::npos, output);
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

TEST_CASE("the agent runs as the unit's unprivileged user with the unit's environment") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: staging the service user's directories needs root");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    const group* nogroup = ::getgrnam("nogroup");
    REQUIRE(nobody);
    REQUIRE(nogroup);
    Broker broker;
    broker.start();
    StagedService staged;
    fs::permissions(staged.dir.path(), fs::perms(0755));  // mkdtemp made it 0700
    // The operator's env file, root's and 0640 as install-service made it; a comment after a
    // value is a comment.
    std::ofstream(staged.env_file())
        << "LUCID_MQTT_URL=" << broker.url() << "   # the site broker\n"
        << "LUCID_AGENT_ID=svc-unit\nLUCID_RECONNECT_MIN_MS=20\nLUCID_RECONNECT_MAX_MS=200\n";
    fs::permissions(staged.env_file(), fs::perms(0640));
    // What systemd prepares before ExecStartPre=: RuntimeDirectory and StateDirectory, owned
    // by the service user.
    const fs::path runtime = staged.root / "run/lucid";
    const fs::path state = staged.root / "var/lib/lucid";
    for (const auto& [dir, mode] : {std::pair{runtime, 0700}, std::pair{state, 0750}}) {
        fs::create_directories(dir);
        REQUIRE(::chown(dir.c_str(), nobody->pw_uid, nogroup->gr_gid) == 0);
        fs::permissions(dir, fs::perms(mode));
    }
    const std::string setpriv = find_program("setpriv");
    REQUIRE_MESSAGE(!setpriv.empty(), "setpriv (util-linux) is missing");
    const std::vector<std::string> as_service_user{setpriv, "--reuid=nobody", "--regid=nogroup",
                                                   "--clear-groups"};
    auto as_user = [&](std::vector<std::string> argv) {
        argv.insert(argv.begin(), as_service_user.begin(), as_service_user.end());
        return argv;
    };

    // The defect: the service user cannot read the operator's env file, so the agent must not
    // be pointed at it; asked to read it anyway, it names the file and the errno.
    auto [denied, denied_output] = run_to_completion(
        as_user({LUCID_AGENT_BIN, "check-config", "--env-file", staged.env_file().string()}), {});
    CHECK(denied == 2);
    CHECK_MESSAGE(has_text(denied_output, "cannot read env file " + staged.env_file().string() +
                                              ": Permission denied"),
                  denied_output);

    // ExecStartPre=+ (root): the private copy.
    auto [staged_code, staged_output] =
        run_to_completion({LUCID_AGENT_BIN, "stage-env-file", staged.env_file().string(),
                           (runtime / "agent.env").string()},
                          {});
    REQUIRE_MESSAGE(staged_code == 0, staged_output);
    struct stat copy {};
    REQUIRE(::stat((runtime / "agent.env").c_str(), &copy) == 0);
    CHECK((copy.st_mode & 0777) == 0600);
    CHECK(copy.st_uid == nobody->pw_uid);

    // ExecStart=, as the dynamic user would run it: the unit's Environment= (its paths moved
    // into the staging root) and its UMask=.
    auto env = unit_environment(staged.unit);
    REQUIRE(env.count("LUCID_ENV_FILE"));
    REQUIRE(env.count("LUCID_DATA_DIR"));
    env["LUCID_ENV_FILE"] =
        (staged.root / fs::path(env["LUCID_ENV_FILE"]).relative_path()).string();
    env["LUCID_DATA_DIR"] =
        (staged.root / fs::path(env["LUCID_DATA_DIR"]).relative_path()).string();
    MqttClient observer(broker.port());
    observer.subscribe("lucid/agents/svc-unit/#");
    Process agent;
    std::string command = "umask 0027 && exec";
    for (const auto& a : as_user({LUCID_AGENT_BIN, "run"})) command += " '" + a + "'";
    agent.start({"/bin/sh", "-c", command}, env, staged.dir / "agent.log");
    auto online = observer.wait_for("lucid/agents/svc-unit/status",
                                    [](const Message& m) { return m.str("state") == "online"; });
    REQUIRE_MESSAGE(online, agent.log());

    // It wrote {data} as the service user, readable by nobody else.
    struct stat data {};
    REQUIRE(::stat(state.c_str(), &data) == 0);
    CHECK((data.st_mode & 0777) == 0750);
    struct stat session {};
    REQUIRE(::stat((state / "session").c_str(), &session) == 0);
    CHECK(session.st_uid == nobody->pw_uid);
    CHECK((session.st_mode & 0007) == 0);
    CHECK(agent.stop(SIGTERM) == 0);
    CHECK_MESSAGE(!has_text(agent.log(), "env file"), agent.log());
}
