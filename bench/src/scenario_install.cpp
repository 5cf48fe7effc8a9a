// 6. Install: command to result for a small plugin from a file URL and inline; uninstall;
// upgrade; upgrade with rollback (version 3.0.0 fails in start()). The baseline ("floor") is
// what any installer must do at least: the echo round trip plus reading, hashing, copying with
// fsync and dlopen/dlclose of the same file, measured here in the bench process. Uninstall's
// floor (issue 21) is the echo round trip plus the durable writes the crash-safety rules ask of
// it (contract §8.8: the registry saved before the files go; §3.6: the answer recorded before it
// is published), of the sizes the agent wrote, in the data directory's file system, paired with
// each uninstall.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "artifacts.hpp"
#include "floors.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

namespace lucid::bench {
namespace {

const char* const kComponent = "bench-small";

void write_synced(const fs::path& file, const std::string& bytes) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + file.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write " + file.string());
        }
        done += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

// The floor: reads the file, checks its sha256, copies it into `dir` with fsync of the file and
// the directory, dlopen()s the copy (RTLD_NOW | RTLD_LOCAL) and dlclose()s it. Returns seconds.
double install_floor_seconds(const fs::path& file, const fs::path& dir) {
    const auto start = Clock::now();
    const std::string bytes = read_bytes(file);
    if (sha256_hex(bytes).size() != 64) throw std::runtime_error("sha256 failed");
    fs::create_directories(dir);
    const auto copy = dir / file.filename();
    write_synced(copy, bytes);
    void* handle = dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    dlclose(handle);
    const auto end = Clock::now();
    fs::remove(copy);
    return seconds_between(start, end);
}

struct Installer {
    MqttClient& d;
    std::string agent;

    // `below_floor`: 1.0.0 after the first pass committed 2.0.0 (the dist's version floor,
    // contract §8.12) needs the permission.
    std::pair<double, std::string> install(const fs::path& file, bool inline_source,
                                           bool below_floor = false) {
        const std::string rid = next_request_id("install");
        std::string source;
        if (inline_source) {
            source = "{\"type\":\"inline\",\"filename\":\"" + file.filename().string() +
                     "\",\"data_base64\":\"" + base64(read_bytes(file)) + "\",\"sha256\":\"" +
                     sha256_hex(read_bytes(file)) + "\"}";
        } else {
            source = "{\"type\":\"url\",\"url\":\"" + file_url(file) + "\",\"sha256\":\"" +
                     sha256_hex(read_bytes(file)) + "\"}";
        }
        const std::string payload = "{\"request_id\":\"" + rid + "\",\"component_id\":\"" +
                                    kComponent + "\",\"source\":" + source +
                                    (below_floor ? ",\"allow_downgrade\":true}" : "}");
        const auto r = run_command(d, agent, "core/cmd/components/install",
                                   "core/evt/components/install_result", payload, rid);
        if (!r.answered) throw std::runtime_error("install timed out");
        return {r.seconds, r.payload};
    }

    // Sizes the floor writes: the registry the uninstall saved and the record it appended to
    // the request journal.
    struct Written {
        std::uintmax_t registry = 0, record = 0;
    };

    std::pair<double, std::string> uninstall(const fs::path& data_dir, Written& written) {
        std::error_code ec;
        const fs::path journal = data_dir / "request_log.journal";
        const std::uintmax_t before = fs::file_size(journal, ec);
        const std::string rid = next_request_id("uninstall");
        const auto r = run_command(
            d, agent, "core/cmd/components/uninstall", "core/evt/components/uninstall_result",
            "{\"request_id\":\"" + rid + "\",\"component_id\":\"" + kComponent + "\"}", rid);
        if (!r.answered) throw std::runtime_error("uninstall timed out");
        written.registry = fs::file_size(data_dir / "registry.json", ec);
        if (ec) written.registry = 0;
        const std::uintmax_t after = fs::file_size(journal, ec);
        // A compaction in between (past 1 MiB) leaves the answer's size as the best guess.
        written.record = !ec && after > before ? after - before : r.payload.size();
        return {r.seconds, r.payload};
    }
};

double expect(const std::pair<double, std::string>& r, bool ok, bool rolled_back,
              const char* what) {
    if (true_field(r.second, "ok") != ok || true_field(r.second, "rolled_back") != rolled_back ||
        true_field(r.second, "noop")) {
        throw std::runtime_error(std::string(what) + " gave an unexpected result: " + r.second);
    }
    return r.first;
}

}  // namespace

void run_install(BenchEnv& env, Broker& broker) {
    const std::string id = "bench-install";
    const fs::path dir = env.dir("install");
    AgentSpec spec{id, dir / "data", dir / "plugins", {}};
    fs::create_directories(spec.plugin_dir);
    MqttClient d(broker.port(), "bench-install-driver");
    d.subscribe(agent_topic(id, "status"));
    d.subscribe(agent_topic(id, "core/evt/components/+"));
    d.subscribe("bench/echo/result");
    Process agent = start_agent(env, broker, spec);
    Process echo_client = start_raw(env, "echo", broker.port(), "", dir / "echo.log");
    if (!wait_online(d, id, 0, std::chrono::seconds(20))) {
        throw std::runtime_error("install agent not online");
    }
    wait_echo_ready(d);
    for (int i = 0; i < 20; ++i) echo_once(d);  // warm-up, as in section 1
    DurableFloor durable(dir / "uninstall-floor");
    const fs::path v1 = env.paths.bench_plugin("lucid_bench_small", "1.0.0");
    const fs::path v2 = env.paths.bench_plugin("lucid_bench_small", "2.0.0");
    const fs::path v3 = env.paths.bench_plugin("lucid_bench_small", "3.0.0");

    Installer in{d, id};
    std::vector<double> url_s, inline_s, uninstall_s, upgrade_s, rollback_s, floor_s;
    std::vector<double> echo_s, uninstall_floor_s;
    Installer::Written written;
    // The uninstall and its floor, one after the other: a noisy neighbour hits both alike.
    auto uninstall = [&] {
        uninstall_s.push_back(
            expect(in.uninstall(spec.data_dir, written), true, false, "uninstall"));
        const double echo = echo_once(d);
        echo_s.push_back(echo);
        uninstall_floor_s.push_back(echo + durable.replace_synced(written.registry) +
                                    durable.append_synced(written.record));
    };
    const int reps = std::max(3, env.samples(5));
    for (int i = 0; i < reps; ++i) {
        url_s.push_back(expect(in.install(v1, false, i > 0), true, false, "install (url)"));
        uninstall();
        inline_s.push_back(expect(in.install(v1, true, i > 0), true, false, "install (inline)"));
        upgrade_s.push_back(expect(in.install(v2, false), true, false, "upgrade"));
        rollback_s.push_back(expect(in.install(v3, false), false, true, "upgrade with rollback"));
        uninstall();
        floor_s.push_back(install_floor_seconds(v1, dir / "floor"));
    }
    const double echo = median(echo_s);
    const double floor = median(floor_s) + echo;
    const std::string n = std::to_string(reps);
    auto row = [&](const std::string& what, const std::vector<double>& s, double base,
                   const std::string& note) {
        const double m = median(s);
        env.report.add({"6 install", what, format_duration(m), format_duration(base),
                        format_ratio(m, base), note});
    };
    row("install, file URL", url_s, floor,
        "floor: echo round trip + sha256, copy with fsync, dlopen/dlclose of the file in the "
        "bench; medians of " +
            n);
    row("install, inline (base64)", inline_s, floor, "");
    row("uninstall", uninstall_s, median(uninstall_floor_s),
        "floor: echo round trip + the registry (" + format_bytes(double(written.registry)) +
            ") replaced with fsync, rename and directory fsync + fdatasync of a " +
            format_bytes(double(written.record)) +
            " journal append; vs the echo alone: " + format_ratio(median(uninstall_s), echo) +
            "; medians of " + std::to_string(uninstall_s.size()) + " pairs");
    row("upgrade 1.0.0 -> 2.0.0", upgrade_s, floor,
        "includes the agent's 300 ms health window of an upgrade");
    row("upgrade to 3.0.0 with rollback", rollback_s, floor,
        "3.0.0 fails in start(); 2.0.0 restored and running");
    agent.stop(SIGTERM);
    echo_client.stop(SIGTERM);
}

}  // namespace lucid::bench
