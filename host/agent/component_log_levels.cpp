#include "agent/component_log_levels.hpp"

#include <system_error>

#include <rapidjson/document.h>

#include "common/atomic_file.hpp"
#include "common/file_modes.hpp"
#include "common/log_levels.hpp"
#include "contract/payloads.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/registry_json.hpp"

namespace lucid::host::agent {

ComponentLogLevels::ComponentLogLevels(std::filesystem::path data_dir, LogTap& tap)
    : path_(std::move(data_dir) / "log_levels.json"), tap_(tap) {}

void ComponentLogLevels::restore(std::string* problem) {
    std::lock_guard<std::mutex> lock(mutex_);
    levels_ = load(problem);
    for (const auto& [cid, level] : levels_) tap_.set_component_level(cid, level);
}

void ComponentLogLevels::set(const std::string& component_id,
                             std::optional<spdlog::level::level_enum> level) {
    std::lock_guard<std::mutex> lock(mutex_);
    Levels changed = levels_;
    if (level) {
        changed[component_id] = *level;
    } else {
        changed.erase(component_id);
    }
    save(changed);  // first: a refused save changes nothing
    levels_ = std::move(changed);
    tap_.set_component_level(component_id, level);
}

std::optional<std::string> ComponentLogLevels::name_of(const std::string& component_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = levels_.find(component_id);
    if (it == levels_.end()) return std::nullopt;
    return std::string(stream_level_name(it->second));
}

void ComponentLogLevels::forget(const std::string& component_id, std::string* problem) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (levels_.erase(component_id) == 0) return;
    tap_.set_component_level(component_id, std::nullopt);
    try {
        save(levels_);
    } catch (const std::exception& e) {
        if (problem) *problem = std::string("cannot save ") + path_.string() + ": " + e.what();
    }
}

ComponentLogLevels::Levels ComponentLogLevels::load(std::string* problem) const {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) return {};
    auto report = [&](const std::string& what) {
        const std::string where = move_aside_saying(path_, "corrupt");
        if (problem) *problem = what + "; " + where + ", no component has a level of its own";
        return Levels{};
    };
    rapidjson::Document doc;
    try {
        doc = registry::parse_json_object(read_file(path_), path_.filename().string());
    } catch (const std::exception& e) {
        return report(e.what());
    }
    auto components = doc.FindMember("components");
    if (components == doc.MemberEnd() || !components->value.IsObject()) {
        return report(path_.filename().string() + " has no 'components' object");
    }
    Levels levels;
    for (const auto& m : components->value.GetObject()) {
        const std::string cid(m.name.GetString(), m.name.GetStringLength());
        const auto level = m.value.IsString() ? parse_stream_level(std::string_view(
                                                    m.value.GetString(), m.value.GetStringLength()))
                                              : std::nullopt;
        if (!registry::is_valid_identifier(cid) || !level) {
            return report(path_.filename().string() + " holds an invalid level for '" + cid + "'");
        }
        levels[cid] = *level;
    }
    return levels;
}

void ComponentLogLevels::save(const Levels& levels) const {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    rapidjson::Value components(rapidjson::kObjectType);
    for (const auto& [cid, level] : levels) {
        const auto name = stream_level_name(level);
        components.AddMember(
            rapidjson::Value(cid.c_str(), a),
            rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a), a);
    }
    doc.AddMember("components", components, a);
    make_directories(path_.parent_path());
    write_file_atomically(path_, contract::to_json(doc) + "\n");
}

}  // namespace lucid::host::agent
