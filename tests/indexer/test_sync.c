/* The nightly sync against a loopback HTTP server that serves API v2 pages
 * built from the sample corpus: it ends where a fresh build of the same
 * data starts, retries what may pass, and a page that never arrives or
 * arrives broken changes nothing, the high-water mark included. */
#include <archive.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "td_indexer.h"
#include "td_schema.h"
#include "td_test.h"

static void sync_setup(void)
{
    td_test_dir_setup();
    setenv("TRIALDEX_SYNC_BACKOFF_MS", "1", 1); /* retries without the waits */
}

TestSuite(sync, .init = sync_setup, .fini = td_test_dir_teardown, .timeout = 300);

/* ---- API pages ---- */

typedef struct pages {
    char **bodies;
    size_t *lens;
    size_t count;
} pages_t;

/* The token that leads to page n (from 2): escaping is needed for it to
 * arrive intact, as with the real API's tokens. */
#define TOKEN_FMT "p%zu+x/="
#define TOKEN_ESCAPED "%2Bx%2F%3D"

/* Pages of `per_page` of the `count` study texts, chained by nextPageToken. */
static pages_t make_pages(char *const *studies, size_t count, size_t per_page)
{
    pages_t p = {0};
    p.count = (count + per_page - 1) / per_page;
    p.bodies = calloc(p.count, sizeof(*p.bodies));
    p.lens = calloc(p.count, sizeof(*p.lens));
    for (size_t k = 0; k < p.count; k++) {
        size_t size = 64;
        for (size_t i = k * per_page; i < count && i < (k + 1) * per_page; i++)
            size += strlen(studies[i]) + 1;
        char *body = malloc(size);
        strcpy(body, "{\"studies\":[");
        for (size_t i = k * per_page; i < count && i < (k + 1) * per_page; i++) {
            if (i > k * per_page)
                strcat(body, ",");
            strcat(body, studies[i]);
        }
        strcat(body, "]");
        if (k + 1 < p.count)
            sprintf(body + strlen(body), ",\"nextPageToken\":\"" TOKEN_FMT "\"", k + 2);
        strcat(body, "}");
        p.bodies[k] = body;
        p.lens[k] = strlen(body);
    }
    return p;
}

static void pages_free(pages_t *p)
{
    for (size_t k = 0; k < p->count; k++)
        free(p->bodies[k]);
    free(p->bodies);
    free(p->lens);
}

static char *sample_path(int i)
{
    char *path = malloc(strlen(TD_SAMPLE_DIR) + 32);
    sprintf(path, TD_SAMPLE_DIR "/NCT990000%02d.json", i);
    return path;
}

/* The 41 sample studies in pages of 10 (5 pages). */
static pages_t sample_pages(void)
{
    char *studies[41];
    for (int i = 1; i <= 41; i++) {
        char *path = sample_path(i);
        studies[i - 1] = td_test_slurp(path, NULL);
        free(path);
    }
    pages_t p = make_pages(studies, 41, 10);
    for (int i = 0; i < 41; i++)
        free(studies[i]);
    return p;
}

/* ---- the loopback server ---- */

typedef struct plan {
    size_t fail_page; /* page (from 1) answered with fail_status; 0 for none */
    int fail_status;
    int fail_times;      /* how many times; -1 for every time */
    size_t replace_page; /* page (from 1) whose body is replace_body instead */
    const char *replace_body;
    bool stall; /* accept and read requests, never answer */
    unsigned max_requests;
} plan_t;

typedef struct server {
    pid_t pid;
    char url[64]; /* http://127.0.0.1:PORT/api/v2 */
    char *log;    /* one request target a line */
} server_t;

static void write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

static void respond(int fd, int status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Error", len);
    write_all(fd, head, (size_t) n);
    write_all(fd, body, len);
}

/* The page (from 1) a request target asks for; 0 when it is not one. */
static size_t page_of(const char *target)
{
    if (!strstr(target, "/studies?"))
        return 0;
    const char *token = strstr(target, "&pageToken=p");
    if (!token)
        return 1;
    char *end;
    size_t page = strtoul(token + strlen("&pageToken=p"), &end, 10);
    return strcmp(end, TOKEN_ESCAPED) == 0 ? page : 0;
}

static void serve(int listener, const pages_t *pages, const plan_t *plan, const char *log_path)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(120); /* never outlive a test that forgot us */
    int failures = 0;
    for (unsigned served = 0; served < plan->max_requests; served++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            continue;
        char request[16384];
        size_t len = 0;
        while (len + 1 < sizeof(request)) {
            ssize_t n = read(fd, request + len, sizeof(request) - 1 - len);
            if (n <= 0)
                break;
            len += (size_t) n;
            request[len] = '\0';
            if (strstr(request, "\r\n\r\n"))
                break;
        }
        request[len] = '\0';
        char target[8192] = "";
        sscanf(request, "GET %8191s HTTP/1.1", target);
        FILE *log = fopen(log_path, "a");
        if (log) {
            fprintf(log, "%s\n", target);
            fclose(log);
        }
        if (plan->stall)
            continue; /* the connection stays open, silent */
        size_t page = page_of(target);
        if (page == 0 || page > pages->count) {
            respond(fd, 404, "{\"error\":\"no such page\"}", 24);
        } else if (page == plan->fail_page &&
                   (plan->fail_times < 0 || failures < plan->fail_times)) {
            failures++;
            respond(fd, plan->fail_status, "{\"error\":\"try later\"}", 21);
        } else if (page == plan->replace_page) {
            respond(fd, 200, plan->replace_body, strlen(plan->replace_body));
        } else {
            respond(fd, 200, pages->bodies[page - 1], pages->lens[page - 1]);
        }
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    if (plan->stall)
        pause();
    _exit(0);
}

/* Starts a server on 127.0.0.1 and an ephemeral port. */
static server_t server_start(const pages_t *pages, plan_t plan)
{
    server_t s = {0};
    if (!plan.max_requests)
        plan.max_requests = 64;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(listener, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(listener, (struct sockaddr *) &address, sizeof(address)), 0);
    cr_assert_eq(listen(listener, 16), 0);
    socklen_t size = sizeof(address);
    cr_assert_eq(getsockname(listener, (struct sockaddr *) &address, &size), 0);
    snprintf(s.url, sizeof(s.url), "http://127.0.0.1:%u/api/v2", ntohs(address.sin_port));
    s.log = malloc(strlen(td_test_dir) + 32);
    sprintf(s.log, "%s/requests-%u.log", td_test_dir, ntohs(address.sin_port));
    s.pid = fork();
    cr_assert_geq(s.pid, 0);
    if (s.pid == 0)
        serve(listener, pages, &plan, s.log);
    close(listener);
    return s;
}

static void server_stop(server_t *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    free(s->log);
}

/* The request targets the server saw, in order (a malloc'd text). */
static char *requests(const server_t *s)
{
    struct stat st;
    if (stat(s->log, &st) != 0)
        return strdup("");
    return td_test_slurp(s->log, NULL);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *at = text; (at = strstr(at, needle)); at += strlen(needle))
        n++;
    return n;
}

/* ---- indexes ---- */

static td_index_options_t options_for(const char *db)
{
    return (td_index_options_t){.db = db, .format = TD_FORMAT_AUTO, .threads = 2};
}

static void build_from(const char *db, const char *const *sources, size_t count)
{
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_build(sources, count, &options, &stats, &error), TD_OK, "%s",
                 error ? error : "");
}

/* An index of the first `count` sample studies. */
static void build_first(const char *db, int count)
{
    char *sources[41];
    for (int i = 0; i < count; i++)
        sources[i] = sample_path(i + 1);
    build_from(db, (const char *const *) sources, (size_t) count);
    for (int i = 0; i < count; i++)
        free(sources[i]);
}

static td_status_t run_sync(const char *url, const char *since, const char *db,
                            td_index_stats_t *stats, char **error)
{
    td_index_options_t options = options_for(db);
    *error = NULL;
    return td_index_sync(url, since, &options, stats, error);
}

/* The stored high-water mark, malloc'd, or NULL when there is none. */
static char *mark_of(const char *db_name)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_READ, &db, &error), TD_OK, "%s", error);
    char *value = NULL;
    size_t len;
    td_status_t status = td_xdb_get_metadata(db, TD_META_LAST_SYNC, &value, &len);
    cr_assert(status == TD_OK || status == TD_ERR_NOT_FOUND);
    td_xdb_close(db);
    return value;
}

static void set_mark(const char *db_name, const char *value)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_OPEN, &db, &error), TD_OK, "%s", error);
    cr_assert_eq(td_xdb_set_metadata(db, TD_META_LAST_SYNC, value, strlen(value)), TD_OK);
    cr_assert_eq(td_xdb_commit(db), TD_OK);
    td_xdb_close(db);
}

static void today(char out[11])
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(out, 11, "%Y-%m-%d", &utc);
}

/* The mark is the day the sync started (UTC): `before` was taken before it. */
static void assert_marked_today(const char *db, const char *before)
{
    char after[11];
    today(after);
    char *mark = mark_of(db);
    cr_assert_not_null(mark, "the sync mark is set");
    cr_assert(strcmp(mark, before) == 0 || strcmp(mark, after) == 0, "mark %s, today %s", mark,
              after);
    free(mark);
}

/* No page directory is left beside the index. */
static void assert_no_pages_left(void)
{
    DIR *dir = opendir(td_test_dir);
    struct dirent *entry;
    while ((entry = readdir(dir)))
        cr_assert_null(strstr(entry->d_name, ".sync-"), "left behind: %s", entry->d_name);
    closedir(dir);
}

/* ---- tests ---- */

Test(sync, adds_the_rest_and_ends_where_a_fresh_build_starts)
{
    char *fresh = td_test_path("fresh.db"), *db = td_test_path("synced.db");
    const char *all = TD_SAMPLE_DIR;
    build_from(fresh, &all, 1);
    build_first(db, 20);
    cr_assert_null(mark_of(db), "a build sets no sync mark");

    pages_t pages = sample_pages();
    server_t server = server_start(&pages, (plan_t){0});
    char day[11];
    today(day);
    td_index_stats_t stats;
    char *error;
    td_status_t status = run_sync(server.url, "2024-01-01", db, &stats, &error);
    server_stop(&server);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    cr_assert_eq(stats.read, 41);
    cr_assert_eq(stats.added, 21);
    cr_assert_eq(stats.unchanged, 20);
    cr_assert_eq(stats.updated + stats.deleted + stats.rejected, 0);
    cr_assert_eq(stats.documents, 41);

    char *expected = td_test_index_content(fresh), *got = td_test_index_content(db);
    cr_assert_str_eq(got, expected);
    assert_marked_today(db, day);
    assert_no_pages_left();
    free(expected);
    free(got);
    pages_free(&pages);
    free(fresh);
    free(db);
}

Test(sync, requests_carry_the_date_filter_and_follow_page_tokens)
{
    char *db = td_test_path("filter.db");
    pages_t pages = sample_pages();
    server_t server = server_start(&pages, (plan_t){0});
    td_index_stats_t stats;
    char *error;
    char api_url[80];
    snprintf(api_url, sizeof(api_url), "%s/", server.url); /* a trailing slash is fine */
    td_status_t status = run_sync(api_url, "2024-03-15", db, &stats, &error);
    char *seen = requests(&server);
    server_stop(&server);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    const char *first = "/api/v2/studies?format=json&pageSize=1000&filter.advanced="
                        "AREA%5BLastUpdatePostDate%5DRANGE%5B2024-03-15%2CMAX%5D";
    char expected[4096] = "";
    sprintf(expected, "%s\n", first);
    for (int page = 2; page <= 5; page++)
        sprintf(expected + strlen(expected), "%s&pageToken=p%d%s\n", first, page, TOKEN_ESCAPED);
    cr_assert_str_eq(seen, expected);
    cr_assert_eq(stats.documents, 41, "a missing index is built from the pages");
    free(seen);
    pages_free(&pages);
    free(db);
}

Test(sync, without_since_starts_from_the_stored_mark)
{
    char *db = td_test_path("mark.db");
    build_first(db, 41);
    set_mark(db, "2023-07-01");
    pages_t pages = sample_pages();
    server_t server = server_start(&pages, (plan_t){0});
    char day[11];
    today(day);
    td_index_stats_t stats;
    char *error;
    td_status_t status = run_sync(server.url, NULL, db, &stats, &error);
    char *seen = requests(&server);
    server_stop(&server);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    cr_assert_not_null(strstr(seen, "RANGE%5B2023-07-01%2CMAX%5D"), "%s", seen);
    assert_marked_today(db, day);
    free(seen);
    pages_free(&pages);
    free(db);
}

Test(sync, without_since_or_mark_asks_for_since)
{
    char *db = td_test_path("nomark.db");
    td_index_stats_t stats;
    char *error;
    /* Nothing listens on the discard port: no request may be needed. */
    cr_assert_eq(run_sync("http://127.0.0.1:9", NULL, db, &stats, &error), TD_ERR_NOT_FOUND);
    cr_assert_not_null(strstr(error, "--since"), "%s", error);
    free(error);

    build_first(db, 5);
    cr_assert_eq(run_sync("http://127.0.0.1:9", NULL, db, &stats, &error), TD_ERR_NOT_FOUND);
    cr_assert_not_null(strstr(error, "--since"), "%s", error);
    free(error);

    cr_assert_eq(run_sync("http://127.0.0.1:9", "2024-13-01", db, &stats, &error), TD_ERR_RANGE);
    cr_assert_not_null(strstr(error, "2024-13-01"), "%s", error);
    free(error);
    free(db);
}

/* A failed sync leaves the index, and its mark, exactly as they were. */
static void assert_untouched(const char *db, const char *before)
{
    char *after = td_test_index_content(db), *mark = mark_of(db);
    cr_assert_str_eq(after, before, "nothing is committed");
    cr_assert_str_eq(mark, "2020-01-01", "the old mark stays");
    assert_no_pages_left();
    free(after);
    free(mark);
}

Test(sync, server_failing_mid_way_commits_nothing)
{
    char *db = td_test_path("failing.db");
    build_first(db, 20);
    set_mark(db, "2020-01-01");
    char *before = td_test_index_content(db);
    pages_t pages = sample_pages();
    server_t server =
        server_start(&pages, (plan_t){.fail_page = 3, .fail_status = 500, .fail_times = -1});
    td_index_stats_t stats;
    char *error;
    td_status_t status = run_sync(server.url, NULL, db, &stats, &error);
    char *seen = requests(&server);
    server_stop(&server);
    cr_assert_eq(status, TD_ERR_IO);
    cr_assert_not_null(strstr(error, "page 3 (http://127.0.0.1:"), "%s", error);
    cr_assert_not_null(strstr(error, "pageToken=p3"), "the URL is named: %s", error);
    cr_assert_not_null(strstr(error, "HTTP 500"), "%s", error);
    cr_assert_not_null(strstr(error, "5 tries"), "%s", error);
    cr_assert_eq(count_of(seen, "pageToken=p3"), 5, "%s", seen);
    cr_assert_eq(count_of(seen, "pageToken=p4"), 0);
    assert_untouched(db, before);
    free(error);
    free(seen);
    free(before);
    pages_free(&pages);
    free(db);
}

Test(sync, transient_failures_are_retried)
{
    char *db = td_test_path("retried.db");
    build_first(db, 20);
    pages_t pages = sample_pages();
    const int statuses[] = {500, 503, 429};
    for (size_t i = 0; i < 3; i++) {
        server_t server = server_start(
            &pages, (plan_t){.fail_page = 3, .fail_status = statuses[i], .fail_times = 2});
        td_index_stats_t stats;
        char *error;
        td_status_t status = run_sync(server.url, "2024-01-01", db, &stats, &error);
        char *seen = requests(&server);
        server_stop(&server);
        cr_assert_eq(status, TD_OK, "HTTP %d: %s", statuses[i], error ? error : "");
        cr_assert_eq(count_of(seen, "pageToken=p3"), 3, "%s", seen);
        cr_assert_eq(stats.added + stats.unchanged, 41);
        free(seen);
    }
    char *mark = mark_of(db);
    cr_assert_not_null(mark);
    free(mark);
    pages_free(&pages);
    free(db);
}

Test(sync, client_errors_fail_at_once)
{
    char *db = td_test_path("client.db");
    build_first(db, 20);
    set_mark(db, "2020-01-01");
    char *before = td_test_index_content(db);
    pages_t pages = sample_pages();
    server_t server =
        server_start(&pages, (plan_t){.fail_page = 2, .fail_status = 400, .fail_times = -1});
    td_index_stats_t stats;
    char *error;
    td_status_t status = run_sync(server.url, NULL, db, &stats, &error);
    char *seen = requests(&server);
    server_stop(&server);
    cr_assert_eq(status, TD_ERR_IO);
    cr_assert_not_null(strstr(error, "page 2 ("), "%s", error);
    cr_assert_not_null(strstr(error, "HTTP 400: {\"error\":\"try later\"}"), "%s", error);
    cr_assert_eq(count_of(seen, "pageToken=p2"), 1, "no retry: %s", seen);
    assert_untouched(db, before);
    free(error);
    free(seen);
    free(before);
    pages_free(&pages);
    free(db);
}

Test(sync, malformed_page_fails_with_the_page_named)
{
    char *db = td_test_path("malformed.db");
    build_first(db, 20);
    set_mark(db, "2020-01-01");
    char *before = td_test_index_content(db);
    pages_t pages = sample_pages();

    /* Page 2 cut in half, then page 4 without a "studies" array. */
    char *truncated = strndup(pages.bodies[1], pages.lens[1] / 2);
    const struct {
        size_t page;
        const char *body;
        const char *reason;
    } cases[] = {{2, truncated, "not valid JSON"},
                 {4, "{\"totalCount\":41,\"nextPageToken\":\"p5+x/=\"}", "no \"studies\" array"}};
    for (size_t i = 0; i < 2; i++) {
        server_t server = server_start(
            &pages, (plan_t){.replace_page = cases[i].page, .replace_body = cases[i].body});
        td_index_stats_t stats;
        char *error;
        td_status_t status = run_sync(server.url, NULL, db, &stats, &error);
        char *seen = requests(&server);
        server_stop(&server);
        cr_assert_eq(status, TD_ERR_BAD_INPUT);
        char page[64], token[64];
        snprintf(page, sizeof(page), "page %zu (http://127.0.0.1:", cases[i].page);
        snprintf(token, sizeof(token), "pageToken=p%zu%s)", cases[i].page, TOKEN_ESCAPED);
        cr_assert_not_null(strstr(error, page), "%s", error);
        cr_assert_not_null(strstr(error, token), "the URL is named: %s", error);
        cr_assert_not_null(strstr(error, cases[i].reason), "%s", error);
        cr_assert_eq(count_of(seen, "\n"), cases[i].page, "no page after it is fetched: %s", seen);
        assert_untouched(db, before);
        free(error);
        free(seen);
    }
    free(truncated);
    free(before);
    pages_free(&pages);
    free(db);
}

Test(sync, bad_studies_are_reported_and_the_rest_lands)
{
    char *db = td_test_path("bad.db");
    pages_t pages = sample_pages();
    /* Page 2: one sound study and one with a broken NCT ID. */
    char *good = sample_path(11), *text = td_test_slurp(good, NULL);
    const char *bad = "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT123\","
                      "\"briefTitle\":\"Broken\"}}}";
    char *body = malloc(strlen(text) + strlen(bad) + 128);
    sprintf(body, "{\"studies\":[%s,%s],\"nextPageToken\":\"p3+x/=\"}", text, bad);
    server_t server = server_start(&pages, (plan_t){.replace_page = 2, .replace_body = body});
    td_test_run_t run = {0};
    td_index_options_t options = options_for(db);
    options.on_diag = td_test_collect_diag;
    options.user = &run;
    td_index_stats_t stats;
    char *error = NULL;
    td_status_t status = td_index_sync(server.url, "2024-01-01", &options, &stats, &error);
    server_stop(&server);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    cr_assert_eq(stats.rejected, 1);
    cr_assert_eq(stats.documents, 41 - 9);
    cr_assert_eq(run.diag_count, 1);
    cr_assert_eq(run.diags[0].level, TD_DIAG_ERROR);
    cr_assert_not_null(strstr(run.diags[0].source, "page 2 (http://127.0.0.1:"), "%s",
                       run.diags[0].source);
    cr_assert_not_null(strstr(run.diags[0].source, "pageToken=p2"), "%s", run.diags[0].source);
    char *mark = mark_of(db);
    cr_assert_not_null(mark, "bad studies do not hold the mark back");
    free(mark);
    td_test_run_free(&run);
    free(body);
    free(text);
    free(good);
    pages_free(&pages);
    free(db);
}

Test(sync, strict_stop_while_applying_keeps_the_old_mark)
{
    char *db = td_test_path("strict.db");
    build_first(db, 20);
    set_mark(db, "2020-01-01");
    char *before = td_test_index_content(db);
    pages_t pages = sample_pages();
    const char *body = "{\"studies\":[{\"protocolSection\":{\"identificationModule\":"
                       "{\"nctId\":\"NCT123\"}}}],\"nextPageToken\":\"p3+x/=\"}";
    server_t server = server_start(&pages, (plan_t){.replace_page = 2, .replace_body = body});
    td_index_options_t options = options_for(db);
    options.strict = true;
    td_index_stats_t stats;
    char *error = NULL;
    td_status_t status = td_index_sync(server.url, NULL, &options, &stats, &error);
    server_stop(&server);
    cr_assert_eq(status, TD_ERR_BAD_INPUT);
    cr_assert_not_null(strstr(error, "--strict"), "%s", error);
    assert_untouched(db, before);
    free(error);
    free(before);
    pages_free(&pages);
    free(db);
}

Test(sync, second_writer_is_refused_before_any_request)
{
    char *db = td_test_path("locked.db");
    build_first(db, 5);
    pid_t holder = td_test_hold_lock(db);
    pages_t pages = sample_pages();
    server_t server = server_start(&pages, (plan_t){0});
    td_index_stats_t stats;
    char *error;
    td_status_t status = run_sync(server.url, "2024-01-01", db, &stats, &error);
    char *seen = requests(&server);
    server_stop(&server);
    td_test_release_lock(holder);
    cr_assert_eq(status, TD_ERR_LOCKED);
    char expected[64];
    snprintf(expected, sizeof(expected), "locked by pid %ld", (long) holder);
    cr_assert_not_null(strstr(error, expected), "%s", error);
    cr_assert_str_eq(seen, "", "nothing was fetched");
    free(seen);
    free(error);
    pages_free(&pages);
    free(db);
}

Test(sync, no_changes_is_a_quiet_success)
{
    char *db = td_test_path("quiet.db");
    build_first(db, 5);
    set_mark(db, "2020-01-01");
    pages_t pages = sample_pages();
    server_t server =
        server_start(&pages, (plan_t){.replace_page = 1, .replace_body = "{\"studies\":[]}"});
    td_test_run_t run = {0};
    td_index_options_t options = options_for(db);
    options.on_diag = td_test_collect_diag;
    options.user = &run;
    char day[11];
    today(day);
    td_index_stats_t stats;
    char *error = NULL;
    td_status_t status = td_index_sync(server.url, NULL, &options, &stats, &error);
    server_stop(&server);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    cr_assert_eq(stats.read + stats.added + stats.updated + stats.unchanged + stats.rejected, 0);
    cr_assert_eq(stats.documents, 5);
    cr_assert_eq(run.diag_count, 0, "%s", run.diag_count ? run.diags[0].message : "");
    assert_marked_today(db, day);
    td_test_run_free(&run);
    pages_free(&pages);
    free(db);
}

Test(sync, second_sync_with_nothing_changed_skips_everything)
{
    char *db = td_test_path("again.db");
    build_first(db, 20);
    pages_t pages = sample_pages();
    for (int run = 0; run < 2; run++) {
        server_t server = server_start(&pages, (plan_t){0});
        td_index_stats_t stats;
        char *error;
        td_status_t status = run_sync(server.url, run ? NULL : "2024-01-01", db, &stats, &error);
        server_stop(&server);
        cr_assert_eq(status, TD_OK, "%s", error ? error : "");
        cr_assert_eq(stats.unchanged, run ? 41 : 20);
        cr_assert_eq(stats.added, run ? 0 : 21);
        cr_assert_eq(stats.updated + stats.deleted + stats.rejected, 0);
        cr_assert_eq(stats.documents, 41);
    }
    pages_free(&pages);
    free(db);
}

Test(sync, stalled_server_times_out)
{
    setenv("TRIALDEX_SYNC_TIMEOUT", "1", 1);
    char *db = td_test_path("stalled.db");
    build_first(db, 5);
    set_mark(db, "2020-01-01");
    char *before = td_test_index_content(db);
    pages_t pages = sample_pages();
    server_t server = server_start(&pages, (plan_t){.stall = true, .max_requests = 5});
    td_index_stats_t stats;
    char *error;
    time_t start = time(NULL);
    td_status_t status = run_sync(server.url, NULL, db, &stats, &error);
    time_t took = time(NULL) - start;
    server_stop(&server);
    cr_assert_eq(status, TD_ERR_IO);
    cr_assert_not_null(strstr(error, "page 1 ("), "%s", error);
    cr_assert_not_null(strstr(error, "5 tries"), "%s", error);
    cr_assert_lt(took, 30, "took %lds", (long) took);
    assert_untouched(db, before);
    free(error);
    free(before);
    pages_free(&pages);
    free(db);
}

/* ---- real data ---- */

#define SHARED_STUDIES TD_SHARED_DIR "/corpus/ctgov_api_v2_studies.jsonl.gz"

/* The lines of a gzip-compressed file, each a malloc'd string. */
static char **gunzip_lines(const char *path, size_t *count)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    cr_assert_eq(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK);
    struct archive_entry *entry;
    cr_assert_eq(archive_read_next_header(a, &entry), ARCHIVE_OK);
    size_t len = 0, capacity = 1 << 20;
    char *text = malloc(capacity);
    ssize_t n;
    while ((n = archive_read_data(a, text + len, capacity - len - 1)) > 0) {
        len += (size_t) n;
        if (capacity - len < (1 << 16))
            text = realloc(text, capacity *= 2);
    }
    cr_assert_geq(n, 0);
    text[len] = '\0';
    archive_read_free(a);

    char **lines = NULL;
    *count = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line || *line == '\r')
            continue;
        lines = realloc(lines, (*count + 1) * sizeof(*lines));
        lines[(*count)++] = strdup(line);
    }
    free(text);
    return lines;
}

Test(sync, shared_corpus_pages_land_like_a_fresh_build)
{
    struct stat st;
    if (stat(SHARED_STUDIES, &st) != 0) {
        cr_skip_test("%s is absent", SHARED_STUDIES);
        return;
    }
    size_t count;
    char **studies = gunzip_lines(SHARED_STUDIES, &count);
    cr_assert_eq(count, 1457);
    pages_t pages = make_pages(studies, count, 250);
    for (size_t i = 0; i < count; i++)
        free(studies[i]);
    free(studies);

    char *fresh = td_test_path("fresh.db"), *db = td_test_path("synced.db");
    const char *source = SHARED_STUDIES;
    td_index_options_t options = options_for(fresh);
    td_index_stats_t built;
    char *error = NULL;
    cr_assert_eq(td_index_build(&source, 1, &options, &built, &error), TD_OK, "%s",
                 error ? error : "");

    for (int run = 0; run < 2; run++) {
        server_t server = server_start(&pages, (plan_t){0});
        td_index_stats_t stats;
        td_status_t status = run_sync(server.url, "2000-01-01", db, &stats, &error);
        char *seen = requests(&server);
        server_stop(&server);
        cr_assert_eq(status, TD_OK, "%s", error ? error : "");
        cr_assert_eq(count_of(seen, "\n"), pages.count, "%s", seen);
        cr_assert_eq(stats.read, built.read);
        cr_assert_eq(stats.rejected, built.rejected);
        cr_assert_eq(stats.documents, built.documents);
        if (run == 0)
            cr_assert_eq(stats.added, built.documents, "the first sync builds the index");
        else
            cr_assert_eq(stats.unchanged, built.read, "the second finds nothing new");
        free(seen);
    }
    char *expected = td_test_index_content(fresh), *got = td_test_index_content(db);
    cr_assert_str_eq(got, expected);
    free(expected);
    free(got);
    pages_free(&pages);
    free(fresh);
    free(db);
}
