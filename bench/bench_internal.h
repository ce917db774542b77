/* bench_internal.h - internal: what trialdex-bench's files share.
 *
 *   main.c       the program: reader, analyzer, index and latency
 *                benchmarks, and the dispatch of subcommands
 *   relevance.c  `relevance`: runs a topic file, scores the ranking against
 *                relevance judgments, writes a TREC run
 *   report.c     what every report prints (also linked into the peers)
 *
 * Not part of any public API.
 */
#ifndef TD_BENCH_INTERNAL_H
#define TD_BENCH_INTERNAL_H

#include <stddef.h>

/* ---- report.c ---- */

/* Prints `text` as a JSON string on standard output. */
void bench_print_json_string(const char *text);

/* The first "model name" of /proc/cpuinfo into `model`, or "unknown". */
void bench_cpu_model(char *model, size_t size);

/* A query file: one query per line, blank lines and '#' comments skipped. */
typedef struct bench_query_set {
    char **texts;
    size_t *lines; /* 1-based line of each query in the file, for messages */
    size_t count;
} bench_query_set_t;

/* Reads `path` into `set` (empty to start with). Returns 0, or an exit code
 * (2 unreadable or empty, 3 out of memory) after printing why, prefixed
 * with `program`. Free with bench_query_set_clear. */
int bench_read_queries(const char *program, const char *path, bench_query_set_t *set);
void bench_query_set_clear(bench_query_set_t *set);

/* ---- relevance.c ---- */

/* `trialdex-bench relevance ARGS...` (argv without the subcommand name).
 * Prints its report on standard output and problems on standard error.
 * Returns the exit code: 0, 1 when some topic's search failed (the run
 * still completes, scoring that topic as an empty ranking), 2 usage or
 * input error, 3 the index cannot be opened or out of memory. */
int bench_relevance(int argc, char **argv);

/* The scores of one topic's ranking. */
typedef struct bench_metrics {
    double ndcg10;          /* nDCG@10, gain = grade, ideal from all the topic's judgments */
    double p10;             /* relevant trials in the first 10, over 10 */
    double recall100;       /* relevant trials in the first 100, over all relevant */
    double recall1000;      /* same in the first 1000 */
    double reciprocal_rank; /* 1 / rank of the first relevant trial; 0 when none */
    size_t relevant;        /* judged trials with grade >= the relevant grade */
} bench_metrics_t;

/* Scores a ranking. grades[i] is the judged grade of the trial at rank
 * i + 1 (0 for a trial without judgment); judged[] holds the grades of
 * every judgment of the topic. Negative grades gain nothing. A trial is
 * relevant when its grade is at least relevant_grade (>= 1). Recall and
 * reciprocal rank are 0 when the topic has no relevant trial, nDCG@10 is 0
 * when no judged trial has a positive grade (as trec_eval does). */
void bench_score_ranking(const int *grades, size_t ranked, const int *judged, size_t judged_count,
                         int relevant_grade, bench_metrics_t *out);

/* A copy of free text (a patient description, a plain query) that the
 * query language reads as plain words: '"', '(', ')', ':', '*' and '='
 * become spaces, a '-' that starts a word becomes a space, and the
 * operators AND, OR, NOT, NEAR and NEAR/n are lower-cased. '+' and '-'
 * inside or at the end of a word stay ("HER2-", "ER+"). malloc'd; NULL when
 * out of memory. */
char *bench_plain_query(const char *text);

#endif
