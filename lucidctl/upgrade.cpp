// upgrade FILE|URL: the agent replaces itself (contract §4.16), as plugin install does for a
// component. A FILE goes inline through the broker, its sha256 computed here, FILE.sig beside it
// sent along; a URL (http://, https://, file:// on the agent's machine) is downloaded by the
// agent, --sha256 and --version mandatory. The version is --version, or the one FILE carries in
// its ELF section (self_update/version_section.hpp), or what FILE --version prints here. lucidctl
// then follows the upgrade across the agent's restart: progress, the handover, and the final result
// the new (or the old) build gives.
#include <lucid/plugin.h>
#include <unistd.h>

#include <cstdlib>

#include "install/digest.hpp"
#include "install/elf_section_reader.hpp"
#include "lucid/registry/semver.hpp"
#include "lucidctl/progress_line.hpp"
#include "lucidctl/verbs.hpp"
#include "self_update/version_probe.hpp"
#include "self_update/version_section.hpp"

namespace lucid::host::ctl {
namespace {

using rapidjson::Document;
using rapidjson::Value;

// The commit window (LUCID_UPGRADE_COMMIT_S at most 3600 s, 60 by default) plus the restarts:
// how long the final result may take after the handover.
constexpr std::chrono::seconds kAfterHandover{180};

// The version FILE carries in its section (a build for any machine), else what it says when it
// runs here (a build older than the section); "" when neither (another machine's, older).
std::string version_of(const std::string& file) {
    if (auto embedded = self_update::embedded_version(file)) return embedded.value().version;
    // A plugin is an ELF shared object like a position-independent program: say so rather than
    // run it with --version below, which crashes it.
    if (read_elf_section(file, LUCID_PLUGIN_MANIFEST_SECTION, ElfMachine::any).contents) {
        throw LocalError(file +
                         " is a lucid plugin, not a build of the agent: `lucidctl plugin "
                         "install " +
                         file + "` installs it");
    }
    if (!check_elf_program(file).empty()) return "";
    auto printed = self_update::probe_version(file, std::chrono::seconds(10));
    if (!printed) throw LocalError(printed.error().message);
    const std::string version = self_update::printed_version(printed.value());
    if (version.empty()) throw LocalError(file + " --version does not say 'lucid-agent <version>'");
    return version;
}

}  // namespace

int cmd_upgrade(Session& s) {
    const std::string& what = arg(s.options(), 1, "FILE or URL");
    expect_args(s.options(), 2);
    if (auto sha = command_option(s.options(), "sha256"); sha && !install::is_sha256_hex(*sha)) {
        throw LocalError("--sha256 must be 64 hex digits, got '" + *sha + "'");
    }
    auto version = command_option(s.options(), "version");
    if (version && !registry::Version::parse(*version)) {
        throw UsageError("--version must be a semantic version like 1.4.0, got '" + *version + "'");
    }
    Document payload(rapidjson::kObjectType);
    auto& a = payload.GetAllocator();
    Value source(rapidjson::kObjectType);
    const bool url = what.find("://") != std::string::npos;
    if (!version && !url) {
        require_regular_file(what);
        version = version_of(what);
        if (version->empty()) {
            throw UsageError("--version is needed: " + what +
                             " does not run on this machine, so lucidctl cannot ask it");
        }
    }
    const std::uint64_t size = artifact_source(s, what, "upgrade", source, a);
    if (!version) throw UsageError("--version is mandatory for a URL the agent downloads");
    payload.AddMember("version", Value(*version, a), a);
    payload.AddMember("source", source, a);
    s.require_not_offline();

    ProgressLine line(s.err(), !s.json() && ::isatty(STDERR_FILENO));
    const auto upload_start = SteadyClock::now();
    auto uploading = [&] {
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - upload_start)
                .count();
        line.note("uploading " + what + " (" + format_bytes(double(size)) +
                  ") through the broker, " + std::to_string(seconds) + "s");
    };
    if (size > 0) uploading();
    const Answer answer = s.request_upgrade(
        std::move(payload), kAfterHandover,
        [&](const Value& event) {
            const std::string phase = str(event, "phase", "download");
            if (phase == "handover") {
                line.clear();
                if (!s.json()) {
                    s.err() << "handed over: the agent restarts as lucid-agent " << *version
                            << " and answers once it is online\n";
                }
                return;
            }
            line.update(phase, std::strtoull(str(event, "bytes", "0").c_str(), nullptr, 10),
                        std::strtoull(str(event, "total", "0").c_str(), nullptr, 10));
        },
        size > 0 ? std::function<void()>(uploading) : std::function<void()>());
    line.clear();
    const int code = s.report("upgrade", answer);
    if (!answer.ok && !s.json() && str(answer.doc, "rolled_back") == "true") {
        s.err() << "rolled back: the agent runs its previous build again\n";
    }
    if (!answer.ok && !s.json() && str(answer.doc, "error") == "not supervised") {
        // A walk finding: the bare refusal said nothing of what to do.
        s.err() << "the agent replaces itself only under a service manager that starts it again: "
                   "run it by its systemd unit, or set LUCID_SUPERVISED=yes where something "
                   "restarts it (README \"Updating the agent\")\n";
    }
    return code;
}

}  // namespace lucid::host::ctl
