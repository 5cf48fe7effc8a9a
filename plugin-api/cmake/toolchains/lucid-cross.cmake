# Shared by the per-target toolchain files beside it (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake): they set lucid_cross_triplet, lucid_cross_processor and
# lucid_cross_qemu, then include this file.
#
# Debian's cross toolchains (g++-<triplet>) and multiarch -dev packages (libfoo-dev:<arch>)
# install the target's libraries in /usr/lib/<triplet> and its headers in /usr/include and
# /usr/include/<triplet>, beside the build machine's own: nothing to unpack, no sysroot.
set(CMAKE_SYSTEM_NAME Linux)
# CMAKE_SYSTEM_PROCESSOR names the platform tag of the plugins built with it (linux_aarch64,
# linux_armv7l: lucid_plugin_platform_tag() in LucidPlugin.cmake).
set(CMAKE_SYSTEM_PROCESSOR ${lucid_cross_processor})
set(CMAKE_C_COMPILER ${lucid_cross_triplet}-gcc)
set(CMAKE_CXX_COMPILER ${lucid_cross_triplet}-g++)
# find_package and find_library look in lib/<triplet> (the target's) and never in the build
# machine's lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${lucid_cross_triplet})
# pkg-config reads the target's .pc files only: the build machine's would hand over its own
# library paths.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${lucid_cross_triplet}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Built programs (ctest, try_run) run under qemu-user when it is installed (no binfmt needed).
# Without -L: the target's dynamic loader and libc come from the multiarch libc6:<arch> that
# the -dev packages pull in, one glibc build; Debian's libc6-<arch>-cross under
# /usr/<triplet> can be another point release, and a loader of one with the libc of the other
# fails.
find_program(lucid_cross_emulator ${lucid_cross_qemu})
if(lucid_cross_emulator)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${lucid_cross_emulator})
endif()
