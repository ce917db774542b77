/* End-to-end: the trialdex-index program as a user runs it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "td_test.h"

#define FRAMING TD_FIXTURES_DIR "/framing"

typedef struct result {
    int exit_code;
    char *out;
    char *err;
} result_t;

TestSuite(index_cli, .init = td_test_dir_setup, .fini = td_test_dir_teardown);

/* Runs `trialdex-index ARGS` through the shell, capturing both streams. */
static result_t run(const char *args)
{
    char command[2048];
    snprintf(command, sizeof(command), "%s %s >%s/out 2>%s/err", TD_INDEX_PROGRAM, args,
             td_test_dir, td_test_dir);
    int status = system(command);
    cr_assert(WIFEXITED(status), "%s did not exit normally", command);
    char path[512];
    result_t r = {.exit_code = WEXITSTATUS(status)};
    snprintf(path, sizeof(path), "%s/out", td_test_dir);
    r.out = td_test_slurp(path, NULL);
    snprintf(path, sizeof(path), "%s/err", td_test_dir);
    r.err = td_test_slurp(path, NULL);
    return r;
}

static void result_free(result_t *r)
{
    free(r->out);
    free(r->err);
}

Test(index_cli, help_describes_commands_and_formats)
{
    result_t r = run("--help");
    cr_assert_eq(r.exit_code, 0);
    cr_assert_not_null(strstr(r.out, "trialdex-index read"));
    cr_assert_not_null(strstr(r.out, "--format FMT"));
    cr_assert_not_null(strstr(r.out, "Exit status"));
    result_free(&r);
}

Test(index_cli, read_prints_one_line_per_trial)
{
    result_t r = run("read " FRAMING "/studies.jsonl");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_str_eq(r.out,
                     "NCT90000001\tRECRUITING\tPHASE2|PHASE3\tPalbociclib plus letrozole in "
                     "HR+/HER2- advanced breast cancer\n"
                     "NCT90000002\tCOMPLETED\t-\tElacestrant in ESR1-mutated metastatic breast "
                     "cancer\n"
                     "NCT90000003\tACTIVE_NOT_RECRUITING\t-\tTrastuzumab deruxtecan (T-DXd) in "
                     "HER2-low breast cancer\n");
    cr_assert_str_eq(r.err, "read 3 records from 1 sources: 0 rejected, 0 warnings, 0 files "
                            "failed\n");
    result_free(&r);
}

Test(index_cli, bad_records_are_reported_with_position_and_exit_1)
{
    result_t r = run("read --quiet " FRAMING "/bad_lines.jsonl");
    cr_assert_eq(r.exit_code, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert_not_null(
        strstr(r.err,
               FRAMING "/bad_lines.jsonl:line 4: error: "
                       "protocolSection.identificationModule.nctId: malformed NCT ID 'NCT123'\n"),
        "%s", r.err);
    cr_assert_not_null(strstr(r.err, FRAMING "/bad_lines.jsonl:line 5: warning: [NCT90000045] "
                                             "unknown"),
                       "%s", r.err);
    cr_assert_not_null(strstr(r.err, "read 3 records from 1 sources: 4 rejected, 1 warnings"));
    result_free(&r);
}

Test(index_cli, reads_compressed_standard_input)
{
    result_t r = run("read - <" FRAMING "/page.json");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "NCT90000022\t"));

    char command[512];
    snprintf(command, sizeof(command), "read --quiet - < %s/studies.jsonl.gz", td_test_dir);
    char gz[512];
    snprintf(gz, sizeof(gz), "%s/studies.jsonl.gz", td_test_dir);
    td_test_member_t member = {"studies.jsonl", FRAMING "/studies.jsonl"};
    td_test_archive(gz, "raw", "gzip", &member, 1);
    result_free(&r);
    r = run(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "read 3 records"), "%s", r.err);
    result_free(&r);
}

Test(index_cli, usage_errors_exit_2)
{
    result_t r = run("read --format csv " FRAMING "/page.json");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "unknown format 'csv'"));
    result_free(&r);

    r = run("read");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "no sources given"));
    result_free(&r);

    r = run("frobnicate");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "unknown command 'frobnicate'"));
    result_free(&r);
}

Test(index_cli, format_as_the_last_argument_needs_a_value)
{
    result_t r = run("read " FRAMING "/page.json --format");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_str_eq(r.err, "trialdex-index: --format needs a value (auto, json, xml, beir)\n");
    result_free(&r);
}

Test(index_cli, titles_stay_on_one_line)
{
    const char text[] = "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000301\","
                        "\"briefTitle\":\"Line one\\nNCT99999999\\tFAKE \\\\ \\r end\"}}}\n";
    free(td_test_write(td_test_dir, "title.json", text, sizeof(text) - 1));
    char command[512];
    snprintf(command, sizeof(command), "read %s/title.json", td_test_dir);
    result_t r = run(command);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "NCT90000301\t-\t-\tLine one\\nNCT99999999\\tFAKE \\\\ \\r end\n");
    result_free(&r);
}

Test(index_cli, empty_standard_input_is_a_warning)
{
    result_t r = run("read - </dev/null");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_str_eq(r.err, "<stdin>: warning: empty file, no records\n"
                            "read 0 records from 0 sources: 0 rejected, 1 warnings, 0 files "
                            "failed\n");
    result_free(&r);
}

Test(index_cli, json_lines_on_standard_input_with_a_broken_first_line)
{
    char command[512];
    snprintf(command, sizeof(command), "read --quiet - <%s/broken.ndj", td_test_dir);
    const char text[] =
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT9\n"
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000311\"}}}\n"
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000312\"}}}\n";
    free(td_test_write(td_test_dir, "broken.ndj", text, sizeof(text) - 1));
    result_t r = run(command);
    cr_assert_eq(r.exit_code, 1);
    cr_assert_not_null(strstr(r.err, "<stdin>:line 1: error: malformed JSON at line 1"), "%s",
                       r.err);
    cr_assert_not_null(strstr(r.err, "read 2 records from 1 sources: 1 rejected"), "%s", r.err);
    result_free(&r);
}

Test(index_cli, errors_that_skip_a_file_give_exit_1)
{
    /* A bad byte order mark used to be reported with exit status 0. */
    free(td_test_write(td_test_dir, "bom.json", "\xef\xbb\x00{}", 6));
    char command[512];
    snprintf(command, sizeof(command), "read %s/bom.json", td_test_dir);
    result_t r = run(command);
    cr_assert_eq(r.exit_code, 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "0 rejected, 0 warnings, 1 files failed"), "%s", r.err);
    result_free(&r);
}

Test(index_cli, sample_corpus_reads_cleanly)
{
    result_t r = run("read --quiet " TD_SAMPLE_DIR);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.err, " 0 rejected, 0 warnings, 0 files failed"), "%s", r.err);
    result_free(&r);
}
