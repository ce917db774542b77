/* Building, updating and deleting: the index holds exactly what a fresh
 * build of the same final data would hold. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "td_indexer.h"
#include "td_schema.h"
#include "td_test.h"
#include "td_trial_json.h"

TestSuite(index, .init = td_test_dir_setup, .fini = td_test_dir_teardown, .timeout = 300);

static td_index_options_t options_for(const char *db)
{
    return (td_index_options_t){.db = db, .format = TD_FORMAT_AUTO, .threads = 2};
}

static td_index_stats_t build(const char *db, const char *source)
{
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_OK, "%s",
                 error ? error : "");
    return stats;
}

static td_index_stats_t update(const char *db, const char *source, bool delete_missing)
{
    td_index_options_t options = options_for(db);
    options.delete_missing = delete_missing;
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_update(&source, 1, &options, &stats, &error), TD_OK, "%s",
                 error ? error : "");
    return stats;
}

static uint32_t term_frequency(const char *db_name, const char *term)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_READ, &db, &error), TD_OK, "%s", error);
    uint32_t frequency = 0;
    cr_assert_eq(td_xdb_termfreq(db, term, &frequency), TD_OK);
    td_xdb_close(db);
    return frequency;
}

/* Copies the sample corpus into dir/name, with `edit` applied to one file
 * (NCT99000017) and the file NCT99000041 left out when `drop` is set. */
static char *sample_copy(const char *name, const char *old_text, const char *new_text, bool drop)
{
    char *dir = td_test_path(name);
    mkdir(dir, 0755);
    for (int i = 1; i <= 41; i++) {
        if (drop && i == 41)
            continue;
        char source[600], target[64];
        snprintf(source, sizeof(source), TD_SAMPLE_DIR "/NCT990000%02d.json", i);
        snprintf(target, sizeof(target), "%s/NCT990000%02d.json", name, i);
        size_t len;
        char *text = td_test_slurp(source, &len);
        if (i == 17 && old_text) {
            char *at = strstr(text, old_text);
            cr_assert_not_null(at, "sample text to edit not found: %s", old_text);
            size_t edited_len = len - strlen(old_text) + strlen(new_text);
            char *edited = malloc(edited_len + 1);
            size_t head = (size_t) (at - text);
            memcpy(edited, text, head);
            strcpy(edited + head, new_text);
            strcat(edited, at + strlen(old_text));
            free(text);
            text = edited;
            len = edited_len;
        }
        free(td_test_write(td_test_dir, target, text, len));
        free(text);
    }
    return dir;
}

/* The data is the DISPLAY JSON, the record slot the packed FULL JSON; the
 * list facets are sorted, distinct and joined with '|'. */
static void expect_record_parts(const char *db_name, const char *id)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_READ, &db, &error), TD_OK, "%s", error);
    td_xdocid_t docid;
    td_xdoc_t *doc;
    cr_assert_eq(td_xdb_find_unique(db, id, &docid), TD_OK);
    cr_assert_eq(td_xdb_get_document(db, docid, &doc), TD_OK);
    char *data, *packed, *record;
    size_t len, packed_len;
    cr_assert_eq(td_xdoc_get_data(doc, &data, &len), TD_OK);
    cr_assert_eq(td_xdoc_get_value(doc, TD_SLOT_RECORD, &packed, &packed_len), TD_OK);
    cr_assert_eq(td_trial_json_unpack(packed, packed_len, &record, NULL), TD_OK);
    json_error_t json_error;
    json_t *display = json_loadb(data, len, 0, &json_error);
    json_t *full = json_loads(record, 0, &json_error);
    cr_assert(display && full, "%s", json_error.text);
    cr_assert_str_eq(json_string_value(json_object_get(display, "nctId")), id + 1);
    cr_assert_not_null(json_object_get(full, "eligibilityCriteria"), "the full record");
    cr_assert_null(json_object_get(display, "eligibilityCriteria"), "the display record");
    json_decref(display);
    json_decref(full);
    free(data);
    free(packed);
    free(record);
    char *value;
    cr_assert_eq(td_xdoc_get_value(doc, TD_SLOT_COUNTRIES, &value, &len), TD_OK);
    cr_assert_eq(strncmp(value,
                         "australia|france|germany|japan|korea, republic of|united "
                         "kingdom|united states",
                         len),
                 0, "%.*s", (int) len, value);
    free(value);
    cr_assert_eq(td_xdoc_get_value(doc, TD_SLOT_INTERVENTION_TYPES, &value, &len), TD_OK);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(value, "drug", 4), 0, "one value though three drugs");
    free(value);
    td_xdoc_free(doc);
    td_xdb_close(db);
}

Test(index, build_indexes_the_sample_corpus)
{
    char *db = td_test_path("sample.db");
    td_index_stats_t stats = build(db, TD_SAMPLE_DIR);
    cr_assert_eq(stats.read, 41);
    cr_assert_eq(stats.documents, 41);
    cr_assert_eq(stats.rejected, 0);
    /* A few terms every part of the schema should have produced. */
    cr_assert_eq(term_frequency(db, "QNCT99000017"), 1);
    cr_assert_geq(term_frequency(db, "@trastuzumab_deruxtecan"), 3);
    cr_assert_geq(term_frequency(db, "XI@trastuzumab_deruxtecan"), 2);
    cr_assert_geq(term_frequency(db, "XB#her2_low"), 1);
    cr_assert_geq(term_frequency(db, "@cdk4_6_inhibitor"), 5);
    cr_assert_geq(term_frequency(db, "XFstatus=recruiting"), 5);
    cr_assert_geq(term_frequency(db, "XFcountry=china"), 2);
    cr_assert_geq(term_frequency(db, "ZXDmetastat"), 10);
    cr_assert_geq(term_frequency(db, "breast"), 20, "titles and conditions keep unprefixed words");
    cr_assert_geq(term_frequency(db, "Zmetastat"), 10, "all-fields stems");
    /* A word that is its own stem is indexed once, as the stem. */
    cr_assert_geq(term_frequency(db, "ZXCcancer"), 20);
    cr_assert_eq(term_frequency(db, "XCcancer"), 0);
    /* Short fields keep a stemmed word's exact form beside its stem. */
    cr_assert_geq(term_frequency(db, "Smetastatic"), 5, "short fields keep exact forms");
    cr_assert_geq(term_frequency(db, "ZSmetastat"), 5);
    /* Long fields keep a stemmed word only as its stem, and words without
     * a stem (genes, drugs) as they are. */
    cr_assert_eq(term_frequency(db, "XDpatients"), 0, "long fields keep stems only");
    cr_assert_geq(term_frequency(db, "ZXDpatient"), 5);
    cr_assert_geq(term_frequency(db, "XDesr1"), 3, "gene symbols are kept in long fields");
    cr_assert_geq(term_frequency(db, "XDpalbociclib"), 3, "drug names are kept in long fields");
    cr_assert_eq(term_frequency(db, "XYd8534c00099"), 1, "other IDs are boolean terms");
    expect_record_parts(db, "QNCT99000006");
    free(db);
}

Test(index, rebuild_swaps_versions_and_removes_the_old_one)
{
    char *db = td_test_path("swap.db");
    build(db, TD_SAMPLE_DIR);
    char first[4096] = "", second[4096] = "";
    cr_assert_gt(readlink(db, first, sizeof(first) - 1), 0);
    sleep(1); /* versions are named by the second */
    build(db, TD_SAMPLE_DIR);
    cr_assert_gt(readlink(db, second, sizeof(second) - 1), 0);
    cr_assert_str_neq(first, second);
    char old_path[8192];
    snprintf(old_path, sizeof(old_path), "%s/%s", td_test_dir, first);
    struct stat st;
    cr_assert_neq(stat(old_path, &st), 0, "the old version %s is removed", old_path);
    free(db);
}

Test(index, unchanged_update_skips_every_trial)
{
    char *db = td_test_path("same.db");
    build(db, TD_SAMPLE_DIR);
    td_index_stats_t stats = update(db, TD_SAMPLE_DIR, false);
    cr_assert_eq(stats.unchanged, 41);
    cr_assert_eq(stats.added + stats.updated + stats.deleted, 0);
    cr_assert_eq(stats.documents, 41);
    free(db);
}

Test(index, update_and_delete_end_where_a_fresh_build_starts)
{
    /* The final data: NCT99000017 retitled, NCT99000041 gone. */
    char *final_dir = sample_copy("final", "HER2-Low", "HER2-Low (retitled)", true);
    char *fresh = td_test_path("fresh.db");
    build(fresh, final_dir);

    char *db = td_test_path("updated.db");
    build(db, TD_SAMPLE_DIR);
    td_index_stats_t stats = update(db, final_dir, true);
    cr_assert_eq(stats.updated, 1);
    cr_assert_eq(stats.unchanged, 39);
    cr_assert_eq(stats.deleted, 1);
    cr_assert_eq(stats.documents, 40);

    char *expected = td_test_index_content(fresh), *got = td_test_index_content(db);
    cr_assert_str_eq(got, expected);
    cr_assert_eq(term_frequency(db, "Sretitled"), 1, "the new title is searchable");
    cr_assert_eq(term_frequency(db, "QNCT99000041"), 0);
    free(expected);
    free(got);
    free(final_dir);
    free(fresh);
    free(db);
}

Test(index, update_of_a_missing_index_builds_it)
{
    char *db = td_test_path("new.db");
    td_index_stats_t stats = update(db, TD_SAMPLE_DIR, false);
    cr_assert_eq(stats.documents, 41);
    free(db);
}

Test(index, delete_by_id_reports_unknown_ids)
{
    char *db = td_test_path("delete.db");
    build(db, TD_SAMPLE_DIR);
    td_test_run_t run = {0};
    td_index_options_t options = options_for(db);
    options.on_diag = td_test_collect_diag;
    options.user = &run;
    td_index_stats_t stats;
    char *error = NULL;
    const char *ids[] = {"NCT99000001", "nct99000002", "NCT00000000", "bogus"};
    cr_assert_eq(td_index_delete(ids, 4, &options, &stats, &error), TD_OK, "%s", error);
    cr_assert_eq(stats.deleted, 2);
    cr_assert_eq(stats.documents, 39);
    cr_assert_not_null(td_test_find_diag(&run, "not in the index"));
    cr_assert_not_null(td_test_find_diag(&run, "not an NCT ID"));
    td_test_run_free(&run);
    free(db);
}

Test(index, bad_records_are_reported_and_the_rest_lands)
{
    char *db = td_test_path("bad.db");
    td_test_run_t run = {0};
    td_index_options_t options = options_for(db);
    options.on_diag = td_test_collect_diag;
    options.user = &run;
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = TD_FIXTURES_DIR "/framing/bad_lines.jsonl";
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_OK, "%s", error);
    cr_assert_eq(stats.documents, 3);
    cr_assert_eq(stats.rejected, 4);
    cr_assert_not_null(td_test_find_diag(&run, "malformed NCT ID"));

    /* --strict stops at the first bad record and leaves no index. */
    char *strict_db = td_test_path("strict.db");
    options.db = strict_db;
    options.strict = true;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_ERR_BAD_INPUT);
    cr_assert_not_null(strstr(error, "--strict"));
    struct stat st;
    cr_assert_neq(lstat(strict_db, &st), 0, "no index appears");
    free(error);
    td_test_run_free(&run);
    free(strict_db);
    free(db);
}

Test(index, second_writer_is_told_who_holds_the_lock)
{
    char *db = td_test_path("locked.db");
    build(db, TD_SAMPLE_DIR);
    pid_t child = td_test_hold_lock(db);
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = TD_SAMPLE_DIR;
    td_status_t status = td_index_update(&source, 1, &options, &stats, &error);
    td_test_release_lock(child);
    cr_assert_eq(status, TD_ERR_LOCKED);
    char expected[64];
    snprintf(expected, sizeof(expected), "locked by pid %ld", (long) child);
    cr_assert_not_null(strstr(error, expected), "%s", error);
    free(error);
    free(db);
}

Test(index, plain_directory_is_not_replaced)
{
    char *db = td_test_path("plain.db");
    mkdir(db, 0755);
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = TD_SAMPLE_DIR;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_ERR_INVALID);
    cr_assert_not_null(strstr(error, "not an index trialdex manages"), "%s", error);
    free(error);
    free(db);
}

Test(index, compact_keeps_every_trial_and_swaps_in_place)
{
    char *db = td_test_path("compact.db");
    build(db, TD_SAMPLE_DIR);
    char *before = td_test_index_content(db);
    char first[4096] = "";
    cr_assert_gt(readlink(db, first, sizeof(first) - 1), 0);
    sleep(1);
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_compact(&options, &stats, &error), TD_OK, "%s", error ? error : "");
    cr_assert_eq(stats.documents, 41);
    char second[4096] = "";
    cr_assert_gt(readlink(db, second, sizeof(second) - 1), 0);
    cr_assert_str_neq(first, second);
    char *after = td_test_index_content(db);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    free(db);
}

/* Regression tests for the indexer review's findings. */

Test(index, a_hand_made_link_target_outside_the_data_directory_survives)
{
    char *victim = td_test_path("victim");
    mkdir(victim, 0755);
    free(td_test_write(td_test_dir, "victim/notes.txt", "precious\n", 9));
    char *db = td_test_path("hand.db");
    cr_assert_eq(symlink("victim", db), 0);
    build(db, TD_SAMPLE_DIR);
    struct stat st;
    char *notes = td_test_path("victim/notes.txt");
    cr_assert_eq(stat(notes, &st), 0, "a directory trialdex did not create is never removed");
    free(notes);
    free(victim);
    free(db);
}

Test(index, delete_missing_refuses_when_records_were_rejected)
{
    char *db = td_test_path("partial.db");
    build(db, TD_SAMPLE_DIR);
    /* A snapshot in which one trial's record is broken. */
    char *snapshot = sample_copy("snapshot", "\"nctId\": \"NCT99000017\"", "\"nctId\": 17", false);
    td_index_options_t options = options_for(db);
    options.delete_missing = true;
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = snapshot;
    cr_assert_eq(td_index_update(&source, 1, &options, &stats, &error), TD_ERR_BAD_INPUT);
    cr_assert_not_null(strstr(error, "not deleting missing trials"), "%s", error);
    cr_assert_eq(term_frequency(db, "QNCT99000017"), 1, "the trial whose record broke stays");
    free(error);
    free(snapshot);
    free(db);
}

Test(index, two_builds_in_one_second_keep_the_index)
{
    char *db = td_test_path("twice.db");
    build(db, TD_SAMPLE_DIR);
    build(db, TD_SAMPLE_DIR);
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_compact(&options, &stats, &error), TD_OK, "%s", error ? error : "");
    cr_assert_eq(term_frequency(db, "QNCT99000001"), 1);
    free(db);
}

Test(index, strict_sees_bad_input_after_the_last_good_record)
{
    char *dir = sample_copy("strict-late", NULL, NULL, false);
    free(td_test_write(td_test_dir, "strict-late/zz_bad.json", "{\"protocolSection\": {", 21));
    char *db = td_test_path("strict-late.db");
    td_index_options_t options = options_for(db);
    options.strict = true;
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = dir;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_ERR_BAD_INPUT);
    struct stat st;
    cr_assert_neq(lstat(db, &st), 0, "nothing is swapped in");
    free(error);
    free(dir);
    free(db);
}

Test(index, update_refuses_a_plain_directory)
{
    char *built = td_test_path("real.db");
    build(built, TD_SAMPLE_DIR);
    char *plain = td_test_path("plain-update.db");
    mkdir(plain, 0755);
    td_index_options_t options = options_for(plain);
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = TD_SAMPLE_DIR;
    cr_assert_eq(td_index_update(&source, 1, &options, &stats, &error), TD_ERR_INVALID);
    free(error);
    error = NULL;
    const char *ids[] = {"NCT99000001"};
    cr_assert_eq(td_index_delete(ids, 1, &options, &stats, &error), TD_ERR_INVALID);
    free(error);
    free(plain);
    free(built);
}

Test(index, litter_of_killed_builds_is_removed_and_duplicates_count_once)
{
    char *db = td_test_path("litter.db");
    build(db, TD_SAMPLE_DIR);
    char *junk = td_test_path("litter.db.data/20200101T000000Z-1-abcdef.shard0");
    mkdir(junk, 0755);
    const char *sources[] = {TD_SAMPLE_DIR, TD_SAMPLE_DIR "/NCT99000001.json"};
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_build(sources, 2, &options, &stats, &error), TD_OK, "%s",
                 error ? error : "");
    cr_assert_eq(stats.read, 42);
    cr_assert_eq(stats.added, 41, "a trial read twice is added once");
    cr_assert_eq(stats.documents, 41);
    struct stat st;
    cr_assert_neq(stat(junk, &st), 0, "a dead shard is cleaned up");
    free(junk);
    free(db);
}

Test(index, update_with_a_trial_read_twice_keeps_the_later_copy)
{
    char *db = td_test_path("twice-update.db");
    build(db, TD_SAMPLE_DIR);
    char *edited = sample_copy("edited", "HER2-Low", "HER2-Low (retitled)", false);
    char later[700];
    snprintf(later, sizeof(later), "%s/NCT99000017.json", edited);
    /* The original first, then the edited copy of the same trial. */
    const char *sources[] = {TD_SAMPLE_DIR, later};
    td_index_options_t options = options_for(db);
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_update(sources, 2, &options, &stats, &error), TD_OK, "%s",
                 error ? error : "");
    cr_assert_eq(stats.unchanged, 41);
    cr_assert_eq(stats.updated, 1);
    cr_assert_eq(term_frequency(db, "Sretitled"), 1, "the later copy wins");
    free(edited);
    free(db);
}

/* The spelling dictionary as "word frequency" lines. */
static char *spelling_of(const char *db_name)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_READ, &db, &error), TD_OK, "%s", error);
    td_xlist_t *words;
    cr_assert_eq(td_xdb_spellings(db, &words), TD_OK);
    size_t size = 1;
    for (size_t i = 0; i < td_xlist_count(words); i++)
        size += strlen(td_xlist_string(words, i, NULL)) + 24;
    char *out = calloc(size, 1), *end = out;
    cr_assert_not_null(out);
    for (size_t i = 0; i < td_xlist_count(words); i++)
        end += sprintf(end, "%s %llu\n", td_xlist_string(words, i, NULL),
                       (unsigned long long) td_xlist_number(words, i));
    td_xlist_free(words);
    td_xdb_close(db);
    return out;
}

Test(index, spelling_counts_every_occurrence_however_the_index_was_written)
{
    char *one_shard = td_test_path("one.db"), *two_shards = td_test_path("two.db");
    td_index_options_t options = options_for(one_shard);
    options.threads = 1;
    td_index_stats_t stats;
    char *error = NULL;
    const char *source = TD_SAMPLE_DIR;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_OK, "%s", error);
    build(two_shards, TD_SAMPLE_DIR);
    /* Updated: one trial built, the other 40 added by an update. */
    char *updated = td_test_path("updated.db");
    build(updated, TD_SAMPLE_DIR "/NCT99000017.json");
    cr_assert_eq(update(updated, TD_SAMPLE_DIR, false).added, 40);

    char *expected = spelling_of(one_shard);
    char *got = spelling_of(two_shards);
    cr_assert_str_eq(got, expected);
    free(got);
    got = spelling_of(updated);
    cr_assert_str_eq(got, expected);
    /* "Trastuzumab Deruxtecan" names several trials' interventions. */
    const char *line = strstr(expected, "\nderuxtecan ");
    cr_assert_not_null(line, "%s", expected);
    cr_assert_geq(atoi(line + strlen("\nderuxtecan ")), 3);
    cr_assert_null(strstr(expected, "\nthe "), "short words are not spelling words");
    free(got);
    free(expected);
    free(one_shard);
    free(two_shards);
    free(updated);
}

/* The wdf of `term` in the index's only document (0 when it lacks it). */
static uint32_t wdf_of(const char *db_name, const char *term)
{
    td_xdb_t *db;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db_name, TD_XDB_READ, &db, &error), TD_OK, "%s", error);
    td_xdoc_t *doc;
    td_xlist_t *terms;
    cr_assert_eq(td_xdb_get_document(db, 1, &doc), TD_OK);
    cr_assert_eq(td_xdoc_terms(doc, &terms), TD_OK);
    uint32_t wdf = 0;
    for (size_t i = 0; i < td_xlist_count(terms); i++)
        if (strcmp(td_xlist_string(terms, i, NULL), term) == 0)
            wdf = (uint32_t) td_xlist_number(terms, i);
    td_xlist_free(terms);
    td_xdoc_free(doc);
    td_xdb_close(db);
    return wdf;
}

Test(index, all_fields_terms_weigh_each_occurrence_by_its_field)
{
    static const char record[] =
        "{\"protocolSection\": {"
        "\"identificationModule\": {\"nctId\": \"NCT99100001\","
        " \"briefTitle\": \"ESR1 testing in patients\"},"
        "\"descriptionModule\": {\"briefSummary\": \"Patients with ESR1 variants; ESR1 again.\"},"
        "\"eligibilityModule\": {\"eligibilityCriteria\":"
        " \"Inclusion Criteria:\\n* adults\\nExclusion Criteria:\\n* glioma\\n* ESR1 unknown\"}}}";
    free(td_test_write(td_test_dir, "one.json", record, strlen(record)));
    char *db = td_test_path("one.db");
    char *source = td_test_path("one.json");
    cr_assert_eq(build(db, source).added, 1);
    /* A field's own terms count TD_WDF_SCALE an occurrence. */
    cr_assert_eq(wdf_of(db, "Sesr1"), TD_WDF_SCALE);
    cr_assert_eq(wdf_of(db, "XDesr1"), 2 * TD_WDF_SCALE);
    cr_assert_eq(wdf_of(db, "XXesr1"), TD_WDF_SCALE);
    /* The all-fields term counts each field's weight; exclusion criteria
     * add nothing. */
    cr_assert_eq(wdf_of(db, "esr1"), TD_WEIGHT_TITLE + 2 * TD_WEIGHT_SUMMARY);
    cr_assert_eq(wdf_of(db, "Zpatient"), TD_WEIGHT_TITLE + TD_WEIGHT_SUMMARY);
    cr_assert_eq(wdf_of(db, "Zglioma"), 0, "a word only in the exclusion criteria");
    cr_assert_eq(wdf_of(db, "ZXXglioma"), TD_WDF_SCALE);
    /* Long fields add a stemmed word only as its stem; short fields keep
     * the word (with positions, for phrases) and weigh it too. */
    cr_assert_eq(wdf_of(db, "patients"), TD_WEIGHT_TITLE);
    free(db);
    free(source);
}
