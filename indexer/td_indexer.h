/* td_indexer.h - turning trials into index documents, and writing indexes.
 *
 * The schema the documents follow is in common/td_schema.h.
 */
#ifndef TD_INDEXER_H
#define TD_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "td_analyzer.h"
#include "td_reader.h"
#include "td_status.h"
#include "td_trial.h"
#include "td_xapian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Documents -------------------------------------------------------- */

/* Makes Xapian documents from trials. Not thread-safe: make one per thread;
 * the analyzer may be shared. */
typedef struct td_doc_builder td_doc_builder_t;

/* Returns TD_OK, TD_ERR_NO_MEMORY or TD_ERR_INTERNAL (the analyzer's
 * workspace could not start). Free with td_doc_builder_free. */
td_status_t td_doc_builder_new(const td_analyzer_t *analyzer, td_doc_builder_t **out);

/* Frees a builder. Accepts NULL. */
void td_doc_builder_free(td_doc_builder_t *builder);

/* Builds the document of `trial`: every term, filter term, value and the
 * stored display data of td_schema.h. Returns TD_OK with *out a new
 * document the caller frees with td_xdoc_free, TD_ERR_NO_MEMORY, or
 * TD_ERR_INTERNAL (Xapian refused a term; td_xdoc_last_error is lost with
 * the document, so the builder keeps the message: td_doc_builder_error). */
td_status_t td_doc_build(td_doc_builder_t *builder, const td_trial_t *trial, td_xdoc_t **out);

/* The content hash stored in TD_SLOT_CONTENT_HASH: 16 hex digits over the
 * trial's full JSON and the schema version, so an update can skip a trial
 * whose record did not change. Returns TD_OK or as td_trial_content_hash. */
td_status_t td_doc_content_hash(const td_trial_t *trial, char out[17]);

/* The last failure's one-line message; "" when there was none. */
const char *td_doc_builder_error(const td_doc_builder_t *builder);

/* Words worth offering as spelling suggestions from the last trial built
 * (titles, conditions, interventions, keywords): `count` NUL-terminated
 * words, valid until the next td_doc_build. */
size_t td_doc_builder_spelling_count(const td_doc_builder_t *builder);
const char *td_doc_builder_spelling_word(const td_doc_builder_t *builder, size_t index);

/* ---- Indexes ---------------------------------------------------------- */

/* Where an index lives when no -d is given: $TRIALDEX_DB, else
 * "trialdex.db" in the current directory. Static or environment string. */
const char *td_index_default_path(void);

typedef struct td_index_progress {
    size_t records;       /* records read so far */
    double seconds;       /* since the start */
    uint64_t bytes;       /* input bytes read so far (decompressed) */
    uint64_t input_bytes; /* of the source files as stored, consumed so far */
    uint64_t input_total; /* the sources' total size as stored; 0 when unknown */
} td_index_progress_t;

typedef struct td_index_options {
    const char *db;        /* the index path: a symlink to its current version */
    td_format_t format;    /* input format, TD_FORMAT_AUTO to detect */
    unsigned threads;      /* worker threads; 0 for one per core */
    bool delete_missing;   /* update: remove trials absent from the input */
    unsigned commit_every; /* update: records per transaction; 0 for 2,000 */
    bool strict;           /* stop at the first rejected record or failed file */
    td_diag_fn on_diag;    /* bad input reports (may be NULL) */
    void (*on_progress)(const td_index_progress_t *progress, void *user); /* may be NULL */
    void *user; /* passed to both callbacks */
} td_index_options_t;

typedef struct td_index_stats {
    size_t read;      /* records read */
    size_t added;     /* new trials written */
    size_t updated;   /* trials whose content changed */
    size_t unchanged; /* trials skipped: same content hash */
    size_t deleted;
    size_t rejected;       /* bad records, reported through on_diag */
    size_t failed_sources; /* files that ended early or could not be read */
    uint32_t documents;    /* trials in the index afterwards */
    double seconds;
    uint64_t bytes;
} td_index_stats_t;

/* Builds a new index from `sources` into a fresh directory beside `db`
 * and, once it is complete and committed, points `db` at it in one atomic
 * rename, so readers see the old index until then; the old version is
 * removed. Records are analyzed and written by `threads` workers into
 * shards that are then merged. Returns TD_OK (bad records are reported,
 * counted and skipped), TD_ERR_LOCKED (another writer: *error says "index
 * locked by pid N"), TD_ERR_BAD_INPUT (with `strict`, the first bad record),
 * TD_ERR_IO, TD_ERR_INVALID (`db` is a plain directory trialdex does not
 * manage) or TD_ERR_NO_MEMORY. *error gets a malloc'd message on failure. */
td_status_t td_index_build(const char *const *sources, size_t count,
                           const td_index_options_t *options, td_index_stats_t *stats,
                           char **error);

/* Upserts the records of `sources` into the existing index (or builds it
 * when there is none) in transactions of a few thousand records: a trial
 * whose content hash is unchanged is skipped. Documents are analyzed by
 * `threads` workers and written by the calling thread alone. With delete_missing the
 * input is a full snapshot and trials absent from it are deleted. A crash
 * leaves the index at its last commit. Returns as td_index_build. */
td_status_t td_index_update(const char *const *sources, size_t count,
                            const td_index_options_t *options, td_index_stats_t *stats,
                            char **error);

/* Deletes trials by NCT ID. Unknown IDs are reported through on_diag as
 * warnings. Returns as td_index_update. */
td_status_t td_index_delete(const char *const *ids, size_t count, const td_index_options_t *options,
                            td_index_stats_t *stats, char **error);

/* The nightly job: pulls the studies changed since a date from the
 * ClinicalTrials.gov API v2 at `api_url` (its base, such as
 * "https://clinicaltrials.gov/api/v2") and upserts them like
 * td_index_update (building the index when there is none).
 *
 * The date is `since` ("YYYY-MM-DD") or, when it is NULL, the index's
 * high-water mark (metadata TD_META_LAST_SYNC). The job holds the writer
 * lock throughout; it GETs
 *   <api_url>/studies?format=json&pageSize=1000
 *       &filter.advanced=AREA[LastUpdatePostDate]RANGE[<date>,MAX]
 * and follows each page's nextPageToken (&pageToken=...) until a page has
 * none, saving the pages in a directory beside the index
 * ("<db>.sync-<pid>", removed afterwards, as are ones left by killed runs).
 * Only when every page has arrived as JSON with a "studies" array are they
 * applied; the last commit also sets the mark to the day the job started
 * (UTC), so the next run fetches that day again (the content-hash skip
 * makes that cheap). A failed or interrupted job leaves the old mark, and
 * the next run starts again from it.
 *
 * Connection failures, timeouts and HTTP 408, 429 and 5xx are retried 5
 * times in all, waiting 0.5 s and doubling up to 30 s (or as Retry-After
 * says, up to 60 s); other HTTP errors fail at once. A connection that
 * cannot be made, or that moves less than a byte a second, within 60 s
 * fails its try. The environment variables TRIALDEX_SYNC_BACKOFF_MS (the
 * first wait, in ms) and TRIALDEX_SYNC_TIMEOUT (seconds) change these.
 *
 * options->format and options->delete_missing are ignored (pages are API
 * v2 JSON; the API reports no deletions, so stats->deleted stays 0). Bad
 * studies are reported through on_diag with the source "page N (URL)" and
 * skipped. Returns TD_OK; TD_ERR_LOCKED; TD_ERR_NOT_FOUND (no `since` and
 * no mark: *error says to pass --since); TD_ERR_RANGE (`since` is not a
 * date); TD_ERR_CORRUPT (the stored mark is not a date, or as
 * td_index_update); TD_ERR_IO (a page could not be fetched: *error names
 * the page number, its URL and the last failure); TD_ERR_BAD_INPUT (a page
 * is not JSON or has no "studies" array, named as above; or, with
 * `strict`, the first bad record); TD_ERR_NO_MEMORY; or as
 * td_index_update. *error gets a malloc'd message on failure. */
td_status_t td_index_sync(const char *api_url, const char *since, const td_index_options_t *options,
                          td_index_stats_t *stats, char **error);

/* Compacts the current version into a new one and swaps it in like a
 * build (readers keep the old one until the rename). Returns as
 * td_index_build. */
td_status_t td_index_compact(const td_index_options_t *options, td_index_stats_t *stats,
                             char **error);

/* Where `db`'s current version lives, for stats: a malloc'd path. Returns
 * TD_OK, TD_ERR_NOT_FOUND (no index) or TD_ERR_INVALID (not managed). */
td_status_t td_index_version_path(const char *db, char **path, char **error);

#ifdef __cplusplus
}
#endif

#endif
