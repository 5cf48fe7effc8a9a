#include "contract/component_id_field.hpp"

#include "lucid/registry/echoed_value.hpp"
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
    if (auto error = registry::identifier_error("component_id", value)) {
        field.error = *error;  // contract §2.1's message, value quoted by registry::echoed_value
        field.echo = registry::echoed_value(value);
        return field;
    }
    field.id = value;
    field.echo = value;
    return field;
}

}  // namespace lucid::host::contract
