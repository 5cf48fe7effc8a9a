// The cpu plugin: every `interval_s` seconds (config, default 5) publishes the CPU usage since
// the previous sample and the load averages as the event `components/cpu/evt/cpu`:
//   {"usage_percent": 12.5, "load1": 0.3, "load5": 0.2, "load15": 0.1}
// On an agent of ABI 1.1 or later it also offers each reading as the metrics `usage_percent` and
// `load1` (publish_metric): the agent's telemetry config decides whether and how often they go
// out on components/cpu/telemetry/<metric>. An older agent lacks the function (LUCID_HOST_HAS,
// behind can_publish_metric()): the event alone is published there.
#include <lucid/plugin.hpp>

#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cpu_stats.hpp"

namespace {

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// interval_s from a config object; throws (which refuses a config change) when invalid.
int interval_from(const std::string& config_json) {
    rapidjson::Document doc;
    doc.Parse(config_json.c_str());
    if (doc.HasParseError() || !doc.IsObject())
        throw std::invalid_argument("config must be an object");
    auto it = doc.FindMember("interval_s");
    if (it == doc.MemberEnd()) return 5;
    if (!it->value.IsInt() || it->value.GetInt() < 1 || it->value.GetInt() > 3600) {
        throw std::invalid_argument("interval_s must be an integer between 1 and 3600");
    }
    return it->value.GetInt();
}

class CpuPlugin : public lucid::Plugin {
  public:
    void start() override { schedule(interval_from(config())); }
    void config_changed(const std::string& config_json) override {
        int interval = interval_from(config_json);  // throws: refused, old timer kept
        cancel_timer(timer_);
        schedule(interval);
    }

  private:
    void schedule(int interval_s) {
        timer_ = every(std::chrono::seconds(interval_s), [this] { sample(); });
    }
    void sample() {
        auto times = lucid_cpu::parse_proc_stat(read_file("/proc/stat"));
        auto load = lucid_cpu::parse_loadavg(read_file("/proc/loadavg"));
        if (!times || !load) {
            report_failed("cannot read /proc/stat or /proc/loadavg");
            return;
        }
        std::optional<double> usage;
        if (previous_) usage = lucid_cpu::usage_percent(*previous_, *times);
        previous_ = times;
        // The first sample has nothing to compare with: usage is null until the second.
        char percent[32] = "null";
        if (usage) std::snprintf(percent, sizeof percent, "%.1f", *usage);
        char data[160];
        std::snprintf(data, sizeof data,
                      "{\"usage_percent\":%s,\"load1\":%.2f,\"load5\":%.2f,\"load15\":%.2f}",
                      percent, load->load1, load->load5, load->load15);
        publish_event("cpu", data);
        if (can_publish_metric()) {
            if (usage) publish_metric("usage_percent", *usage, "%");
            publish_metric("load1", load->load1, "load");
        }
    }

    std::uint64_t timer_ = 0;
    std::optional<lucid_cpu::CpuTimes> previous_;
};

}  // namespace

LUCID_PLUGIN(CpuPlugin)
