# GraftRust.cmake: build Cargo crates into a CMake build, the small part of Corrosion
# that graft needs, without network access.
#
#   graft_add_rust_staticlib(<target> CRATE <package> [FEATURES f1 f2 ...]
#                            [WORKSPACE_DIR <dir>])
#       Builds <package> (crate-type staticlib) with the cargo profile matching
#       CMAKE_BUILD_TYPE and defines <target>: an INTERFACE library carrying the
#       archive and, after it on the link line, the native libraries that Rust's std
#       needs (rustc --print native-static-libs). Link exactly ONE such target into an
#       executable: two Rust staticlibs each carry a copy of std and collide.
#       WORKSPACE_DIR is the Cargo workspace holding the crate (its Cargo.toml,
#       Cargo.lock and .cargo/config.toml); default: PROJECT_SOURCE_DIR. cargo runs
#       there, and every .rs/Cargo.toml under it is a dependency of the build.
#
#   graft_rust_headers()
#       For every workspace crate declaring `[package.metadata.graft] header = "..."`
#       in its Cargo.toml (read by GraftCrateHeaders.cmake, the one parser of that map),
#       generates that header with cbindgen into
#       ${GRAFT_GENERATED_INCLUDE_DIR} (searched before include/). The committed copy
#       under the source tree is checked against a fresh generation by
#       tools/check-headers.sh (ctest: header-drift).
#
# Variables read:
#   GRAFT_RUST_TOOLCHAIN   rustup toolchain ("" = default; sanitizer builds use nightly)
#   GRAFT_RUSTFLAGS        extra RUSTFLAGS for component code (sanitizers, coverage)
#   GRAFT_RUST_TARGET      explicit target triple, required when GRAFT_RUSTFLAGS is set
#                          so the flags do not reach build scripts
#   GRAFT_CARGO_CONFIG     list of `cargo --config KEY=VALUE` settings for every build
#                          (the installed package uses it to point the `graft-ffi`
#                          dependency at its installed sources; see docs/ADOPTING.md)
#   GRAFT_RUST_INCLUDE_DIRS  include directories every Rust target carries; default:
#                          the generated headers, then PROJECT_SOURCE_DIR/include
#
# This file is installed with libgraft (<prefix>/lib/cmake/graft/) and works from a
# consumer's tree through find_package(graft CONFIG).
include_guard(GLOBAL)

find_program(CARGO_EXECUTABLE cargo HINTS $ENV{HOME}/.cargo/bin REQUIRED)
find_program(RUSTC_EXECUTABLE rustc HINTS $ENV{HOME}/.cargo/bin REQUIRED)
find_program(CBINDGEN_EXECUTABLE cbindgen)

set(GRAFT_GENERATED_INCLUDE_DIR "${CMAKE_BINARY_DIR}/include")
set(GRAFT_CARGO_TARGET_DIR "${CMAKE_BINARY_DIR}/cargo")
file(MAKE_DIRECTORY "${GRAFT_GENERATED_INCLUDE_DIR}")

# Every Rust source and manifest of the workspace: any change re-runs cargo, which
# then decides what really needs rebuilding.
file(GLOB_RECURSE _graft_rust_sources CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/rust/*.rs" "${PROJECT_SOURCE_DIR}/rust/*/Cargo.toml"
     "${PROJECT_SOURCE_DIR}/rust/*/cbindgen.toml")
set(GRAFT_RUST_SOURCES ${_graft_rust_sources})
foreach(_graft_f Cargo.toml Cargo.lock .cargo/config.toml)
  # Only files that exist: a consumer's project may keep its workspace elsewhere.
  if(EXISTS "${PROJECT_SOURCE_DIR}/${_graft_f}")
    list(APPEND GRAFT_RUST_SOURCES "${PROJECT_SOURCE_DIR}/${_graft_f}")
  endif()
endforeach()
if(NOT DEFINED GRAFT_RUST_INCLUDE_DIRS)
  set(GRAFT_RUST_INCLUDE_DIRS "${GRAFT_GENERATED_INCLUDE_DIR}" "${PROJECT_SOURCE_DIR}/include")
endif()

# The inputs of a Cargo workspace other than PROJECT_SOURCE_DIR's: its sources and
# manifests, skipping cargo output directories and this build tree.
function(_graft_workspace_sources dir out)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${dir}/*.rs" "${dir}/*Cargo.toml"
       "${dir}/*cbindgen.toml")
  list(FILTER srcs EXCLUDE REGEX "/target/")
  string(LENGTH "${CMAKE_BINARY_DIR}/" blen)
  set(kept "")
  foreach(f IN LISTS srcs)
    string(SUBSTRING "${f}" 0 ${blen} head)
    if(NOT head STREQUAL "${CMAKE_BINARY_DIR}/")
      list(APPEND kept "${f}")
    endif()
  endforeach()
  foreach(f Cargo.lock .cargo/config.toml)
    if(EXISTS "${dir}/${f}")
      list(APPEND kept "${dir}/${f}")
    endif()
  endforeach()
  set(${out} ${kept} PARENT_SCOPE)
endfunction()

if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(_graft_cargo_profile_flag "")
  set(_graft_cargo_profile_dir "debug")
else()
  set(_graft_cargo_profile_flag "--release")
  set(_graft_cargo_profile_dir "release")
endif()

set(_graft_toolchain_arg "")
if(GRAFT_RUST_TOOLCHAIN)
  set(_graft_toolchain_arg "+${GRAFT_RUST_TOOLCHAIN}")
endif()

# What std needs from the system when linked statically, asked once per configure.
function(_graft_native_static_libs out)
  if(DEFINED CACHE{GRAFT_RUST_NATIVE_LIBS})
    set(${out} ${GRAFT_RUST_NATIVE_LIBS} PARENT_SCOPE)
    return()
  endif()
  set(dir "${CMAKE_BINARY_DIR}/rust-probe")
  file(WRITE "${dir}/probe.rs" "")
  execute_process(
    COMMAND ${RUSTC_EXECUTABLE} ${_graft_toolchain_arg} --crate-type staticlib
            --print native-static-libs -o "${dir}/libprobe.a" "${dir}/probe.rs"
    ERROR_VARIABLE stderr OUTPUT_VARIABLE stdout RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rustc could not build a probe staticlib:\n${stderr}")
  endif()
  string(REGEX MATCH "native-static-libs: ([^\n]*)" _ "${stderr}${stdout}")
  separate_arguments(libs UNIX_COMMAND "${CMAKE_MATCH_1}")
  list(REMOVE_ITEM libs "-lc") # the C driver adds libc itself, last
  set(GRAFT_RUST_NATIVE_LIBS "${libs}" CACHE INTERNAL "Rust std native libs")
  set(${out} ${libs} PARENT_SCOPE)
endfunction()

function(graft_add_rust_staticlib target)
  cmake_parse_arguments(ARG "" "CRATE;WORKSPACE_DIR" "FEATURES" ${ARGN})
  if(NOT ARG_CRATE)
    message(FATAL_ERROR "graft_add_rust_staticlib(${target}): CRATE is required")
  endif()
  if(ARG_WORKSPACE_DIR)
    get_filename_component(workspace "${ARG_WORKSPACE_DIR}" ABSOLUTE)
    if(NOT EXISTS "${workspace}/Cargo.toml")
      message(FATAL_ERROR "graft_add_rust_staticlib(${target}): no Cargo.toml in ${workspace}")
    endif()
    _graft_workspace_sources("${workspace}" rust_sources)
  else()
    set(workspace "${PROJECT_SOURCE_DIR}")
    set(rust_sources ${GRAFT_RUST_SOURCES})
  endif()
  set(config_args "")
  foreach(c IN LISTS GRAFT_CARGO_CONFIG)
    list(APPEND config_args "--config" "${c}")
  endforeach()
  string(REPLACE "-" "_" libname "${ARG_CRATE}")
  set(outdir "${GRAFT_CARGO_TARGET_DIR}")
  set(target_arg "")
  if(GRAFT_RUST_TARGET)
    set(outdir "${outdir}/${GRAFT_RUST_TARGET}")
    set(target_arg "--target" "${GRAFT_RUST_TARGET}")
  endif()
  set(archive "${outdir}/${_graft_cargo_profile_dir}/lib${libname}.a")
  set(features_arg "")
  if(ARG_FEATURES)
    string(REPLACE ";" "," f "${ARG_FEATURES}")
    set(features_arg "--features" "${f}")
  endif()
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${target}.cargo-stamp")

  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS "${archive}"
    COMMAND ${CMAKE_COMMAND} -E env
            "CC=${CMAKE_C_COMPILER}" "CARGO_TARGET_DIR=${GRAFT_CARGO_TARGET_DIR}"
            "RUSTFLAGS=${GRAFT_RUSTFLAGS}"
            ${CARGO_EXECUTABLE} ${_graft_toolchain_arg} ${config_args} build --offline --locked
            -p ${ARG_CRATE} --lib ${_graft_cargo_profile_flag} ${target_arg} ${features_arg}
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS ${rust_sources}
    WORKING_DIRECTORY "${workspace}"
    COMMENT "cargo build -p ${ARG_CRATE} (${_graft_cargo_profile_dir})"
    USES_TERMINAL VERBATIM)
  add_custom_target(${target}-cargo DEPENDS "${stamp}")

  _graft_native_static_libs(native)
  add_library(${target}-archive STATIC IMPORTED GLOBAL)
  set_target_properties(${target}-archive PROPERTIES
    IMPORTED_LOCATION "${archive}"
    INTERFACE_LINK_LIBRARIES "${native}")
  add_library(${target} INTERFACE)
  target_link_libraries(${target} INTERFACE ${target}-archive)
  target_include_directories(${target} INTERFACE ${GRAFT_RUST_INCLUDE_DIRS})
  add_dependencies(${target} ${target}-cargo)
  if(TARGET graft-rust-headers)
    add_dependencies(${target} graft-rust-headers)
  endif()
endfunction()

include("${CMAKE_CURRENT_LIST_DIR}/GraftCrateHeaders.cmake")

function(graft_rust_headers)
  graft_crate_headers("${PROJECT_SOURCE_DIR}" pairs)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/GraftCrateHeaders.cmake")
  # A crate added or removed re-runs the configure step (and so the map).
  file(GLOB _manifests CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/rust/*/Cargo.toml")
  set(outputs "")
  foreach(pair IN LISTS pairs)
    string(REPLACE "|" ";" pair "${pair}")
    list(GET pair 0 crate_rel)
    list(GET pair 1 header)
    if(NOT CBINDGEN_EXECUTABLE)
      message(FATAL_ERROR "cbindgen not found: run 'make deps'")
    endif()
    set(crate_dir "${PROJECT_SOURCE_DIR}/${crate_rel}")
    set(manifest "${crate_dir}/Cargo.toml")
    # Committed as include/graft/x.h -> generated as <build>/include/graft/x.h
    string(REGEX REPLACE "^([^/]+/)?include/" "" rel "${header}")
    set(out "${GRAFT_GENERATED_INCLUDE_DIR}/${rel}")
    file(GLOB_RECURSE crate_sources CONFIGURE_DEPENDS "${crate_dir}/*.rs")
    add_custom_command(
      OUTPUT "${out}"
      COMMAND ${CBINDGEN_EXECUTABLE} --quiet --config "${crate_dir}/cbindgen.toml"
              --output "${out}" "${crate_dir}"
      DEPENDS ${crate_sources} "${manifest}" "${crate_dir}/cbindgen.toml"
      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
      COMMENT "cbindgen ${rel}" VERBATIM)
    list(APPEND outputs "${out}")
  endforeach()
  add_custom_target(graft-rust-headers ALL DEPENDS ${outputs})
endfunction()
