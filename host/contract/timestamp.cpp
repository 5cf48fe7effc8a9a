#include "contract/timestamp.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string_view>

namespace lucid::host::contract {

std::string utc_timestamp(Clock::time_point when) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
    // Floor division so that instants before 1970 still get a millisecond field in [0, 999].
    auto seconds = ms.count() / 1000;
    auto millis = ms.count() % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    // A publication pass stamps thousands of payloads within one second (1,000 components'
    // snapshots on a refresh): the date and time are formatted once per second and thread.
    thread_local auto cached_second = std::numeric_limits<std::int64_t>::min();
    thread_local char date_time[64];  // "YYYY-MM-DDTHH:MM:SS"
    if (seconds != cached_second) {
        const std::time_t t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::snprintf(date_time, sizeof date_time, "%04d-%02d-%02dT%02d:%02d:%02d",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec);
        cached_second = seconds;
    }
    std::string text(date_time);
    const char fraction[] = {'.', static_cast<char>('0' + millis / 100),
                             static_cast<char>('0' + millis / 10 % 10),
                             static_cast<char>('0' + millis % 10), 'Z'};
    text.append(fraction, sizeof fraction);
    return text;
}

std::optional<Clock::time_point> parse_utc_timestamp(const std::string& text) {
    // The exact shape first: sscanf alone would skip whitespace (line breaks in a value that is
    // logged and shown) and take signs.
    static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
    if (text.size() < kShape.size() + 1) return std::nullopt;
    for (std::size_t i = 0; i < kShape.size(); ++i) {
        const bool digit = text[i] >= '0' && text[i] <= '9';
        if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
    }
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                    &second, &used) != 6) {
        return std::nullopt;
    }
    // Milliseconds, when given, are one to three digits: more would be silently cut, none is
    // not a number.
    long millis = 0;
    std::size_t pos = static_cast<std::size_t>(used);
    if (pos < text.size() && text[pos] == '.') {
        long scale = 100;
        const std::size_t first = ++pos;
        for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
        }
        if (pos == first || pos - first > 3) return std::nullopt;
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
        return std::nullopt;
    }
    // timegm would roll 2026-02-30 over into March: a date must exist.
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
    // A retained message is anyone's text: beyond what the clock's nanosecond count holds
    // (1677 to 2262) adding the milliseconds overflowed. No agent stamps outside these years.
    if (year < 1970 || year > 2200) return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t t = ::timegm(&tm);
    return Clock::from_time_t(t) + std::chrono::milliseconds(millis);
}

}  // namespace lucid::host::contract
