# Warnings and sanitizers are attached per target, never through global flags, so that a
# consumer of the SDK (or a third-party dependency) is not built with our choices.
#
#   lucid_target_defaults(<target>)
#
# - -Wall -Wextra (+ -Werror when LUCID_WERROR is ON)
# - -fsanitize=address,undefined when LUCID_SANITIZE is ON (compile and link)
# - -fsanitize=thread when LUCID_TSAN is ON (scripts/tsan.sh; not together with LUCID_SANITIZE)
# - hidden visibility, so shared objects export only what they mean to
function(lucid_target_defaults target)
    get_target_property(type ${target} TYPE)
    set(scope PRIVATE)
    if(type STREQUAL "INTERFACE_LIBRARY")
        set(scope INTERFACE)
    endif()
    target_compile_options(${target} ${scope}
        -Wall -Wextra -Wshadow -Wpedantic $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>
        $<$<BOOL:${LUCID_WERROR}>:-Werror>)
    if(LUCID_SANITIZE)
        target_compile_options(${target} ${scope}
            -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
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
endfunction()
