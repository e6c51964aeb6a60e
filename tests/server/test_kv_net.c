/*
 * test_kv_net.c: unit test of kvd's networking in-process: start on a free port, serve
 * concurrent clients on several workers (label tsan: run under ThreadSanitizer by
 * `make tsan`), enforce -c, and stop gracefully with connections still open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kv_net.h"

static kv_server srv;

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Sends req and reads until the reply ends with `end`; returns the bytes read. */
static size_t ask(int fd, const char *req, const char *end, char *buf, size_t cap)
{
    size_t n = strlen(req), got = 0, el = strlen(end);
    if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
        return 0;
    }
    while (got < cap - 1) {
        ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
        if (k <= 0) {
            break;
        }
        got += (size_t)k;
        if (got >= el && memcmp(buf + got - el, end, el) == 0) {
            break;
        }
    }
    buf[got] = '\0';
    return got;
}

typedef struct client_arg {
    int port, id, errors;
} client_arg;

static void *client(void *p)
{
    client_arg *a = p;
    int fd = dial(a->port);
    if (fd < 0) {
        a->errors++;
        return NULL;
    }
    char req[128], want[128], buf[512];
    for (int i = 0; i < 300; i++) {
        snprintf(req, sizeof(req), "set c%d:%d 0 0 %d\r\n%d\r\n", a->id, i % 20,
                 snprintf(NULL, 0, "%d", i), i);
        ask(fd, req, "\r\n", buf, sizeof(buf));
        if (strcmp(buf, "STORED\r\n") != 0) {
            a->errors++;
        }
        snprintf(req, sizeof(req), "get c%d:%d\r\n", a->id, i % 20);
        snprintf(want, sizeof(want), "VALUE c%d:%d 0 %d\r\n%d\r\nEND\r\n", a->id, i % 20,
                 snprintf(NULL, 0, "%d", i), i);
        ask(fd, req, "END\r\n", buf, sizeof(buf));
        if (strcmp(buf, want) != 0) {
            a->errors++;
        }
    }
    close(fd);
    return NULL;
}

static void test_serve_and_stop(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    kv_thread_stats *stats = aligned_alloc(64, 3 * sizeof(kv_thread_stats));
    assert_non_null(stats);
    memset(stats, 0, 3 * sizeof(kv_thread_stats));
    srv.started = (int64_t)time(NULL);
    kv_store_config cfg = {16u << 20, 1024 * 1024, srv.started - 2, 0};
    assert_int_equal(kv_store_create(&cfg, &srv.store), 0);
    srv.limits.item_size_max = 1024 * 1024;
    srv.limits.max_line = 2048;
    srv.max_in = srv.limits.item_size_max + KV_IN_SLACK;
    srv.port = 0;
    srv.listen_addr = "127.0.0.1";
    srv.threads = 3;
    srv.maxconns = 6;
    srv.stats = stats;
    srv.nstats = 3;
    kv_net *net = NULL;
    assert_int_equal(kv_net_start(&srv, &net), 0);
    int port = kv_net_port(net);
    assert_true(port > 0);

    pthread_t th[4];
    client_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (client_arg){port, i, 0};
        pthread_create(&th[i], NULL, client, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }

    /* -c 6: six held connections, the seventh is refused */
    int held[6];
    char buf[256];
    for (int i = 0; i < 6; i++) {
        held[i] = dial(port);
        assert_true(held[i] >= 0);
        ask(held[i], "version\r\n", "\r\n", buf, sizeof(buf));
        assert_true(strncmp(buf, "VERSION ", 8) == 0);
    }
    int extra = dial(port);
    assert_true(extra >= 0);
    ssize_t k = recv(extra, buf, sizeof(buf) - 1, 0);
    assert_true(k > 0);
    buf[k] = '\0';
    assert_string_equal(buf, "ERROR Too many open connections\r\n");
    close(extra);

    /* stop with connections open: they are closed (EOF), the call returns */
    kv_net_stop(net);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(recv(held[i], buf, sizeof(buf), 0), 0);
        close(held[i]);
    }
    assert_int_equal(atomic_load(&srv.curr_conns), 0);
    assert_true(atomic_load(&srv.total_conns) >= 10);
    assert_int_equal(atomic_load(&srv.rejected_conns), 1);
    assert_true(kv_net_now() >= 2);
    kv_store_destroy(srv.store);
    free(stats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
