/* index.c - building and updating trialdex indexes.
 *
 * Layout on disk: the index path `db` is a symbolic link to the current
 * version, a directory `db.data/<time>-<pid>`. A full build writes a new
 * version (shards built in parallel, then merged by compaction) and swaps
 * the link with one rename(2): readers see the old index or the new one,
 * never a half-built one. Updates write the current version in place in
 * Xapian transactions, whose commits are atomic.
 *
 * Writers exclude each other with a POSIX record lock on `db.lock`; the
 * lock's owner is reported by pid. Readers take no lock.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer_internal.h"
#include "index_internal.h"
#include "td_indexer.h"
#include "td_schema.h"

/* Records written between two commits of an update. */
#define UPDATE_BATCH 2000
/* Documents a build's shard holds in memory before writing them out.
 * Xapian's default (10,000) is slower here: its in-memory posting maps grow
 * past the caches, and every posting added costs a lookup in them. */
#define SHARD_BATCH 500
/* Trials waiting for a build worker. */
#define QUEUE_CAPACITY 256
#define MAX_THREADS 16

const char *td_index_default_path(void)
{
    const char *env = getenv(TD_DB_ENV);
    return env && *env ? env : TD_DB_DEFAULT;
}

td_status_t td_index_fail(char **error, td_status_t status, const char *fmt, ...)
{
    if (error && !*error) {
        char message[2048];
        va_list args;
        va_start(args, fmt);
        vsnprintf(message, sizeof(message), fmt, args);
        va_end(args);
        *error = strdup(message);
    }
    return status;
}

double td_index_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- the writer lock ---- */

td_status_t td_index_lock(const char *db, td_index_lock_t *lock, char **error)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s.lock", db);
    lock->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock->fd < 0)
        return td_index_fail(error, TD_ERR_IO, "cannot open lock file '%s': %s", path,
                             strerror(errno));
    struct flock request = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(lock->fd, F_SETLK, &request) == 0)
        return TD_OK;
    struct flock holder = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = fcntl(lock->fd, F_GETLK, &holder) == 0 ? (long) holder.l_pid : -1;
    close(lock->fd);
    lock->fd = -1;
    return td_index_fail(error, TD_ERR_LOCKED, "index '%s' locked by pid %ld", db, pid);
}

void td_index_unlock(td_index_lock_t *lock)
{
    if (lock->fd >= 0)
        close(lock->fd); /* closing releases the record lock */
    lock->fd = -1;
}

/* ---- reporting ---- */

/* Counts what the reader reports on the way to the caller. */
typedef struct report {
    const td_index_options_t *options;
    size_t errors;
    double start;         /* when the job started */
    double last_progress; /* when progress was last reported */
} report_t;

static void forward_diagnostic(const td_diagnostic_t *diagnostic, void *user)
{
    report_t *report = user;
    if (diagnostic->level == TD_DIAG_ERROR)
        report->errors++;
    if (report->options->on_diag)
        report->options->on_diag(diagnostic, report->options->user);
}

/* Reports progress at most four times a second, and always when forced. */
static void progress(report_t *report, const td_reader_t *reader, bool force)
{
    const td_index_options_t *options = report->options;
    if (!options->on_progress)
        return;
    double now = td_index_now();
    if (!force && now - report->last_progress < 0.25)
        return;
    report->last_progress = now;
    td_reader_stats_t stats = td_reader_stats(reader);
    td_index_progress_t p = {stats.records + stats.rejected, now - report->start, stats.bytes,
                             stats.input_bytes, stats.input_total};
    options->on_progress(&p, options->user);
}

/* ---- paths and versions ---- */

/* The directory `db` links to now, or "" when there is no index yet.
 * Fails with TD_ERR_INVALID when `db` exists but is not a link. */
static td_status_t current_version(const char *db, char *out, size_t size, char **error)
{
    struct stat st;
    out[0] = '\0';
    if (lstat(db, &st) != 0)
        return errno == ENOENT
                   ? TD_OK
                   : td_index_fail(error, TD_ERR_IO, "cannot read '%s': %s", db, strerror(errno));
    if (!S_ISLNK(st.st_mode))
        return td_index_fail(error, TD_ERR_INVALID,
                             "'%s' is not an index trialdex manages (not a link to a version); "
                             "choose another path or remove it",
                             db);
    ssize_t n = readlink(db, out, size - 1);
    if (n < 0)
        return td_index_fail(error, TD_ERR_IO, "cannot read link '%s': %s", db, strerror(errno));
    out[n] = '\0';
    return TD_OK;
}

/* The directory holding versions of `db`, and its parent-relative form. */
static void data_dir(const char *db, char *out, size_t size)
{
    snprintf(out, size, "%s.data", db);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

/* Removes a version or shard directory; a failure only leaves litter. */
static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Points `db` at `version` (a path relative to db's directory) atomically. */
static td_status_t swap_link(const char *db, const char *version, char **error)
{
    char temporary[4096];
    snprintf(temporary, sizeof(temporary), "%s.link-%ld", db, (long) getpid());
    unlink(temporary);
    if (symlink(version, temporary) != 0)
        return td_index_fail(error, TD_ERR_IO, "cannot create link '%s': %s", temporary,
                             strerror(errno));
    if (rename(temporary, db) != 0) {
        unlink(temporary);
        return td_index_fail(error, TD_ERR_IO, "cannot replace '%s': %s", db, strerror(errno));
    }
    return TD_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Stamps a new build: its schema version and when it was built. */
static td_status_t write_metadata(td_xdb_t *db, char **error)
{
    char schema[16], built[32];
    snprintf(schema, sizeof(schema), "%d", TD_SCHEMA_VERSION);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(built, sizeof(built), "%Y-%m-%dT%H:%M:%SZ", &utc);
    td_status_t status = td_xdb_set_metadata(db, TD_META_SCHEMA, schema, strlen(schema));
    if (status == TD_OK)
        status = td_xdb_set_metadata(db, TD_META_BUILT, built, strlen(built));
    if (status != TD_OK)
        return td_index_fail(error, status, "%s", td_xdb_last_error(db));
    return TD_OK;
}

/* The entry a caller asked for in the final commit (sync's high-water
 * mark), written only when every source was read to its end: the mark
 * promises that everything before it is in the index. */
static td_status_t write_final_metadata(td_xdb_t *db, const td_index_meta_t *meta,
                                        size_t failed_sources, char **error)
{
    if (!meta)
        return TD_OK;
    if (failed_sources)
        return td_index_fail(error, TD_ERR_BAD_INPUT,
                             "not recording %s: %zu input file(s) could not be read completely",
                             meta->key, failed_sources);
    td_status_t status = td_xdb_set_metadata(db, meta->key, meta->value, strlen(meta->value));
    if (status != TD_OK)
        return td_index_fail(error, status, "%s", td_xdb_last_error(db));
    return TD_OK;
}

/* Refuses an index written under another schema. */
static td_status_t check_schema(td_xdb_t *db, const char *path, char **error)
{
    char *value = NULL;
    size_t len = 0;
    td_status_t status = td_xdb_get_metadata(db, TD_META_SCHEMA, &value, &len);
    int version = status == TD_OK ? atoi(value) : 0;
    free(value);
    if (status != TD_OK && status != TD_ERR_NOT_FOUND)
        return td_index_fail(error, status, "%s", td_xdb_last_error(db));
    if (version != TD_SCHEMA_VERSION)
        return td_index_fail(
            error, TD_ERR_CORRUPT,
            "index '%s' has schema %d; this trialdex writes schema %d: rebuild it with "
            "trialdex-index build",
            path, version, TD_SCHEMA_VERSION);
    return TD_OK;
}

/* ---- build: shards written in parallel ---- */

typedef struct shard {
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    td_trial_t *queue[QUEUE_CAPACITY];
    size_t head, count;
    bool closed;

    const td_analyzer_t *analyzer;
    td_xdb_t *db;
    td_strmap_t spelling; /* words of the shard's documents, counted */
    char path[8300];
    td_status_t status;
    char error[512];
} shard_t;

static td_trial_t *shard_pop(shard_t *s)
{
    pthread_mutex_lock(&s->mutex);
    while (!s->count && !s->closed)
        pthread_cond_wait(&s->changed, &s->mutex);
    td_trial_t *trial = NULL;
    if (s->count) {
        trial = s->queue[s->head];
        s->head = (s->head + 1) % QUEUE_CAPACITY;
        s->count--;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->mutex);
    return trial;
}

/* Queues a trial for the shard's worker; returns false (and frees the
 * trial) once the worker has failed, so the build stops reading. */
static bool shard_push(shard_t *s, td_trial_t *trial)
{
    pthread_mutex_lock(&s->mutex);
    while (s->count == QUEUE_CAPACITY && s->status == TD_OK)
        pthread_cond_wait(&s->changed, &s->mutex);
    bool ok = s->status == TD_OK;
    if (ok) {
        s->queue[(s->head + s->count) % QUEUE_CAPACITY] = trial;
        s->count++;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->mutex);
    if (!ok)
        td_trial_free(trial);
    return ok;
}

/* Records a worker's failure where the reading thread sees it. */
static void shard_fail(shard_t *s, td_status_t status)
{
    pthread_mutex_lock(&s->mutex);
    s->status = status;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mutex);
}

static void shard_close(shard_t *s)
{
    pthread_mutex_lock(&s->mutex);
    s->closed = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mutex);
}

/* A trial's document, built (by any thread) and waiting to be written (by
 * the one writer). */
typedef struct built {
    td_trial_t *trial;
    bool exists;    /* update: the trial is in the index already */
    td_xdoc_t *doc; /* NULL when building failed */
    char *spelling; /* words for the spelling dictionary, NUL-separated */
    size_t spelling_len;
    td_status_t status; /* of building */
    char error[512];
} built_t;

static void build_one(td_doc_builder_t *builder, built_t *b)
{
    b->status = td_doc_build(builder, b->trial, &b->doc);
    if (b->status != TD_OK) {
        b->doc = NULL;
        snprintf(b->error, sizeof(b->error), "%s: %s", b->trial->nct_id,
                 td_doc_builder_error(builder));
        return;
    }
    size_t len = 0, count = td_doc_builder_spelling_count(builder);
    for (size_t i = 0; i < count; i++)
        len += strlen(td_doc_builder_spelling_word(builder, i)) + 1;
    b->spelling = malloc(len + 1);
    if (!b->spelling) {
        b->status = TD_ERR_NO_MEMORY;
        snprintf(b->error, sizeof(b->error), "out of memory");
        return;
    }
    b->spelling_len = 0;
    for (size_t i = 0; i < count; i++) {
        const char *word = td_doc_builder_spelling_word(builder, i);
        size_t n = strlen(word) + 1;
        memcpy(b->spelling + b->spelling_len, word, n);
        b->spelling_len += n;
    }
}

/* Writes a built document and counts its words in `spelling`, for
 * write_spelling before the next commit; the caller keeps ownership of `b`. */
static td_status_t write_built(td_xdb_t *db, built_t *b, td_strmap_t *spelling, char *error,
                               size_t error_size)
{
    if (b->status != TD_OK) {
        snprintf(error, error_size, "%s", b->error);
        return b->status;
    }
    char id[TD_NCT_ID_LEN + 2];
    snprintf(id, sizeof(id), TD_PREFIX_ID "%s", b->trial->nct_id);
    td_status_t status = td_xdb_replace_document(db, id, b->doc, NULL);
    if (status != TD_OK)
        snprintf(error, error_size, "%s", td_xdb_last_error(db));
    for (size_t at = 0; at < b->spelling_len && status == TD_OK;) {
        size_t len = strlen(b->spelling + at);
        if ((status = td_strmap_add(spelling, b->spelling + at, len, 1)) != TD_OK)
            snprintf(error, error_size, "out of memory");
        at += len + 1;
    }
    return status;
}

/* Hands the counted spelling words to the database, each once with its
 * count. Spelling cost a seventh of a build when each occurrence was added
 * as it came. */
static td_status_t write_spelling(td_xdb_t *db, td_strmap_t *spelling)
{
    const char *word;
    uint32_t count;
    td_status_t status = TD_OK;
    for (size_t cursor = 0; status == TD_OK && td_strmap_next(spelling, &cursor, &word, &count);)
        status = td_xdb_add_spelling(db, word, count);
    td_strmap_clear(spelling);
    return status;
}

static void built_clear(built_t *b)
{
    td_xdoc_free(b->doc);
    free(b->spelling);
    td_trial_free(b->trial);
    memset(b, 0, sizeof(*b));
}

/* Builds and writes one trial: what a build's shard worker does. */
static td_status_t write_document(shard_t *s, td_doc_builder_t *builder, td_trial_t *trial)
{
    built_t b = {.trial = trial};
    build_one(builder, &b);
    td_status_t status = write_built(s->db, &b, &s->spelling, s->error, sizeof(s->error));
    b.trial = NULL; /* the caller frees the trial */
    built_clear(&b);
    return status;
}

/* Commits the shard; its spelling words too at the end (`last`). Xapian
 * works on each distinct word of a spelling batch, so one batch per shard
 * costs least. */
static td_status_t shard_commit(shard_t *s, bool last)
{
    if ((last && write_spelling(s->db, &s->spelling) != TD_OK) || td_xdb_commit(s->db) != TD_OK) {
        snprintf(s->error, sizeof(s->error), "%s", td_xdb_last_error(s->db));
        return TD_ERR_IO;
    }
    return TD_OK;
}

static void *shard_main(void *arg)
{
    shard_t *s = arg;
    td_doc_builder_t *builder = NULL;
    td_status_t status = td_doc_builder_new(s->analyzer, &builder);
    if (status != TD_OK) {
        snprintf(s->error, sizeof(s->error), "cannot start the analyzer: %s",
                 td_status_str(status));
        shard_fail(s, status);
    }
    size_t written = 0;
    td_trial_t *trial;
    while ((trial = shard_pop(s))) {
        if (status == TD_OK) {
            status = write_document(s, builder, trial);
            if (status == TD_OK && ++written % SHARD_BATCH == 0)
                status = shard_commit(s, false);
        }
        td_trial_free(trial);
        if (status != TD_OK)
            shard_fail(s, status);
    }
    if (status == TD_OK)
        status = shard_commit(s, true);
    if (status != TD_OK)
        shard_fail(s, status);
    td_strmap_free(&s->spelling);
    td_doc_builder_free(builder);
    return NULL;
}

/* The shard a trial goes to: by NCT ID, so a trial read twice lands in the
 * same shard and the second copy replaces the first. */
static size_t shard_of(const td_trial_t *trial, size_t shards)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = trial->nct_id; *p; p++)
        h = (h ^ (unsigned char) *p) * 1099511628211ull;
    return (size_t) (h % shards);
}

static unsigned thread_count(const td_index_options_t *options)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = options->threads ? options->threads : (unsigned) (cores > 0 ? cores : 1);
    return n > MAX_THREADS ? MAX_THREADS : n;
}

static td_status_t open_reader(const char *const *sources, size_t count,
                               const td_index_options_t *options, report_t *report,
                               td_reader_t **reader, char **error)
{
    report->options = options;
    report->errors = 0;
    report->start = report->last_progress = td_index_now();
    td_status_t status =
        td_reader_open(sources, count, options->format, forward_diagnostic, report, reader);
    return status == TD_OK ? TD_OK
                           : td_index_fail(error, status, "cannot start reading: out of memory");
}

/* With --strict, bad input seen at any point (even after the last good
 * record) stops the job before anything is applied. */
static td_status_t strict_check(const td_index_options_t *options, const report_t *report,
                                char **error)
{
    if (options->strict && report->errors)
        return td_index_fail(error, TD_ERR_BAD_INPUT, "stopped at the first bad input (--strict)");
    return TD_OK;
}

static void finish_stats(td_index_stats_t *stats, const td_reader_t *reader, double start)
{
    td_reader_stats_t r = td_reader_stats(reader);
    stats->read = r.records;
    stats->rejected = r.rejected;
    stats->failed_sources = r.failed_sources;
    stats->bytes = r.bytes;
    stats->seconds = td_index_now() - start;
}

/* A new version directory for `db`: its path, and the link target
 * relative to db's directory (so the pair can move). */
typedef struct version {
    char old[4096]; /* the link's current target, "" for none */
    char path[8192];
    char target[12400];
} version_t;

/* Whether a link target is one of db's own versions, "<db>.data/<name>":
 * only those are ever removed. */
static bool own_version(const char *db, const char *target)
{
    char prefix[4096];
    snprintf(prefix, sizeof(prefix), "%s.data/", base_name(db));
    size_t len = strlen(prefix);
    return strncmp(target, prefix, len) == 0 && target[len] && target[len] != '.' &&
           !strchr(target + len, '/');
}

/* Removes what killed or failed jobs left in db.data/: anything but the
 * current version. Runs under the writer lock. */
static void remove_litter(const char *db, const char *current)
{
    char versions[4096];
    data_dir(db, versions, sizeof(versions));
    DIR *dir = opendir(versions);
    if (!dir)
        return;
    const char *keep = current[0] ? strrchr(current, '/') + 1 : "";
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, keep) == 0)
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", versions, entry->d_name);
        remove_tree(path);
    }
    closedir(dir);
}

/* Creates a fresh, uniquely named version directory for `db`. */
static td_status_t new_version(const char *db, version_t *v, char **error)
{
    char versions[4096];
    td_status_t status = current_version(db, v->old, sizeof(v->old), error);
    if (status != TD_OK)
        return status;
    if (v->old[0] && own_version(db, v->old))
        remove_litter(db, v->old);
    data_dir(db, versions, sizeof(versions));
    if (mkdir(versions, 0755) != 0 && errno != EEXIST)
        return td_index_fail(error, TD_ERR_IO, "cannot create '%s': %s", versions, strerror(errno));
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
    /* mkdtemp makes the name unique even for two builds in one second. */
    snprintf(v->path, sizeof(v->path), "%s/%s-%ld-XXXXXX", versions, stamp, (long) getpid());
    if (!mkdtemp(v->path))
        return td_index_fail(error, TD_ERR_IO, "cannot create a version in '%s': %s", versions,
                             strerror(errno));
    snprintf(v->target, sizeof(v->target), "%s/%s", base_name(versions), base_name(v->path));
    return TD_OK;
}

/* The path of a link target relative to db's directory. */
static void resolve_target(const char *db, const char *target, char *out, size_t size)
{
    const char *slash = strrchr(db, '/');
    if (target[0] == '/' || !slash)
        snprintf(out, size, "%s", target);
    else
        snprintf(out, size, "%.*s/%s", (int) (slash - db), db, target);
}

/* Swaps the new version in, or removes it after a failure. */
static td_status_t finish_version(const char *db, const version_t *v, td_status_t status,
                                  char **error)
{
    if (status == TD_OK)
        status = swap_link(db, v->target, error);
    if (status != TD_OK) {
        remove_tree(v->path);
        return status;
    }
    /* A link made by hand may point anywhere: only our own versions go. */
    if (v->old[0] && own_version(db, v->old)) {
        char old_path[8192];
        resolve_target(db, v->old, old_path, sizeof(old_path));
        remove_tree(old_path);
    }
    return TD_OK;
}

td_status_t td_index_version_path(const char *db, char **path, char **error)
{
    *error = NULL;
    char target[4096], resolved[8192];
    td_status_t status = current_version(db, target, sizeof(target), error);
    if (status != TD_OK)
        return status;
    if (!target[0])
        return td_index_fail(error, TD_ERR_NOT_FOUND, "no index at '%s'", db);
    resolve_target(db, target, resolved, sizeof(resolved));
    *path = strdup(resolved);
    return *path ? TD_OK : td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
}

static td_status_t build_locked(const char *const *sources, size_t count,
                                const td_index_options_t *options, const td_index_meta_t *meta,
                                td_index_stats_t *stats, char **error)
{
    double start = td_index_now();
    version_t v;
    td_status_t status = new_version(options->db, &v, error);
    if (status != TD_OK)
        return status;
    const char *version = v.path;

    td_analyzer_t *analyzer = NULL;
    char *analyzer_error = NULL;
    status = td_analyzer_new(NULL, &analyzer, &analyzer_error);
    if (status != TD_OK) {
        td_index_fail(error, status, "cannot start the analyzer: %s",
                      analyzer_error ? analyzer_error : td_status_str(status));
        free(analyzer_error);
        return status;
    }

    unsigned n = thread_count(options);
    shard_t *shards = calloc(n, sizeof(*shards));
    if (!shards) {
        td_analyzer_free(analyzer);
        return td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    }
    unsigned started = 0;
    for (unsigned i = 0; i < n && status == TD_OK; i++) {
        shard_t *s = &shards[i];
        snprintf(s->path, sizeof(s->path), "%s.shard%u", version, i);
        s->analyzer = analyzer;
        pthread_mutex_init(&s->mutex, NULL);
        pthread_cond_init(&s->changed, NULL);
        char *open_error = NULL;
        status = td_xdb_open(s->path, TD_XDB_CREATE, &s->db, &open_error);
        if (status != TD_OK) {
            td_index_fail(error, status, "%s", open_error ? open_error : "cannot create a shard");
            free(open_error);
            pthread_mutex_destroy(&s->mutex);
            pthread_cond_destroy(&s->changed);
            break;
        }
        if (pthread_create(&s->thread, NULL, shard_main, s) != 0) {
            status = td_index_fail(error, TD_ERR_INTERNAL, "cannot start a worker thread");
            td_xdb_close(s->db);
            pthread_mutex_destroy(&s->mutex);
            pthread_cond_destroy(&s->changed);
            break;
        }
        started++;
    }

    report_t report;
    td_reader_t *reader = NULL;
    if (status == TD_OK)
        status = open_reader(sources, count, options, &report, &reader, error);
    td_trial_t *trial;
    while (status == TD_OK && (status = td_reader_next(reader, &trial)) == TD_OK) {
        size_t k = shard_of(trial, started);
        if (!shard_push(&shards[k], trial)) {
            status = TD_ERR_IO; /* the worker's own message is reported below */
            break;
        }
        progress(&report, reader, false);
        if (options->strict && report.errors)
            status =
                td_index_fail(error, TD_ERR_BAD_INPUT, "stopped at the first bad input (--strict)");
    }
    if (status == TD_DONE)
        status = strict_check(options, &report, error);
    else if (status == TD_ERR_NO_MEMORY)
        td_index_fail(error, status, "out of memory while reading");

    for (unsigned i = 0; i < started; i++)
        shard_close(&shards[i]);
    const char *shard_paths[MAX_THREADS];
    for (unsigned i = 0; i < started; i++) {
        shard_t *s = &shards[i];
        pthread_join(s->thread, NULL);
        if (s->status != TD_OK) /* the first message wins */
            status = td_index_fail(error, s->status, "shard %u: %s", i, s->error);
        td_xdb_close(s->db);
        pthread_mutex_destroy(&s->mutex);
        pthread_cond_destroy(&s->changed);
        shard_paths[i] = s->path;
    }
    if (reader) {
        progress(&report, reader, true);
        finish_stats(stats, reader, start);
        td_reader_close(reader);
    }

    /* Merge the shards into the new version, then stamp it. */
    if (status == TD_OK) {
        char *compact_error = NULL;
        status = td_xdb_compact_shards(shard_paths, started, version, &compact_error);
        if (status != TD_OK)
            td_index_fail(error, status, "cannot merge shards: %s",
                          compact_error ? compact_error : "");
        free(compact_error);
    }
    td_xdb_t *db = NULL;
    if (status == TD_OK) {
        char *open_error = NULL;
        status = td_xdb_open(version, TD_XDB_OPEN, &db, &open_error);
        if (status != TD_OK)
            td_index_fail(error, status, "%s", open_error ? open_error : "");
        free(open_error);
    }
    if (status == TD_OK)
        status = write_metadata(db, error);
    if (status == TD_OK)
        status = write_final_metadata(db, meta, stats->failed_sources, error);
    if (status == TD_OK && td_xdb_commit(db) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    if (status == TD_OK && td_xdb_doc_count(db, &stats->documents) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    /* A full build starts from nothing: every trial in it was added (a
     * trial read twice is one trial). */
    stats->added = stats->documents;
    td_xdb_close(db);

    for (unsigned i = 0; i < started; i++)
        remove_tree(shards[i].path);
    free(shards);
    td_analyzer_free(analyzer);

    return finish_version(options->db, &v, status, error);
}

td_status_t td_index_build(const char *const *sources, size_t count,
                           const td_index_options_t *options, td_index_stats_t *stats, char **error)
{
    *error = NULL;
    memset(stats, 0, sizeof(*stats));
    td_index_lock_t lock;
    td_status_t status = td_index_lock(options->db, &lock, error);
    if (status != TD_OK)
        return status;
    status = build_locked(sources, count, options, NULL, stats, error);
    td_index_unlock(&lock);
    return status;
}

/* ---- update and delete: one writer, in transactions ---- */

/* Opens the current version for writing; an index trialdex does not
 * manage (a plain directory) is refused like build refuses it. */
static td_status_t open_current(const td_index_options_t *options, td_xdb_t **db, char **error)
{
    char *path = NULL;
    td_status_t status = td_index_version_path(options->db, &path, error);
    if (status != TD_OK)
        return status;
    char *open_error = NULL;
    status = td_xdb_open(path, TD_XDB_OPEN, db, &open_error);
    free(path);
    if (status != TD_OK) {
        td_index_fail(error, status, "%s", open_error ? open_error : "cannot open the index");
        free(open_error);
        return status;
    }
    status = check_schema(*db, options->db, error);
    if (status != TD_OK) {
        td_xdb_close(*db);
        *db = NULL;
    }
    return status;
}

/* The stored content hash of the trial with unique term `id`; "" if none. */
static td_status_t stored_hash(td_xdb_t *db, const char *id, char out[17], bool *exists)
{
    td_xdocid_t docid;
    out[0] = '\0';
    td_status_t status = td_xdb_find_unique(db, id, &docid);
    *exists = status == TD_OK;
    if (status == TD_ERR_NOT_FOUND)
        return TD_OK;
    td_xdoc_t *doc = NULL;
    if (status == TD_OK)
        status = td_xdb_get_document(db, docid, &doc);
    char *value = NULL;
    size_t len = 0;
    if (status == TD_OK) {
        status = td_xdoc_get_value(doc, TD_SLOT_CONTENT_HASH, &value, &len);
        if (status == TD_OK && len == 16)
            memcpy(out, value, 17);
        if (status == TD_ERR_NOT_FOUND)
            status = TD_OK;
    }
    free(value);
    td_xdoc_free(doc);
    return status;
}

static td_status_t commit_batch(td_xdb_t *db, bool begin_again, char **error)
{
    if (td_xdb_commit_transaction(db) != TD_OK ||
        (begin_again && td_xdb_begin_transaction(db, true) != TD_OK))
        return td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    return TD_OK;
}

/* Deletes every trial whose ID is not in `seen`. */
static td_status_t delete_missing(td_xdb_t *db, const td_strmap_t *seen, td_index_stats_t *stats,
                                  char **error)
{
    td_xlist_t *ids = NULL;
    td_status_t status = td_xdb_terms_with_prefix(db, TD_PREFIX_ID, &ids);
    if (status != TD_OK)
        return td_index_fail(error, status, "%s", td_xdb_last_error(db));
    for (size_t i = 0; i < td_xlist_count(ids) && status == TD_OK; i++) {
        size_t len;
        const char *term = td_xlist_string(ids, i, &len);
        uint32_t ignored;
        if (td_strmap_get(seen, term, len, &ignored))
            continue;
        status = td_xdb_delete_document(db, term);
        if (status != TD_OK)
            td_index_fail(error, status, "%s", td_xdb_last_error(db));
        else
            stats->deleted++;
    }
    td_xlist_free(ids);
    return status;
}

/* ---- update: parallel analysis, one writer ---- */

#define POOL_QUEUE 64

/* Worker threads build documents; the caller's thread, the only one to
 * touch the database, looks up hashes and writes what they built. Jobs
 * and results travel through two queues under one mutex; the result queue
 * can hold every job in flight, so workers never wait on the writer. */
typedef struct pool {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    built_t *jobs[POOL_QUEUE];
    size_t job_head, job_count;
    built_t *results[POOL_QUEUE + MAX_THREADS];
    size_t result_head, result_count;
    size_t in_flight; /* submitted and not yet collected */
    bool closed;
    const td_analyzer_t *analyzer;
    pthread_t threads[MAX_THREADS];
    unsigned started;
    td_status_t status; /* a worker's builder could not start */
} pool_t;

static void *pool_main(void *arg)
{
    pool_t *p = arg;
    td_doc_builder_t *builder = NULL;
    td_status_t status = td_doc_builder_new(p->analyzer, &builder);
    pthread_mutex_lock(&p->mutex);
    if (status != TD_OK)
        p->status = status;
    for (;;) {
        while (!p->job_count && !p->closed)
            pthread_cond_wait(&p->changed, &p->mutex);
        if (!p->job_count)
            break;
        built_t *b = p->jobs[p->job_head];
        p->job_head = (p->job_head + 1) % POOL_QUEUE;
        p->job_count--;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->mutex);
        if (builder)
            build_one(builder, b);
        else
            b->status = status;
        pthread_mutex_lock(&p->mutex);
        p->results[(p->result_head + p->result_count) % (POOL_QUEUE + MAX_THREADS)] = b;
        p->result_count++;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->mutex);
    td_doc_builder_free(builder);
    return NULL;
}

static td_status_t pool_start(pool_t *p, const td_analyzer_t *analyzer, unsigned threads)
{
    memset(p, 0, sizeof(*p));
    p->analyzer = analyzer;
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->changed, NULL);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0)
            break;
        p->started++;
    }
    return p->started ? TD_OK : TD_ERR_INTERNAL;
}

/* Hands a trial to the workers; waits while the job queue is full. */
static void pool_submit(pool_t *p, built_t *b)
{
    pthread_mutex_lock(&p->mutex);
    while (p->job_count == POOL_QUEUE)
        pthread_cond_wait(&p->changed, &p->mutex);
    p->jobs[(p->job_head + p->job_count) % POOL_QUEUE] = b;
    p->job_count++;
    p->in_flight++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mutex);
}

/* The next built document, or NULL: without `wait` when none is ready,
 * with `wait` only when nothing is in flight. */
static built_t *pool_collect(pool_t *p, bool wait)
{
    pthread_mutex_lock(&p->mutex);
    while (wait && !p->result_count && p->in_flight)
        pthread_cond_wait(&p->changed, &p->mutex);
    built_t *b = NULL;
    if (p->result_count) {
        b = p->results[p->result_head];
        p->result_head = (p->result_head + 1) % (POOL_QUEUE + MAX_THREADS);
        p->result_count--;
        p->in_flight--;
    }
    pthread_mutex_unlock(&p->mutex);
    return b;
}

static void pool_stop(pool_t *p)
{
    pthread_mutex_lock(&p->mutex);
    p->closed = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mutex);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    built_t *b;
    while ((b = pool_collect(p, false))) {
        built_clear(b);
        free(b);
    }
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->changed);
}

/* The writer's side of an update. */
typedef struct writer {
    td_xdb_t *db;
    pool_t pool;
    const td_index_options_t *options;
    td_index_stats_t *stats;
    size_t pending;       /* writes since the last commit */
    td_strmap_t spelling; /* words of those writes */
} writer_t;

static td_status_t writer_commit(writer_t *w, bool begin_again, char **error)
{
    w->pending = 0;
    if (write_spelling(w->db, &w->spelling) != TD_OK)
        return td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(w->db));
    return commit_batch(w->db, begin_again, error);
}

/* Writes one built document, counts it, and commits every batch. */
static td_status_t writer_take(writer_t *w, built_t *b, char **error)
{
    char message[512];
    td_status_t status = write_built(w->db, b, &w->spelling, message, sizeof(message));
    if (status != TD_OK)
        td_index_fail(error, status, "%s", message);
    else if (b->exists)
        w->stats->updated++;
    else
        w->stats->added++;
    built_clear(b);
    free(b);
    unsigned batch = w->options->commit_every ? w->options->commit_every : UPDATE_BATCH;
    if (status == TD_OK && ++w->pending == batch)
        status = writer_commit(w, true, error);
    return status;
}

/* Writes what is ready (all that is in flight with `all`); after a
 * failure, what is left is collected and dropped, never written. */
static td_status_t writer_drain(writer_t *w, bool all, td_status_t status, char **error)
{
    built_t *b;
    while ((b = pool_collect(&w->pool, all))) {
        if (status == TD_OK) {
            status = writer_take(w, b, error);
        } else {
            built_clear(b);
            free(b);
        }
    }
    return status;
}

static td_status_t update_locked(const char *const *sources, size_t count,
                                 const td_index_options_t *options, const td_index_meta_t *meta,
                                 td_index_stats_t *stats, char **error)
{
    double start = td_index_now();
    writer_t w = {.options = options, .stats = stats};
    td_status_t status = open_current(options, &w.db, error);
    if (status != TD_OK)
        return status;
    td_analyzer_t *analyzer = NULL;
    char *analyzer_error = NULL;
    status = td_analyzer_new(NULL, &analyzer, &analyzer_error);
    if (status != TD_OK)
        td_index_fail(error, status, "cannot start the analyzer: %s",
                      analyzer_error ? analyzer_error : td_status_str(status));
    free(analyzer_error);
    bool pool_running = false;
    if (status == TD_OK) {
        status = pool_start(&w.pool, analyzer, thread_count(options));
        pool_running = status == TD_OK;
        if (status != TD_OK)
            td_index_fail(error, status, "cannot start the worker threads");
    }

    td_strmap_t seen;
    td_strmap_init(&seen);
    report_t report;
    td_reader_t *reader = NULL;
    if (status == TD_OK)
        status = open_reader(sources, count, options, &report, &reader, error);
    if (status == TD_OK && td_xdb_begin_transaction(w.db, true) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(w.db));

    td_trial_t *trial;
    while (status == TD_OK && (status = td_reader_next(reader, &trial)) == TD_OK) {
        char id[TD_NCT_ID_LEN + 2], stored[17], hash[17];
        bool exists;
        uint32_t again;
        snprintf(id, sizeof(id), TD_PREFIX_ID "%s", trial->nct_id);
        /* A trial read twice: let the first copy land before comparing. */
        if (td_strmap_get(&seen, id, strlen(id), &again))
            status = writer_drain(&w, true, status, error);
        if (status == TD_OK && td_strmap_put(&seen, id, strlen(id), 1) != TD_OK)
            status = td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
        if (status == TD_OK && (status = stored_hash(w.db, id, stored, &exists)) != TD_OK)
            td_index_fail(error, status, "%s", td_xdb_last_error(w.db));
        if (status == TD_OK && (status = td_doc_content_hash(trial, hash)) != TD_OK)
            td_index_fail(error, status, "out of memory");
        if (status == TD_OK && exists && strcmp(stored, hash) == 0) {
            stats->unchanged++;
            td_trial_free(trial);
        } else if (status == TD_OK) {
            built_t *b = calloc(1, sizeof(*b));
            if (!b) {
                td_trial_free(trial);
                status = td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
            } else {
                b->trial = trial;
                b->exists = exists;
                pool_submit(&w.pool, b);
                status = writer_drain(&w, false, status, error);
            }
        } else {
            td_trial_free(trial);
        }
        progress(&report, reader, false);
        if (status == TD_OK && options->strict && report.errors)
            status =
                td_index_fail(error, TD_ERR_BAD_INPUT, "stopped at the first bad input (--strict)");
    }
    if (status == TD_DONE)
        status = strict_check(options, &report, error);
    if (pool_running)
        status = writer_drain(&w, true, status, error);
    /* A snapshot that was not read fully, or had records it could not
     * read, must not delete what it missed: a rejected record's trial is
     * absent from `seen` too. */
    if (status == TD_OK && options->delete_missing) {
        td_reader_stats_t r = td_reader_stats(reader);
        if (r.failed_sources || r.rejected)
            status = td_index_fail(error, TD_ERR_BAD_INPUT,
                                   "not deleting missing trials: %zu input file(s) could not be "
                                   "read completely and %zu record(s) were rejected",
                                   r.failed_sources, r.rejected);
        else
            status = delete_missing(w.db, &seen, stats, error);
    }
    if (status == TD_OK)
        status = write_final_metadata(w.db, meta, td_reader_stats(reader).failed_sources, error);
    if (status == TD_OK)
        status = writer_commit(&w, false, error);
    else if (w.db)
        td_xdb_cancel_transaction(w.db);
    if (status == TD_OK && td_xdb_doc_count(w.db, &stats->documents) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(w.db));
    if (reader) {
        progress(&report, reader, true);
        finish_stats(stats, reader, start);
        td_reader_close(reader);
    }
    td_strmap_free(&seen);
    td_strmap_free(&w.spelling);
    if (pool_running)
        pool_stop(&w.pool);
    td_analyzer_free(analyzer);
    td_xdb_close(w.db);
    return status;
}

td_status_t td_index_update(const char *const *sources, size_t count,
                            const td_index_options_t *options, td_index_stats_t *stats,
                            char **error)
{
    *error = NULL;
    memset(stats, 0, sizeof(*stats));
    td_index_lock_t lock;
    td_status_t status = td_index_lock(options->db, &lock, error);
    if (status != TD_OK)
        return status;
    status = td_index_upsert_locked(sources, count, options, NULL, stats, error);
    td_index_unlock(&lock);
    return status;
}

td_status_t td_index_upsert_locked(const char *const *sources, size_t count,
                                   const td_index_options_t *options, const td_index_meta_t *meta,
                                   td_index_stats_t *stats, char **error)
{
    struct stat st;
    if (lstat(options->db, &st) != 0 && errno == ENOENT)
        return build_locked(sources, count, options, meta, stats, error);
    return update_locked(sources, count, options, meta, stats, error);
}

td_status_t td_index_delete(const char *const *ids, size_t count, const td_index_options_t *options,
                            td_index_stats_t *stats, char **error)
{
    *error = NULL;
    memset(stats, 0, sizeof(*stats));
    double start = td_index_now();
    td_index_lock_t lock;
    td_status_t status = td_index_lock(options->db, &lock, error);
    if (status != TD_OK)
        return status;
    td_xdb_t *db = NULL;
    status = open_current(options, &db, error);
    if (status == TD_OK && td_xdb_begin_transaction(db, true) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    for (size_t i = 0; i < count && status == TD_OK; i++) {
        char nct[TD_NCT_ID_LEN + 1], id[TD_NCT_ID_LEN + 2];
        td_xdocid_t docid;
        td_diagnostic_t diagnostic = {
            .level = TD_DIAG_WARNING, .source = options->db, .position = "", .nct_id = ids[i]};
        if (!td_nct_id_parse(ids[i], strlen(ids[i]), nct)) {
            diagnostic.level = TD_DIAG_ERROR;
            diagnostic.message = "not an NCT ID";
        } else {
            snprintf(id, sizeof(id), TD_PREFIX_ID "%s", nct);
            td_status_t found = td_xdb_find_unique(db, id, &docid);
            if (found == TD_ERR_NOT_FOUND) {
                diagnostic.message = "not in the index";
            } else if (found != TD_OK) {
                status = td_index_fail(error, found, "%s", td_xdb_last_error(db));
                break;
            } else if ((status = td_xdb_delete_document(db, id)) != TD_OK) {
                td_index_fail(error, status, "%s", td_xdb_last_error(db));
                break;
            } else {
                stats->deleted++;
                continue;
            }
        }
        stats->rejected += diagnostic.level == TD_DIAG_ERROR;
        if (options->on_diag)
            options->on_diag(&diagnostic, options->user);
    }
    if (status == TD_OK)
        status = commit_batch(db, false, error);
    else if (db)
        td_xdb_cancel_transaction(db);
    if (status == TD_OK && td_xdb_doc_count(db, &stats->documents) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    td_xdb_close(db);
    td_index_unlock(&lock);
    stats->seconds = td_index_now() - start;
    return status;
}

td_status_t td_index_compact(const td_index_options_t *options, td_index_stats_t *stats,
                             char **error)
{
    *error = NULL;
    memset(stats, 0, sizeof(*stats));
    double start = td_index_now();
    td_index_lock_t lock;
    td_status_t status = td_index_lock(options->db, &lock, error);
    if (status != TD_OK)
        return status;
    version_t v = {.old = ""};
    td_xdb_t *db = NULL;
    /* Open first: compacting nothing must not create a data directory. */
    status = open_current(options, &db, error);
    if (status == TD_OK)
        status = new_version(options->db, &v, error);
    if (status == TD_OK && td_xdb_compact(db, v.path, true) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    if (status == TD_OK && td_xdb_doc_count(db, &stats->documents) != TD_OK)
        status = td_index_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
    td_xdb_close(db);
    if (v.old[0])
        status = finish_version(options->db, &v, status, error);
    td_index_unlock(&lock);
    stats->seconds = td_index_now() - start;
    return status;
}
