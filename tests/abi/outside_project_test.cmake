# ctest script: install the SDK (component "sdk") into a temp prefix inside the build dir,
# then build outside-project/ against it the way a third-party plugin author would.
#   -DLUCID_BUILD_DIR -DLUCID_WORK_DIR -DLUCID_PROJECT_DIR -DLUCID_GENERATOR
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
foreach(installed include/lucid/plugin.h include/lucid/plugin.hpp)
    if(NOT EXISTS ${prefix}/${installed})
        message(FATAL_ERROR "the SDK install lacks ${installed}")
    endif()
endforeach()
run(${CMAKE_COMMAND} -S ${LUCID_PROJECT_DIR} -B ${build} -G ${LUCID_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${build})
file(GLOB artifact ${build}/outside_hello-0.1.0-linux_*.so)
if(NOT artifact)
    message(FATAL_ERROR "outside project did not produce outside_hello-0.1.0-linux_<arch>.so")
endif()
message(STATUS "built ${artifact} against the SDK installed in ${prefix}")
