/* sync.c - the nightly job: the studies changed since a date, pulled from
 * the ClinicalTrials.gov API v2 and upserted into the index.
 *
 * Every page is fetched, checked and saved before anything is written, so
 * a page that never arrives or arrives broken costs nothing: the index and
 * its high-water mark stay as they were. The saved pages then go through
 * the update path of index.c, which writes the new mark in its last commit.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index_internal.h"
#include "td_indexer.h"
#include "td_schema.h"

#define PAGE_SIZE 1000
#define TRIES 5
#define BACKOFF_MS 500       /* the first wait; TRIALDEX_SYNC_BACKOFF_MS */
#define BACKOFF_CAP_MS 30000 /* no wait between tries is longer */
#define RETRY_AFTER_CAP_MS 60000
#define TIMEOUT_S 60            /* to connect, and at under a byte a second */
#define PAGE_MAX (1024ul << 20) /* a larger response is refused */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A positive number from the environment, or `fallback`. */
static long env_number(const char *name, long fallback)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return fallback;
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    return errno || *end || value < 0 ? fallback : value;
}

/* "YYYY-MM-DD" with a plausible month and day. */
static bool is_date(const char *text)
{
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
            return false;
    int month = atoi(text + 5), day = atoi(text + 8);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* ---- fetching ---- */

typedef struct body {
    char *data;
    size_t len, capacity;
    bool too_large, no_memory;
} body_t;

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    body_t *body = user;
    size_t n = size * count;
    if (body->len + n > PAGE_MAX) {
        body->too_large = true;
        return 0;
    }
    if (body->len + n + 1 > body->capacity) {
        size_t capacity = body->capacity ? body->capacity : 1 << 16;
        while (capacity < body->len + n + 1)
            capacity *= 2;
        char *grown = realloc(body->data, capacity);
        if (!grown) {
            body->no_memory = true;
            return 0;
        }
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->len, data, n);
    body->len += n;
    body->data[body->len] = '\0';
    return n;
}

typedef struct fetcher {
    CURL *curl;
    struct curl_slist *headers;
    body_t body;
    long backoff_ms;
    char curl_error[CURL_ERROR_SIZE];
} fetcher_t;

static td_status_t fetcher_open(fetcher_t *f, char **error)
{
    memset(f, 0, sizeof(*f));
    f->backoff_ms = env_number("TRIALDEX_SYNC_BACKOFF_MS", BACKOFF_MS);
    long timeout = env_number("TRIALDEX_SYNC_TIMEOUT", TIMEOUT_S);
    if (timeout == 0)
        timeout = TIMEOUT_S;
    f->curl = curl_easy_init();
    f->headers = curl_slist_append(NULL, "Accept: application/json");
    if (!f->curl || !f->headers)
        return td_index_fail(error, TD_ERR_NO_MEMORY, "cannot start libcurl");
    CURL *c = f->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->curl_error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "trialdex-index sync");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* A stalled server must not hang the nightly job. */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout);
    return TD_OK;
}

static void fetcher_close(fetcher_t *f)
{
    curl_easy_cleanup(f->curl);
    curl_slist_free_all(f->headers);
    free(f->body.data);
}

/* Failures that another try may not meet. */
static bool transient(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* The start of an error response, on one line, for the message. */
static void body_excerpt(const body_t *body, char *out, size_t size)
{
    size_t n = 0;
    if (body->len && size > 3) {
        out[n++] = ':';
        out[n++] = ' ';
        for (size_t i = 0; i < body->len && i < 160 && n + 1 < size; i++) {
            unsigned char c = (unsigned char) body->data[i];
            out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char) c;
        }
    }
    out[n] = '\0';
}

/* GETs `url` into f->body, retrying what may be transient. */
static td_status_t fetch(fetcher_t *f, unsigned page, const char *url, char **error)
{
    long wait_ms = f->backoff_ms;
    curl_easy_setopt(f->curl, CURLOPT_URL, url);
    for (int attempt = 1;; attempt++) {
        f->body.len = 0;
        f->body.too_large = f->body.no_memory = false;
        f->curl_error[0] = '\0';
        CURLcode code = curl_easy_perform(f->curl);
        long http = 0;
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &http);
        if (code == CURLE_OK && http >= 200 && http < 300)
            return TD_OK;
        if (f->body.no_memory)
            return td_index_fail(error, TD_ERR_NO_MEMORY, "page %u (%s): out of memory", page, url);
        if (f->body.too_large)
            return td_index_fail(error, TD_ERR_IO, "page %u (%s): larger than %lu MB", page, url,
                                 PAGE_MAX >> 20);

        char why[512];
        bool retry;
        if (code != CURLE_OK) {
            retry = transient(code);
            snprintf(why, sizeof(why), "%s",
                     f->curl_error[0] ? f->curl_error : curl_easy_strerror(code));
        } else {
            retry = http == 408 || http == 429 || http >= 500;
            char excerpt[200];
            body_excerpt(&f->body, excerpt, sizeof(excerpt));
            snprintf(why, sizeof(why), "HTTP %ld%s", http, excerpt);
        }
        if (!retry)
            return td_index_fail(error, TD_ERR_IO, "page %u (%s): %s", page, url, why);
        if (attempt == TRIES)
            return td_index_fail(error, TD_ERR_IO, "page %u (%s): %s (gave up after %d tries)",
                                 page, url, why, TRIES);

        curl_off_t retry_after = 0;
        long delay = wait_ms;
        if (curl_easy_getinfo(f->curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0)
            delay = retry_after * 1000 > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS
                                                            : (long) retry_after * 1000;
        sleep_ms(delay);
        wait_ms = wait_ms * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : wait_ms * 2;
    }
}

/* Checks that a page is JSON with a "studies" array, and takes its
 * nextPageToken (*token NULL on the last page). */
static td_status_t check_page(const body_t *body, unsigned page, const char *url, char **token,
                              char **error)
{
    *token = NULL;
    json_error_t parse_error;
    json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, &parse_error);
    if (!root)
        return td_index_fail(error, TD_ERR_BAD_INPUT,
                             "page %u (%s): not valid JSON: %s at line %d, column %d", page, url,
                             parse_error.text, parse_error.line, parse_error.column);
    td_status_t status = TD_OK;
    json_t *next = json_object_get(root, "nextPageToken");
    if (!json_is_array(json_object_get(root, "studies")))
        status =
            td_index_fail(error, TD_ERR_BAD_INPUT, "page %u (%s): no \"studies\" array", page, url);
    else if (next && !json_is_null(next) && !json_is_string(next))
        status = td_index_fail(error, TD_ERR_BAD_INPUT,
                               "page %u (%s): nextPageToken is not a string", page, url);
    else if (json_is_string(next) && json_string_length(next) &&
             !(*token = strdup(json_string_value(next))))
        status = td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    json_decref(root);
    return status;
}

static td_status_t save_page(const body_t *body, const char *path, char **error)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        return td_index_fail(error, TD_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    bool ok = fwrite(body->data, 1, body->len, file) == body->len;
    ok = fclose(file) == 0 && ok;
    return ok ? TD_OK
              : td_index_fail(error, TD_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
}

/* ---- the pages on disk ---- */

typedef struct pages {
    char dir[4096];
    char **paths; /* page-0001.json, ... */
    char **urls;  /* where each came from */
    size_t count, capacity;
} pages_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

/* Removes the page directories of earlier runs that were killed: under the
 * writer lock no other sync is using one. */
static void remove_stale_pages(const char *db)
{
    const char *slash = strrchr(db, '/');
    char parent[4096], prefix[4096];
    snprintf(parent, sizeof(parent), "%.*s", slash ? (int) (slash - db) : 1, slash ? db : ".");
    if (!parent[0])
        snprintf(parent, sizeof(parent), "/");
    snprintf(prefix, sizeof(prefix), "%s.sync-", slash ? slash + 1 : db);
    DIR *dir = opendir(parent);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[8300];
        snprintf(path, sizeof(path), "%s/%s", parent, entry->d_name);
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(dir);
}

static td_status_t pages_add(pages_t *p, const char *url, char **path, char **error)
{
    if (p->count == p->capacity) {
        size_t capacity = p->capacity ? p->capacity * 2 : 16;
        char **paths = realloc(p->paths, capacity * sizeof(*paths));
        if (paths)
            p->paths = paths;
        char **urls = realloc(p->urls, capacity * sizeof(*urls));
        if (urls)
            p->urls = urls;
        if (!paths || !urls)
            return td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
        p->capacity = capacity;
    }
    size_t n = strlen(p->dir) + 32;
    char *file = malloc(n), *copy = strdup(url);
    if (!file || !copy) {
        free(file);
        free(copy);
        return td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(file, n, "%s/page-%04zu.json", p->dir, p->count + 1);
    p->paths[p->count] = file;
    p->urls[p->count] = copy;
    p->count++;
    *path = file;
    return TD_OK;
}

static void pages_free(pages_t *p)
{
    if (p->dir[0])
        nftw(p->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < p->count; i++) {
        free(p->paths[i]);
        free(p->urls[i]);
    }
    free(p->paths);
    free(p->urls);
}

/* Fetches every page from `first_url` on into p->dir. */
static td_status_t fetch_pages(const char *first_url, pages_t *p, char **error)
{
    fetcher_t f;
    td_status_t status = fetcher_open(&f, error);
    char *url = strdup(first_url), *token = NULL, *previous = NULL;
    if (status == TD_OK && !url)
        status = td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    while (status == TD_OK && url) {
        unsigned page = (unsigned) p->count + 1;
        char *path = NULL;
        status = fetch(&f, page, url, error);
        if (status == TD_OK)
            status = check_page(&f.body, page, url, &token, error);
        if (status == TD_OK)
            status = pages_add(p, url, &path, error);
        if (status == TD_OK)
            status = save_page(&f.body, path, error);
        free(url);
        url = NULL;
        if (status != TD_OK || !token)
            break;
        /* A server that hands out the same token again would never end. */
        if (previous && strcmp(previous, token) == 0) {
            status =
                td_index_fail(error, TD_ERR_BAD_INPUT, "page %u (%s): nextPageToken repeats '%s'",
                              page, p->urls[p->count - 1], token);
            break;
        }
        char *escaped = curl_easy_escape(f.curl, token, 0);
        size_t n = strlen(first_url) + (escaped ? strlen(escaped) : 0) + 16;
        url = escaped ? malloc(n) : NULL;
        if (url)
            snprintf(url, n, "%s&pageToken=%s", first_url, escaped);
        else
            status = td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
        curl_free(escaped);
        free(previous);
        previous = token;
        token = NULL;
    }
    free(url);
    free(token);
    free(previous);
    fetcher_close(&f);
    return status;
}

/* ---- reports from the update, with pages named by their URLs ---- */

typedef struct relay {
    const td_index_options_t *options;
    const pages_t *pages;
} relay_t;

static void relay_diagnostic(const td_diagnostic_t *diagnostic, void *user)
{
    const relay_t *relay = user;
    td_diagnostic_t named = *diagnostic;
    char source[4300];
    for (size_t i = 0; i < relay->pages->count; i++)
        if (strcmp(diagnostic->source, relay->pages->paths[i]) == 0) {
            snprintf(source, sizeof(source), "page %zu (%s)", i + 1, relay->pages->urls[i]);
            named.source = source;
            break;
        }
    relay->options->on_diag(&named, relay->options->user);
}

static void relay_progress(const td_index_progress_t *progress, void *user)
{
    const relay_t *relay = user;
    relay->options->on_progress(progress, relay->options->user);
}

/* ---- the job ---- */

/* The date to sync from: `since`, else the stored mark. */
static td_status_t start_date(const char *db, const char *since, char out[11], char **error)
{
    if (since) {
        if (!is_date(since))
            return td_index_fail(error, TD_ERR_RANGE, "'%s' is not a date (YYYY-MM-DD)", since);
        memcpy(out, since, 11);
        return TD_OK;
    }
    struct stat st;
    if (lstat(db, &st) != 0)
        return td_index_fail(
            error, TD_ERR_NOT_FOUND,
            "no index at '%s' to take the date to sync from: pass --since YYYY-MM-DD", db);
    td_xdb_t *xdb = NULL;
    char *open_error = NULL, *mark = NULL;
    size_t len = 0;
    td_status_t status = td_xdb_open(db, TD_XDB_READ, &xdb, &open_error);
    if (status != TD_OK)
        td_index_fail(error, status, "%s", open_error ? open_error : "cannot open the index");
    else if ((status = td_xdb_get_metadata(xdb, TD_META_LAST_SYNC, &mark, &len)) ==
             TD_ERR_NOT_FOUND)
        td_index_fail(error, status, "index '%s' has never been synced: pass --since YYYY-MM-DD",
                      db);
    else if (status != TD_OK)
        td_index_fail(error, status, "%s", td_xdb_last_error(xdb));
    else if (len != 10 || !is_date(mark))
        status = td_index_fail(error, TD_ERR_CORRUPT,
                               "index '%s' has a sync mark that is not a date: '%.*s'", db,
                               (int) (len > 40 ? 40 : len), mark);
    else
        memcpy(out, mark, 11);
    free(mark);
    free(open_error);
    td_xdb_close(xdb);
    return status;
}

/* The first page's URL: a malloc'd string, or NULL when out of memory. */
static char *first_page_url(const char *api_url, const char *date)
{
    CURL *curl = curl_easy_init();
    char filter[128];
    snprintf(filter, sizeof(filter), "AREA[LastUpdatePostDate]RANGE[%s,MAX]", date);
    char *escaped = curl ? curl_easy_escape(curl, filter, 0) : NULL;
    size_t base = strlen(api_url);
    while (base && api_url[base - 1] == '/')
        base--;
    size_t n = base + (escaped ? strlen(escaped) : 0) + 128;
    char *url = escaped ? malloc(n) : NULL;
    if (url)
        snprintf(url, n, "%.*s/studies?format=json&pageSize=%d&filter.advanced=%s", (int) base,
                 api_url, PAGE_SIZE, escaped);
    curl_free(escaped);
    curl_easy_cleanup(curl);
    return url;
}

static td_status_t sync_locked(const char *api_url, const char *since,
                               const td_index_options_t *options, td_index_stats_t *stats,
                               char **error)
{
    /* The mark is the day the job starts: a study changed while it runs
     * is fetched again by the next run. */
    char today[11], date[11];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(today, sizeof(today), "%Y-%m-%d", &utc);

    td_status_t status = start_date(options->db, since, date, error);
    if (status != TD_OK)
        return status;
    remove_stale_pages(options->db);
    pages_t pages = {.count = 0};
    snprintf(pages.dir, sizeof(pages.dir), "%s.sync-%ld", options->db, (long) getpid());
    if (mkdir(pages.dir, 0700) != 0) {
        status =
            td_index_fail(error, TD_ERR_IO, "cannot create '%s': %s", pages.dir, strerror(errno));
        pages.dir[0] = '\0';
        return status;
    }
    char *url = first_page_url(api_url, date);
    status = url ? fetch_pages(url, &pages, error)
                 : td_index_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    free(url);

    if (status == TD_OK) {
        relay_t relay = {options, &pages};
        td_index_options_t apply = *options;
        apply.format = TD_FORMAT_CTGOV_JSON;
        apply.delete_missing = false;
        apply.on_diag = options->on_diag ? relay_diagnostic : NULL;
        apply.on_progress = options->on_progress ? relay_progress : NULL;
        apply.user = &relay;
        td_index_meta_t mark = {TD_META_LAST_SYNC, today};
        status = td_index_upsert_locked((const char *const *) pages.paths, pages.count, &apply,
                                        &mark, stats, error);
    }
    pages_free(&pages);
    return status;
}

td_status_t td_index_sync(const char *api_url, const char *since, const td_index_options_t *options,
                          td_index_stats_t *stats, char **error)
{
    *error = NULL;
    memset(stats, 0, sizeof(*stats));
    double start = td_index_now();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return td_index_fail(error, TD_ERR_INTERNAL, "cannot start libcurl");
    td_index_lock_t lock;
    td_status_t status = td_index_lock(options->db, &lock, error);
    if (status == TD_OK) {
        status = sync_locked(api_url, since, options, stats, error);
        td_index_unlock(&lock);
    }
    curl_global_cleanup();
    stats->seconds = td_index_now() - start;
    return status;
}
