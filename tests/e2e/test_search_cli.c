/* trialdex-search as a user runs it: formats, paging tokens, `show`, exit
 * codes and error messages, over an index of the sample corpus and, when
 * ../shared/corpus is present, of the real records. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "td_test.h"

typedef td_test_command_t result_t;

static char *db;

static result_t run(const char *command)
{
    return td_test_command(command);
}

static void result_free(result_t *r)
{
    td_test_command_free(r);
}

static result_t search(const char *args)
{
    char command[4096];
    snprintf(command, sizeof(command), "%s -d db %s", TD_SEARCH_PROGRAM, args);
    return run(command);
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorts the lines of `text` (each ending in a newline) in place. */
static void sort_lines(char *text)
{
    size_t count = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    char **lines = calloc(count + 1, sizeof(*lines));
    char *copy = strdup(text);
    cr_assert(lines && copy);
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        lines[n++] = line;
    qsort(lines, n, sizeof(*lines), compare_lines);
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(strcat(text, lines[i]), "\n");
    free(lines);
    free(copy);
}

static void build_index(const char *source)
{
    char command[4096];
    snprintf(command, sizeof(command), "%s build -d db %s", TD_INDEX_PROGRAM, source);
    result_t r = run(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    result_free(&r);
}

static void setup(void)
{
    td_test_dir_setup();
    db = td_test_path("db");
    build_index(TD_SAMPLE_DIR);
}

static void teardown(void)
{
    free(db);
    td_test_dir_teardown();
}

TestSuite(search_cli, .init = setup, .fini = teardown, .timeout = 300);

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

Test(search_cli, text_output_shows_results_and_snippets)
{
    result_t r = search("--color never 'trastuzumab deruxtecan' HER2-low");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "NCT99000017"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "trials match"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "[trastuzumab deruxtecan]"), "snippets highlight: %s", r.out);
    cr_assert_null(strstr(r.out, "\x1b["), "no colour off a terminal");
    result_free(&r);
}

Test(search_cli, ids_format_is_one_id_per_line)
{
    result_t r = search("--format ids -n 100 status:recruiting");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    size_t lines = count_lines(r.out);
    cr_assert_gt(lines, 3);
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
        cr_assert(strlen(line) == 11 && strncmp(line, "NCT", 3) == 0, "'%s'", line);
    result_free(&r);
}

Test(search_cli, json_output_parses_and_carries_facets_and_the_next_page)
{
    result_t r = search("--format json --facets --why -n 2 breast cancer");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    json_error_t error;
    json_t *root = json_loads(r.out, 0, &error);
    cr_assert_not_null(root, "%s: %s", error.text, r.out);
    cr_assert_gt(json_integer_value(json_object_get(root, "total")), 2);
    json_t *hits = json_object_get(root, "hits");
    cr_assert_eq(json_array_size(hits), 2);
    cr_assert_not_null(json_object_get(json_array_get(hits, 0), "nct_id"));
    cr_assert_not_null(json_object_get(json_array_get(hits, 0), "matches"));
    json_t *facets = json_object_get(root, "facets");
    cr_assert_not_null(json_object_get(facets, "status"), "%s", r.out);
    cr_assert_not_null(json_object_get(facets, "country"));
    const char *token = json_string_value(json_object_get(root, "next_page_token"));
    cr_assert_not_null(token);
    char args[512];
    snprintf(args, sizeof(args), "--format json -n 2 --page %s breast cancer", token);
    result_t next = search(args);
    cr_assert_eq(next.exit_code, 0, "%s", next.err);
    json_t *page = json_loads(next.out, 0, &error);
    cr_assert_not_null(page);
    cr_assert_eq(json_integer_value(
                     json_object_get(json_array_get(json_object_get(page, "hits"), 0), "rank")),
                 3, "%s", next.out);
    json_decref(page);
    result_free(&next);
    /* A token for another query is refused. */
    snprintf(args, sizeof(args), "-n 2 --page %s ovarian", token);
    next = search(args);
    cr_assert_eq(next.exit_code, 2);
    cr_assert_not_null(strstr(next.err, "another query"), "%s", next.err);
    result_free(&next);
    json_decref(root);
    result_free(&r);
}

Test(search_cli, a_page_token_from_an_older_index_is_refused)
{
    result_t r = search("--format json -n 2 breast");
    json_t *root = json_loads(r.out, 0, NULL);
    char token[128];
    snprintf(token, sizeof(token), "%s",
             json_string_value(json_object_get(root, "next_page_token")));
    json_decref(root);
    result_free(&r);
    char command[1024];
    snprintf(command, sizeof(command), "%s delete -d db NCT99000041", TD_INDEX_PROGRAM);
    r = run(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    result_free(&r);
    char args[512];
    snprintf(args, sizeof(args), "-n 2 --page %s breast", token);
    r = search(args);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "the index changed"), "%s", r.err);
    result_free(&r);
}

Test(search_cli, csv_has_a_header_and_quotes_fields)
{
    result_t r = search("--format csv -n 5 fulvestrant");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_eq(strncmp(r.out, "rank,nct_id,title,", 18), 0, "%s", r.out);
    cr_assert_eq(count_lines(r.out), 6, "%s", r.out);
    result_free(&r);
}

Test(search_cli, show_prints_the_whole_record)
{
    result_t r = run(TD_SEARCH_PROGRAM " show -d db --format json NCT99000017");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    json_t *root = json_loads(r.out, 0, NULL);
    cr_assert_not_null(root, "%s", r.out);
    cr_assert_not_null(json_object_get(root, "eligibilityCriteria"));
    json_decref(root);
    result_free(&r);
    r = run(TD_SEARCH_PROGRAM " show -d db NCT00000001");
    cr_assert_eq(r.exit_code, 1);
    cr_assert_not_null(strstr(r.err, "not in the index"), "%s", r.err);
    result_free(&r);
}

Test(search_cli, exit_codes_and_errors)
{
    result_t r = search("zzyzx");
    cr_assert_eq(r.exit_code, 1, "no results: exit 1 (%s)", r.out);
    result_free(&r);
    r = search("'titel:cancer'");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "error: unknown field 'titel:'"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "hint:"), "%s", r.err);
    result_free(&r);
    r = search("'near:Boston within:10'");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "has no unit"), "%s", r.err);
    result_free(&r);
    r = search("--sort sideways cancer");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "unknown sort"), "%s", r.err);
    result_free(&r);
    r = run(TD_SEARCH_PROGRAM " -d missing.db cancer");
    cr_assert_eq(r.exit_code, 3);
    cr_assert_not_null(strstr(r.err, "no index at"), "%s", r.err);
    result_free(&r);
}

Test(search_cli, settings_come_from_options_and_a_config_file)
{
    /* Scoring titles only reorders nothing away, but a field with weight 0
     * is not searched unless named. */
    result_t base = search("--format ids -n 100 palbociclib");
    result_t no_titles = search("--format ids -n 100 --boost title=0 --boost intervention=0 "
                                "--boost summary=0 --boost keyword=0 --boost arm=0 "
                                "--boost inclusion=0 --boost condition=0 --boost outcome=0 "
                                "--boost biomarker=0 palbociclib");
    cr_assert_eq(base.exit_code, 0);
    cr_assert_lt(count_lines(no_titles.out), count_lines(base.out), "%s", no_titles.err);
    result_free(&no_titles);
    free(td_test_write(td_test_dir, "search.conf", "# weights\nboost.title = 2\nbm25.k1 = 1.5\n",
                       39));
    result_t configured = search("--config search.conf --format ids -n 100 palbociclib");
    cr_assert_eq(configured.exit_code, 0, "%s", configured.err);
    cr_assert_eq(count_lines(configured.out), count_lines(base.out));
    result_free(&configured);
    free(td_test_write(td_test_dir, "bad.conf", "boost.titel = 2\n", 16));
    result_t bad = search("--config bad.conf palbociclib");
    cr_assert_eq(bad.exit_code, 2);
    cr_assert_not_null(strstr(bad.err, "bad.conf:1:"), "%s", bad.err);
    result_free(&bad);
    result_free(&base);
}

Test(search_cli, a_patient_description_says_who_it_reads)
{
    /* The sample's one erectile dysfunction trial is for men aged 40-75. */
    result_t r = search("--color never 'erectile dysfunction in a 78 yo M'");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "Patient: 78 years, male. Trials whose age and sex limits "
                                     "admit them rank first.\n"),
                       "%s", r.out);
    cr_assert_not_null(strstr(r.out, "NCT99000032"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "Its age or sex limits rule the patient out"), "%s", r.out);
    result_free(&r);
    result_t plain = search("--color never --no-patient 'erectile dysfunction in a 78 yo M'");
    cr_assert_eq(plain.exit_code, 0, "%s", plain.err);
    cr_assert_null(strstr(plain.out, "Patient:"), "%s", plain.out);
    cr_assert_null(strstr(plain.out, "rule the patient out"), "%s", plain.out);
    result_free(&plain);
    free(td_test_write(td_test_dir, "no-patient.conf", "patient = 0\n", 12));
    result_t configured =
        search("--color never --config no-patient.conf 'erectile dysfunction in a 78 yo M'");
    cr_assert_null(strstr(configured.out, "Patient:"), "%s", configured.out);
    result_free(&configured);
}

Test(search_cli, the_real_corpus_when_present)
{
    struct stat st;
    if (stat(TD_SHARED_DIR "/corpus", &st) != 0) {
        cr_skip_test("../shared/corpus is absent: skipping the real-corpus searches");
        return;
    }
    char command[4096];
    snprintf(command, sizeof(command), "rm -rf db db.data && %s build -d db %s/corpus",
             TD_INDEX_PROGRAM, TD_SHARED_DIR);
    result_t r = run(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    result_free(&r);
    /* Brand, code and generic name find the same trials (the order may
     * differ: a trial that names the drug as the query does ranks a little
     * higher). */
    result_t brand = search("--format ids -n 1000 Keytruda");
    result_t generic = search("--format ids -n 1000 pembrolizumab");
    cr_assert_eq(brand.exit_code, 0, "%s", brand.err);
    cr_assert_eq(generic.exit_code, 0, "%s", generic.err);
    sort_lines(brand.out);
    sort_lines(generic.out);
    cr_assert_str_eq(brand.out, generic.out);
    result_free(&brand);
    result_free(&generic);
    /* Filters and facets agree: the status facet of a query sums to its total. */
    r = search("--format json --facets -n 0 'breast cancer' phase:2-3");
    json_t *root = json_loads(r.out, 0, NULL);
    cr_assert_not_null(root, "%s", r.err);
    json_int_t total = json_integer_value(json_object_get(root, "total")), sum = 0;
    json_t *value;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(root, "facets"), "status"), i, value) sum +=
        json_integer_value(json_object_get(value, "count"));
    cr_assert_gt(total, 10);
    cr_assert_eq(sum, total, "every trial has one status");
    json_decref(root);
    result_free(&r);
}
