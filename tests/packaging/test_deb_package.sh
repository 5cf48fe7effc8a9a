#!/usr/bin/env bash
# test_deb_package BUILD_DIR [ARCH [EMULATOR...]]: builds the .deb with CPack into a temporary
# directory and checks what an operator installs: its Debian architecture (ARCH, by default this
# machine's), lintian without errors, the files and where they go, stripped binaries that run
# (under EMULATOR for a cross-build: no dpkg -i here), the unit and the example settings,
# Debian's copyright and changelog, and the maintainer scripts (start on install, restart on
# upgrade, stop on remove, settings gone on purge).
# LUCID_DEB_KEEP_DIR: when every check passed, the package checked is copied there (cross.sh).
set -euo pipefail
build_dir=$(cd "$1" && pwd)
arch=${2:-$(dpkg --print-architecture)}
emulator=("${@:3}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# DEB_HOST_ARCH: dpkg-shlibdeps reads the binaries with that architecture's objdump and finds
# its libraries in that architecture's multiarch directories.
DEB_HOST_ARCH=$arch cpack --config "$build_dir/CPackConfig.cmake" -B "$work/out" \
    >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$work"/out/*.deb)
echo "package: $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
doc="$work/root/usr/share/doc/lucid-agent"

# --- architecture and lintian ------------------------------------------------------------------
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] ||
    fail "Architecture is $(dpkg-deb -f "$deb" Architecture), not $arch"
case "$(basename "$deb")" in
    *_"$arch".deb) ;;
    *) fail "$(basename "$deb") is not named for $arch" ;;
esac
depends=$(dpkg-deb -f "$deb" Depends)
case "$depends" in
    *libmosquitto1*) ;;
    *) fail "Depends ($depends) does not name libmosquitto1: dpkg-shlibdeps did not read the binaries" ;;
esac
# The agent dlopens libcurl (no NEEDED entry): the dependency is written in the package's CMake.
case "$depends" in
    *libcurl4*) ;;
    *) fail "Depends ($depends) does not name libcurl4, which the agent loads to download" ;;
esac
# Errors fail; warnings are listed for the reader (lintian is in scripts/setup.sh's list).
if lintian --fail-on error "$deb" >"$work/lintian.log" 2>&1; then
    grep -E '^W:' "$work/lintian.log" | sed 's/^/lintian warning: /' || true
else
    sed 's/^/lintian: /' "$work/lintian.log"
    fail "lintian found errors in $(basename "$deb")"
fi

# --- files -----------------------------------------------------------------------------------
for f in usr/bin/lucid-agent usr/bin/lucidctl usr/bin/lucid-plugin-runner usr/lib/systemd/system/lucid-agent.service \
         usr/share/doc/lucid-agent/copyright usr/share/doc/lucid-agent/changelog.Debian.gz \
         usr/share/doc/lucid-agent/README.md usr/share/doc/lucid-agent/SECURITY.md \
         usr/share/doc/lucid-agent/examples/agent.env \
         usr/share/doc/lucid-agent/examples/mosquitto-acl.conf \
         usr/include/lucid/plugin.h; do
    [ -f "$work/root/$f" ] || fail "/$f missing from the package"
done
[ ! -e "$work/root/usr/share/doc/lucid" ] || fail "documents under /usr/share/doc/lucid, not lucid-agent"

# --- stripped --------------------------------------------------------------------------------
for b in lucid-agent lucidctl lucid-plugin-runner; do
    if readelf -S "$work/root/usr/bin/$b" | grep -q '\.symtab'; then
        fail "/usr/bin/$b is not stripped"
    fi
done

# --- version: changelog == package == what the binaries say ---------------------------------
version=$(dpkg-deb -f "$deb" Version)
for b in lucid-agent lucidctl lucid-plugin-runner; do
    said=$("${emulator[@]}" "$work/root/usr/bin/$b" --version 2>&1) || fail "/usr/bin/$b --version failed: $said"
    [ "$said" = "$b ${version%%-*}" ] || fail "/usr/bin/$b --version said '$said', package is $version"
done
top=$(gzip -dc "$doc/changelog.Debian.gz" | head -1)
case "$top" in
    "lucid-agent ($version) "*) ;;
    *) fail "changelog.Debian.gz starts with '$top', package version is $version" ;;
esac

# --- the unit is the one install-service writes, for /usr/bin/lucid-agent --------------------
unit="$work/root/usr/lib/systemd/system/lucid-agent.service"
grep -q '^ExecStart=/usr/bin/lucid-agent run' "$unit" || fail "unit ExecStart is not /usr/bin/lucid-agent"

# --- maintainer scripts ------------------------------------------------------------------------
for s in postinst prerm postrm; do
    [ -x "$work/control/$s" ] || fail "maintainer script $s missing or not executable"
done
# Run them as dpkg would, with systemd "running" and a systemctl that records its calls; the
# system paths are pointed into the work directory (the scripts hard-code the real ones).
fake="$work/fake"
mkdir -p "$fake/bin" "$fake/run/systemd/system" "$fake/etc"
cat >"$fake/bin/systemctl" <<SH
#!/bin/sh
echo "\$*" >>"$fake/systemctl.log"
SH
chmod +x "$fake/bin/systemctl"
run_script() {  # run_script NAME ARGS...: the packaged script with its paths moved into $fake
    sed -e "s|/run/systemd/system|$fake/run/systemd/system|g" \
        -e "s|/etc/lucid|$fake/etc/lucid|g" \
        -e "s|/usr/share/doc/lucid-agent|$doc|g" "$work/control/$1" >"$fake/$1"
    : >"$fake/systemctl.log"
    PATH="$fake/bin:$PATH" sh "$fake/$1" "${@:2}"
}
expect_call() {  # expect_call SCRIPT-DESCRIPTION "systemctl args"
    grep -qx -- "$2" "$fake/systemctl.log" ||
        fail "$1 did not run 'systemctl $2' (it ran: $(tr '\n' ';' <"$fake/systemctl.log"))"
}

run_script postinst configure
expect_call "postinst (install)" "--system daemon-reload"
expect_call "postinst (install)" "enable lucid-agent.service"
expect_call "postinst (install)" "start lucid-agent.service"
env_file="$fake/etc/lucid/agent.env"
[ -f "$env_file" ] || fail "postinst did not create /etc/lucid/agent.env"
[ "$(stat -c %a "$env_file")" = 640 ] || fail "agent.env mode is $(stat -c %a "$env_file"), not 640"
echo "LUCID_AGENT_ID=kept" >>"$env_file"

run_script postinst configure 0.0.9
expect_call "postinst (upgrade)" "try-restart lucid-agent.service"
grep -q '^LUCID_AGENT_ID=kept' "$env_file" || fail "postinst (upgrade) replaced the operator's agent.env"

run_script prerm upgrade 0.2.0
if grep -q stop "$fake/systemctl.log"; then fail "prerm upgrade stopped the service"; fi
run_script prerm remove
expect_call "prerm (remove)" "stop lucid-agent.service"

run_script postrm remove
expect_call "postrm (remove)" "disable lucid-agent.service"
[ -f "$env_file" ] || fail "postrm remove deleted the settings (only purge may)"
run_script postrm purge
[ ! -e "$env_file" ] || fail "postrm purge left /etc/lucid/agent.env"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "package checks passed"
if [ -n "${LUCID_DEB_KEEP_DIR:-}" ]; then
    cp "$deb" "$LUCID_DEB_KEEP_DIR/"
    echo "package kept: $LUCID_DEB_KEEP_DIR/$(basename "$deb")"
fi
