#include "install/broker_fetch.hpp"

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/logging.hpp"
#include "mqtt/retained_reader.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;
namespace {

// {data}/broker_fetch: the topic of the fetch under way.
constexpr const char* kBrokerFetchMarkerFile = "broker_fetch";

}  // namespace

Status fetch_from_broker(InstallSource& source, const BrokerLink& link,
                         const DownloadLimits& limits, const ProgressFn& progress) {
    const fs::path marker = link.data_dir / kBrokerFetchMarkerFile;
    try {
        write_file_atomically(marker, source.topic, real_file_ops(), kDataFileMode);
    } catch (const std::exception& e) {
        logger("install")->warn("cannot note the broker fetch in {}: {}", marker.string(),
                                e.what());
    }
    // MQTT cannot say "not there": a fetch that waits says what for, and for how long.
    logger("install")->info("fetching {} from the broker (its retained message, at most {} s)",
                            source.topic, limits.total_timeout_s);
    auto fetched =
        mqtt::read_retained(link.router, link.session, source.topic,
                            {std::chrono::seconds(limits.total_timeout_s),
                             static_cast<std::size_t>(limits.max_bytes), limits.cancelled});
    std::error_code ec;
    fs::remove(marker, ec);
    if (!fetched) return Error{fetched.error().code, "download failed: " + fetched.error().message};
    source.inline_data = std::move(fetched.value());
    if (progress) progress("download", source.inline_data.size(), source.inline_data.size());
    return done();
}

std::vector<std::string> end_unfinished_broker_fetch(mqtt::MqttSession& session,
                                                     const fs::path& data_dir) {
    std::vector<std::string> problems;
    const fs::path marker = data_dir / kBrokerFetchMarkerFile;
    std::error_code ec;
    if (!fs::exists(marker, ec)) return problems;
    try {
        session.unsubscribe_previous(read_file(marker));
    } catch (const std::exception& e) {
        problems.push_back("cannot read " + marker.string() + ": " + e.what());
    }
    fs::remove(marker, ec);
    return problems;
}

}  // namespace lucid::host::install
