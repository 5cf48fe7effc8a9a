#include "config/host_facts.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>

namespace lucid::host::config {

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
    return name;
}

std::string machine_arch() {
    utsname u{};
    if (uname(&u) != 0) return "unknown";
    return u.machine;
}

bool running_as_root() { return geteuid() == 0; }

std::optional<std::string> getenv_string(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

}  // namespace lucid::host::config
