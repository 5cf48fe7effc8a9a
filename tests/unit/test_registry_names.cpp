// contract §2: identifiers, dist names, artifact file names, semantic versions.
#include <doctest/doctest.h>

#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/semver.hpp"

using namespace lucid::registry;

TEST_CASE("accepts identifiers made of lowercase letters, digits, dash and underscore") {
    for (const char* id : {"cpu", "a", "0", "led_strip", "my-agent-01", "9lives"}) {
        CHECK_MESSAGE(is_valid_identifier(id), id);
        CHECK_FALSE(identifier_error("component_id", id).has_value());
    }
    CHECK(is_valid_identifier(std::string(64, 'a')));
}

TEST_CASE("rejects identifiers that could escape a topic or a path") {
    for (const char* id :
         {"", "Cpu", "-cpu", "_cpu", "a/b", "a+b", "a#", "..", "a.b", "a b", "../etc", "é"}) {
        CHECK_MESSAGE(!is_valid_identifier(id), id);
    }
    CHECK_FALSE(is_valid_identifier(std::string(65, 'a')));
    CHECK_FALSE(is_valid_identifier(std::string("a\0b", 3)));
}

TEST_CASE("an invalid identifier gets the exact contract error") {
    CHECK(identifier_error("component_id", "Bad/Id").value() ==
          "validation_error: component_id 'Bad/Id' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}");
    CHECK(identifier_error("agent_id", "").value() ==
          "validation_error: agent_id '' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}");
}

TEST_CASE("a huge invalid identifier is not echoed back whole") {
    const auto error = identifier_error("component_id", std::string(100000, 'X')).value();
    CHECK(error.size() < 400);
    CHECK(error.find("100000 bytes") != std::string::npos);
}

TEST_CASE("normalizes dist names the PEP 503 way") {
    CHECK(normalize_dist_name("Lucid_Agent.CPU") == "lucid-agent-cpu");
    CHECK(normalize_dist_name("LUCID--Agent__CPU") == "lucid-agent-cpu");
    CHECK(normalize_dist_name("lucid-agent-cpu") == "lucid-agent-cpu");
    CHECK(normalize_dist_name("a._-b") == "a-b");
}

TEST_CASE("parses every artifact file name of the contract's test vectors") {
    const auto a = parse_artifact_name("Lucid_Agent.CPU-1.0.0-linux_x86_64.so");
    CHECK(a.dist_name == "lucid-agent-cpu");
    CHECK(a.version == "1.0.0");
    CHECK(a.platform_tag == "linux_x86_64");

    const auto b = parse_artifact_name("/opt/x/lucid_agent_cpu-1.0.0.so");
    CHECK(b.dist_name == "lucid-agent-cpu");
    CHECK(b.version == "1.0.0");
    CHECK(b.platform_tag.empty());

    const auto c = parse_artifact_name("LUCID--Agent__CPU-2.0.0.so");
    CHECK(c.dist_name == "lucid-agent-cpu");
    CHECK(c.version == "2.0.0");

    CHECK_THROWS_WITH_AS(parse_artifact_name("noversion.so"), doctest::Contains("has no version"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_artifact_name("file.tar.gz"), doctest::Contains("must end in .so"),
                         std::invalid_argument);
}

TEST_CASE("keeps a semver pre-release in the version, apart from the platform tag") {
    const auto a = parse_artifact_name("x-1.0.0-rc.1-linux_aarch64.so");
    CHECK(a.dist_name == "x");
    CHECK(a.version == "1.0.0-rc.1");
    CHECK(a.platform_tag == "linux_aarch64");
    CHECK(parse_artifact_name("x-1.0.0-rc.1.so").version == "1.0.0-rc.1");
}

TEST_CASE("refuses artifact names with an empty dist or a dash but no version") {
    CHECK_THROWS_AS(parse_artifact_name("-1.0.0.so"), std::invalid_argument);
    CHECK_THROWS_AS(parse_artifact_name("foo-bar.so"), std::invalid_argument);
    CHECK_THROWS_AS(parse_artifact_name("/dir/.so"), std::invalid_argument);
    CHECK_THROWS_AS(parse_artifact_name("x-1.0.0.so/"), std::invalid_argument);
}

TEST_CASE("derives dist names from wheel file names and URLs") {
    CHECK(dist_name_from_wheel("lucid_agent_cpu-0.1.3-py3-none-any.whl") == "lucid-agent-cpu");
    CHECK(dist_name_from_wheel("https://github.com/o/r/releases/download/v0.2.0/"
                               "Lucid_Component.LED_Strip-0.2.0-py3-none-any.whl") ==
          "lucid-component-led-strip");
    CHECK_FALSE(dist_name_from_wheel("https://example.com/nodash.whl").has_value());
}

TEST_CASE("names artifacts so that parsing the name gives back the dist and version") {
    const auto file = artifact_file_name("lucid-agent-cpu", "1.0.0", "linux_x86_64");
    CHECK(file == "lucid_agent_cpu-1.0.0-linux_x86_64.so");
    const auto parsed = parse_artifact_name(file);
    CHECK(parsed.dist_name == "lucid-agent-cpu");
    CHECK(parsed.version == "1.0.0");
}

TEST_CASE("parses semantic versions and refuses malformed ones") {
    const auto v = Version::parse("1.2.3-beta.1+exp.sha.5114f85").value();
    CHECK(v.major == 1);
    CHECK(v.minor == 2);
    CHECK(v.patch == 3);
    CHECK(v.pre_release == std::vector<std::string>{"beta", "1"});
    CHECK(v.build == "exp.sha.5114f85");
    CHECK(v.to_string() == "1.2.3-beta.1+exp.sha.5114f85");
    for (const char* bad : {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-a..b", "1.2.3-01",
                            "v1.2.3", "1.2.x", "1.2.3+", "1.2.3-a$"}) {
        CHECK_MESSAGE(!Version::parse(bad).has_value(), bad);
    }
}

TEST_CASE("orders versions by semver precedence, pre-releases included") {
    // The chain from semver.org §11, each strictly lower than the next.
    const char* chain[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                           "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                           "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                           "1.1.0",       "2.0.0",         "10.0.0"};
    for (std::size_t i = 0; i + 1 < std::size(chain); ++i) {
        const auto lower = Version::parse(chain[i]).value();
        const auto higher = Version::parse(chain[i + 1]).value();
        CHECK_MESSAGE(lower < higher, chain[i], " < ", chain[i + 1]);
        CHECK(higher > lower);
    }
    CHECK(Version::parse("1.0.0+a").value() == Version::parse("1.0.0+b").value());
}
