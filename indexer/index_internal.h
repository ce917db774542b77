/* index_internal.h - internal: what index.c lends the other writers of
 * the indexer (sync.c), so that they lock and upsert exactly as
 * td_index_update does.
 *
 * Not part of the public API.
 */
#ifndef TD_INDEX_INTERNAL_H
#define TD_INDEX_INTERNAL_H

#include "td_indexer.h"

/* The writer lock on `db.lock`. */
typedef struct td_index_lock {
    int fd;
} td_index_lock_t;

/* Takes the writer lock of `db` without waiting. Returns TD_OK,
 * TD_ERR_LOCKED (*error: "index 'DB' locked by pid N") or TD_ERR_IO. */
td_status_t td_index_lock(const char *db, td_index_lock_t *lock, char **error);

/* Releases the lock. */
void td_index_unlock(td_index_lock_t *lock);

/* A metadata entry to write with the last commit of an upsert. */
typedef struct td_index_meta {
    const char *key;
    const char *value; /* non-empty */
} td_index_meta_t;

/* td_index_update for a caller that holds the writer lock: upserts the
 * records of `sources` (or builds the index when there is none) and, when
 * `meta` is not NULL, writes it in the same final commit as the last
 * records, and only if every source was read to its end (else
 * TD_ERR_BAD_INPUT, the final transaction is cancelled and a build is
 * discarded). Does not clear *stats. Returns as td_index_update. */
td_status_t td_index_upsert_locked(const char *const *sources, size_t count,
                                   const td_index_options_t *options, const td_index_meta_t *meta,
                                   td_index_stats_t *stats, char **error);

/* Sets *error (when error is not NULL and *error is still NULL) to a
 * malloc'd message, and returns `status`, so a failure is one statement. */
td_status_t td_index_fail(char **error, td_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Seconds on the monotonic clock. */
double td_index_now(void);

#endif
