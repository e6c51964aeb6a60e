# GraftRust.cmake: build Cargo crates into a CMake build, the small part of Corrosion
# that graft needs, without network access.
#
#   graft_add_rust_staticlib(<target> CRATE <package> [FEATURES f1 f2 ...])
#       Builds <package> (crate-type staticlib) with the cargo profile matching
#       CMAKE_BUILD_TYPE and defines <target>: an INTERFACE library carrying the
#       archive and, after it on the link line, the native libraries that Rust's std
#       needs (rustc --print native-static-libs). Link exactly ONE such target into an
#       executable: two Rust staticlibs each carry a copy of std and collide.
#
#   graft_rust_headers()
#       For every workspace crate declaring `[package.metadata.graft] header = "..."`
#       in its Cargo.toml, generates that header with cbindgen into
#       ${GRAFT_GENERATED_INCLUDE_DIR} (searched before include/). The committed copy
#       under the source tree is checked against a fresh generation by
#       tools/check-headers.sh (ctest: header-drift).
#
# Variables read:
#   GRAFT_RUST_TOOLCHAIN   rustup toolchain ("" = default; sanitizer builds use nightly)
#   GRAFT_RUSTFLAGS        extra RUSTFLAGS for component code (sanitizers, coverage)
#   GRAFT_RUST_TARGET      explicit target triple, required when GRAFT_RUSTFLAGS is set
#                          so the flags do not reach build scripts
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
set(GRAFT_RUST_SOURCES ${_graft_rust_sources}
    "${PROJECT_SOURCE_DIR}/Cargo.toml" "${PROJECT_SOURCE_DIR}/Cargo.lock"
    "${PROJECT_SOURCE_DIR}/.cargo/config.toml")

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
  cmake_parse_arguments(ARG "" "CRATE" "FEATURES" ${ARGN})
  if(NOT ARG_CRATE)
    message(FATAL_ERROR "graft_add_rust_staticlib(${target}): CRATE is required")
  endif()
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
            ${CARGO_EXECUTABLE} ${_graft_toolchain_arg} build --offline --locked
            -p ${ARG_CRATE} --lib ${_graft_cargo_profile_flag} ${target_arg} ${features_arg}
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS ${GRAFT_RUST_SOURCES}
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
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
  target_include_directories(${target} INTERFACE
    "${GRAFT_GENERATED_INCLUDE_DIR}" "${PROJECT_SOURCE_DIR}/include")
  add_dependencies(${target} ${target}-cargo graft-rust-headers)
endfunction()

# The header a crate declares in [package.metadata.graft], or "" if none.
function(graft_crate_header manifest out)
  file(STRINGS "${manifest}" lines REGEX "^header *= *\"")
  set(${out} "" PARENT_SCOPE)
  if(lines)
    list(GET lines 0 line)
    string(REGEX REPLACE "^header *= *\"([^\"]+)\".*" "\\1" h "${line}")
    set(${out} "${h}" PARENT_SCOPE)
  endif()
endfunction()

function(graft_rust_headers)
  file(GLOB manifests CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/rust/*/Cargo.toml")
  set(outputs "")
  foreach(manifest IN LISTS manifests)
    graft_crate_header("${manifest}" header)
    if(NOT header)
      continue()
    endif()
    if(NOT CBINDGEN_EXECUTABLE)
      message(FATAL_ERROR "cbindgen not found: run 'make deps'")
    endif()
    get_filename_component(crate_dir "${manifest}" DIRECTORY)
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
