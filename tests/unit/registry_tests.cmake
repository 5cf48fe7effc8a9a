# Registry tests, one line each (included from tests/unit/CMakeLists.txt).
foreach(name names atomic_file store migration concurrency file_modes data_dir_lock run_as)
    lucid_add_test(test_registry_${name}
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_registry_${name}.cpp
        LIBS lucid::registry LABELS unit)
endforeach()
# The runtime config store moved to host/agent/ (agent/core_config.hpp); the test kept its name.
lucid_add_test(test_registry_core_config
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_registry_core_config.cpp
    LIBS lucid::host::agent LABELS unit)
