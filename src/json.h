/*
 * json.h: the JSON text libgraft emits (the stats snapshot, src/metrics.c), written
 * straight into a growable buffer, so the core needs no JSON library. Write-only and
 * not on any hot path: a snapshot is built on request (the admin endpoint, a report).
 *
 *   graft__jw w;
 *   graft__jw_init(&w);
 *   graft__jw_obj(&w, NULL);            // {
 *   graft__jw_str(&w, "name", "kv");    //   "name":"kv",
 *   graft__jw_arr(&w, "seams");         //   "seams":[
 *   graft__jw_end(&w);                  //   ]
 *   graft__jw_end(&w);                  // }
 *   char *text; size_t len;
 *   int st = graft__jw_finish(&w, &text, &len);  // text: malloc'd, NUL-terminated
 *
 * Inside an object every value has a key; inside an array (and at the top) key is
 * NULL. Out of memory is sticky: later calls do nothing and graft__jw_finish reports
 * GRAFT_ENOMEM, so a writer needs no check after each call.
 */
#ifndef GRAFT_JSON_H
#define GRAFT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAFT__JW_DEPTH 16 /* nesting the snapshot uses is 5 */

typedef struct graft__jw {
    char *p; /* owned until graft__jw_finish hands it over */
    size_t len, cap;
    bool oom;
    int depth;
    bool first[GRAFT__JW_DEPTH]; /* no value written yet at this level */
    bool is_obj[GRAFT__JW_DEPTH];
} graft__jw;

void graft__jw_init(graft__jw *w);
void graft__jw_obj(graft__jw *w, const char *key);                /* opens {...} */
void graft__jw_arr(graft__jw *w, const char *key);                /* opens [...] */
void graft__jw_end(graft__jw *w);                                 /* closes the innermost one */
void graft__jw_str(graft__jw *w, const char *key, const char *s); /* NULL: null */
void graft__jw_u64(graft__jw *w, const char *key, uint64_t v);    /* exact */
void graft__jw_num(graft__jw *w, const char *key, double v);      /* shortest exact text */
void graft__jw_bool(graft__jw *w, const char *key, bool v);
void graft__jw_null(graft__jw *w, const char *key);
/* All containers closed: hands over the text (GRAFT_OK) or frees it (GRAFT_ENOMEM). */
int graft__jw_finish(graft__jw *w, char **out, size_t *len);
/* Frees a writer that will not be finished. */
void graft__jw_discard(graft__jw *w);

#endif
