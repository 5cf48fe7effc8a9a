#include "common/own_executable.hpp"

namespace lucid::host {

std::filesystem::path beside_own_executable(std::string_view name) {
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (ec ? std::filesystem::path("/usr/bin") : self.parent_path()) / name;
}

}  // namespace lucid::host
