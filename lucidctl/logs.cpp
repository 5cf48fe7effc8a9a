// lucidctl logs [--follow] [--component ID] [--level L] [-n N] (contract §4.15, §9): the lines
// the agent keeps (core/cmd/logs/get), then with --follow the `logs` stream, kept on by a
// temporary stream (core/cmd/logs/stream) renewed while lucidctl follows, so that nothing stays
// on when lucidctl dies. While following it watches the agent's retained status: the agent
// going offline (its Will, or a clean stop) is said on stderr, and when it is back the stream is
// asked for again at once (a restarted agent has forgotten it; waiting for the next renewal
// would lose up to 40 s of lines), and what it logged while away (its boot) is read with
// logs/get and printed before the stream goes on.
#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <set>
#include <tuple>

#include "common/log_levels.hpp"
#include "contract/payloads.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucidctl/text_table.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;
namespace topics = contract::topics;

// A temporary stream lasts this long; lucidctl renews it a third of the way before its end, so
// that a late renewal does not open a gap, and a lucidctl that died leaves it on this long at
// most.
constexpr int kStreamSeconds = 60;
constexpr auto kRenewEvery = std::chrono::seconds(40);

const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};

int rank(const std::string& level) {
    for (std::size_t i = 0; i < kLevels.size(); ++i) {
        if (kLevels[i] == level) return static_cast<int>(i);
    }
    return static_cast<int>(kLevels.size());  // unknown: shown whatever the filter
}

struct Filter {
    std::optional<std::string> level;
    std::optional<std::string> component;
    int n = 100;
};

Filter filter_options(const CtlOptions& o) {
    Filter f;
    if (auto level = command_option(o, "level")) {
        // The agent's vocabulary (warning, ERROR, ...), sent and compared in its canonical name.
        const auto parsed = parse_level_name(*level);
        if (!parsed) {
            throw UsageError("--level must be one of " + std::string(kLevelNames) + ", got '" +
                             *level + "'");
        }
        f.level = std::string(stream_level_name(*parsed));
    }
    if (auto component = command_option(o, "component")) {
        if (!registry::is_valid_identifier(*component)) {
            throw UsageError(
                "--component must be core or a component id "
                "([a-z0-9][a-z0-9_-]{0,63}), got '" +
                *component + "'");
        }
        f.component = *component;
    }
    if (auto n = command_option(o, "n")) {
        char* end = nullptr;
        const long value = std::strtol(n->c_str(), &end, 10);
        if (n->empty() || *end != '\0' || value < 1 || value > 1000) {
            throw UsageError("-n must be a number of lines from 1 to 1000, got '" + *n + "'");
        }
        f.n = static_cast<int>(value);
    }
    return f;
}

bool wanted(const Filter& f, const Value& line) {
    if (!line.IsObject()) return false;
    if (f.component && str(line, "logger") != *f.component) return false;
    return !f.level || rank(str(line, "level")) >= rank(*f.level);
}

void print_line(Session& s, const Value& line) {
    if (s.json()) {
        s.out() << contract::to_json(line) << "\n";
        return;
    }
    std::string level = str(line, "level");
    level.resize(std::max<std::size_t>(level.size(), 5), ' ');
    // Agent text is shown printable: a line cannot drive the operator's terminal.
    s.out() << printable(str(line, "ts")) << " " << printable(level) << " "
            << printable(str(line, "logger")) << ": " << printable(str(line, "message")) << "\n";
}

using LineKey = std::tuple<std::string, std::string, std::string>;
LineKey key_of(const Value& line) {
    return {str(line, "ts"), str(line, "logger"), str(line, "message")};
}

// The kept lines printed last (those of logs/get: at the start, and the back-fill after the
// agent was away), so that a streamed line they showed already is printed once only: the
// newest instant among them and the lines printed at it.
struct KeptLines {
    std::string last_ts;
    std::set<LineKey> at_last;
    void add(const Value& line) {
        if (str(line, "ts") != last_ts) at_last.clear();
        last_ts = str(line, "ts");
        at_last.insert(key_of(line));
    }
    bool shown(const Value& line) const {
        const std::string ts = str(line, "ts");
        return ts < last_ts || (ts == last_ts && at_last.count(key_of(line)) != 0);
    }
};

}  // namespace

int cmd_logs(Session& s) {
    expect_args(s.options(), 1);
    const Filter filter = filter_options(s.options());
    const bool follow = command_switch(s.options(), "follow");
    const std::string logs_topic = s.topics().at(topics::kLogs);
    const std::string stream_result = s.topics().at(topics::kLogsStream.result);
    const std::string get_result = s.topics().at(topics::kLogsGet.result);
    const std::string status_topic = s.topics().status();

    auto renew = [&] {
        Document stream(rapidjson::kObjectType);
        auto& a = stream.GetAllocator();
        stream.AddMember("level", Value(filter.level.value_or("info"), a), a);
        stream.AddMember("seconds", kStreamSeconds, a);
        return s.post(topics::kLogsStream, std::move(stream));
    };
    auto get_request = [&](int n) {
        Document get(rapidjson::kObjectType);
        auto& a = get.GetAllocator();
        get.AddMember("n", n, a);
        if (filter.level) get.AddMember("level", Value(*filter.level, a), a);
        if (filter.component) get.AddMember("component", Value(*filter.component, a), a);
        return get;
    };
    std::set<std::string> renewals;
    if (follow) {
        // Before asking for the kept lines: what is logged after them is streamed, not missed.
        s.client().subscribe(
            std::vector<std::string>{logs_topic, stream_result, status_topic, get_result});
        s.require_not_offline();
        renewals.insert(renew());
    }

    const Answer answer = s.request(topics::kLogsGet, get_request(filter.n));
    if (!answer.ok) return s.report(topics::kLogsGet.name, answer);
    KeptLines kept;
    std::string newest_printed;  // the newest ts printed: where a back-fill starts
    auto print = [&](const Value& line) {
        print_line(s, line);
        newest_printed = std::max(newest_printed, str(line, "ts"));
    };
    std::size_t printed = 0;
    if (answer.doc.HasMember("lines") && answer.doc["lines"].IsArray()) {
        for (const auto& line : answer.doc["lines"].GetArray()) {
            print(line);
            ++printed;
            kept.add(line);
        }
    }
    if (printed == 0 && !s.json()) {
        // Said on stderr (stdout stays the lines): nothing printed must not look like a hang or
        // a component that exists and is silent.
        s.err() << "no kept lines";
        if (filter.component) s.err() << " of " << *filter.component;
        if (filter.level) s.err() << " at or above " << *filter.level;
        s.err() << (follow ? "; following\n" : "\n");
    }
    s.out().flush();
    if (!follow) return kOk;

    auto print_streamed = [&](const Document& doc) {
        for (const auto& line : doc["lines"].GetArray()) {
            // A line the kept ones showed already (streamed while they were read) once only.
            if (!kept.shown(line) && wanted(filter, line)) print(line);
        }
        if (doc.HasMember("dropped") && doc["dropped"].IsUint64() &&
            doc["dropped"].GetUint64() > 0 && !s.json()) {
            s.err() << "lucidctl: the agent dropped " << doc["dropped"].GetUint64()
                    << " line(s) (a flood is cut to 500 lines a second)\n";
        }
    };
    // After the agent was away, what it logged meanwhile (its boot, if it restarted) is asked
    // for again (a back-fill) and printed before the stream, which is held until then (at most
    // kBackfillWait: an agent gone again must not stop the stream).
    constexpr auto kBackfillWait = std::chrono::seconds(10);
    std::string backfill_id;
    std::string backfill_from;
    SteadyClock::time_point backfill_deadline{};
    std::vector<Document> held;
    auto release_held = [&] {
        for (const auto& doc : held) print_streamed(doc);
        held.clear();
        backfill_id.clear();
    };

    auto next_renewal = SteadyClock::now() + kRenewEvery;
    bool online = true;  // require_not_offline() passed
    while (s.out()) {    // SIGPIPE is ignored: a closed stdout (`lucidctl logs -f | head`) ends it
        const auto wake =
            backfill_id.empty() ? next_renewal : std::min(next_renewal, backfill_deadline);
        auto message = s.client().wait_for([](const ReceivedMessage&) { return true; }, wake);
        const auto now = SteadyClock::now();
        if (now >= next_renewal) {
            // No renewal for an agent that is away: it would wait in the broker for nothing
            // (its coming back asks at once, below).
            if (online) renewals.insert(renew());
            next_renewal = now + kRenewEvery;
        }
        if (!backfill_id.empty() && now >= backfill_deadline) {
            s.err() << "lucidctl: no answer to logs/get after the agent came back; what it "
                       "logged while away is not shown\n";
            release_held();
        }
        if (!message) continue;
        Document doc = parse_object(message->payload);
        if (message->topic == status_topic) {
            const std::string state = str(doc, "state");
            if (online && state == "offline") {
                online = false;
                s.err() << "lucidctl: agent " << s.target().agent_id << " went offline at "
                        << contract::utc_timestamp(SystemClock::now())
                        << "; following again when it is back\n";
            } else if (!online && state == "online") {
                online = true;
                renewals.insert(renew());
                next_renewal = SteadyClock::now() + kRenewEvery;
                if (backfill_id.empty()) backfill_from = newest_printed;
                backfill_id = s.post(topics::kLogsGet, get_request(1000));
                backfill_deadline = SteadyClock::now() + kBackfillWait;
                s.err() << "lucidctl: agent " << s.target().agent_id
                        << " is back online; asked for the stream again\n";
            }
            continue;
        }
        if (message->topic == stream_result) {
            if (renewals.count(str(doc, "request_id")) == 0) continue;
            if (!(doc.HasMember("ok") && doc["ok"].IsBool() && doc["ok"].GetBool())) {
                s.err() << "lucidctl: logs/stream failed: " << printable(str(doc, "error")) << "\n";
                return kCommandFailed;
            }
            continue;
        }
        if (message->topic == get_result) {
            if (backfill_id.empty() || str(doc, "request_id") != backfill_id) continue;
            if (doc.HasMember("lines") && doc["lines"].IsArray()) {
                kept = KeptLines{};
                for (const auto& line : doc["lines"].GetArray()) {
                    if (str(line, "ts") <= backfill_from) continue;  // printed before it left
                    print(line);
                    kept.add(line);
                }
            }
            release_held();
            s.out().flush();
            continue;
        }
        if (message->topic != logs_topic || !doc.HasMember("lines") || !doc["lines"].IsArray()) {
            continue;
        }
        if (!backfill_id.empty()) {
            held.push_back(std::move(doc));
            continue;
        }
        print_streamed(doc);
        s.out().flush();
    }
    return kOk;
}

}  // namespace lucid::host::ctl
