// What an install may do, as far as SIGHUP can change it at runtime: the trusted keys, whether a
// signature is required, and the URL prefixes installs may download from. Everything else an
// install needs is fixed at start (ManagerSettings).
//
// Thread: current() and replace() from any thread. Each install takes one snapshot at its start
// and uses it throughout, so a reload never changes the rules in the middle of an install.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "install/trusted_keys.hpp"

namespace lucid::host::install {

struct InstallPolicy {
    std::shared_ptr<const TrustedKeySet> keys = std::make_shared<TrustedKeySet>();
    bool require_signature = false;
    bool accept_bare_signatures = true;         // LUCID_ACCEPT_BARE_SIGNATURES
    std::vector<std::string> allowed_prefixes;  // empty: every http(s)/file URL allowed
};

class LiveInstallPolicy {
  public:
    explicit LiveInstallPolicy(InstallPolicy initial)
        : current_(std::make_shared<const InstallPolicy>(std::move(initial))) {}

    std::shared_ptr<const InstallPolicy> current() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return current_;
    }
    void replace(InstallPolicy next) {
        auto fresh = std::make_shared<const InstallPolicy>(std::move(next));
        std::map<int, std::function<void()>> listeners;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            current_ = std::move(fresh);
            listeners = listeners_;
        }
        for (const auto& [id, listener] : listeners) listener();  // outside the lock
    }
    // `listener` runs after each replace() (on the reloading thread): what follows the keys
    // (the components signed by a key revoked now) catches up. Returns what forget() takes
    // before the listener's owner goes away.
    int on_replace(std::function<void()> listener) {
        std::lock_guard<std::mutex> lock(mutex_);
        listeners_.emplace(++last_listener_, std::move(listener));
        return last_listener_;
    }
    void forget(int listener) {
        std::lock_guard<std::mutex> lock(mutex_);
        listeners_.erase(listener);
    }

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const InstallPolicy> current_;
    std::map<int, std::function<void()>> listeners_;
    int last_listener_ = 0;
};

}  // namespace lucid::host::install
