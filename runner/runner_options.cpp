#include "runner_options.hpp"

#include <cstdlib>
#include <cstring>

namespace lucid::runner {
namespace {

bool parse_number(const char* text, std::uint64_t& out) {
    if (!text || !*text || *text == '-') return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = value;
    return true;
}

}  // namespace

ParsedOptions parse_runner_options(int argc, const char* const* argv) {
    ParsedOptions parsed;
    RunnerOptions& o = parsed.options;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--no-seccomp") {
            o.seccomp = false;
            continue;
        }
        if (i + 1 >= argc) {
            parsed.error = flag + " needs a value";
            return parsed;
        }
        const char* value = argv[++i];
        std::uint64_t number = 0;
        auto numeric = [&](std::optional<std::uint64_t>& into) {
            if (!parse_number(value, number)) return false;
            into = number;
            return true;
        };
        bool ok = true;
        if (flag == "--fd" || flag == "--parent") {
            ok = parse_number(value, number) && number <= 0x7fffffff;
            if (flag == "--fd")
                o.fd = static_cast<int>(number);
            else
                o.parent = static_cast<pid_t>(number);
        } else if (flag == "--component") {
            o.component = value;
        } else if (flag == "--memory-mb") {
            ok = numeric(o.memory_mb);
        } else if (flag == "--open-files") {
            ok = numeric(o.open_files);
        } else if (flag == "--cpu-seconds") {
            ok = numeric(o.cpu_seconds);
        } else if (flag == "--run-as") {
            o.run_as = value;
        } else if (flag == "--plugin") {
            o.plugin = value;
        } else if (flag == "--group") {
            o.groups.emplace_back(value);
        } else if (flag == "--dir") {
            o.dir = value;
        } else if (flag == "--read") {
            o.read_paths.emplace_back(value);
        } else if (flag == "--write") {
            o.write_paths.emplace_back(value);
        } else {
            parsed.error = "unknown option " + flag;
            return parsed;
        }
        if (!ok) {
            parsed.error = flag + ": not a number: " + value;
            return parsed;
        }
    }
    return parsed;
}

}  // namespace lucid::runner
