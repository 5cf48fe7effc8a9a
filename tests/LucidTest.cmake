# One-line helpers for tests.
#
#   lucid_add_test(<name> SOURCES a.cpp b.cpp LIBS lucid::registry [LABELS unit])
#
# builds a doctest executable (doctest_main.cpp supplies main) and registers it with ctest.
# The test runs with LUCID_FIXTURES pointing at tests/fixtures/.
set(LUCID_TEST_FIXTURES ${CMAKE_CURRENT_LIST_DIR}/fixtures)
set(LUCID_TEST_SUPPORT ${CMAKE_CURRENT_LIST_DIR}/support)
add_library(lucid_doctest_main STATIC ${CMAKE_CURRENT_LIST_DIR}/doctest_main.cpp)
target_link_libraries(lucid_doctest_main PUBLIC doctest::doctest)
lucid_target_defaults(lucid_doctest_main)

# With -j2, ctest starts the tests of highest COST first. A clean clone (CI) has no cost data of
# earlier runs (Testing/Temporary/CTestCostData.txt), and in file order the longest tests started
# late and ran alone at the end. The durations of the longest, in seconds, measured in the ASan
# build on 2 cores (test_deb_package sets its own, tests/packaging/CMakeLists.txt):
set(LUCID_TEST_COSTS
    test_agent_telemetry 31 test_components_plugin_telemetry 22 test_agent_self_update 21
    test_faults_kill_loop 19 test_agent_bad_input 17 test_components_isolation_messages 16
    test_lucidctl_agent_state 16 test_lucidctl_signing 15 test_agent_logs 15
    test_components_isolation 14 test_fleet_rollout 13 test_lucidctl_install 13)

function(lucid_add_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE lucid_doctest_main ${ARG_LIBS})
    # The header-only helpers of tests/support/ (temp_dir.hpp) for every kind of test; the rest
    # of that folder is the lucid::testkit library (integration tests and the bench link it).
    target_include_directories(${name} PRIVATE ${LUCID_TEST_SUPPORT})
    target_compile_definitions(${name} PRIVATE LUCID_FIXTURES="${LUCID_TEST_FIXTURES}")
    # An integration test drives processes (the agent, lucidctl, plugins), which carry the
    # sanitizers; its own code is the harness (LucidTargetDefaults.cmake).
    if("integration" IN_LIST ARG_LABELS)
        lucid_target_defaults(${name} HARNESS)
    else()
        lucid_target_defaults(${name})
    endif()
    # No link-time optimisation for a test: it links the libraries' machine code (fat LTO
    # objects, LucidTargetDefaults.cmake) instead of compiling them all again at its link.
    set_target_properties(${name} PROPERTIES INTERPROCEDURAL_OPTIMIZATION OFF)
    # A Release build (scripts/cross.sh) optimises the code under test, not the test's own: at
    # -O0 a test compiles in a third of the time of -O2, and the unit tests still take seconds
    # under qemu.
    target_compile_options(${name} PRIVATE $<$<CONFIG:Release>:-O0>)
    add_test(NAME ${name} COMMAND ${name})
    list(FIND LUCID_TEST_COSTS ${name} at)
    if(at GREATER_EQUAL 0)
        math(EXPR at "${at} + 1")
        list(GET LUCID_TEST_COSTS ${at} cost)
        set_tests_properties(${name} PROPERTIES COST ${cost})
    endif()
    if(ARG_LABELS)
        set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
    # lucid_tests_<label> (tests/CMakeLists.txt) builds one label's tests and nothing else:
    # scripts/cross.sh builds the unit tests without the rest of the suite.
    foreach(label ${ARG_LABELS})
        set_property(GLOBAL APPEND PROPERTY LUCID_TESTS_${label} ${name})
    endforeach()
endfunction()
