// Install payload validation (contract §4): sources, checksums, names, traversal attempts.
#include <doctest/doctest.h>

#include "install/base64.hpp"
#include "install/install_request.hpp"

using namespace lucid::host::install;

namespace {

const std::string kSha(64, 'a');

ParsedInstall parse(const std::string& json, const InstallSettings& settings = {}) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return parse_install_request(doc, settings);
}

std::string url_install(const std::string& url, const std::string& extra = "") {
    return R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":")" + url +
           R"(","sha256":")" + kSha + "\"}" + extra + "}";
}

}  // namespace

TEST_CASE("parses a url source and names the artifact from the URL") {
    const auto parsed =
        parse(url_install("https://example.com/dl/lucid_agent_cpu-1.0.0-linux_x86_64.so?x=1",
                          R"(,"version":"1.0.0","config":{"interval_s":2})"));
    REQUIRE(parsed.request.has_value());
    const auto& r = *parsed.request;
    CHECK(r.component_id == "cpu");
    CHECK(r.source.type == SourceType::url);
    CHECK(r.source.file_name == "lucid_agent_cpu-1.0.0-linux_x86_64.so");
    REQUIRE(r.artifact);
    CHECK(r.artifact->dist_name == "lucid-agent-cpu");
    CHECK(r.artifact->version == "1.0.0");
    CHECK(r.config_json == std::optional<std::string>(R"({"interval_s":2})"));
}

TEST_CASE("builds the github_release URL from a configurable base") {
    InstallSettings settings;
    settings.github_base = "http://127.0.0.1:8080";
    const auto parsed = parse(
        R"({"request_id":"r","component_id":"cpu","source":{"type":"github_release","owner":"o","repo":"r","tag":"v1.0.0","asset":"lucid_agent_cpu-1.0.0.so","sha256":")" +
            kSha + "\"}}",
        settings);
    REQUIRE(parsed.request.has_value());
    CHECK(parsed.request->source.url ==
          "http://127.0.0.1:8080/o/r/releases/download/v1.0.0/lucid_agent_cpu-1.0.0.so");
}

TEST_CASE("decodes an inline source and keeps its bytes out of the stored source") {
    const auto data =
        base64_encode(std::string("\x7f"
                                  "ELF fake",
                                  8));
    const auto parsed = parse(
        R"({"request_id":"r","component_id":"cpu","source":{"type":"inline","filename":"lucid_agent_cpu-1.0.0.so","data_base64":")" +
        data + R"(","sha256":")" + kSha + "\"}}");
    REQUIRE(parsed.request.has_value());
    CHECK(parsed.request->source.inline_data == std::string("\x7f"
                                                            "ELF fake",
                                                            8));
    CHECK(parsed.request->source.json.find("data_base64") == std::string::npos);
    CHECK(parsed.request->source.json.find("\"inline\"") != std::string::npos);
}

TEST_CASE("answers every invalid install payload with a validation_error") {
    struct Case {
        std::string payload;
        std::string error;
    };
    const std::string s = kSha;
    const Case cases[] = {
        {R"({"request_id":"r"})", "validation_error: missing field 'component_id'"},
        {R"({"request_id":"r","component_id":"../etc","source":{}})",
         "validation_error: component_id '../etc' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}"},
        {R"({"request_id":"r","component_id":"cpu"})", "validation_error: missing field 'source'"},
        {R"({"request_id":"r","component_id":"cpu","source":[]})",
         "validation_error: 'source' must be an object"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":"https://x/a-1.0.0.so"}})",
         "validation_error: missing field 'source.sha256'"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":"https://x/a-1.0.0.so","sha256":"abc"}})",
         "validation_error: 'source.sha256' must be 64 hex digits"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"ftp","sha256":")" + s + "\"}}",
         "validation_error: 'source.type' must be one of url, github_release, inline, broker"},
        {url_install("ftp://x/a-1.0.0.so"),
         "validation_error: 'source.url' must start with https://, http:// or file:///"},
        {url_install("https://x/noversion.so"),
         "validation_error: artifact file name 'noversion.so' has no version "
         "(<dist>-<version>[-<platform>].so)"},
        {url_install("file:///x/a-1.0.0.tar.gz"),
         "validation_error: artifact file name 'a-1.0.0.tar.gz' must end in .so "
         "(<dist>-<version>[-<platform>].so)"},
        {url_install("https://x/"),
         "validation_error: 'artifact file name' must be a plain file "
         "name, got ''"},
        {url_install("https://x/a-1.0.so"),
         "validation_error: artifact version '1.0' is not a semantic version"},
        {url_install("https://x/a-1.0.0.so", R"(,"version":"2.0.0")"),
         "validation_error: 'version' 2.0.0 does not match the artifact's 1.0.0"},
        {url_install("https://x/a-1.0.0.so", R"(,"config":[])"),
         "validation_error: 'config' must be an object"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"inline","filename":"../../a-1.0.0.so","data_base64":"AAAA","sha256":")" +
             s + "\"}}",
         "validation_error: 'source.filename' must be a plain file name, got '../../a-1.0.0.so'"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"inline","filename":"a-1.0.0.so","data_base64":"!!!!","sha256":")" +
             s + "\"}}",
         "validation_error: 'source.data_base64' is not valid base64"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"github_release","owner":"..","repo":"r","tag":"t","asset":"a-1.0.0.so","sha256":")" +
             s + "\"}}",
         "validation_error: 'source.owner' contains characters not allowed in a release path: "
         "'..'"},
        {R"({"request_id":"r","component_id":"cpu","source":{"type":"github_release","owner":"o","repo":"r","tag":"t","asset":"../a-1.0.0.so","sha256":")" +
             s + "\"}}",
         "validation_error: 'source.asset' contains characters not allowed in a release path: "
         "'../a-1.0.0.so'"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.payload);
        const auto parsed = parse(c.payload);
        CHECK_FALSE(parsed.request.has_value());
        CHECK(parsed.error == c.error);
    }
}

TEST_CASE("enforces allowed URL prefixes without echoing credentials") {
    InstallSettings settings;
    settings.allowed_url_prefixes = {"https://artifacts.example.com/"};
    CHECK(parse(url_install("https://artifacts.example.com/a-1.0.0.so"), settings).request);
    const auto refused =
        parse(url_install("https://user:pw@evil.example.com/a-1.0.0.so"), settings);
    CHECK(refused.error ==
          "validation_error: source URL is not under an allowed prefix: "
          "https://***@evil.example.com/a-1.0.0.so");
}

TEST_CASE("refuses an inline artifact above the size cap before decoding it") {
    InstallSettings settings;
    settings.inline_max_bytes = 10;
    const auto parsed = parse(
        R"({"request_id":"r","component_id":"cpu","source":{"type":"inline","filename":"a-1.0.0.so","data_base64":")" +
            base64_encode(std::string(100, 'x')) + R"(","sha256":")" + kSha + "\"}}",
        settings);
    CHECK(parsed.error == "validation_error: inline artifact exceeds the size cap of 10 bytes");
}

TEST_CASE("an inline artifact is refused one byte above the cap and accepted at it") {
    InstallSettings settings;
    settings.inline_max_bytes = 10;
    auto inline_of = [&](std::size_t bytes) {
        return parse(
            R"({"request_id":"r","component_id":"cpu","source":{"type":"inline","filename":"a-1.0.0.so","data_base64":")" +
                base64_encode(std::string(bytes, 'x')) + R"(","sha256":")" + kSha + "\"}}",
            settings);
    };
    for (std::size_t over : {11, 12, 13}) {
        CAPTURE(over);
        CHECK(inline_of(over).error ==
              "validation_error: inline artifact exceeds the size cap of 10 bytes");
    }
    CHECK(inline_of(10).error.empty());
}

TEST_CASE("base64 round-trips and refuses malformed input") {
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        CHECK(base64_decode(base64_encode(s)) == s);
    }
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!mFy", "=Zm9", "Zg==Zg=="}) {
        CHECK_MESSAGE(!base64_decode(bad).has_value(), bad);
    }
}

TEST_CASE("the stored source keeps no password of the URL") {
    const auto parsed =
        parse(url_install("https://fleet:Pa55w0rd@artifacts.example.com/a-1.0.0.so"));
    REQUIRE(parsed.request.has_value());
    CHECK(parsed.request->source.url.find("Pa55w0rd") != std::string::npos);   // used to download
    CHECK(parsed.request->source.json.find("Pa55w0rd") == std::string::npos);  // never stored
    CHECK(parsed.request->source.json.find("fleet") == std::string::npos);     // may be a token
    CHECK(parsed.request->source.json.find("https://***@artifacts") != std::string::npos);
}

TEST_CASE("install errors quote a client's long values shortened") {
    const std::string huge(100000, 'n');
    const std::string shown = std::string(128, 'n') + "...(100000 bytes)";
    auto release = [](const std::string& owner, const std::string& asset) {
        return R"({"request_id":"r","component_id":"cpu","source":{"type":"github_release",)"
               R"("owner":")" +
               owner + R"(","repo":"r","tag":"t","asset":")" + asset + R"(","sha256":")" + kSha +
               "\"}}";
    };
    CHECK(parse(release(huge + "/", "a-1.0.0.so")).error ==
          "validation_error: 'source.owner' contains characters not allowed in a release path: '" +
              std::string(128, 'n') + "...(100001 bytes)'");
    // A name longer than a file name can be is not a plain file name.
    CHECK(parse(release("o", huge + "-1.0.0.so")).error ==
          "validation_error: 'artifact file name' must be a plain file name, got '" +
              std::string(128, 'n') + "...(100009 bytes)'");
    CHECK(parse(url_install("https://x/" + huge + ".so")).error ==
          "validation_error: 'artifact file name' must be a plain file name, got '" +
              std::string(128, 'n') + "...(100003 bytes)'");
    CHECK(parse(url_install("https://x/a-1.0.0.so", R"(,"version":")" + huge + "\"")).error ==
          "validation_error: 'version' " + shown + " does not match the artifact's 1.0.0");
    // 255 bytes is still a file name.
    const std::string longest = std::string(255 - 9, 'a') + "-1.0.0.so";
    CHECK_MESSAGE(parse(url_install("https://x/" + longest)).request.has_value(),
                  parse(url_install("https://x/" + longest)).error);
}

TEST_CASE("component_id errors are the same as every component command's") {
    const std::string allowed = "' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}";
    CHECK(parse(R"({"request_id":"r","component_id":7,"source":{}})").error ==
          "validation_error: 'component_id' must be a string");
    CHECK(parse(R"({"request_id":"r","component_id":"","source":{}})").error ==
          "validation_error: component_id '" + allowed);
    CHECK(parse(R"({"request_id":"r","component_id":"a\u0000b","source":{}})").error ==
          "validation_error: component_id '" + std::string("a\0b", 3) + allowed);
}

TEST_CASE("a url source may name its artifact with 'filename'") {
    const auto parsed = parse(
        R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":"https://h/download?id=7","filename":"lucid_agent_cpu-1.0.0.so","sha256":")" +
        kSha + "\"}}");
    REQUIRE_MESSAGE(parsed.request, parsed.error);
    CHECK(parsed.request->source.file_name == "lucid_agent_cpu-1.0.0.so");
    REQUIRE(parsed.request->artifact);
    CHECK(parsed.request->artifact->version == "1.0.0");
    CHECK(parsed.request->source.json.find("\"filename\"") != std::string::npos);
    // Validated like an inline filename.
    for (const char* bad : {"../a-1.0.0.so", "a/b-1.0.0.so", "..", ""}) {
        CAPTURE(bad);
        const auto refused = parse(
            std::string(
                R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":"https://h/d","filename":")") +
            bad + R"(","sha256":")" + kSha + "\"}}");
        CHECK_FALSE(refused.request);
        CHECK(refused.error.rfind("validation_error: 'source.filename' must be", 0) == 0);
    }
}

TEST_CASE("a download link without a .so name is named by where its redirects lead") {
    const auto parsed =
        parse(url_install("https://h/releases/latest?sig=1", R"(,"version":"1.0.0")"));
    REQUIRE_MESSAGE(parsed.request, parsed.error);
    CHECK(parsed.request->source.file_name.empty());
    CHECK_FALSE(parsed.request->artifact);

    const std::optional<std::string> any;
    const auto named = artifact_name_from_urls(
        {"https://h/releases/latest", "https://h/files/lucid_agent_cpu-1.0.0.so",
         "https://cdn/3f2a9c?X-Amz-Signature=abc"},
        any);
    CHECK(named.file_name == "lucid_agent_cpu-1.0.0.so");
    CHECK(named.artifact.dist_name == "lucid-agent-cpu");
    CHECK(artifact_name_from_urls({"https://h/x-1.0.0.so"}, std::string("2.0.0")).error ==
          "validation_error: 'version' 2.0.0 does not match the artifact's 1.0.0");
    CHECK(artifact_name_from_urls({"https://h/noversion.so"}, any).error ==
          "validation_error: artifact file name 'noversion.so' has no version "
          "(<dist>-<version>[-<platform>].so)");
    CHECK(artifact_name_from_urls({"https://h/latest", "https://t@cdn/blob?sig=1"}, any).error ==
          "validation_error: no URL of the download names an artifact "
          "(<dist>-<version>[-<platform>].so): https://***@cdn/blob?***; give 'source.filename'");
}

TEST_CASE("the stored source keeps no userinfo and no query, whoever wrote them") {
    const auto parsed = parse(
        url_install("https://ghp_T0KEN@h/a-1.0.0.so?X-Amz-Signature=S1GNATURE&X-Amz-Expires=60"));
    REQUIRE_MESSAGE(parsed.request, parsed.error);
    const std::string& json = parsed.request->source.json;
    CHECK(json.find("T0KEN") == std::string::npos);
    CHECK(json.find("S1GNATURE") == std::string::npos);
    CHECK(json.find(R"("url":"https://***@h/a-1.0.0.so?***")") != std::string::npos);
}

TEST_CASE("a repeated url or data_base64 member is redacted or dropped in the stored source too") {
    // parse_command refuses such payloads first; the stored source does not rely on it.
    const auto parsed = parse(
        R"({"request_id":"r","component_id":"cpu","source":{"type":"url","url":"https://h/a-1.0.0.so","url":"https://u:SECRET@h/b?S1G","data_base64":"QQ==","data_base64":"Qg==","sha256":")" +
        kSha + "\"}}");
    REQUIRE_MESSAGE(parsed.request, parsed.error);
    CHECK(parsed.request->source.json.find("SECRET") == std::string::npos);
    CHECK(parsed.request->source.json.find("S1G") == std::string::npos);
    CHECK(parsed.request->source.json.find("data_base64") == std::string::npos);
}
