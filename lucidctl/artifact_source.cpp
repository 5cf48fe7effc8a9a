// The install source lucidctl sends for a FILE or a URL (contract §4.1), one builder for
// `plugin install` and `upgrade`: the agent reads both sources with the same code, so lucidctl
// writes them with the same code too.
#include <filesystem>

#include "common/atomic_file.hpp"
#include "install/base64.hpp"
#include "install/digest.hpp"
#include "lucidctl/progress_line.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Value;

void file_source(Session& s, const std::string& file, const std::string& verb, Value& source,
                 rapidjson::Document::AllocatorType& a, std::uint64_t& size) {
    require_regular_file(file);
    std::error_code ec;
    const auto on_disk = std::filesystem::file_size(file, ec);
    if (!ec && on_disk > s.target().max_artifact_bytes) {
        throw LocalError(file + " is " + format_bytes(double(on_disk)) +
                         ", more than max_artifact_bytes (" +
                         format_bytes(double(s.target().max_artifact_bytes)) + ", " +
                         s.target().max_artifact_origin +
                         "): the agent refuses an inline artifact that large; serve it over "
                         "http(s) and " +
                         verb + " it from the URL, or raise LUCID_MAX_ARTIFACT_BYTES");
    }
    const std::string bytes = read_file(file);
    size = bytes.size();
    const std::string sha = install::sha256_hex(bytes);
    if (auto given = command_option(s.options(), "sha256"); given && *given != sha) {
        throw LocalError("--sha256 " + *given + " does not match " + file + " (sha256 " + sha +
                         ")");
    }
    source.AddMember("type", "inline", a);
    source.AddMember("filename", Value(std::filesystem::path(file).filename().string(), a), a);
    source.AddMember("data_base64", Value(install::base64_encode(bytes), a), a);
    source.AddMember("sha256", Value(sha, a), a);
    const std::filesystem::path sig = file + ".sig";
    if (!command_option(s.options(), "signature") && std::filesystem::exists(sig, ec)) {
        source.AddMember("signature", Value(signature_file(sig), a), a);
        if (!s.json()) s.err() << "sending the signature " << sig.string() << "\n";
    }
}

void url_source(Session& s, const std::string& url, const std::string& verb, Value& source,
                rapidjson::Document::AllocatorType& a) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
        url.rfind("file://", 0) != 0) {
        throw UsageError("cannot " + verb + " from '" + url +
                         "': a URL must be http://, https:// or file:// (a path on the agent)");
    }
    auto sha = command_option(s.options(), "sha256");
    if (!sha) throw UsageError("--sha256 is mandatory for a URL the agent downloads");
    source.AddMember("type", "url", a);
    source.AddMember("url", Value(url, a), a);
    source.AddMember("sha256", Value(*sha, a), a);
}

}  // namespace

std::uint64_t artifact_source(Session& s, const std::string& what, const std::string& verb,
                              Value& source, rapidjson::Document::AllocatorType& a) {
    std::uint64_t size = 0;
    if (what.find("://") != std::string::npos) {
        url_source(s, what, verb, source, a);
    } else {
        file_source(s, what, verb, source, a, size);
    }
    if (auto signature = command_option(s.options(), "signature")) {
        if (signature->empty()) {
            throw UsageError("--signature needs the signature's text or its file (FILE.sig)");
        }
        // A file (what `lucidctl sign` wrote) is read as the .sig beside FILE would be.
        std::error_code ec;
        const std::string text = std::filesystem::is_regular_file(*signature, ec)
                                     ? signature_file(*signature)
                                     : *signature;
        source.AddMember("signature", Value(text, a), a);
    }
    return size;
}

}  // namespace lucid::host::ctl
