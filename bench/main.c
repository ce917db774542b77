/* trialdex-bench: repeatable measurements of trialdex's parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_analyzer.h"
#include "td_reader.h"
#include "td_xapian.h"

static const char usage[] =
    "usage: trialdex-bench reader [--runs N] SRC...\n"
    "       trialdex-bench analyzer [--runs N] SRC...\n"
    "\n"
    "  reader    Read every record of SRC (as trialdex-index read does) N times\n"
    "            (default 5) and print the median wall time, records/s and MB/s\n"
    "            of decompressed input, as one line of JSON.\n"
    "  analyzer  Load every record of SRC, then analyze all of each record's text\n"
    "            (document mode, one thread) N times and print the median wall\n"
    "            time, records/s and MB/s of text, as one line of JSON; then the\n"
    "            same for the peer, Xapian's TermGenerator with the English\n"
    "            stemmer filling one document per record.\n";

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

int main(int argc, char **argv)
{
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
