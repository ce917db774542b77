/* Reader framing: sources, archives, compression, JSON shapes and bad input. */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A one-line study with this NCT ID. */
#define STUDY(id) "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"" id "\"}}}"

/* Writes `text` (a string literal) to `name` in the test's directory and
 * reads it. */
#define READ_TEXT(name, text, format, run)                                                         \
    do {                                                                                           \
        char *path_ = td_test_write(td_test_dir, name, text, sizeof(text) - 1);                    \
        td_test_read_one(path_, format, run);                                                      \
        cr_assert_eq((run)->status, TD_DONE);                                                      \
        free(path_);                                                                               \
    } while (0)

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

Test(reader, named_file_that_is_not_a_record_is_an_error)
{
    /* Named files are read whatever their name, so one that is neither JSON
     * nor XML is a failed source, not something to pass over. */
    td_test_run_t run;
    td_test_read_one(FRAMING "/xmldir/README.txt", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "", "not JSON or XML (starts with 'N'); skipped");
    cr_assert_str_eq(run.diags[0].source, FRAMING "/xmldir/README.txt");
    cr_assert_eq(run.stats.failed_sources, 1);
    td_test_run_free(&run);
}

Test(reader, bad_byte_order_mark_is_an_error_counted_as_a_failed_source)
{
    td_test_run_t run;
    READ_TEXT("bom.json", "\xef\xbb\x00" STUDY("NCT90000131"), TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "",
                        "not JSON or XML: bad byte order mark; skipped");
    cr_assert_eq(run.stats.failed_sources, 1);
    td_test_run_free(&run);

    /* A good mark is passed over, and columns start after it. */
    READ_TEXT("good-bom.json", "\xef\xbb\xbf[{\"a\":}]", TD_FORMAT_AUTO, &run);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "study 1, line 1",
                        "malformed JSON at line 1, column 7: unexpected token near '}'");
    td_test_run_free(&run);
}

Test(reader, archive_member_that_is_not_a_record_is_an_error)
{
    char *text = td_test_write(td_test_dir, "notes.txt", "Not a record\n", 13);
    char *inner = td_test_write(td_test_dir, "inner.json", STUDY("NCT90000132"),
                                sizeof(STUDY("NCT90000132")) - 1);
    char gz[512], zip[512];
    snprintf(gz, sizeof(gz), "%s/inner.json.gz", td_test_dir);
    td_test_member_t raw = {"inner.json", inner};
    td_test_archive(gz, "raw", "gzip", &raw, 1);
    td_test_member_t members[] = {
        {"notes.txt", text}, {"inner.json.gz", gz}, {"study.json", FRAMING "/single.json"}};
    snprintf(zip, sizeof(zip), "%s/nested.zip", td_test_dir);
    td_test_archive(zip, "zip", "none", members, 3);

    td_test_run_t run;
    td_test_read_one(zip, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000031");
    cr_assert_eq(run.diag_count, 2);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "", "not JSON or XML (starts with 'N'); skipped");
    td_test_assert_diag(&run, 1, TD_DIAG_ERROR, "",
                        "a compressed file or archive inside an archive is not read; extract it "
                        "first");
    cr_assert(strstr(run.diags[1].source, "nested.zip!inner.json.gz") != NULL);
    cr_assert_eq(run.stats.failed_sources, 2);
    td_test_run_free(&run);
    free(text);
    free(inner);
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
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "", "not xml input (starts with '{'); skipped");
    cr_assert_eq(run.stats.failed_sources, 1, "the file's records are lost: it failed");
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
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "", "empty file, no records");
    td_test_run_free(&run);
    free(path);
}

Test(reader, empty_compressed_file_is_a_warning_too)
{
    char *empty = td_test_write(td_test_dir, "empty.json", "", 0);
    char gz[512];
    snprintf(gz, sizeof(gz), "%s/empty.json.gz", td_test_dir);
    td_test_member_t member = {"empty.json", empty};
    td_test_archive(gz, "raw", "gzip", &member, 1);
    td_test_run_t run;
    td_test_read_one(gz, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "", "empty file, no records");
    cr_assert_eq(run.stats.failed_sources, 0);
    td_test_run_free(&run);
    free(empty);
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

Test(reader, oversized_study_in_an_array_is_named_by_its_study_number, .timeout = 120)
{
    char *path;
    {
        size_t len = TD_RECORD_MAX + 100;
        char *text = malloc(len + 400);
        size_t n = (size_t) sprintf(
            text, "[" STUDY("NCT90000141") ",\n{\"protocolSection\":"
                                           "{\"identificationModule\":{\"nctId\":\"NCT90000142\","
                                           "\"briefTitle\":\"");
        memset(text + n, 'x', len - n);
        n = len;
        n += (size_t) sprintf(text + n, "\"}}},\n" STUDY("NCT90000143") "]\n");
        path = td_test_write(td_test_dir, "giant.json", text, n);
        free(text);
    }
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000141 NCT90000143");
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "study 2, line 2",
                        "study larger than the 64 MiB record limit; skipped");
    cr_assert_str_eq(run.trials[1]->position, "study 3, line 3");
    td_test_run_free(&run);
    free(path);
}

Test(reader, stray_brace_in_an_array_is_reported_once_and_reading_goes_on)
{
    alarm(10); /* a framer that hangs kills the test */
    td_test_run_t run;
    READ_TEXT("stray.json", "[" STUDY("NCT90000101") "}},\n " STUDY("NCT90000102") "]\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000101 NCT90000102");
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "line 1",
                        "unexpected '}' at column 70 in the array of studies; skipped to the "
                        "next study");
    cr_assert_eq(run.stats.rejected, 1);
    td_test_run_free(&run);
}

Test(reader, stray_brace_in_a_page_is_reported_once_and_the_page_ends)
{
    alarm(10); /* a framer that hangs kills the test */
    td_test_run_t run;
    READ_TEXT("stray-page.json", "{\"studies\": [" STUDY("NCT90000103") ", }], \"n\": 1}\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000103");
    cr_assert_eq(run.diag_count, 1, "%s", run.diags[run.diag_count - 1].message);
    cr_assert_not_null(td_test_find_diag(&run, "unexpected '}' at column 84"));
    cr_assert_eq(run.stats.failed_sources, 0, "the page ended where it should");
    td_test_run_free(&run);
}

Test(reader, raw_bytes_in_messages_are_written_in_hex)
{
    td_test_run_t run;
    /* Not JSON Lines: the first object goes on past its first line. */
#define TWO_LINE_STUDY                                                                             \
    "{\"protocolSection\":\n{\"identificationModule\":{\"nctId\":\"NCT90000151\"}}}"
    READ_TEXT("nul.json", TWO_LINE_STUDY "\n\x00{}", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "line 3",
                        "unexpected 0x00 where a study or array should start; rest of file "
                        "skipped");
    td_test_run_free(&run);

    READ_TEXT("ff.json", TWO_LINE_STUDY "\n\xff{}", TD_FORMAT_CTGOV_JSON, &run);
    cr_assert_not_null(td_test_find_diag(&run, "unexpected 0xff where"));
    td_test_run_free(&run);
}

Test(reader, json_error_columns_count_from_the_start_of_the_line)
{
    td_test_run_t run;
    READ_TEXT("columns.json",
              "[" STUDY("NCT90000161") ", {\"protocolSection\":{\"identificationModule\":"
                                       "{\"nctId\":\"NCT90000162\",}}}]",
              TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.diag_count, 1);
    /* The stray comma is at column 137; jansson reports the '}' after it. */
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "study 2, line 1",
                        "malformed JSON at line 1, column 138: string or '}' expected near '}'");
    td_test_run_free(&run);
}

Test(reader, json_error_lines_count_white_space_after_a_studies_key)
{
    /* "studies" here is not an array, so the object is a study after all. */
    td_test_run_t run;
    READ_TEXT("not-a-page.json",
              "{\"studies\":\n\n\n \"x\", \"protocolSection\":{\"identificationModule\":"
              "{\"nctId\":\"NCT90000171\" \"x\"}}}",
              TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "line 1",
                        "malformed JSON at line 4, column 74: '}' expected near '\"x\"'");
    td_test_run_free(&run);
}

Test(reader, object_with_a_studies_member_after_protocol_section_is_a_study)
{
    td_test_run_t run;
    READ_TEXT("study-with-studies.json",
              "{\"protocolSection\": {\"identificationModule\": {\"nctId\": \"NCT90000181\"}}, "
              "\"studies\": []}\n" STUDY("NCT90000182") "\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000181 NCT90000182");
    cr_assert_eq(run.diag_count, 0);
    td_test_run_free(&run);
}

Test(reader, page_that_also_has_a_protocol_section_is_read_with_a_warning)
{
    td_test_run_t run;
    READ_TEXT("page-and-study.json",
              "{\"studies\": [" STUDY(
                  "NCT90000183") "],\n \"protocolSection\": "
                                 "{\"identificationModule\": {\"nctId\": \"NCT90000184\"}}}\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000183");
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "line 1",
                        "an API page with a \"protocolSection\" key: its \"studies\" were read, "
                        "the rest of it ignored");
    td_test_run_free(&run);
}

Test(reader, api_pages_one_per_line_in_json_lines)
{
    td_test_run_t run;
    READ_TEXT("pages.jsonl",
              "{\"studies\": [" STUDY("NCT90000191") ", " STUDY(
                  "NCT90000192") "], "
                                 "\"nextPageToken\": \"a\"}\n"
                                 "{\"studies\": [42, " STUDY("NCT90000193") "]}\n" STUDY(
                                     "NCT90000194") "\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000191 NCT90000192 NCT90000193 NCT90000194");
    cr_assert_str_eq(run.trials[1]->position, "study 2, line 1");
    cr_assert_str_eq(run.trials[2]->position, "study 4, line 2");
    cr_assert_str_eq(run.trials[3]->position, "line 3");
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "study 3, line 2",
                        "expected a JSON object, got a scalar");
    td_test_run_free(&run);
}

Test(reader, json_lines_with_a_broken_first_line_under_any_name)
{
    /* Standard input, .json and .json.gz have no .jsonl name to go by. */
    static const char *const firsts[] = {
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT9\n",
        "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000200\"}}\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        char text[512];
        int len = snprintf(text, sizeof(text), "%s\n%s\n%s\n", firsts[i], STUDY("NCT90000201"),
                           STUDY("NCT90000202"));
        char *path = td_test_write(td_test_dir, "broken-first.json", text, (size_t) len);
        td_test_run_t run;
        td_test_read_one(path, TD_FORMAT_AUTO, &run);
        cr_assert_str_eq(ids(&run), "NCT90000201 NCT90000202", "case %zu", i);
        cr_assert_eq(run.stats.rejected, 1);
        cr_assert_eq(run.stats.failed_sources, 0);
        cr_assert_eq(run.diag_count, 1);
        cr_assert_str_eq(run.diags[0].position, "line 1");
        cr_assert_str_eq(run.trials[1]->position, "line 4");
        td_test_run_free(&run);
        free(path);
    }
}

Test(reader, pretty_objects_one_after_another_are_still_values)
{
    td_test_run_t run;
    READ_TEXT("pretty.json",
              "{\n  \"protocolSection\": {\n    \"identificationModule\": {\"nctId\": "
              "\"NCT90000211\"}\n  }\n}\n"
              "{\n  \"protocolSection\": {\"identificationModule\": {\"nctId\": "
              "\"NCT90000212\"}}\n}\n"
              "{\"protocolSection\":\n{\"identificationModule\":{\"nctId\":\"NCT90000213\"}}}\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000211 NCT90000212 NCT90000213");
    cr_assert_eq(run.diag_count, 0, "%s", run.diag_count ? run.diags[0].message : "");
    cr_assert_str_eq(run.trials[2]->position, "line 9");
    td_test_run_free(&run);
}

Test(reader, nul_and_lone_surrogate_escapes_are_replaced_and_the_record_kept)
{
    td_test_run_t run;
    READ_TEXT("escapes.jsonl",
              "{\"protocolSection\":{\"identificationModule\":{\"nctId\":\"NCT90000221\","
              "\"briefTitle\":\"A\\u0000B \\ud800 C \\ud83d\\ude00 \\\\u0000\"}}}\n",
              TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_str_eq(run.trials[0]->brief_title, "A\xef\xbf\xbd"
                                                 "B \xef\xbf\xbd C \xf0\x9f\x98\x80 \\u0000");
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "line 1",
                        "2 \\u0000 or unpaired surrogate escapes replaced with U+FFFD");
    td_test_run_free(&run);
}

/* Pseudo-random letters: text that compresses badly. */
static void random_letters(char *out, size_t count, unsigned *seed)
{
    for (size_t k = 0; k < count; k++) {
        *seed = *seed * 1103515245u + 12345u;
        out[k] = (char) ('a' + (*seed >> 16) % 26);
    }
    out[count] = '\0';
}

Test(reader, stream_failure_in_the_tail_of_a_page_is_counted_once)
{
    /* A gzip'd page cut short after its "studies" array, in a long member
     * that follows it: the read fails while the rest of the page is passed
     * over. */
    size_t size = 300000, n = 0;
    unsigned seed = 12345;
    char *page = malloc(size);
    n += (size_t) sprintf(page + n, "{\"studies\": [");
    for (int i = 0; i < 100; i++) {
        char title[61];
        random_letters(title, 60, &seed);
        n += (size_t) sprintf(page + n,
                              "%s{\"protocolSection\":{\"identificationModule\":{\"nctId\":"
                              "\"NCT9%07d\",\"briefTitle\":\"%s\"}}}",
                              i ? "," : "", i, title);
    }
    n += (size_t) sprintf(page + n, "], \"nextPageToken\": \"");
    random_letters(page + n, 200000, &seed);
    n += 200000;
    n += (size_t) sprintf(page + n, "\"}\n");
    char *json = td_test_write(td_test_dir, "page.json", page, n);
    free(page);
    char gz[512];
    snprintf(gz, sizeof(gz), "%s/page.json.gz", td_test_dir);
    td_test_member_t member = {"page.json", json};
    td_test_archive(gz, "raw", "gzip", &member, 1);
    size_t len;
    char *data = td_test_slurp(gz, &len);
    char *cut = td_test_write(td_test_dir, "cut.json.gz", data, len * 3 / 4);
    free(data);

    td_test_run_t run;
    td_test_read_one(cut, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 100);
    cr_assert_eq(run.stats.failed_sources, 1);
    cr_assert_eq(run.diag_count, 1, "second diagnostic: %s",
                 run.diag_count > 1 ? run.diags[1].message : "");
    cr_assert_not_null(strstr(run.diags[0].message, "read failed, rest of file skipped"));
    td_test_run_free(&run);
    free(json);
    free(cut);
}

Test(reader, zip_member_with_a_bad_crc_is_skipped_and_the_next_members_read)
{
    char *first = td_test_write(td_test_dir, "a.json", STUDY("NCT90000231") "\n",
                                sizeof(STUDY("NCT90000231")));
    const char second_text[] = "{\"protocolSection\":{\"identificationModule\":{\"nctId\":"
                               "\"NCT90000232\",\"briefTitle\":\"Damaged in transit\"}}}\n";
    char *second = td_test_write(td_test_dir, "b.json", second_text, sizeof(second_text) - 1);
    td_test_member_t members[] = {
        {"a.json", first}, {"b.json", second}, {"c.json", FRAMING "/single.json"}};
    char zip[512];
    snprintf(zip, sizeof(zip), "%s/crc.zip", td_test_dir);
    td_test_archive(zip, "zip-store", "none", members, 3);
    /* Alter one byte of b.json's stored data; its CRC no longer matches. */
    size_t len;
    char *data = td_test_slurp(zip, &len);
    char *damage = NULL;
    for (size_t i = 0; i + 7 <= len && !damage; i++)
        if (memcmp(data + i, "Damaged", 7) == 0)
            damage = data + i;
    cr_assert_not_null(damage);
    *damage = 'd';
    free(td_test_write(td_test_dir, "crc.zip", data, len));
    free(data);

    td_test_run_t run;
    td_test_read_one(zip, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert(td_test_find(&run, "NCT90000231") != NULL);
    cr_assert(td_test_find(&run, "NCT90000031") != NULL, "the member after it is read");
    const td_test_diag_t *d = td_test_find_diag(&run, "CRC");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_ERROR);
    cr_assert(strstr(d->source, "crc.zip!b.json") != NULL, "%s", d->source);
    cr_assert_not_null(strstr(d->message, "read failed, rest of member skipped"), "%s", d->message);
    cr_assert_eq(run.stats.failed_sources, 1);
    td_test_run_free(&run);
    free(first);
    free(second);
}

Test(reader, directory_links_are_followed_but_no_directory_is_read_twice)
{
    alarm(10); /* a framer that hangs kills the test */
    char root[256], month[384], path[512];
    snprintf(root, sizeof(root), "%s/data", td_test_dir);
    snprintf(month, sizeof(month), "%s/2024-01", root);
    free(td_test_write(td_test_dir, "data/2024-01/a.json", STUDY("NCT90000241"),
                       sizeof(STUDY("NCT90000241")) - 1));
    snprintf(path, sizeof(path), "%s/latest", root);
    cr_assert_eq(symlink("2024-01", path), 0);
    snprintf(path, sizeof(path), "%s/up", month);
    cr_assert_eq(symlink("..", path), 0, "a link back up the tree");

    td_test_run_t run;
    td_test_read_one(root, TD_FORMAT_AUTO, &run);
    cr_assert_str_eq(ids(&run), "NCT90000241");
    cr_assert_eq(run.diag_count, 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(run.diags[i].level, TD_DIAG_WARNING);
    cr_assert_not_null(strstr(run.diags[0].message, "directory already read"));
    cr_assert_str_eq(run.diags[0].source, path);
    td_test_run_free(&run);

    /* A link named on its own is read. */
    snprintf(path, sizeof(path), "%s/latest", root);
    expect_ids(path, TD_FORMAT_AUTO, "NCT90000241");
}

Test(reader, directory_walk_ignores_the_case_of_suffixes)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/upper", td_test_dir);
    free(td_test_write(td_test_dir, "upper/A.JSON", STUDY("NCT90000251"),
                       sizeof(STUDY("NCT90000251")) - 1));
    const char xml[] = "<clinical_study><id_info><nct_id>NCT90000252</nct_id></id_info>"
                       "</clinical_study>";
    free(td_test_write(dir, "B.Xml", xml, sizeof(xml) - 1));
    free(td_test_write(dir, "C.JSONL.GZ.txt", "x", 1));
    expect_ids(dir, TD_FORMAT_AUTO, "NCT90000251 NCT90000252");
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

Test(reader, progress_counts_stored_bytes_against_the_total)
{
    td_test_member_t member = {"studies.jsonl", FRAMING "/studies.jsonl"};
    char *gz = td_test_path("studies.jsonl.gz");
    td_test_archive(gz, "raw", "gzip", &member, 1);
    struct stat st;
    cr_assert_eq(stat(gz, &st), 0);
    const char *sources[] = {gz, FRAMING "/xmldir"};
    td_test_run_t run;
    td_test_read(sources, 2, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 6);
    uint64_t xml = 0;
    static const char *const files[] = {"a/NCT90000051.xml", "a/NCT90000052.xml",
                                        "b/NCT90000053.xml"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        struct stat file;
        snprintf(path, sizeof(path), FRAMING "/xmldir/%s", files[i]);
        cr_assert_eq(stat(path, &file), 0);
        xml += (uint64_t) file.st_size;
    }
    cr_assert_eq(run.stats.input_total, (uint64_t) st.st_size + xml,
                 "the walk counts record files only (README.txt is passed over)");
    cr_assert_eq(run.stats.input_bytes, run.stats.input_total, "everything was consumed");
    td_test_run_free(&run);

    const char *stdin_source = "-";
    td_reader_t *reader;
    cr_assert_eq(td_reader_open(&stdin_source, 1, TD_FORMAT_AUTO, NULL, NULL, &reader), TD_OK);
    cr_assert_eq(td_reader_stats(reader).input_total, 0, "standard input has no known size");
    td_reader_close(reader);
    free(gz);
}
