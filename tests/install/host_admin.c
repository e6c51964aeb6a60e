/*
 * host_admin.c: a C host that serves the admin endpoint, built by tests/install/run.sh
 * against an installed graft with `pkg-config graft-admin graft-static` only: the
 * endpoint's archive before the core's, each with its own dependencies. It registers a
 * seam, starts the endpoint on an ephemeral loopback port and reads /api/seams over a
 * plain socket: 200 and the seam's name in the body.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <graft/admin.h>
#include <graft/graft.h>

static int same(void *ctx, const void *input, void *output)
{
    (void)ctx;
    memcpy(output, input, sizeof(int));
    return GRAFT_OK;
}

int main(void)
{
    graft_runtime *rt = NULL;
    graft_seam *seam = NULL;
    graft_admin *admin = NULL;
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK) {
        fprintf(stderr, "host_admin: graft_runtime_new failed\n");
        return 1;
    }
    graft_seam_def def;
    memset(&def, 0, sizeof def);
    def.name = "host.admin";
    def.legacy = same;
    def.candidate = same;
    def.output_size = sizeof(int);
    int st = graft_seam_register(rt, &def, &seam);
    if (st == GRAFT_OK) {
        st = graft_admin_start(rt, "127.0.0.1:0", "install-test-token", &admin);
    }
    if (st != GRAFT_OK) {
        fprintf(stderr, "host_admin: %s\n", graft_strerror(st));
        graft_runtime_free(rt);
        return 1;
    }
    unsigned port = graft_admin_port(admin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[256], resp[65536];
    int n = snprintf(req, sizeof req,
                     "GET /api/seams HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                     "Authorization: Bearer install-test-token\r\nConnection: close\r\n\r\n",
                     port);
    size_t got = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        write(fd, req, (size_t)n) == n) {
        ssize_t r;
        while (got + 1 < sizeof resp && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0) {
            got += (size_t)r;
        }
    }
    resp[got] = '\0';
    if (fd >= 0) {
        close(fd);
    }
    graft_admin_stop(admin);
    graft_runtime_free(rt);
    if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || !strstr(resp, "\"host.admin\"")) {
        fprintf(stderr, "host_admin: unexpected answer:\n%.400s\n", resp);
        return 1;
    }
    printf("host_admin: /api/seams served on port %u\n", port);
    return 0;
}
