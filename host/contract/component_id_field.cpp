#include "contract/component_id_field.hpp"

#include "contract/echoed_value.hpp"
#include "lucid/registry/identifiers.hpp"

namespace lucid::host::contract {

ComponentIdField read_component_id(const rapidjson::Value& payload) {
    ComponentIdField field;
    if (!payload.IsObject() || !payload.HasMember("component_id")) {
        field.error = "validation_error: missing field 'component_id'";
        return field;
    }
    const auto it = payload.FindMember("component_id");
    if (!it->value.IsString()) {
        field.error = "validation_error: 'component_id' must be a string";
        return field;
    }
    const std::string value(it->value.GetString(), it->value.GetStringLength());
    if (!registry::is_valid_identifier(value)) {
        // The SPEC's message, with the value quoted as every error quotes a client's value.
        field.error = "validation_error: component_id '" + echoed_value(value) +
                      "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";
        return field;
    }
    field.id = value;
    return field;
}

}  // namespace lucid::host::contract
