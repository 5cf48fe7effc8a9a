// lucidctl as a process for the integration tests: run it with an environment of its own (so
// nothing from the test's shell leaks in) and look at its exit code and output. Header-only
// because it uses doctest's REQUIRE; the test target defines LUCIDCTL_BIN.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "process.hpp"

namespace lucid::itest {

struct CtlOutcome {
    int code;
    std::string output;  // stdout and stderr together
    bool has(const std::string& text) const { return output.find(text) != std::string::npos; }
    // The output parsed as JSON, from its first '{' or '[' (a notice on stderr may precede it).
    rapidjson::Document json() const {
        rapidjson::Document doc;
        const auto start = output.find_first_of("{[");
        REQUIRE_MESSAGE(start != std::string::npos, output);
        doc.Parse(output.c_str() + start);
        REQUIRE_MESSAGE(!doc.HasParseError(), output);
        return doc;
    }
};

// `LUCID_ENV_FILE=/dev/null` unless `env` says otherwise: the machine's /etc/lucid/agent.env
// never reaches a test.
inline CtlOutcome run_ctl(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv{LUCIDCTL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> full{{"LUCID_ENV_FILE", "/dev/null"}};
    for (const auto& [k, v] : env) full[k] = v;
    auto [code, output] = run_to_completion(argv, full);
    return {code, output};
}

}  // namespace lucid::itest
