// How the dispatch figures (sections 3 and 10) are taken: a subscriber stopped with SIGSTOP while
// the bench queues a burst on the broker, and timed from SIGCONT until it reports the count.
// The subscriber is a bench_counter plugin (bench/plugins/bench_counter.cpp) or the raw client,
// both speaking the same ping / count / end protocol.
// Thread: the bench's main thread. Errors: std::runtime_error when no answer comes.
#pragma once

#include <string>

#include "bench_env.hpp"

namespace lucid::bench {

// Publishes "ping" on `in` until the subscriber answers on `out`: its subscription is live.
void wait_subscribed(MqttClient& d, const std::string& in, const std::string& out);

// Messages per second `subscriber` drains from a queue of `count` messages on `in` (the
// subscriber's process is the one stopped and continued).
double drain_rate(MqttClient& d, Process& subscriber, const std::string& in, const std::string& out,
                  int count);

}  // namespace lucid::bench
