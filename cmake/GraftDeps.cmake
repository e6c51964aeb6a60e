# GraftDeps.cmake: the system libraries graft's own build uses, each found once here
# (included by the top-level CMakeLists.txt before any room) and used by name below it:
#
#   Threads::Threads             the core (libgraft) needs nothing else beyond libc
#   GRAFT_CJSON_* / PkgConfig::GRAFT_CJSON
#                                libcjson: the admin endpoint's request bodies, graftctl,
#                                graft plan and their tests
#   GRAFT_MHD_*                  libmicrohttpd: the admin endpoint (libgraft-admin)
#
# The libraries are plain names (GRAFT_*_LIBRARIES) where an installed package must
# reproduce them (cmake/GraftInstall.cmake), imported targets elsewhere.
include_guard(GLOBAL)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(GRAFT_CJSON REQUIRED IMPORTED_TARGET GLOBAL libcjson)
pkg_check_modules(GRAFT_MHD REQUIRED libmicrohttpd)
