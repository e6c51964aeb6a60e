/*
 * admin_page.h: the dashboard page served at "/" by the admin endpoint. The bytes are
 * generated at build time from src/admin_page.html (see src/admin.cmake), so the page
 * is edited as HTML and shipped inside the library with no file to install.
 */
#ifndef GRAFT_ADMIN_PAGE_H
#define GRAFT_ADMIN_PAGE_H

#include <stddef.h>

extern const char graft__admin_page[];
extern const size_t graft__admin_page_len;

#endif /* GRAFT_ADMIN_PAGE_H */
