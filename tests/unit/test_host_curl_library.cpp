// libcurl loaded only while a lease holds it (install/curl_library.hpp): the idle agent's
// footprint (issue 21) depends on the last lease unmapping it.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "install/curl_library.hpp"
#include "install/source_url.hpp"

using namespace lucid::host::install;

namespace {

bool curl_mapped() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        if (line.find("libcurl") != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("libcurl is mapped while a lease holds it and unmapped after the last one") {
    REQUIRE_FALSE(curl_loaded());
    CHECK_FALSE(curl_mapped());
    {
        auto outer = CurlLease::acquire();
        REQUIRE_MESSAGE(outer.ok(), outer.error().message);
        CHECK(curl_loaded());
        CHECK(curl_mapped());
        {
            auto inner = CurlLease::acquire();  // nested: the same library, no second load
            REQUIRE(inner.ok());
            CHECK(&*inner.value() == &*outer.value());
        }
        CHECK(curl_mapped());
        CHECK(std::string(outer.value()->url_strerror(CURLUE_BAD_PORT_NUMBER)).size() > 0);
    }
    CHECK_FALSE(curl_loaded());
    CHECK_FALSE(curl_mapped());
}

TEST_CASE("a URL parse loads libcurl for its own length and lets it go") {
    const auto parsed = parse_source_url("https://h.example/a/../b/x-1.0.0.so");
    REQUIRE(parsed.url);
    CHECK(parsed.url->url == "https://h.example/b/x-1.0.0.so");
    CHECK(redact_source_url("https://tok@h.example/x.so?sig=1") ==
          "https://***@h.example/x.so?***");
    CHECK_FALSE(curl_loaded());
    CHECK_FALSE(curl_mapped());
}
