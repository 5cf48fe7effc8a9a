#include "contract/labels.hpp"

#include "lucid/registry/echoed_value.hpp"

namespace lucid::host::contract {
namespace {

bool label_char(char c, bool first) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// A client's text in an error: cut like every echoed identifier (contract §2.4).
std::string shown(std::string_view text) { return registry::echoed_value(text); }

Status check_pair(std::string_view key, std::string_view value) {
    if (Status checked = check_label_key(key); !checked) return checked;
    if (!valid_label_text(value)) {
        return Error{Errc::invalid, "label value '" + shown(value) + "' of '" + std::string(key) +
                                        "' must match " + std::string(kLabelPattern)};
    }
    return done();
}

Status add(Labels& labels, std::string_view key, std::string_view value) {
    if (Status checked = check_pair(key, value); !checked) return checked;
    if (labels.count(key)) {
        return Error{Errc::invalid, "label '" + std::string(key) + "' given twice"};
    }
    if (labels.size() >= kMaxLabels) {
        return Error{Errc::invalid, "at most " + std::to_string(kMaxLabels) + " labels"};
    }
    labels.emplace(std::string(key), std::string(value));
    return done();
}

}  // namespace

Status check_label_key(std::string_view key) {
    if (valid_label_text(key)) return done();
    return Error{Errc::invalid,
                 "label key '" + shown(key) + "' must match " + std::string(kLabelPattern)};
}

bool valid_label_text(std::string_view text) {
    if (text.empty() || text.size() > 64) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!label_char(text[i], i == 0)) return false;
    }
    return true;
}

Expected<Labels> parse_labels_text(std::string_view text) {
    Labels labels;
    if (trimmed(text).empty()) return labels;
    while (true) {
        const auto comma = text.find(',');
        const std::string_view item = trimmed(text.substr(0, comma));
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return Error{Errc::invalid, "label '" + shown(item) + "' must be key=value"};
        }
        if (Status added = add(labels, trimmed(item.substr(0, eq)), trimmed(item.substr(eq + 1)));
            !added) {
            return added.error();
        }
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return labels;
}

Expected<Labels> labels_from_json(const rapidjson::Value& value) {
    if (!value.IsObject()) return Error{Errc::invalid, "labels must be dict"};
    Labels labels;
    for (const auto& member : value.GetObject()) {
        const std::string_view key(member.name.GetString(), member.name.GetStringLength());
        if (!member.value.IsString()) {
            if (Status checked = check_label_key(key); !checked) return checked.error();
            return Error{Errc::invalid, "labels." + std::string(key) + " must be str"};
        }
        const std::string_view text(member.value.GetString(), member.value.GetStringLength());
        if (Status added = add(labels, key, text); !added) return added.error();
    }
    return labels;
}

rapidjson::Value labels_to_json(const Labels& labels, rapidjson::Document::AllocatorType& a) {
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& [key, value] : labels) {
        out.AddMember(rapidjson::Value(key, a), rapidjson::Value(value, a), a);
    }
    return out;
}

std::string labels_text(const Labels& labels) {
    std::string text;
    for (const auto& [key, value] : labels) {
        if (!text.empty()) text += ',';
        text += key + "=" + value;
    }
    return text;
}

}  // namespace lucid::host::contract
