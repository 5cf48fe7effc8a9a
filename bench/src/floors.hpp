// The floors of issue 21, shared by the scenarios that measure a command against one: the raw
// echo round trip (lucid-bench-raw echo, raw_client.hpp) and the durable writes a command cannot
// do without, done by the bench itself in the file system of the agent's data directory.
//
//   DurableFloor floor(dir / "floor");
//   const double s = echo_once(driver) + floor.append_synced(256);   // cfg/set's floor
//
// Thread: the bench's main thread. Errors: std::runtime_error when the echo client does not
// answer within 30 s or a write, flush or rename fails.
#pragma once

#include <cstddef>

#include "bench_env.hpp"

namespace lucid::bench {

// Publishes on bench/echo/cmd until the echo client answers (the driver must be subscribed to
// bench/echo/result).
void wait_echo_ready(MqttClient& driver);
// One echo round trip, publish to result received, in seconds.
double echo_once(MqttClient& driver);

// Durable writes in a directory of its own (created), timed in seconds.
class DurableFloor {
  public:
    explicit DurableFloor(const fs::path& dir);
    ~DurableFloor();
    DurableFloor(const DurableFloor&) = delete;
    DurableFloor& operator=(const DurableFloor&) = delete;

    // Appends `bytes` to a journal file held open and fdatasyncs it: the durable record of a
    // command's answer.
    double append_synced(std::size_t bytes);
    // Replaces a file of `bytes` atomically, as the agent saves its registry: a temporary in
    // the same directory written and fsync'ed, renamed over the file, the directory fsync'ed.
    double replace_synced(std::size_t bytes);

  private:
    fs::path dir_;
    int journal_fd_ = -1;
};

}  // namespace lucid::bench
