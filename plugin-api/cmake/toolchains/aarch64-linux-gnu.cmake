# Cross-compiling for 64-bit ARM Linux (Debian arm64: Raspberry Pi 3/4/5 with a 64-bit OS) with
# Debian's cross toolchain. Needs:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install g++-aarch64-linux-gnu   (+ libfoo-dev:arm64 for what your plugin links)
# A plugin author, with the lucid SDK installed in <sdk>:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=<sdk>/share/lucid/toolchains/aarch64-linux-gnu.cmake -DCMAKE_PREFIX_PATH=<sdk>
#   cmake --build build-arm64        # -> my_plugin-1.0.0-linux_aarch64.so
set(lucid_cross_triplet aarch64-linux-gnu)
set(lucid_cross_processor aarch64)
set(lucid_cross_qemu qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/lucid-cross.cmake)
