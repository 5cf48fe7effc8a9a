#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need, and nothing else.
# Safe to run again: when everything is present it does not touch apt at all.
#
#   scripts/setup.sh [PACKAGE...]   also the given packages (what only one script needs, e.g.
#                                   scripts/cluster-test.sh's redis-server)
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libmosquitto-dev mosquitto mosquitto-clients
    rapidjson-dev libboost-dev libspdlog-dev doctest-dev
    libcurl4-openssl-dev libssl-dev openssl
    python3 lintian
    systemd util-linux openssl
    clang libclang-rt-14-dev
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
