// What a log line may not carry (contract §4.15, SECURITY.md): passwords and the credentials of
// URLs. The agent already redacts what it logs where it logs it (mqtt_url.hpp: broker URLs as
// `user:***@host`; source_url.hpp: install URLs as `https://***@host/x.so?***`); a plugin's text
// and anything missed there pass through this before a line is written by a plugin or
// published on `logs`:
//   - every URL (`scheme://…`): its userinfo becomes `***` (`user:***` as the agent writes a
//     broker URL is kept), its query `?***`, its fragment `#***`; a password holding a raw `/`
//     (`http://u:p/w@h`) is taken up to the last `@` of the URL;
//   - `password=<value>` and `password: <value>` (any case, also `passwd`): the value `***`;
//   - each of `secrets` (the broker password, as configured and percent-encoded) wherever it
//     appears: `***`; one shorter than three characters wherever it stands as a word of its own
//     (not inside a longer word of letters, digits and `_`).
// Over-redacting is accepted (a path holding `@` loses what precedes it). Idempotent. Pure;
// thread-safe.
//
//   redact_log_text("got https://tok@h/x?sig=1 ok", {}) == "got https://***@h/x?*** ok"
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lucid::host {

std::string redact_log_text(std::string_view text, const std::vector<std::string>& secrets = {});

// `text` on one line and unable to drive a terminal: C0 control characters and DEL written as
// `\n`, `\r`, `\t` or `\xNN`, the C1 ones (UTF-8 `\xc2\x80`–`\xc2\x9f`) as `\xc2\xNN`; a
// backslash stays as it is. Pure; thread-safe.
//
//   escape_control_characters("a\nb\x1b[2J") == "a\\nb\\x1b[2J"
std::string escape_control_characters(std::string_view text);

}  // namespace lucid::host
