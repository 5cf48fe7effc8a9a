// plugin install: a local FILE inline through the broker, or a URL the agent downloads.
//
// Everything lucidctl can check itself is checked before anything is sent, and a problem found
// here is exit 2 (the agent's ok:false is exit 1): the file is a plugin whose manifest matches
// its name (and --id), --sha256 is 64 hex digits (and matches a FILE), the FILE fits the size
// cap, a FILE.sig beside it is a signature, and the install is not a downgrade (unless --force).
// A file:// URL names a file on the agent's machine: lucidctl does not look at it.
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <ostream>

#include "common/atomic_file.hpp"
#include "common/local_file.hpp"
#include "contract/payloads.hpp"
#include "install/base64.hpp"
#include "install/digest.hpp"
#include "install/plugin_manifest.hpp"
#include "install/rollback_permit.hpp"
#include "install/signed_statement.hpp"
#include "lucid/registry/dist_name.hpp"
#include "lucid/registry/identifiers.hpp"
#include "lucid/registry/semver.hpp"
#include "lucidctl/isolation_options.hpp"
#include "lucidctl/progress_line.hpp"
#include "lucidctl/verbs.hpp"

namespace lucid::host::ctl {
namespace {

namespace topics = contract::topics;
using rapidjson::Document;
using rapidjson::Value;

bool is_sha256_hex(const std::string& text) {
    if (text.size() != 64) return false;
    for (char c : text) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

// The installed version of `component_id` on the agent, from its core/components.
std::optional<std::string> installed_version(Session& s, const std::string& component_id) {
    auto snapshot = s.retained_one(s.topics().core_components());
    if (!snapshot) return std::nullopt;
    const Document doc = parse_object(*snapshot);
    if (!doc.HasMember("components") || !doc["components"].IsObject()) return std::nullopt;
    auto it = doc["components"].FindMember(component_id.c_str());
    if (it == doc["components"].MemberEnd()) return std::nullopt;
    const std::string version = str(it->value, "version");
    return version.empty() ? std::nullopt : std::optional<std::string>(version);
}

void refuse_downgrade(Session& s, const std::string& component_id, const std::string& version) {
    if (command_switch(s.options(), "force")) return;
    const auto wanted = registry::Version::parse(version);
    const auto current_text = installed_version(s, component_id);
    if (!wanted || !current_text) return;
    const auto current = registry::Version::parse(*current_text);
    if (current && *wanted < *current) {
        throw LocalError("refusing to downgrade " + component_id + " from " + *current_text +
                         " to " + version + " (add --force to downgrade)");
    }
}

struct Prepared {
    Value source{rapidjson::kObjectType};
    std::string component_id;
    std::string version;     // "" when lucidctl cannot know it (a URL without a parsable name)
    std::uint64_t size = 0;  // inline bytes
};

}  // namespace

std::string signature_file(const std::filesystem::path& sig) {
    std::string bytes;
    try {
        // By descriptor, bounded: a FIFO or /dev/zero named x.so.sig must not hang lucidctl.
        bytes = LocalFile::open(sig, 4096).read_all();
    } catch (const std::exception& e) {
        throw LocalError("cannot read the signature " + sig.string() + ": " + e.what());
    }
    if (bytes.size() == 64 && !install::base64_decode(bytes)) return install::base64_encode(bytes);
    std::string text = bytes;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.erase(0, 1);
    if (install::is_statement_form(text)) {
        // Sent whole: the agent checks the statement; a broken one is caught here first.
        if (auto parsed = install::parse_signed_statement(text); !parsed) {
            throw LocalError(sig.string() + ": " + parsed.error().message);
        }
        return text;
    }
    auto decoded = install::base64_decode(text);
    if (!decoded || decoded->size() != 64) {
        throw LocalError(sig.string() +
                         " is not an Ed25519 signature (base64 text of 64 bytes, or the raw "
                         "64 bytes)");
    }
    return text;
}

void require_regular_file(const std::string& file) {
    try {
        LocalFile::open(file, std::numeric_limits<std::uint64_t>::max());
    } catch (const LocalFileError& e) {
        throw LocalError(e.what());
    }
}

namespace {

void prepare_file(Session& s, const std::string& file, Prepared& p, Document::AllocatorType& a) {
    require_regular_file(file);
    // Any machine: the agent may be another architecture than this host; it checks its own.
    auto manifest = read_manifest(file, ElfMachine::any);
    if (!manifest.ok()) throw LocalError(manifest.error);
    if (Status checked = check_manifest(file, *manifest.manifest); !checked) {
        throw LocalError(checked.error().message);
    }
    const auto& m = *manifest.manifest;
    if (auto id = command_option(s.options(), "id"); id && *id != m.component_id) {
        throw LocalError("--id '" + *id + "' does not match the component id '" + m.component_id +
                         "' in the manifest of " + file);
    }
    p.component_id = m.component_id;
    p.version = m.version;

    p.size = artifact_source(s, file, "install", p.source, a);
}

void prepare_url(Session& s, const std::string& url, Prepared& p, Document::AllocatorType& a) {
    auto id = command_option(s.options(), "id");
    if (!id) {
        throw UsageError(
            "--id is mandatory for a URL: the agent downloads it, lucidctl cannot "
            "read its manifest");
    }
    p.component_id = *id;
    // The version, when the URL's last segment is an artifact name (for the downgrade check).
    std::string name = url.substr(0, url.find_first_of("?#"));
    try {
        p.version = registry::parse_artifact_name(name.substr(name.find_last_of('/') + 1)).version;
    } catch (const std::exception&) {
        p.version.clear();
    }
    artifact_source(s, url, "install", p.source, a);
}

}  // namespace

int cmd_plugin_install(Session& s) {
    const std::string& what = arg(s.options(), 2, "FILE or URL");
    expect_args(s.options(), 3);
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Prepared p;
    if (auto sha = command_option(s.options(), "sha256"); sha && !is_sha256_hex(*sha)) {
        throw LocalError("--sha256 must be 64 hex digits, got '" + *sha + "'");
    }
    if (auto id = command_option(s.options(), "id")) {
        if (auto error = registry::identifier_error("component_id", *id)) throw LocalError(*error);
    }
    if (what.find("://") != std::string::npos) {
        prepare_url(s, what, p, a);
    } else {
        prepare_file(s, what, p, a);
    }
    payload.AddMember("component_id", Value(p.component_id, a), a);
    payload.AddMember("source", p.source, a);
    if (auto config = command_option(s.options(), "config")) {
        rapidjson::Document parsed;
        parsed.Parse(config->c_str());
        if (parsed.HasParseError() || !parsed.IsObject()) {
            throw UsageError("--config must be a JSON object, e.g. '{\"interval_s\":1}'");
        }
        payload.AddMember("config", Value(parsed, a), a);
    }
    add_isolation_fields(s.options(), command_option(s.options(), "isolation"), payload);
    // --force is the operator's permission to go back: past lucidctl's own check above and past
    // the agent's version floor (contract §8.12).
    if (command_switch(s.options(), "force")) payload.AddMember("allow_downgrade", true, a);
    // The signed permission an agent under LUCID_SIGNATURE_POLICY=required asks for as well.
    if (auto permit_file = command_option(s.options(), "permit")) {
        if (!command_switch(s.options(), "force")) {
            throw UsageError("--permit goes with --force (a permit is for a downgrade)");
        }
        std::string text;
        try {
            text = LocalFile::open(*permit_file, 4096).read_all();
        } catch (const std::exception& e) {
            throw LocalError("cannot read the permit " + *permit_file + ": " + e.what());
        }
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        if (auto parsed = install::parse_rollback_permit(text); !parsed) {
            throw LocalError(*permit_file + ": " + parsed.error().message);
        }
        payload.AddMember("rollback_permit", Value(text, a), a);
    }
    s.require_not_offline();
    if (!p.version.empty()) refuse_downgrade(s, p.component_id, p.version);

    ProgressLine line(s.err(), !s.json() && ::isatty(STDERR_FILENO));
    const auto upload_start = SteadyClock::now();
    auto uploading = [&] {
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - upload_start)
                .count();
        line.note("uploading " + what + " (" + format_bytes(double(p.size)) +
                  ") through the broker, " + std::to_string(seconds) + "s");
    };
    if (p.size > 0) uploading();
    const Answer answer = s.request(
        topics::kInstall, std::move(payload), agent_bound("install"),
        [&](const Value& event) {
            line.update(str(event, "phase", "download"),
                        std::strtoull(str(event, "bytes", "0").c_str(), nullptr, 10),
                        std::strtoull(str(event, "total", "0").c_str(), nullptr, 10));
        },
        p.size > 0 ? std::function<void()>(uploading) : std::function<void()>());
    line.clear();
    const int code = s.report(topics::kInstall.name, answer);
    if (!answer.ok && !s.json() && str(answer.doc, "rolled_back") == "true") {
        // Which version runs now: the agent restored the previous one.
        const auto running = installed_version(s, p.component_id);
        s.err() << "rolled back: " << p.component_id << " "
                << running.value_or("(previous version)") << " runs again\n";
    }
    return code;
}

}  // namespace lucid::host::ctl
