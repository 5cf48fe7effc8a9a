// Why a TLS connection to the broker failed, in OpenSSL's words. libmosquitto only logs
// "certificate verify failed" (or, for a wrong host name, the same): after a TLS failure the
// session makes one handshake of its own with the same CA, client certificate and host name and
// reports the certificate verification result ("unable to get local issuer certificate",
// "hostname mismatch", "certificate has expired") or the handshake's error.
//
// Thread: any; blocking for at most `timeout`. Errors: returned as text, never thrown.
#pragma once

#include <chrono>
#include <string>

#include "mqtt/mqtt_session.hpp"

namespace lucid::host::mqtt {

// Empty when the handshake and the verification succeed (the failure was elsewhere).
std::string tls_verify_problem(const std::string& host, int port, const TlsFiles& tls,
                               std::chrono::milliseconds timeout);

}  // namespace lucid::host::mqtt
