/* trialdex-bench: repeatable measurements of trialdex's parts. */
#define _XOPEN_SOURCE 700 /* nftw, getline */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td_analyzer.h"
#include "td_format.h"
#include "td_indexer.h"
#include "td_reader.h"
#include "td_schema.h"
#include "td_search.h"
#include "td_xapian.h"

#include "bench_internal.h"

static const char usage[] =
    "usage: trialdex-bench reader [--runs N] SRC...\n"
    "       trialdex-bench analyzer [--runs N] SRC...\n"
    "       trialdex-bench index [--runs N] SRC...\n"
    "       trialdex-bench latency [-d DB] [--runs N] [--warmup N] [--facets on|off|both]\n"
    "                              [--threads N] [--no-raw] [--table] QUERYFILE\n"
    "       trialdex-bench relevance [-d DB] [--reference] [--condensed] [--depth N]\n"
    "                                [--relevant-grade N] [--run FILE] [--per-topic]\n"
    "                                [--config FILE] [--corpus NAME] TOPICS QRELS\n"
    "\n"
    "  reader    Read every record of SRC (as trialdex-index read does) N times\n"
    "            (default 5) and print the median wall time, records/s and MB/s\n"
    "            of decompressed input, as one line of JSON.\n"
    "  analyzer  Load every record of SRC, then analyze all of each record's text\n"
    "            (document mode, one thread) N times and print the median wall\n"
    "            time, records/s and MB/s of text, as one line of JSON; then the\n"
    "            same for the peer, Xapian's TermGenerator with the English\n"
    "            stemmer filling one document per record.\n"
    "  index     Build an index of SRC N times in a temporary directory with\n"
    "            trialdex's indexer, then with a naive indexer (one thread,\n"
    "            TermGenerator with positions on every field, default settings),\n"
    "            each run in its own process; print the median records/s, MB/s,\n"
    "            index size per record and peak RSS of each, as JSON lines.\n"
    "  latency   Run every query of QUERYFILE (one per line; blank lines and\n"
    "            lines starting with '#' are skipped) on the index DB (default\n"
    "            $" TD_DB_ENV ", else ./" TD_DB_DEFAULT "): --warmup passes over all\n"
    "            queries (default 1), then --runs timed passes (default 5), timing\n"
    "            each search (limit 10, relevance, partial matches allowed, no\n"
    "            snippets or explanations, exact match counts). Modes: trialdex's\n"
    "            td_search with facets off and on (--facets, default both), and\n"
    "            the raw Xapian floor (unless --no-raw): the final query trialdex\n"
    "            builds for the same request, run straight through libxapian and\n"
    "            the top 10 hits' stored data read, with no parsing, analysis or\n"
    "            facets. Each mode runs on one\n"
    "            thread, then on as many threads as cores (or on --threads N\n"
    "            only), every thread with its own searcher doing every pass.\n"
    "            Prints the setup (index, query file, machine, date); the cold\n"
    "            start, the median over --runs forked children (fork without\n"
    "            exec, before this process opens the index) of opening the index\n"
    "            and answering the first query; per mode and thread count the\n"
    "            median, p90, p99, max and mean latency and queries/s (searches /\n"
    "            wall time); with one thread, how many queries fell back to\n"
    "            partial matches or found nothing and the five slowest; and the\n"
    "            ratio of trialdex (facets off) to the raw floor. JSON lines, or\n"
    "            with --table a table for people. A query that does not parse is\n"
    "            an error (exit 2).\n"
    "  relevance Run every topic of TOPICS (BEIR queries or TREC topics XML) on DB\n"
    "            and score the rankings against QRELS (BEIR or trec_eval): nDCG@10,\n"
    "            P@10, R@100, R@1000 and MRR per topic and mean, trialdex's default\n"
    "            ranking or (--reference) plain BM25; --run writes a TREC run.\n"
    "            `trialdex-bench relevance --help` gives the protocol and options.\n";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* One full read; returns false when reading failed outright. */
static bool read_all(const char *const *sources, size_t count, td_reader_stats_t *stats)
{
    td_reader_t *reader;
    if (td_reader_open(sources, count, TD_FORMAT_AUTO, NULL, NULL, &reader) != TD_OK)
        return false;
    td_trial_t *trial;
    td_status_t status;
    while ((status = td_reader_next(reader, &trial)) == TD_OK)
        td_trial_free(trial);
    *stats = td_reader_stats(reader);
    td_reader_close(reader);
    return status == TD_DONE;
}

/* Parses "[--runs N] SRC...": returns the sources (malloc'd) or NULL after
 * printing the usage. */
static const char **parse_arguments(int argc, char **argv, int *runs, size_t *count)
{
    *runs = 5;
    *count = 0;
    const char **sources = calloc((size_t) argc + 1, sizeof(*sources));
    if (!sources)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            *runs = atoi(argv[++i]);
        else
            sources[(*count)++] = argv[i];
    }
    if (!*count || *runs < 1 || *runs > 1000) {
        fputs(usage, stderr);
        free(sources);
        return NULL;
    }
    return sources;
}

static double median_of(double *seconds, int runs)
{
    qsort(seconds, (size_t) runs, sizeof(*seconds), compare_doubles);
    return runs % 2 ? seconds[runs / 2] : (seconds[runs / 2 - 1] + seconds[runs / 2]) / 2;
}

static int command_reader(int argc, char **argv)
{
    int runs;
    size_t count;
    const char **sources = parse_arguments(argc, argv, &runs, &count);
    if (!sources)
        return 2;
    double *seconds = calloc((size_t) runs, sizeof(*seconds));
    td_reader_stats_t stats = {0};
    for (int r = 0; r < runs; r++) {
        double start = now_seconds();
        if (!seconds || !read_all(sources, count, &stats)) {
            fprintf(stderr, "trialdex-bench: reading failed\n");
            free(seconds);
            free(sources);
            return 3;
        }
        seconds[r] = now_seconds() - start;
    }
    double median = median_of(seconds, runs);
    printf("{\"bench\":\"reader\",\"runs\":%d,\"records\":%zu,\"rejected\":%zu,"
           "\"bytes\":%llu,\"median_s\":%.3f,\"min_s\":%.3f,\"max_s\":%.3f,"
           "\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
           runs, stats.records, stats.rejected, (unsigned long long) stats.bytes, median,
           seconds[0], seconds[runs - 1], (double) stats.records / median,
           (double) stats.bytes / 1e6 / median);
    free(seconds);
    free(sources);
    return 0;
}

typedef struct texts {
    const char **items;
    size_t count, capacity;
    uint64_t bytes;
} texts_t;

static void collect_text(td_text_field_t field, const char *text, void *user)
{
    (void) field;
    texts_t *texts = user;
    if (texts->count == texts->capacity) {
        texts->capacity = texts->capacity ? texts->capacity * 2 : 4096;
        texts->items = realloc(texts->items, texts->capacity * sizeof(*texts->items));
        if (!texts->items) {
            fprintf(stderr, "trialdex-bench: out of memory\n");
            exit(3);
        }
    }
    texts->items[texts->count++] = text;
    texts->bytes += strlen(text);
}

static void print_analyzer_result(const char *name, int runs, size_t records, const texts_t *texts,
                                  uint64_t terms, double median)
{
    printf("{\"bench\":\"%s\",\"runs\":%d,\"records\":%zu,\"texts\":%zu,\"bytes\":%llu,"
           "\"terms\":%llu,\"median_s\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
           name, runs, records, texts->count, (unsigned long long) texts->bytes,
           (unsigned long long) terms, median, (double) records / median,
           (double) texts->bytes / 1e6 / median);
}

static int command_analyzer(int argc, char **argv)
{
    int runs;
    size_t count;
    const char **sources = parse_arguments(argc, argv, &runs, &count);
    if (!sources)
        return 2;
    td_analyzer_t *analyzer = NULL;
    td_analysis_t *analysis = NULL;
    char *error = NULL;
    td_reader_t *reader = NULL;
    if (td_analyzer_new(NULL, &analyzer, &error) != TD_OK ||
        td_analysis_new(analyzer, &analysis) != TD_OK ||
        td_reader_open(sources, count, TD_FORMAT_AUTO, NULL, NULL, &reader) != TD_OK) {
        fprintf(stderr, "trialdex-bench: cannot start: %s\n", error ? error : "out of memory");
        return 3;
    }
    /* Load first, so only analysis is timed. */
    td_trial_t **trials = NULL;
    size_t trial_count = 0;
    texts_t texts = {0};
    size_t *text_counts = NULL; /* texts per record, for the peer's documents */
    td_trial_t *trial;
    while (td_reader_next(reader, &trial) == TD_OK) {
        trials = realloc(trials, (trial_count + 1) * sizeof(*trials));
        text_counts = realloc(text_counts, (trial_count + 1) * sizeof(*text_counts));
        if (!trials || !text_counts)
            return 3;
        size_t before = texts.count;
        td_trial_each_text(trial, collect_text, &texts);
        text_counts[trial_count] = texts.count - before;
        trials[trial_count++] = trial;
    }
    td_reader_close(reader);
    double *seconds = calloc((size_t) runs, sizeof(*seconds));
    uint64_t terms = 0;
    for (int r = 0; r < runs && seconds; r++) {
        double start = now_seconds();
        terms = 0;
        for (size_t i = 0; i < texts.count; i++) {
            if (td_analyze(analysis, texts.items[i], strlen(texts.items[i]), TD_ANALYZE_DOCUMENT,
                           0) != TD_OK) {
                fprintf(stderr, "trialdex-bench: analysis failed\n");
                return 3;
            }
            terms += td_analysis_count(analysis);
        }
        seconds[r] = now_seconds() - start;
    }
    double median = median_of(seconds, runs);
    print_analyzer_result("analyzer", runs, trial_count, &texts, terms, median);

    /* The peer: TermGenerator, one document per record, no database. */
    td_xstem_t *stem = NULL;
    if (td_xstem_new("english", &stem) != TD_OK)
        return 3;
    for (int r = 0; r < runs; r++) {
        double start = now_seconds();
        size_t text = 0;
        for (size_t i = 0; i < trial_count; i++) {
            td_xdoc_t *doc;
            uint32_t position = 1;
            if (td_xdoc_new(&doc) != TD_OK)
                return 3;
            for (size_t end = text + text_counts[i]; text < end; text++)
                if (td_xdoc_index_text(doc, stem, texts.items[text], strlen(texts.items[text]), "",
                                       &position) != TD_OK)
                    return 3;
            td_xdoc_free(doc);
        }
        seconds[r] = now_seconds() - start;
    }
    double peer = median_of(seconds, runs);
    print_analyzer_result("peer_xapian_termgenerator", runs, trial_count, &texts, 0, peer);
    printf("{\"bench\":\"analyzer_vs_peer\",\"speed_ratio\":%.2f}\n", peer / median);
    td_xstem_free(stem);
    free(text_counts);
    for (size_t i = 0; i < trial_count; i++)
        td_trial_free(trials[i]);
    free(trials);
    free(texts.items);
    free(seconds);
    free(sources);
    td_analysis_free(analysis);
    td_analyzer_free(analyzer);
    return 0;
}

/* The naive peer: every text field through TermGenerator with positions,
 * one document per trial, one thread, default flush settings. */
static void naive_field(td_text_field_t field, const char *text, void *user)
{
    (void) field;
    void **state = user;
    td_xdoc_t *doc = state[0];
    const td_xstem_t *stem = state[1];
    uint32_t *position = state[2];
    if (td_xdoc_index_text(doc, stem, text, strlen(text), "", position) != TD_OK)
        exit(3);
    *position += 100;
}

static int naive_build(const char *const *sources, size_t count, const char *path)
{
    td_xdb_t *db;
    td_xstem_t *stem;
    td_reader_t *reader;
    char *error = NULL;
    if (td_xdb_open(path, TD_XDB_CREATE, &db, &error) != TD_OK ||
        td_xstem_new("english", &stem) != TD_OK ||
        td_reader_open(sources, count, TD_FORMAT_AUTO, NULL, NULL, &reader) != TD_OK)
        return 3;
    td_trial_t *trial;
    while (td_reader_next(reader, &trial) == TD_OK) {
        td_xdoc_t *doc;
        uint32_t position = 1;
        if (td_xdoc_new(&doc) != TD_OK)
            return 3;
        void *state[3] = {doc, stem, &position};
        td_trial_each_text(trial, naive_field, state);
        char id[16];
        snprintf(id, sizeof(id), "Q%s", trial->nct_id);
        if (td_xdoc_add_boolean_term(doc, id) != TD_OK ||
            td_xdb_replace_document(db, id, doc, NULL) != TD_OK)
            return 3;
        td_xdoc_free(doc);
        td_trial_free(trial);
    }
    td_reader_close(reader);
    int code = td_xdb_commit(db) == TD_OK ? 0 : 3;
    td_xdb_close(db);
    td_xstem_free(stem);
    return code;
}

static uint64_t tree_size;

static int add_file_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) path;
    (void) ftw;
    if (flag == FTW_F)
        tree_size += (uint64_t) st->st_size;
    return 0;
}

/* One run in a child process, for its own wall time and peak RSS. */
static bool timed_run(bool naive, const char *const *sources, size_t count, const char *dir,
                      double *seconds, long *peak_kb, uint64_t *size, size_t *records)
{
    char db[4096];
    snprintf(db, sizeof(db), "%s/%s", dir, naive ? "naive.db" : "trialdex.db");
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return false;
    double start = now_seconds();
    pid_t child = fork();
    if (child == 0) {
        int code;
        if (naive) {
            code = naive_build(sources, count, db);
        } else {
            td_index_options_t options = {.db = db, .format = TD_FORMAT_AUTO};
            td_index_stats_t stats;
            char *error = NULL;
            code = td_index_build(sources, count, &options, &stats, &error) == TD_OK ? 0 : 3;
        }
        /* The child's own peak, for the parent. */
        struct rusage usage;
        getrusage(RUSAGE_SELF, &usage);
        long peak = usage.ru_maxrss;
        if (write(pipe_fds[1], &peak, sizeof(peak)) != (ssize_t) sizeof(peak))
            code = 3;
        _exit(code);
    }
    close(pipe_fds[1]);
    int status;
    long peak = 0;
    bool got = read(pipe_fds[0], &peak, sizeof(peak)) == (ssize_t) sizeof(peak);
    close(pipe_fds[0]);
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || !got)
        return false;
    *seconds = now_seconds() - start;
    *peak_kb = peak;
    tree_size = 0;
    nftw(dir, add_file_size, 16, FTW_PHYS);
    *size = tree_size;
    td_xdb_t *x;
    char *error = NULL;
    uint32_t documents = 0;
    if (td_xdb_open(db, TD_XDB_READ, &x, &error) != TD_OK || td_xdb_doc_count(x, &documents))
        return false;
    td_xdb_close(x);
    *records = documents;
    return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int command_index(int argc, char **argv)
{
    int runs;
    size_t count;
    const char **sources = parse_arguments(argc, argv, &runs, &count);
    if (!sources)
        return 2;
    /* The input's size, decompressed, as the reader sees it. */
    td_reader_stats_t input = {0};
    if (!read_all(sources, count, &input))
        return 3;
    static const char *const names[] = {"index_trialdex", "index_naive_termgenerator"};
    double medians[2] = {0};
    for (int naive = 0; naive < 2; naive++) {
        double *seconds = calloc((size_t) runs, sizeof(*seconds));
        long peak = 0;
        uint64_t size = 0;
        size_t records = 0;
        for (int r = 0; r < runs && seconds; r++) {
            char dir[] = "/tmp/trialdex-bench-XXXXXX";
            if (!mkdtemp(dir) ||
                !timed_run(naive, sources, count, dir, &seconds[r], &peak, &size, &records)) {
                fprintf(stderr, "trialdex-bench: index run failed\n");
                return 3;
            }
            nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        medians[naive] = median_of(seconds, runs);
        printf("{\"bench\":\"%s\",\"runs\":%d,\"records\":%zu,\"input_bytes\":%llu,"
               "\"median_s\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f,"
               "\"index_bytes\":%llu,\"bytes_per_record\":%.0f,\"peak_rss_mb\":%.0f}\n",
               names[naive], runs, records, (unsigned long long) input.bytes, medians[naive],
               (double) records / medians[naive], (double) input.bytes / 1e6 / medians[naive],
               (unsigned long long) size, records ? (double) size / records : 0.0,
               (double) peak / 1024.0);
        free(seconds);
    }
    printf("{\"bench\":\"index_vs_naive\",\"speed_ratio\":%.2f}\n", medians[1] / medians[0]);
    free(sources);
    return 0;
}

/* ---- latency ---- */

static td_search_request_t latency_request(const char *query, bool facets)
{
    td_search_request_t request = td_search_request_default(query);
    request.limit = 10;
    request.snippets = false;
    request.explain = false;
    request.facets = facets;
    return request;
}

/* One cold start in a forked child that has not opened an index yet (the
 * parent opens none before): the analyzer's lexicon, ICU's data and the
 * database are all set up from scratch, as in a fresh `trialdex-search`;
 * loading the program and its libraries is not counted, and the operating
 * system's page cache is as the earlier runs left it. */
static bool cold_start(const char *db, const char *query, bool facets, double *seconds)
{
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return false;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        close(pipe_fds[0]);
        double elapsed = -1, start = now_seconds();
        td_searcher_t *searcher = NULL;
        td_search_result_t *result = NULL;
        td_search_request_t request = latency_request(query, facets);
        if (td_searcher_open(db, NULL, &searcher, NULL) == TD_OK &&
            td_search(searcher, &request, &result, NULL) == TD_OK)
            elapsed = now_seconds() - start;
        td_search_result_free(result);
        td_searcher_free(searcher);
        bool sent = write(pipe_fds[1], &elapsed, sizeof(elapsed)) == (ssize_t) sizeof(elapsed);
        _exit(sent && elapsed >= 0 ? 0 : 3);
    }
    close(pipe_fds[1]);
    double elapsed = -1;
    bool got =
        child > 0 && read(pipe_fds[0], &elapsed, sizeof(elapsed)) == (ssize_t) sizeof(elapsed);
    close(pipe_fds[0]);
    int status;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || !got)
        return false;
    *seconds = elapsed;
    return true;
}

/* The value at percentile p of `sorted` (nearest rank). */
static double percentile(const double *sorted, size_t count, double p)
{
    size_t rank = (size_t) (p / 100.0 * (double) count + 0.999999);
    return sorted[rank ? rank - 1 : 0];
}

typedef struct slow_query {
    size_t index;
    double median;
} slow_query_t;

static int compare_slow_queries(const void *a, const void *b)
{
    double x = ((const slow_query_t *) a)->median, y = ((const slow_query_t *) b)->median;
    return (x < y) - (x > y);
}

typedef struct latency_options {
    const char *db, *query_file;
    int runs, warmup;
    bool facets[2]; /* which settings to run: [0] off, [1] on */
    bool raw;       /* also the raw Xapian floor */
    bool table;     /* a table for people instead of JSON lines */
    int threads;    /* 0: one thread, then as many as cores */
} latency_options_t;

/* What is timed: trialdex's td_search (facets off or on), or the floor:
 * the final Xapian query trialdex builds for the same request, run straight
 * through libxapian with the same exact counting of matches, and the top
 * 10 hits' stored data read (no parsing, analysis, facets or output). */
typedef enum latency_mode { MODE_TRIALDEX, MODE_TRIALDEX_FACETS, MODE_RAW } latency_mode_t;

static const char *const MODE_NAMES[] = {"trialdex", "trialdex+facets", "xapian_raw"};

/* One thread's searcher and what it measured. */
typedef struct worker {
    pthread_t thread;
    const latency_options_t *options;
    const bench_query_set_t *queries;
    latency_mode_t mode;
    td_searcher_t *searcher;
    td_xquery_t **raw; /* MODE_RAW: each query built once */
    double *seconds;   /* [query * runs + run] */
    size_t partial, empty;
    int code;
    char error[512];
} worker_t;

static int run_trialdex(worker_t *w, size_t i, double *seconds, bool count)
{
    td_search_request_t request =
        latency_request(w->queries->texts[i], w->mode == MODE_TRIALDEX_FACETS);
    td_query_error_t qerr = {0};
    td_search_result_t *result = NULL;
    double start = now_seconds();
    td_status_t status = td_search(w->searcher, &request, &result, &qerr);
    *seconds = now_seconds() - start;
    if (status != TD_OK) {
        snprintf(w->error, sizeof(w->error), "%s:%zu: %s: %s (at character %zu)",
                 w->options->query_file, w->queries->lines[i],
                 status == TD_ERR_BAD_QUERY ? "bad query" : "search failed", qerr.message,
                 qerr.position + 1);
        return status == TD_ERR_BAD_QUERY ? 2 : 3;
    }
    if (count) {
        w->partial += result->partial;
        w->empty += result->hit_count == 0;
    }
    td_search_result_free(result);
    return 0;
}

static int run_raw(worker_t *w, size_t i, double *seconds)
{
    td_xdb_t *db = td_searcher_db(w->searcher);
    td_search_settings_t settings;
    td_search_settings_default(&settings);
    double start = now_seconds();
    td_xenquire_t *enquire = NULL;
    td_xmset_t *mset = NULL;
    td_status_t status = td_xenquire_new(db, &enquire);
    if (status == TD_OK) {
        td_xenquire_set_query(enquire, w->raw[i]);
        td_xenquire_set_bm25(enquire, td_search_bm25(&settings));
        status = td_xenquire_mset(enquire, 0, 10, td_searcher_doc_count(w->searcher), &mset);
    }
    /* The hits' stored data, as any program showing results reads it. */
    for (size_t k = 0; status == TD_OK && k < td_xmset_size(mset); k++) {
        char *data = NULL;
        status = td_xmset_data(mset, k, &data, NULL);
        free(data);
    }
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    *seconds = now_seconds() - start;
    if (status != TD_OK) {
        snprintf(w->error, sizeof(w->error), "%s:%zu: raw search failed", w->options->query_file,
                 w->queries->lines[i]);
        return 3;
    }
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    const latency_options_t *options = w->options;
    size_t count = w->queries->count;
    double unused;
    for (int pass = 0; pass < options->warmup + options->runs && !w->code; pass++)
        for (size_t i = 0; i < count && !w->code; i++) {
            bool timed = pass >= options->warmup;
            double *slot =
                timed ? &w->seconds[i * (size_t) options->runs + (size_t) (pass - options->warmup)]
                      : &unused;
            w->code =
                w->mode == MODE_RAW ? run_raw(w, i, slot) : run_trialdex(w, i, slot, pass == 0);
        }
    return NULL;
}

static void worker_clear(worker_t *w)
{
    for (size_t i = 0; w->raw && i < w->queries->count; i++)
        td_xquery_free(w->raw[i]);
    free(w->raw);
    free(w->seconds);
    td_searcher_free(w->searcher);
}

/* Opens a worker's searcher (and builds its raw queries). */
static int worker_open(worker_t *w)
{
    char *error = NULL;
    if (td_searcher_open(w->options->db, NULL, &w->searcher, &error) != TD_OK) {
        snprintf(w->error, sizeof(w->error), "%s", error ? error : "cannot open the index");
        free(error);
        return 3;
    }
    size_t count = w->queries->count;
    w->seconds = calloc(count * (size_t) w->options->runs, sizeof(*w->seconds));
    if (!w->seconds)
        return 3;
    if (w->mode != MODE_RAW)
        return 0;
    w->raw = calloc(count, sizeof(*w->raw));
    if (!w->raw)
        return 3;
    for (size_t i = 0; i < count; i++) {
        td_search_request_t request = latency_request(w->queries->texts[i], false);
        td_query_error_t qerr = {0};
        if (td_search_build_query(w->searcher, &request, &w->raw[i], &qerr) != TD_OK) {
            snprintf(w->error, sizeof(w->error), "%s:%zu: bad query: %s", w->options->query_file,
                     w->queries->lines[i], qerr.message);
            return 2;
        }
    }
    return 0;
}

typedef struct latency_stats {
    double median, p90, p99, max, mean, per_second;
    size_t searches, partial, empty;
} latency_stats_t;

/* Runs one mode on `threads` threads, each with its own searcher, each
 * doing every pass; fills *stats and prints the JSON line (unless a table
 * is asked for). */
static int latency_mode(const latency_options_t *options, const bench_query_set_t *queries,
                        latency_mode_t mode, int threads, latency_stats_t *stats)
{
    worker_t *workers = calloc((size_t) threads, sizeof(*workers));
    if (!workers)
        return 3;
    int code = 0;
    for (int t = 0; t < threads && !code; t++) {
        workers[t] = (worker_t){.options = options, .queries = queries, .mode = mode};
        code = worker_open(&workers[t]);
        if (code)
            fprintf(stderr, "trialdex-bench: %s\n", workers[t].error);
    }
    double start = now_seconds();
    int started = 0;
    for (int t = 0; t < threads && !code; t++, started++)
        if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0)
            code = 3;
    for (int t = 0; t < started; t++)
        pthread_join(workers[t].thread, NULL);
    double wall = now_seconds() - start;
    size_t count = queries->count, per_worker = count * (size_t) options->runs;
    size_t total = per_worker * (size_t) threads;
    double *sorted = code ? NULL : calloc(total, sizeof(*sorted));
    for (int t = 0; t < threads && !code; t++)
        if (workers[t].code) {
            code = workers[t].code;
            fprintf(stderr, "trialdex-bench: %s\n", workers[t].error);
        }
    if (!code && sorted) {
        double sum = 0;
        for (int t = 0; t < threads; t++)
            for (size_t k = 0; k < per_worker; k++)
                sum += sorted[(size_t) t * per_worker + k] = workers[t].seconds[k];
        qsort(sorted, total, sizeof(*sorted), compare_doubles);
        *stats = (latency_stats_t){.median = median_of(sorted, (int) total),
                                   .p90 = percentile(sorted, total, 90),
                                   .p99 = percentile(sorted, total, 99),
                                   .max = sorted[total - 1],
                                   .mean = sum / (double) total,
                                   .per_second = (double) total / wall,
                                   .searches = total,
                                   .partial = workers[0].partial,
                                   .empty = workers[0].empty};
        if (!options->table) {
            printf("{\"bench\":\"latency\",\"mode\":\"%s\",\"facets\":%s,\"threads\":%d,"
                   "\"queries\":%zu,\"runs\":%d,\"searches\":%zu,\"median_ms\":%.3f,"
                   "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f,"
                   "\"queries_per_s\":%.0f",
                   MODE_NAMES[mode], mode == MODE_TRIALDEX_FACETS ? "true" : "false", threads,
                   count, options->runs, total, stats->median * 1e3, stats->p90 * 1e3,
                   stats->p99 * 1e3, stats->max * 1e3, stats->mean * 1e3, stats->per_second);
            if (mode != MODE_RAW && options->warmup)
                printf(",\"partial\":%zu,\"no_hits\":%zu", stats->partial, stats->empty);
            if (threads == 1) {
                /* The five slowest queries, by their median over the runs. */
                slow_query_t *slow = calloc(count, sizeof(*slow));
                for (size_t i = 0; slow && i < count; i++)
                    slow[i] =
                        (slow_query_t){i, median_of(&workers[0].seconds[i * (size_t) options->runs],
                                                    options->runs)};
                if (slow) {
                    qsort(slow, count, sizeof(*slow), compare_slow_queries);
                    printf(",\"slowest\":[");
                    for (size_t k = 0; k < count && k < 5; k++) {
                        printf("%s{\"median_ms\":%.3f,\"line\":%zu,\"query\":", k ? "," : "",
                               slow[k].median * 1e3, queries->lines[slow[k].index]);
                        bench_print_json_string(queries->texts[slow[k].index]);
                        putchar('}');
                    }
                    putchar(']');
                }
                free(slow);
            }
            printf("}\n");
            fflush(stdout);
        }
    }
    free(sorted);
    for (int t = 0; t < threads; t++)
        worker_clear(&workers[t]);
    free(workers);
    return code;
}

static int latency_usage(const char *fmt, const char *value)
{
    fprintf(stderr, "trialdex-bench: ");
    fprintf(stderr, fmt, value);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

static bool parse_small_count(const char *text, int low, int *out)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (end == text || *end || value < low || value > 1000)
        return false;
    *out = (int) value;
    return true;
}

static int command_latency(int argc, char **argv)
{
    const char *env = getenv(TD_DB_ENV);
    latency_options_t options = {.db = env && *env ? env : TD_DB_DEFAULT,
                                 .runs = 5,
                                 .warmup = 1,
                                 .facets = {true, true},
                                 .raw = true};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = strcmp(arg, "-d") == 0 || strcmp(arg, "--db") == 0 ||
                           strcmp(arg, "--runs") == 0 || strcmp(arg, "--warmup") == 0 ||
                           strcmp(arg, "--facets") == 0 || strcmp(arg, "--threads") == 0;
        if (takes_value && !value)
            return latency_usage("%s needs a value", arg);
        if (strcmp(arg, "-d") == 0 || strcmp(arg, "--db") == 0)
            options.db = value;
        else if (strcmp(arg, "--runs") == 0) {
            if (!parse_small_count(value, 1, &options.runs))
                return latency_usage("--runs takes 1 to 1000, not '%s'", value);
        } else if (strcmp(arg, "--warmup") == 0) {
            if (!parse_small_count(value, 0, &options.warmup))
                return latency_usage("--warmup takes 0 to 1000, not '%s'", value);
        } else if (strcmp(arg, "--threads") == 0) {
            if (!parse_small_count(value, 1, &options.threads))
                return latency_usage("--threads takes 1 to 1000, not '%s'", value);
        } else if (strcmp(arg, "--facets") == 0) {
            bool on = strcmp(value, "on") == 0, off = strcmp(value, "off") == 0;
            if (!on && !off && strcmp(value, "both") != 0)
                return latency_usage("--facets takes on, off or both, not '%s'", value);
            options.facets[0] = !on;
            options.facets[1] = !off;
        } else if (strcmp(arg, "--no-raw") == 0) {
            options.raw = false;
        } else if (strcmp(arg, "--table") == 0) {
            options.table = true;
        } else if (arg[0] == '-' && arg[1])
            return latency_usage("unknown option '%s'", arg);
        else if (options.query_file)
            return latency_usage("one query file only ('%s')", arg);
        else
            options.query_file = arg;
        if (takes_value)
            i++;
    }
    if (!options.query_file)
        return latency_usage("a query file is required%s", "");

    bench_query_set_t queries = {0};
    int code = bench_read_queries("trialdex-bench", options.query_file, &queries);
    if (code)
        return code;

    /* Cold starts first, while this process has opened nothing. */
    bool cold_facets = !options.facets[0];
    double *cold = calloc((size_t) options.runs, sizeof(*cold));
    bool cold_ok = cold != NULL;
    for (int r = 0; r < options.runs && cold_ok; r++)
        cold_ok = cold_start(options.db, queries.texts[0], cold_facets, &cold[r]);

    td_searcher_t *searcher = NULL;
    char *error = NULL;
    if (td_searcher_open(options.db, NULL, &searcher, &error) != TD_OK) {
        fprintf(stderr, "trialdex-bench: %s\n", error ? error : "cannot open the index");
        free(error);
        free(cold);
        bench_query_set_clear(&queries);
        return 3;
    }
    char cpu[256];
    bench_cpu_model(cpu, sizeof(cpu));
    char date[32];
    time_t now = time(NULL);
    struct tm utc;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int thread_counts[2] = {1, options.threads ? options.threads : (int) (cores > 1 ? cores : 1)};
    int thread_runs = options.threads || thread_counts[1] == 1 ? 1 : 2;
    if (options.threads)
        thread_counts[0] = options.threads;
    if (options.table) {
        printf("Index %s: %u trials, revision %llu. Queries: %s (%zu). Machine: %s, %ld "
               "cores. Date: %s.\n",
               options.db, td_searcher_doc_count(searcher),
               (unsigned long long) td_searcher_revision(searcher), options.query_file,
               queries.count, cpu, cores, date);
    } else {
        printf("{\"bench\":\"latency_setup\",\"db\":");
        bench_print_json_string(options.db);
        printf(
            ",\"documents\":%u,\"revision\":%llu,\"query_file\":", td_searcher_doc_count(searcher),
            (unsigned long long) td_searcher_revision(searcher));
        bench_print_json_string(options.query_file);
        printf(",\"queries\":%zu,\"runs\":%d,\"warmup\":%d,\"cpu\":", queries.count, options.runs,
               options.warmup);
        bench_print_json_string(cpu);
        printf(",\"cores\":%ld,\"date\":\"%s\"}\n", cores, date);
    }
    td_searcher_free(searcher);
    if (!cold_ok) {
        fprintf(stderr, "trialdex-bench: the cold-start run failed (is the first query "
                        "malformed?)\n");
        code = 3;
    }
    qsort(cold, (size_t) options.runs, sizeof(*cold), compare_doubles);
    if (!code && !options.table) {
        printf("{\"bench\":\"latency_cold_start\",\"how\":\"forked child: open + first query\","
               "\"facets\":%s,\"runs\":%d,\"median_ms\":%.1f,\"min_ms\":%.1f,\"max_ms\":%.1f,"
               "\"query\":",
               cold_facets ? "true" : "false", options.runs, median_of(cold, options.runs) * 1e3,
               cold[0] * 1e3, cold[options.runs - 1] * 1e3);
        bench_print_json_string(queries.texts[0]);
        printf("}\n");
        fflush(stdout);
    }
    if (!code && options.table)
        printf("\n| mode | threads | median ms | p90 ms | p99 ms | max ms | queries/s |\n"
               "|---|---|---|---|---|---|---|\n");
    latency_stats_t one_thread[3] = {{0}};
    bool measured[3] = {false, false, false};
    for (int t = 0; t < thread_runs && !code; t++)
        for (int m = 0; m < 3 && !code; m++) {
            latency_mode_t mode = (latency_mode_t) m;
            if ((mode == MODE_TRIALDEX && !options.facets[0]) ||
                (mode == MODE_TRIALDEX_FACETS && !options.facets[1]) ||
                (mode == MODE_RAW && !options.raw))
                continue;
            latency_stats_t stats;
            code = latency_mode(&options, &queries, mode, thread_counts[t], &stats);
            if (code)
                break;
            if (t == 0) {
                one_thread[m] = stats;
                measured[m] = true;
            }
            if (options.table)
                printf("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.0f |\n", MODE_NAMES[mode],
                       thread_counts[t], stats.median * 1e3, stats.p90 * 1e3, stats.p99 * 1e3,
                       stats.max * 1e3, stats.per_second);
        }
    if (!code && measured[MODE_TRIALDEX] && measured[MODE_RAW]) {
        double median = one_thread[MODE_TRIALDEX].median / one_thread[MODE_RAW].median;
        double p99 = one_thread[MODE_TRIALDEX].p99 / one_thread[MODE_RAW].p99;
        if (options.table)
            printf("\ntrialdex (facets off) against the raw Xapian floor, one thread: %.2fx at "
                   "the median, %.2fx at p99.\nCold start: %.1f ms (median of %d forked "
                   "children).\n",
                   median, p99, median_of(cold, options.runs) * 1e3, options.runs);
        else
            printf("{\"bench\":\"latency_vs_raw\",\"threads\":1,\"median_ratio\":%.2f,"
                   "\"p99_ratio\":%.2f}\n",
                   median, p99);
    }
    free(cold);
    bench_query_set_clear(&queries);
    return code;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "relevance") == 0)
        return bench_relevance(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "latency") == 0)
        return command_latency(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "index") == 0)
        return command_index(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "analyzer") == 0)
        return command_analyzer(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "reader") == 0)
        return command_reader(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
