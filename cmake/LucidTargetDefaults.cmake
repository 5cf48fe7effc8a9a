# Warnings and sanitizers are attached per target, never through global flags, so that a
# consumer of the SDK (or a third-party dependency) is not built with our choices.
#
#   lucid_target_defaults(<target> [HARNESS])
#
# - -Wall -Wextra (+ -Werror when LUCID_WERROR is ON)
# - -fsanitize=address,undefined when LUCID_SANITIZE is ON (compile and link). HARNESS (the
#   integration test programs, which only drive the agent, lucidctl and plugins as processes):
#   linked with the sanitizers, for the instrumented libraries they link, but their own code
#   compiled without them: the instrumentation doubles an -O0 compile, and these 80 programs
#   were two thirds of CI's ASan build while the code under test runs in the other processes.
#   Not for TSan: synchronisation in uninstrumented code (an atomic flag between two test
#   threads) is invisible to it and would show races that are not there
# - -fsanitize=thread when LUCID_TSAN is ON (scripts/tsan.sh; not together with LUCID_SANITIZE)
# - hidden visibility, so shared objects export only what they mean to
# - Release programs (and the static libraries they link): each function and object in its own
#   section, the unused ones dropped at link (--gc-sections), and link-time optimisation when
#   LUCID_LTO is ON and the toolchain can (issue 21: the agent's text is most of its private
#   memory; BENCHMARKS.md, the profile). Not plugins: their manifest section is read from the
#   file, never referenced by code, and must not be collected.
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND LUCID_LTO)
    include(CheckIPOSupported)
    check_ipo_supported(RESULT lucid_ipo_supported OUTPUT lucid_ipo_output LANGUAGES C CXX)
    if(NOT lucid_ipo_supported)
        message(STATUS "lucid: no link-time optimisation with this toolchain: ${lucid_ipo_output}")
    endif()
    # Fat LTO objects: the static libraries carry machine code beside the LTO bytecode, so the
    # test programs (lucid_add_test: no LTO) link them as they are instead of generating the code
    # of every library they use again at each link; the shipped programs' LTO link reads the
    # bytecode. With thin objects the unit tests' links cost as much CPU as the programs' build.
    foreach(lang C CXX)
        if(CMAKE_${lang}_COMPILER_ID STREQUAL "GNU")
            set(CMAKE_${lang}_COMPILE_OPTIONS_IPO -flto=auto -ffat-lto-objects)
        endif()
    endforeach()
endif()
function(lucid_target_defaults target)
    cmake_parse_arguments(ARG "HARNESS" "" "" ${ARGN})
    get_target_property(type ${target} TYPE)
    set(scope PRIVATE)
    if(type STREQUAL "INTERFACE_LIBRARY")
        set(scope INTERFACE)
    endif()
    target_compile_options(${target} ${scope}
        -Wall -Wextra -Wshadow -Wpedantic $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>
        $<$<BOOL:${LUCID_WERROR}>:-Werror>)
    if(LUCID_SANITIZE AND NOT ARG_HARNESS)
        target_compile_options(${target} ${scope}
            -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    endif()
    if(LUCID_SANITIZE)
        target_link_options(${target} ${scope} -fsanitize=address,undefined)
    endif()
    if(LUCID_TSAN)
        target_compile_options(${target} ${scope} -fsanitize=thread -fno-omit-frame-pointer)
        target_link_options(${target} ${scope} -fsanitize=thread)
    endif()
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
        set_target_properties(${target} PROPERTIES
            C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
    endif()
    if(CMAKE_BUILD_TYPE STREQUAL "Release" AND
       (type STREQUAL "EXECUTABLE" OR type STREQUAL "STATIC_LIBRARY" OR
        type STREQUAL "OBJECT_LIBRARY"))
        target_compile_options(${target} PRIVATE -ffunction-sections -fdata-sections)
        if(type STREQUAL "EXECUTABLE")
            target_link_options(${target} PRIVATE LINKER:--gc-sections)
        endif()
        if(LUCID_LTO AND lucid_ipo_supported)
            set_target_properties(${target} PROPERTIES INTERPROCEDURAL_OPTIMIZATION ON)
        endif()
    endif()
endfunction()
