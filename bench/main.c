/* trialdex-bench: repeatable measurements of trialdex's parts. */
#define _XOPEN_SOURCE 700 /* nftw, getline */
#include <errno.h>
#include <ftw.h>
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

static const char usage[] =
    "usage: trialdex-bench reader [--runs N] SRC...\n"
    "       trialdex-bench analyzer [--runs N] SRC...\n"
    "       trialdex-bench index [--runs N] SRC...\n"
    "       trialdex-bench latency [-d DB] [--runs N] [--warmup N] [--facets on|off|both]\n"
    "                              QUERYFILE\n"
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
    "            $" TD_DB_ENV ", else ./" TD_DB_DEFAULT ") with one searcher on one\n"
    "            thread: --warmup passes over all queries (default 1), then\n"
    "            --runs timed passes (default 5), timing each td_search call\n"
    "            (limit 10, relevance, partial matches allowed, no snippets, no\n"
    "            explanations). Prints the setup (index, query file, machine,\n"
    "            date); the cold start, the median over --runs forked children\n"
    "            (fork without exec, before this process opens the index) of\n"
    "            opening the index and answering the first query with the\n"
    "            first facets setting; then for each --facets setting (default\n"
    "            both: off, then on) the median, p90, p99, max and mean\n"
    "            latency, queries/s (searches / time inside td_search), how\n"
    "            many queries fell back to partial matches or found nothing,\n"
    "            and the five slowest queries (median over the runs); all as\n"
    "            JSON lines. A query that does not parse is an error (exit 2).\n";

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

typedef struct query_set {
    char **texts;
    size_t *lines; /* 1-based line of each query in the file, for error messages */
    size_t count;
} query_set_t;

static void query_set_clear(query_set_t *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->texts[i]);
    free(set->texts);
    free(set->lines);
    memset(set, 0, sizeof(*set));
}

/* Reads one query per line, skipping blank lines and '#' comments.
 * Returns 0, or an exit code after printing why. */
static int read_queries(const char *path, query_set_t *set)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "trialdex-bench: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    char *line = NULL;
    size_t size = 0, number = 0;
    ssize_t len;
    int code = 0;
    while ((len = getline(&line, &size, file)) >= 0) {
        number++;
        while (len > 0 && strchr(" \t\r\n", line[len - 1]))
            line[--len] = '\0';
        const char *start = line + strspn(line, " \t");
        if (!*start || *start == '#')
            continue;
        char **texts = realloc(set->texts, (set->count + 1) * sizeof(*texts));
        if (texts)
            set->texts = texts;
        size_t *lines = realloc(set->lines, (set->count + 1) * sizeof(*lines));
        if (lines)
            set->lines = lines;
        if (!texts || !lines || !(set->texts[set->count] = strdup(start))) {
            fprintf(stderr, "trialdex-bench: out of memory\n");
            code = 3;
            break;
        }
        set->lines[set->count++] = number;
    }
    if (!code && ferror(file)) {
        fprintf(stderr, "trialdex-bench: cannot read %s: %s\n", path, strerror(errno));
        code = 2;
    }
    if (!code && !set->count) {
        fprintf(stderr, "trialdex-bench: %s holds no queries\n", path);
        code = 2;
    }
    free(line);
    fclose(file);
    return code;
}

static void print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

/* The first "model name" of /proc/cpuinfo, or "unknown" (malloc'd). */
static char *cpu_model(void)
{
    FILE *file = fopen("/proc/cpuinfo", "r");
    char *line = NULL, *model = NULL;
    size_t size = 0;
    while (file && !model && getline(&line, &size, file) >= 0) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = '\0';
            model = strdup(colon);
        }
    }
    free(line);
    if (file)
        fclose(file);
    return model ? model : strdup("unknown");
}

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

typedef struct latency_options {
    const char *db, *query_file;
    int runs, warmup;
    bool facets[2]; /* which settings to run: [0] off, [1] on */
} latency_options_t;

/* Runs one query; returns 0, or an exit code after printing why. */
static int run_query(td_searcher_t *searcher, const latency_options_t *options,
                     const query_set_t *queries, size_t i, bool facets, double *seconds,
                     td_search_result_t **out)
{
    td_search_request_t request = latency_request(queries->texts[i], facets);
    td_query_error_t qerr = {0};
    td_search_result_t *result = NULL;
    double start = now_seconds();
    td_status_t status = td_search(searcher, &request, &result, &qerr);
    *seconds = now_seconds() - start;
    if (status == TD_ERR_BAD_QUERY) {
        fprintf(stderr, "trialdex-bench: %s:%zu: bad query\n", options->query_file,
                queries->lines[i]);
        td_render_query_error(stderr, queries->texts[i], &qerr, false);
        return 2;
    }
    if (status != TD_OK) {
        fprintf(stderr, "trialdex-bench: %s:%zu: search failed: %s\n", options->query_file,
                queries->lines[i], qerr.message);
        return 3;
    }
    if (out)
        *out = result;
    else
        td_search_result_free(result);
    return 0;
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

/* Warm-up passes, then timed passes over all queries with one facets
 * setting; prints its JSON line. Returns 0 or an exit code. */
static int latency_pass(td_searcher_t *searcher, const latency_options_t *options,
                        const query_set_t *queries, bool facets)
{
    size_t count = queries->count, total = count * (size_t) options->runs;
    double *seconds = calloc(total, sizeof(*seconds));
    double *sorted = calloc(total, sizeof(*sorted));
    slow_query_t *slow = calloc(count, sizeof(*slow));
    if (!seconds || !sorted || !slow) {
        free(seconds);
        free(sorted);
        free(slow);
        fprintf(stderr, "trialdex-bench: out of memory\n");
        return 3;
    }
    int code = 0;
    size_t partial = 0, empty = 0;
    double unused;
    for (int w = 0; w < options->warmup && !code; w++)
        for (size_t i = 0; i < count && !code; i++) {
            td_search_result_t *result = NULL;
            code = run_query(searcher, options, queries, i, facets, &unused, &result);
            if (!code && w == 0) {
                partial += result->partial;
                empty += result->hit_count == 0;
            }
            td_search_result_free(result);
        }
    /* seconds[i * runs + r]: query i, pass r. */
    for (int r = 0; r < options->runs && !code; r++)
        for (size_t i = 0; i < count && !code; i++)
            code = run_query(searcher, options, queries, i, facets,
                             &seconds[i * (size_t) options->runs + (size_t) r], NULL);
    if (!code) {
        double sum = 0;
        for (size_t k = 0; k < total; k++)
            sum += sorted[k] = seconds[k];
        qsort(sorted, total, sizeof(*sorted), compare_doubles);
        for (size_t i = 0; i < count; i++)
            slow[i] =
                (slow_query_t){i, median_of(&seconds[i * (size_t) options->runs], options->runs)};
        qsort(slow, count, sizeof(*slow), compare_slow_queries);
        printf("{\"bench\":\"latency\",\"facets\":%s,\"queries\":%zu,\"runs\":%d,"
               "\"searches\":%zu,\"median_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
               "\"max_ms\":%.3f,\"mean_ms\":%.3f,\"queries_per_s\":%.0f,",
               facets ? "true" : "false", count, options->runs, total,
               median_of(sorted, (int) total) * 1e3, percentile(sorted, total, 90) * 1e3,
               percentile(sorted, total, 99) * 1e3, sorted[total - 1] * 1e3,
               sum / (double) total * 1e3, (double) total / sum);
        if (options->warmup)
            printf("\"partial\":%zu,\"no_hits\":%zu,", partial, empty);
        printf("\"slowest\":[");
        for (size_t k = 0; k < count && k < 5; k++) {
            printf("%s{\"median_ms\":%.3f,\"line\":%zu,\"query\":", k ? "," : "",
                   slow[k].median * 1e3, queries->lines[slow[k].index]);
            print_json_string(queries->texts[slow[k].index]);
            putchar('}');
        }
        printf("]}\n");
        fflush(stdout);
    }
    free(seconds);
    free(sorted);
    free(slow);
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
    latency_options_t options = {
        .db = env && *env ? env : TD_DB_DEFAULT, .runs = 5, .warmup = 1, .facets = {true, true}};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = strcmp(arg, "-d") == 0 || strcmp(arg, "--db") == 0 ||
                           strcmp(arg, "--runs") == 0 || strcmp(arg, "--warmup") == 0 ||
                           strcmp(arg, "--facets") == 0;
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
        } else if (strcmp(arg, "--facets") == 0) {
            bool on = strcmp(value, "on") == 0, off = strcmp(value, "off") == 0;
            if (!on && !off && strcmp(value, "both") != 0)
                return latency_usage("--facets takes on, off or both, not '%s'", value);
            options.facets[0] = !on;
            options.facets[1] = !off;
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

    query_set_t queries = {0};
    int code = read_queries(options.query_file, &queries);
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
        query_set_clear(&queries);
        return 3;
    }
    char *cpu = cpu_model();
    char date[32];
    time_t now = time(NULL);
    struct tm utc;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    printf("{\"bench\":\"latency_setup\",\"db\":");
    print_json_string(options.db);
    printf(",\"documents\":%u,\"revision\":%llu,\"query_file\":", td_searcher_doc_count(searcher),
           (unsigned long long) td_searcher_revision(searcher));
    print_json_string(options.query_file);
    printf(",\"queries\":%zu,\"runs\":%d,\"warmup\":%d,\"threads\":1,\"cpu\":", queries.count,
           options.runs, options.warmup);
    print_json_string(cpu);
    printf(",\"cores\":%ld,\"date\":\"%s\"}\n", sysconf(_SC_NPROCESSORS_ONLN), date);
    free(cpu);

    /* A failed cold start is explained by the first query's own run below
     * (a malformed query); otherwise it is reported here. */
    td_search_result_t *first = NULL;
    double unused;
    code = run_query(searcher, &options, &queries, 0, cold_facets, &unused, &first);
    td_search_result_free(first);
    if (!code && !cold_ok) {
        fprintf(stderr, "trialdex-bench: the cold-start run failed\n");
        code = 3;
    }
    if (!code) {
        qsort(cold, (size_t) options.runs, sizeof(*cold), compare_doubles);
        printf("{\"bench\":\"latency_cold_start\",\"how\":\"forked child: open + first query\","
               "\"facets\":%s,\"runs\":%d,\"median_ms\":%.1f,\"min_ms\":%.1f,\"max_ms\":%.1f,"
               "\"query\":",
               cold_facets ? "true" : "false", options.runs, median_of(cold, options.runs) * 1e3,
               cold[0] * 1e3, cold[options.runs - 1] * 1e3);
        print_json_string(queries.texts[0]);
        printf("}\n");
        fflush(stdout);
    }
    for (int facets = 0; facets < 2 && !code; facets++)
        if (options.facets[facets])
            code = latency_pass(searcher, &options, &queries, facets);
    td_searcher_free(searcher);
    free(cold);
    query_set_clear(&queries);
    return code;
}

int main(int argc, char **argv)
{
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
