# The .deb: what goes in beside the binaries, and how CPack builds it. The unit and the example
# settings are the texts `lucid-agent install-service` writes (test_host_service_package keeps
# them equal), so a packaged device and a hand-installed one run the same service.
set(lucid_debian_dir ${PROJECT_SOURCE_DIR}/host/packaging/debian)

# /usr/lib/systemd/system: systemd's own search path, and where trixie wants units (bookworm
# also reads it through the merged /usr).
install(FILES ${PROJECT_SOURCE_DIR}/host/packaging/lucid-agent.service
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/host/packaging/agent.env
              ${PROJECT_SOURCE_DIR}/host/packaging/mosquitto-acl.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/SECURITY.md
              ${lucid_debian_dir}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Debian's changelog is installed compressed with gzip -9n (no name, no time stamp: the same
# bytes on every build).
set(lucid_changelog_gz ${PROJECT_BINARY_DIR}/changelog.Debian.gz)
add_custom_command(OUTPUT ${lucid_changelog_gz}
    COMMAND gzip -9nc ${lucid_debian_dir}/changelog > ${lucid_changelog_gz}
    DEPENDS ${lucid_debian_dir}/changelog VERBATIM)
add_custom_target(lucid_debian_changelog ALL DEPENDS ${lucid_changelog_gz})
install(FILES ${lucid_changelog_gz} DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lucid-agent)
set(CPACK_PACKAGE_CONTACT "lucid agent maintainers <lucid@example.invalid>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl is dlopened while a download runs (host/install/curl_library.hpp), so dpkg-shlibdeps,
# which reads NEEDED entries, no longer finds it: named here, merged with what it finds.
# 7.85: CURLOPT_PROTOCOLS_STR.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.85.0)")
# The architecture the binaries are for, not the machine that builds them: a cross-build
# (scripts/cross.sh) asks dpkg-architecture which Debian architecture its GNU triplet is
# (aarch64-linux-gnu: arm64, arm-linux-gnueabihf: armhf). dpkg-shlibdeps then needs the same
# answer to read the binaries and find the target's libraries: cpack runs with DEB_HOST_ARCH set
# (scripts/cross.sh, tests/packaging/test_deb_package.sh).
if(CMAKE_CROSSCOMPILING)
    execute_process(
        COMMAND dpkg-architecture -t${CMAKE_LIBRARY_ARCHITECTURE} -qDEB_HOST_ARCH
        OUTPUT_VARIABLE lucid_debian_arch OUTPUT_STRIP_TRAILING_WHITESPACE
        ERROR_QUIET RESULT_VARIABLE lucid_debian_arch_failed)
    if(lucid_debian_arch_failed OR NOT lucid_debian_arch)
        message(FATAL_ERROR "dpkg-architecture knows no Debian architecture for "
                            "'${CMAKE_LIBRARY_ARCHITECTURE}' (install dpkg-dev)")
    endif()
else()
    execute_process(COMMAND dpkg --print-architecture
        OUTPUT_VARIABLE lucid_debian_arch OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${lucid_debian_arch})
set(LUCID_DEBIAN_ARCH ${lucid_debian_arch} CACHE INTERNAL "the .deb's Debian architecture")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Debian revision 1: a package of an upstream release (lintian wants changelog.Debian.gz only of
# such; a native version would need changelog.gz). The binaries say the upstream version.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# The synopsis is PROJECT_DESCRIPTION; lintian refuses a package without this extended part.
set(CPACK_PACKAGE_DESCRIPTION [=[lucid-agent owns a device's single MQTT connection, publishes its
state as retained snapshots with a Last Will, answers commands, and hosts
plugins (versioned shared objects behind a small C ABI) that it installs,
upgrades with rollback, isolates in child processes and restarts. lucidctl
drives agents, one or a fleet, through the broker.]=])
# Debug symbols stay in the build tree: a device gets the 41 MB agent as a few MB.
set(CPACK_STRIP_FILES ON)
# postinst creates /etc/lucid/agent.env and starts the service, prerm stops it on remove,
# postrm forgets the unit (and on purge the settings).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${lucid_debian_dir}/postinst ${lucid_debian_dir}/prerm ${lucid_debian_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
