# The Debian package (cpack -G DEB), built by contrib/scripts/package.sh from
# a build tree configured with -DDUNDID_DEB=ON -DCMAKE_INSTALL_PREFIX=/usr.
# Why CPack and not a debian/ folder: see README.md, "Installing the package".
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "DUNDID_DEB needs -DCMAKE_INSTALL_PREFIX=/usr (the configuration then goes to /etc)")
endif()
set(DUNDID_DEB_VERSION "${PROJECT_VERSION}-1" CACHE STRING "Debian version of the package")
set(DUNDID_DEB_MAINTAINER "dundid maintainers <maintainers@users.noreply.h-seed-61554805.example>"
    CACHE STRING "Maintainer field of the package")
set(deb_dir ${CMAKE_CURRENT_LIST_DIR})
set(deb_out ${CMAKE_BINARY_DIR}/deb)
file(MAKE_DIRECTORY ${deb_out})

# Debian wants man pages and changelogs gzipped, without a timestamp (-n).
set(deb_gz)
foreach(page dundid.8 dundid-keygen.8 dundictl.8 dundiq.1 dundid.conf.5)
  add_custom_command(OUTPUT ${deb_out}/${page}.gz
                     COMMAND sh -c "gzip -9n -c \"$1\" > \"$2\"" sh ${PROJECT_SOURCE_DIR}/man/${page} ${deb_out}/${page}.gz
                     DEPENDS ${PROJECT_SOURCE_DIR}/man/${page} VERBATIM)
  string(REGEX REPLACE ".*\\." "" section ${page})
  install(FILES ${deb_out}/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  list(APPEND deb_gz ${deb_out}/${page}.gz)
endforeach()
string(TIMESTAMP deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(READ ${deb_dir}/changelog.in deb_changelog)
string(REPLACE "@VERSION@" "${DUNDID_DEB_VERSION}" deb_changelog "${deb_changelog}")
string(REPLACE "@MAINTAINER@" "${DUNDID_DEB_MAINTAINER}" deb_changelog "${deb_changelog}")
string(REPLACE "@DATE@" "${deb_date}" deb_changelog "${deb_changelog}")
file(WRITE ${deb_out}/changelog.Debian "${deb_changelog}")
add_custom_command(OUTPUT ${deb_out}/changelog.Debian.gz
                   COMMAND gzip -9n -f -k ${deb_out}/changelog.Debian
                   DEPENDS ${deb_dir}/changelog.in)
list(APPEND deb_gz ${deb_out}/changelog.Debian.gz)
add_custom_target(deb_docs ALL DEPENDS ${deb_gz})
install(FILES ${deb_out}/changelog.Debian.gz ${deb_dir}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Stripped as dh_strip does (cpack's strip keeps the .comment section).
install(CODE [[
  foreach(bin sbin/dundid bin/dundiq bin/dundictl bin/dundid-keygen)
    execute_process(COMMAND strip --remove-section=.comment --remove-section=.note --strip-unneeded
                            "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${bin}" RESULT_VARIABLE rc)
    if(rc)
      message(FATAL_ERROR "strip ${bin} failed")
    endif()
  endforeach()
]])
# The lintian tags left, each with its reason.
install(FILES ${deb_dir}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME dundid)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dundid)
set(CPACK_PACKAGE_VERSION ${DUNDID_DEB_VERSION})
set(CPACK_DEBIAN_PACKAGE_VERSION ${DUNDID_DEB_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGE_CONTACT "${DUNDID_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DUNDID_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "DUNDi lookup server for Asterisk clusters")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "dundid answers DUNDi lookups (UDP port 4520, wire-compatible with
Asterisk's pbx_dundi, encrypted or not) from static routes, from a
registration table filled by SIP REGISTER snooping (libpcap or HEP) and
the Asterisk RealTime database, and by forwarding to its peers.
.
The package has the daemon and its systemd unit, dundiq (a dig-like
query client), dundictl (the control tool, for root and the dundid
group) and dundid-keygen.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${deb_dir}/postinst ${deb_dir}/prerm ${deb_dir}/postrm ${deb_dir}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR})
# package.sh builds the installed targets only; cpack must not build the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
include(CPack)
