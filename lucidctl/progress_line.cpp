#include "lucidctl/progress_line.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace lucid::host::ctl {
namespace {

// Erase the whole line, cursor to its start (VT100, understood by every terminal in use).
constexpr const char* kClearLine = "\r\033[K";

}  // namespace

std::string format_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    char buf[32];
    if (unit == 0) {
        std::snprintf(buf, sizeof buf, "%.0f B", bytes);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[unit]);
    }
    return buf;
}

void ProgressLine::update(const std::string& phase, std::uint64_t bytes, std::uint64_t total) {
    if (!enabled_) return;
    const auto now = now_();
    if (phase != phase_) {
        phase_ = phase;
        phase_start_ = now;
        phase_first_bytes_ = bytes;
    }
    const int width = 20;
    const int filled =
        total > 0 ? static_cast<int>(width * std::min<double>(1.0, double(bytes) / total)) : 0;
    std::string text = phase + " [" + std::string(filled, '#') + std::string(width - filled, ' ') +
                       "] " + format_bytes(double(bytes));
    if (total > 0) text += " / " + format_bytes(double(total));
    const double elapsed = std::chrono::duration<double>(now - phase_start_).count();
    if (elapsed > 0.2 && bytes > phase_first_bytes_) {
        const double rate = double(bytes - phase_first_bytes_) / elapsed;
        text += "  " + format_bytes(rate) + "/s";
        if (total > bytes) {
            text +=
                "  " + std::to_string(static_cast<long long>((total - bytes) / rate)) + "s left";
        }
    }
    draw(text);
}

void ProgressLine::note(const std::string& text) {
    if (enabled_) draw(text);
}

void ProgressLine::draw(const std::string& text) {
    out_ << kClearLine << text << std::flush;
    drawn_ = true;
}

void ProgressLine::clear() {
    if (!drawn_) return;
    out_ << kClearLine << std::flush;
    drawn_ = false;
}

}  // namespace lucid::host::ctl
