# A static library made of one source folder, whose consumers see that folder's headers and no
# other:
#
#   lucid_folder_library(<target> <alias> <dir> SOURCES <file.cpp>... LINKS <target>...)
#
# Headers are included by folder name ("mqtt/mqtt_session.hpp"). The include root,
# <build>/include/<target>/, holds only a link <name of dir> -> <dir>, so a folder that includes
# a header of a folder it does not link (an upward include) fails to compile. Links are PUBLIC:
# a folder may include what the folders below it include.
function(lucid_folder_library target alias dir)
    cmake_parse_arguments(ARG "" "" "SOURCES;LINKS" ${ARGN})
    list(TRANSFORM ARG_SOURCES PREPEND ${dir}/)
    add_library(${target} STATIC ${ARG_SOURCES})
    add_library(${alias} ALIAS ${target})
    get_filename_component(name ${dir} NAME)
    set(root ${PROJECT_BINARY_DIR}/include/${target})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${dir} ${root}/${name} SYMBOLIC)
    target_include_directories(${target} PUBLIC ${root})
    target_link_libraries(${target} PUBLIC ${ARG_LINKS})
    lucid_target_defaults(${target})
endfunction()
