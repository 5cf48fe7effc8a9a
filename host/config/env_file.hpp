// Env files (`/etc/lucid/agent.env`, `--env-file`): the systemd EnvironmentFile= dialect.
// `KEY=VALUE` lines, blank lines and `#` comments, an optional `export ` prefix, values optionally
// in single quotes (literal) or double quotes (with \" \\ \n \$ escapes). In an unquoted value,
// whitespace followed by `#` starts a comment (`KEY=v  # note` is `v`); quote the value to keep
// it. Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace lucid::host::config {

struct EnvFileResult {
    std::map<std::string, std::string> values;
    std::string error;  // "line <n>: <what>" on the first bad line; values is then empty
};

EnvFileResult parse_env_file(std::string_view text);

}  // namespace lucid::host::config
