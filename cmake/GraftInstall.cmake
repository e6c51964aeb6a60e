# GraftInstall.cmake: what `cmake --install` (and `make install`) puts in a prefix so
# another codebase can adopt graft without our source tree (docs/ADOPTING.md):
#
#   lib/libgraft.a                   static libgraft, the core (target graft): libc and
#                                    pthreads only
#   lib/libgraft.so.X.Y.Z            shared libgraft (target graft_shared), soname
#                                    libgraft.so.<SOVERSION>, exporting only graft_*
#                                    symbols (cmake/graft.map, pinned by abi/)
#   lib/libgraft-admin.a             the admin endpoint (target graft_admin, PIC): for
#                                    hosts that serve it; needs libmicrohttpd, libcjson
#   include/graft/*.h, graft.hpp     public C API, the FFI crate's header, C++ wrapper
#   lib/cmake/graft/                 find_package(graft CONFIG): imported targets
#                                    graft::graft, graft::graft_static,
#                                    graft::graft_shared, graft::graft_admin and
#                                    GraftRust.cmake (with GraftCrateHeaders.cmake)
#   lib/pkgconfig/graft.pc           for Make/autotools hosts (graft-static.pc: the
#                                    archive and its dependencies; graft-admin.pc: the
#                                    endpoint's archive and its dependencies)
#   share/graft/rust/graft-ffi/      the graft-ffi crate, standalone, for path deps
#   share/graft/cargo-config.toml    the cargo settings a consumer's workspace needs
#
# Included at the end of the top-level CMakeLists.txt, after src/ defined graft_obj.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(NOT TARGET graft_obj OR NOT TARGET graft OR NOT TARGET graft_admin)
  message(FATAL_ERROR "graft install: include after src/ defined graft_obj, graft and graft_admin")
endif()

# Pre-1.0 every minor version may break the ABI, so it is part of the soname.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(GRAFT_SOVERSION "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
else()
  set(GRAFT_SOVERSION "${PROJECT_VERSION_MAJOR}")
endif()
set(GRAFT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/graft")
set(GRAFT_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/graft")
set(GRAFT_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/graft.map")

# ------------------------------------------------------------------ shared library
add_library(graft_shared SHARED)
target_link_libraries(graft_shared PRIVATE graft_obj)
target_include_directories(graft_shared PUBLIC
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
set_target_properties(graft_shared PROPERTIES
  OUTPUT_NAME graft
  VERSION "${PROJECT_VERSION}"
  SOVERSION "${GRAFT_SOVERSION}"
  EXPORT_NAME graft_shared
  LINK_DEPENDS "${GRAFT_VERSION_SCRIPT}")
target_link_options(graft_shared PRIVATE "LINKER:--version-script=${GRAFT_VERSION_SCRIPT}")
if(NOT GRAFT_SANITIZE AND NOT GRAFT_FUZZ)
  # Every dependency recorded in the library itself (sanitizer runtimes are linked only
  # into executables, so the check is skipped there).
  target_link_options(graft_shared PRIVATE "LINKER:--no-undefined")
endif()
set_target_properties(graft PROPERTIES EXPORT_NAME graft_static)

# ------------------------------------------------------------------ link dependencies
# What a static link of a library needs after it: the plain libraries it declares
# (src/ links its Debian libraries by name), for pkg-config and the CMake package's
# find_dependency calls. `skip` names the targets of this tree it links (not flags).
function(_graft_link_flags out_flags out_deps skip)
  set(flags "")
  set(deps "")
  foreach(_t IN LISTS ARGN)
    get_target_property(_iface ${_t} INTERFACE_LINK_LIBRARIES)
    foreach(_lib IN LISTS _iface)
      if(NOT _lib OR _lib MATCHES "-NOTFOUND$")
        continue()
      endif()
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _lib "${_lib}")
      if(_lib IN_LIST skip)
        continue()
      elseif(_lib STREQUAL "Threads::Threads")
        set(_flag "-pthread")
        set(deps "find_dependency(Threads)")
      elseif(_lib MATCHES "::" OR _lib MATCHES "^\\$<")
        message(FATAL_ERROR "graft install: ${_t} links '${_lib}', which the installed "
                            "package cannot reproduce; link plain library names (see cmake/GraftInstall.cmake)")
      elseif(_lib MATCHES "^-" OR IS_ABSOLUTE "${_lib}")
        set(_flag "${_lib}")
      else()
        set(_flag "-l${_lib}")
      endif()
      if(NOT " ${flags} " MATCHES " ${_flag} ")
        string(APPEND flags " ${_flag}")
      endif()
    endforeach()
  endforeach()
  string(STRIP "${flags}" flags)
  set(${out_flags} "${flags}" PARENT_SCOPE)
  set(${out_deps} "${deps}" PARENT_SCOPE)
endfunction()
# The core: -pthread, nothing else (ctest core-deps checks the archive itself).
_graft_link_flags(GRAFT_PC_LIBS_PRIVATE GRAFT_CONFIG_DEPENDENCIES "graft_obj" graft graft_obj)
# The endpoint: libmicrohttpd, libcjson, libm (the core comes from graft.pc or
# graft-static.pc, which the host names beside graft-admin.pc).
_graft_link_flags(GRAFT_ADMIN_PC_LIBS _graft_admin_deps "graft;graft_obj" graft_admin)

# ------------------------------------------------------------------ install rules
set_target_properties(graft_admin PROPERTIES EXPORT_NAME graft_admin)
install(TARGETS graft graft_shared graft_admin EXPORT graftTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" NAMELINK_COMPONENT Development
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# The public headers, named one by one: include/graft/ may also hold headers of
# internal crates that are not part of the installed API.
install(FILES
  "${PROJECT_SOURCE_DIR}/include/graft/base.h"
  "${PROJECT_SOURCE_DIR}/include/graft/graft.h"
  "${PROJECT_SOURCE_DIR}/include/graft/admin.h"
  "${PROJECT_SOURCE_DIR}/include/graft/graft_ffi.h"
  "${PROJECT_SOURCE_DIR}/include/graft/graft.hpp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/graft")

install(EXPORT graftTargets NAMESPACE graft:: DESTINATION "${GRAFT_INSTALL_CMAKEDIR}")
set(GRAFT_INSTALL_RUSTDIR "${GRAFT_INSTALL_DATADIR}/rust")
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/graftConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/graftConfig.cmake"
  INSTALL_DESTINATION "${GRAFT_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR GRAFT_INSTALL_RUSTDIR)
# 0.x: only the same minor version is compatible (as the soname says).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_graft_compat SameMinorVersion)
else()
  set(_graft_compat SameMajorVersion)
endif()
write_basic_package_version_file("${PROJECT_BINARY_DIR}/graftConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY ${_graft_compat})
install(FILES
  "${PROJECT_BINARY_DIR}/graftConfig.cmake"
  "${PROJECT_BINARY_DIR}/graftConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/GraftRust.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/GraftCrateHeaders.cmake"
  DESTINATION "${GRAFT_INSTALL_CMAKEDIR}")

# pkg-config: relocatable, the prefix found from the .pc file's own directory.
file(RELATIVE_PATH GRAFT_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file("${CMAKE_CURRENT_LIST_DIR}/graft.pc.in" "${PROJECT_BINARY_DIR}/graft.pc" @ONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/graft-static.pc.in" "${PROJECT_BINARY_DIR}/graft-static.pc"
               @ONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/graft-admin.pc.in" "${PROJECT_BINARY_DIR}/graft-admin.pc"
               @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/graft.pc" "${PROJECT_BINARY_DIR}/graft-static.pc"
              "${PROJECT_BINARY_DIR}/graft-admin.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# ------------------------------------------------------------------ the Rust side
# graft-ffi as a standalone crate: its manifest with the workspace-inherited keys
# written out (it leaves our workspace), dev-dependencies dropped (they are for its own
# tests), and an empty [workspace] so it never joins the consumer's workspace.
function(_graft_standalone_manifest crate_dir out)
  file(STRINGS "${PROJECT_SOURCE_DIR}/Cargo.toml" ws_lines)
  set(in_ws_package FALSE)
  foreach(line IN LISTS ws_lines)
    if(line MATCHES "^\\[")
      set(in_ws_package FALSE)
      if(line MATCHES "^\\[workspace\\.package\\]")
        set(in_ws_package TRUE)
      endif()
    elseif(in_ws_package AND line MATCHES "^([a-z-]+) *= *(.+)$")
      set(_ws_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
    endif()
  endforeach()
  file(STRINGS "${crate_dir}/Cargo.toml" lines)
  set(text "# Installed by graft: the graft-ffi crate outside graft's workspace.\n")
  set(skip FALSE)
  foreach(line IN LISTS lines)
    if(line MATCHES "^\\[")
      set(skip FALSE)
      if(line MATCHES "^\\[(dev-dependencies|lints|workspace)")
        set(skip TRUE)
      endif()
    endif()
    if(skip)
      continue()
    endif()
    if(line MATCHES "^([a-z-]+)\\.workspace *= *true")
      set(key "${CMAKE_MATCH_1}")
      if(NOT DEFINED _ws_${key})
        message(FATAL_ERROR "graft install: ${crate_dir}/Cargo.toml inherits '${key}' "
                            "which [workspace.package] does not define")
      endif()
      set(line "${key} = ${_ws_${key}}")
    elseif(line MATCHES "workspace *= *true")
      message(FATAL_ERROR "graft install: cannot write out '${line}' of ${crate_dir}/Cargo.toml")
    endif()
    string(APPEND text "${line}\n")
  endforeach()
  string(APPEND text "\n[workspace]\n")
  file(GENERATE OUTPUT "${out}" CONTENT "${text}")
endfunction()

set(_graft_ffi_dir "${PROJECT_SOURCE_DIR}/rust/graft-ffi")
set(_graft_ffi_manifest "${PROJECT_BINARY_DIR}/graft-ffi.Cargo.toml")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${_graft_ffi_dir}/Cargo.toml" "${PROJECT_SOURCE_DIR}/Cargo.toml")
_graft_standalone_manifest("${_graft_ffi_dir}" "${_graft_ffi_manifest}")
install(FILES "${_graft_ffi_manifest}" RENAME Cargo.toml
        DESTINATION "${GRAFT_INSTALL_RUSTDIR}/graft-ffi")
install(FILES "${_graft_ffi_dir}/cbindgen.toml" DESTINATION "${GRAFT_INSTALL_RUSTDIR}/graft-ffi")
install(DIRECTORY "${_graft_ffi_dir}/src" DESTINATION "${GRAFT_INSTALL_RUSTDIR}/graft-ffi"
        FILES_MATCHING PATTERN "*.rs")
if(EXISTS "${_graft_ffi_dir}/build.rs")
  install(FILES "${_graft_ffi_dir}/build.rs" DESTINATION "${GRAFT_INSTALL_RUSTDIR}/graft-ffi")
endif()
# build.rs generates the Status enum from base.h's GRAFT_STATUS_MAP: the standalone
# crate carries the header it reads.
install(FILES "${PROJECT_SOURCE_DIR}/include/graft/base.h"
        DESTINATION "${GRAFT_INSTALL_RUSTDIR}/graft-ffi")

# The cargo settings for a consumer's workspace, written at install time so the path
# is the real prefix (cmake --install --prefix ... included).
install(CODE "
  set(_p \"\${CMAKE_INSTALL_PREFIX}/${GRAFT_INSTALL_RUSTDIR}/graft-ffi\")
  set(_f \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${GRAFT_INSTALL_DATADIR}/cargo-config.toml\")
  message(STATUS \"Installing: \${_f}\")
  file(WRITE \"\${_f}\" \"# Cargo settings for a workspace whose crates depend on graft-ffi (docs/ADOPTING.md).
# Copy into <your workspace>/.cargo/config.toml. Builds through CMake need none of it:
# find_package(graft) passes the same patch to cargo on the command line.

# Your crates declare  graft-ffi = \\\"0.1\\\"  and get the installed sources:
[patch.crates-io]
graft-ffi = { path = \\\"\${_p}\\\" }

# Without network access: take crates.io crates from Debian's librust-*-dev packages.
[source.crates-io]
replace-with = \\\"debian\\\"

[source.debian]
directory = \\\"/usr/share/cargo/registry\\\"

[net]
offline = true
\")")

install(FILES "${PROJECT_SOURCE_DIR}/docs/ADOPTING.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# The Make fragment (docs/ADOPTING.md, section 4): share/graft/graft.mk.
install(FILES "${PROJECT_SOURCE_DIR}/cmake/graft.mk" DESTINATION "${GRAFT_INSTALL_DATADIR}")
