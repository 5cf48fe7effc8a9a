# Cross-compiling for 32-bit ARM Linux with hardware floating point (Debian armhf: ARMv7,
# Raspberry Pi 2/3/4 with a 32-bit OS) with Debian's cross toolchain. Needs:
#   dpkg --add-architecture armhf && apt-get update
#   apt-get install g++-arm-linux-gnueabihf   (+ libfoo-dev:armhf for what your plugin links)
# A plugin author, with the lucid SDK installed in <sdk>:
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=<sdk>/share/lucid/toolchains/arm-linux-gnueabihf.cmake -DCMAKE_PREFIX_PATH=<sdk>
#   cmake --build build-armhf        # -> my_plugin-1.0.0-linux_armv7l.so
set(lucid_cross_triplet arm-linux-gnueabihf)
# armv7l, as `uname -m` says on such a board: the platform tag linux_armv7l.
set(lucid_cross_processor armv7l)
set(lucid_cross_qemu qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/lucid-cross.cmake)
