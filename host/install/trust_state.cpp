#include "install/trust_state.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <system_error>

#include "common/atomic_file.hpp"
#include "common/file_lock.hpp"
#include "contract/json_text.hpp"
#include "lucid/registry/semver.hpp"

namespace lucid::host::install {
namespace fs = std::filesystem;

namespace {

constexpr int kFormat = 1;

// Both are semantic versions once parsed (parse_trust_state, the manifest's check).
int compare_versions(const std::string& a, const std::string& b) {
    const auto va = registry::Version::parse(a);
    const auto vb = registry::Version::parse(b);
    if (!va || !vb) return a.compare(b);  // never reached with checked input
    return registry::compare(*va, *vb);
}

const std::string& higher(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return compare_versions(a, b) >= 0 ? a : b;
}

Expected<std::string> version_member(const rapidjson::Value& object, const char* name,
                                     const std::string& where) {
    const auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsString()) {
        return Error{Errc::invalid, where + "." + name + " must be a string"};
    }
    std::string text(it->value.GetString(), it->value.GetStringLength());
    if (!registry::Version::parse(text)) {
        return Error{Errc::invalid,
                     where + "." + name + " '" + text + "' is not a semantic version"};
    }
    return text;
}

Error file_error(const fs::path& path, const Error& why) {
    if (why.code == Errc::not_found) return why;
    return Error{Errc::invalid, "trust state " + path.string() + " cannot be read: " + why.message +
                                    "; installs are refused until it is repaired (stop the agent, "
                                    "move the file aside, start the agent: the floors are seeded "
                                    "again from what is installed)"};
}

// allow_downgrade with the permit the policy asks for, or why not.
std::optional<Error> permit_refusal(const std::string& dist, const std::string& version,
                                    const std::string& floor, const FloorContext& context) {
    if (!context.permit_required) return std::nullopt;
    if (!context.permit_error.empty()) return Error{Errc::refused, context.permit_error};
    if (!context.permit) {
        return Error{Errc::refused, "downgrade refused: " + dist + " " + version + " < " + floor +
                                        ": allow_downgrade needs a rollback_permit "
                                        "(LUCID_SIGNATURE_POLICY=required)"};
    }
    if (context.permit->dist != dist) {
        return Error{Errc::refused, "rollback permit mismatch: dist " + context.permit->dist +
                                        ", install " + dist};
    }
    // The very version: a permit for 1.0.0 lets nobody install 0.1.0.
    if (compare_versions(context.permit->version, version) != 0) {
        return Error{Errc::refused, "rollback permit mismatch: version " + context.permit->version +
                                        ", install " + version};
    }
    return std::nullopt;
}

}  // namespace

std::string Floor::effective() const { return held ? higher(version, held->version) : version; }

Expected<Floors> parse_trust_state(const std::string& text) {
    rapidjson::Document doc;
    if (Status parsed = contract::parse_json_text(text, doc); !parsed) return parsed.error();
    if (!doc.IsObject()) return Error{Errc::invalid, "not a JSON object"};
    if (contract::duplicate_key(doc)) return Error{Errc::invalid, "a key appears twice"};
    const auto format = doc.FindMember("format");
    if (format == doc.MemberEnd() || !format->value.IsInt() || format->value.GetInt() != kFormat) {
        return Error{Errc::invalid, "format must be 1"};
    }
    const auto floors = doc.FindMember("floors");
    if (floors == doc.MemberEnd() || !floors->value.IsObject()) {
        return Error{Errc::invalid, "floors must be an object"};
    }
    Floors out;
    for (const auto& m : floors->value.GetObject()) {
        const std::string dist(m.name.GetString(), m.name.GetStringLength());
        const std::string where = "floors." + dist;
        if (!m.value.IsObject()) return Error{Errc::invalid, where + " must be an object"};
        Floor floor;
        const auto held = m.value.FindMember("held");
        // Only a held raise is known when a rollout installed the dist first.
        if (m.value.HasMember("version") || held == m.value.MemberEnd()) {
            auto version = version_member(m.value, "version", where);
            if (!version) return version.error();
            floor.version = version.value();
        }
        if (held != m.value.MemberEnd()) {
            if (!held->value.IsObject()) {
                return Error{Errc::invalid, where + ".held must be an object"};
            }
            auto held_version = version_member(held->value, "version", where + ".held");
            if (!held_version) return held_version.error();
            const auto rollout = held->value.FindMember("rollout");
            if (rollout == held->value.MemberEnd() || !rollout->value.IsString() ||
                rollout->value.GetStringLength() == 0) {
                return Error{Errc::invalid, where + ".held.rollout must be a string"};
            }
            floor.held = HeldFloor{
                held_version.value(),
                std::string(rollout->value.GetString(), rollout->value.GetStringLength())};
        }
        out[dist] = std::move(floor);
    }
    return out;
}

std::string trust_state_json(const Floors& floors) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("format");
    w.Int(kFormat);
    w.Key("floors");
    w.StartObject();
    for (const auto& [dist, floor] : floors) {
        w.Key(dist.c_str(), static_cast<rapidjson::SizeType>(dist.size()));
        w.StartObject();
        if (!floor.version.empty()) {
            w.Key("version");
            w.String(floor.version.c_str(), static_cast<rapidjson::SizeType>(floor.version.size()));
        }
        if (floor.held) {
            w.Key("held");
            w.StartObject();
            w.Key("version");
            w.String(floor.held->version.c_str(),
                     static_cast<rapidjson::SizeType>(floor.held->version.size()));
            w.Key("rollout");
            w.String(floor.held->rollout.c_str(),
                     static_cast<rapidjson::SizeType>(floor.held->rollout.size()));
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

TrustState::TrustState(fs::path data_dir)
    : dir_(std::move(data_dir)), path_(dir_ / kTrustStateFile), lock_(dir_ / kTrustStateLock) {}

bool TrustState::exists() const {
    std::error_code ec;
    return fs::exists(path_, ec);
}

Expected<Floors> TrustState::load_locked() const {
    std::error_code ec;
    if (!fs::exists(path_, ec) && !ec) {
        return Error{Errc::not_found,
                     "trust state " + path_.string() +
                         " is missing: installs are refused until the agent seeds it from what is "
                         "installed at its next start"};
    }
    std::string text;
    try {
        text = read_file(path_);
    } catch (const std::exception& e) {
        return file_error(path_, Error{Errc::io, e.what()});
    }
    auto parsed = parse_trust_state(text);
    if (!parsed) return file_error(path_, parsed.error());
    return parsed;
}

Status TrustState::save_locked(const Floors& floors) {
    try {
        write_file_atomically(path_, trust_state_json(floors));
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
    return done();
}

Expected<Floors> TrustState::load() const {
    try {
        FileLock lock(lock_);
        return load_locked();
    } catch (const std::exception& e) {
        return file_error(path_, Error{Errc::io, e.what()});
    }
}

std::optional<Error> TrustState::check(const std::string& dist, const std::string& version,
                                       const FloorContext& context) const {
    auto floors = load();
    if (!floors) return Error{floors.error().code, "install refused: " + floors.error().message};
    const auto it = floors.value().find(dist);
    if (it == floors.value().end()) return std::nullopt;
    const Floor& floor = it->second;
    const std::string effective = floor.effective();
    if (compare_versions(version, effective) >= 0) return std::nullopt;
    if (context.allow_downgrade) return permit_refusal(dist, version, effective, context);
    // The abort of the rollout that holds the raise goes back, not below the committed floor.
    if (floor.held && !context.rollback_of.empty() && context.rollback_of == floor.held->rollout &&
        (floor.version.empty() || compare_versions(version, floor.version) >= 0)) {
        return std::nullopt;
    }
    return Error{Errc::refused, "downgrade refused: " + dist + " " + version + " < " + effective};
}

Status TrustState::commit(const std::string& dist, const std::string& version,
                          const FloorContext& context) {
    try {
        FileLock lock(lock_);
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        Floors floors = std::move(loaded.value());
        Floor& floor = floors[dist];
        const bool aborted = floor.held && !context.rollback_of.empty() &&
                             context.rollback_of == floor.held->rollout;
        if (aborted) {
            // The rollout's raise is undone with it: what was committed before it stays.
            floor.held.reset();
        } else if (floor.held && floor.held->rollout != context.rollout) {
            // Anything but that rollout (or its abort) after it makes its raise final.
            floor.version = higher(floor.version, floor.held->version);
            floor.held.reset();
        }
        if (!context.rollout.empty() && !aborted) {
            // Held for the rollout: its abort may still go back to floor.version.
            if (floor.version.empty() || compare_versions(version, floor.version) > 0) {
                floor.held = HeldFloor{floor.held ? higher(floor.held->version, version) : version,
                                       context.rollout};
            }
        } else {
            floor.version = higher(floor.version, version);
        }
        if (floor.version.empty() && !floor.held) floors.erase(dist);
        return save_locked(floors);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

Expected<bool> TrustState::seed_if_absent(const std::map<std::string, std::string>& installed) {
    try {
        FileLock lock(lock_);
        std::error_code ec;
        if (fs::exists(path_, ec) || ec) return false;
        Floors floors;
        for (const auto& [dist, version] : installed) {
            if (registry::Version::parse(version)) floors[dist].version = version;
        }
        if (Status saved = save_locked(floors); !saved) return saved.error();
        return true;
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

Status TrustState::reset(const std::string& dist, const std::optional<std::string>& to) {
    try {
        FileLock lock(lock_);
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        Floors floors = std::move(loaded.value());
        const auto it = floors.find(dist);
        if (it == floors.end()) return Error{Errc::not_found, "no floor for " + dist};
        if (to) {
            if (!registry::Version::parse(*to)) {
                return Error{Errc::invalid, "'" + *to + "' is not a semantic version"};
            }
            it->second = Floor{*to, std::nullopt};
        } else {
            floors.erase(it);
        }
        return save_locked(floors);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

}  // namespace lucid::host::install
