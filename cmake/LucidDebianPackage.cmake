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
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Debug symbols stay in the build tree: a device gets the 41 MB agent as a few MB.
set(CPACK_STRIP_FILES ON)
# postinst creates /etc/lucid/agent.env and starts the service, prerm stops it on remove,
# postrm forgets the unit (and on purge the settings).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${lucid_debian_dir}/postinst ${lucid_debian_dir}/prerm ${lucid_debian_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
