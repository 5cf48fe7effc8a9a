#include "config/setting_names.hpp"

#include <algorithm>

#include "common/edit_distance.hpp"
#include "config/settings.hpp"

namespace lucid::host::config {
namespace {

std::vector<std::string_view> known_variables() {
    std::vector<std::string_view> names;
    for (const auto& s : kSettings) names.push_back(s.env);
    for (const auto& v : kOtherVariables) names.push_back(v);
    return names;
}

}  // namespace

bool is_known_variable(std::string_view name) {
    const auto names = known_variables();
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<std::string> nearest_known_variable(std::string_view name) {
    std::optional<std::string> best;
    std::size_t best_distance = std::min<std::size_t>(4, name.size() / 3);
    for (const auto known : known_variables()) {
        const auto d = edit_distance(name, known);
        if (d < best_distance || (!best && d == best_distance)) {
            best_distance = d;
            best = std::string(known);
        }
    }
    return best;
}

std::vector<std::string> unknown_variable_warnings(const std::map<std::string, std::string>& values,
                                                   const std::string& env_file_path) {
    std::vector<std::string> warnings;
    for (const auto& [key, value] : values) {
        if (key.rfind("LUCID_", 0) != 0 || is_known_variable(key)) continue;
        std::string w = "env file " + env_file_path + ": unknown setting " + key + " ignored";
        if (auto near = nearest_known_variable(key)) w += " (did you mean " + *near + "?)";
        warnings.push_back(std::move(w));
    }
    return warnings;
}

std::vector<std::string> shadowed_variable_warnings(
    const std::map<std::string, std::string>& values, const std::string& env_file_path,
    const std::function<std::optional<std::string>(const std::string&)>& environment) {
    std::vector<std::string> warnings;
    for (const auto& [key, value] : values) {
        if (!is_known_variable(key)) continue;
        const auto set = environment(key);
        if (!set || *set == value) continue;
        warnings.push_back("env file " + env_file_path + ": " + key +
                           " ignored: the environment sets it (under the systemd unit: "
                           "systemctl edit lucid-agent, Environment=" +
                           key + "=...)");
    }
    return warnings;
}

}  // namespace lucid::host::config
