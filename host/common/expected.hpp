// The host's one error type for what can fail: Expected<T> holds a T or an Error, an error code
// to branch on and the message an operator reads (the contract's error text, naming the file or
// component). Code branches on `code`, never on the message.
//
//   Expected<Mapped> mapped = runtime.map(path);
//   if (!mapped) return Error{mapped.error().code, "cannot load: " + mapped.error().message};
//   use(mapped.value());
//
// Thread: a value type. Errors: value() on an error, or error() on a value, is a programming
// error (asserted), not an exception.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace lucid::host {

enum class Errc {
    invalid,    // the request or the file is not acceptable
    not_found,  // nothing by that name
    conflict,   // another component, build or channel holds it
    refused,    // kept out: quarantined, unsupported, not running
    io,         // the disk said no
    plugin,     // the plugin's own code failed (load, start, config)
    stuck,      // the plugin did not return in time: its code may still run, its library stays
    cancelled,  // the agent is stopping
    deferred,   // not now, but later by itself: a QoS 1 publish kept for the next connection
};

struct Error {
    Errc code = Errc::invalid;
    std::string message;
};

template <typename T>
class Expected {
  public:
    Expected(T value) : state_(std::move(value)) {}      // NOLINT: implicit on purpose
    Expected(Error error) : state_(std::move(error)) {}  // NOLINT: implicit on purpose

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() {
        assert(ok());
        return std::get<0>(state_);
    }
    const T& value() const {
        assert(ok());
        return std::get<0>(state_);
    }
    const Error& error() const {
        assert(!ok());
        return std::get<1>(state_);
    }
    Error& error() {
        assert(!ok());
        return std::get<1>(state_);
    }

  private:
    std::variant<T, Error> state_;
};

// What succeeds with nothing to return.
struct Done {};
using Status = Expected<Done>;
inline Status done() { return Done{}; }

}  // namespace lucid::host
