// One line of progress on a terminal (stderr), redrawn in place and cleared before the result
// is printed, so the result line never shares a line with it. Disabled (prints nothing) when
// the stream is not a terminal or output is --json.
//
//   download [##########          ] 1.2 MiB / 2.4 MiB  600.0 KiB/s  2s left
//
// Thread: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>

namespace lucid::host::ctl {

// 1536 → "1.5 KiB", 73400320 → "70.0 MiB", 12 → "12 B".
std::string format_bytes(double bytes);

class ProgressLine {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    // `now`: the clock rates are measured with (a test's own).
    ProgressLine(std::ostream& out, bool enabled, Clock now = std::chrono::steady_clock::now)
        : out_(out), enabled_(enabled), now_(std::move(now)) {}
    ~ProgressLine() { clear(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // Bytes of `total` (0: unknown) done in `phase`; rate and time left from this phase's start.
    void update(const std::string& phase, std::uint64_t bytes, std::uint64_t total);
    // A line of text instead of a bar ("uploading x.so (12.0 MiB) through the broker, 3s").
    void note(const std::string& text);
    // Erases the line (if anything was drawn).
    void clear();

  private:
    void draw(const std::string& text);

    std::ostream& out_;
    bool enabled_;
    Clock now_;
    bool drawn_ = false;
    std::string phase_;
    std::chrono::steady_clock::time_point phase_start_{};
    std::uint64_t phase_first_bytes_ = 0;
};

}  // namespace lucid::host::ctl
