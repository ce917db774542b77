/* td_xapian.h - the C binding over Xapian 1.4, the only door to <xapian.h>.
 *
 * A small C API with opaque handles, shaped after what trialdex needs rather
 * than after the whole C++ API:
 *
 *   td_xdb_t       a database: local (glass) or remote, read-only or
 *                  writable; a read handle may span several databases
 *                  (shards).
 *   td_xdoc_t      a document: terms, postings, value slots, data.
 *   td_xquery_t    an immutable query tree.
 *   td_xqp_t       the query parser (prefixes, range processors, stemming).
 *   td_xstem_t     a Snowball stemmer.
 *   td_xenquire_t  the settings of a search over one database (query,
 *                  weighting, sort, collapse, facet spies); it runs searches.
 *   td_xmset_t     the result set of one search: hits, estimates, snippets,
 *                  the terms each hit matched.
 *   td_xspy_t      a facet counter over a value slot, owned by an enquire.
 *   td_xlist_t     a snapshot list of (string, number) pairs: a document's
 *                  terms or values, a hit's matching terms, facet counts,
 *                  synonyms.
 *
 * Errors. Every function that can fail returns a td_status_t; results travel
 * through out-parameters, which are left untouched on failure. No C++
 * exception ever crosses this API. Any such function may return
 * TD_ERR_NO_MEMORY, and TD_ERR_INTERNAL for a failure inside Xapian that
 * has no better code; the other codes are listed with each function. The
 * Xapian exceptions map to codes as follows:
 *   DatabaseLockError                          TD_ERR_LOCKED
 *   DatabaseNotFoundError, DocNotFoundError    TD_ERR_NOT_FOUND
 *   DatabaseCorruptError, DatabaseVersionError,
 *   DatabaseOpeningError                       TD_ERR_CORRUPT (TD_ERR_IO when
 *                                              the system refused access)
 *   DatabaseModifiedError                      TD_ERR_MODIFIED
 *   QueryParserError, WildcardError            TD_ERR_BAD_QUERY
 *   RangeError, InvalidArgumentError           TD_ERR_RANGE
 *   InvalidOperationError, UnimplementedError,
 *   DatabaseClosedError                        TD_ERR_INVALID
 *   NetworkError, NetworkTimeoutError,
 *   DatabaseCreateError, other DatabaseError   TD_ERR_IO
 *
 * Messages. A failed call on a handle leaves a one-line message on that
 * handle, read with td_x<handle>_last_error(), saying what failed, where and
 * why, e.g. "cannot open index '/x': DatabaseLockError: Unable to get write
 * lock on /x: already locked". It stays valid until the next failing call on
 * that handle; successful calls leave it alone. A function that creates a
 * handle from another one leaves its message on the parent. The functions
 * that work on databases by path, without a handle, need words too: the
 * td_xdb_open* functions and td_xdb_compact_shards take `char **error`
 * instead, and td_xdb_check ends its report with the message. Everything
 * else without a message (td_xdoc_new, td_xqp_new, and the functions on
 * queries, stemmers and spies) can only fail in ways its status code fully
 * describes.
 *
 * Memory. Handles are freed with their own *_free (or td_xdb_close), each of
 * which accepts NULL. Strings returned through `char **` are malloc'd,
 * NUL-terminated (binary values may also contain NULs, so a length comes
 * with them) and owned by the caller, who frees them with free().
 *
 * Lifetimes. Xapian reference-counts what handles share, so freeing handles
 * in any order is safe: an enquire, result set, document or query parser
 * keeps the database it came from open after td_xdb_close (except a writable
 * database, which close shuts for everyone; see td_xdb_close).
 *
 * Threads. A handle must not be used from two threads at once, and handles
 * derived from one database (enquires, result sets, documents read from it)
 * share its state, so they belong to the same thread as the database.
 *
 * Misuse (NULL handles, writing through a read-only handle, an index past
 * the end of a list) is a programming error and is assert()ed.
 */
#ifndef TD_XAPIAN_H
#define TD_XAPIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct td_xdb td_xdb_t;
typedef struct td_xdoc td_xdoc_t;
typedef struct td_xquery td_xquery_t;
typedef struct td_xqp td_xqp_t;
typedef struct td_xstem td_xstem_t;
typedef struct td_xenquire td_xenquire_t;
typedef struct td_xmset td_xmset_t;
typedef struct td_xspy td_xspy_t;
typedef struct td_xlist td_xlist_t;

/* A document id: 1 and up; 0 is never a valid id. */
typedef uint32_t td_xdocid_t;

/* ---- Lists ------------------------------------------------------------ */

/* Number of entries. */
size_t td_xlist_count(const td_xlist_t *list);

/* The string of entry `index` (< count); *len (if len is not NULL) gets its
 * length, as the string may contain NULs. Valid until the list is freed. */
const char *td_xlist_string(const td_xlist_t *list, size_t index, size_t *len);

/* The number of entry `index` (< count); its meaning depends on the function
 * that made the list. */
uint64_t td_xlist_number(const td_xlist_t *list, size_t index);

/* Frees the list. Accepts NULL. */
void td_xlist_free(td_xlist_t *list);

/* ---- Values ----------------------------------------------------------- */

/* Longest encoding td_xsortable_serialise() produces. */
#define TD_XSORTABLE_MAX 9

/* Encodes a number into `out` (room for TD_XSORTABLE_MAX bytes) so that
 * byte-wise order of the encodings is numeric order, as value ranges, sorting
 * and the number range processor expect. Returns the length used (not
 * NUL-terminated). */
size_t td_xsortable_serialise(double value, char *out);

/* Encodes `count` coordinates (degrees) as Xapian's LatLongCoords, the value
 * a geo distance search reads from a slot. Returns TD_OK with *out malloc'd
 * (binary, *len bytes; the caller frees), TD_ERR_RANGE for a latitude
 * outside -90..90, or TD_ERR_NO_MEMORY. */
td_status_t td_xlatlong_serialise(const double *latitudes, const double *longitudes, size_t count,
                                  char **out, size_t *len);

/* ---- Databases -------------------------------------------------------- */

typedef enum td_xdb_mode {
    TD_XDB_READ,           /* open an existing database read-only */
    TD_XDB_OPEN,           /* open an existing database for writing */
    TD_XDB_CREATE,         /* create a new database; fail if one exists */
    TD_XDB_CREATE_OR_OPEN, /* open for writing, creating it if needed */
    TD_XDB_OVERWRITE       /* create for writing, replacing any existing one */
} td_xdb_mode_t;

/* Opens the database at `path` (a glass directory or a stub file) in `mode`.
 * A writable database takes the single write lock, which is held per
 * database across all processes (a second writable open in the same process
 * fails too).
 * On TD_OK, *out is a handle to close with td_xdb_close. On failure, when
 * `error` is not NULL, *error gets a malloc'd one-line message (or NULL if
 * that could not be allocated); on success *error is set to NULL.
 * Returns TD_OK;
 *   TD_ERR_NOT_FOUND  no database at `path` (TD_XDB_READ, TD_XDB_OPEN);
 *   TD_ERR_LOCKED     another writable handle holds the lock;
 *   TD_ERR_CORRUPT    the files are damaged, of an unsupported version, or
 *                     not a database;
 *   TD_ERR_IO         the directory cannot be created, a database already
 *                     exists (TD_XDB_CREATE), or reading failed. */
td_status_t td_xdb_open(const char *path, td_xdb_mode_t mode, td_xdb_t **out, char **error);

/* Connects to a database served by `xapian-tcpsrv` on host:port, writable
 * if `writable` (the server must then run with --writable). `timeout_ms`
 * bounds connecting and each later operation; 0 waits forever.
 * Spelling, synonyms and revisions are not available remotely (calls fail
 * with TD_ERR_INVALID).
 * Ownership and `error` as for td_xdb_open.
 * Returns TD_OK; TD_ERR_IO when the server cannot be reached, the
 * connection fails or times out. (A server cannot start on a database that
 * is locked, so remote writers never see TD_ERR_LOCKED.) */
td_status_t td_xdb_open_remote(const char *host, unsigned port, unsigned timeout_ms, bool writable,
                               td_xdb_t **out, char **error);

/* Adds the databases of `other` (local, remote or itself sharded) to the
 * read-only handle `db`, which then searches them all as one; document ids
 * interleave across the shards. `other` may be closed afterwards; `db`
 * keeps what it needs open.
 * Returns TD_OK. */
td_status_t td_xdb_add_database(td_xdb_t *db, const td_xdb_t *other);

/* Closes the handle. A writable database is closed at once: pending changes
 * are committed (an open transaction is cancelled instead), the write lock
 * is released, and handles derived from it then fail with TD_ERR_INVALID.
 * Errors at this point cannot be reported, so call td_xdb_commit first. A
 * read-only database stays open until the last handle using it (enquire,
 * result set, document, query parser, sharded handle) is freed.
 * Accepts NULL. */
void td_xdb_close(td_xdb_t *db);

/* The message of the last failed call on `db`, or "". Valid until the next
 * failing call on `db` or its close. */
const char *td_xdb_last_error(const td_xdb_t *db);

/* Moves the handle to the latest committed revision, which is how a reader
 * recovers from TD_ERR_MODIFIED. *changed (if not NULL) is false only when
 * the database certainly did not change.
 * Returns TD_OK; TD_ERR_CORRUPT; TD_ERR_IO. */
td_status_t td_xdb_reopen(td_xdb_t *db, bool *changed);

/* Number of documents.
 * Returns TD_OK; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_doc_count(td_xdb_t *db, uint32_t *out);

/* Whether some document has `term`.
 * Returns TD_OK; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_term_exists(td_xdb_t *db, const char *term, bool *out);

/* Number of documents that have `term` (0 when none).
 * Returns TD_OK; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_termfreq(td_xdb_t *db, const char *term, uint32_t *out);

/* The id of the first document (the lowest id) that has `term`, usually a
 * unique id term such as "QNCT01234567", into *out: the document an upsert
 * with that term replaces, whose stored content hash says whether it needs
 * to. A writable handle sees its uncommitted changes too.
 * Returns TD_OK; TD_ERR_NOT_FOUND when no document has `term`;
 * TD_ERR_RANGE for an empty term; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_find_unique(td_xdb_t *db, const char *term, td_xdocid_t *out);

/* Every term that starts with `prefix` ("" for all terms) in byte order, as
 * a new list *out whose numbers are the terms' document frequencies (free
 * with td_xlist_free): td_xdb_terms_with_prefix(db, "Q", &ids) lists every
 * stored NCT ID. A sharded handle merges the shards' terms, summing their
 * frequencies; a writable handle sees its uncommitted changes too.
 * Returns TD_OK; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_terms_with_prefix(td_xdb_t *db, const char *prefix, td_xlist_t **out);

/* The revision of a single local database; it grows with each commit.
 * Returns TD_OK; TD_ERR_INVALID for a sharded or remote handle. */
td_status_t td_xdb_revision(td_xdb_t *db, uint64_t *out);

/* The UUID identifying the database (for a sharded handle, the shards' UUIDs
 * joined with ':'), malloc'd into *out.
 * Returns TD_OK; TD_ERR_IO. */
td_status_t td_xdb_uuid(td_xdb_t *db, char **out);

/* Size and state of a database, as td_xdb_stats reads them. A document's
 * length is the sum of the within-document frequencies of its terms, so
 * boolean terms do not count. */
typedef struct td_xdb_stats {
    uint32_t doc_count;    /* number of documents */
    uint64_t total_length; /* sum of the lengths of all documents */
    double average_length; /* total_length / doc_count; 0 when empty */
    uint32_t last_docid;   /* highest id ever used, deleted documents
                              included; 0 for a new database */
    uint64_t revision;     /* as td_xdb_revision for a single local
                              database; 0 for a sharded or remote one */
    bool has_positions;    /* whether any document has positions, which
                              phrase and NEAR queries need */
} td_xdb_stats_t;

/* Reads the statistics of `db` (all its shards together) into *out. A
 * writable handle counts its uncommitted changes too.
 * Returns TD_OK; TD_ERR_IO; TD_ERR_MODIFIED. */
td_status_t td_xdb_stats(td_xdb_t *db, td_xdb_stats_t *out);

/* Reads document `docid` into a new document handle *out (free with
 * td_xdoc_free). Its contents are read lazily, so later reads on it can
 * still fail with TD_ERR_MODIFIED or TD_ERR_IO.
 * Returns TD_OK; TD_ERR_RANGE for docid 0; TD_ERR_NOT_FOUND when there is
 * no such document; TD_ERR_MODIFIED; TD_ERR_IO. */
td_status_t td_xdb_get_document(td_xdb_t *db, td_xdocid_t docid, td_xdoc_t **out);

/* User metadata: the value stored under `key` (non-empty), malloc'd into
 * *value with its length in *len (len may be NULL).
 * Returns TD_OK; TD_ERR_NOT_FOUND when no value is stored under `key`;
 * TD_ERR_RANGE for an empty key; TD_ERR_IO. */
td_status_t td_xdb_get_metadata(td_xdb_t *db, const char *key, char **value, size_t *len);

/* Stores `len` bytes of `value` under `key` (non-empty) in a writable
 * database; an empty value deletes the key. Visible after commit.
 * Returns TD_OK; TD_ERR_RANGE for an empty key; TD_ERR_IO. */
td_status_t td_xdb_set_metadata(td_xdb_t *db, const char *key, const char *value, size_t len);

/* Upsert: stores `doc` in a writable database in place of every document
 * that has the term `unique_term`, or as a new document when none has it.
 * `doc` should itself contain `unique_term` (usually as a boolean term), or
 * a later upsert will not find it. *docid (if not NULL) gets the id used.
 * Returns TD_OK; TD_ERR_RANGE for an empty term; TD_ERR_IO. */
td_status_t td_xdb_replace_document(td_xdb_t *db, const char *unique_term, const td_xdoc_t *doc,
                                    td_xdocid_t *docid);

/* Deletes every document that has the term `unique_term` from a writable
 * database. Deleting what is not there is not an error.
 * Returns TD_OK; TD_ERR_RANGE for an empty term; TD_ERR_IO. */
td_status_t td_xdb_delete_document(td_xdb_t *db, const char *unique_term);

/* Makes the changes to a writable database durable and visible to readers
 * that reopen.
 * Returns TD_OK; TD_ERR_INVALID inside a transaction; TD_ERR_IO. */
td_status_t td_xdb_commit(td_xdb_t *db);

/* Starts a transaction on a writable database: its changes are applied
 * all together or not at all. A `flushed` transaction also commits pending
 * changes before it starts and its own changes when it ends; an unflushed one
 * only guarantees atomicity.
 * Returns TD_OK; TD_ERR_INVALID when a transaction is already open;
 * TD_ERR_IO. */
td_status_t td_xdb_begin_transaction(td_xdb_t *db, bool flushed);

/* Ends the open transaction, keeping its changes.
 * Returns TD_OK; TD_ERR_INVALID when no transaction is open; TD_ERR_IO. */
td_status_t td_xdb_commit_transaction(td_xdb_t *db);

/* Ends the open transaction, discarding its changes.
 * Returns TD_OK; TD_ERR_INVALID when no transaction is open; TD_ERR_IO. */
td_status_t td_xdb_cancel_transaction(td_xdb_t *db);

/* Spelling dictionary of a writable local database: adds `freq` to the
 * frequency of `word`, or removes up to `freq` from it (the word goes when
 * its frequency reaches 0; removing an unknown word does nothing).
 * Returns TD_OK; TD_ERR_INVALID on a remote database; TD_ERR_IO. */
td_status_t td_xdb_add_spelling(td_xdb_t *db, const char *word, uint32_t freq);
td_status_t td_xdb_remove_spelling(td_xdb_t *db, const char *word, uint32_t freq);

/* The dictionary word closest to `word` within `max_edit_distance` edits
 * (Xapian's default is 2), malloc'd into *out. The suggestion is only that:
 * callers decide whether to use it.
 * Returns TD_OK; TD_ERR_NOT_FOUND when nothing is close enough (always so
 * for a remote database); TD_ERR_IO. */
td_status_t td_xdb_spelling_suggestion(td_xdb_t *db, const char *word, unsigned max_edit_distance,
                                       char **out);

/* Every word of the spelling dictionary in sorted order, with its frequency
 * as the number, as a new list *out (free with td_xlist_free).
 * Returns TD_OK; TD_ERR_IO (always so for a remote database). */
td_status_t td_xdb_spellings(td_xdb_t *db, td_xlist_t **out);

/* Synonym dictionary of a writable local database: records that `synonym`
 * is a synonym of `term` (both are terms as indexed; `term` may be several
 * space-separated terms), or forgets every synonym of `term`.
 * Returns TD_OK; TD_ERR_INVALID on a remote database; TD_ERR_IO. */
td_status_t td_xdb_add_synonym(td_xdb_t *db, const char *term, const char *synonym);
td_status_t td_xdb_clear_synonyms(td_xdb_t *db, const char *term);

/* The synonyms of `term` in sorted order, as a new list *out (numbers are 0;
 * free with td_xlist_free). Empty when there are none.
 * Returns TD_OK; TD_ERR_INVALID on a remote database; TD_ERR_IO. */
td_status_t td_xdb_synonyms(td_xdb_t *db, const char *term, td_xlist_t **out);

/* Writes a compacted copy of the committed state of `db` (all its shards,
 * merged, documents renumbered) as a new glass database in the directory
 * `destination`. `multipass` merges many shards faster at the cost of
 * temporary disk space.
 * Returns TD_OK; TD_ERR_RANGE when `destination` is the source itself;
 * TD_ERR_IO when writing fails, and for a remote database (which cannot be
 * compacted). */
td_status_t td_xdb_compact(td_xdb_t *db, const char *destination, bool multipass);

/* Merges the local databases at `sources` (`count` >= 1 paths, in that
 * order) into a new compacted glass database in the directory
 * `destination`, e.g. shards built in parallel. `destination` is created
 * (its parent must exist); an existing database there is replaced, so give
 * a new directory and swap it in rather than compact onto an index in use.
 * Each shard's committed state is read; the sources are left unchanged.
 * What the result holds:
 *   documents  all of them, renumbered in order: the first shard's, then the
 *              second's, and so on, each shard's ids shifted to follow the
 *              previous shard's highest;
 *   spelling   every word, with its frequencies summed over the shards;
 *   synonyms   for each term, the union of its synonyms in every shard;
 *   metadata   every key; a key stored in several shards keeps the value of
 *              the first shard in `sources` that has it (Xapian alone would
 *              keep any one of them).
 * Passes over the postings in several rounds when there are more than three
 * shards, which is faster at the cost of temporary disk space.
 * On failure, when `error` is not NULL, *error gets a malloc'd one-line
 * message (or NULL if that could not be allocated), naming the shard that
 * could not be opened or the destination that could not be written; on
 * success *error is set to NULL.
 * Returns TD_OK;
 *   TD_ERR_NOT_FOUND  a source does not exist;
 *   TD_ERR_CORRUPT    a source is damaged, of an unsupported version, or not a
 *                     database;
 *   TD_ERR_RANGE      `destination` is one of the sources;
 *   TD_ERR_IO         `destination` cannot be created or written, or reading
 *                     a source failed. */
td_status_t td_xdb_compact_shards(const char *const *sources, size_t count, const char *destination,
                                  char **error);

/* Checks the local database at `path` (a glass directory; a table file such
 * as "postlist.glass" checks that table alone) as `xapian-check` does with
 * no options: it walks every block of every table, checking the structure
 * of each B-tree and its free list and the postings, value and document
 * length records in them, and cross-checks document lengths between the
 * termlist and postlist tables. It reads the whole database once and prints
 * no trees. It reads the last commit and takes no lock; check a database
 * no writer is changing, or a commit under way can make it fail or report
 * damage that is not there.
 * *report gets the checker's account, table by table, malloc'd for the
 * caller to free (or NULL if it could not be allocated); on failure it ends
 * with a one-line message saying what failed.
 * Returns TD_OK with *errors the number of problems found (0 for a sound
 * database: the caller decides what more means);
 *   TD_ERR_NOT_FOUND  nothing at `path`;
 *   TD_ERR_CORRUPT    damage the checker could not read past, or `path` is
 *                     not a database; *errors is then 1, as the count so far
 *                     is lost, and *report has what was checked before;
 *   TD_ERR_MODIFIED   a commit changed the database during the check;
 *   TD_ERR_IO         reading failed.
 * On the other failures *errors is left untouched. */
td_status_t td_xdb_check(const char *path, size_t *errors, char **report);

/* ---- Documents -------------------------------------------------------- */

/* A new empty document *out, to fill and pass to td_xdb_replace_document.
 * Free with td_xdoc_free.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xdoc_new(td_xdoc_t **out);

/* Frees the document. Accepts NULL. */
void td_xdoc_free(td_xdoc_t *doc);

/* The message of the last failed call on `doc`, or "". */
const char *td_xdoc_last_error(const td_xdoc_t *doc);

/* Adds `term` (non-empty) with `wdf` added to its within-document frequency,
 * without a position.
 * Returns TD_OK; TD_ERR_RANGE for an empty term. */
td_status_t td_xdoc_add_term(td_xdoc_t *doc, const char *term, uint32_t wdf);

/* Adds `term` as a filter term: it matches but does not weigh (wdf 0). Use
 * it for unique ids and facet filters.
 * Returns TD_OK; TD_ERR_RANGE for an empty term. */
td_status_t td_xdoc_add_boolean_term(td_xdoc_t *doc, const char *term);

/* Adds `term` at position `position` (1 and up), adding `wdf` to its
 * within-document frequency; positions make phrase and NEAR queries work.
 * Returns TD_OK; TD_ERR_RANGE for an empty term. */
td_status_t td_xdoc_add_posting(td_xdoc_t *doc, const char *term, uint32_t position, uint32_t wdf);

/* Indexes `text` the way Xapian's own TermGenerator does (its tokenizer,
 * and with `stem` not NULL, "Z"-prefixed stems of every word), each term
 * prefixed with `prefix` ("" for none), positions continuing from
 * *position, which is updated. trialdex indexes through its own analyzer;
 * this is the baseline the benchmarks compare it with. Returns TD_OK. */
td_status_t td_xdoc_index_text(td_xdoc_t *doc, const td_xstem_t *stem, const char *text, size_t len,
                               const char *prefix, uint32_t *position);

/* Removes `term` with all its positions.
 * Returns TD_OK; TD_ERR_NOT_FOUND when the document does not have `term`;
 * TD_ERR_IO or TD_ERR_MODIFIED for a document read from a database. */
td_status_t td_xdoc_remove_term(td_xdoc_t *doc, const char *term);

/* Stores `len` bytes of `value` in value slot `slot`, replacing what was
 * there; an empty value clears the slot. Numbers go through
 * td_xsortable_serialise, dates as "YYYYMMDD".
 * Returns TD_OK; TD_ERR_IO or TD_ERR_MODIFIED for a document read from a
 * database. */
td_status_t td_xdoc_set_value(td_xdoc_t *doc, unsigned slot, const char *value, size_t len);

/* The value in slot `slot`, malloc'd into *value, its length in *len (len may
 * be NULL).
 * Returns TD_OK; TD_ERR_NOT_FOUND when the slot is empty; TD_ERR_IO or
 * TD_ERR_MODIFIED for a document read from a database. */
td_status_t td_xdoc_get_value(td_xdoc_t *doc, unsigned slot, char **value, size_t *len);

/* Stores `len` bytes as the document data (the display record).
 * Returns TD_OK; TD_ERR_IO or TD_ERR_MODIFIED for a document read from a
 * database. */
td_status_t td_xdoc_set_data(td_xdoc_t *doc, const char *data, size_t len);

/* The document data, malloc'd into *data (empty string when none), its length
 * in *len (len may be NULL).
 * Returns TD_OK; TD_ERR_IO or TD_ERR_MODIFIED for a document read from a
 * database. */
td_status_t td_xdoc_get_data(td_xdoc_t *doc, char **data, size_t *len);

/* The document's terms in byte order, as a new list *out whose numbers are
 * the within-document frequencies (0 for boolean terms). Free with
 * td_xlist_free.
 * Returns TD_OK; TD_ERR_IO or TD_ERR_MODIFIED for a document read from a
 * database. */
td_status_t td_xdoc_terms(td_xdoc_t *doc, td_xlist_t **out);

/* The document's non-empty values in slot order, as a new list *out whose
 * numbers are the slots. Free with td_xlist_free.
 * Returns TD_OK; TD_ERR_IO or TD_ERR_MODIFIED for a document read from a
 * database. */
td_status_t td_xdoc_values(td_xdoc_t *doc, td_xlist_t **out);

/* ---- Queries ---------------------------------------------------------- */

/* Operators for compound queries and the parser's default operator. */
typedef enum td_xop {
    TD_XOP_AND,       /* all children match */
    TD_XOP_OR,        /* any child matches */
    TD_XOP_AND_NOT,   /* the first child matches and none of the others */
    TD_XOP_AND_MAYBE, /* the first child matches; the others only add weight */
    TD_XOP_FILTER,    /* the first child matches and weighs; the others only
                         restrict */
    TD_XOP_PHRASE,    /* the children appear in order within a window */
    TD_XOP_NEAR,      /* the children appear in any order within a window */
    TD_XOP_ELITE_SET, /* OR over only the best-weighted children */
    TD_XOP_SYNONYM    /* OR, weighted as if the children were one term */
} td_xop_t;

/* Queries are immutable. Every constructor copies what it is given, so the
 * children passed to a compound query may be freed right after the call.
 * All return TD_OK with a new query in *out (free with td_xquery_free), or
 * TD_ERR_NO_MEMORY. */

/* Matches documents with `term` (non-empty). `wdf` is its within-query
 * frequency (1 normally; more weighs the term more), `position` its position
 * in the query (0 for none), which orders the matching terms of a hit. */
td_status_t td_xquery_new_term(const char *term, uint32_t wdf, uint32_t position,
                               td_xquery_t **out);

/* Combines `count` children with `op`. `window` is the span in positions for
 * TD_XOP_PHRASE and TD_XOP_NEAR (0 means the number of children) and the
 * number of children kept by TD_XOP_ELITE_SET (0 means a default of 10); it
 * is ignored for the other operators. No children make a query that
 * matches nothing. */
td_status_t td_xquery_new_compound(td_xop_t op, const td_xquery_t *const *children, size_t count,
                                   uint32_t window, td_xquery_t **out);

/* `query` with every weight multiplied by `factor` (>= 0; 0 makes it a pure
 * filter). */
td_status_t td_xquery_new_scaled(const td_xquery_t *query, double factor, td_xquery_t **out);

/* Matches every document, each with the weight `weight` (>= 0). */
td_status_t td_xquery_new_constant(double weight, td_xquery_t **out);

/* Matches documents whose value in `slot` lies between `low` and `high`
 * inclusive, compared byte-wise. A NULL bound is open; at least one must be
 * given. */
td_status_t td_xquery_new_value_range(unsigned slot, const char *low, size_t low_len,
                                      const char *high, size_t high_len, td_xquery_t **out);

/* Matches documents with coordinates (td_xlatlong_serialise) in `slot`
 * within `max_metres` (0: any distance) of the point, great-circle distance
 * to the nearest of them; the weight falls as the distance grows, so
 * relevance order is nearest first.
 * Returns TD_OK; TD_ERR_RANGE for a latitude outside -90..90 or a negative
 * distance. */
td_status_t td_xquery_new_distance(unsigned slot, double latitude, double longitude,
                                   double max_metres, td_xquery_t **out);

/* Matches every document, with no weight. */
td_status_t td_xquery_new_match_all(td_xquery_t **out);

/* Matches no document. */
td_status_t td_xquery_new_match_nothing(td_xquery_t **out);

/* Xapian's description of the query for debugging, e.g.
 * "Query((her2@1 PHRASE 2 low@2))", malloc'd into *out.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xquery_describe(const td_xquery_t *query, char **out);

/* Frees the query. Accepts NULL. */
void td_xquery_free(td_xquery_t *query);

/* ---- Stemmer ---------------------------------------------------------- */

/* A stemmer for `language`: a Snowball name such as "english", or an ISO
 * code such as "en"; "none" stems nothing. Free with td_xstem_free.
 * Returns TD_OK; TD_ERR_RANGE for an unknown language. */
td_status_t td_xstem_new(const char *language, td_xstem_t **out);

/* Frees the stemmer. Accepts NULL. */
void td_xstem_free(td_xstem_t *stem);

/* The stem of `word` (lower-case UTF-8), malloc'd into *out.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xstem_word(const td_xstem_t *stem, const char *word, char **out);

/* ---- Query parser ----------------------------------------------------- */

/* Flags for td_xqp_parse (the values are Xapian's). */
enum {
    TD_XQP_BOOLEAN = 1,                    /* AND, OR, NOT, XOR, NEAR, ADJ, brackets */
    TD_XQP_PHRASE = 2,                     /* "quoted phrases" */
    TD_XQP_LOVEHATE = 4,                   /* +required -excluded */
    TD_XQP_BOOLEAN_ANY_CASE = 8,           /* operators in any case */
    TD_XQP_WILDCARD = 16,                  /* trailing * (needs td_xqp_set_database) */
    TD_XQP_PURE_NOT = 32,                  /* a query may start with NOT */
    TD_XQP_PARTIAL = 64,                   /* the last word is a prefix (as you type) */
    TD_XQP_SYNONYM = 256,                  /* ~term expands synonyms */
    TD_XQP_AUTO_SYNONYMS = 512,            /* every term expands synonyms */
    TD_XQP_AUTO_MULTIWORD_SYNONYMS = 1024, /* word groups expand too */
    TD_XQP_DEFAULT = TD_XQP_BOOLEAN | TD_XQP_PHRASE | TD_XQP_LOVEHATE
};

typedef enum td_xstem_strategy {
    TD_XSTEM_NONE,          /* no stemming */
    TD_XSTEM_SOME,          /* stem words not capitalised, as "Z"-prefixed
                               terms, except in phrases (the default) */
    TD_XSTEM_SOME_FULL_POS, /* as TD_XSTEM_SOME, also under NEAR and ADJ */
    TD_XSTEM_ALL,           /* stem every word, no "Z" prefix */
    TD_XSTEM_ALL_Z          /* stem every word, with the "Z" prefix */
} td_xstem_strategy_t;

/* Flags for the range processors (the values are Xapian's). */
enum {
    TD_XRANGE_SUFFIX = 1,    /* `marker` ends the range ("5..10kg") */
    TD_XRANGE_REPEATED = 2,  /* `marker` may appear on both ends */
    TD_XRANGE_PREFER_MDY = 4 /* dates: read 01/02/2020 as January 2nd */
};

/* A new query parser with Xapian's defaults: no stemmer, default operator
 * OR. Free with td_xqp_free.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xqp_new(td_xqp_t **out);

/* Frees the parser. Accepts NULL. */
void td_xqp_free(td_xqp_t *qp);

/* The message of the last failed call on `qp`, or "". */
const char *td_xqp_last_error(const td_xqp_t *qp);

/* Stems query words with a copy of `stem` (NULL: no stemmer) following
 * `strategy`.
 * Returns TD_OK. */
td_status_t td_xqp_set_stemmer(td_xqp_t *qp, const td_xstem_t *stem, td_xstem_strategy_t strategy);

/* The operator joining words that have none between them.
 * Returns TD_OK; TD_ERR_RANGE for an operator other than AND, OR, PHRASE,
 * NEAR, ELITE_SET and SYNONYM. */
td_status_t td_xqp_set_default_op(td_xqp_t *qp, td_xop_t op);

/* The database used to expand wildcards and synonyms; the parser keeps it
 * open.
 * Returns TD_OK. */
td_status_t td_xqp_set_database(td_xqp_t *qp, td_xdb_t *db);

/* Maps the user's `field:` to the term prefix `prefix` for free text; may be
 * called again to search one field under several prefixes. An empty field
 * sets the prefixes searched by unqualified words.
 * Returns TD_OK; TD_ERR_INVALID when `field` is already a boolean field. */
td_status_t td_xqp_add_prefix(td_xqp_t *qp, const char *field, const char *prefix);

/* Maps `field:value` to the filter term `prefix` + value. Filters in the
 * same `grouping` are ORed, different groupings ANDed; NULL groups by
 * `field`, "" gives each filter its own group (for fields with several
 * values per document).
 * Returns TD_OK; TD_ERR_RANGE for an empty field; TD_ERR_INVALID when
 * `field` is already a free-text field. */
td_status_t td_xqp_add_boolean_prefix(td_xqp_t *qp, const char *field, const char *prefix,
                                      const char *grouping);

/* Recognises ranges "a..b" whose ends are numbers, introduced by `marker`
 * ("" for none; a suffix with TD_XRANGE_SUFFIX), as a value range over
 * `slot`, whose values must come from td_xsortable_serialise. `flags` are
 * TD_XRANGE_SUFFIX and TD_XRANGE_REPEATED. Processors are tried in the order
 * added.
 * Returns TD_OK. */
td_status_t td_xqp_add_number_range(td_xqp_t *qp, unsigned slot, const char *marker,
                                    unsigned flags);

/* As td_xqp_add_number_range for dates (2020-01-31, 2020/01/31, 20200131,
 * 31/01/2020, or 01/31/2020 with TD_XRANGE_PREFER_MDY) over a slot holding
 * "YYYYMMDD".
 * Returns TD_OK. */
td_status_t td_xqp_add_date_range(td_xqp_t *qp, unsigned slot, const char *marker, unsigned flags);

/* Parses `text` under `flags` (TD_XQP_*). Words without a field get
 * `default_prefix` or, when it is NULL, the prefixes added for the empty
 * field (none by default). On TD_OK *out is a new query (free with
 * td_xquery_free).
 * Returns TD_OK; TD_ERR_BAD_QUERY when the text does not parse, with
 * Xapian's reason in td_xqp_last_error (e.g. "cannot parse query 'AND AND
 * (': QueryParserError: Syntax: <expression> AND <expression>"). */
td_status_t td_xqp_parse(td_xqp_t *qp, const char *text, unsigned flags, const char *default_prefix,
                         td_xquery_t **out);

/* ---- Searching -------------------------------------------------------- */

typedef enum td_xsort {
    TD_XSORT_RELEVANCE,            /* best weight first (the default) */
    TD_XSORT_VALUE,                /* by the value in a slot only */
    TD_XSORT_VALUE_THEN_RELEVANCE, /* by value, ties by weight */
    TD_XSORT_RELEVANCE_THEN_VALUE  /* by weight, ties by value */
} td_xsort_t;

/* BM25 parameters; Xapian's defaults are k1 1, k2 0, k3 1, b 0.5,
 * min_normlen 0.5. Negative k1, k2, k3 or b count as 0, b above 1 as 1. */
typedef struct td_xbm25 {
    double k1;          /* term-frequency saturation */
    double k2;          /* document-length correction */
    double k3;          /* within-query frequency saturation */
    double b;           /* document-length normalisation, 0..1 */
    double min_normlen; /* floor on the normalised document length */
} td_xbm25_t;

/* A new enquire over `db`, with no query (it matches nothing), BM25 at
 * Xapian's defaults and relevance order. It keeps `db` open. Free with
 * td_xenquire_free.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xenquire_new(td_xdb_t *db, td_xenquire_t **out);

/* Frees the enquire and its spies. Result sets it made stay valid.
 * Accepts NULL. */
void td_xenquire_free(td_xenquire_t *enquire);

/* The message of the last failed call on `enquire`, or "". */
const char *td_xenquire_last_error(const td_xenquire_t *enquire);

/* The settings below only take effect in the next td_xenquire_mset and
 * cannot fail. */

/* Searches for a copy of `query`. */
void td_xenquire_set_query(td_xenquire_t *enquire, const td_xquery_t *query);

/* Weighs matches with BM25 under `params`. */
void td_xenquire_set_bm25(td_xenquire_t *enquire, td_xbm25_t params);

/* Orders hits by `order`; `slot` and `descending` apply to the value part
 * (values compare byte-wise; descending puts the greatest first). */
void td_xenquire_set_sort(td_xenquire_t *enquire, td_xsort_t order, unsigned slot, bool descending);

/* Keeps at most `max` hits per distinct value in `slot` (documents with no
 * value there are never collapsed); max 0 turns collapsing off. */
void td_xenquire_set_collapse(td_xenquire_t *enquire, unsigned slot, uint32_t max);

/* Adds a facet spy *out counting the values in `slot` over the documents the
 * searches examine. The spy belongs to the enquire and is freed with it.
 * Counts accumulate over every later td_xenquire_mset; they are exact only
 * when check_at_least reaches the number of matches.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xenquire_add_spy(td_xenquire_t *enquire, unsigned slot, td_xspy_t **out);

/* Runs the search and returns hits `first` .. `first + max - 1` in rank order
 * as a new result set *out (free with td_xmset_free). At least
 * `check_at_least` matches are examined (making estimates and spy counts
 * exact up to that many); max 0 gives only the estimates. The result set
 * is independent of the enquire: later settings do not change it.
 * Returns TD_OK; TD_ERR_MODIFIED when the database changed underneath
 * (reopen it and retry); TD_ERR_CORRUPT; TD_ERR_IO (also a remote
 * timeout); TD_ERR_INVALID when the database was a writable one since
 * closed. */
td_status_t td_xenquire_mset(td_xenquire_t *enquire, uint32_t first, uint32_t max,
                             uint32_t check_at_least, td_xmset_t **out);

/* Number of documents the spy has tallied. */
size_t td_xspy_total(const td_xspy_t *spy);

/* The values counted, as a new list *out whose numbers are the counts: with
 * top 0, every value in byte order; otherwise the `top` most frequent, most
 * frequent first (ties in byte order). Free with td_xlist_free.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_xspy_values(const td_xspy_t *spy, size_t top, td_xlist_t **out);

/* ---- Result sets ------------------------------------------------------ */

/* Number of hits held (at most the `max` asked for). Hits are indexed
 * 0 .. size - 1 below. */
size_t td_xmset_size(const td_xmset_t *mset);

/* Estimate of the total number of matches, and bounds on it. */
uint32_t td_xmset_matches_estimated(const td_xmset_t *mset);
uint32_t td_xmset_matches_lower_bound(const td_xmset_t *mset);
uint32_t td_xmset_matches_upper_bound(const td_xmset_t *mset);

/* Per hit: its document id, its rank over all matches (first + index), its
 * weight, Xapian's percentage score (0..100, scaled so that the best hit
 * matching every query term gets 100), and how many other documents
 * collapsing folded into it. */
td_xdocid_t td_xmset_docid(const td_xmset_t *mset, size_t index);
uint32_t td_xmset_rank(const td_xmset_t *mset, size_t index);
double td_xmset_weight(const td_xmset_t *mset, size_t index);
int td_xmset_percent(const td_xmset_t *mset, size_t index);
uint32_t td_xmset_collapse_count(const td_xmset_t *mset, size_t index);

/* The message of the last failed call on `mset`, or "". */
const char *td_xmset_last_error(const td_xmset_t *mset);

/* The data of hit `index`, malloc'd into *data, its length in *len (len may
 * be NULL).
 * Returns TD_OK; TD_ERR_MODIFIED; TD_ERR_IO; TD_ERR_INVALID when a writable
 * database it came from was closed. */
td_status_t td_xmset_data(td_xmset_t *mset, size_t index, char **data, size_t *len);

/* The document of hit `index` as a new handle *out (free with
 * td_xdoc_free).
 * Returns as td_xmset_data. */
td_status_t td_xmset_document(td_xmset_t *mset, size_t index, td_xdoc_t **out);

/* "Why matched": the query terms that hit `index` contains, in query order,
 * as a new list *out whose numbers are the terms' within-document
 * frequencies. Free with td_xlist_free.
 * Returns as td_xmset_data. */
td_status_t td_xmset_matching_terms(td_xmset_t *mset, size_t index, td_xlist_t **out);

/* A snippet of about `length` bytes of `text` chosen where the query matches
 * best, with matches wrapped in `hi_start` and `hi_end` and "..." where text
 * was cut. Words are stemmed with `stem` (NULL for none), which should be
 * the stemmer the query was built with. The text comes back HTML-escaped
 * (e.g. "&" as "&amp;"), malloc'd into *out.
 * Returns TD_OK; TD_ERR_MODIFIED; TD_ERR_IO. */
td_status_t td_xmset_snippet(td_xmset_t *mset, const char *text, size_t length,
                             const td_xstem_t *stem, const char *hi_start, const char *hi_end,
                             char **out);

/* Frees the result set. Accepts NULL. */
void td_xmset_free(td_xmset_t *mset);

#ifdef __cplusplus
}
#endif

#endif
