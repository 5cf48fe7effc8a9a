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

function(lucid_add_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE lucid_doctest_main ${ARG_LIBS})
    # The header-only helpers of tests/support/ (temp_dir.hpp) for every kind of test; the rest
    # of that folder is the lucid::testkit library (integration tests and the bench link it).
    target_include_directories(${name} PRIVATE ${LUCID_TEST_SUPPORT})
    target_compile_definitions(${name} PRIVATE LUCID_FIXTURES="${LUCID_TEST_FIXTURES}")
    lucid_target_defaults(${name})
    add_test(NAME ${name} COMMAND ${name})
    if(ARG_LABELS)
        set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
    # lucid_tests_<label> (tests/CMakeLists.txt) builds one label's tests and nothing else:
    # scripts/cross.sh builds the unit tests without the rest of the suite.
    foreach(label ${ARG_LABELS})
        set_property(GLOBAL APPEND PROPERTY LUCID_TESTS_${label} ${name})
    endforeach()
endfunction()
