#!/usr/bin/env bash
# Cross-builds lucid for an ARM device with Debian's cross toolchains, and runs what it built
# under qemu-user (no binfmt needed: ctest and the test harness put the emulator in front).
#
#   scripts/cross.sh arm64|armhf           install what is missing (a foreign dpkg architecture,
#                                          the cross compiler, the -dev packages of that
#                                          architecture, qemu-user), build in Release in
#                                          build-cross-<arch>/ (agent, lucidctl, plugin runner,
#                                          SDK, example plugins), then under qemu: the unit tests,
#                                          the device smoke test (the cross-built agent against
#                                          this machine's mosquitto: online, a cross-built plugin
#                                          installed, ping and a plugin command answered), and a
#                                          plugin built outside the tree with the SDK's
#                                          toolchain file; then the .deb for <arch>, checked
#                                          as test_deb_package checks the native one
#   scripts/cross.sh arm64|armhf --full    also the whole integration suite under qemu (slow;
#                                          timing-tight tests may fail under emulation: not CI)
#   scripts/cross.sh arm64|armhf --build   only what compiles: the packages, the build, its
#                                          checks and the outside plugins (scripts/test.sh runs
#                                          it at low priority beside the native suite)
#   scripts/cross.sh arm64|armhf --test    only what runs, on what --build built: the tests
#                                          under qemu and the package
#
# LUCID_BUILD_DIR overrides the build directory; LUCID_JOBS the parallel jobs (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/cross.sh arm64|armhf [--full|--build|--test]" >&2; }
case "${1:-}" in
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
    # elf_machine: the e_machine of its binaries (EM_AARCH64, EM_ARM).
    arm64) arch=arm64 triplet=aarch64-linux-gnu qemu=qemu-aarch64 tag=linux_aarch64 elf_machine=183 ;;
    armhf) arch=armhf triplet=arm-linux-gnueabihf qemu=qemu-arm tag=linux_armv7l elf_machine=40 ;;
    "") usage; exit 2 ;;
    *) echo "cross.sh: unknown architecture '$1' (arm64 or armhf)" >&2; usage; exit 2 ;;
esac
full=no
build=yes
test=yes
case "${2:-}" in
    "") ;;
    --full) full=yes ;;
    --build) test=no ;;
    --test) build=no ;;
    *) echo "cross.sh: unknown option '$2'" >&2; usage; exit 2 ;;
esac
if [ "$#" -gt 2 ]; then
    echo "cross.sh: one option at most, got: ${*:2}" >&2
    usage
    exit 2
fi
build_dir=${LUCID_BUILD_DIR:-build-cross-$arch}
jobs=${LUCID_JOBS:-$(nproc)}
toolchain=$PWD/plugin-api/cmake/toolchains/$triplet.cmake

part_started=$SECONDS
part_done() {
    echo "cross.sh: $1 took $((SECONDS - part_started))s"
    part_started=$SECONDS
}

if [ "$build" = yes ]; then
    # 1. Packages. Multiarch: the target's -dev packages install beside this machine's own (same
    # versions, lib/<triplet>); Debian's archive serves every architecture, so only Debian's
    # repositories are needed. setup.sh installs what is missing (and the native set: cmake,
    # mosquitto for the smoke test) and runs apt-get update first.
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        echo "cross.sh: adding the dpkg architecture $arch"
        sudo_cmd=()
        [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
        "${sudo_cmd[@]}" dpkg --add-architecture "$arch"
    fi
    scripts/setup.sh "g++-$triplet" qemu-user \
        "libmosquitto-dev:$arch" "libspdlog-dev:$arch" "libcurl4-openssl-dev:$arch" \
        "libssl-dev:$arch"
    part_done "packages"

    # 2. The build: Release, no sanitizers (their runtimes are not for qemu-user), warnings are
    # errors as in CI. The tests are built too: they run under qemu below.
    # CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack (step 5) installs what was built below rather than
    # first building `all`, every integration test included.
    cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
        -DLUCID_WERROR=ON -DLUCID_SANITIZE=OFF -DLUCID_BUILD_TESTS=ON \
        -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
    targets=(lucid-agent lucidctl lucid-plugin-runner lucid_plugin_cpu lucid_plugin_echo
        lucid_tests_unit test_device_smoke lucid_debian_changelog)
    [ "$full" = yes ] && targets=(all)
    cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}"
    part_done "the $arch build (Release)"

    # Every artifact carries the target's platform tag, and every program is the target's.
    for so in "$build_dir"/plugins/*/*.so; do
        case "$so" in
            *-"$tag".so) ;;
            *) echo "cross.sh: $so does not carry the platform tag $tag" >&2; exit 1 ;;
        esac
    done
    for bin in "$build_dir/host/lucid-agent" "$build_dir/lucidctl/lucidctl" \
        "$build_dir/host/lucid-plugin-runner" "$build_dir"/plugins/*/*.so; do
        # e_machine: 2 bytes at offset 18 of the ELF header.
        machine=$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')
        [ "$machine" = "$elf_machine" ] ||
            { echo "cross.sh: $bin is for ELF machine $machine, not $elf_machine" >&2; exit 1; }
        file -L "$bin"
    done

    # 3. A plugin author's project built with the installed SDK and its toolchain file (the
    # README's two commands), and once natively: a real plugin of another architecture for the
    # cross-built agent to refuse.
    outside() {
        cmake -DLUCID_BUILD_DIR="$PWD/$build_dir" -DLUCID_WORK_DIR="$PWD/$build_dir/$1" \
            -DLUCID_PROJECT_DIR="$PWD/tests/abi/outside-project" \
            -DLUCID_GENERATOR="Unix Makefiles" \
            "${@:2}" -P tests/abi/outside_project_test.cmake
    }
    outside outside-cross -DLUCID_TOOLCHAIN="$triplet.cmake" -DLUCID_PLATFORM_TAG="$tag" \
        -DLUCID_ELF_MACHINE="$elf_machine"
    outside outside-native -DLUCID_PLATFORM_TAG="linux_$(uname -m)"
    part_done "an outside plugin built with the SDK's toolchain file for $tag (and natively)"
fi

if [ "$test" = yes ]; then
    if [ ! -x "$build_dir/host/lucid-agent" ]; then
        again="scripts/cross.sh $arch --build"
        [ -n "${LUCID_BUILD_DIR:-}" ] && again="LUCID_BUILD_DIR=$LUCID_BUILD_DIR $again"
        echo "cross.sh: nothing built in $build_dir: run $again first" >&2
        exit 1
    fi
    # 4. Under qemu-user: ctest runs each test with CMAKE_CROSSCOMPILING_EMULATOR (the toolchain
    # file), and the harness starts lucid-agent and lucidctl under LUCID_TEST_EMULATOR.
    export LUCID_TEST_EMULATOR
    LUCID_TEST_EMULATOR=$(command -v "$qemu")
    # test_runner_containment checks what the kernel enforces in the runner's child, and qemu-user
    # emulates neither seccomp (the child says "seccomp: unavailable", ENOSYS) nor RLIMIT_AS (qemu
    # keeps it for itself: its own mappings would fail); the runner handles both, the test cannot
    # see them. It runs in the native suite.
    ctest --test-dir "$build_dir" --output-on-failure --timeout 600 -j"$jobs" -L unit \
        -E '^test_runner_containment$'
    part_done "the unit tests under $qemu"
    LUCID_TEST_FOREIGN_PLUGIN=$(echo "$PWD/$build_dir"/outside-native/build/outside_hello-*.so) \
        LUCID_TEST_FOREIGN_ARCH=$(uname -m) \
        ctest --test-dir "$build_dir" --output-on-failure --timeout 600 -R '^test_device_smoke$'
    part_done "the device smoke test under $qemu"

    # 5. The .deb for the device (CPack): Architecture, lintian, contents, the extracted binaries
    # run under qemu, the maintainer scripts (tests/packaging/test_deb_package.sh, as natively).
    # The package it checked is kept in the build directory, for the device.
    LUCID_DEB_KEEP_DIR="$PWD/$build_dir" \
        bash tests/packaging/test_deb_package.sh "$build_dir" "$arch" "$LUCID_TEST_EMULATOR"
    part_done "the $arch package"
fi

if [ "$full" = yes ]; then
    ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j"$jobs" -L integration
    part_done "the integration suite under $qemu"
fi
echo "cross.sh: $arch OK ($build_dir)"
