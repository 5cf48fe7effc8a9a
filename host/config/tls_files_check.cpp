#include "config/tls_files_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace lucid::host::config {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// OpenSSL's reason for the last failure ("no start line", "bad decrypt"), clearing its queue.
std::string openssl_reason(const std::string& fallback) {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    return reason ? std::string(reason) : fallback;
}

// Opens `path` for reading; the error says "<setting> <path>: <errno text>".
Expected<Bio> open_file(const char* setting, const std::string& path) {
    errno = 0;
    FILE* f = std::fopen(path.c_str(), "re");
    if (!f) return Error{Errc::io, std::string(setting) + " " + path + ": " + std::strerror(errno)};
    Bio bio(BIO_new_fp(f, BIO_CLOSE), &BIO_free);
    if (!bio) {
        std::fclose(f);
        return Error{Errc::io, std::string(setting) + " " + path + ": cannot open"};
    }
    return bio;
}

Status check_ca(const std::string& path) {
    auto bio = open_file("tls_ca", path);
    if (!bio) return bio.error();
    X509* cert = PEM_read_bio_X509(bio.value().get(), nullptr, nullptr, nullptr);
    if (!cert) {
        return Error{Errc::invalid, "tls_ca " + path + ": no PEM certificate in it (" +
                                        openssl_reason("unreadable") + ")"};
    }
    X509_free(cert);
    return done();
}

}  // namespace

Status tls_files_problem(const mqtt::TlsFiles& files) {
    ERR_clear_error();
    if (!files.ca_file.empty()) {
        if (Status ca = check_ca(files.ca_file); !ca) return ca;
    }
    if (files.cert_file.empty() || files.key_file.empty()) return done();
    auto cert_bio = open_file("tls_cert", files.cert_file);
    if (!cert_bio) return cert_bio.error();
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.value().get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) {
        return Error{Errc::invalid, "tls_cert " + files.cert_file + ": not a PEM certificate (" +
                                        openssl_reason("unreadable") + ")"};
    }
    auto key_bio = open_file("tls_key", files.key_file);
    if (!key_bio) return key_bio.error();
    // An empty passphrase callback: an encrypted key cannot be used unattended, say so.
    auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.value().get(), nullptr, no_passphrase, nullptr),
        &EVP_PKEY_free);
    if (!key) {
        return Error{Errc::invalid, "tls_key " + files.key_file +
                                        ": not an unencrypted PEM private key (" +
                                        openssl_reason("unreadable") + ")"};
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return Error{Errc::invalid, "tls_key " + files.key_file +
                                        ": does not match the certificate " + files.cert_file};
    }
    return done();
}

}  // namespace lucid::host::config
