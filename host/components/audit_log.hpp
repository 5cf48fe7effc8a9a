// The audit trail: one log line for every operation that changes what runs (install, upgrade,
// rollback, uninstall, start, stop, restart, enable, disable, a component's config) and for
// every refusal of one — INFO when it succeeded (or had nothing to do), WARN when it was refused
// or failed. Every line has the same keys, so that a log search finds them all:
//
//   audit: op=upgrade component=echo request_id='u1' from=1.0.0 to=2.0.0 outcome=ok
//   audit: op=install component=echo request_id='i2' from=none to=1.0.0 outcome=failed
//          error='sha256 mismatch: got=…'
//   audit: op=upgrade component=echo request_id='u3' from=1.0.0 to=3.0.0 outcome=rolled_back
//          error='start failed: …'
//   audit: op=install component=echo source='dropin /…/echo-1.0.0.so' from=none to=1.0.0 …
//
// outcome: ok | noop | failed | rolled_back, then `restart_required=true` when the library
// stayed mapped. The request_id, which the client chose, is cut like an echoed value
// (registry::echoed_value), so a command cannot inflate the log (errors quote client values
// cut already); the result's JSON is never embedded.
//
// Thread: any. Errors: none thrown.
#pragma once

#include <string>

#include "contract/payloads.hpp"

namespace lucid::host::components {

struct AuditEntry {
    std::string operation;     // install, upgrade, reinstall, uninstall, start, stop, ...
    std::string component_id;  // as echoed in the result ("" when none could be read)
    std::string request_id;    // the command's; empty for a drop-in file
    std::string source;        // "dropin <path>" for a drop-in file, empty for MQTT
    std::string from;          // the version before, empty when none
    std::string to;            // the version after (or attempted), empty when none
};

// install, upgrade or reinstall, from the versions before and after.
std::string install_operation(const std::string& from, const std::string& to);

// The line for `entry` whose result is `result` (ok, noop, rolled_back, restart_required,
// error are read from it).
std::string audit_line(const AuditEntry& entry, const contract::Result& result);
// Writes audit_line() at INFO (result ok) or WARN to the "audit" logger.
void audit(const AuditEntry& entry, const contract::Result& result);

}  // namespace lucid::host::components
