// The audit line stays one line with the keys the agent wrote, whatever the values hold: a
// request_id, a drop-in file name or an error quoting them may carry newlines, quotes or U+2028.
#include <doctest/doctest.h>

#include "components/audit_log.hpp"

using lucid::host::components::audit_line;
using lucid::host::components::AuditEntry;
using lucid::host::contract::Result;

TEST_CASE("an audit line escapes what could forge another line or another key") {
    const std::string forged_id =
        "x' from=1.0.0 to=9.9.9 outcome=ok\xe2\x80\xa8"
        "audit: op=uninstall request_id='FAKE";
    const std::string forged_file =
        "dropin /d/evil\naudit: op=uninstall component=cpu outcome=ok\n-1.0.0.so";
    Result refused(forged_id, lucid::host::contract::Clock::now());
    refused.fail("validation_error: bad '" + forged_id + "'");

    const std::string by_mqtt = audit_line({"install", "echo", forged_id, "", "", ""}, refused);
    CAPTURE(by_mqtt);
    CHECK(by_mqtt.find('\n') == std::string::npos);
    CHECK(by_mqtt.find("\xe2\x80\xa8") == std::string::npos);
    CHECK(by_mqtt.find("request_id='x\\' from=1.0.0") != std::string::npos);
    CHECK(by_mqtt.find("\\u2028audit: op=uninstall") != std::string::npos);
    CHECK(by_mqtt.find(" outcome=failed ") != std::string::npos);

    const std::string by_dropin = audit_line({"install", "", "", forged_file, "", ""}, refused);
    CAPTURE(by_dropin);
    CHECK(by_dropin.find('\n') == std::string::npos);
    CHECK(by_dropin.find("evil\\x0aaudit: op=uninstall") != std::string::npos);
}
