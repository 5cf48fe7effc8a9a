#include "commands/command_dispatcher.hpp"

#include <condition_variable>
#include <mutex>

#include "common/logging.hpp"

namespace lucid::host::commands {

CommandDispatcher::CommandDispatcher(mqtt::Publisher& publisher, DedupStore& dedup,
                                     std::size_t lane_capacity, Now now)
    : publisher_(publisher),
      dedup_(dedup),
      now_(std::move(now)),
      fast_("fast", lane_capacity),
      control_("control", lane_capacity),
      slow_("slow", lane_capacity) {}

CommandDispatcher::~CommandDispatcher() { stop(); }

void CommandDispatcher::add(CommandSpec spec) {
    auto topic = spec.command_topic;
    specs_[topic] = std::make_shared<const CommandSpec>(std::move(spec));
}

mqtt::MessageHandler CommandDispatcher::route(const std::string& command_topic) {
    auto spec = specs_.at(command_topic);
    return [this, spec](const mqtt::MqttMessage& message) { submit(spec, message); };
}

void CommandDispatcher::submit(std::shared_ptr<const CommandSpec> spec,
                               const mqtt::MqttMessage& message) {
    if (message.retain) {
        // A retained command would be replayed on every (re)subscribe, i.e. every reconnect.
        logger("commands")
            ->warn("{}: ignoring a retained command on {}", spec->name, message.topic);
        return;
    }
    if (stopping_) return refuse(*spec, message.payload, kShuttingDown);
    auto& lane = spec->lane == Lane::slow ? slow_ : spec->lane == Lane::control ? control_ : fast_;
    if (lane.post([this, spec, message] { execute(*spec, message); },
                  [this, spec, message] { refuse(*spec, message.payload, kShuttingDown); })) {
        return;
    }
    logger("commands")->warn("{}: lane {} full", spec->name, lane.name());
    refuse(*spec, message.payload, "busy: command queue full");
}

// Not recorded for de-duplication: the command did not run, so the same request_id sent again
// (after the restart) must run it.
void CommandDispatcher::refuse(const CommandSpec& spec, const std::string& payload,
                               const std::string& error) {
    // Parsing here (rare path) only to echo the request_id of the refused command.
    const auto request = contract::parse_command(payload);
    contract::Result result(request.request_id, contract::Clock::now());
    result.fail(error);
    logger("commands")->warn("{}: refusing request '{}': {}", spec.name, request.request_id, error);
    if (spec.on_refused) spec.on_refused(request, result);
    publish_result(spec.result_topic, result.str());
}

void CommandDispatcher::execute(const CommandSpec& spec, const mqtt::MqttMessage& message) {
    const auto request = admit(spec, message.payload);
    if (!request) return;
    logger("commands")->debug("{}: running request '{}'", spec.name, request->request_id);
    std::optional<CommandReply> reply;
    try {
        reply.emplace(spec.handler(*request));
    } catch (const std::exception& e) {
        logger("commands")
            ->error("{}: request '{}' failed: {}", spec.name, request->request_id, e.what());
        contract::Result result(request->request_id, contract::Clock::now());
        result.fail(std::string("internal error: ") + e.what());
        reply.emplace(std::move(result));
    }
    finish(spec, request->request_id, std::move(*reply));
}

std::optional<contract::CommandRequest> CommandDispatcher::admit(const CommandSpec& spec,
                                                                 const std::string& payload) {
    auto log = logger("commands");
    auto request = contract::parse_command(payload);
    if (!request.ok()) {
        log->warn("{}: rejected payload: {}", spec.name, request.error);
        contract::Result result(request.request_id, contract::Clock::now());
        result.fail(request.error);
        if (spec.on_refused) spec.on_refused(request, result);
        publish_result(spec.result_topic, result.str());
        return std::nullopt;
    }
    if (auto prior = dedup_.find(spec.result_topic, request.request_id)) {
        log->info("{}: request '{}' already answered; republishing its result", spec.name,
                  request.request_id);
        publish_result(prior->topic, prior->payload);
        return std::nullopt;
    }
    // After the replay: an answered request keeps its answer. Judged by the device's clock;
    // one that is behind (no RTC before NTP) runs an expired command, one ahead refuses a fresh
    // one, hence the log line with both times (contract §3.4).
    if (request.expires_at && now_() > *request.expires_at) {
        log->warn("{}: request '{}' expired at {} (agent time {}); not run", spec.name,
                  request.request_id, request.expires_text, contract::utc_timestamp(now_()));
        contract::Result result(request.request_id, now_());
        result.fail("expired: " + request.expires_text);
        if (spec.on_refused) spec.on_refused(request, result);
        // Not synced: it changed nothing, and a copy after a crash is expired all the same.
        finish(spec, request.request_id, CommandReply(std::move(result), Durability::deferred));
        return std::nullopt;
    }
    return request;
}

void CommandDispatcher::finish(const CommandSpec& spec, const std::string& request_id,
                               CommandReply reply) {
    auto log = logger("commands");
    const std::string& topic = reply.instead ? reply.instead->first : spec.result_topic;
    const std::string payload = reply.instead ? reply.instead->second : reply.result.str();
    if (!reply.instead) {
        try {
            dedup_.record(request_id, RecordedResult{topic, payload}, reply.durability);
        } catch (const std::exception& e) {
            // The answer still goes out; only a retry after a crash could run the command again.
            log->error("{}: cannot persist request '{}': {}", spec.name, request_id, e.what());
        }
    }
    const auto outcome = publisher_.publish(topic, payload, 1, false);
    if (!outcome) {
        log->warn("{}: cannot publish result of '{}': {}", spec.name, request_id,
                  outcome.error().message);
    }
    if (reply.after_delivery) {
        if (outcome && !publisher_.wait_delivered(outcome.value(), kDeliveryTimeout)) {
            log->warn("{}: result of '{}' not acknowledged within {} ms", spec.name, request_id,
                      kDeliveryTimeout.count());
        }
        reply.after_delivery();
    }
}

void CommandDispatcher::publish_result(const std::string& topic, const std::string& payload) {
    const auto outcome = publisher_.publish(topic, payload, 1, false);
    if (!outcome) {
        logger("commands")->warn("cannot publish on {}: {}", topic, outcome.error().message);
    }
}

bool CommandDispatcher::responsive(std::chrono::milliseconds timeout) {
    // Shared with the task: the wait may time out and return before the lane runs it.
    struct Probe {
        std::mutex mutex;
        std::condition_variable cv;
        bool ran = false;
    };
    auto probe = std::make_shared<Probe>();
    if (!fast_.post([probe] {
            std::lock_guard<std::mutex> lock(probe->mutex);
            probe->ran = true;
            probe->cv.notify_all();
        })) {
        return false;
    }
    std::unique_lock<std::mutex> lock(probe->mutex);
    return probe->cv.wait_for(lock, timeout, [&] { return probe->ran; });
}

void CommandDispatcher::close() {
    stopping_ = true;
    fast_.close();
    control_.close();
    slow_.close();
}

void CommandDispatcher::stop() {
    close();
    fast_.stop();
    control_.stop();
    slow_.stop();
    try {
        dedup_.flush();
    } catch (const std::exception& e) {
        logger("commands")->error("cannot persist the request log: {}", e.what());
    }
}

}  // namespace lucid::host::commands
