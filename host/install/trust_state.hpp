// The trust state of an agent (contract §8.12, §8.14): `{data}/trust_state.json`, the floor of
// each dist_name — the highest version that was ever committed on this device — so that an old
// artifact, signed or not, is not installed again without permission; and the keys revoked by
// signed lists, so that a revocation outlives restarts.
//
//   {"format": 1, "floors": {"echo": {"version": "2.0.0"},
//                            "cpu": {"version": "1.0.0",
//                                    "held": {"version": "1.2.0", "rollout": "r-1"}}},
//    "revoked": {"9c0d1e2f3a4b5c6d": {"signed_by": "3f9a0c17e2b4d685",
//                "signed_at": "2026-12-01T05:00:00.000Z", "revoked_at": "…"}}}
//
// A version is committed once it is installed and past its upgrade health window. Inside a
// rollout (a desired document that names `rollout`), the raise is *held* for that rollout: it
// counts as the floor for everything except the abort of that very rollout (a document naming
// it in `rollback_of`), which may go back down to the floor below. Anything else committed on the
// dist after it makes a held raise final.
//
//   TrustState trust(data_dir);
//   if (auto refused = trust.check("echo", "1.0.0", context)) fail(refused->message);
//   trust.commit("echo", "2.0.0", context);
//
// The file is written atomically (common/atomic_file.hpp) under `{data}/trust_state.lock`, and
// read at every check: `lucid-agent floor reset` changes it beside a running agent. A file that
// cannot be read, or holds anything but that shape, is never taken for "no floors": every check
// refuses with an error naming it — for a file that does not parse, until an operator moves it
// aside and restarts the agent, which seeds it again from what is installed (seed_if_absent); for
// one that cannot be opened or read (its owner, its mode), until the agent's user can.
// Thread: every call takes the file lock; any thread. Errors: Expected / the refusal text.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "install/rollback_permit.hpp"
#include "install/trusted_keys.hpp"

namespace lucid::host::install {

inline constexpr const char* kTrustStateFile = "trust_state.json";
inline constexpr const char* kTrustStateLock = "trust_state.lock";

struct HeldFloor {
    std::string version;  // committed by the rollout, not yet final
    std::string rollout;  // the rollout id whose abort may still go below it
};

struct Floor {
    std::string version;  // the committed floor; "" when only a held raise is known
    std::optional<HeldFloor> held;
    // What an install must not go below (without permission): the higher of both.
    std::string effective() const;
};

using Floors = std::map<std::string, Floor>;  // by dist_name

// Where an install comes from, as far as the floor is concerned.
struct FloorContext {
    bool allow_downgrade = false;  // the command's `allow_downgrade: true`
    std::string rollout;           // the desired document's `rollout` (a rollout wrote it)
    std::string rollback_of;       // the desired document's `rollback_of` (a rollout's abort)
    // LUCID_SIGNATURE_POLICY=required: allow_downgrade counts only with a rollback permit
    // (install/rollback_permit.hpp) for this dist and version, verified by the caller into
    // `permit` (or `permit_error`).
    bool permit_required = false;
    std::optional<Permit> permit;
    std::string permit_error;
};

// A key revoked by a signed list (contract §8.14, install/revocation_list.hpp).
struct KeyRevocation {
    std::string signed_by;   // the key id that signed the list
    std::string signed_at;   // the list's signed_at
    std::string revoked_at;  // when this agent took it (UTC ISO-8601)
};
using Revocations = std::map<std::string, KeyRevocation>;  // by revoked key id

// "by a list signed by key <id> at <signed_at>" for each: what a refused signature says.
RevokedKeys revoked_keys(const Revocations& revocations);

struct TrustFile {
    Floors floors;
    Revocations revoked;
};

// The file as parsed; exposed for the unit tests and `lucid-agent floor list`.
Expected<TrustFile> parse_trust_state(const std::string& text);
std::string trust_state_json(const TrustFile& file);

class TrustState {
  public:
    explicit TrustState(std::filesystem::path data_dir);

    const std::filesystem::path& path() const { return path_; }
    bool exists() const;

    // Root on the device (`lucid-agent floor`): from now on, the trust state and its lock file are
    // given to the data directory's owner and group whenever this object takes the lock or
    // replaces the file (fchown, never through a symlink, never a file with a second link), so
    // that the agent, which runs as that user, can still read them. Errors of every call then
    // include "cannot give <path> to the owner of <dir>: <why>" (Errc::io).
    void give_files_to_directory_owner() { give_files_ = true; }

    // The floors as stored. Errors: missing file (Errc::not_found), unreadable or corrupt
    // (Errc::invalid), both with the message an operator reads (io_error, corrupt_error).
    Expected<Floors> load() const;

    // Why `version` of `dist` may not be installed, or nullopt: Errc::refused with
    //   downgrade refused: <dist> <version> < <floor>
    // and, when a permit is required for allow_downgrade (FloorContext::permit_required):
    //   downgrade refused: <dist> <version> < <floor>: allow_downgrade needs a rollback_permit
    //   (LUCID_SIGNATURE_POLICY=required)
    //   rollback permit mismatch: dist <permit's>, install <dist>
    //   rollback permit mismatch: version <permit's>, install <version>
    //   the permit's own error (rollback permit invalid: ..., rollback permit expired at ...)
    // or the file's own error (install refused: trust state <path> ...; Errc::not_found when
    // it is missing, Errc::invalid when it cannot be read).
    std::optional<Error> check(const std::string& dist, const std::string& version,
                               const FloorContext& context) const;

    // The keys revoked by signed lists. Errors: as load().
    Expected<Revocations> revocations() const;

    // Adds the keys `list` revokes (already verified: verify_revocation_list); returns those
    // that were not revoked before (a list sent twice changes nothing). Errors: the file's.
    Expected<std::vector<std::string>> revoke(const std::string& signed_by,
                                              const std::vector<std::string>& key_ids,
                                              const std::string& signed_at);

    // lucid-agent keys unrevoke KEY_ID: takes a signed revocation back (root on the device only).
    // Errors: the file's, or Errc::not_found when no list revoked it.
    Status unrevoke(const std::string& key_id);

    // Records `version` of `dist` as committed (see the header comment). Errors: the file's.
    Status commit(const std::string& dist, const std::string& version, const FloorContext& context);

    // The first start of an agent with floors: the file does not exist yet, so every installed
    // dist's version becomes its floor. Returns true when it wrote the file.
    Expected<bool> seed_if_absent(const std::map<std::string, std::string>& installed);

    // lucid-agent floor reset DIST [--to VERSION]: removes the floor (and a held raise), or
    // sets it to `to`, whether or not the dist has one. Errors: the file's, Errc::invalid when
    // `to` is no semantic version, or Errc::not_found when there is no floor to remove.
    Status reset(const std::string& dist, const std::optional<std::string>& to);

  private:
    Expected<TrustFile> read() const;  // under the lock: what load() and revocations() take
    Expected<TrustFile> load_locked() const;
    Status save_locked(const TrustFile& file);
    Status save(const TrustFile& file);  // save_locked, then hand_over
    Status hand_over() const;            // give_files_to_directory_owner's part, when asked

    std::filesystem::path dir_;
    std::filesystem::path path_;
    std::filesystem::path lock_;
    bool give_files_ = false;
};

}  // namespace lucid::host::install
