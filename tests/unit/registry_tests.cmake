# Registry tests, one line each (included from tests/unit/CMakeLists.txt).
foreach(name names atomic_file store migration core_config concurrency file_modes data_dir_lock)
    lucid_add_test(test_registry_${name}
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_registry_${name}.cpp
        LIBS lucid::registry LABELS unit)
endforeach()
