# admin.cmake: the admin endpoint's share of libgraft (included by src/CMakeLists.txt):
# src/admin.c on libmicrohttpd and libcjson, plus the dashboard page compiled in from
# src/admin_page.html.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GRAFT_MHD REQUIRED libmicrohttpd)
pkg_check_modules(GRAFT_CJSON REQUIRED libcjson)

set(_graft_admin_page_c "${CMAKE_CURRENT_BINARY_DIR}/admin_page.c")
add_custom_command(
  OUTPUT "${_graft_admin_page_c}"
  COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/admin_page.html
          -DOUT=${_graft_admin_page_c} -P ${CMAKE_CURRENT_SOURCE_DIR}/admin_embed.cmake
  DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/admin_page.html"
          "${CMAKE_CURRENT_SOURCE_DIR}/admin_embed.cmake"
  COMMENT "Embedding the admin dashboard page" VERBATIM)

# The objects go where the rest of libgraft's are; the libraries are linked by name so
# the exported CMake package and pkg-config file need no imported targets.
if(TARGET graft_obj)
  set(_graft_admin_target graft_obj)
else()
  set(_graft_admin_target graft)
endif()
# src/CMakeLists.txt may already glob admin.c; add it only once.
get_target_property(_graft_admin_srcs ${_graft_admin_target} SOURCES)
if(NOT "${CMAKE_CURRENT_SOURCE_DIR}/admin.c" IN_LIST _graft_admin_srcs)
  target_sources(${_graft_admin_target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/admin.c")
endif()
target_sources(${_graft_admin_target} PRIVATE "${_graft_admin_page_c}")
target_include_directories(${_graft_admin_target} PRIVATE
  "${CMAKE_CURRENT_SOURCE_DIR}" ${GRAFT_MHD_INCLUDE_DIRS} ${GRAFT_CJSON_INCLUDE_DIRS})
foreach(_t graft_obj graft)
  if(TARGET ${_t})
    target_link_libraries(${_t} PUBLIC ${GRAFT_MHD_LIBRARIES} ${GRAFT_CJSON_LIBRARIES} m)
  endif()
endforeach()
