// The registry loader on arbitrary file contents: the format-1 parser and the legacy migration
// both run on the same bytes (registry_store picks one by the `format` field; here both must
// survive anything). A parsed registry must serialize to a file that loads back cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lucid/registry/legacy_migration.hpp"
#include "lucid/registry/registry_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lucid::registry;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    rapidjson::Document doc;
    try {
        doc = parse_json_object(text, "registry.json");
    } catch (const CorruptRegistry&) {
        return 0;
    }

    try {
        ParsedRegistry parsed = parse_registry(doc);
        const std::string saved = serialize_registry(parsed.registry);
        ParsedRegistry reloaded = parse_registry(parse_json_object(saved, "saved"));
        if (!reloaded.problems.empty() ||
            reloaded.registry.entries().size() != parsed.registry.entries().size()) {
            __builtin_trap();  // what we write must load back whole
        }
    } catch (const CorruptRegistry&) {
        // `components` is not an object: reported by the store, file moved aside.
    }

    LegacyMigration migration = migrate_legacy_registry(doc);
    (void)serialize_registry(migration.registry);
    return 0;
}
