/*
 * graft/base.h: what every side of graft shares: the status space and the log callback.
 *
 * libgraft (C) and the graft-ffi crate (Rust) use the same numbers for the same
 * failures, so a status can cross the boundary in either direction unchanged. The
 * Rust enum `graft_ffi::Status` mirrors this list; tests/ffi checks that both sides
 * agree on every number and name. Numbers are stable: new codes are appended, never
 * renumbered.
 */
#ifndef GRAFT_BASE_H
#define GRAFT_BASE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of a graft call. 0 is success; every other value is a failure kind.
 * Functions return it as `int` so that values from newer versions are not UB. */
typedef enum graft_status {
    GRAFT_OK = 0,           /* success */
    GRAFT_EINVAL = 1,       /* an argument is out of its documented range */
    GRAFT_ENULL = 2,        /* a required pointer was NULL */
    GRAFT_ETOOSMALL = 3,    /* the caller's buffer is too small; the needed size was reported */
    GRAFT_EUTF8 = 4,        /* a string was not valid UTF-8 */
    GRAFT_EPARSE = 5,       /* input could not be parsed */
    GRAFT_ENOTFOUND = 6,    /* no such item (seam, key, file, ...) */
    GRAFT_EUNSUPPORTED = 7, /* valid request this build or object cannot do */
    GRAFT_EINTERNAL = 8,    /* a bug: an invariant did not hold */
    GRAFT_EPANIC = 9,       /* Rust code panicked; the panic was caught at the boundary */
    GRAFT_ENOMEM = 10,      /* an allocation failed */
    GRAFT_EHANDLE = 11,     /* a handle was stale, freed twice, or never issued */
    GRAFT_EEXIST = 12,      /* the item already exists (e.g. seam registered twice) */
    GRAFT_ESTATE = 13,      /* the object is not in a state that allows this call */
    GRAFT_EIO = 14,         /* an I/O operation failed (see the message for errno) */
    GRAFT_ECONFIG = 15,     /* configuration rejected (the message names the line) */
    GRAFT_EINJECTED = 16    /* a failure injected on purpose by fault injection */
} graft_status;

/* Highest status number defined by this version of the header. */
#define GRAFT_STATUS_MAX 16

/* Log levels, most severe first. A logger receives messages at or above its level. */
typedef enum graft_log_level {
    GRAFT_LOG_ERROR = 0,
    GRAFT_LOG_WARN = 1,
    GRAFT_LOG_INFO = 2,
    GRAFT_LOG_DEBUG = 3,
    GRAFT_LOG_TRACE = 4
} graft_log_level;

/*
 * A log sink. `target` names the emitting module ("graft.seam", "kv_proto", ...),
 * `message` is one line without a trailing newline. Both strings are NUL-terminated
 * and valid only for the duration of the call. The callback may be called from any
 * thread, concurrently; it must not call back into graft.
 */
typedef void (*graft_log_fn)(void *ctx, int level, const char *target, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* GRAFT_BASE_H */
