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

// Opens `path` for reading; on failure `problem` says "<setting> <path>: <errno text>".
Bio open_file(const char* setting, const std::string& path, std::optional<std::string>& problem) {
    errno = 0;
    FILE* f = std::fopen(path.c_str(), "re");
    if (!f) {
        problem = std::string(setting) + " " + path + ": " + std::strerror(errno);
        return Bio(nullptr, &BIO_free);
    }
    Bio bio(BIO_new_fp(f, BIO_CLOSE), &BIO_free);
    if (!bio) std::fclose(f);
    return bio;
}

std::optional<std::string> check_ca(const std::string& path) {
    std::optional<std::string> problem;
    auto bio = open_file("tls_ca", path, problem);
    if (!bio) return problem ? problem : "tls_ca " + path + ": cannot open";
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) {
        return "tls_ca " + path + ": no PEM certificate in it (" + openssl_reason("unreadable") +
               ")";
    }
    X509_free(cert);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> tls_files_problem(const mqtt::TlsFiles& files) {
    ERR_clear_error();
    if (!files.ca_file.empty()) {
        if (auto p = check_ca(files.ca_file)) return p;
    }
    if (files.cert_file.empty() || files.key_file.empty()) return std::nullopt;
    std::optional<std::string> problem;
    auto cert_bio = open_file("tls_cert", files.cert_file, problem);
    if (!cert_bio) return problem;
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) {
        return "tls_cert " + files.cert_file + ": not a PEM certificate (" +
               openssl_reason("unreadable") + ")";
    }
    auto key_bio = open_file("tls_key", files.key_file, problem);
    if (!key_bio) return problem;
    // An empty passphrase callback: an encrypted key cannot be used unattended, say so.
    auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
    if (!key) {
        return "tls_key " + files.key_file + ": not an unencrypted PEM private key (" +
               openssl_reason("unreadable") + ")";
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return "tls_key " + files.key_file + ": does not match the certificate " + files.cert_file;
    }
    return std::nullopt;
}

}  // namespace lucid::host::config
