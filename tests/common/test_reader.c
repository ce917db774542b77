/* Reader framing: sources, archives, compression, JSON shapes and bad input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_reader.h"
#include "td_test.h"

#define FRAMING TD_FIXTURES_DIR "/framing"

TestSuite(reader, .init = td_test_dir_setup, .fini = td_test_dir_teardown);

/* The NCT IDs of a run, space-separated, in reading order. */
static const char *ids(const td_test_run_t *run)
{
    static char out[4096];
    out[0] = '\0';
    for (size_t i = 0; i < run->trial_count; i++) {
        strcat(out, i ? " " : "");
        strcat(out, run->trials[i]->nct_id);
    }
    return out;
}

static void expect_ids(const char *source, td_format_t format, const char *expected)
{
    td_test_run_t run;
    td_test_read_one(source, format, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_str_eq(ids(&run), expected, "%s", source);
    cr_assert_eq(run.stats.rejected, 0, "%s: %s", source,
                 run.diag_count ? run.diags[0].message : "");
    td_test_run_free(&run);
}

Test(reader, json_lines)
{
    expect_ids(FRAMING "/studies.jsonl", TD_FORMAT_AUTO, "NCT90000001 NCT90000002 NCT90000003");
}

Test(reader, json_array_with_brackets_inside_strings)
{
    expect_ids(FRAMING "/array.json", TD_FORMAT_AUTO, "NCT90000011 NCT90000012 NCT90000013");
}

Test(reader, api_page_with_keys_around_studies)
{
    expect_ids(FRAMING "/page.json", TD_FORMAT_AUTO, "NCT90000021 NCT90000022");
}

Test(reader, single_pretty_study_with_lower_case_id)
{
    expect_ids(FRAMING "/single.json", TD_FORMAT_AUTO, "NCT90000031");
}

Test(reader, positions_name_line_and_study)
{
    td_test_run_t run;
    td_test_read_one(FRAMING "/array.json", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 3);
    cr_assert_str_eq(run.trials[1]->position, "study 2, line 10");
    cr_assert_str_eq(run.trials[1]->source, FRAMING "/array.json");
    td_test_run_free(&run);
}

Test(reader, bad_json_lines_are_reported_and_skipped)
{
    td_test_run_t run;
    td_test_read_one(FRAMING "/bad_lines.jsonl", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_str_eq(ids(&run), "NCT90000041 NCT90000045 NCT90000048");
    cr_assert_eq(run.stats.rejected, 4);

    const td_test_diag_t *d = td_test_find_diag(&run, "malformed JSON");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_ERROR);
    cr_assert_str_eq(d->position, "line 2");
    cr_assert_str_eq(d->source, FRAMING "/bad_lines.jsonl");

    d = td_test_find_diag(&run, "missing NCT ID");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "line 3");

    d = td_test_find_diag(&run, "malformed NCT ID 'NCT123'");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "line 4");

    d = td_test_find_diag(&run, "ON_HOLD_FOR_LUNCH");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_WARNING);
    cr_assert_str_eq(d->nct_id, "NCT90000045");
    cr_assert_eq(td_test_find(&run, "NCT90000045")->overall_status, TD_STATUS_OTHER);

    d = td_test_find_diag(&run, "expected a JSON object");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "line 7");
    td_test_run_free(&run);
}

Test(reader, invalid_utf8_is_replaced_and_reported)
{
    const char text[] = "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000061\","
                        "\"briefTitle\":\"Caf\xe9 \xff\xfe trial \xc3\xa9tude\"}}}\n";
    char *path = td_test_write(td_test_dir, "latin1.jsonl", text, sizeof(text) - 1);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_str_eq(run.trials[0]->brief_title,
                     "Caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd trial \xc3\xa9tude");
    const td_test_diag_t *d = td_test_find_diag(&run, "invalid UTF-8: 3 byte sequences");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_WARNING);
    cr_assert_str_eq(d->position, "line 1");
    td_test_run_free(&run);
    free(path);
}

Test(reader, invalid_utf8_in_xml_is_replaced_and_reported)
{
    const char text[] = "<clinical_study><id_info><nct_id>NCT90000062</nct_id></id_info>"
                        "<brief_title>Essai \xe9tude</brief_title></clinical_study>\n";
    char *path = td_test_write(td_test_dir, "NCT90000062.xml", text, sizeof(text) - 1);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_str_eq(run.trials[0]->brief_title, "Essai \xef\xbf\xbdtude");
    const td_test_diag_t *d = td_test_find_diag(&run, "invalid UTF-8: 1 byte sequence replaced");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->nct_id, "", "reported before the record is parsed");
    td_test_run_free(&run);
    free(path);
}

Test(reader, truncated_array_keeps_earlier_studies)
{
    size_t len;
    char *full = td_test_slurp(FRAMING "/array.json", &len);
    char *cut = strstr(full, "NCT90000013");
    char *path = td_test_write(td_test_dir, "cut.json", full, (size_t) (cut - full));
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000011 NCT90000012");
    const td_test_diag_t *d = td_test_find_diag(&run, "truncated JSON");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "study 3, line 18");
    cr_assert_eq(run.stats.failed_sources, 1, "a file that ends early counts as failed");
    td_test_run_free(&run);
    free(path);
    free(full);
}

Test(reader, truncated_single_object)
{
    size_t len;
    char *full = td_test_slurp(FRAMING "/single.json", &len);
    char *path = td_test_write(td_test_dir, "cut.json", full, len / 2);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.stats.rejected, 1);
    cr_assert_not_null(td_test_find_diag(&run, "truncated JSON"));
    td_test_run_free(&run);
    free(path);
    free(full);
}

Test(reader, compressed_files)
{
    static const char *const filters[] = {"gzip", "xz", "bzip2"};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s/studies.jsonl.%s", td_test_dir, filters[i]);
        td_test_member_t member = {"studies.jsonl", FRAMING "/studies.jsonl"};
        td_test_archive(name, "raw", filters[i], &member, 1);
        expect_ids(name, TD_FORMAT_AUTO, "NCT90000001 NCT90000002 NCT90000003");
    }
}

Test(reader, zip_of_per_study_json_files)
{
    /* The shape of the ClinicalTrials.gov bulk download. */
    td_test_member_t members[] = {
        {"NCT90000031.json", FRAMING "/single.json"},
        {"more/array.json", FRAMING "/array.json"},
    };
    char path[512];
    snprintf(path, sizeof(path), "%s/ctg-studies.json.zip", td_test_dir);
    td_test_archive(path, "zip", "none", members, 2);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000031 NCT90000011 NCT90000012 NCT90000013");
    char expected[600];
    snprintf(expected, sizeof(expected), "%s!more/array.json", path);
    cr_assert_str_eq(run.trials[1]->source, expected);
    td_test_run_free(&run);
}

static void make_xml_tar(const char *path)
{
    td_test_member_t members[] = {
        {"xml/NCT90000051.xml", FRAMING "/xmldir/a/NCT90000051.xml"},
        {"xml/NCT90000052.xml", FRAMING "/xmldir/a/NCT90000052.xml"},
        {"xml/NCT90000053.xml", FRAMING "/xmldir/b/NCT90000053.xml"},
    };
    td_test_archive(path, "tar", "xz", members, 3);
}

Test(reader, tar_xz_of_legacy_xml)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/legacy.tar.xz", td_test_dir);
    make_xml_tar(path);
    expect_ids(path, TD_FORMAT_AUTO, "NCT90000051 NCT90000052 NCT90000053");
}

Test(reader, truncated_tar_xz_keeps_what_was_read_and_goes_on)
{
    /* Enough members that the cut falls after the first ones. */
    td_test_member_t members[40];
    char names[40][64];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "xml/%02d.xml", i);
        members[i] = (td_test_member_t){names[i], FRAMING "/xmldir/a/NCT90000051.xml"};
    }
    char whole[512], cut[512];
    snprintf(whole, sizeof(whole), "%s/whole.tar", td_test_dir);
    td_test_archive(whole, "tar", "none", members, 40);
    size_t len;
    char *data = td_test_slurp(whole, &len);
    free(td_test_write(td_test_dir, "cut.tar", data, len / 2));
    snprintf(cut, sizeof(cut), "%s/cut.tar", td_test_dir);
    free(data);

    const char *sources[] = {cut, FRAMING "/single.json"};
    td_test_run_t run;
    td_test_read(sources, 2, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_gt(run.trial_count, 5);
    cr_assert_lt(run.trial_count, 40);
    cr_assert_str_eq(run.trials[run.trial_count - 1]->nct_id, "NCT90000031",
                     "the next source is still read");
    cr_assert_eq(run.stats.failed_sources, 1);
    const td_test_diag_t *d = td_test_find_diag(&run, "Truncated tar archive");
    cr_assert_not_null(d, "%s", run.diag_count ? run.diags[0].message : "no diagnostic");
    cr_assert_not_null(strstr(d->message, "rest of file skipped"));
    cr_assert_eq(d->level, TD_DIAG_ERROR);
    cr_assert(strstr(d->source, "cut.tar") != NULL);
    td_test_run_free(&run);
}

Test(reader, directory_walk_in_name_order_passing_over_other_files)
{
    td_test_run_t run;
    td_test_read_one(FRAMING "/xmldir", TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000051 NCT90000052 NCT90000053");
    cr_assert_eq(run.diag_count, 0, "README.txt is passed over: %s",
                 run.diag_count ? run.diags[0].message : "");
    td_test_run_free(&run);
}

Test(reader, named_file_that_is_not_a_record_is_a_warning)
{
    td_test_run_t run;
    td_test_read_one(FRAMING "/xmldir/README.txt", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 0);
    const td_test_diag_t *d = td_test_find_diag(&run, "not JSON or XML");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_WARNING);
    cr_assert_str_eq(d->source, FRAMING "/xmldir/README.txt");
    td_test_run_free(&run);
}

Test(reader, json_lines_with_a_broken_first_line)
{
    const char text[] =
        "{\"protocolSection\": {\"identificationModule\": {\"nctId\": \"NCT9\n"
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000092\"}}}\n";
    char *path = td_test_write(td_test_dir, "broken-first.jsonl", text, sizeof(text) - 1);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000092");
    cr_assert_eq(run.stats.rejected, 1);
    td_test_run_free(&run);
    free(path);
}

Test(reader, missing_source_is_an_error_and_reading_goes_on)
{
    const char *sources[] = {FRAMING "/no-such-file.json", FRAMING "/single.json"};
    td_test_run_t run;
    td_test_read(sources, 2, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000031");
    cr_assert_eq(run.stats.failed_sources, 1);
    const td_test_diag_t *d = td_test_find_diag(&run, "No such file");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->source, FRAMING "/no-such-file.json");
    td_test_run_free(&run);
}

Test(reader, forced_format_that_does_not_match)
{
    td_test_run_t run;
    td_test_read_one(FRAMING "/single.json", TD_FORMAT_CTGOV_XML, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_not_null(td_test_find_diag(&run, "not xml input"));
    td_test_run_free(&run);
}

Test(reader, text_that_is_not_json_under_forced_json)
{
    const char text[] = "NCT Number,Study Title\nNCT90000001,Something\n";
    char *path = td_test_write(td_test_dir, "export.csv", text, sizeof(text) - 1);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_CTGOV_JSON, &run);
    cr_assert_eq(run.trial_count, 0);
    const td_test_diag_t *d = td_test_find_diag(&run, "unexpected 'N'");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "line 1");
    td_test_run_free(&run);
    free(path);
}

Test(reader, empty_file_is_a_warning)
{
    char *path = td_test_write(td_test_dir, "empty.json", "", 0);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.stats.rejected, 0);
    cr_assert_not_null(td_test_find_diag(&run, "empty file"));
    td_test_run_free(&run);
    free(path);
}

Test(reader, huge_field_is_cut_with_a_warning)
{
    size_t big = TD_FIELD_MAX + 1000;
    const char head[] =
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000071\"},"
        "\"descriptionModule\":{\"briefSummary\":\"";
    const char tail[] = "\"}}}\n";
    size_t len = sizeof(head) - 1 + big + sizeof(tail) - 1;
    char *text = malloc(len);
    memcpy(text, head, sizeof(head) - 1);
    /* "é" repeated, so a cut in the middle of a character would show. */
    for (size_t i = 0; i < big; i += 2)
        memcpy(text + sizeof(head) - 1 + i, "\xc3\xa9", 2);
    memcpy(text + sizeof(head) - 1 + big, tail, sizeof(tail) - 1);
    char *path = td_test_write(td_test_dir, "huge.jsonl", text, len);
    free(text);

    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    const char *summary = run.trials[0]->brief_summary;
    cr_assert_eq(strlen(summary), TD_FIELD_MAX);
    cr_assert_eq((unsigned char) summary[TD_FIELD_MAX - 1], 0xa9, "ends on a whole character");
    const td_test_diag_t *d = td_test_find_diag(&run, "cut to the");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_WARNING);
    td_test_run_free(&run);
    free(path);
}

Test(reader, record_over_the_limit_is_skipped, .timeout = 120)
{
    char *path;
    {
        size_t len = TD_RECORD_MAX + 100;
        char *text = malloc(len + 200);
        size_t n = (size_t) sprintf(text, "{\"protocolSection\":{\"identificationModule\":"
                                          "{\"nctId\":\"NCT90000081\",\"briefTitle\":\"");
        memset(text + n, 'x', len - n);
        n = len;
        n += (size_t) sprintf(text + n, "\"}}}\n{\"protocolSection\":{\"identificationModule\":"
                                        "{\"nctId\":\"NCT90000082\"}}}\n");
        path = td_test_write(td_test_dir, "giant.jsonl", text, n);
        free(text);
    }
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000082");
    const td_test_diag_t *d = td_test_find_diag(&run, "record limit");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->position, "line 1");
    td_test_run_free(&run);
    free(path);
}

Test(reader, format_names)
{
    td_format_t format;
    cr_assert(td_format_parse("xml", &format));
    cr_assert_eq(format, TD_FORMAT_CTGOV_XML);
    cr_assert(td_format_parse("beir", &format));
    cr_assert_eq(format, TD_FORMAT_BEIR);
    cr_assert_not(td_format_parse("csv", &format));
    cr_assert_str_eq(td_format_name(TD_FORMAT_CTGOV_JSON), "json");
}
