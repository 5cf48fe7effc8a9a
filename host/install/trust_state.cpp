#include "install/trust_state.hpp"

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/atomic_file.hpp"
#include "common/file_lock.hpp"
#include "common/unique_fd.hpp"
#include "contract/json_text.hpp"
#include "contract/timestamp.hpp"
#include "lucid/registry/dist_name.hpp"
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

// A file that was read but is not a trust state: only moving it aside (or repairing it) helps.
Error corrupt_error(const fs::path& path, const Error& why) {
    if (why.code == Errc::not_found) return why;
    return Error{Errc::invalid, "trust state " + path.string() + " cannot be read: " + why.message +
                                    "; installs are refused until it is repaired (stop the agent, "
                                    "move the file aside, start the agent: the floors are seeded "
                                    "again from what is installed; signed key revocations it held "
                                    "must be sent again)"};
}

// The file or its lock could not be opened or read (permission denied, no data directory): the
// file may be fine, and moving it aside would throw its floors away for nothing.
Error io_error(const fs::path& path, const std::string& why) {
    return Error{Errc::invalid, "trust state " + path.string() + " cannot be read: " + why +
                                    "; installs are refused until the agent's user can read and "
                                    "write it and " +
                                    kTrustStateLock +
                                    " beside it (check the data directory, their owner and mode)"};
}

// Gives `name` in `dir` to the owner and group of `dir`
// (TrustState::give_files_to_directory_owner). It is opened without following a symlink and changed
// through that descriptor, and only when it is a regular file with a single link: root must not be
// talked into giving away whatever the directory's owner linked there (/etc/shadow). A file that
// does not exist is left alone.
Status give_to_directory_owner(const fs::path& dir, const char* name) {
    const fs::path path = dir / name;
    const auto failed = [&](const std::string& why) {
        return Error{Errc::io, "cannot give " + path.string() + " to the owner of " + dir.string() +
                                   ": " + why};
    };
    const UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat owner {};
    if (!d.valid() || ::fstat(d.get(), &owner) != 0) return failed(std::strerror(errno));
    const UniqueFd f(
        ::openat(d.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!f.valid() && errno == ENOENT) return done();
    if (!f.valid() && errno == ELOOP) return failed("it is a symbolic link");
    struct stat file {};
    if (!f.valid() || ::fstat(f.get(), &file) != 0) return failed(std::strerror(errno));
    if (!S_ISREG(file.st_mode)) return failed("it is not a regular file");
    if (file.st_nlink != 1) return failed("it has " + std::to_string(file.st_nlink) + " links");
    if (file.st_uid == owner.st_uid && file.st_gid == owner.st_gid) return done();
    if (::fchown(f.get(), owner.st_uid, owner.st_gid) != 0) return failed(std::strerror(errno));
    return done();
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
    // As the registry compares dist names (PEP 503): a permit for lucid_agent_cpu is for
    // lucid-agent-cpu.
    if (registry::normalize_dist_name(context.permit->dist) != dist) {
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

// `revoked` (absent in files without a revocation): each member a key id whose value holds the
// three strings of a KeyRevocation.
Expected<Revocations> parse_revocations(const rapidjson::Value& doc) {
    Revocations out;
    const auto revoked = doc.FindMember("revoked");
    if (revoked == doc.MemberEnd()) return out;
    if (!revoked->value.IsObject()) return Error{Errc::invalid, "revoked must be an object"};
    for (const auto& m : revoked->value.GetObject()) {
        const std::string id(m.name.GetString(), m.name.GetStringLength());
        const std::string where = "revoked." + id;
        if (!m.value.IsObject()) return Error{Errc::invalid, where + " must be an object"};
        KeyRevocation r;
        for (auto [name, field] :
             {std::pair{"signed_by", &r.signed_by}, std::pair{"signed_at", &r.signed_at},
              std::pair{"revoked_at", &r.revoked_at}}) {
            const auto it = m.value.FindMember(name);
            if (it == m.value.MemberEnd() || !it->value.IsString()) {
                return Error{Errc::invalid, where + "." + name + " must be a string"};
            }
            *field = std::string(it->value.GetString(), it->value.GetStringLength());
        }
        out[id] = std::move(r);
    }
    return out;
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& text) {
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

std::string Floor::effective() const { return held ? higher(version, held->version) : version; }

RevokedKeys revoked_keys(const Revocations& revocations) {
    RevokedKeys out;
    for (const auto& [id, r] : revocations) {
        out[id] = "by a list signed by key " + r.signed_by + " at " + r.signed_at;
    }
    return out;
}

Expected<TrustFile> parse_trust_state(const std::string& text) {
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
    TrustFile file;
    Floors& out = file.floors;
    for (const auto& m : floors->value.GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        const std::string where = "floors." + name;
        // As every dist name is compared (PEP 503): a hand-repaired "My_Hello" guards my-hello.
        const std::string dist = registry::normalize_dist_name(name);
        if (out.count(dist)) {
            return Error{Errc::invalid, where + " names " + dist + " again (another spelling)"};
        }
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
    if (auto revoked = parse_revocations(doc); !revoked) {
        return revoked.error();
    } else {
        file.revoked = std::move(revoked.value());
    }
    return file;
}

std::string trust_state_json(const TrustFile& file) {
    const Floors& floors = file.floors;
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
    if (!file.revoked.empty()) {
        w.Key("revoked");
        w.StartObject();
        for (const auto& [id, r] : file.revoked) {
            write_string(w, id);
            w.StartObject();
            w.Key("signed_by");
            write_string(w, r.signed_by);
            w.Key("signed_at");
            write_string(w, r.signed_at);
            w.Key("revoked_at");
            write_string(w, r.revoked_at);
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

TrustState::TrustState(fs::path data_dir)
    : dir_(std::move(data_dir)), path_(dir_ / kTrustStateFile), lock_(dir_ / kTrustStateLock) {}

bool TrustState::exists() const {
    std::error_code ec;
    return fs::exists(path_, ec);
}

Expected<TrustFile> TrustState::load_locked() const {
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
        return io_error(path_, e.what());
    }
    auto parsed = parse_trust_state(text);
    if (!parsed) return corrupt_error(path_, parsed.error());
    return parsed;
}

Status TrustState::save_locked(const TrustFile& file) {
    try {
        write_file_atomically(path_, trust_state_json(file));
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
    return done();
}

Status TrustState::hand_over() const {
    if (!give_files_) return done();
    for (const char* name : {kTrustStateLock, kTrustStateFile}) {
        if (Status given = give_to_directory_owner(dir_, name); !given) return given;
    }
    return done();
}

Status TrustState::save(const TrustFile& file) {
    if (Status saved = save_locked(file); !saved) return saved;
    return hand_over();
}

Expected<TrustFile> TrustState::read() const {
    try {
        FileLock lock(lock_);
        if (Status given = hand_over(); !given) return given.error();
        return load_locked();
    } catch (const std::exception& e) {
        return io_error(path_, e.what());
    }
}

Expected<Floors> TrustState::load() const {
    auto file = read();
    if (!file) return file.error();
    return std::move(file.value().floors);
}

Expected<Revocations> TrustState::revocations() const {
    auto file = read();
    if (!file) return file.error();
    return std::move(file.value().revoked);
}

Expected<std::vector<std::string>> TrustState::revoke(const std::string& signed_by,
                                                      const std::vector<std::string>& key_ids,
                                                      const std::string& signed_at) {
    try {
        FileLock lock(lock_);
        if (Status given = hand_over(); !given) return given.error();
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        TrustFile file = std::move(loaded.value());
        const std::string now = contract::utc_timestamp(std::chrono::system_clock::now());
        std::vector<std::string> added;
        for (const auto& id : key_ids) {
            if (file.revoked.emplace(id, KeyRevocation{signed_by, signed_at, now}).second) {
                added.push_back(id);
            }
        }
        if (added.empty()) return added;
        if (Status saved = save(file); !saved) return saved.error();
        return added;
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

Status TrustState::unrevoke(const std::string& key_id) {
    try {
        FileLock lock(lock_);
        if (Status given = hand_over(); !given) return given.error();
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        TrustFile file = std::move(loaded.value());
        if (file.revoked.erase(key_id) == 0) {
            return Error{Errc::not_found, "no signed revocation of key " + key_id};
        }
        return save(file);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
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
        if (Status given = hand_over(); !given) return given.error();
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        TrustFile file = std::move(loaded.value());
        Floors& floors = file.floors;
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
        return save(file);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

Expected<bool> TrustState::seed_if_absent(const std::map<std::string, std::string>& installed) {
    try {
        FileLock lock(lock_);
        if (Status given = hand_over(); !given) return given.error();
        std::error_code ec;
        if (fs::exists(path_, ec) || ec) return false;
        TrustFile file;
        for (const auto& [dist, version] : installed) {
            if (registry::Version::parse(version)) file.floors[dist].version = version;
        }
        if (Status saved = save(file); !saved) return saved.error();
        return true;
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

Status TrustState::reset(const std::string& dist, const std::optional<std::string>& to) {
    try {
        FileLock lock(lock_);
        if (Status given = hand_over(); !given) return given.error();
        auto loaded = load_locked();
        if (!loaded) return loaded.error();
        TrustFile file = std::move(loaded.value());
        Floors& floors = file.floors;
        if (to) {
            if (!registry::Version::parse(*to)) {
                return Error{Errc::invalid, "'" + *to + "' is not a semantic version"};
            }
            // Whether or not the dist has a floor now: after a corrupt file was moved aside only
            // the installed dists have one, and this puts back what the old file held.
            floors[dist] = Floor{*to, std::nullopt};
        } else if (floors.erase(dist) == 0) {
            return Error{Errc::not_found, "no floor for " + dist};
        }
        return save(file);
    } catch (const std::exception& e) {
        return Error{Errc::io, std::string("cannot save the trust state: ") + e.what()};
    }
}

}  // namespace lucid::host::install
