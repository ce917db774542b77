/* td_status.h - status codes shared by every trialdex module.
 *
 * Every public function that can fail returns a td_status_t. TD_OK is 0, so
 * `if (status != TD_OK)` (or `if (status)`) tests for failure. Results travel
 * through out-parameters. Each handle keeps a one-line message describing its
 * last failure; see the module headers for the `*_last_error()` accessors.
 */
#ifndef TD_STATUS_H
#define TD_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum td_status {
    TD_OK = 0,
    /* Iteration finished: no more records, results or terms. Not an error. */
    TD_DONE,
    /* A named thing (file, document, term, key) does not exist. */
    TD_ERR_NOT_FOUND,
    /* Input data is malformed: a bad record, file or value. */
    TD_ERR_BAD_INPUT,
    /* A query string or query structure could not be understood. */
    TD_ERR_BAD_QUERY,
    /* A value lies outside its allowed range (slot number, offset, date). */
    TD_ERR_RANGE,
    /* The index is locked by another writer. */
    TD_ERR_LOCKED,
    /* The index is damaged or in an unsupported format. */
    TD_ERR_CORRUPT,
    /* The index changed underneath a reader; reopen and retry. */
    TD_ERR_MODIFIED,
    /* A read, write or network operation failed. */
    TD_ERR_IO,
    /* Memory could not be allocated. */
    TD_ERR_NO_MEMORY,
    /* The operation is not valid in the current state (e.g. nested transaction). */
    TD_ERR_INVALID,
    /* An unexpected failure inside a library we use. */
    TD_ERR_INTERNAL,
    TD_STATUS_COUNT
} td_status_t;

/* A short constant English name for a status, e.g. "index locked".
 * The returned string is static and never NULL. */
const char *td_status_str(td_status_t status);

#ifdef __cplusplus
}
#endif

#endif
