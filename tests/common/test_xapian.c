/* test_xapian.c - the Xapian binding (common/td_xapian.h).
 *
 * Every test works on real glass databases in a fresh directory under /tmp,
 * removed afterwards. The remote round trip starts xapian-tcpsrv on a
 * loopback port when it is on PATH and skips otherwise.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "td_xapian.h"

/* Xapian 1.4's checker deletes its table checker through a pointer to a
 * smaller base class (440 bytes allocated, 432 freed), which AddressSanitizer
 * reports as new_delete_type_mismatch: a fault inside libxapian, harmless
 * with glibc's allocator, that would abort every td_xdb_check test. The
 * sanitizer runtime reads its defaults from here; other builds ignore it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "new_delete_type_mismatch=0";
}

/* ---- Fixture: a temporary directory, and a server to stop ---- */

static char dir[64];
static pid_t server_pid;

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *entry;
            while ((entry = readdir(d))) {
                if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
                    continue;
                char child[512];
                snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void stop_server(void)
{
    if (server_pid > 0) {
        /* The server and the children it forks per connection share the
         * process group it was started in. */
        kill(-server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static void setup(void)
{
    strcpy(dir, "/tmp/td_xapian_XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
}

static void teardown(void)
{
    stop_server();
    remove_tree(dir);
}

TestSuite(xapian, .init = setup, .fini = teardown);

/* A path inside the test directory; valid until four more calls. */
static const char *in_dir(const char *name)
{
    static char paths[4][256];
    static unsigned next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

/* A path inside the test directory that stays valid, for lists of paths. */
typedef struct path {
    char text[256];
} path_t;

static path_t path_of(const char *name)
{
    path_t path;
    snprintf(path.text, sizeof path.text, "%s/%s", dir, name);
    return path;
}

/* ---- A tiny corpus ---- */

enum { SLOT_ENROLLMENT = 1, SLOT_START = 2, SLOT_SPONSOR = 3 };

typedef struct trial {
    const char *nct_id;
    const char *words; /* indexed at positions 1, 2, ... */
    const char *status;
    double enrollment;
    const char *start; /* YYYYMMDD */
    const char *sponsor;
} trial_t;

static const trial_t trials[] = {
    {"NCT01", "her2 positive breast cancer her2", "recruiting", 120, "20200115", "acme"},
    {"NCT02", "her2 low breast cancer trastuzumab deruxtecan", "completed", 40, "20180301", "acme"},
    {"NCT03", "triple negative breast cancer", "recruiting", 600, "20221010", "beta"},
};
#define TRIAL_COUNT (sizeof trials / sizeof trials[0])

static const trial_t extra_trial = {"NCT04", "her2 gastric cancer", "recruiting", 80, "20230501",
                                    "gamma"};

static void check(td_status_t status, const char *what, const char *message)
{
    cr_assert_eq(status, TD_OK, "%s: %s: %s", what, td_status_str(status), message);
}

static td_xdoc_t *make_doc(const trial_t *trial)
{
    td_xdoc_t *doc = NULL;
    check(td_xdoc_new(&doc), "td_xdoc_new", "");
    char words[256], *save = NULL;
    snprintf(words, sizeof words, "%s", trial->words);
    uint32_t position = 1;
    for (char *word = strtok_r(words, " ", &save); word; word = strtok_r(NULL, " ", &save))
        check(td_xdoc_add_posting(doc, word, position++, 1), "add_posting",
              td_xdoc_last_error(doc));
    char term[64];
    snprintf(term, sizeof term, "Q%s", trial->nct_id);
    check(td_xdoc_add_boolean_term(doc, term), "add_boolean_term", td_xdoc_last_error(doc));
    snprintf(term, sizeof term, "XS%s", trial->status);
    check(td_xdoc_add_boolean_term(doc, term), "add_boolean_term", td_xdoc_last_error(doc));
    char number[TD_XSORTABLE_MAX];
    size_t len = td_xsortable_serialise(trial->enrollment, number);
    check(td_xdoc_set_value(doc, SLOT_ENROLLMENT, number, len), "set_value", "");
    check(td_xdoc_set_value(doc, SLOT_START, trial->start, strlen(trial->start)), "set_value", "");
    check(td_xdoc_set_value(doc, SLOT_SPONSOR, trial->sponsor, strlen(trial->sponsor)), "set_value",
          "");
    check(td_xdoc_set_data(doc, trial->nct_id, strlen(trial->nct_id)), "set_data", "");
    return doc;
}

static td_xdocid_t store(td_xdb_t *db, const trial_t *trial)
{
    td_xdoc_t *doc = make_doc(trial);
    char unique[64];
    snprintf(unique, sizeof unique, "Q%s", trial->nct_id);
    td_xdocid_t docid = 0;
    check(td_xdb_replace_document(db, unique, doc, &docid), "replace_document",
          td_xdb_last_error(db));
    td_xdoc_free(doc);
    return docid;
}

static td_xdb_t *open_db(const char *path, td_xdb_mode_t mode)
{
    td_xdb_t *db = NULL;
    char *error = NULL;
    td_status_t status = td_xdb_open(path, mode, &db, &error);
    cr_assert_eq(status, TD_OK, "open %s: %s", path, error ? error : "?");
    cr_assert_null(error);
    return db;
}

static void build_index(const char *path, const trial_t *list, size_t count)
{
    td_xdb_t *db = open_db(path, TD_XDB_OVERWRITE);
    for (size_t i = 0; i < count; ++i)
        store(db, &list[i]);
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    td_xdb_close(db);
}

static uint32_t doc_count(td_xdb_t *db)
{
    uint32_t count = 0;
    check(td_xdb_doc_count(db, &count), "doc_count", td_xdb_last_error(db));
    return count;
}

/* ---- Queries and searching ---- */

static td_xquery_t *term(const char *text)
{
    td_xquery_t *query = NULL;
    check(td_xquery_new_term(text, 1, 0, &query), "new_term", "");
    return query;
}

/* Combines two queries and frees them at once: compound queries copy. */
static td_xquery_t *combine(td_xop_t op, td_xquery_t *a, td_xquery_t *b, uint32_t window)
{
    const td_xquery_t *children[] = {a, b};
    td_xquery_t *query = NULL;
    check(td_xquery_new_compound(op, children, 2, window, &query), "new_compound", "");
    td_xquery_free(a);
    td_xquery_free(b);
    return query;
}

static td_xmset_t *run(td_xenquire_t *enquire, uint32_t first, uint32_t max)
{
    td_xmset_t *mset = NULL;
    check(td_xenquire_mset(enquire, first, max, 100, &mset), "mset",
          td_xenquire_last_error(enquire));
    return mset;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The data (NCT IDs) of every hit, joined with ',' in rank order, or sorted
 * when `sorted`. */
static void hit_ids(td_xmset_t *mset, bool sorted, char *out, size_t size)
{
    char *ids[16];
    size_t count = td_xmset_size(mset);
    cr_assert_leq(count, 16);
    for (size_t i = 0; i < count; ++i)
        check(td_xmset_data(mset, i, &ids[i], NULL), "mset_data", td_xmset_last_error(mset));
    if (sorted)
        qsort(ids, count, sizeof ids[0], compare_strings);
    out[0] = '\0';
    for (size_t i = 0; i < count; ++i) {
        if (i)
            strncat(out, ",", size - strlen(out) - 1);
        strncat(out, ids[i], size - strlen(out) - 1);
        free(ids[i]);
    }
}

/* Searches `db` for `query` (then frees it) and checks the set of hits. */
static void expect_hits(td_xdb_t *db, td_xquery_t *query, const char *expected)
{
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xenquire_set_query(enquire, query);
    char *description = NULL;
    check(td_xquery_describe(query, &description), "describe", "");
    td_xquery_free(query);
    td_xmset_t *mset = run(enquire, 0, 16);
    char ids[256];
    hit_ids(mset, true, ids, sizeof ids);
    cr_assert_str_eq(ids, expected, "%s", description);
    free(description);
    td_xmset_free(mset);
    td_xenquire_free(enquire);
}

static void expect_message(const char *message, const char *part)
{
    cr_assert(strstr(message, part), "message '%s' lacks '%s'", message, part);
}

/* ---- Round trip ---- */

Test(xapian, round_trip_reads_back_terms_values_and_data)
{
    const char *path = in_dir("db");
    td_xdb_t *writer = open_db(path, TD_XDB_CREATE);
    td_xdocid_t first = store(writer, &trials[0]);
    for (size_t i = 1; i < TRIAL_COUNT; ++i)
        store(writer, &trials[i]);
    check(td_xdb_commit(writer), "commit", td_xdb_last_error(writer));
    td_xdb_close(writer);

    td_xdb_t *db = open_db(path, TD_XDB_READ);
    cr_assert_eq(doc_count(db), TRIAL_COUNT);
    bool exists = false;
    check(td_xdb_term_exists(db, "deruxtecan", &exists), "term_exists", td_xdb_last_error(db));
    cr_assert(exists);
    check(td_xdb_term_exists(db, "pembrolizumab", &exists), "term_exists", td_xdb_last_error(db));
    cr_assert_not(exists);
    uint32_t freq = 0;
    check(td_xdb_termfreq(db, "her2", &freq), "termfreq", td_xdb_last_error(db));
    cr_assert_eq(freq, 2);

    td_xdoc_t *doc = NULL;
    check(td_xdb_get_document(db, first, &doc), "get_document", td_xdb_last_error(db));
    td_xlist_t *terms = NULL;
    check(td_xdoc_terms(doc, &terms), "terms", td_xdoc_last_error(doc));
    /* Byte order: "Q..." and "XS..." sort before lower-case words. */
    const char *expected_terms[] = {"QNCT01", "XSrecruiting", "breast",
                                    "cancer", "her2",         "positive"};
    const uint64_t expected_wdf[] = {0, 0, 1, 1, 2, 1};
    cr_assert_eq(td_xlist_count(terms), 6);
    for (size_t i = 0; i < 6; ++i) {
        cr_assert_str_eq(td_xlist_string(terms, i, NULL), expected_terms[i]);
        cr_assert_eq(td_xlist_number(terms, i), expected_wdf[i], "wdf of %s", expected_terms[i]);
    }
    td_xlist_free(terms);

    td_xlist_t *values = NULL;
    check(td_xdoc_values(doc, &values), "values", td_xdoc_last_error(doc));
    cr_assert_eq(td_xlist_count(values), 3);
    char number[TD_XSORTABLE_MAX];
    size_t number_len = td_xsortable_serialise(120, number);
    size_t len = 0;
    const char *enrollment = td_xlist_string(values, 0, &len);
    cr_assert_eq(td_xlist_number(values, 0), SLOT_ENROLLMENT);
    cr_assert(len == number_len && !memcmp(enrollment, number, len));
    cr_assert_eq(td_xlist_number(values, 2), SLOT_SPONSOR);
    cr_assert_str_eq(td_xlist_string(values, 2, NULL), "acme");
    td_xlist_free(values);

    char *value = NULL;
    check(td_xdoc_get_value(doc, SLOT_START, &value, &len), "get_value", td_xdoc_last_error(doc));
    cr_assert_str_eq(value, "20200115");
    cr_assert_eq(len, 8);
    free(value);
    value = NULL;
    cr_assert_eq(td_xdoc_get_value(doc, 7, &value, NULL), TD_ERR_NOT_FOUND);
    cr_assert_null(value);
    expect_message(td_xdoc_last_error(doc), "slot 7 is empty");

    char *data = NULL;
    check(td_xdoc_get_data(doc, &data, &len), "get_data", td_xdoc_last_error(doc));
    cr_assert_str_eq(data, "NCT01");
    cr_assert_eq(len, 5);
    free(data);
    td_xdoc_free(doc);
    td_xdb_close(db);
}

Test(xapian, document_edits)
{
    td_xdoc_t *doc = make_doc(&trials[1]);
    cr_assert_eq(td_xdoc_remove_term(doc, "absent"), TD_ERR_NOT_FOUND);
    expect_message(td_xdoc_last_error(doc), "cannot remove term 'absent'");
    check(td_xdoc_remove_term(doc, "low"), "remove_term", td_xdoc_last_error(doc));
    check(td_xdoc_add_term(doc, "metastatic", 3), "add_term", td_xdoc_last_error(doc));
    cr_assert_eq(td_xdoc_add_term(doc, "", 1), TD_ERR_RANGE);
    expect_message(td_xdoc_last_error(doc), "InvalidArgumentError");

    td_xlist_t *terms = NULL;
    check(td_xdoc_terms(doc, &terms), "terms", td_xdoc_last_error(doc));
    bool saw_low = false, saw_metastatic = false;
    for (size_t i = 0; i < td_xlist_count(terms); ++i) {
        const char *text = td_xlist_string(terms, i, NULL);
        saw_low |= !strcmp(text, "low");
        if (!strcmp(text, "metastatic")) {
            saw_metastatic = true;
            cr_assert_eq(td_xlist_number(terms, i), 3);
        }
    }
    cr_assert_not(saw_low);
    cr_assert(saw_metastatic);
    td_xlist_free(terms);

    check(td_xdoc_set_value(doc, SLOT_SPONSOR, "", 0), "clear value", td_xdoc_last_error(doc));
    char *value = NULL;
    cr_assert_eq(td_xdoc_get_value(doc, SLOT_SPONSOR, &value, NULL), TD_ERR_NOT_FOUND);
    td_xdoc_free(doc);
}

Test(xapian, term_boolean_and_phrase_queries)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);

    expect_hits(db, term("her2"), "NCT01,NCT02");
    expect_hits(db, term("pembrolizumab"), "");
    expect_hits(db, combine(TD_XOP_AND, term("breast"), term("negative"), 0), "NCT03");
    expect_hits(db, combine(TD_XOP_OR, term("low"), term("negative"), 0), "NCT02,NCT03");
    expect_hits(db, combine(TD_XOP_AND_NOT, term("breast"), term("her2"), 0), "NCT03");
    expect_hits(db, combine(TD_XOP_AND_MAYBE, term("breast"), term("her2"), 0),
                "NCT01,NCT02,NCT03");
    expect_hits(db, combine(TD_XOP_SYNONYM, term("low"), term("negative"), 0), "NCT02,NCT03");
    expect_hits(db, combine(TD_XOP_ELITE_SET, term("low"), term("negative"), 2), "NCT02,NCT03");
    expect_hits(db, combine(TD_XOP_PHRASE, term("her2"), term("low"), 0), "NCT02");
    expect_hits(db, combine(TD_XOP_PHRASE, term("low"), term("her2"), 0), "");
    expect_hits(db, combine(TD_XOP_PHRASE, term("her2"), term("breast"), 0), "");
    expect_hits(db, combine(TD_XOP_PHRASE, term("her2"), term("breast"), 3), "NCT01,NCT02");
    expect_hits(db, combine(TD_XOP_NEAR, term("cancer"), term("positive"), 3), "NCT01");
    expect_hits(db, combine(TD_XOP_FILTER, term("breast"), term("XSrecruiting"), 0), "NCT01,NCT03");

    td_xquery_t *all = NULL, *nothing = NULL;
    check(td_xquery_new_match_all(&all), "match_all", "");
    check(td_xquery_new_match_nothing(&nothing), "match_nothing", "");
    expect_hits(db, all, "NCT01,NCT02,NCT03");
    expect_hits(db, nothing, "");
    td_xdb_close(db);
}

Test(xapian, value_range_queries)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    char low[TD_XSORTABLE_MAX], high[TD_XSORTABLE_MAX];
    size_t low_len = td_xsortable_serialise(100, low);
    size_t high_len = td_xsortable_serialise(700, high);

    td_xquery_t *query = NULL;
    check(td_xquery_new_value_range(SLOT_ENROLLMENT, low, low_len, high, high_len, &query),
          "value_range", "");
    expect_hits(db, query, "NCT01,NCT03");
    check(td_xquery_new_value_range(SLOT_ENROLLMENT, NULL, 0, low, low_len, &query), "value_le",
          "");
    expect_hits(db, query, "NCT02");
    check(td_xquery_new_value_range(SLOT_START, "20200101", 8, NULL, 0, &query), "value_ge", "");
    expect_hits(db, query, "NCT01,NCT03");

    /* A range restricts a text query like any other child. */
    td_xquery_t *range = NULL;
    check(td_xquery_new_value_range(SLOT_START, "20190101", 8, "20201231", 8, &range), "range", "");
    expect_hits(db, combine(TD_XOP_FILTER, term("her2"), range, 0), "NCT01");
    td_xdb_close(db);
}

Test(xapian, query_description_and_scaling)
{
    char *text = NULL;
    td_xquery_t *phrase = combine(TD_XOP_PHRASE, term("her2"), term("low"), 0);
    check(td_xquery_describe(phrase, &text), "describe", "");
    cr_assert_str_eq(text, "Query((her2 PHRASE 2 low))");
    free(text);

    td_xquery_t *scaled = NULL;
    check(td_xquery_new_scaled(phrase, 2.5, &scaled), "scaled", "");
    td_xquery_free(phrase);
    check(td_xquery_describe(scaled, &text), "describe", "");
    cr_assert_str_eq(text, "Query(2.5 * (her2 PHRASE 2 low))");
    free(text);
    td_xquery_free(scaled);

    td_xquery_t *positioned = NULL;
    check(td_xquery_new_term("her2", 2, 5, &positioned), "new_term", "");
    check(td_xquery_describe(positioned, &text), "describe", "");
    cr_assert_str_eq(text, "Query(her2#2@5)");
    free(text);
    td_xquery_free(positioned);
}

Test(xapian, scaled_query_doubles_weights)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *plain = term("negative");
    td_xquery_t *scaled = NULL;
    check(td_xquery_new_scaled(plain, 2.0, &scaled), "scaled", "");

    td_xenquire_set_query(enquire, plain);
    td_xmset_t *before = run(enquire, 0, 10);
    td_xenquire_set_query(enquire, scaled);
    td_xmset_t *after = run(enquire, 0, 10);
    cr_assert_eq(td_xmset_size(before), 1);
    cr_assert_eq(td_xmset_size(after), 1);
    cr_assert_gt(td_xmset_weight(before, 0), 0.0);
    cr_assert_float_eq(td_xmset_weight(after, 0), 2.0 * td_xmset_weight(before, 0), 1e-9);

    td_xmset_free(before);
    td_xmset_free(after);
    td_xquery_free(plain);
    td_xquery_free(scaled);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

Test(xapian, bm25_parameters_change_weights)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *query = term("breast");
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);

    /* The documents have different lengths, so length normalisation (b)
     * separates them; without it every hit weighs the same. */
    td_xmset_t *mset = run(enquire, 0, 10);
    cr_assert_eq(td_xmset_size(mset), 3);
    cr_assert_gt(td_xmset_weight(mset, 0) - td_xmset_weight(mset, 2), 1e-6);
    td_xmset_free(mset);

    td_xenquire_set_bm25(enquire,
                         (td_xbm25_t){.k1 = 1, .k2 = 0, .k3 = 1, .b = 0, .min_normlen = 0.5});
    mset = run(enquire, 0, 10);
    cr_assert_eq(td_xmset_size(mset), 3);
    cr_assert_float_eq(td_xmset_weight(mset, 0), td_xmset_weight(mset, 2), 1e-9);
    cr_assert_eq(td_xmset_percent(mset, 2), 100);
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

Test(xapian, sort_page_and_collapse)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));

    td_xmset_t *mset = run(enquire, 0, 10);
    cr_assert_eq(td_xmset_size(mset), 0, "an enquire without a query matches nothing");
    td_xmset_free(mset);

    td_xquery_t *query = term("breast");
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);
    char ids[128];

    td_xenquire_set_sort(enquire, TD_XSORT_VALUE, SLOT_ENROLLMENT, false);
    mset = run(enquire, 0, 10);
    hit_ids(mset, false, ids, sizeof ids);
    cr_assert_str_eq(ids, "NCT02,NCT01,NCT03");
    for (size_t i = 0; i < 3; ++i)
        cr_assert_eq(td_xmset_rank(mset, i), i);
    cr_assert_eq(td_xmset_matches_estimated(mset), 3);
    td_xmset_free(mset);

    td_xenquire_set_sort(enquire, TD_XSORT_VALUE_THEN_RELEVANCE, SLOT_ENROLLMENT, true);
    mset = run(enquire, 1, 1);
    hit_ids(mset, false, ids, sizeof ids);
    cr_assert_str_eq(ids, "NCT01");
    cr_assert_eq(td_xmset_rank(mset, 0), 1);
    cr_assert_eq(td_xmset_matches_lower_bound(mset), 3);
    cr_assert_eq(td_xmset_matches_upper_bound(mset), 3);
    td_xmset_free(mset);

    td_xenquire_set_collapse(enquire, SLOT_SPONSOR, 1);
    mset = run(enquire, 0, 10);
    hit_ids(mset, false, ids, sizeof ids);
    cr_assert_str_eq(ids, "NCT03,NCT01", "one hit per sponsor, highest enrollment first");
    cr_assert_eq(td_xmset_collapse_count(mset, 0), 0);
    cr_assert_eq(td_xmset_collapse_count(mset, 1), 1);
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

Test(xapian, matching_terms_explain_a_hit)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *query = combine(TD_XOP_OR, term("her2"), term("low"), 0);
    query = combine(TD_XOP_OR, query, term("negative"), 0);
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);
    td_xmset_t *mset = run(enquire, 0, 10);
    /* A later query must not change what the result set explains. */
    query = term("cancer");
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);

    cr_assert_eq(td_xmset_size(mset), 3);
    for (size_t i = 0; i < td_xmset_size(mset); ++i) {
        td_xdoc_t *doc = NULL;
        check(td_xmset_document(mset, i, &doc), "mset_document", td_xmset_last_error(mset));
        char *id = NULL;
        check(td_xdoc_get_data(doc, &id, NULL), "get_data", td_xdoc_last_error(doc));
        td_xlist_t *terms = NULL;
        check(td_xmset_matching_terms(mset, i, &terms), "matching_terms",
              td_xmset_last_error(mset));
        if (!strcmp(id, "NCT01")) {
            cr_assert_eq(td_xlist_count(terms), 1);
            cr_assert_str_eq(td_xlist_string(terms, 0, NULL), "her2");
            cr_assert_eq(td_xlist_number(terms, 0), 2);
        } else if (!strcmp(id, "NCT02")) {
            cr_assert_eq(td_xlist_count(terms), 2);
            cr_assert_str_eq(td_xlist_string(terms, 0, NULL), "her2");
            cr_assert_str_eq(td_xlist_string(terms, 1, NULL), "low");
            cr_assert_eq(td_xlist_number(terms, 1), 1);
        } else {
            cr_assert_str_eq(id, "NCT03");
            cr_assert_eq(td_xlist_count(terms), 1);
            cr_assert_str_eq(td_xlist_string(terms, 0, NULL), "negative");
        }
        td_xlist_free(terms);
        free(id);
        td_xdoc_free(doc);
    }
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

/* ---- Updates ---- */

Test(xapian, replace_by_unique_term_makes_no_duplicate)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_OPEN);
    trial_t updated = trials[0];
    updated.words = "her2 updated summary";
    td_xdocid_t docid = store(db, &updated);
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));

    cr_assert_eq(doc_count(db), TRIAL_COUNT);
    uint32_t freq = 0;
    check(td_xdb_termfreq(db, "QNCT01", &freq), "termfreq", td_xdb_last_error(db));
    cr_assert_eq(freq, 1);
    expect_hits(db, term("updated"), "NCT01");
    expect_hits(db, term("positive"), "");
    td_xdoc_t *doc = NULL;
    check(td_xdb_get_document(db, docid, &doc), "get_document", td_xdb_last_error(db));
    char *data = NULL;
    check(td_xdoc_get_data(doc, &data, NULL), "get_data", td_xdoc_last_error(doc));
    cr_assert_str_eq(data, "NCT01");
    free(data);
    td_xdoc_free(doc);
    td_xdb_close(db);
}

Test(xapian, delete_by_unique_term)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_OPEN);
    check(td_xdb_delete_document(db, "QNCT02"), "delete", td_xdb_last_error(db));
    check(td_xdb_delete_document(db, "QNCT02"), "delete again", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    td_xdb_close(db);

    db = open_db(in_dir("db"), TD_XDB_READ);
    cr_assert_eq(doc_count(db), TRIAL_COUNT - 1);
    expect_hits(db, term("her2"), "NCT01");
    td_xdb_close(db);
}

Test(xapian, find_unique_gives_the_first_document_with_a_term)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_OPEN);
    td_xdocid_t docid = 0;
    check(td_xdb_find_unique(db, "QNCT02", &docid), "find_unique", td_xdb_last_error(db));
    td_xdoc_t *doc = NULL;
    check(td_xdb_get_document(db, docid, &doc), "get_document", td_xdb_last_error(db));
    char *data = NULL;
    check(td_xdoc_get_data(doc, &data, NULL), "get_data", td_xdoc_last_error(doc));
    cr_assert_str_eq(data, "NCT02");
    free(data);
    td_xdoc_free(doc);
    check(td_xdb_find_unique(db, "XSrecruiting", &docid), "find_unique", td_xdb_last_error(db));
    cr_assert_eq(docid, 1, "NCT01 and NCT03 have it; the lower id comes first");

    /* An upsert finds what the same batch stored before committing. */
    td_xdocid_t stored = store(db, &extra_trial);
    check(td_xdb_find_unique(db, "QNCT04", &docid), "find_unique", td_xdb_last_error(db));
    cr_assert_eq(docid, stored);

    docid = 77;
    cr_assert_eq(td_xdb_find_unique(db, "QNCT99", &docid), TD_ERR_NOT_FOUND);
    cr_assert_eq(docid, 77, "left untouched on failure");
    expect_message(td_xdb_last_error(db),
                   "cannot find a document with term 'QNCT99': no document has it");
    cr_assert_eq(td_xdb_find_unique(db, "", &docid), TD_ERR_RANGE, "not every document");
    cr_assert_eq(docid, 77);
    td_xdb_close(db);
}

/* Checks that `list` holds exactly the `count` strings of `expected` in
 * order, with numbers `numbers`. */
static void expect_list(td_xlist_t *list, const char *const *expected, const uint64_t *numbers,
                        size_t count)
{
    cr_assert_eq(td_xlist_count(list), count);
    for (size_t i = 0; i < count; ++i) {
        cr_assert_str_eq(td_xlist_string(list, i, NULL), expected[i]);
        cr_assert_eq(td_xlist_number(list, i), numbers[i], "number of %s", expected[i]);
    }
}

Test(xapian, terms_with_prefix_lists_exactly_those_terms)
{
    build_index(in_dir("a"), trials, 2);
    build_index(in_dir("b"), &trials[2], 1);
    td_xdb_t *db = open_db(in_dir("a"), TD_XDB_READ);
    td_xlist_t *list = NULL;
    check(td_xdb_terms_with_prefix(db, "Q", &list), "terms_with_prefix", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"QNCT01", "QNCT02"}, (const uint64_t[]){1, 1}, 2);
    td_xlist_free(list);

    /* Across shards, with frequencies summed. */
    td_xdb_t *shard = open_db(in_dir("b"), TD_XDB_READ);
    check(td_xdb_add_database(db, shard), "add_database", td_xdb_last_error(db));
    td_xdb_close(shard);
    check(td_xdb_terms_with_prefix(db, "Q", &list), "terms_with_prefix", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"QNCT01", "QNCT02", "QNCT03"}, (const uint64_t[]){1, 1, 1},
                3);
    td_xlist_free(list);
    check(td_xdb_terms_with_prefix(db, "XS", &list), "terms_with_prefix", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"XScompleted", "XSrecruiting"}, (const uint64_t[]){1, 2}, 2);
    td_xlist_free(list);
    check(td_xdb_terms_with_prefix(db, "her", &list), "terms_with_prefix", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"her2"}, (const uint64_t[]){2}, 1);
    td_xlist_free(list);
    check(td_xdb_terms_with_prefix(db, "QNCT9", &list), "terms_with_prefix", td_xdb_last_error(db));
    cr_assert_eq(td_xlist_count(list), 0);
    td_xlist_free(list);
    check(td_xdb_terms_with_prefix(db, "", &list), "terms_with_prefix", td_xdb_last_error(db));
    cr_assert_eq(td_xlist_count(list), 14, "every term: 3 ids, 2 statuses, 9 words");
    td_xlist_free(list);
    td_xdb_close(db);
}

Test(xapian, transactions_cancel_and_commit)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_OPEN);

    check(td_xdb_begin_transaction(db, true), "begin", td_xdb_last_error(db));
    store(db, &extra_trial);
    check(td_xdb_cancel_transaction(db), "cancel", td_xdb_last_error(db));
    cr_assert_eq(doc_count(db), TRIAL_COUNT);

    check(td_xdb_begin_transaction(db, false), "begin", td_xdb_last_error(db));
    store(db, &extra_trial);
    check(td_xdb_commit_transaction(db), "commit_transaction", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    td_xdb_close(db);

    db = open_db(in_dir("db"), TD_XDB_READ);
    cr_assert_eq(doc_count(db), TRIAL_COUNT + 1);
    td_xdb_close(db);
}

Test(xapian, metadata_round_trip)
{
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_CREATE_OR_OPEN);
    check(td_xdb_set_metadata(db, "schema_version", "3", 1), "set_metadata", td_xdb_last_error(db));
    check(td_xdb_set_metadata(db, "binary", "a\0b", 3), "set_metadata", td_xdb_last_error(db));
    check(td_xdb_set_metadata(db, "doomed", "x", 1), "set_metadata", td_xdb_last_error(db));
    check(td_xdb_set_metadata(db, "doomed", "", 0), "delete metadata", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    td_xdb_close(db);

    db = open_db(in_dir("db"), TD_XDB_READ);
    char *value = NULL;
    size_t len = 0;
    check(td_xdb_get_metadata(db, "schema_version", &value, &len), "get", td_xdb_last_error(db));
    cr_assert_str_eq(value, "3");
    cr_assert_eq(len, 1);
    free(value);
    check(td_xdb_get_metadata(db, "binary", &value, &len), "get", td_xdb_last_error(db));
    cr_assert(len == 3 && !memcmp(value, "a\0b", 3));
    free(value);
    value = NULL;
    cr_assert_eq(td_xdb_get_metadata(db, "doomed", &value, &len), TD_ERR_NOT_FOUND);
    cr_assert_eq(td_xdb_get_metadata(db, "never-set", &value, &len), TD_ERR_NOT_FOUND);
    cr_assert_null(value);
    expect_message(td_xdb_last_error(db), "cannot read metadata 'never-set'");
    cr_assert_eq(td_xdb_get_metadata(db, "", &value, &len), TD_ERR_RANGE);
    td_xdb_close(db);
}

Test(xapian, revision_and_uuid)
{
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_CREATE);
    uint64_t before = 0, after = 0;
    check(td_xdb_revision(db, &before), "revision", td_xdb_last_error(db));
    store(db, &trials[0]);
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    check(td_xdb_revision(db, &after), "revision", td_xdb_last_error(db));
    cr_assert_gt(after, before);
    char *uuid = NULL;
    check(td_xdb_uuid(db, &uuid), "uuid", td_xdb_last_error(db));
    cr_assert_eq(strlen(uuid), 36, "uuid '%s'", uuid);
    free(uuid);
    td_xdb_close(db);
}

Test(xapian, stats_describe_the_database)
{
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_CREATE);
    td_xdb_stats_t stats;
    memset(&stats, 0xff, sizeof stats);
    check(td_xdb_stats(db, &stats), "stats", td_xdb_last_error(db));
    cr_assert_eq(stats.doc_count, 0);
    cr_assert_eq(stats.total_length, 0);
    cr_assert_float_eq(stats.average_length, 0.0, 1e-12);
    cr_assert_eq(stats.last_docid, 0);
    cr_assert_eq(stats.revision, 0);
    cr_assert_not(stats.has_positions);

    /* Word counts 5, 6 and 4; the boolean id and status terms weigh 0. */
    for (size_t i = 0; i < TRIAL_COUNT; ++i)
        store(db, &trials[i]);
    check(td_xdb_delete_document(db, "QNCT03"), "delete", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    check(td_xdb_stats(db, &stats), "stats", td_xdb_last_error(db));
    cr_assert_eq(stats.doc_count, 2);
    cr_assert_eq(stats.total_length, 11);
    cr_assert_float_eq(stats.average_length, 5.5, 1e-12);
    cr_assert_eq(stats.last_docid, 3, "a deleted document's id stays used");
    uint64_t revision = 0;
    check(td_xdb_revision(db, &revision), "revision", td_xdb_last_error(db));
    cr_assert_eq(stats.revision, revision);
    cr_assert_gt(stats.revision, 0);
    cr_assert(stats.has_positions);
    td_xdb_close(db);

    /* A sharded handle adds its shards up and has no single revision. */
    build_index(in_dir("b"), &trials[2], 1);
    db = open_db(in_dir("db"), TD_XDB_READ);
    td_xdb_t *shard = open_db(in_dir("b"), TD_XDB_READ);
    check(td_xdb_add_database(db, shard), "add_database", td_xdb_last_error(db));
    td_xdb_close(shard);
    check(td_xdb_stats(db, &stats), "stats", td_xdb_last_error(db));
    cr_assert_eq(stats.doc_count, 3);
    cr_assert_eq(stats.total_length, 15);
    cr_assert_float_eq(stats.average_length, 5.0, 1e-12);
    cr_assert_eq(stats.revision, 0);
    cr_assert(stats.has_positions);
    td_xdb_close(db);

    /* Terms without positions. */
    db = open_db(in_dir("plain"), TD_XDB_CREATE);
    td_xdoc_t *doc = NULL;
    check(td_xdoc_new(&doc), "doc_new", "");
    check(td_xdoc_add_term(doc, "her2", 3), "add_term", td_xdoc_last_error(doc));
    check(td_xdb_replace_document(db, "QNCT01", doc, NULL), "replace", td_xdb_last_error(db));
    td_xdoc_free(doc);
    check(td_xdb_stats(db, &stats), "stats", td_xdb_last_error(db));
    cr_assert_eq(stats.doc_count, 1, "uncommitted changes count");
    cr_assert_eq(stats.total_length, 3);
    cr_assert_not(stats.has_positions);
    td_xdb_close(db);
}

Test(xapian, reader_reopens_to_see_commits)
{
    td_xdb_t *writer = open_db(in_dir("db"), TD_XDB_CREATE);
    store(writer, &trials[0]);
    check(td_xdb_commit(writer), "commit", td_xdb_last_error(writer));
    td_xdb_t *reader = open_db(in_dir("db"), TD_XDB_READ);
    store(writer, &trials[1]);
    check(td_xdb_commit(writer), "commit", td_xdb_last_error(writer));

    cr_assert_eq(doc_count(reader), 1);
    bool changed = false;
    check(td_xdb_reopen(reader, &changed), "reopen", td_xdb_last_error(reader));
    cr_assert(changed);
    cr_assert_eq(doc_count(reader), 2);
    td_xdb_close(reader);
    td_xdb_close(writer);
}

/* ---- Mapped errors ---- */

Test(xapian, opening_a_missing_index_is_not_found)
{
    const char *path = in_dir("missing");
    td_xdb_t *db = NULL;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(path, TD_XDB_READ, &db, &error), TD_ERR_NOT_FOUND);
    cr_assert_null(db);
    cr_assert_not_null(error);
    char expected[300];
    snprintf(expected, sizeof expected, "cannot open index '%s': DatabaseNotFoundError", path);
    expect_message(error, expected);
    cr_assert_null(strchr(error, '\n'));
    free(error);

    error = NULL;
    cr_assert_eq(td_xdb_open(path, TD_XDB_OPEN, &db, &error), TD_ERR_NOT_FOUND);
    free(error);
    cr_assert_eq(td_xdb_open(path, TD_XDB_READ, &db, NULL), TD_ERR_NOT_FOUND);
    cr_assert_null(db);
}

Test(xapian, creating_over_an_existing_index_fails)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = NULL;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(in_dir("db"), TD_XDB_CREATE, &db, &error), TD_ERR_IO);
    expect_message(error, "DatabaseCreateError");
    free(error);
    cr_assert_null(db);
}

Test(xapian, second_writer_is_locked)
{
    const char *path = in_dir("db");
    build_index(path, trials, TRIAL_COUNT);
    td_xdb_t *writer = open_db(path, TD_XDB_OPEN);

    /* Xapian holds the lock in a helper process, so even this process cannot
     * open a second writer. */
    td_xdb_t *second = NULL;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(path, TD_XDB_OPEN, &second, &error), TD_ERR_LOCKED);
    cr_assert_null(second);
    char expected[300];
    snprintf(expected, sizeof expected, "cannot open index '%s': DatabaseLockError", path);
    expect_message(error, expected);
    free(error);

    pid_t child = fork();
    cr_assert_geq(child, 0, "fork failed");
    if (child == 0) {
        td_xdb_t *other = NULL;
        _exit(td_xdb_open(path, TD_XDB_CREATE_OR_OPEN, &other, NULL));
    }
    int wait_status = 0;
    cr_assert_eq(waitpid(child, &wait_status, 0), child);
    cr_assert(WIFEXITED(wait_status));
    cr_assert_eq(WEXITSTATUS(wait_status), TD_ERR_LOCKED, "another process: %s",
                 td_status_str(WEXITSTATUS(wait_status)));

    /* Readers are not blocked. Closing the writer frees the lock at once,
     * even while an enquire made from it is alive; that enquire then fails
     * cleanly. */
    td_xdb_t *reader = open_db(path, TD_XDB_READ);
    cr_assert_eq(doc_count(reader), TRIAL_COUNT);
    td_xdb_close(reader);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(writer, &enquire), "enquire_new", td_xdb_last_error(writer));
    td_xquery_t *query = term("breast");
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);
    td_xdb_close(writer);
    second = open_db(path, TD_XDB_OPEN);
    td_xdb_close(second);
    td_xmset_t *mset = NULL;
    cr_assert_eq(td_xenquire_mset(enquire, 0, 10, 0, &mset), TD_ERR_INVALID);
    cr_assert_null(mset);
    expect_message(td_xenquire_last_error(enquire), "DatabaseClosedError");
    td_xenquire_free(enquire);
}

/* Overwrites the start of `file` with garbage. */
static void scribble(const char *file)
{
    FILE *f = fopen(file, "r+b");
    cr_assert_not_null(f, "cannot open %s", file);
    char junk[8192];
    memset(junk, 0x5a, sizeof junk);
    cr_assert_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
}

/* Opens `path` and searches it; returns the first failure and its message. */
static td_status_t open_and_search(const char *path, char *message, size_t size)
{
    td_xdb_t *db = NULL;
    char *error = NULL;
    td_status_t status = td_xdb_open(path, TD_XDB_READ, &db, &error);
    if (status != TD_OK) {
        snprintf(message, size, "%s", error ? error : "");
        free(error);
        return status;
    }
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *query = term("breast");
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);
    td_xmset_t *mset = NULL;
    status = td_xenquire_mset(enquire, 0, 10, 0, &mset);
    snprintf(message, size, "%s", td_xenquire_last_error(enquire));
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xdb_close(db);
    return status;
}

Test(xapian, damaged_posting_table_is_corrupt)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    char file[300];
    snprintf(file, sizeof file, "%s/postlist.glass", in_dir("db"));
    scribble(file);
    char message[512];
    td_status_t status = open_and_search(in_dir("db"), message, sizeof message);
    cr_assert_eq(status, TD_ERR_CORRUPT, "%s: %s", td_status_str(status), message);
    expect_message(message, "DatabaseCorruptError");
}

Test(xapian, truncated_version_file_is_corrupt)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    char file[300];
    snprintf(file, sizeof file, "%s/iamglass", in_dir("db"));
    cr_assert_eq(truncate(file, 10), 0);
    char message[512];
    td_status_t status = open_and_search(in_dir("db"), message, sizeof message);
    cr_assert_eq(status, TD_ERR_CORRUPT, "%s: %s", td_status_str(status), message);
    expect_message(message, "DatabaseCorruptError");
}

/* Runs td_xdb_check, asserting that it always gives a report. */
static td_status_t check_index(const char *path, size_t *errors, char **report)
{
    *report = NULL;
    td_status_t status = td_xdb_check(path, errors, report);
    cr_assert_not_null(*report, "%s: no report", td_status_str(status));
    return status;
}

Test(xapian, check_finds_a_sound_index_sound)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    size_t errors = 99;
    char *report = NULL;
    td_status_t status = check_index(in_dir("db"), &errors, &report);
    cr_assert_eq(status, TD_OK, "%s: %s", td_status_str(status), report);
    cr_assert_eq(errors, 0, "%s", report);
    expect_message(report, "termlist table structure checked OK");
    expect_message(report, "postlist table structure checked OK");
    expect_message(report, "position table structure checked OK");
    free(report);

    char table[300];
    snprintf(table, sizeof table, "%s/postlist.glass", in_dir("db"));
    errors = 99;
    cr_assert_eq(check_index(table, &errors, &report), TD_OK);
    cr_assert_eq(errors, 0, "%s", report);
    expect_message(report, "postlist table structure checked OK");
    cr_assert_null(strstr(report, "termlist"), "only the table asked for: %s", report);
    free(report);
}

Test(xapian, check_of_what_is_not_an_index)
{
    const char *path = in_dir("missing");
    size_t errors = 99;
    char *report = NULL;
    cr_assert_eq(check_index(path, &errors, &report), TD_ERR_NOT_FOUND);
    cr_assert_eq(errors, 99, "left untouched");
    char expected[300];
    snprintf(expected, sizeof expected, "cannot check index '%s': no such file or directory\n",
             path);
    cr_assert_str_eq(report, expected);
    free(report);

    cr_assert_eq(mkdir(in_dir("empty"), 0700), 0);
    cr_assert_eq(check_index(in_dir("empty"), &errors, &report), TD_ERR_CORRUPT);
    cr_assert_eq(errors, 1);
    expect_message(report, "Directory does not contain a Xapian database");
    free(report);
}

/* Copies the file `from` over `to`. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    cr_assert_not_null(in, "cannot open %s", from);
    FILE *out = fopen(to, "wb");
    cr_assert_not_null(out, "cannot open %s", to);
    char buffer[8192];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
        cr_assert_eq(fwrite(buffer, 1, n, out), n);
    fclose(in);
    fclose(out);
}

Test(xapian, check_counts_tables_that_disagree)
{
    /* Same trials, one word longer each: swapping in the other index's
     * termlist leaves every table readable but every length wrong. */
    trial_t longer[TRIAL_COUNT];
    char words[TRIAL_COUNT][128];
    for (size_t i = 0; i < TRIAL_COUNT; ++i) {
        longer[i] = trials[i];
        snprintf(words[i], sizeof words[i], "%s adjuvant", trials[i].words);
        longer[i].words = words[i];
    }
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    build_index(in_dir("longer"), longer, TRIAL_COUNT);
    char from[300], to[300];
    snprintf(from, sizeof from, "%s/termlist.glass", in_dir("longer"));
    snprintf(to, sizeof to, "%s/termlist.glass", in_dir("db"));
    copy_file(from, to);

    size_t errors = 0;
    char *report = NULL;
    td_status_t status = check_index(in_dir("db"), &errors, &report);
    cr_assert_eq(status, TD_OK, "%s: %s", td_status_str(status), report);
    cr_assert_geq(errors, TRIAL_COUNT, "%s", report);
    expect_message(report, "document id 1: length 5 doesn't match 6 in the termlist table");
    free(report);
}

Test(xapian, check_stops_at_a_damaged_posting_table)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    char file[300];
    snprintf(file, sizeof file, "%s/postlist.glass", in_dir("db"));
    scribble(file);
    size_t errors = 0;
    char *report = NULL;
    td_status_t status = check_index(in_dir("db"), &errors, &report);
    cr_assert_eq(status, TD_ERR_CORRUPT, "%s: %s", td_status_str(status), report);
    cr_assert_eq(errors, 1);
    /* What was checked before, then the one-line reason. */
    expect_message(report, "termlist table structure checked OK\n");
    char expected[300];
    snprintf(expected, sizeof expected,
             "cannot check index '%s': DatabaseCorruptError: ", in_dir("db"));
    const char *message = strstr(report, expected);
    cr_assert_not_null(message, "%s", report);
    cr_assert_eq(strchr(message, '\n'), report + strlen(report) - 1, "the message ends the report");
    free(report);
}

Test(xapian, bad_query_syntax_is_bad_query)
{
    td_xqp_t *qp = NULL;
    check(td_xqp_new(&qp), "qp_new", "");
    td_xquery_t *query = NULL;
    cr_assert_eq(td_xqp_parse(qp, "AND AND (", TD_XQP_DEFAULT, NULL, &query), TD_ERR_BAD_QUERY);
    cr_assert_null(query);
    expect_message(td_xqp_last_error(qp), "cannot parse query 'AND AND (': QueryParserError: ");

    cr_assert_eq(td_xqp_parse(qp, "NOT fulvestrant", TD_XQP_DEFAULT, NULL, &query),
                 TD_ERR_BAD_QUERY);
    check(td_xqp_parse(qp, "NOT fulvestrant", TD_XQP_DEFAULT | TD_XQP_PURE_NOT, NULL, &query),
          "pure not", td_xqp_last_error(qp));
    td_xquery_free(query);
    td_xqp_free(qp);
}

Test(xapian, invalid_arguments_are_range_errors)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xdoc_t *doc = NULL;
    cr_assert_eq(td_xdb_get_document(db, 0, &doc), TD_ERR_RANGE);
    cr_assert_null(doc);
    expect_message(td_xdb_last_error(db), "InvalidArgumentError: Document ID 0 is invalid");
    cr_assert_eq(td_xdb_get_document(db, 999, &doc), TD_ERR_NOT_FOUND);
    expect_message(td_xdb_last_error(db), "DocNotFoundError");
    td_xdb_close(db);

    td_xqp_t *qp = NULL;
    check(td_xqp_new(&qp), "qp_new", "");
    cr_assert_eq(td_xqp_set_default_op(qp, TD_XOP_AND_NOT), TD_ERR_RANGE);
    td_xqp_free(qp);

    td_xstem_t *stem = NULL;
    cr_assert_eq(td_xstem_new("klingon", &stem), TD_ERR_RANGE);
    cr_assert_null(stem);
}

Test(xapian, transaction_misuse_is_invalid)
{
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_CREATE);
    cr_assert_eq(td_xdb_commit_transaction(db), TD_ERR_INVALID);
    expect_message(td_xdb_last_error(db), "InvalidOperationError");
    cr_assert_eq(td_xdb_cancel_transaction(db), TD_ERR_INVALID);
    check(td_xdb_begin_transaction(db, true), "begin", td_xdb_last_error(db));
    cr_assert_eq(td_xdb_begin_transaction(db, true), TD_ERR_INVALID);
    cr_assert_eq(td_xdb_commit(db), TD_ERR_INVALID, "commit inside a transaction");
    check(td_xdb_cancel_transaction(db), "cancel", td_xdb_last_error(db));
    td_xdb_close(db);
}

/* A loopback port nothing listens on (it was free a moment ago). */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *) &address, sizeof address), 0);
    socklen_t len = sizeof address;
    cr_assert_eq(getsockname(fd, (struct sockaddr *) &address, &len), 0);
    close(fd);
    return ntohs(address.sin_port);
}

Test(xapian, remote_to_a_closed_port_is_io)
{
    unsigned port = free_port();
    td_xdb_t *db = NULL;
    char *error = NULL;
    cr_assert_eq(td_xdb_open_remote("127.0.0.1", port, 2000, false, &db, &error), TD_ERR_IO);
    cr_assert_null(db);
    expect_message(error, "cannot open remote index '127.0.0.1:");
    expect_message(error, "NetworkError");
    free(error);
    cr_assert_eq(td_xdb_open_remote("127.0.0.1", port, 2000, true, &db, NULL), TD_ERR_IO);
}

/* ---- Sharding, facets, snippets, dictionaries, compaction ---- */

Test(xapian, sharded_read_returns_hits_from_both)
{
    build_index(in_dir("a"), trials, 2);
    build_index(in_dir("b"), &trials[2], 1);
    td_xdb_t *db = open_db(in_dir("a"), TD_XDB_READ);
    td_xdb_t *shard = open_db(in_dir("b"), TD_XDB_READ);
    check(td_xdb_add_database(db, shard), "add_database", td_xdb_last_error(db));
    td_xdb_close(shard); /* the sharded handle keeps it open */

    cr_assert_eq(doc_count(db), 3);
    expect_hits(db, term("breast"), "NCT01,NCT02,NCT03");
    expect_hits(db, combine(TD_XOP_OR, term("low"), term("negative"), 0), "NCT02,NCT03");
    uint64_t revision = 0;
    cr_assert_eq(td_xdb_revision(db, &revision), TD_ERR_INVALID);
    td_xdb_close(db);
}

Test(xapian, match_spy_counts_facet_values)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *all = NULL;
    check(td_xquery_new_match_all(&all), "match_all", "");
    td_xenquire_set_query(enquire, all);
    td_xquery_free(all);
    td_xspy_t *spy = NULL;
    check(td_xenquire_add_spy(enquire, SLOT_SPONSOR, &spy), "add_spy",
          td_xenquire_last_error(enquire));
    td_xmset_t *mset = NULL;
    check(td_xenquire_mset(enquire, 0, 1, 3, &mset), "mset", td_xenquire_last_error(enquire));
    td_xmset_free(mset);

    cr_assert_eq(td_xspy_total(spy), 3);
    td_xlist_t *values = NULL;
    check(td_xspy_values(spy, 0, &values), "spy_values", "");
    cr_assert_eq(td_xlist_count(values), 2);
    cr_assert_str_eq(td_xlist_string(values, 0, NULL), "acme");
    cr_assert_eq(td_xlist_number(values, 0), 2);
    cr_assert_str_eq(td_xlist_string(values, 1, NULL), "beta");
    cr_assert_eq(td_xlist_number(values, 1), 1);
    td_xlist_free(values);

    check(td_xspy_values(spy, 1, &values), "spy_values top", "");
    cr_assert_eq(td_xlist_count(values), 1);
    cr_assert_str_eq(td_xlist_string(values, 0, NULL), "acme");
    td_xlist_free(values);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

Test(xapian, snippet_highlights_matches)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xenquire_t *enquire = NULL;
    check(td_xenquire_new(db, &enquire), "enquire_new", td_xdb_last_error(db));
    td_xquery_t *query = combine(TD_XOP_OR, term("her2"), term("cancer"), 0);
    td_xenquire_set_query(enquire, query);
    td_xquery_free(query);
    td_xmset_t *mset = run(enquire, 0, 10);
    td_xstem_t *stem = NULL;
    check(td_xstem_new("english", &stem), "stem_new", "");

    char *snippet = NULL;
    check(td_xmset_snippet(mset, "Patients with HER2-low breast cancer & prior therapy.", 200, stem,
                           "[", "]", &snippet),
          "snippet", td_xmset_last_error(mset));
    expect_message(snippet, "[HER2]");
    expect_message(snippet, "[cancer]");
    expect_message(snippet, "&amp;");
    cr_assert_null(strstr(snippet, "[breast]"));
    free(snippet);
    td_xstem_free(stem);
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xdb_close(db);
}

Test(xapian, stemmer_and_parser)
{
    td_xstem_t *stem = NULL;
    check(td_xstem_new("english", &stem), "stem_new", "");
    char *word = NULL;
    check(td_xstem_word(stem, "cancers", &word), "stem", "");
    cr_assert_str_eq(word, "cancer");
    free(word);

    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xqp_t *qp = NULL;
    check(td_xqp_new(&qp), "qp_new", "");
    check(td_xqp_add_boolean_prefix(qp, "status", "XS", NULL), "boolean_prefix", "");
    check(td_xqp_add_number_range(qp, SLOT_ENROLLMENT, "enrollment:", 0), "number_range", "");
    check(td_xqp_add_date_range(qp, SLOT_START, "start:", 0), "date_range", "");
    cr_assert_eq(td_xqp_add_prefix(qp, "status", "XT"), TD_ERR_INVALID);

    const struct {
        const char *text;
        const char *hits;
    } cases[] = {
        {"breast status:recruiting", "NCT01,NCT03"},
        {"breast status:recruiting status:completed", "NCT01,NCT02,NCT03"},
        {"enrollment:100..700", "NCT01,NCT03"},
        {"start:2019-01-01..2021-12-31", "NCT01"},
        {"\"her2 low\"", "NCT02"},
        {"her2 -low", "NCT01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        td_xquery_t *query = NULL;
        check(td_xqp_parse(qp, cases[i].text, TD_XQP_DEFAULT, NULL, &query), cases[i].text,
              td_xqp_last_error(qp));
        expect_hits(db, query, cases[i].hits);
    }

    check(td_xqp_set_default_op(qp, TD_XOP_AND), "default_op", td_xqp_last_error(qp));
    td_xquery_t *query = NULL;
    check(td_xqp_parse(qp, "her2 breast", TD_XQP_DEFAULT, NULL, &query), "and", "");
    expect_hits(db, query, "NCT01,NCT02");

    check(td_xqp_set_stemmer(qp, stem, TD_XSTEM_SOME), "set_stemmer", td_xqp_last_error(qp));
    check(td_xqp_parse(qp, "cancers", TD_XQP_DEFAULT, "XT", &query), "stemmed", "");
    char *text = NULL;
    check(td_xquery_describe(query, &text), "describe", "");
    cr_assert_str_eq(text, "Query(ZXTcancer@1)");
    free(text);
    td_xquery_free(query);
    td_xqp_free(qp);
    td_xstem_free(stem);
    td_xdb_close(db);
}

Test(xapian, spelling_suggestion)
{
    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_CREATE);
    check(td_xdb_add_spelling(db, "trastuzumab", 1), "add_spelling", td_xdb_last_error(db));
    check(td_xdb_add_spelling(db, "palbociclib", 1), "add_spelling", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));

    char *suggestion = NULL;
    check(td_xdb_spelling_suggestion(db, "trastuzamab", 2, &suggestion), "suggest",
          td_xdb_last_error(db));
    cr_assert_str_eq(suggestion, "trastuzumab");
    free(suggestion);
    suggestion = NULL;
    cr_assert_eq(td_xdb_spelling_suggestion(db, "zzzzqqqq", 2, &suggestion), TD_ERR_NOT_FOUND);
    cr_assert_null(suggestion);

    check(td_xdb_remove_spelling(db, "trastuzumab", 1), "remove_spelling", td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    cr_assert_eq(td_xdb_spelling_suggestion(db, "trastuzamab", 2, &suggestion), TD_ERR_NOT_FOUND);
    td_xdb_close(db);
}

Test(xapian, synonyms_are_stored_and_expand)
{
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    td_xdb_t *writer = open_db(in_dir("db"), TD_XDB_OPEN);
    check(td_xdb_add_synonym(writer, "her2", "neu"), "add_synonym", td_xdb_last_error(writer));
    check(td_xdb_add_synonym(writer, "her2", "erbb2"), "add_synonym", td_xdb_last_error(writer));
    check(td_xdb_add_synonym(writer, "tnbc", "negative"), "add_synonym", td_xdb_last_error(writer));
    check(td_xdb_clear_synonyms(writer, "tnbc"), "clear", td_xdb_last_error(writer));
    check(td_xdb_commit(writer), "commit", td_xdb_last_error(writer));
    td_xdb_close(writer);

    td_xdb_t *db = open_db(in_dir("db"), TD_XDB_READ);
    td_xlist_t *synonyms = NULL;
    check(td_xdb_synonyms(db, "her2", &synonyms), "synonyms", td_xdb_last_error(db));
    cr_assert_eq(td_xlist_count(synonyms), 2);
    cr_assert_str_eq(td_xlist_string(synonyms, 0, NULL), "erbb2");
    cr_assert_str_eq(td_xlist_string(synonyms, 1, NULL), "neu");
    td_xlist_free(synonyms);
    check(td_xdb_synonyms(db, "tnbc", &synonyms), "synonyms", td_xdb_last_error(db));
    cr_assert_eq(td_xlist_count(synonyms), 0);
    td_xlist_free(synonyms);

    td_xqp_t *qp = NULL;
    check(td_xqp_new(&qp), "qp_new", "");
    check(td_xqp_set_database(qp, db), "set_database", td_xqp_last_error(qp));
    td_xquery_t *query = NULL;
    check(td_xqp_parse(qp, "her2", TD_XQP_DEFAULT | TD_XQP_AUTO_SYNONYMS, NULL, &query), "parse",
          td_xqp_last_error(qp));
    char *text = NULL;
    check(td_xquery_describe(query, &text), "describe", "");
    cr_assert_str_eq(text, "Query((her2@1 SYNONYM erbb2@1 SYNONYM neu@1))");
    free(text);
    td_xquery_free(query);
    td_xqp_free(qp);
    td_xdb_close(db);
}

Test(xapian, compact_keeps_every_document)
{
    build_index(in_dir("a"), trials, 2);
    build_index(in_dir("b"), &trials[2], 1);
    td_xdb_t *db = open_db(in_dir("a"), TD_XDB_READ);
    td_xdb_t *shard = open_db(in_dir("b"), TD_XDB_READ);
    check(td_xdb_add_database(db, shard), "add_database", td_xdb_last_error(db));
    td_xdb_close(shard);
    check(td_xdb_compact(db, in_dir("compact"), true), "compact", td_xdb_last_error(db));
    cr_assert_eq(td_xdb_compact(db, in_dir("a"), false), TD_ERR_RANGE, "onto its own source");
    td_xdb_close(db);

    td_xdb_t *compacted = open_db(in_dir("compact"), TD_XDB_READ);
    cr_assert_eq(doc_count(compacted), 3);
    expect_hits(compacted, term("breast"), "NCT01,NCT02,NCT03");
    td_xdb_close(compacted);
}

/* A shard: `count` trials, spellings (word, frequency), synonym pairs
 * (term, synonym) and metadata pairs (key, value), each list ending in NULL. */
static void build_shard(const char *path, const trial_t *list, size_t count,
                        const char *const *spellings, const char *const *synonyms,
                        const char *const *metadata)
{
    td_xdb_t *db = open_db(path, TD_XDB_CREATE);
    for (size_t i = 0; i < count; ++i)
        store(db, &list[i]);
    for (; spellings && *spellings; spellings += 2)
        check(td_xdb_add_spelling(db, spellings[0], (uint32_t) atoi(spellings[1])), "spelling",
              td_xdb_last_error(db));
    for (; synonyms && *synonyms; synonyms += 2)
        check(td_xdb_add_synonym(db, synonyms[0], synonyms[1]), "synonym", td_xdb_last_error(db));
    for (; metadata && *metadata; metadata += 2)
        check(td_xdb_set_metadata(db, metadata[0], metadata[1], strlen(metadata[1])), "metadata",
              td_xdb_last_error(db));
    check(td_xdb_commit(db), "commit", td_xdb_last_error(db));
    td_xdb_close(db);
}

static void expect_metadata(td_xdb_t *db, const char *key, const char *expected)
{
    char *value = NULL;
    check(td_xdb_get_metadata(db, key, &value, NULL), key, td_xdb_last_error(db));
    cr_assert_str_eq(value, expected, "metadata %s", key);
    free(value);
}

static void expect_suggestion(td_xdb_t *db, const char *word, const char *expected)
{
    char *suggestion = NULL;
    check(td_xdb_spelling_suggestion(db, word, 2, &suggestion), word, td_xdb_last_error(db));
    cr_assert_str_eq(suggestion, expected);
    free(suggestion);
}

static void compact_shards(const char *const *sources, size_t count, const char *destination)
{
    char *error = (char *) "unset";
    td_status_t status = td_xdb_compact_shards(sources, count, destination, &error);
    cr_assert_eq(status, TD_OK, "%s: %s", td_status_str(status), error ? error : "");
    cr_assert_null(error);
}

Test(xapian, compact_shards_merges_documents_and_dictionaries)
{
    build_shard(in_dir("a"), trials, 2,
                (const char *[]){"trastuzumab", "1", "deruxtecan", "1", NULL},
                (const char *[]){"her2", "erbb2", NULL},
                (const char *[]){"source", "a", "only_a", "1", NULL});
    build_shard(in_dir("b"), &trials[2], 1,
                (const char *[]){"trastuzumab", "2", "olaparib", "1", NULL},
                (const char *[]){"her2", "neu", "tnbc", "triple negative", NULL},
                (const char *[]){"source", "b", "only_b", "1", NULL});
    path_t a = path_of("a"), b = path_of("b");
    const char *sources[] = {a.text, b.text};
    compact_shards(sources, 2, in_dir("merged"));

    td_xdb_t *db = open_db(in_dir("merged"), TD_XDB_OPEN);
    cr_assert_eq(doc_count(db), 3);
    td_xlist_t *list = NULL;
    check(td_xdb_terms_with_prefix(db, "Q", &list), "terms_with_prefix", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"QNCT01", "QNCT02", "QNCT03"}, (const uint64_t[]){1, 1, 1},
                3);
    td_xlist_free(list);
    td_xdocid_t docid = 0;
    check(td_xdb_find_unique(db, "QNCT03", &docid), "find_unique", td_xdb_last_error(db));
    cr_assert_eq(docid, 3, "the second shard's documents follow the first's");
    expect_hits(db, combine(TD_XOP_PHRASE, term("her2"), term("low"), 0), "NCT02");

    expect_suggestion(db, "deruxtecam", "deruxtecan");
    expect_suggestion(db, "olaparob", "olaparib");
    check(td_xdb_synonyms(db, "her2", &list), "synonyms", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"erbb2", "neu"}, (const uint64_t[]){0, 0}, 2);
    td_xlist_free(list);
    check(td_xdb_synonyms(db, "tnbc", &list), "synonyms", td_xdb_last_error(db));
    expect_list(list, (const char *[]){"triple negative"}, (const uint64_t[]){0}, 1);
    td_xlist_free(list);
    expect_metadata(db, "source", "a");
    expect_metadata(db, "only_a", "1");
    expect_metadata(db, "only_b", "1");

    /* The spelling frequencies were summed (1 + 2): taking 2 away leaves
     * the word, taking one more removes it. */
    check(td_xdb_remove_spelling(db, "trastuzumab", 2), "remove_spelling", td_xdb_last_error(db));
    expect_suggestion(db, "trastuzamab", "trastuzumab");
    check(td_xdb_remove_spelling(db, "trastuzumab", 1), "remove_spelling", td_xdb_last_error(db));
    char *suggestion = NULL;
    cr_assert_eq(td_xdb_spelling_suggestion(db, "trastuzamab", 2, &suggestion), TD_ERR_NOT_FOUND);
    td_xdb_close(db);

    size_t errors = 99;
    char *report = NULL;
    cr_assert_eq(check_index(in_dir("merged"), &errors, &report), TD_OK);
    cr_assert_eq(errors, 0, "%s", report);
    free(report);
}

Test(xapian, compact_shards_keeps_the_first_shards_metadata)
{
    build_shard(in_dir("a"), trials, 1, NULL, NULL, (const char *[]){"source", "a", NULL});
    build_shard(in_dir("b"), &trials[1], 1, NULL, NULL, (const char *[]){"source", "b", NULL});
    build_shard(in_dir("c"), &trials[2], 1, NULL, NULL, (const char *[]){"other", "c", NULL});
    /* No documents, only a synonym: still merged. */
    build_shard(in_dir("d"), NULL, 0, NULL, (const char *[]){"her2", "erbb2", NULL},
                (const char *[]){"source", "d", NULL});

    /* Four shards merge in several passes; the order given still decides. */
    path_t a = path_of("a"), b = path_of("b"), c = path_of("c"), d = path_of("d");
    const char *sources[] = {c.text, b.text, d.text, a.text};
    compact_shards(sources, 4, in_dir("merged"));
    td_xdb_t *db = open_db(in_dir("merged"), TD_XDB_READ);
    cr_assert_eq(doc_count(db), 3);
    expect_metadata(db, "source", "b");
    expect_metadata(db, "other", "c");
    td_xdocid_t docid = 0;
    check(td_xdb_find_unique(db, "QNCT03", &docid), "find_unique", td_xdb_last_error(db));
    cr_assert_eq(docid, 1, "shard c came first");
    check(td_xdb_find_unique(db, "QNCT01", &docid), "find_unique", td_xdb_last_error(db));
    cr_assert_eq(docid, 3, "shard a came last");
    td_xlist_t *list = NULL;
    check(td_xdb_synonyms(db, "her2", &list), "synonyms", td_xdb_last_error(db));
    cr_assert_eq(td_xlist_count(list), 1);
    td_xlist_free(list);
    td_xdb_close(db);
}

Test(xapian, compact_shards_failures_name_the_culprit)
{
    path_t a = path_of("a"), nowhere = path_of("nowhere"), merged = path_of("merged");
    build_index(a.text, trials, 2);
    const char *missing[] = {a.text, nowhere.text};
    char *error = NULL;
    cr_assert_eq(td_xdb_compact_shards(missing, 2, merged.text, &error), TD_ERR_NOT_FOUND);
    char expected[300];
    snprintf(expected, sizeof expected, "cannot open shard '%s': DatabaseNotFoundError",
             nowhere.text);
    expect_message(error, expected);
    free(error);
    struct stat st;
    cr_assert_neq(stat(merged.text, &st), 0, "nothing written");

    const char *one[] = {a.text};
    error = NULL;
    cr_assert_eq(td_xdb_compact_shards(one, 1, a.text, &error), TD_ERR_RANGE);
    snprintf(expected, sizeof expected, "cannot compact into '%s': InvalidArgumentError", a.text);
    expect_message(error, expected);
    free(error);

    path_t orphan = path_of("no/such/parent");
    error = NULL;
    cr_assert_eq(td_xdb_compact_shards(one, 1, orphan.text, &error), TD_ERR_IO);
    snprintf(expected, sizeof expected, "cannot compact into '%s': DatabaseError: ", orphan.text);
    expect_message(error, expected);
    expect_message(error, "cannot create directory");
    free(error);
    cr_assert_eq(td_xdb_compact_shards(one, 1, orphan.text, NULL), TD_ERR_IO);
}

/* ---- Remote ---- */

/* Whether `program` is an executable on PATH. */
static bool on_path(const char *program)
{
    const char *path = getenv("PATH");
    char copy[4096], *save = NULL;
    snprintf(copy, sizeof copy, "%s", path ? path : "");
    for (char *entry = strtok_r(copy, ":", &save); entry; entry = strtok_r(NULL, ":", &save)) {
        char candidate[4200];
        snprintf(candidate, sizeof candidate, "%s/%s", entry, program);
        if (access(candidate, X_OK) == 0)
            return true;
    }
    return false;
}

/* Starts xapian-tcpsrv serving `path` on a loopback port (writable) and waits
 * until it accepts connections. */
static unsigned start_server(const char *path)
{
    unsigned port = free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%u", port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        /* Its own process group: xapian-tcpsrv signals its whole group when
         * it stops. */
        setpgid(0, 0);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execlp("xapian-tcpsrv", "xapian-tcpsrv", "--interface", "127.0.0.1", "--port", port_text,
               "--writable", path, (char *) NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    server_pid = pid;

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int attempt = 0; attempt < 100; ++attempt) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int connected = connect(fd, (struct sockaddr *) &address, sizeof address);
        close(fd);
        if (connected == 0)
            return port;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    cr_assert_fail("xapian-tcpsrv did not start on port %u", port);
    return 0;
}

Test(xapian, remote_round_trip, .timeout = 60)
{
    if (!on_path("xapian-tcpsrv"))
        cr_skip("xapian-tcpsrv is not on PATH");
    build_index(in_dir("db"), trials, TRIAL_COUNT);
    unsigned port = start_server(in_dir("db"));

    td_xdb_t *writer = NULL;
    char *error = NULL;
    td_status_t status = td_xdb_open_remote("127.0.0.1", port, 10000, true, &writer, &error);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    store(writer, &extra_trial);
    check(td_xdb_commit(writer), "remote commit", td_xdb_last_error(writer));
    cr_assert_eq(doc_count(writer), TRIAL_COUNT + 1);
    cr_assert_eq(td_xdb_add_synonym(writer, "her2", "erbb2"), TD_ERR_INVALID);
    expect_message(td_xdb_last_error(writer), "UnimplementedError");
    td_xdb_close(writer);

    td_xdb_t *reader = NULL;
    status = td_xdb_open_remote("127.0.0.1", port, 10000, false, &reader, &error);
    cr_assert_eq(status, TD_OK, "%s", error ? error : "");
    expect_hits(reader, term("her2"), "NCT01,NCT02,NCT04");
    td_xdb_stats_t stats;
    check(td_xdb_stats(reader, &stats), "remote stats", td_xdb_last_error(reader));
    cr_assert_eq(stats.doc_count, TRIAL_COUNT + 1);
    cr_assert_eq(stats.revision, 0, "no revision over the network");
    cr_assert(stats.has_positions);

    /* A remote shard and a local one searched as one. */
    build_index(in_dir("local"), &trials[2], 1);
    td_xdb_t *local = open_db(in_dir("local"), TD_XDB_READ);
    check(td_xdb_add_database(local, reader), "add remote shard", td_xdb_last_error(local));
    td_xdb_close(reader);
    expect_hits(local, term("cancer"), "NCT01,NCT02,NCT03,NCT03,NCT04");
    td_xdb_close(local);
    stop_server();
}

Test(xapian, termgenerator_baseline_indexes_words_and_stems)
{
    td_xdoc_t *doc;
    td_xstem_t *stem;
    cr_assert_eq(td_xdoc_new(&doc), TD_OK);
    cr_assert_eq(td_xstem_new("english", &stem), TD_OK);
    uint32_t position = 10;
    const char text[] = "Metastatic tumours";
    cr_assert_eq(td_xdoc_index_text(doc, stem, text, sizeof(text) - 1, "", &position), TD_OK);
    cr_assert_eq(position, 12, "positions continue from where they were");
    td_xlist_t *terms;
    cr_assert_eq(td_xdoc_terms(doc, &terms), TD_OK);
    static const char *const expected[] = {"Zmetastat", "Ztumour", "metastatic", "tumours"};
    cr_assert_eq(td_xlist_count(terms), 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(td_xlist_string(terms, i, NULL), expected[i]);
    td_xlist_free(terms);
    td_xstem_free(stem);
    td_xdoc_free(doc);
}

Test(xapian, latlong_coordinates_serialise)
{
    const double lat[] = {39.9042, 31.2304}, lon[] = {116.4074, 121.4737};
    char *value = NULL;
    size_t len = 0;
    cr_assert_eq(td_xlatlong_serialise(lat, lon, 2, &value, &len), TD_OK);
    cr_assert_eq(len, 12, "two coordinates of six bytes each");
    free(value);
    const double bad_lat[] = {91.0};
    cr_assert_eq(td_xlatlong_serialise(bad_lat, lon, 1, &value, &len), TD_ERR_RANGE);
}
