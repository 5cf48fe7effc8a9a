#include "components/audit_log.hpp"

#include "common/logging.hpp"
#include "lucid/registry/echoed_value.hpp"

namespace lucid::host::components {
namespace {

bool flag(const contract::Result& result, const char* key) {
    const auto* value = result.find(key);
    return value && value->IsBool() && value->GetBool();
}

std::string version_or_none(const std::string& version) {
    return version.empty() ? "none" : version;
}

// One log line per audit entry, whatever the values hold: a request_id, a drop-in file name or
// an error quoting either may carry newlines, quotes or U+2028 to forge a line of its own.
std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\\' || c == '\'') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else if (c == 0xe2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
                   (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
            out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";  // line/paragraph separators
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// Quoted, cut like an echoed value: a client's request_id may be a megabyte long.
std::string quoted(const std::string& text) {
    return "'" + escaped(registry::echoed_value(text)) + "'";
}

}  // namespace

std::string install_operation(const std::string& from, const std::string& to) {
    if (from.empty() || to.empty()) return "install";
    return from == to ? "reinstall" : "upgrade";
}

std::string audit_line(const AuditEntry& entry, const contract::Result& result) {
    std::string line = "audit: op=" + entry.operation + " component=" +
                       (entry.component_id.empty() ? "none" : escaped(entry.component_id));
    if (!entry.source.empty()) {
        line += " source=" + quoted(entry.source);
    } else {
        line += " request_id=" + quoted(entry.request_id);
    }
    line += " from=" + escaped(version_or_none(entry.from)) +
            " to=" + escaped(version_or_none(entry.to));
    const char* outcome = flag(result, "rolled_back") ? "rolled_back"
                          : !result.ok()              ? "failed"
                          : flag(result, "noop")      ? "noop"
                                                      : "ok";
    line += std::string(" outcome=") + outcome;
    if (flag(result, "restart_required")) line += " restart_required=true";
    const auto* error = result.find("error");
    if (error && error->IsString()) {
        // The agent's own text, whose client values are already cut: kept whole.
        line += " error='" + escaped({error->GetString(), error->GetStringLength()}) + "'";
    }
    return line;
}

void audit(const AuditEntry& entry, const contract::Result& result) {
    auto log = logger("audit");
    if (result.ok()) {
        log->info("{}", audit_line(entry, result));
    } else {
        log->warn("{}", audit_line(entry, result));
    }
}

}  // namespace lucid::host::components
