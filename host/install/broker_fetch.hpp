// The `broker` install source (contract §4.1): the artifact is the retained message of one
// topic under the fleet's artifacts, read through the agent's own session
// (mqtt/retained_reader.hpp). Component installs and the agent's own upgrade (§4.16) fetch it
// with this one function, then stage the bytes as an inline source's.
//
//   if (source.type == SourceType::broker) {
//       Status fetched = fetch_from_broker(source, {router, session, data_dir}, limits, progress);
//   }
//
// The session is persistent: an agent killed during the fetch would keep the subscription on
// the broker, which then queues every new artifact on that topic for it. A file in the data
// directory names the topic while the fetch runs; the next start ends that subscription
// (end_unfinished_broker_fetch).
//
// Thread: any but the network thread (it blocks until the message, the timeout or a cancel).
// Errors: `download failed: <the read's error>` (no retained message within the download's
// total timeout, too large, cancelled).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "install/artifact_verifier.hpp"
#include "install/install_request.hpp"
#include "mqtt/message_router.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::install {

struct BrokerLink {
    mqtt::MessageRouter& router;
    mqtt::MqttSession& session;
    std::filesystem::path data_dir;  // where the fetch under way is noted
};

// Reads `source.topic`'s retained message into `source.inline_data` (progress "download" once,
// with its size), within `limits` (total_timeout_s, max_bytes, cancelled).
Status fetch_from_broker(InstallSource& source, const BrokerLink& link,
                         const DownloadLimits& limits, const ProgressFn& progress);

// At start, before any fetch: ends the subscription of a fetch the last process did not finish.
// Returns the problems met (for the log).
std::vector<std::string> end_unfinished_broker_fetch(mqtt::MqttSession& session,
                                                     const std::filesystem::path& data_dir);

}  // namespace lucid::host::install
