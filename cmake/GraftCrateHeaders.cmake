# GraftCrateHeaders.cmake: the one place that knows which crate owns which committed C
# header. A crate declares it in its Cargo.toml:
#
#   [package.metadata.graft]
#   header = "include/graft/graft_ffi.h"     # path from the project root
#
# Read by GraftRust.cmake (graft_rust_headers: cbindgen at build time), and, run as a
# script, by tools/check-headers.sh (ctest header-drift) and the Makefile's `headers`:
#
#   cmake -DROOT=<project root> -P cmake/GraftCrateHeaders.cmake
#       prints one line per crate with a header: "<crate dir> <header>", both relative
#       to ROOT, crates in directory order.
include_guard(GLOBAL)

# graft_crate_headers(<root> <out>): <out> = list of "<crate dir>|<header>" pairs for
# every <root>/rust/*/Cargo.toml that declares a header (paths relative to <root>).
function(graft_crate_headers root out)
  get_filename_component(root "${root}" ABSOLUTE)
  file(GLOB manifests RELATIVE "${root}" "${root}/rust/*/Cargo.toml")
  list(SORT manifests)
  set(pairs "")
  foreach(manifest IN LISTS manifests)
    file(STRINGS "${root}/${manifest}" lines)
    set(in_graft FALSE)
    set(header "")
    foreach(line IN LISTS lines)
      if(line MATCHES "^\\[")
        set(in_graft FALSE)
        if(line MATCHES "^\\[package\\.metadata\\.graft\\]")
          set(in_graft TRUE)
        endif()
      elseif(in_graft AND line MATCHES "^header *= *\"([^\"]+)\"")
        set(header "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    if(header)
      get_filename_component(dir "${manifest}" DIRECTORY)
      list(APPEND pairs "${dir}|${header}")
    endif()
  endforeach()
  set(${out} "${pairs}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND NOT CMAKE_PARENT_LIST_FILE)
  if(NOT ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<project root> -P GraftCrateHeaders.cmake")
  endif()
  get_filename_component(_root "${ROOT}" ABSOLUTE)
  graft_crate_headers("${_root}" _pairs)
  foreach(p IN LISTS _pairs)
    string(REPLACE "|" " " p "${p}")
    # stdout, one line each (message() would go to stderr)
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${p}")
  endforeach()
endif()
