/* trialdex-bench: repeatable measurements of trialdex's parts. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td_analyzer.h"
#include "td_indexer.h"
#include "td_reader.h"
#include "td_xapian.h"

static const char usage[] =
    "usage: trialdex-bench reader [--runs N] SRC...\n"
    "       trialdex-bench analyzer [--runs N] SRC...\n"
    "       trialdex-bench index [--runs N] SRC...\n"
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
    "            index size per record and peak RSS of each, as JSON lines.\n";

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

int main(int argc, char **argv)
{
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
