# lucid_add_plugin(): builds a lucid plugin as a versioned artifact (contract §2.2).
#
#   lucid_add_plugin(<target> DIST <dist> VERSION <version> COMPONENT <component_id>
#                    SOURCES a.cpp ... [LIBS <extra targets>])
#
# - a MODULE library named <dist with '-'/'.' as '_'>-<version>-<platform tag>.so, e.g.
#   lucid_agent_cpu-1.0.0-linux_x86_64.so ('_' in the dist name keeps the first '-' as the
#   separator before the version; the platform tag comes from CMAKE_SYSTEM_PROCESSOR, which a
#   cross toolchain file sets: linux_aarch64, linux_armv7l);
# - hidden visibility and (g++) -fno-gnu-unique, because dlclose() cannot unmap a library that
#   defines STB_GNU_UNIQUE symbols; only lucid_plugin_entry is exported;
# - linked to lucid::plugin_api only (plus LIBS); plugins never link the host or a logger;
# - LUCID_PLUGIN_DIST / LUCID_PLUGIN_VERSION / LUCID_PLUGIN_COMPONENT compile definitions, so
#   LUCID_PLUGIN(MyClass) embeds the same names in the manifest without repeating them.
# The artifact's file name is in the target property LUCID_ARTIFACT_NAME.
#
# This file is included both by the lucid source tree (before lucid::plugin_api exists) and by
# the installed SDK's package config: it only defines functions and has no side effects.
include_guard(GLOBAL)

function(lucid_plugin_platform_tag out_var)
    string(TOLOWER "${CMAKE_SYSTEM_NAME}" os)
    string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" arch)
    if(arch STREQUAL "amd64")
        set(arch x86_64)
    elseif(arch STREQUAL "arm64")
        set(arch aarch64)
    elseif(arch MATCHES "^(arm|armhf|armv7|armv7-a)$")
        # 32-bit ARM (Debian armhf) is armv7l, as `uname -m` says on the device and as the
        # agent names an EM_ARM plugin.
        set(arch armv7l)
    endif()
    string(REGEX REPLACE "[^a-z0-9_]" "_" tag "${os}_${arch}")
    set(${out_var} "${tag}" PARENT_SCOPE)
endfunction()

function(lucid_add_plugin target)
    cmake_parse_arguments(ARG "" "DIST;VERSION;COMPONENT" "SOURCES;LIBS" ${ARGN})
    foreach(required DIST VERSION COMPONENT SOURCES)
        if(NOT ARG_${required})
            message(FATAL_ERROR "lucid_add_plugin(${target}): ${required} is required")
        endif()
    endforeach()
    if(NOT ARG_COMPONENT MATCHES "^[a-z0-9][a-z0-9_-]*$")
        message(FATAL_ERROR "lucid_add_plugin(${target}): COMPONENT '${ARG_COMPONENT}' is invalid; allowed: [a-z0-9][a-z0-9_-]{0,63}")
    endif()
    string(REGEX REPLACE "[-_.]+" "_" file_dist "${ARG_DIST}")
    lucid_plugin_platform_tag(tag)
    set(artifact "${file_dist}-${ARG_VERSION}-${tag}")

    add_library(${target} MODULE ${ARG_SOURCES})
    target_link_libraries(${target} PRIVATE lucid::plugin_api ${ARG_LIBS})
    target_compile_definitions(${target} PRIVATE
        LUCID_PLUGIN_DIST="${ARG_DIST}"
        LUCID_PLUGIN_VERSION="${ARG_VERSION}"
        LUCID_PLUGIN_COMPONENT="${ARG_COMPONENT}")
    set_target_properties(${target} PROPERTIES
        PREFIX ""
        OUTPUT_NAME "${artifact}"
        SUFFIX ".so"
        LUCID_ARTIFACT_NAME "${artifact}.so"
        C_VISIBILITY_PRESET hidden
        CXX_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON)
    # g++ turns static data of inline functions/templates used from headers (e.g. the digit
    # table behind std::to_string) into STB_GNU_UNIQUE symbols, and glibc then never unmaps the
    # library: an upgrade would need an agent restart. Plain weak symbols are fine with
    # RTLD_LOCAL.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
    # Inside the lucid tree the project's warnings/sanitizers apply; the installed SDK has none.
    if(COMMAND lucid_target_defaults)
        lucid_target_defaults(${target})
    endif()
endfunction()
