#include "config/load_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "config/env_file.hpp"
#include "config/host_facts.hpp"
#include "config/setting_names.hpp"

namespace lucid::host::config {
namespace {

// The file's text, or nullopt with `err` set (an errno value; EINVAL for a non-regular file
// other than /dev/null, which must not block or be read for ever).
std::optional<std::string> read_text(const std::string& path, int& err) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        err = errno;
        return std::nullopt;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) != 0) {
        err = errno;
    } else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
        // /dev/null: "no env file", an idiom of scripts and tests.
    } else if (!S_ISREG(st.st_mode)) {
        err = EINVAL;
    } else {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
        if (n < 0) err = errno;
    }
    ::close(fd);
    if (err != 0) return std::nullopt;
    return text;
}

std::string reason(int err) {
    return err == EINVAL ? std::string("not a regular file") : std::string(std::strerror(err));
}

}  // namespace

ResolveResult load_config(const CommandLine& cli, const std::string& default_env_file) {
    const EnvLookup env = getenv_string;
    auto choice = choose_env_file(cli, env);
    if (!choice.required) choice.path = default_env_file;
    std::map<std::string, std::string> file_values;
    std::string env_file_used;
    std::vector<std::string> warnings;
    ResolveResult failed;
    int err = 0;
    auto text = read_text(choice.path, err);
    if (!text && err == ENOENT) {
        if (choice.required) {
            failed.error = "env file " + choice.path + " does not exist";
            return failed;
        }
    } else if (!text && choice.required) {
        failed.error = "cannot read env file " + choice.path + ": " + reason(err);
        return failed;
    } else if (!text) {
        // The default file belongs to the service (root, 0640): a user running lucidctl, or the
        // service user, was not asked to read it and goes on without it.
        warnings.push_back("env file " + choice.path + " not read (" + reason(err) +
                           "); using flags and the environment only");
    } else {
        auto parsed = parse_env_file(*text);
        if (!parsed.error.empty()) {
            failed.error = "env file " + choice.path + ": " + parsed.error;
            return failed;
        }
        file_values = std::move(parsed.values);
        env_file_used = choice.path;
        auto unknown = unknown_variable_warnings(file_values, choice.path);
        warnings.insert(warnings.end(), unknown.begin(), unknown.end());
        auto shadowed = shadowed_variable_warnings(file_values, choice.path, env);
        warnings.insert(warnings.end(), shadowed.begin(), shadowed.end());
    }
    const HostFacts facts{host_name(), running_as_root()};
    auto resolved = resolve_config(cli, env, file_values, env_file_used, facts);
    if (!resolved.config) resolved.error = "configuration error: " + resolved.error;
    resolved.warnings = std::move(warnings);
    return resolved;
}

}  // namespace lucid::host::config
