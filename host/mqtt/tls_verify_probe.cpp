#include "mqtt/tls_verify_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace lucid::host::mqtt {
namespace {

std::string last_openssl_error(const std::string& fallback) {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    return reason ? std::string(reason) : fallback;
}

// A blocking TCP socket connected within `timeout`, whose reads and writes time out too; -1
// with `error` set.
int connect_with_timeout(const std::string& host, int port, std::chrono::milliseconds timeout,
                         std::string& error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
        rc != 0) {
        error = ::gai_strerror(rc);
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) continue;
        int so_error = 0;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            so_error = errno;
            if (so_error == EINPROGRESS) {
                pollfd p{fd, POLLOUT, 0};
                so_error = ETIMEDOUT;
                socklen_t len = sizeof so_error;
                if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
                }
            }
        }
        if (so_error != 0) {
            error = std::strerror(so_error);
            ::close(fd);
            continue;
        }
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        return fd;
    }
    if (error.empty()) error = "no address for " + host;
    return -1;
}

}  // namespace

std::string tls_verify_problem(const std::string& host, int port, const TlsFiles& tls,
                               std::chrono::milliseconds timeout) {
    ERR_clear_error();
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                          &SSL_CTX_free);
    if (!ctx) return "cannot create a TLS context: " + last_openssl_error("unknown");
    const bool loaded = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                            : SSL_CTX_load_verify_locations(
                                                  ctx.get(), tls.ca_file.c_str(), nullptr) == 1;
    if (!loaded) return "cannot load the CA file " + tls.ca_file + ": " + last_openssl_error("?");
    if (!tls.cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
        return "cannot load the client certificate " + tls.cert_file + ": " +
               last_openssl_error("?");
    }
    // Verification is judged below from the result, so the handshake itself must not stop at
    // the first bad certificate.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
    if (!ssl) return "cannot create a TLS session: " + last_openssl_error("unknown");
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    in6_addr ip{};
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 ||
                       ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
        SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    }
    std::string error;
    const int fd = connect_with_timeout(host, port, timeout, error);
    if (fd < 0) return "cannot reach " + host + ":" + std::to_string(port) + ": " + error;
    SSL_set_fd(ssl.get(), fd);
    std::string problem;
    if (SSL_connect(ssl.get()) != 1) {
        problem = "TLS handshake failed: " + last_openssl_error("connection closed");
    } else if (const long result = SSL_get_verify_result(ssl.get()); result != X509_V_OK) {
        problem = std::string("certificate verify failed: ") +
                  X509_verify_cert_error_string(result) + " (broker " + host + ", CA " +
                  (tls.ca_file.empty() ? std::string("the system's") : tls.ca_file) + ")";
    } else {
        SSL_shutdown(ssl.get());
    }
    ::close(fd);
    return problem;
}

}  // namespace lucid::host::mqtt
