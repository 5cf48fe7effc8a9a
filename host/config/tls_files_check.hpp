// Checks the TLS files of an mqtts:// config before anything connects, so that a missing CA or
// a key that does not belong to its certificate is reported with the file and OpenSSL's reason
// (check-config exits 2, the agent refuses to start) instead of libmosquitto's bare
// "Invalid function arguments provided." at the first connect.
//
// Thread: any. Errors: a Status, never thrown.
#pragma once

#include "common/expected.hpp"
#include "mqtt/mqtt_session.hpp"

namespace lucid::host::config {

// Done when every file that is set can be read and parsed (the CA file holds at least one
// PEM certificate, the certificate parses, the key parses and matches it); else one message
// naming the setting, the file and the reason, e.g.
// "tls_ca /etc/lucid/ca.pem: No such file or directory".
Status tls_files_problem(const mqtt::TlsFiles& files);

}  // namespace lucid::host::config
