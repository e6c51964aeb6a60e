/*
 * graft/admin.h: the opt-in control endpoint of a graft runtime (HTTP, libmicrohttpd).
 * Provided by libgraft-admin, not by the core: link it before libgraft (pkg-config
 * graft-admin, CMake graft::graft_admin). A host that never calls these functions links
 * the core alone and needs none of the endpoint's libraries.
 *
 *   GET  /                      dashboard page (self-contained HTML)
 *   GET  /metrics               Prometheus text exposition
 *   GET  /api/seams             JSON: every seam
 *   GET  /api/seams/{name}      JSON: one seam
 *   PUT  /api/seams/{name}      JSON body {"mode": "canary", "percent": 10.5}: change mode
 *   POST /api/seams/{name}/breaker/reset
 *   PUT  /api/seams/{name}/fault  JSON body {"error_percent": 60, "panic_percent": 40,
 *                               "delay_percent": 0, "delay_ms": 0}: fault injection
 *   DELETE /api/seams/{name}/fault  clear fault injection
 *
 * The door (docs/OPERATING.md has the reasons):
 *   - Always a token. Every read and change except the page needs
 *     "Authorization: Bearer <token>" (compared in constant time). Without one given, a
 *     random one is generated and written, mode 0600, to $GRAFT_ADMIN_TOKEN_FILE or
 *     $XDG_RUNTIME_DIR/graft/admin-PORT.token or /tmp/graft-UID/admin-PORT.token (a
 *     private directory), where graftctl finds it; the file goes when the endpoint stops.
 *     Loopback is no boundary between the users and programs of one machine.
 *   - Loopback by default; a non-loopback address needs GRAFT_ADMIN_ALLOW_REMOTE=1 and
 *     a token given (else GRAFT_EINVAL).
 *   - Host must be the bound address or localhost/127.0.0.1/[::1], with the bound port
 *     (DNS rebinding); a foreign Origin gets 403; a change needs
 *     "Content-Type: application/json" or an "X-Graft-Admin" header (no CORS simple
 *     request can carry either); "%00" in the URL gets 400.
 *   - 64 connections; one more evicts the oldest, so a rollback always gets in; 8 per
 *     remote address; 10 s per request in total (headers, body, answer), however
 *     slowly bytes trickle in.
 * Bodies are limited to 4096 bytes; errors are JSON {"error": "..."}.
 */
#ifndef GRAFT_ADMIN_H
#define GRAFT_ADMIN_H

#include <stdint.h>

#include "graft/graft.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct graft_admin graft_admin; /* owned by the caller; stop with graft_admin_stop */

/* Starts the endpoint on `addr` ("127.0.0.1:9100", "[::1]:9100", "localhost:0"; port 0
 * picks a free port) on a thread of its own. `token` (copied) is printable ASCII without
 * spaces, at most 512 characters; NULL or "" generates one into the token file above.
 * The runtime must outlive it. GRAFT_EINVAL for a malformed address, a non-loopback one
 * without GRAFT_ADMIN_ALLOW_REMOTE=1 and a token, or a bad token; GRAFT_EIO when it
 * cannot listen or write the token file; the reason is logged through the runtime's
 * log sink. */
int graft_admin_start(graft_runtime *rt, const char *addr, const char *token, graft_admin **out);
/* Starts the endpoint if GRAFT_ADMIN is set (token from GRAFT_ADMIN_TOKEN, else generated).
 * When GRAFT_ADMIN is unset, returns GRAFT_OK and sets *out to NULL. */
int graft_admin_start_from_env(graft_runtime *rt, graft_admin **out);
/* The bound port (useful with port 0). */
uint16_t graft_admin_port(const graft_admin *admin);
/* Stops the endpoint and frees it. NULL is a no-op. */
void graft_admin_stop(graft_admin *admin);

#ifdef __cplusplus
}
#endif

#endif /* GRAFT_ADMIN_H */
