# admin.cmake: libgraft-admin, the opt-in admin endpoint (included by src/CMakeLists.txt):
# src/admin.c on libmicrohttpd and libcjson (request bodies), plus the dashboard page
# compiled in from src/admin_page.html. A host that wants the endpoint links graft_admin
# (which brings graft); one that does not links graft alone and none of these libraries.
set(_graft_admin_page_c "${CMAKE_CURRENT_BINARY_DIR}/admin_page.c")
add_custom_command(
  OUTPUT "${_graft_admin_page_c}"
  COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/admin_page.html
          -DOUT=${_graft_admin_page_c} -P ${CMAKE_CURRENT_SOURCE_DIR}/admin_embed.cmake
  DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/admin_page.html"
          "${CMAKE_CURRENT_SOURCE_DIR}/admin_embed.cmake"
  COMMENT "Embedding the admin dashboard page" VERBATIM)

# The libraries are linked by name (GraftDeps.cmake) so the exported CMake package and
# the pkg-config file need no imported targets. PIC: hosts may link it into a shared
# object.
add_library(graft_admin STATIC "${CMAKE_CURRENT_SOURCE_DIR}/admin.c" "${_graft_admin_page_c}")
set_target_properties(graft_admin PROPERTIES OUTPUT_NAME graft-admin POSITION_INDEPENDENT_CODE ON)
target_include_directories(graft_admin PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}"
                                               ${GRAFT_MHD_INCLUDE_DIRS} ${GRAFT_CJSON_INCLUDE_DIRS})
target_include_directories(graft_admin PUBLIC "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
                                               "$<INSTALL_INTERFACE:include>")
target_link_libraries(graft_admin PUBLIC graft ${GRAFT_MHD_LIBRARIES} ${GRAFT_CJSON_LIBRARIES} m)
