/* End-to-end: the trialdex-index program as a user runs it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>
#include <unistd.h>

#include "td_schema.h"
#include "td_test.h"

#define FRAMING TD_FIXTURES_DIR "/framing"

typedef td_test_command_t result_t;

TestSuite(index_cli, .init = td_test_dir_setup, .fini = td_test_dir_teardown);

/* Runs `trialdex-index ARGS` through the shell, capturing both streams. */
static result_t run(const char *args)
{
    char command[2048];
    snprintf(command, sizeof(command), "TRIALDEX_SYNC_BACKOFF_MS=1 %s %s", TD_INDEX_PROGRAM, args);
    return td_test_command(command);
}

static void result_free(result_t *r)
{
    td_test_command_free(r);
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

/* run() with "-d <test dir>/db" appended to the command. */
static result_t run_db(const char *args)
{
    char command[2048];
    snprintf(command, sizeof(command), "%s -d %s/db", args, td_test_dir);
    return run(command);
}

Test(index_cli, build_update_delete_compact_report_json_summaries)
{
    result_t r = run_db("build " TD_SAMPLE_DIR);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    json_error_t error;
    json_t *summary = json_loads(r.out, 0, &error);
    cr_assert_not_null(summary, "one line of JSON when not on a terminal: %s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(summary, "command")), "build");
    cr_assert_eq(json_integer_value(json_object_get(summary, "documents")), 41);
    cr_assert_eq(json_integer_value(json_object_get(summary, "read")), 41);
    json_decref(summary);
    result_free(&r);

    r = run_db("update " TD_SAMPLE_DIR);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"unchanged\":41"), "%s", r.out);
    result_free(&r);

    r = run_db("delete NCT99000040 NCT99000041");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"deleted\":2"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\"documents\":39"), "%s", r.out);
    result_free(&r);

    r = run_db("compact");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"documents\":39"), "%s", r.out);
    result_free(&r);

    r = run_db("stats");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "trials         39\n"), "%s", r.out);
    char schema[64];
    snprintf(schema, sizeof(schema), "schema         %d\n", TD_SCHEMA_VERSION);
    cr_assert_not_null(strstr(r.out, schema), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "  biomarker    XB"), "%s", r.out);
    result_free(&r);

    r = run_db("check");
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, ": sound\n"), "%s", r.out);
    result_free(&r);
}

Test(index_cli, check_fails_on_a_damaged_index)
{
    result_t r = run_db("build " TD_SAMPLE_DIR);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    result_free(&r);
    char link[600], version[4096] = "", table[8192];
    snprintf(link, sizeof(link), "%s/db", td_test_dir);
    cr_assert_gt(readlink(link, version, sizeof(version) - 1), 0);
    snprintf(table, sizeof(table), "%s/%s/postlist.glass", td_test_dir, version);
    /* Scribble over the whole posting table, keeping its size. */
    size_t size;
    char *bytes = td_test_slurp(table, &size);
    memset(bytes, 0x5a, size);
    FILE *f = fopen(table, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, size, f), size);
    fclose(f);
    free(bytes);
    r = run_db("check");
    cr_assert_neq(r.exit_code, 0, "a damaged index is not sound: %s", r.out);
    cr_assert_not_null(strstr(r.out, "DAMAGED") ? r.out : strstr(r.err, "corrupt"), "%s%s", r.out,
                       r.err);
    result_free(&r);
}

Test(index_cli, index_errors_have_their_own_exit_codes)
{
    result_t r = run_db("stats");
    cr_assert_eq(r.exit_code, 5, "no index: %s", r.err);
    cr_assert_not_null(strstr(r.err, "no index at"), "%s", r.err);
    result_free(&r);

    r = run_db("compact");
    cr_assert_eq(r.exit_code, 5, "nothing to compact: %s", r.err);
    char *data = td_test_path("db.data");
    cr_assert_neq(access(data, F_OK), 0, "compacting nothing creates no data directory");
    free(data);
    result_free(&r);

    r = run_db("update --commit-every 0 " TD_SAMPLE_DIR);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "--commit-every takes"), "%s", r.err);
    result_free(&r);

    r = run_db("delete --delete-missing NCT99000001");
    cr_assert_eq(r.exit_code, 2, "delete takes no --delete-missing");
    result_free(&r);

    r = run_db("stats extra");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "unexpected argument 'extra'"), "%s", r.err);
    result_free(&r);

    r = run_db("build " FRAMING "/bad_lines.jsonl");
    cr_assert_eq(r.exit_code, 1, "bad records: done, but exit 1");
    cr_assert_not_null(strstr(r.err, "malformed NCT ID"), "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"rejected\":4"), "%s", r.out);
    result_free(&r);
}

Test(index_cli, sync_needs_an_api_and_reports_an_unreachable_one)
{
    result_t r = run_db("sync --since 2024-01-01");
    cr_assert_eq(r.exit_code, 2);
    cr_assert_not_null(strstr(r.err, "--api URL is required"), "%s", r.err);
    result_free(&r);

    /* Nothing listens on port 9 of the loopback address: fetching fails
     * after its retries, and nothing is applied. */
    r = run_db("sync --api http://127.0.0.1:9/api/v2 --since 2024-01-01");
    cr_assert_eq(r.exit_code, 6, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "page 1"), "%s", r.err);
    result_free(&r);

    r = run_db("sync --api http://127.0.0.1:9/api/v2 --since 2024-13-45");
    cr_assert_eq(r.exit_code, 2, "a bad date is a usage error: %s", r.err);
    result_free(&r);
}
