/* test_trial_json.c - a trial as JSON in the FULL and DISPLAY views, and
 * the content hash (trial_json.c). */
#include <criterion/criterion.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_test.h"
#include "td_trial_json.h"

#define SEED TD_HASH64_FNV_OFFSET_BASIS

TestSuite(trial_json);

/* Reads one file of tests/fixtures through the public reader. */
static void read_fixture(const char *name, td_test_run_t *run)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TD_FIXTURES_DIR, name);
    td_test_read_one(path, TD_FORMAT_AUTO, run);
    cr_assert_eq(run->status, TD_DONE);
    cr_assert_eq(run->trial_count, 1, "%s", name);
}

/* The JSON of a view, asserting success; free() it. */
static char *to_json(const td_trial_t *trial, td_trial_json_view_t view)
{
    char *json = NULL;
    size_t len = 0;
    cr_assert_eq(td_trial_to_json(trial, view, &json, &len), TD_OK);
    cr_assert_not_null(json);
    cr_assert_eq(strlen(json), len);
    return json;
}

#define ASSERT_HAS(json, fragment)                                                                 \
    cr_assert_not_null(strstr((json), (fragment)), "missing %s in\n%s", (fragment), (json))
#define ASSERT_STARTS(json, prefix)                                                                \
    cr_assert(strncmp((json), (prefix), strlen(prefix)) == 0, "%s does not start with %s", (json), \
              (prefix))
#define ASSERT_LACKS(json, fragment)                                                               \
    cr_assert_null(strstr((json), (fragment)), "unexpected %s in\n%s", (fragment), (json))

/* Parses JSON back, asserting it is valid. */
static json_t *parse(const char *json)
{
    json_error_t error;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &error);
    cr_assert_not_null(root, "%s at %d:%d in\n%s", error.text, error.line, error.column, json);
    cr_assert(json_is_object(root));
    return root;
}

static td_trial_t *new_trial(void)
{
    td_trial_t *trial = td_trial_new();
    cr_assert_not_null(trial);
    return trial;
}

/* Sets a string field the way a reader does: a copy in the trial's arena. */
static const char *copy_text(td_trial_t *trial, const char *text)
{
    const char *copy = NULL;
    cr_assert_eq(td_trial_strndup(trial, text, strlen(text), &copy, NULL), TD_OK);
    return copy;
}

/* ---- FULL view ---- */

Test(trial_json, full_view_of_the_api_v2_fixture)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    char *json = to_json(run.trials[0], TD_TRIAL_JSON_FULL);

    /* The keys come in the fixed order, starting with the identification. */
    ASSERT_STARTS(json, "{\"nctId\":\"NCT09000001\",\"briefTitle\":\"Trastuzumab Deruxtecan");
    ASSERT_HAS(json, "\"acronym\":\"NORTH-HER2\",\"nctIdAliases\":[\"NCT08999990\"],"
                     "\"orgStudyId\":\"NCI-ONC-2023-0117\","
                     "\"secondaryIds\":[\"2023-501234-12-00\",\"U10CA180888\"],"
                     "\"briefSummary\":\"This study compares");
    /* Line breaks inside text are escaped; the text itself is kept. */
    ASSERT_HAS(json, "with trastuzumab and pertuzumab.\\n\\nTumour assessments");
    ASSERT_HAS(json, "\"conditionMeshTerms\":[\"Breast Neoplasms\"],\"interventionMeshTerms\":"
                     "[\"Trastuzumab\",\"pertuzumab\",\"trastuzumab deruxtecan\"]");

    /* An intervention without a description has no "description" key. */
    ASSERT_HAS(json, "{\"type\":\"DRUG\",\"name\":\"Pertuzumab\",\"otherNames\":[\"Perjeta\"],"
                     "\"armGroupLabels\":[\"Arm A: T-DXd + pertuzumab\",\"Arm B: THP\"]}");
    ASSERT_HAS(json, "{\"label\":\"Arm B: THP\",\"type\":\"ACTIVE_COMPARATOR\",\"description\":"
                     "\"Docetaxel or paclitaxel with trastuzumab and pertuzumab.\","
                     "\"interventionNames\":[\"Drug: Docetaxel\",\"Biological: Trastuzumab\","
                     "\"Drug: Pertuzumab\"]}");
    ASSERT_HAS(json, "\"secondaryOutcomes\":[{\"measure\":\"Overall survival (OS)\","
                     "\"timeFrame\":\"Up to 60 months\"},");

    /* Eligibility: ages as value, unit and days; whole values are integers. */
    ASSERT_HAS(json, "\"sex\":\"ALL\",\"minimumAge\":{\"value\":18,\"unit\":\"YEARS\","
                     "\"days\":6574},\"maximumAge\":{\"value\":75,\"unit\":\"YEARS\",\"days\":");
    ASSERT_HAS(json, "\"healthyVolunteers\":false,\"stdAges\":[\"ADULT\",\"OLDER_ADULT\"]");

    ASSERT_HAS(json, "\"overallStatus\":\"RECRUITING\",\"phases\":[\"PHASE2\",\"PHASE3\"],"
                     "\"studyType\":\"INTERVENTIONAL\",\"design\":{\"allocation\":\"RANDOMIZED\","
                     "\"interventionModel\":\"PARALLEL\",\"primaryPurpose\":\"TREATMENT\","
                     "\"masking\":\"NONE\"},\"enrollment\":{\"count\":420,\"type\":\"ESTIMATED\"}");

    /* Dates keep the precision the source gave. */
    ASSERT_HAS(json, "\"startDate\":{\"date\":\"2023-05-17\",\"type\":\"ACTUAL\"},"
                     "\"primaryCompletionDate\":{\"date\":\"2026-12\",\"type\":\"ESTIMATED\"},"
                     "\"completionDate\":{\"date\":\"2028-06-30\",\"type\":\"ESTIMATED\"},"
                     "\"firstPostedDate\":{\"date\":\"2023-04-02\",\"type\":\"ACTUAL\"},"
                     "\"lastUpdateDate\":{\"date\":\"2024-11-08\",\"type\":\"ACTUAL\"}");

    ASSERT_HAS(json, "\"leadSponsor\":{\"name\":\"Northbridge Cancer Institute\",\"class\":"
                     "\"OTHER\"},\"collaborators\":[{\"name\":\"Daiichi Sankyo\",\"class\":"
                     "\"INDUSTRY\"},{\"name\":\"National Cancer Institute (NCI)\",\"class\":"
                     "\"NIH\"}]");

    /* Coordinates as the source wrote them; non-ASCII text as itself. */
    ASSERT_HAS(json, "{\"facility\":\"Northbridge Cancer Institute\",\"city\":\"Boston\","
                     "\"state\":\"Massachusetts\",\"zip\":\"02215\",\"country\":"
                     "\"United States\",\"status\":\"RECRUITING\",\"lat\":42.35843,"
                     "\"lon\":-71.05977}");
    ASSERT_HAS(json, "{\"facility\":\"Hôpital Saint-Louis\",\"city\":\"Paris\",\"zip\":"
                     "\"75010\",\"country\":\"France\",\"status\":\"NOT_YET_RECRUITING\","
                     "\"lat\":48.85341,\"lon\":2.3488}");
    /* A site without status or coordinates has neither key. */
    ASSERT_HAS(json, "{\"facility\":\"Seoul National University Hospital\",\"city\":\"Seoul\","
                     "\"country\":\"Korea, Republic of\"}]");

    /* The end, and what is never there. */
    size_t len = strlen(json);
    cr_assert_str_eq(json + len - strlen(",\"hasResults\":true}"), ",\"hasResults\":true}");
    ASSERT_LACKS(json, "\"source\"");
    ASSERT_LACKS(json, "\"position\"");
    ASSERT_LACKS(json, "null");
    ASSERT_LACKS(json, "\\u");

    free(json);
    td_test_run_free(&run);
}

Test(trial_json, full_view_of_the_legacy_xml_fixture)
{
    td_test_run_t run;
    read_fixture("xml/full.xml", &run);
    char *json = to_json(run.trials[0], TD_TRIAL_JSON_FULL);

    ASSERT_HAS(json, "{\"nctId\":\"NCT04123456\",");
    ASSERT_HAS(json, "\"acronym\":\"DESTINY-RT\",\"nctIdAliases\":[\"NCT04000001\"],"
                     "\"orgStudyId\":\"VA-ONC-2019-07\",");
    ASSERT_HAS(json, "\"keywords\":[\"HER2\",\"T-DXd & SRS\"]");
    ASSERT_HAS(json, "\"overallStatus\":\"ACTIVE_NOT_RECRUITING\",\"phases\":[\"PHASE1\","
                     "\"PHASE2\"],\"studyType\":\"INTERVENTIONAL\"");
    ASSERT_HAS(json, "\"enrollment\":{\"count\":120,\"type\":\"ESTIMATED\"}");
    /* "March 15, 2019" and "December 2025": day and month precision. */
    ASSERT_HAS(json, "\"startDate\":{\"date\":\"2019-03-15\",\"type\":\"ACTUAL\"},"
                     "\"primaryCompletionDate\":{\"date\":\"2024-06\",\"type\":\"ACTUAL\"},"
                     "\"completionDate\":{\"date\":\"2025-12\",\"type\":\"ESTIMATED\"}");
    ASSERT_HAS(json, "\"lastUpdateDate\":{\"date\":\"2024-02-29\",\"type\":\"ESTIMATED\"}");
    ASSERT_HAS(json, "\"minimumAge\":{\"value\":18,\"unit\":\"YEARS\",\"days\":6574}");
    ASSERT_HAS(json, "\"healthyVolunteers\":false,\"stdAges\":[\"ADULT\",\"OLDER_ADULT\"]");
    ASSERT_HAS(json, "\"leadSponsor\":{\"name\":\"VA Office of Research and Development\","
                     "\"class\":\"FED\"}");
    ASSERT_HAS(json, "{\"facility\":\"Universitätsspital Zürich\",\"city\":\"Zürich\","
                     "\"zip\":\"8091\",\"country\":\"Switzerland\"}");
    ASSERT_HAS(json, "{\"type\":\"RADIATION\",\"name\":\"Stereotactic Radiosurgery\","
                     "\"description\":\"Undergo SRS\",\"otherNames\":[\"SRS\"],"
                     "\"armGroupLabels\":[\"Arm I (T-DXd, SRS)\"]}");
    ASSERT_LACKS(json, "\"lat\"");

    free(json);
    td_test_run_free(&run);
}

Test(trial_json, both_views_parse_back_with_the_values_written)
{
    const char *fixtures[] = {"json/full.json", "xml/full.xml"};
    for (size_t f = 0; f < 2; f++) {
        td_test_run_t run;
        read_fixture(fixtures[f], &run);
        const td_trial_t *t = run.trials[0];

        char *full = to_json(t, TD_TRIAL_JSON_FULL);
        json_t *root = parse(full);
        cr_assert_str_eq(json_string_value(json_object_get(root, "nctId")), t->nct_id);
        cr_assert_str_eq(json_string_value(json_object_get(root, "briefTitle")), t->brief_title);
        cr_assert_str_eq(json_string_value(json_object_get(root, "eligibilityCriteria")),
                         t->eligibility_criteria);
        cr_assert_eq(json_array_size(json_object_get(root, "locations")), t->location_count);
        cr_assert_eq(json_array_size(json_object_get(root, "interventions")),
                     t->intervention_count);
        cr_assert_eq(json_is_true(json_object_get(root, "hasResults")), t->has_results);
        for (size_t i = 0; i < t->location_count; i++) {
            json_t *site = json_array_get(json_object_get(root, "locations"), i);
            if (!t->locations[i].has_geo)
                continue;
            /* The coordinates read back are the very same doubles. */
            cr_assert_eq(json_real_value(json_object_get(site, "lat")), t->locations[i].latitude);
            cr_assert_eq(json_real_value(json_object_get(site, "lon")), t->locations[i].longitude);
        }
        json_decref(root);
        free(full);

        char *display = to_json(t, TD_TRIAL_JSON_DISPLAY);
        root = parse(display);
        cr_assert_str_eq(json_string_value(json_object_get(root, "nctId")), t->nct_id);
        cr_assert_null(json_object_get(root, "locations"));
        json_decref(root);
        free(display);
        td_test_run_free(&run);
    }
}

/* ---- DISPLAY view ---- */

Test(trial_json, display_view_of_the_api_v2_fixture)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    char *json = to_json(run.trials[0], TD_TRIAL_JSON_DISPLAY);

    ASSERT_STARTS(json, "{\"nctId\":\"NCT09000001\",\"briefTitle\":\"Trastuzumab Deruxtecan "
                        "Plus Pertuzumab in HER2-Positive Metastatic Breast Cancer\",\"acronym\":"
                        "\"NORTH-HER2\",\"briefSummary\":\"This study compares");
    /* The summary is short enough to be whole. */
    ASSERT_HAS(json, "metastatic breast cancer.\",\"overallStatus\":\"RECRUITING\","
                     "\"phases\":[\"PHASE2\",\"PHASE3\"],\"studyType\":\"INTERVENTIONAL\","
                     "\"conditions\":[\"HER2-positive Breast Cancer\","
                     "\"Metastatic Breast Cancer\"],"
                     "\"interventionNames\":[\"Trastuzumab deruxtecan\",\"Pertuzumab\","
                     "\"Trastuzumab\"],"
                     "\"startDate\":{\"date\":\"2023-05-17\",\"type\":\"ACTUAL\"},"
                     "\"primaryCompletionDate\":{\"date\":\"2026-12\",\"type\":\"ESTIMATED\"},"
                     "\"lastUpdateDate\":{\"date\":\"2024-11-08\",\"type\":\"ACTUAL\"},"
                     "\"enrollment\":{\"count\":420,\"type\":\"ESTIMATED\"},\"sex\":\"ALL\","
                     "\"minimumAge\":\"18 Years\",\"maximumAge\":\"75 Years\","
                     "\"leadSponsor\":\"Northbridge Cancer Institute\",\"hasResults\":true}");

    /* What only the FULL view holds. */
    const char *full_only[] = {"officialTitle",
                               "detailedDescription",
                               "keywords",
                               "eligibilityCriteria",
                               "\"interventions\"",
                               "armGroups",
                               "primaryOutcomes",
                               "design",
                               "completionDate",
                               "firstPostedDate",
                               "collaborators",
                               "locations",
                               "Boston",
                               "02215",
                               "healthyVolunteers",
                               "stdAges",
                               "source",
                               "position"};
    for (size_t i = 0; i < sizeof(full_only) / sizeof(full_only[0]); i++)
        ASSERT_LACKS(json, full_only[i]);

    free(json);
    td_test_run_free(&run);
}

Test(trial_json, display_ages_are_registry_text)
{
    td_trial_t *t = new_trial();
    t->minimum_age = (td_age_t){1, TD_AGE_UNIT_YEARS, 365};
    t->maximum_age = (td_age_t){6, TD_AGE_UNIT_MONTHS, 182};
    char *json = to_json(t, TD_TRIAL_JSON_DISPLAY);
    cr_assert_str_eq(json, "{\"minimumAge\":\"1 Year\",\"maximumAge\":\"6 Months\","
                           "\"hasResults\":false}");
    free(json);

    t->minimum_age = (td_age_t){1.5, TD_AGE_UNIT_YEARS, 547};
    t->maximum_age = (td_age_t){0, TD_AGE_UNIT_NONE, -1};
    json = to_json(t, TD_TRIAL_JSON_DISPLAY);
    cr_assert_str_eq(json, "{\"minimumAge\":\"1.5 Years\",\"hasResults\":false}");
    free(json);
    /* A fractional value stays a real in the FULL view. */
    json = to_json(t, TD_TRIAL_JSON_FULL);
    ASSERT_HAS(json, "\"minimumAge\":{\"value\":1.5,\"unit\":\"YEARS\",\"days\":547},"
                     "\"healthyVolunteers\":null");
    ASSERT_LACKS(json, "maximumAge");
    free(json);
    td_trial_free(t);
}

/* A summary of `len` bytes: `unit` repeated after `prefix`. */
static const char *long_summary(td_trial_t *t, const char *prefix, const char *unit, size_t len)
{
    char *text = malloc(len + 1);
    cr_assert_not_null(text);
    size_t n = strlen(prefix);
    memcpy(text, prefix, n);
    while (n < len) {
        size_t step = strlen(unit);
        cr_assert_leq(n + step, len, "unit must fill the length exactly");
        memcpy(text + n, unit, step);
        n += step;
    }
    text[len] = '\0';
    const char *copy = copy_text(t, text);
    free(text);
    cr_assert_eq(strlen(copy), len);
    return copy;
}

/* The briefSummary of the DISPLAY view, as a malloc'd string. */
static char *display_summary(const td_trial_t *t)
{
    char *json = to_json(t, TD_TRIAL_JSON_DISPLAY);
    json_t *root = parse(json);
    const char *summary = json_string_value(json_object_get(root, "briefSummary"));
    cr_assert_not_null(summary, "%s", json);
    char *copy = strdup(summary);
    json_decref(root);
    free(json);
    return copy;
}

Test(trial_json, display_summary_is_cut_at_a_character_boundary)
{
    td_trial_t *t = new_trial();
    /* "x" then 300 euro signs (3 bytes each): byte 597, where a cut that
     * leaves room for "…" would fall, is inside a euro sign. */
    t->brief_summary = long_summary(t, "x", "\xe2\x82\xac", 1 + 300 * 3);
    char *summary = display_summary(t);
    char expected[700] = "x";
    for (int i = 0; i < 198; i++)
        strcat(expected, "\xe2\x82\xac");
    strcat(expected, "\xe2\x80\xa6");
    cr_assert_str_eq(summary, expected);
    cr_assert_leq(strlen(summary), TD_TRIAL_JSON_SUMMARY_MAX);
    free(summary);

    /* Two-byte characters, another offset. */
    t->brief_summary = long_summary(t, "", "\xc3\xa9", 700);
    summary = display_summary(t);
    cr_assert_eq(strlen(summary), 596 + 3);
    cr_assert_str_eq(summary + 596, "\xe2\x80\xa6");
    cr_assert_eq(strncmp(summary, t->brief_summary, 596), 0);
    free(summary);
    td_trial_free(t);
}

Test(trial_json, display_summary_cut_only_when_too_long)
{
    td_trial_t *t = new_trial();
    t->brief_summary = long_summary(t, "", "a", TD_TRIAL_JSON_SUMMARY_MAX);
    char *summary = display_summary(t);
    cr_assert_str_eq(summary, t->brief_summary);
    free(summary);

    t->brief_summary = long_summary(t, "", "a", TD_TRIAL_JSON_SUMMARY_MAX + 1);
    summary = display_summary(t);
    cr_assert_eq(strlen(summary), TD_TRIAL_JSON_SUMMARY_MAX);
    cr_assert_str_eq(summary + 597, "\xe2\x80\xa6");
    free(summary);

    /* White space before the cut goes: "aaa…", not "aaa …". */
    char text[700];
    memset(text, 'a', 590);
    memset(text + 590, ' ', 10);
    memset(text + 600, 'b', 50);
    text[650] = '\0';
    t->brief_summary = copy_text(t, text);
    summary = display_summary(t);
    cr_assert_eq(strlen(summary), 590 + 3);
    cr_assert_str_eq(summary + 590, "\xe2\x80\xa6");
    free(summary);

    /* The FULL view keeps the whole text. */
    char *full = to_json(t, TD_TRIAL_JSON_FULL);
    ASSERT_HAS(full, t->brief_summary);
    free(full);
    td_trial_free(t);
}

/* ---- absent values ---- */

Test(trial_json, an_empty_trial_writes_only_what_is_always_written)
{
    td_trial_t *t = new_trial();
    char *json = to_json(t, TD_TRIAL_JSON_FULL);
    cr_assert_str_eq(json, "{\"healthyVolunteers\":null,\"hasResults\":false}");
    free(json);
    json = to_json(t, TD_TRIAL_JSON_DISPLAY);
    cr_assert_str_eq(json, "{\"hasResults\":false}");
    free(json);
    td_trial_free(t);
}

Test(trial_json, date_precision_and_unspecified_type)
{
    td_trial_t *t = new_trial();
    t->start_date = (td_date_t){2023, 0, 0, TD_DATE_YEAR, TD_ACTUALITY_UNSPECIFIED};
    t->completion_date = (td_date_t){2023, 5, 0, TD_DATE_MONTH, TD_ACTUALITY_ESTIMATED};
    t->last_update_date = (td_date_t){2023, 5, 7, TD_DATE_DAY, TD_ACTUALITY_ACTUAL};
    t->enrollment = 0;
    t->healthy_volunteers = TD_YES;
    t->phases = TD_PHASE_NA | TD_PHASE_EARLY1 | TD_PHASE_4;
    char *json = to_json(t, TD_TRIAL_JSON_FULL);
    cr_assert_str_eq(json, "{\"healthyVolunteers\":true,"
                           "\"phases\":[\"NA\",\"EARLY_PHASE1\",\"PHASE4\"],"
                           "\"enrollment\":{\"count\":0,\"type\":null},"
                           "\"startDate\":{\"date\":\"2023\",\"type\":null},"
                           "\"completionDate\":{\"date\":\"2023-05\",\"type\":\"ESTIMATED\"},"
                           "\"lastUpdateDate\":{\"date\":\"2023-05-07\",\"type\":\"ACTUAL\"},"
                           "\"hasResults\":false}");
    free(json);
    td_trial_free(t);
}

Test(trial_json, coordinates_are_always_reals)
{
    td_trial_t *t = new_trial();
    t->locations = td_trial_calloc(t, 2, sizeof(*t->locations));
    cr_assert_not_null(t->locations);
    t->location_count = 2;
    t->locations[0] = (td_location_t){.city = "Equator", .has_geo = true, .longitude = -0.5};
    t->locations[1] = (td_location_t){.city = "Nowhere", .latitude = 1, .longitude = 2};
    char *json = to_json(t, TD_TRIAL_JSON_FULL);
    ASSERT_HAS(json, "\"locations\":[{\"city\":\"Equator\",\"lat\":0.0,\"lon\":-0.5},"
                     "{\"city\":\"Nowhere\"}]");
    free(json);
    td_trial_free(t);
}

Test(trial_json, invalid_utf8_is_bad_input)
{
    td_trial_t *t = new_trial();
    t->brief_title = "caf\xc3"; /* a character cut short */
    char *json = (char *) "unchanged";
    size_t len = 1;
    cr_assert_eq(td_trial_to_json(t, TD_TRIAL_JSON_FULL, &json, &len), TD_ERR_BAD_INPUT);
    cr_assert_null(json);
    cr_assert_eq(len, 0);
    cr_assert_eq(td_trial_to_json(t, TD_TRIAL_JSON_DISPLAY, &json, &len), TD_ERR_BAD_INPUT);
    char hash[17] = "x";
    cr_assert_eq(td_trial_content_hash(t, SEED, hash), TD_ERR_BAD_INPUT);
    cr_assert_str_eq(hash, "");

    /* A UTF-16 surrogate written as UTF-8 is not valid either. */
    t->brief_title = "\xed\xa0\x80";
    cr_assert_eq(td_trial_to_json(t, TD_TRIAL_JSON_FULL, &json, &len), TD_ERR_BAD_INPUT);
    td_trial_free(t);
}

/* ---- the content hash ---- */

Test(trial_json, fnv1a_known_vectors)
{
    cr_assert_eq(td_hash64("", 0, SEED), UINT64_C(0xcbf29ce484222325));
    cr_assert_eq(td_hash64("a", 1, SEED), UINT64_C(0xaf63dc4c8601ec8c));
    cr_assert_eq(td_hash64("foobar", 6, SEED), UINT64_C(0x85944171f73967e8));
    /* The seed replaces the offset basis, so hashing runs on from a prefix. */
    cr_assert_eq(td_hash64("bar", 3, td_hash64("foo", 3, SEED)), UINT64_C(0x85944171f73967e8));
    cr_assert_neq(td_hash64("a", 1, 1), td_hash64("a", 1, SEED));
}

static void content_hash(const td_trial_t *t, uint64_t seed, char out[17])
{
    cr_assert_eq(td_trial_content_hash(t, seed, out), TD_OK);
    cr_assert_eq(strlen(out), 16);
    cr_assert_eq(strspn(out, "0123456789abcdef"), 16, "%s", out);
}

Test(trial_json, content_hash_is_the_hash_of_the_full_json)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    char *json = to_json(run.trials[0], TD_TRIAL_JSON_FULL);
    char expected[17];
    snprintf(expected, sizeof(expected), "%016llx",
             (unsigned long long) td_hash64(json, strlen(json), SEED));
    char hash[17];
    content_hash(run.trials[0], SEED, hash);
    cr_assert_str_eq(hash, expected);

    /* Another seed, another hash. */
    char other[17];
    content_hash(run.trials[0], SEED + 1, other);
    cr_assert_str_neq(hash, other);
    free(json);
    td_test_run_free(&run);
}

Test(trial_json, same_record_twice_gives_the_same_bytes_and_hash)
{
    td_test_run_t first, second;
    read_fixture("json/full.json", &first);
    read_fixture("json/full.json", &second);
    for (int view = TD_TRIAL_JSON_FULL; view <= TD_TRIAL_JSON_DISPLAY; view++) {
        char *a = to_json(first.trials[0], (td_trial_json_view_t) view);
        char *b = to_json(second.trials[0], (td_trial_json_view_t) view);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
    }
    char hash_a[17], hash_b[17];
    content_hash(first.trials[0], SEED, hash_a);
    content_hash(second.trials[0], SEED, hash_b);
    cr_assert_str_eq(hash_a, hash_b);
    td_test_run_free(&first);
    td_test_run_free(&second);
}

Test(trial_json, changing_a_field_changes_the_hash)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    td_trial_t *t = run.trials[0];
    char before[17], after[17];
    content_hash(t, SEED, before);

    const char *title = t->brief_title;
    t->brief_title = copy_text(t, "Another Title");
    content_hash(t, SEED, after);
    cr_assert_str_neq(before, after);
    t->brief_title = title;
    content_hash(t, SEED, after);
    cr_assert_str_eq(before, after);

    /* A field far from the text: one site's coordinates. */
    t->locations[1].longitude += 1e-9;
    content_hash(t, SEED, after);
    cr_assert_str_neq(before, after);
    td_test_run_free(&run);
}

Test(trial_json, source_and_position_are_not_content)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    td_trial_t *t = run.trials[0];
    char *full = to_json(t, TD_TRIAL_JSON_FULL);
    char *display = to_json(t, TD_TRIAL_JSON_DISPLAY);
    char hash[17];
    content_hash(t, SEED, hash);

    t->source = copy_text(t, "elsewhere/archive.tar.xz!NCT09000001.json");
    t->position = copy_text(t, "study 7, line 12");
    char *full_moved = to_json(t, TD_TRIAL_JSON_FULL);
    char *display_moved = to_json(t, TD_TRIAL_JSON_DISPLAY);
    char hash_moved[17];
    content_hash(t, SEED, hash_moved);
    cr_assert_str_eq(full, full_moved);
    cr_assert_str_eq(display, display_moved);
    cr_assert_str_eq(hash, hash_moved);

    free(full);
    free(display);
    free(full_moved);
    free(display_moved);
    td_test_run_free(&run);
}

/* ---- real records ---- */

static int compare_hashes(const void *a, const void *b)
{
    return strcmp(a, b);
}

#define SHARED_JSONL TD_SHARED_DIR "/corpus/ctgov_api_v2_studies.jsonl.gz"

Test(trial_json, every_shared_record_serialises_and_hashes_apart, .timeout = 300)
{
    if (access(SHARED_JSONL, R_OK) != 0)
        cr_skip_test("shared corpus not found at %s; skipping the real-data check", SHARED_JSONL);
    td_test_run_t run;
    td_test_read_one(SHARED_JSONL, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_gt(run.trial_count, 0);
    char(*hashes)[17] = calloc(run.trial_count, sizeof(*hashes));
    cr_assert_not_null(hashes);
    for (size_t i = 0; i < run.trial_count; i++) {
        const td_trial_t *t = run.trials[i];
        char *full = to_json(t, TD_TRIAL_JSON_FULL);
        json_t *root = parse(full);
        for (size_t k = 0; k < t->location_count; k++) {
            if (!t->locations[k].has_geo)
                continue;
            json_t *site = json_array_get(json_object_get(root, "locations"), k);
            cr_assert_eq(json_real_value(json_object_get(site, "lat")), t->locations[k].latitude,
                         "%s site %zu", t->nct_id, k);
            cr_assert_eq(json_real_value(json_object_get(site, "lon")), t->locations[k].longitude,
                         "%s site %zu", t->nct_id, k);
        }
        json_decref(root);
        free(full);

        char *display = to_json(t, TD_TRIAL_JSON_DISPLAY);
        root = parse(display);
        const char *summary = json_string_value(json_object_get(root, "briefSummary"));
        if (summary)
            cr_assert_leq(strlen(summary), TD_TRIAL_JSON_SUMMARY_MAX, "%s", t->nct_id);
        json_decref(root);
        free(display);

        content_hash(t, SEED, hashes[i]);
    }
    /* Distinct records (the corpus has one per NCT ID) hash apart. */
    qsort(hashes, run.trial_count, sizeof(*hashes), compare_hashes);
    for (size_t i = 1; i < run.trial_count; i++)
        cr_assert_str_neq(hashes[i - 1], hashes[i]);
    free(hashes);
    td_test_run_free(&run);
}

Test(trial_json, packed_records_unpack_to_the_same_bytes_and_bad_bytes_are_refused)
{
    const char json[] = "{\"nctId\":\"NCT01234567\",\"briefTitle\":\"Ünïcode and \\\"quotes\\\"\"}";
    char *packed = NULL, *unpacked = NULL;
    size_t packed_len = 0, unpacked_len = 0;
    cr_assert_eq(td_trial_json_pack(json, strlen(json), &packed, &packed_len), TD_OK);
    cr_assert_eq(td_trial_json_unpack(packed, packed_len, &unpacked, &unpacked_len), TD_OK);
    cr_assert_eq(unpacked_len, strlen(json));
    cr_assert_str_eq(unpacked, json);
    free(unpacked);
    cr_assert_eq(td_trial_json_unpack(packed, 3, &unpacked, NULL), TD_ERR_CORRUPT);
    packed[packed_len - 1] ^= 0x55; /* a damaged checksum */
    cr_assert_eq(td_trial_json_unpack(packed, packed_len, &unpacked, NULL), TD_ERR_CORRUPT);
    free(packed);
}

/* ---- one member without parsing the rest ---- */

/* The member's value as td_trial_json_member finds it, as a string. */
static char *member(const char *json, const char *key, td_status_t expect)
{
    const char *value = NULL;
    size_t len = 0;
    cr_assert_eq(td_trial_json_member(json, strlen(json), key, &value, &len), expect, "%s in %s",
                 key, json);
    return expect == TD_OK ? strndup(value, len) : NULL;
}

Test(trial_json, a_member_is_found_without_parsing_the_rest)
{
    const char *json = " { \"a\" : 1 , \"text\":\"a \\\"locations\\\":[1] inside\\\\\","
                       "\"nested\":{\"locations\":[\"not this\"]},\"list\":[{\"x\":\"]}\"}],"
                       "\"locations\":[{\"city\":\"Boston\",\"lat\":42.36}] ,\"last\":true}";
    char *got = member(json, "locations", TD_OK);
    cr_assert_str_eq(got, "[{\"city\":\"Boston\",\"lat\":42.36}]");
    free(got);
    got = member(json, "a", TD_OK);
    cr_assert_str_eq(got, "1");
    free(got);
    got = member(json, "last", TD_OK);
    cr_assert_str_eq(got, "true");
    free(got);
    got = member(json, "nested", TD_OK);
    cr_assert_str_eq(got, "{\"locations\":[\"not this\"]}");
    free(got);
    member(json, "x", TD_ERR_NOT_FOUND);
    member(json, "city", TD_ERR_NOT_FOUND);
    member("{}", "locations", TD_ERR_NOT_FOUND);

    const char *bad[] = {"",         "[1]",          "{\"a\":1",      "{\"a\" 1}",
                         "{\"a\":}", "{\"a\":[1,2}", "{\"a\":\"open", "{\"a\":1 \"b\":2}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        member(bad[i], "b", TD_ERR_BAD_INPUT);
}

Test(trial_json, the_member_span_parses_as_the_whole_record_would_give_it)
{
    td_test_run_t run;
    read_fixture("json/full.json", &run);
    char *full = to_json(run.trials[0], TD_TRIAL_JSON_FULL);
    json_t *root = parse(full);
    const char *keys[] = {"locations", "nctId", "eligibilityCriteria", "interventions",
                          "hasResults"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *span = member(full, keys[i], TD_OK);
        json_t *alone = json_loads(span, JSON_DECODE_ANY, NULL);
        cr_assert(json_equal(alone, json_object_get(root, keys[i])), "%s", keys[i]);
        json_decref(alone);
        free(span);
    }
    json_decref(root);
    free(full);
    td_test_run_free(&run);
}
