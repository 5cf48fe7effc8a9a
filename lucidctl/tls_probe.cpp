#include "lucidctl/tls_probe.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

namespace lucid::host::ctl {
namespace {

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    if (code == 0) return "no reason given";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(code);
    ERR_clear_error();
    return reason ? reason : buf;
}

// A TCP connection with send/receive timeouts (connect() honours the send timeout), or -1.
int connect_tcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
        ::close(fd);
    }
    return -1;
}

bool is_ip_address(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string ca_description(const mqtt::TlsFiles& tls) {
    if (!tls.ca_file.empty()) return "CA file " + tls.ca_file;
    return std::string("the system CAs in ") + kSystemCaPath;
}

std::string tls_failure_reason(const mqtt::MqttEndpoint& endpoint, const mqtt::TlsFiles& tls,
                               std::chrono::milliseconds timeout) {
    const std::string ca = " (" + ca_description(tls) + ")";
    std::unique_ptr<SSL_CTX, decltype(&::SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                            ::SSL_CTX_free);
    if (!ctx) return "cannot set up TLS: " + openssl_error();
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const bool loaded =
        tls.ca_file.empty()
            ? SSL_CTX_load_verify_locations(ctx.get(), nullptr, kSystemCaPath) == 1
            : SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr) == 1;
    if (!loaded) return "cannot load the " + ca_description(tls) + ": " + openssl_error();
    if (!tls.cert_file.empty() &&
        SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
        return "cannot load the client certificate " + tls.cert_file + ": " + openssl_error();
    }
    if (!tls.key_file.empty() &&
        SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return "cannot load the client key " + tls.key_file + ": " + openssl_error();
    }
    const int fd = connect_tcp(endpoint.host, endpoint.port, timeout);
    if (fd < 0) return "";  // not a TLS problem: the TCP connection itself fails
    std::unique_ptr<SSL, decltype(&::SSL_free)> ssl(SSL_new(ctx.get()), ::SSL_free);
    SSL_set_fd(ssl.get(), fd);
    // The same host-name check libmosquitto makes: the name (or address) in the URL must be in
    // the broker's certificate.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (is_ip_address(endpoint.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, endpoint.host.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl.get(), endpoint.host.c_str());
        X509_VERIFY_PARAM_set1_host(param, endpoint.host.c_str(), 0);
    }
    std::string reason;
    if (SSL_connect(ssl.get()) != 1) {
        const long verify = SSL_get_verify_result(ssl.get());
        if (verify != X509_V_OK) {
            reason = std::string("certificate verify failed: ") +
                     X509_verify_cert_error_string(verify) + ca;
        } else {
            reason = openssl_error() + ca;
        }
    } else {
        SSL_shutdown(ssl.get());
    }
    ::close(fd);
    return reason;
}

}  // namespace lucid::host::ctl
