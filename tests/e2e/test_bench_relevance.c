/* trialdex-bench relevance end to end: the TREC run it writes, and its
 * scores recomputed here from that run and the judgments. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_test.h"

TestSuite(bench_relevance, .init = td_test_dir_setup, .fini = td_test_dir_teardown, .timeout = 120);

#ifdef TD_BENCH_PROGRAM

/* The judgments: topic 1 wants the trastuzumab deruxtecan trials, graded;
 * topic 2 judges one fulvestrant trial and one trial it should not find. */
static const char QRELS[] = "query-id\tcorpus-id\tscore\n"
                            "t1\tNCT99000017\t2\n"
                            "t1\tNCT99000018\t1\n"
                            "t1\tNCT99000019\t2\n"
                            "t1\tNCT99000001\t0\n"
                            "t2\tNCT99000011\t2\n"
                            "t2\tNCT99000026\t1\n";

static const char TOPICS[] =
    "{\"_id\": \"t1\", \"text\": \"HER2-low breast cancer: trastuzumab deruxtecan (T-DXd)\"}\n"
    "{\"_id\": \"t2\", \"text\": \"fulvestrant after a CDK4/6 inhibitor\"}\n";

static int grade_of(const char *topic, const char *id)
{
    char line[64];
    snprintf(line, sizeof(line), "%s\t%s\t", topic, id);
    const char *at = strstr(QRELS, line);
    return at ? atoi(at + strlen(line)) : 0;
}

/* nDCG@10 of a topic from the run file, computed here. */
static double ndcg10(const char *run, const char *topic)
{
    double dcg = 0;
    char topic_field[32], q0[8], id[32], tag[64];
    int rank;
    double score;
    const char *line = run;
    while (line && *line) {
        if (sscanf(line, "%31s %7s %31s %d %lf %63s", topic_field, q0, id, &rank, &score, tag) ==
                6 &&
            strcmp(topic_field, topic) == 0 && rank <= 10)
            dcg += grade_of(topic, id) / log2(rank + 1.0);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    /* The ideal ranking of the judgments above. */
    double ideal = strcmp(topic, "t1") == 0 ? 2 / log2(2) + 2 / log2(3) + 1 / log2(4)
                                            : 2 / log2(2) + 1 / log2(3);
    return dcg / ideal;
}

Test(bench_relevance, the_run_file_and_the_scores_agree)
{
    char *db = td_test_path("db");
    char command[4096];
    snprintf(command, sizeof(command), "%s build --quiet -d db %s", TD_INDEX_PROGRAM,
             TD_SAMPLE_DIR);
    td_test_command_t r = td_test_command(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    td_test_command_free(&r);
    free(td_test_write(td_test_dir, "topics.jsonl", TOPICS, strlen(TOPICS)));
    free(td_test_write(td_test_dir, "qrels.tsv", QRELS, strlen(QRELS)));
    snprintf(command, sizeof(command),
             "%s relevance -d db --run run.txt --per-topic topics.jsonl qrels.tsv",
             TD_BENCH_PROGRAM);
    r = td_test_command(command);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);

    /* The JSON line ends the report. */
    const char *json = NULL;
    for (const char *line = r.out; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (*line == '{')
            json = line;
    cr_assert_not_null(json, "%s", r.out);
    json_error_t error;
    json_t *report = json_loads(json, 0, &error);
    cr_assert_not_null(report, "%s: %s", error.text, json);
    cr_assert_eq(json_integer_value(json_object_get(report, "topics")), 2);
    cr_assert_eq(json_integer_value(json_object_get(report, "documents")), 41);

    char *run_path = td_test_path("run.txt");
    char *run = td_test_slurp(run_path, NULL);
    free(run_path);
    /* TREC run format: topic Q0 docid rank score tag, ranks from 1 up. */
    char topic[32], q0[8], id[32], tag[64];
    int rank, previous = 0;
    double score;
    cr_assert_eq(sscanf(run, "%31s %7s %31s %d %lf %63s", topic, q0, id, &rank, &score, tag), 6);
    cr_assert_str_eq(q0, "Q0");
    for (const char *line = run; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        cr_assert_eq(sscanf(line, "%31s %7s %31s %d %lf %63s", topic, q0, id, &rank, &score, tag),
                     6, "%s", line);
        if (strcmp(topic, "t1") == 0) {
            cr_assert_eq(rank, previous + 1, "ranks count up");
            previous = rank;
        }
    }
    double mean = (ndcg10(run, "t1") + ndcg10(run, "t2")) / 2;
    cr_assert_float_eq(json_real_value(json_object_get(report, "ndcg_at_10")), mean, 1e-3,
                       "the report's mean nDCG@10 is the run's");
    cr_assert_gt(ndcg10(run, "t1"), 0.8, "the trastuzumab deruxtecan trials lead topic 1");
    json_decref(report);
    free(run);
    td_test_command_free(&r);
    free(db);
}

#else

Test(bench_relevance, needs_the_benchmarks)
{
    cr_skip_test("trialdex-bench is built only with -DTD_BUILD_BENCHMARKS=ON");
}

#endif
