#include "containment/run_as.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "containment/measure_text.hpp"

namespace lucid::runner::containment {
namespace {

// A buffer for the *_r lookups: sysconf's hint, grown on ERANGE (group entries with many
// members exceed it).
template <typename Entry, typename Lookup>
std::variant<Entry*, int> look_up(Lookup lookup, Entry& entry, std::vector<char>& buffer) {
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    buffer.resize(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    for (;;) {
        Entry* found = nullptr;
        const int err = lookup(&entry, buffer.data(), buffer.size(), &found);
        if (err == ERANGE && buffer.size() < (1u << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (err != 0) return err;
        return found;
    }
}

std::string lookup_error(const char* what, const std::string& name, int err) {
    return failed(system_error_text(std::string("looking up ") + what + " " + name, err));
}

}  // namespace

std::variant<Identity, std::string> look_up_identity(const std::string& user,
                                                     const std::vector<std::string>& extra_groups) {
    passwd pw{};
    std::vector<char> pw_buffer;
    const auto user_found = look_up<passwd>(
        [&](passwd* entry, char* buf, std::size_t size, passwd** found) {
            return ::getpwnam_r(user.c_str(), entry, buf, size, found);
        },
        pw, pw_buffer);
    if (const int* err = std::get_if<int>(&user_found)) return lookup_error("user", user, *err);
    if (!std::get<passwd*>(user_found)) return failed("no such user: " + user);

    Identity identity{user, pw.pw_uid, pw.pw_gid, {}};
    int count = 32;
    identity.groups.resize(static_cast<std::size_t>(count));
    while (::getgrouplist(user.c_str(), pw.pw_gid, identity.groups.data(), &count) < 0) {
        // count now holds the number needed.
        identity.groups.resize(static_cast<std::size_t>(count));
    }
    identity.groups.resize(static_cast<std::size_t>(count));

    for (const std::string& name : extra_groups) {
        group gr{};
        std::vector<char> gr_buffer;
        const auto group_found = look_up<group>(
            [&](group* entry, char* buf, std::size_t size, group** found) {
                return ::getgrnam_r(name.c_str(), entry, buf, size, found);
            },
            gr, gr_buffer);
        if (const int* err = std::get_if<int>(&group_found)) {
            return lookup_error("group", name, *err);
        }
        if (!std::get<group*>(group_found)) return failed("no such group: " + name);
        if (std::find(identity.groups.begin(), identity.groups.end(), gr.gr_gid) ==
            identity.groups.end()) {
            identity.groups.push_back(gr.gr_gid);
        }
    }

    // Checked after the names, so a typo is reported as such whoever runs the runner.
    if (::geteuid() != 0) {
        return failed("run_as needs root (running as uid " + std::to_string(::geteuid()) + ")");
    }
    return identity;
}

std::string become(const Identity& identity) {
    // Groups first: once the uid is dropped, the groups can no longer be changed.
    if (::setgroups(identity.groups.size(), identity.groups.data()) != 0) {
        return failed(system_error_text("setgroups", errno));
    }
    if (::setresgid(identity.gid, identity.gid, identity.gid) != 0) {
        return failed(system_error_text("setresgid", errno));
    }
    if (::setresuid(identity.uid, identity.uid, identity.uid) != 0) {
        return failed(system_error_text("setresuid", errno));
    }
    // A uid 0 target (run_as root) keeps root by definition; otherwise root must be gone.
    if (identity.uid != 0 && ::setuid(0) == 0) {
        return failed("root could be regained after switching to " + identity.user);
    }
    return kApplied;
}

}  // namespace lucid::runner::containment
