# ctest script: install the SDK (component "sdk") into a temp prefix inside the build dir,
# then build outside-project/ against it the way a third-party plugin author would.
#   -DLUCID_BUILD_DIR -DLUCID_WORK_DIR -DLUCID_PROJECT_DIR -DLUCID_GENERATOR
#   [-DLUCID_CXX -DLUCID_CXX_ID]
# With LUCID_CXX (and no toolchain) it also builds the same plugin without CMake, by the
# command line plugins/README.md gives ("Without CMake"), and checks that it is a plugin.
# For a device (scripts/cross.sh): -DLUCID_TOOLCHAIN=aarch64-linux-gnu.cmake (one of the SDK's
# share/lucid/toolchains/) -DLUCID_PLATFORM_TAG=linux_aarch64 -DLUCID_ELF_MACHINE=183: the
# artifact must carry that tag and be an ELF file for that machine.
set(prefix ${LUCID_WORK_DIR}/prefix)
set(build ${LUCID_WORK_DIR}/build)
file(REMOVE_RECURSE ${LUCID_WORK_DIR})

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
    endif()
endfunction()

run(${CMAKE_COMMAND} --install ${LUCID_BUILD_DIR} --component sdk --prefix ${prefix})
foreach(installed include/lucid/plugin.h include/lucid/plugin.hpp
        share/lucid/toolchains/aarch64-linux-gnu.cmake
        share/lucid/toolchains/arm-linux-gnueabihf.cmake)
    if(NOT EXISTS ${prefix}/${installed})
        message(FATAL_ERROR "the SDK install lacks ${installed}")
    endif()
endforeach()
set(toolchain)
if(LUCID_TOOLCHAIN)
    set(toolchain -DCMAKE_TOOLCHAIN_FILE=${prefix}/share/lucid/toolchains/${LUCID_TOOLCHAIN})
endif()
# The plugin author's two commands (README "Devices").
run(${CMAKE_COMMAND} -S ${LUCID_PROJECT_DIR} -B ${build} -G ${LUCID_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release ${toolchain})
run(${CMAKE_COMMAND} --build ${build})
if(NOT LUCID_PLATFORM_TAG)
    set(LUCID_PLATFORM_TAG "linux_*")
endif()
file(GLOB artifact ${build}/outside_hello-0.1.0-${LUCID_PLATFORM_TAG}.so)
if(NOT artifact)
    message(FATAL_ERROR "outside project did not produce outside_hello-0.1.0-${LUCID_PLATFORM_TAG}.so")
endif()
if(LUCID_ELF_MACHINE)
    # e_machine: 2 bytes at offset 18, little-endian.
    file(READ ${artifact} machine_hex OFFSET 18 LIMIT 2 HEX)
    string(SUBSTRING "${machine_hex}" 2 2 high)
    string(SUBSTRING "${machine_hex}" 0 2 low)
    math(EXPR machine "0x${high}${low}")
    if(NOT machine EQUAL LUCID_ELF_MACHINE)
        message(FATAL_ERROR "${artifact} is for ELF machine ${machine}, not ${LUCID_ELF_MACHINE}")
    endif()
endif()
message(STATUS "built ${artifact} against the SDK installed in ${prefix}")

if(LUCID_CXX AND NOT LUCID_TOOLCHAIN)
    # plugins/README.md "Without CMake", word for word but for the paths.
    execute_process(COMMAND uname -m OUTPUT_VARIABLE machine OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(plain ${LUCID_WORK_DIR}/plain/outside_hello-0.1.0-linux_${machine}.so)
    file(MAKE_DIRECTORY ${LUCID_WORK_DIR}/plain)
    set(no_unique)
    if(LUCID_CXX_ID STREQUAL "GNU")
        set(no_unique -fno-gnu-unique)  # g++ only; clang makes no STB_GNU_UNIQUE symbols
    endif()
    run(${LUCID_CXX} -std=c++17 -O2 -fPIC -shared -fvisibility=hidden
        -fvisibility-inlines-hidden ${no_unique}
        "-DLUCID_PLUGIN_DIST=\"outside-hello\"" "-DLUCID_PLUGIN_VERSION=\"0.1.0\""
        "-DLUCID_PLUGIN_COMPONENT=\"hello\"" -I${prefix}/include
        ${LUCID_PROJECT_DIR}/hello.cpp -o ${plain})
    file(STRINGS ${plain} manifest REGEX "^(lucid-manifest=1|dist=outside-hello|component=hello)$")
    list(LENGTH manifest found)
    if(NOT found EQUAL 3)
        message(FATAL_ERROR "${plain} built without CMake has no manifest: ${manifest}")
    endif()
    file(STRINGS ${plain} entry REGEX "lucid_plugin_entry")
    if(NOT entry)
        message(FATAL_ERROR "${plain} built without CMake exports no lucid_plugin_entry")
    endif()
    message(STATUS "built ${plain} without CMake")
endif()
