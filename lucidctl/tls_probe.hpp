// Why a TLS connection to the broker fails, in OpenSSL's words. libmosquitto reports a failed
// handshake as "A TLS error occurred." or not at all (its loop retries), which names neither the
// CA file nor the reason; lucidctl then repeats the handshake once on its own, with the same CA,
// client certificate and host-name check, to say which (e.g. "unable to get local issuer
// certificate", "hostname mismatch").
//
// Thread-safe; blocking (at most `timeout` for the TCP connect and the handshake each).
#pragma once

#include <chrono>
#include <string>

#include "mqtt/mqtt_session.hpp"
#include "mqtt/mqtt_url.hpp"

namespace lucid::host::ctl {

// "certificate verify failed: hostname mismatch (CA file /etc/lucid/ca.pem)", or "" when the
// handshake succeeds on its own (the failure was not TLS).
std::string tls_failure_reason(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                               std::chrono::milliseconds timeout);

// "CA file /etc/lucid/ca.pem" or "the system CAs in /etc/ssl/certs".
std::string ca_description(const mqtt::TlsFiles& tls);

using mqtt::kSystemCaPath;

}  // namespace lucid::host::ctl
