// The registry file format (format 1) and its JSON encoding.
//
//   {"format": 1, "components": {"<component_id>": {entry}, ...}}
//
// Parsing reports entries of the wrong shape instead of dropping them silently; the caller
// (registry_store) decides what to keep aside.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "lucid/registry/registry.hpp"

namespace lucid::registry {

constexpr int kRegistryFormat = 1;

// The file could not be understood at all (not JSON, not an object, truncated).
class CorruptRegistry : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A well-formed file written by a newer agent: refused rather than rewritten and lost.
class UnsupportedRegistryFormat : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct ParsedRegistry {
    Registry registry;
    std::vector<std::string> problems;  // one line per entry that was reported and left out
};

// Parses a format-1 document (the caller has checked that `format` is present).
ParsedRegistry parse_registry(const rapidjson::Value& document);

// JSON nested deeper than this is refused before it is parsed: RapidJSON's parser, writer,
// copy and destructor all recurse, so a few hundred kilobytes of '[' would overflow the stack.
// Nothing the agent reads or writes legitimately comes close.
constexpr std::size_t kMaxJsonDepth = 64;

// True when `text` opens more than `max_depth` arrays/objects inside each other (strings
// are skipped, so brackets inside them do not count).
bool json_too_deep(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// Parses a whole file's text: throws CorruptRegistry for anything that is not a JSON object.
rapidjson::Document parse_json_object(std::string_view text, std::string_view what);

// Reads one entry; throws std::invalid_argument naming the bad field.
Entry read_entry(std::string_view component_id, const rapidjson::Value& value);
// The largest limits a command may set: 16 TiB, the kernel's default nr_open, a year.
inline constexpr std::uint64_t kMaxMemoryMb = 16u * 1024u * 1024u;
inline constexpr std::uint64_t kMaxOpenFiles = 1048576;
inline constexpr std::uint64_t kMaxCpuSeconds = 365u * 24u * 3600u;

// An entry's `limits` object (also the install payload's and the configure command's): each
// member absent, null, or a positive integer. Throws std::invalid_argument naming the member;
// `strict` also refuses names that are no limit (a typo must not drop a limit in force).
Limits read_limits(const rapidjson::Value& value, bool strict = true);
void write_limits(const Limits& limits, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& allocator);
// An entry's `run_as` object (also the install payload's, the configure command's and the desired
// state's): {"user": NAME, "groups": [NAME, ...]?}; {} is the agent's own user. Names are account
// names (run_as_allowed.hpp). Throws std::invalid_argument naming the member; `strict` also
// refuses unknown members.
RunAs read_run_as(const rapidjson::Value& value, bool strict = true);
void write_run_as(const RunAs& run_as, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& allocator);
void write_entry(const Entry& entry, rapidjson::Value& out,
                 rapidjson::Document::AllocatorType& allocator);

// One entry as a compact JSON object's text, and back (read_entry's rules; throws
// std::invalid_argument): an entry kept outside the registry until it is registered.
std::string entry_to_json(const Entry& entry);
Entry entry_from_json(std::string_view component_id, std::string_view text);

// The file's text, pretty-printed with a trailing newline (operators do read it).
std::string serialize_registry(const Registry& registry);

}  // namespace lucid::registry
