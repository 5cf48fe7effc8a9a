// The agent's runtime configuration store (`{data}/core_config.json`) and the validation rules
// of the `core/cfg/set` command (contract §4.10). Validation is a pure function; the store writes
// atomically (see atomic_file.hpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "contract/labels.hpp"
#include "telemetry/telemetry_config.hpp"

namespace lucid::host::agent {

struct CoreConfig {
    int heartbeat_s = 30;
    std::string log_level = "INFO";  // TRACE, DEBUG, INFO, WARNING, ERROR (canonical)
    bool telemetry_enabled = true;
    // Set by a cfg/set of `labels` (the whole set); until then the agent's LUCID_LABELS apply.
    std::optional<contract::Labels> labels;
    // Which metrics stream (contract §4.14); a cfg/set's `telemetry` object merges into it.
    telemetry::TelemetryConfig telemetry;
    // The log over MQTT (contract §4.15): streamed on `logs` at or above logs_level.
    bool logs_enabled = false;
    std::string logs_level = "info";  // trace, debug, info, warn, error (canonical)

    bool operator==(const CoreConfig& other) const;
};

// Result of validating a cfg/set payload. Exactly one of `config` / `error` is meaningful.
struct CfgSetResult {
    std::optional<CoreConfig> config;  // the whole merged config, valid
    std::string error;                 // the first error, exact contract string
};

// Validates a whole cfg/set command payload (`{"request_id", "set": {...}}`) against `current`.
// The merged config is validated before anything is applied; the first error wins:
//   missing 'set' field in payload | 'set' must be an object | unknown config key: <k> |
//   <k> must be <type> | heartbeat_s must be between 5 and 3600 |
//   log_level must be one of <kLevelNames> (common/log_levels.hpp) | the label errors of
//   contract/labels.hpp | the telemetry errors of telemetry/telemetry_config.hpp |
//   logs_enabled must be bool | logs_level must be str | logs_level must be one of <kLevelNames>
CfgSetResult apply_cfg_set(const CoreConfig& current, const rapidjson::Value& payload);

// Writes the config as a JSON object into `out` (for `core/cfg/state` and the store).
void write_core_config(const CoreConfig& config, rapidjson::Value& out,
                       rapidjson::Document::AllocatorType& allocator);

// Persistence of the config. A missing file yields the defaults; a corrupt one is moved aside
// (`core_config.corrupt.<ts>.json`) and reported through `problem`, never silently lost.
class CoreConfigStore {
  public:
    explicit CoreConfigStore(std::filesystem::path data_dir);

    // Loads the config; `problem` (when given) receives a description of anything moved aside.
    CoreConfig load(std::string* problem = nullptr) const;
    // Atomic, durable save. Throws std::system_error on failure; the old file stays intact.
    void save(const CoreConfig& config) const;
    // The file's content for `config` (what save() writes; cfg/set journals it instead).
    static std::string text(const CoreConfig& config);

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace lucid::host::agent
