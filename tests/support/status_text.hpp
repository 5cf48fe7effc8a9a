// What a Status says, for assertions on the host's checks: "" when it is done, else the error's
// message (the text an operator reads), so that a test compares texts and a check that passes
// unexpectedly fails the comparison instead of asserting.
#pragma once

#include <string>

#include "common/expected.hpp"

namespace lucid::test {

template <typename T>
std::string status_text(const lucid::host::Expected<T>& status) {
    return status ? std::string() : status.error().message;
}

}  // namespace lucid::test
