/* trialdex-bench: repeatable measurements of trialdex's parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_reader.h"

static const char usage[] =
    "usage: trialdex-bench reader [--runs N] SRC...\n"
    "\n"
    "  reader   Read every record of SRC (as trialdex-index read does) N times\n"
    "           (default 5) and print the median wall time, records/s and MB/s\n"
    "           of decompressed input, as one line of JSON.\n";

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

static int command_reader(int argc, char **argv)
{
    int runs = 5;
    const char **sources = calloc((size_t) argc + 1, sizeof(*sources));
    size_t count = 0;
    if (!sources)
        return 3;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            sources[count++] = argv[i];
    }
    if (!count || runs < 1 || runs > 1000) {
        fputs(usage, stderr);
        free(sources);
        return 2;
    }
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
    qsort(seconds, (size_t) runs, sizeof(*seconds), compare_doubles);
    double median = runs % 2 ? seconds[runs / 2] : (seconds[runs / 2 - 1] + seconds[runs / 2]) / 2;
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

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "reader") == 0)
        return command_reader(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
