#include "lucidctl/options.hpp"

#include <map>
#include <ostream>
#include <stdexcept>

#include <rapidjson/document.h>

#include "contract/payloads.hpp"
#include "lucidctl/agent_presence.hpp"
#include "lucidctl/nearest_word.hpp"
#include "lucidctl/text_table.hpp"

namespace lucid::host::ctl {
namespace {

const std::vector<std::string> kCommandOptions = {
    "sha256",    "id",         "dist",        "signature", "count",        "config", "older-than",
    "select",    "platform",   "canary",      "batch",     "max-failures", "sort",   "isolation",
    "memory-mb", "open-files", "cpu-seconds", "run-as",    "key",          "keys",   "expires",
    "permit",    "interval",   "component",   "level",     "version"};
const std::vector<std::string> kCommandSwitches = {"force",        "prune",       "no-wait",
                                                   "dry-run",      "no-rollback", "summary",
                                                   "run-as-agent", "once",        "follow"};

// How an option is written: `-n` is the one short option (as tail's).
std::string spelling(const std::string& name) { return (name == "n" ? "-" : "--") + name; }

const char* const kOverview = R"(usage: lucidctl [options] <command> [args]

Drives lucid agents through the MQTT broker.

commands:
  agents [--select SELECTOR] [--sort KEY]  every agent seen on the broker: state, health,
                                  version, components, last seen, labels; SELECTOR:
                                  site=berlin,role!=test, env in (a,b)
  fleet [--select SELECTOR]       counts by agent version, component version and state, and
                                  desired state (= agents --summary)
  agents --prune [--older-than AGE]  forget agents offline longer than AGE (default 7d)
  agents forget ID                forget one offline agent (clear its retained messages)
  status                          the agent's status and state
  plugin list                     installed components (the local registry if no broker)
  plugin info ID                  one component (the local registry if no broker)
  plugin install FILE [--id ID] [--signature SIG] [--force [--permit F]]  install or
                                  upgrade a component: FILE (and FILE.sig) go inline;
                                  also --config JSON, --isolation process (plugin install --help)
  plugin install URL --id ID --sha256 HEX   the agent downloads URL (file:// on the agent)
  plugin uninstall ID [--dist NAME]  stop, unload and remove a component
  plugin start|stop|restart ID    runtime control of a component
  plugin enable|disable ID        whether a component starts at boot
  plugin isolate ID in_process|process [--memory-mb N] [--run-as USER]  where a component
                                  runs, its limits and user (restarts it)
  plugin inspect FILE.so          the manifest of an artifact, without loading it
  plugin config get ID            a component's config
  plugin config set ID KEY=VALUE...  change a component's config (KEY:=JSON for a
                                  JSON value); the plugin may refuse it
  plugin call ID ACTION [JSON]    run a command the plugin defines (JSON: an object)
  plugin log-level ID [LEVEL]     a component's own log level: show it, or set it (trace,
                                  debug, info, warn, error; default: the agent's levels)
  config get                      the agent's runtime config
  config set KEY=VALUE...         change heartbeat_s, log_level, telemetry_enabled,
                                  logs_enabled, logs_level,
                                  labels=site=berlin,role=gateway (the whole set),
                                  telemetry.metrics.cpu_percent.interval_s=5 (a path)
  refresh                         republish every retained snapshot
  ping [--count N]                round trip to the agent
  watch                           print every message of the agent as it arrives
  top [--interval S] [--once]     a live view of the agent's telemetry and components
  logs [--follow] [--component ID] [--level L] [-n N]  the agent's last N log lines
                                  (default 100), then with --follow the lines as logged
  desired set FILE.json [--no-wait]  the agent's desired state: published retained, then
                                  followed until the agent converged (exit 4: not yet)
  desired get|clear|status        the document, remove it (components stay), what the
                                  agent did with it (core/deployment)
  artifact publish FILE.so [--platform TAG]  the artifact retained on the broker under
                                  {fleet root}/artifacts/; prints the broker source to use
  rollout start FILE.so...|URL|DESIRED.json --select SELECTOR [--canary N] [--batch N|P%]
        [--max-failures N|P%] [--timeout S] [--dry-run] [--no-rollback] [--force]
                                  change many agents' desired state in batches
  rollout resume|abort ID, rollout status [ID], rollout list
  key generate NAME               an Ed25519 signing key: NAME.key (private, mode 0600) and
                                  NAME.pem (for the devices' LUCID_TRUSTED_KEYS_DIR)
  sign FILE.so --key NAME.key [--platform TAG]  writes FILE.so.sig, a lucid-sig-1
                                  statement (sha256, dist, version, component, platform)
  verify FILE.so [--keys DIR]     checks FILE.so.sig as an agent would; says which key
                                  signed it (default DIR: $LUCID_TRUSTED_KEYS_DIR)
  permit DIST VERSION --key NAME.key --expires AGE  writes DIST-VERSION.permit, a signed
                                  rollback permit (lucid-permit-1): go back below the
                                  version floor under LUCID_SIGNATURE_POLICY=required
  key revoke KEY_ID|FILE.pem... --key NAME.key  writes revoke-<id>.json, a signed list
                                  (lucid-revoke-1) revoking those keys
  revoke FILE                     sends a revocation list to the agent: the keys' signatures
                                  are refused from then on, their components reported
  upgrade FILE|URL [--version V] [--sha256 HEX] [--signature SIG]  the agent replaces
                                  itself with that build and rolls back if it does not
                                  come up (upgrade --help)

options:
  --url URL         broker (default: $LUCID_MQTT_URL, else mqtt://127.0.0.1:1883);
                    --mqtt-url is the same option under the agent's name
  --agent ID        agent id (default: $LUCID_AGENT_ID, else from the host name)
  --root ROOT       topic root (default: $LUCID_TOPIC_ROOT, else lucid/agents)
  --fleet-root ROOT the fleet's shared topics (default: $LUCID_FLEET_ROOT, else lucid)
  --data-dir DIR    data directory for the offline registry (default: as the agent's)
  --tls-ca FILE     CA file for mqtts:// (default: $LUCID_TLS_CA, else the system CAs)
  --tls-cert FILE   client certificate for mqtts:// (with --tls-key; $LUCID_TLS_CERT)
  --tls-key FILE    client key for mqtts:// ($LUCID_TLS_KEY)
  --env-file FILE   read settings from FILE (default: $LUCID_ENV_FILE, else
                    /etc/lucid/agent.env when it exists and is readable)
  --json            machine-readable output
  --timeout SECS    how long to wait for the broker and the agent, 1 to 3600 (default 10)
  --expires-in AGE  a command not run by then is answered expired instead (the agent may be
                    away: 30m, 1h, 7d or never; default 1h)
  --version         print lucidctl's version
  --help            help for any command: lucidctl plugin install --help

exit codes: 0 ok, 1 the agent answered ok:false, 2 usage or a local problem (bad file,
manifest or checksum), 3 broker unreachable, agent offline or no answer, 4 sent but not
done yet (desired set: the agent is offline or still applying)
)";

const char* const kInstallHelp =
    R"(usage: lucidctl plugin install FILE.so [--id ID] [--signature SIG] [--config JSON]
           [--force [--permit FILE.permit]]
       lucidctl plugin install URL --id ID --sha256 HEX [--signature SIG] [--config JSON]
           [--force [--permit FILE.permit]]
       (either with [--isolation in_process|process] [--memory-mb N] [--open-files N]
        [--cpu-seconds N] [--run-as USER[:GROUP,GROUP...]])

A local FILE is sent inline through the broker (the agent needs no access to it): its sha256
is computed here, its manifest checked here, its component id read from the manifest (--id,
when given, must match), and a detached signature beside it (FILE.sig, as lucidctl sign
writes it) is sent along unless --signature is given (SIG: a lucid-sig-1 line, the
deprecated bare base64, or a file holding either, like FILE.sig). A FILE larger than max_artifact_bytes (as this machine's settings say,
default 64M) is refused here: install it from a URL instead.
A URL (http://, https://, or file:// for a path on the agent's machine) is downloaded by the
agent; --id and --sha256 are then mandatory.
--config sets the component's config object at install time.
--isolation in_process|process chooses where it runs (default: the agent's
LUCID_DEFAULT_ISOLATION); --memory-mb, --open-files, --cpu-seconds limit its process;
--run-as USER[:GROUP,GROUP...] runs its process as that user, with those extra groups (process
isolation only, and only users the agent's LUCID_RUN_AS_ALLOWED lists).
Installing an older version than the one installed is refused unless --force, which also
sends allow_downgrade: the agent's permission to go below its version floor (the highest
version it ever committed). Where the agent requires signatures it asks for a rollback permit
as well: --permit FILE.permit, as lucidctl permit writes it.
On a terminal, the progress (bytes, rate, time left) goes to stderr and is cleared before
the result.
)";

const std::map<std::string, std::string> kHelp = {
    {"agents",
     "usage: lucidctl agents [--select SELECTOR] [--sort KEY]\n"
     "       lucidctl agents --summary [--select SELECTOR]   (the same as lucidctl fleet)\n"
     "       lucidctl agents --prune [--older-than AGE] [--select SELECTOR]\n"
     "       lucidctl agents forget ID\n\n"
     "Lists every agent whose retained status is on the broker under the topic root: state\n"
     "(online, offline), health (core/state: running, degraded; in parentheses the last\n"
     "known of an offline agent), version, components (how\n"
     "many, and how many failed), uptime (from connected_since), last seen, labels (from its\n"
     "retained core/metadata, kept while it is offline), and a conflict the agent reports.\n"
     "--sort KEY orders the list: agent (the id, default), state (online first), health\n"
     "(degraded first), version (newest first), components (most first), last-seen (longest\n"
     "gone first); ties by id. --json adds health, degraded_reasons, components (id: version,\n"
     "state) and deployment (the desired state's outcome) to each status.\n"
     "--summary counts agents by version, components by version and state, and desired\n"
     "states by outcome, across the selection. --select keeps the agents whose labels match "
     "SELECTOR, requirements separated\n"
     "by commas, all of which must hold: key=value, key!=value, key in (a,b), key notin (a,b),\n"
     "key (has it), !key (has it not); != and notin hold for an agent without the key.\n"
     "--prune clears the retained messages of every agent (of the selection) offline for\n"
     "longer than AGE (a number with s, m, h or d; default 7d); forget clears those of one\n"
     "offline agent.\n"},
    {"fleet",
     "usage: lucidctl fleet [--select SELECTOR]\n\n"
     "Counts across the agents on the broker (of the selection): online, offline and degraded\n"
     "agents; agents by version (newest first); components by id, version and state; desired\n"
     "states by outcome (core/deployment: converged, applying, failed; none without one).\n"
     "The same as lucidctl agents --summary. --json: {agents, online, offline, degraded,\n"
     "versions: [{version, agents, online}], components: [{component, version, state,\n"
     "agents}], deployments: {state: agents}}.\n"},
    {"status",
     "usage: lucidctl status\n\nShows the agent's retained status and core/state; for an offline "
     "agent,\nsince when, and that the state shown is its last.\n"},
    {"plugin list",
     "usage: lucidctl plugin list\n\nLists the components of the agent's retained "
     "core/components snapshot.\nWithout a broker, reads the local registry (--data-dir) and says "
     "so.\n"},
    {"plugin info",
     "usage: lucidctl plugin info ID\n\nShows one component's registry entry "
     "and live state.\nWithout a broker, reads the local registry (--data-dir) and says so.\n"},
    {"plugin install", kInstallHelp},
    {"upgrade",
     "usage: lucidctl upgrade FILE [--version V] [--sha256 HEX] [--signature SIG]\n"
     "       lucidctl upgrade URL --version V --sha256 HEX [--signature SIG]\n\n"
     "The agent replaces itself with the build of lucid-agent FILE or URL is (contract\n"
     "§4.16): it verifies it (sha256, signature, this machine, its --version), places it, hands\n"
     "over and restarts; the new build commits once it is online, or the agent rolls back to\n"
     "the build that ran. lucidctl follows it across the restart and prints the final result.\n"
     "A FILE goes inline through the broker with FILE.sig beside it; its version is --version,\n"
     "or the one its ELF section carries (any machine's build), or what FILE --version prints\n"
     "when it runs on this machine. A URL (http://, https://,\n"
     "or file:// for a path on the agent's machine) is downloaded by the agent.\n"},
    {"plugin uninstall",
     "usage: lucidctl plugin uninstall ID [--dist NAME]\n\n--dist names the distribution "
     "of a legacy entry whose dist_name the registry lacks\n(a normalized name: lowercase, "
     "runs of '-', '_', '.' written as one '-').\n"},
    {"plugin isolate",
     "usage: lucidctl plugin isolate ID [in_process|process] [--memory-mb N] [--open-files N]\n"
     "                                [--cpu-seconds N] [--run-as USER[:GROUP,...] | "
     "--run-as-agent]\n\n"
     "Where the component runs: in the agent's process, or in a lucid-plugin-runner child of\n"
     "its own (a crash there does not take the agent down), with these limits. Persisted on the\n"
     "agent; a running component is restarted alone to apply it. Give the mode, a limit, a user,\n"
     "or several.\n"
     "--run-as USER[:GROUP,GROUP...] runs the child as USER with these extra groups (process\n"
     "isolation only; the agent refuses a user or group its LUCID_RUN_AS_ALLOWED does not\n"
     "list); --run-as-agent runs it as the agent's own user again.\n"},
    {"plugin inspect",
     "usage: lucidctl plugin inspect FILE.so\n\nPrints the manifest embedded "
     "in the artifact, read without loading it.\nExit 2 when the file is not a plugin or its "
     "manifest does not match its name.\n"},
    {"plugin config",
     "usage: lucidctl plugin config get ID\n"
     "       lucidctl plugin config set ID KEY=VALUE...\n\n"
     "get shows the component's config (its retained components/ID/cfg/state; --json: that\n"
     "payload), exit 1 when the agent has no such component.\n"
     "set sends components/ID/cfg/set with those keys: VALUE true or false is a boolean, an\n"
     "integer a number, anything else a string; KEY:=JSON takes any JSON value (ratio:=0.5,\n"
     "ids:=[1,2], limits:='{\"max\":5}'). The keys replace those of the stored config; the\n"
     "plugin sees the whole config and may refuse it (exit 1 with its error), and then nothing\n"
     "changes. A KEY its config does not have, near one it has, is warned about (a typo?).\n"},
    {"plugin call",
     "usage: lucidctl plugin call ID ACTION [JSON]\n\n"
     "Sends a command the plugin defines on components/ID/cmd/ACTION, with the JSON object as\n"
     "its payload ({} without one; lucidctl adds request_id and expires_at), and prints the\n"
     "plugin's answer: one KEY=VALUE line a member (--json: the result as published). Exit 1\n"
     "when the plugin or the agent answers ok:false (unknown command: ACTION, component not\n"
     "found: ID, component not running: ID, ...). lucidctl waits --timeout for the answer,\n"
     "however long the plugin takes.\n"},
    {"plugin log-level",
     "usage: lucidctl plugin log-level ID [LEVEL]\n\n"
     "Without LEVEL shows the component's own log level (the log_level of its retained\n"
     "status), or that it follows the agent's levels (log_level, logs_level of config get).\n"
     "With LEVEL sets it (components/ID/cfg/logging/set): trace, debug, info, warn, error in\n"
     "any case (warning and err too) replace the agent's levels for its lines in the log file,\n"
     "the kept lines and the stream; default removes it. Kept by the agent across restarts,\n"
     "dropped when the component is uninstalled. --json: {component_id, log_level}.\n"},
    {"config get",
     "usage: lucidctl config get\n\nShows the agent's runtime config "
     "(core/cfg/state).\n"},
    {"config set",
     "usage: lucidctl config set KEY=VALUE...\n\nKeys: heartbeat_s (5-3600), log_level and "
     "logs_level (trace, debug, info,\nwarn, error in any case; warning and err too), "
     "logs_enabled (true|false),\ntelemetry_enabled (true|false), labels=KEY=VALUE,... (the "
     "agent's "
     "whole label set,\nreplacing LUCID_LABELS from then on; labels= for none),\n"
     "telemetry.metrics.<metric>.enabled|interval_s|change_threshold_percent (a dotted KEY is\n"
     "a path into the agent's nested settings; VALUE true/false, a number, null, or text;\n"
     "KEY:=JSON any JSON value, e.g. telemetry.metrics.cpu_percent:='{\"enabled\":true}').\n"
     "Metrics: cpu_percent, memory_percent, disk_percent, load1, temperature_c,\n"
     "net_rx_bytes_per_s, net_tx_bytes_per_s, agent_rss_bytes (contract 4.14). A plugin's own\n"
     "metrics: telemetry.components.<component_id>.<metric>.enabled|interval_s|\n"
     "change_threshold_percent (null for a metric or a component removes its settings).\n"},
    {"desired",
     "usage: lucidctl desired set FILE.json [--no-wait] [--force]\n"
     "       lucidctl desired clear [--force]\n"
     "       lucidctl desired get | status\n\n"
     "The agent's desired state (contract 4.11): the components it should run, which it\n"
     "installs, upgrades, configures and removes by itself, also after being offline.\n"
     "set checks FILE.json here, gives it a revision when it has none (one above the\n"
     "agent's), publishes it retained on {root}/{agent}/desired and follows the agent's\n"
     "core/deployment until that revision converged (exit 0), failed or was refused (1);\n"
     "exit 4 when the agent is offline, never connected, or still applying (it goes on by\n"
     "itself). set and clear refuse an agent the broker never saw (a typo'd --agent) unless\n"
     "--force.\n"
     "get prints the document, clear removes it (the components stay as they are), status\n"
     "shows the agent's core/deployment: revision, state, each component's outcome.\n"},
    {"artifact",
     "usage: lucidctl artifact publish FILE.so [--platform TAG]\n\n"
     "Publishes FILE.so retained on {fleet root}/artifacts/<dist>/<version>/<platform>\n"
     "(--fleet-root, default lucid) and prints the install source that names it:\n"
     "{\"type\":\"broker\",\"topic\":...,\"sha256\":...} (with the signature of FILE.so.sig\n"
     "when there is one), for a desired state or an install. The platform comes from the\n"
     "file name (<dist>-<version>-<platform>.so) unless --platform gives it.\n"
     "The broker must accept messages that large and keep them (retained).\n"},
    {"rollout",
     "usage: lucidctl rollout start FILE.so... | URL --id ID --sha256 HEX | DESIRED.json\n"
     "            --select SELECTOR [--canary N] [--batch N|P%] [--max-failures N|P%]\n"
     "            [--timeout S] [--dry-run] [--no-rollback] [--force]\n"
     "       lucidctl rollout resume ID | abort ID [--no-rollback] | status [ID] | list\n\n"
     "Changes the desired state (lucidctl desired --help) of every agent --select picks,\n"
     "a canary first (default 1 agent), then batches (default 10%), each done when its\n"
     "agents converged, failed or timed out (--timeout, default 600 s a batch; a timeout\n"
     "is a failure). More failures than --max-failures (default 0) stop the rollout and,\n"
     "unless --no-rollback, give the agents already changed their desired state back.\n"
     "FILE.so... are published on the broker first (one per platform: an agent whose\n"
     "platform has none is skipped); DESIRED.json is a whole document for every agent.\n"
     "Agents offline when their batch comes are pending: their document waits for them,\n"
     "lucidctl waits for them until --timeout at the end and lists those still pending.\n"
     "The plan and progress are retained on {fleet root}/rollouts/ID: Ctrl-C pauses,\n"
     "resume continues (from any machine), abort stops and rolls back. A rollout whose\n"
     "agents overlap an active one is refused unless --force. --dry-run prints the plan.\n"
     "Exit 0 every agent converged, 1 failed or aborted, 3 broker unreachable, 4 done but\n"
     "some agents still pending, 130 paused.\n"},
    {"key revoke",
     "usage: lucidctl key revoke KEY_ID|FILE.pem... --key NAME.key\n\n"
     "Writes revoke-<first id>.json: one line of JSON (format lucid-revoke-1) saying that\n"
     "the keys given (by key id, or by their public key file; at most 15) are revoked,\n"
     "signed with NAME.key, which the devices must trust (and not have revoked). Send it\n"
     "with lucidctl revoke FILE to each agent; the agent keeps it in its trust state. A key\n"
     "may revoke itself. On a device, revoked/ inside LUCID_TRUSTED_KEYS_DIR does the same.\n"},
    {"revoke",
     "usage: lucidctl revoke FILE\n\n"
     "Sends the revocation list FILE (lucidctl key revoke) to the agent\n"
     "(core/cmd/keys/revoke). From then on a signature by a revoked key is refused, and\n"
     "components installed under one are reported: a warning in their status, or failed\n"
     "and stopped under LUCID_SIGNATURE_POLICY=required until a build signed by a trusted\n"
     "key is installed. The result lists the keys newly revoked and the components.\n"},
    {"key",
     "usage: lucidctl key generate NAME\n\n"
     "Makes an Ed25519 key pair in the current directory: NAME.key, the private key (PEM,\n"
     "mode 0600; keep it secret, off the devices) and NAME.pem, the public key, ready to be\n"
     "copied into each device's LUCID_TRUSTED_KEYS_DIR. Prints the key id (the first 16 hex\n"
     "digits of the SHA-256 of the raw public key), which signatures name. An existing\n"
     "NAME.key or NAME.pem is never overwritten. The openssl equivalent:\n"
     "  openssl genpkey -algorithm ed25519 -out NAME.key\n"
     "  openssl pkey -in NAME.key -pubout -out NAME.pem\n"},
    {"sign",
     "usage: lucidctl sign FILE.so --key NAME.key [--platform TAG]\n\n"
     "Writes FILE.so.sig: one line of JSON (format lucid-sig-1) holding a statement about\n"
     "the artifact (its sha256, and the dist, version and component of its manifest, the\n"
     "platform it is for, when it was signed), the key id, and the Ed25519 signature of the\n"
     "canonical statement. An agent accepts it only for these very bytes under this dist,\n"
     "version, component and platform. plugin install, artifact publish, rollout and the\n"
     "drop-in directory take FILE.so.sig from beside FILE.so. The platform comes from\n"
     "--platform, else the file name (<dist>-<version>-<platform>.so), else the file's ELF\n"
     "machine (linux_x86_64, linux_aarch64). An existing FILE.so.sig is replaced.\n"
     "A build of the agent (lucidctl upgrade FILE) is signed the same way: its statement\n"
     "names dist and component lucid-agent and the version the build carries.\n"},
    {"verify",
     "usage: lucidctl verify FILE.so [--keys DIR]\n\n"
     "Checks FILE.so.sig with the trusted keys of DIR (default: LUCID_TRUSTED_KEYS_DIR as\n"
     "this machine's settings say) as an agent does: the key by its key id, the signature of\n"
     "the statement, the statement against the file's sha256 and manifest. Prints which key\n"
     "signed it (key id and file). Exit 2 with the reason when it does not verify. A bare\n"
     "base64 signature (deprecated) is tried with every key.\n"},
    {"permit",
     "usage: lucidctl permit DIST VERSION --key NAME.key --expires AGE\n\n"
     "Writes DIST-VERSION.permit: one line of JSON (format lucid-permit-1) saying that DIST\n"
     "may go back to VERSION until now + AGE (1s to 30d, like 1h or 2d), signed with the\n"
     "key. Under LUCID_SIGNATURE_POLICY=required an agent installs a version below its\n"
     "version floor only with allow_downgrade and such a permit from a trusted key:\n"
     "  lucidctl plugin install FILE.so --force --permit DIST-VERSION.permit\n"
     "or its text as \"rollback_permit\" beside \"allow_downgrade\": true in a desired\n"
     "component. DIST is normalized (lucid_agent_cpu is lucid-agent-cpu).\n"},
    {"refresh",
     "usage: lucidctl refresh\n\nAsks the agent to republish every retained "
     "snapshot.\n"},
    {"ping",
     "usage: lucidctl ping [--count N]\n\nMeasures the command round trip to the "
     "agent (--json: rtt_ms in each result).\n"},
    {"top",
     "usage: lucidctl top [--interval S] [--once]\n\n"
     "A live view of one agent: its status and health, its latest telemetry (the metrics\n"
     "it streams on telemetry/{metric}, and those of its components) and its components\n"
     "(version, state, isolation, restarts, error). On a terminal the screen is redrawn in\n"
     "place every second (or every --interval S if shorter) until interrupted; otherwise a\n"
     "new screen is printed every --interval S (default 2, from 0.2 to 3600). --once prints\n"
     "one screen after listening for --interval and exits. Telemetry is off until metrics\n"
     "are enabled: lucidctl config set telemetry.metrics.cpu_percent.enabled=true\n"},
    {"logs",
     "usage: lucidctl logs [--follow] [--component ID] [--level L] [-n N]\n\n"
     "Prints the last N (1 to 1000, default 100) of the log lines the agent keeps in memory\n"
     "(the last 1,000 its log got), oldest first: time, level, logger (core or a component\n"
     "id) and message. --component ID keeps one logger's lines (core: the agent's own),\n"
     "--level L those at or above L (trace, debug, info, warn, error in any case; warning\n"
     "and err too). --follow then prints the lines as the agent streams them on its logs\n"
     "topic, until interrupted: lucidctl asks for a temporary stream at L (default info) for\n"
     "60 s and renews it while it follows, so nothing stays on when lucidctl stops; it says\n"
     "on stderr when the agent goes offline, and asks again at once when it is back.\n"
     "--json: one JSON object a line.\n"},
    {"watch",
     "usage: lucidctl watch\n\nPrints every message under the agent's topics, with the time it "
     "arrived,\nuntil interrupted or the output is closed. --json: one object a line, the "
     "payload\nembedded as JSON when it is JSON.\n"},
};

bool contains(const std::vector<std::string>& list, const std::string& word) {
    for (const auto& item : list) {
        if (item == word) return true;
    }
    return false;
}

// The help key of `words` ("plugin install", "status"), empty when it names no command.
std::string help_key(const std::vector<std::string>& words) {
    if (words.size() >= 2) {
        const std::string key = words[0] + " " + words[1];
        if (words[0] == "plugin" &&
            contains({"start", "stop", "restart", "enable", "disable"}, words[1])) {
            return key;
        }
        if (kHelp.count(key)) return key;
    }
    if (!words.empty() && kHelp.count(words[0])) return words[0];
    return {};
}

void set_timeout(CtlOptions& o, const std::string& text) {
    try {
        std::size_t used = 0;
        const double seconds = std::stod(text, &used);
        if (used != text.size() || !(seconds >= 1 && seconds <= 3600)) {
            throw std::out_of_range("");
        }
        o.timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    } catch (const std::exception&) {
        o.error = "--timeout must be a number of seconds from 1 to 3600, got '" + text + "'";
    }
}

void set_expires_in(CtlOptions& o, const std::string& text) {
    if (text == "never") {
        o.expires_in = std::nullopt;
        return;
    }
    // At most ten years: the agent reads times up to the year 2200 only.
    const auto seconds = parse_age(text);
    if (!seconds || *seconds < 1 || *seconds > 3650.0 * 86400) {
        o.error =
            "--expires-in must be an age from 1s to 3650d like 1h, 30m or 7d, or never, "
            "got '" +
            text + "'";
        return;
    }
    o.expires_in = std::chrono::seconds(static_cast<long long>(*seconds));
}

// The command options each command takes; one given to another command, or twice, is a usage
// error rather than silently ignored (`status --select x` must not look like a selection).
const std::map<std::string, std::vector<std::string>> kOptionsOf = {
    {"agents", {"select", "older-than", "prune", "sort", "summary"}},
    {"fleet", {"select"}},
    {"ping", {"count"}},
    {"top", {"interval", "once"}},
    {"logs", {"follow", "component", "level", "n"}},
    {"plugin install",
     {"id", "sha256", "signature", "config", "force", "isolation", "memory-mb", "open-files",
      "cpu-seconds", "run-as", "permit"}},
    {"plugin isolate", {"memory-mb", "open-files", "cpu-seconds", "run-as", "run-as-agent"}},
    {"plugin uninstall", {"dist"}},
    {"desired set", {"no-wait", "force"}},
    {"desired clear", {"force"}},
    {"artifact publish", {"platform"}},
    {"rollout start",
     {"select", "canary", "batch", "max-failures", "dry-run", "no-rollback", "force", "sha256",
      "id", "platform"}},
    {"rollout abort", {"no-rollback"}},
    {"rollout resume", {"force"}},
    {"sign", {"key", "platform"}},
    {"verify", {"keys"}},
    {"permit", {"key", "expires"}},
    {"key revoke", {"key"}},
    {"upgrade", {"version", "sha256", "signature"}},
};

std::string command_options_error(const CtlOptions& o) {
    std::vector<std::string> seen;
    for (const auto& [name, value] : o.command_options) {
        if (contains(seen, name)) return "option " + spelling(name) + " given twice";
        seen.push_back(name);
    }
    if (o.words.empty() || o.command_options.empty()) return {};
    // A mistyped command is named as such, not blamed on its options (`lucidctl log -n 2`).
    if (const auto known = known_words({}); !contains(known, o.words[0])) {
        return unknown_word_error("command", o.words[0], known);
    }
    std::string command = o.words[0];
    if (o.words.size() > 1 &&
        contains({"plugin", "desired", "artifact", "config", "rollout", "key"}, o.words[0])) {
        command += " " + o.words[1];
    }
    const auto it = kOptionsOf.find(command);
    for (const auto& [name, value] : o.command_options) {
        if (it == kOptionsOf.end() || !contains(it->second, name)) {
            return "option " + spelling(name) + " does not apply to '" + command + "'";
        }
    }
    return {};
}

}  // namespace

CtlOptions parse_ctl_options(const std::vector<std::string>& args) {
    CtlOptions o;
    // Known before anything can go wrong: a usage error is then JSON on stdout too.
    for (const auto& arg : args) o.json = o.json || arg == "--json";
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
        }
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 < args.size()) return args[++i];
            o.error = "option " + arg + " needs a value";
            return std::nullopt;
        };
        if (arg == "--help" || arg == "-h") {
            o.help = true;
        } else if (arg == "--version" && !o.words.empty() && o.words[0] == "upgrade") {
            // `upgrade FILE --version V`: the build's version, not lucidctl's.
            if (auto v = value()) o.command_options.emplace_back("version", *v);
        } else if (arg == "--version" || arg == "-V") {
            o.version = true;
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "--url" || arg == "--mqtt-url") {
            o.url = value();
            o.url_flag = arg;
        } else if (arg == "--agent") {
            o.agent = value();
        } else if (arg == "--root") {
            o.root = value();
        } else if (arg == "--fleet-root") {
            o.fleet_root = value();
        } else if (arg == "--data-dir") {
            o.data_dir = value();
        } else if (arg == "--env-file") {
            o.env_file = value();
        } else if (arg == "--tls-ca") {
            o.tls_ca = value();
        } else if (arg == "--tls-cert") {
            o.tls_cert = value();
        } else if (arg == "--tls-key") {
            o.tls_key = value();
        } else if (arg == "--timeout") {
            if (auto v = value()) set_timeout(o, *v);
            o.timeout_given = true;
        } else if (arg == "--expires-in") {
            if (auto v = value()) set_expires_in(o, *v);
        } else if (arg == "-n") {
            if (auto v = value()) o.command_options.emplace_back("n", *v);
        } else if (arg.rfind("--", 0) == 0) {
            const std::string name = arg.substr(2);
            if (contains(kCommandSwitches, name)) {
                if (inline_value) {
                    o.error = "option " + arg + " takes no value";
                } else {
                    o.command_options.emplace_back(name, "true");
                }
            } else if (contains(kCommandOptions, name)) {
                if (auto v = value()) o.command_options.emplace_back(name, *v);
            } else {
                std::vector<std::string> known = {
                    "--url",      "--mqtt-url", "--agent",      "--root",     "--fleet-root",
                    "--data-dir", "--env-file", "--tls-ca",     "--tls-cert", "--tls-key",
                    "--json",     "--timeout",  "--expires-in", "--version",  "--help"};
                for (const auto& c : kCommandOptions) known.push_back("--" + c);
                for (const auto& c : kCommandSwitches) known.push_back("--" + c);
                o.error = unknown_word_error("option", arg, known);
            }
        } else {
            o.words.push_back(arg);
        }
        if (!o.error.empty()) break;
    }
    if (o.error.empty()) o.error = command_options_error(o);
    return o;
}

std::optional<std::string> command_option(const CtlOptions& options, const std::string& name) {
    for (const auto& [key, value] : options.command_options) {
        if (key == name) return value;
    }
    return std::nullopt;
}

bool command_switch(const CtlOptions& options, const std::string& name) {
    return command_option(options, name).has_value();
}

// The help of a word that only has subcommands (config, plugin, key): the usage block of each,
// and where the rest is.
std::string group_help(const std::string& group) {
    std::string text;
    for (const auto& [key, help] : kHelp) {
        if (key.rfind(group + " ", 0) != 0) continue;
        const auto end = help.find("\n\n");
        text += help.substr(0, end == std::string::npos ? help.size() : end) + "\n";
    }
    if (text.empty()) return {};
    return text + "\nMore on each: lucidctl " + group + " SUBCOMMAND --help\n";
}

std::string ctl_help(const std::vector<std::string>& words) {
    const std::string key = help_key(words);
    if (key.empty()) {
        const std::string group = words.empty() ? std::string() : group_help(words[0]);
        return group.empty() ? kOverview : group;
    }
    if (words[0] == "plugin" && kHelp.count(key) == 0) {
        return "usage: lucidctl plugin " + words[1] +
               " ID\n\nstart/stop/restart act now; enable/disable decide whether the "
               "component starts at boot.\n";
    }
    return kHelp.at(key);
}

void print_json_error(std::ostream& out, const std::string& error) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("ok", false, a);
    doc.AddMember("error", rapidjson::Value(error, a), a);
    out << contract::to_json(doc) << "\n";
}

void print_usage_error(std::ostream& err, const std::string& error,
                       const std::vector<std::string>& words) {
    const std::string key = help_key(words);
    // The error may quote what was typed: shown like every text from outside (text_table.hpp).
    err << "lucidctl: " << printable(error) << "\n"
        << "try 'lucidctl " << (key.empty() ? "" : key + " ") << "--help'\n";
}

std::vector<std::string> known_words(const std::vector<std::string>& path) {
    if (path.empty()) {
        return {"agents", "fleet",  "status",  "plugin",   "config",  "refresh", "ping",
                "watch",  "top",    "desired", "artifact", "rollout", "key",     "sign",
                "verify", "permit", "revoke",  "logs",     "upgrade"};
    }
    if (path[0] == "plugin") {
        if (path.size() > 1 && path[1] == "config") return {"get", "set"};
        return {"list",   "info",    "install", "uninstall", "start",  "stop", "restart",
                "enable", "disable", "inspect", "isolate",   "config", "call", "log-level"};
    }
    if (path[0] == "config") return {"get", "set"};
    if (path[0] == "desired") return {"set", "get", "clear", "status"};
    if (path[0] == "artifact") return {"publish"};
    if (path[0] == "rollout") return {"start", "resume", "status", "abort", "list"};
    if (path[0] == "agents") return {"forget"};
    if (path[0] == "key") return {"generate", "revoke"};
    return {};
}

std::string unknown_word_error(const std::string& what, const std::string& word,
                               const std::vector<std::string>& known) {
    std::string text = "unknown " + what + " '" + word + "'";
    if (auto near = nearest_word(word, known)) text += " (did you mean '" + *near + "'?)";
    return text;
}

}  // namespace lucid::host::ctl
