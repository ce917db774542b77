/* test_format.c - printing results, records and query errors
 * (searcher/format.c).
 *
 * Results are built by hand, as td_search would fill them, and printed into
 * memory; each test reads the output as a user or a program would.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_format.h"

TestSuite(format);

#define ASSERT_HAS(text, fragment)                                                                 \
    cr_assert_not_null(strstr((text), (fragment)), "missing [%s] in\n%s", (fragment), (text))
#define ASSERT_LACKS(text, fragment)                                                               \
    cr_assert_null(strstr((text), (fragment)), "unexpected [%s] in\n%s", (fragment), (text))

/* Strings the result points to: the printer never writes through them. */
#define S(text) ((char *) (text))

/* ---- A result as td_search fills it -------------------------------------- */

static char display_1[] =
    "{\"nctId\":\"NCT09000001\",\"briefTitle\":\"Trastuzumab Deruxtecan in HER2-Low Breast "
    "Cancer\",\"acronym\":\"DESTINY-Low\",\"briefSummary\":\"Adults with HER2-low metastatic "
    "breast cancer.\",\"overallStatus\":\"RECRUITING\",\"phases\":[\"PHASE2\",\"PHASE3\"],"
    "\"studyType\":\"INTERVENTIONAL\",\"conditions\":[\"Breast Cancer\",\"HER2-low Breast "
    "Carcinoma\"],\"interventionNames\":[\"Trastuzumab deruxtecan\",\"Capecitabine\"],"
    "\"startDate\":{\"date\":\"2023-05-17\",\"type\":\"ACTUAL\"},\"lastUpdateDate\":{\"date\":"
    "\"2024-06-01\",\"type\":\"ACTUAL\"},\"enrollment\":{\"count\":557,\"type\":\"ESTIMATED\"},"
    "\"sex\":\"ALL\",\"minimumAge\":\"18 Years\",\"leadSponsor\":\"Daiichi Sankyo\","
    "\"hasResults\":false}";

/* A title with a comma and quotes, a condition with a comma, and more
 * interventions than a line holds. */
static char display_2[] =
    "{\"nctId\":\"NCT09000002\",\"briefTitle\":\"Palbociclib, \\\"Ibrance\\\", With "
    "Letrozole\",\"overallStatus\":\"NOT_YET_RECRUITING\",\"phases\":[\"EARLY_PHASE1\"],"
    "\"conditions\":[\"Breast Cancer, Metastatic\",\"ER+\"],\"interventionNames\":["
    "\"Palbociclib 125 mg orally once daily on days 1-21 of each 28-day cycle\","
    "\"Letrozole 2.5 mg orally once daily\",\"Goserelin 3.6 mg subcutaneous implant\","
    "\"Denosumab\",\"Zoledronic acid\"],\"hasResults\":false}";

/* What an index of a broken build might hold: the hit must still print. */
static char display_3[] = "{\"nctId\":";

static char snippet_text[] = "Adults with HER2-low metastatic breast cancer receive trastuzumab "
                             "deruxtecan every three weeks\xe2\x80\xa6";

static td_span_t spans[3];
static td_match_t matches[4];
static td_hit_t hits[3];
static td_facet_value_t status_values[2];
static td_facet_value_t phase_values[3];
static td_facet_value_t country_values[12];
static char country_names[12][32];
static td_suggestion_t suggestions[1];
static td_search_result_t result;

static td_span_t span_of(const char *text, const char *word)
{
    const char *at = strstr(text, word);
    cr_assert_not_null(at, "%s not in %s", word, text);
    td_span_t span = {(uint32_t) (at - text), (uint32_t) (at - text + strlen(word))};
    return span;
}

/* Three hits (the third with a record that does not parse), facets, no
 * suggestion, not partial. */
static td_search_result_t *sample(void)
{
    spans[0] = span_of(snippet_text, "HER2-low");
    spans[1] = span_of(snippet_text, "breast");
    spans[2] = span_of(snippet_text, "cancer");

    matches[0] = (td_match_t){"title", S("trastuzumab deruxtecan"), S("T-DXd"), NULL};
    matches[1] = (td_match_t){"condition", S("HER2-low"), S("HER2-low"), NULL};
    matches[2] =
        (td_match_t){"intervention", S("trastuzumab deruxtecan"), S("T-DXd"), S("DS-8201a")};
    matches[3] = (td_match_t){"title", S("breast"), S("breast"), NULL};

    hits[0] = (td_hit_t){.rank = 1,
                         .docid = 7,
                         .weight = 12.5,
                         .display = display_1,
                         .has_distance = true,
                         .distance_km = 12.34,
                         .nearest_site = S("Memorial Sloan Kettering, New York, United States"),
                         .matches = matches,
                         .match_count = 4,
                         .snippet = {"summary", snippet_text, spans, 3}};
    hits[1] = (td_hit_t){.rank = 2, .docid = 3, .weight = 9.25, .display = display_2};
    hits[2] = (td_hit_t){.rank = 3, .docid = 9, .weight = 1, .display = display_3};

    status_values[0] = (td_facet_value_t){S("recruiting"), 2};
    status_values[1] = (td_facet_value_t){S("not_yet_recruiting"), 1};
    phase_values[0] = (td_facet_value_t){S("phase2"), 1};
    phase_values[1] = (td_facet_value_t){S("phase3"), 1};
    phase_values[2] = (td_facet_value_t){S("early_phase1"), 1};
    for (size_t i = 0; i < 12; i++) {
        snprintf(country_names[i], sizeof(country_names[i]), "country %02zu", i + 1);
        country_values[i] = (td_facet_value_t){country_names[i], (uint32_t) (40 - i)};
    }

    memset(&result, 0, sizeof(result));
    result.total = 3;
    result.revision = 42;
    result.hits = hits;
    result.hit_count = 3;
    result.has_facets = true;
    result.facets[TD_FACET_STATUS] = (td_facet_counts_t){status_values, 2};
    result.facets[TD_FACET_PHASE] = (td_facet_counts_t){phase_values, 3};
    result.facets[TD_FACET_COUNTRY] = (td_facet_counts_t){country_values, 12};
    result.seconds = 0.0125;
    return &result;
}

/* The sample with nothing matching every word, and a spelling suggestion. */
static td_search_result_t *partial_sample(void)
{
    td_search_result_t *r = sample();
    suggestions[0] = (td_suggestion_t){S("palbocilib"), S("palbociclib")};
    r->partial = true;
    r->suggestions = suggestions;
    r->suggestion_count = 1;
    return r;
}

/* Renders into memory, asserting success; free() the text. */
static char *render(const td_search_result_t *r, td_render_options_t options)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    cr_assert_eq(td_render_result(out, r, &options), TD_OK);
    cr_assert_eq(fclose(out), 0);
    return text;
}

static td_render_options_t options_for(td_output_format_t format)
{
    td_render_options_t options = {.format = format, .query = "T-DXd HER2-low breast"};
    return options;
}

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    cr_assert_not_null(root, "%s at %d:%d in\n%s", error.text, error.line, error.column, text);
    cr_assert(json_is_object(root));
    return root;
}

static const char *string_at(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    cr_assert(json_is_string(value), "%s is not a string", key);
    return json_string_value(value);
}

/* ---- Format names ---------------------------------------------------------- */

Test(format, names_parse_back)
{
    const td_output_format_t all[] = {TD_OUTPUT_TEXT, TD_OUTPUT_JSON, TD_OUTPUT_CSV, TD_OUTPUT_IDS};
    for (size_t i = 0; i < 4; i++) {
        td_output_format_t parsed = TD_OUTPUT_TEXT;
        cr_assert(td_output_format_parse(td_output_format_name(all[i]), &parsed));
        cr_assert_eq(parsed, all[i]);
    }
    td_output_format_t parsed;
    cr_assert_not(td_output_format_parse("xml", &parsed));
    cr_assert_not(td_output_format_parse("", &parsed));
    cr_assert_str_eq(td_output_format_name(TD_OUTPUT_CSV), "csv");
}

/* ---- text -------------------------------------------------------------------- */

Test(format, text_shows_each_hit_readably)
{
    char *text = render(sample(), options_for(TD_OUTPUT_TEXT));
    ASSERT_HAS(text, "3 trials match, showing 1-3 (index revision 42, 0.013 s)\n");
    ASSERT_HAS(text, "\n1. NCT09000001  Trastuzumab Deruxtecan in HER2-Low Breast Cancer "
                     "(DESTINY-Low)\n");
    ASSERT_HAS(text, "\n   Recruiting \xc2\xb7 Phase 2/Phase 3 \xc2\xb7 557 planned \xc2\xb7 "
                     "Daiichi Sankyo \xc2\xb7 updated 2024-06-01\n");
    ASSERT_HAS(text, "\n   Conditions: Breast Cancer; HER2-low Breast Carcinoma\n");
    ASSERT_HAS(text, "\n   Interventions: Trastuzumab deruxtecan; Capecitabine\n");
    ASSERT_HAS(text,
               "\n   Nearest site: Memorial Sloan Kettering, New York, United States (12.3 km)\n");
    ASSERT_HAS(text, "\n2. NCT09000002  Palbociclib, \"Ibrance\", With Letrozole\n");
    ASSERT_HAS(text, "\n   Not yet recruiting \xc2\xb7 Early Phase 1\n");
    /* a hit without a distance has no site line */
    cr_assert_eq(strstr(strstr(text, "\n2. "), "Nearest site"), NULL);
    ASSERT_HAS(text, "\n3. (this trial's stored record could not be read)\n");
    /* without explain, facets or colour: none of them */
    ASSERT_LACKS(text, "why:");
    ASSERT_LACKS(text, "Facets:");
    ASSERT_LACKS(text, "\x1b");
    ASSERT_LACKS(text, "Partial matches");
    free(text);
}

Test(format, text_marks_snippet_words_in_brackets_without_colour)
{
    char *text = render(sample(), options_for(TD_OUTPUT_TEXT));
    /* adjacent matched words are marked as one */
    ASSERT_HAS(text, "\n   summary: Adults with [HER2-low] metastatic [breast cancer] receive "
                     "trastuzumab deruxtecan every three weeks\xe2\x80\xa6\n");
    free(text);
}

Test(format, text_colours_only_when_asked)
{
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    options.color = true;
    char *text = render(sample(), options);
    ASSERT_HAS(text, "\x1b[1;31mHER2-low\x1b[0m");
    ASSERT_HAS(text, "\x1b[1;31mbreast cancer\x1b[0m");
    ASSERT_LACKS(text, "[HER2-low]");
    ASSERT_HAS(text, "\x1b[32mRecruiting\x1b[0m");
    ASSERT_HAS(text, "\x1b[1mNCT09000001\x1b[0m");
    free(text);
}

Test(format, text_shortens_long_intervention_lists)
{
    char *text = render(sample(), options_for(TD_OUTPUT_TEXT));
    ASSERT_HAS(text, "\n   Interventions: Palbociclib 125 mg orally once daily on days 1-21 of "
                     "each 28-day cycle (+4 more)\n");
    ASSERT_LACKS(text, "Letrozole 2.5");
    free(text);
}

Test(format, text_explains_matches_by_field)
{
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    options.explain = true;
    char *text = render(sample(), options);
    ASSERT_HAS(text, "\n   why: title: trastuzumab deruxtecan (from \"T-DXd\"), breast\n"
                     "        condition: HER2-low\n"
                     "        intervention: trastuzumab deruxtecan (from \"T-DXd\", matched via "
                     "\"DS-8201a\")\n");
    free(text);
}

Test(format, text_labels_partial_matches_and_suggests)
{
    char *text = render(partial_sample(), options_for(TD_OUTPUT_TEXT));
    const char *label =
        "Partial matches: not every word is required; trials with more of them rank first.\n";
    cr_assert_eq(strncmp(text, label, strlen(label)), 0, "%s", text);
    ASSERT_HAS(text, "3 trials match some of the words, showing 1-3");
    ASSERT_HAS(text, "\nDid you mean: palbociclib? (no trial has \"palbocilib\")\n");
    free(text);
}

Test(format, text_prints_facets_when_asked)
{
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    options.facets = true;
    char *text = render(sample(), options);
    ASSERT_HAS(text, "\nFacets:\n");
    ASSERT_HAS(text, "\n  status            recruiting (2), not_yet_recruiting (1)\n");
    ASSERT_HAS(text, "\n  phase             phase2 (1), phase3 (1), early_phase1 (1)\n");
    /* country: the top 10 */
    ASSERT_HAS(text, "\n  country           country 01 (40), country 02 (39), ");
    ASSERT_HAS(text, "country 10 (31), +2 more\n");
    ASSERT_LACKS(text, "country 11");
    /* an empty facet has no line */
    ASSERT_LACKS(text, "  sex ");
    free(text);
}

Test(format, text_facets_need_counts_in_the_result)
{
    td_search_result_t *r = sample();
    r->has_facets = false;
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    options.facets = true;
    char *text = render(r, options);
    ASSERT_LACKS(text, "Facets:");
    free(text);
}

Test(format, text_ends_with_the_next_page_token)
{
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    options.next_page_token = "r42.o10.abc";
    char *text = render(sample(), options);
    const char *footer = "\nNext page token: r42.o10.abc\n";
    size_t len = strlen(text);
    cr_assert(len > strlen(footer));
    cr_assert_str_eq(text + len - strlen(footer), footer);
    free(text);
}

Test(format, text_says_when_nothing_matches)
{
    td_search_result_t empty = {.revision = 5};
    char *text = render(&empty, options_for(TD_OUTPUT_TEXT));
    cr_assert_str_eq(text, "No trials match (index revision 5, 0.000 s)\n");
    free(text);
}

Test(format, text_keeps_control_characters_of_records_off_the_terminal)
{
    char display[] = "{\"nctId\":\"NCT09000009\",\"briefTitle\":\"Evil\\u001b[2J title\\r\\n"
                     "on two lines\\u009b\"}";
    td_hit_t hit = {.rank = 1, .display = display};
    td_search_result_t r = {.total = 1, .hits = &hit, .hit_count = 1};
    char *text = render(&r, options_for(TD_OUTPUT_TEXT));
    ASSERT_LACKS(text, "\x1b");
    ASSERT_LACKS(text, "\xc2\x9b");
    ASSERT_HAS(text, "1. NCT09000009  Evil [2J title on two lines\n");
    free(text);
}

/* ---- json ---------------------------------------------------------------------- */

Test(format, json_is_one_line_that_parses_back)
{
    char *text = render(sample(), options_for(TD_OUTPUT_JSON));
    size_t len = strlen(text);
    cr_assert(len > 2 && text[len - 1] == '\n' && text[len - 2] != '\n');
    cr_assert_eq(strchr(text, '\n'), text + len - 1, "more than one line:\n%s", text);

    json_t *root = parse(text);
    cr_assert_str_eq(string_at(root, "query"), "T-DXd HER2-low breast");
    cr_assert_eq(json_integer_value(json_object_get(root, "total")), 3);
    cr_assert_eq(json_integer_value(json_object_get(root, "revision")), 42);
    cr_assert(json_is_false(json_object_get(root, "partial")));
    cr_assert_float_eq(json_real_value(json_object_get(root, "seconds")), 0.0125, 1e-12);
    /* absent rather than null */
    cr_assert_null(json_object_get(root, "facets"));
    cr_assert_null(json_object_get(root, "suggestions"));
    cr_assert_null(json_object_get(root, "next_page_token"));

    json_t *hits_json = json_object_get(root, "hits");
    cr_assert_eq(json_array_size(hits_json), 3);
    json_t *first = json_array_get(hits_json, 0);
    cr_assert_eq(json_integer_value(json_object_get(first, "rank")), 1);
    cr_assert_str_eq(string_at(first, "nct_id"), "NCT09000001");
    cr_assert_str_eq(string_at(first, "title"), "Trastuzumab Deruxtecan in HER2-Low Breast Cancer");
    cr_assert_str_eq(string_at(first, "status"), "RECRUITING");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(first, "phases"), 1)),
                     "PHASE3");
    cr_assert_eq(json_array_size(json_object_get(first, "conditions")), 2);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(first, "interventions"), 0)),
                     "Trastuzumab deruxtecan");
    cr_assert_float_eq(json_number_value(json_object_get(first, "score")), 12.5, 1e-12);
    cr_assert_float_eq(json_number_value(json_object_get(first, "distance_km")), 12.34, 1e-12);
    cr_assert_str_eq(string_at(first, "nearest_site"),
                     "Memorial Sloan Kettering, New York, United States");

    json_t *snippet = json_object_get(first, "snippet");
    cr_assert_str_eq(string_at(snippet, "field"), "summary");
    cr_assert_str_eq(string_at(snippet, "text"), snippet_text);
    json_t *highlights = json_object_get(snippet, "highlights");
    cr_assert_eq(json_array_size(highlights), 3);
    json_t *span = json_array_get(highlights, 0);
    cr_assert_eq(json_integer_value(json_array_get(span, 0)), spans[0].start);
    cr_assert_eq(json_integer_value(json_array_get(span, 1)), spans[0].end);

    json_t *matches_json = json_object_get(first, "matches");
    cr_assert_eq(json_array_size(matches_json), 4);
    json_t *expansion = json_array_get(matches_json, 2);
    cr_assert_str_eq(string_at(expansion, "field"), "intervention");
    cr_assert_str_eq(string_at(expansion, "term"), "trastuzumab deruxtecan");
    cr_assert_str_eq(string_at(expansion, "query"), "T-DXd");
    cr_assert_str_eq(string_at(expansion, "via"), "DS-8201a");
    cr_assert_null(json_object_get(json_array_get(matches_json, 0), "via"));

    json_t *record = json_object_get(first, "record");
    cr_assert_str_eq(string_at(record, "nctId"), "NCT09000001");
    cr_assert_str_eq(string_at(record, "minimumAge"), "18 Years");

    /* no distance, snippet or matches: no keys for them */
    json_t *second = json_array_get(hits_json, 1);
    cr_assert_str_eq(string_at(second, "title"), "Palbociclib, \"Ibrance\", With Letrozole");
    cr_assert_null(json_object_get(second, "distance_km"));
    cr_assert_null(json_object_get(second, "nearest_site"));
    cr_assert_null(json_object_get(second, "snippet"));
    cr_assert_null(json_object_get(second, "matches"));

    /* a record that does not parse: the hit is there, without its record */
    json_t *third = json_array_get(hits_json, 2);
    cr_assert_eq(json_integer_value(json_object_get(third, "rank")), 3);
    cr_assert_null(json_object_get(third, "record"));
    cr_assert_null(json_object_get(third, "nct_id"));
    json_decref(root);
    free(text);
}

/* The sample as the answer to a description of a 62-year-old woman, whom
 * the second hit's limits rule out. */
static td_search_result_t *patient_sample(void)
{
    td_search_result_t *r = sample();
    r->has_patient = true;
    r->patient = (td_patient_t){62, "years", 22645, TD_SEX_FEMALE};
    hits[1].rules_out_patient = true;
    return r;
}

Test(format, text_names_the_patient_and_the_trials_that_rule_them_out)
{
    char *text = render(patient_sample(), options_for(TD_OUTPUT_TEXT));
    ASSERT_HAS(text, "Patient: 62 years, female. Trials whose age and sex limits admit them "
                     "rank first.\n3 trials match");
    const char *second = strstr(text, "\n2. ");
    const char *third = strstr(text, "\n3. ");
    const char *line = "Its age or sex limits rule the patient out\n";
    const char *mark = strstr(text, line);
    cr_assert(second && third && mark, "%s", text);
    cr_assert(mark > second && mark < third, "only under the second hit:\n%s", text);
    cr_assert_null(strstr(mark + strlen(line), line), "%s", text);
    free(text);

    td_search_result_t *r = patient_sample();
    r->patient = (td_patient_t){1, "years", 365, TD_SEX_UNSET};
    text = render(r, options_for(TD_OUTPUT_TEXT));
    ASSERT_HAS(text, "Patient: 1 year. Trials");
    free(text);
}

Test(format, json_holds_the_patient_and_whether_each_hit_admits_them)
{
    char *text = render(patient_sample(), options_for(TD_OUTPUT_JSON));
    json_t *root = parse(text);
    json_t *patient = json_object_get(root, "patient");
    cr_assert_eq(json_integer_value(json_object_get(patient, "age")), 62);
    cr_assert_str_eq(string_at(patient, "age_unit"), "years");
    cr_assert_str_eq(string_at(patient, "sex"), "female");
    json_t *hits_json = json_object_get(root, "hits");
    cr_assert(json_is_true(json_object_get(json_array_get(hits_json, 0), "admits_patient")));
    cr_assert(json_is_false(json_object_get(json_array_get(hits_json, 1), "admits_patient")));
    json_decref(root);
    free(text);

    /* No patient: neither key. */
    text = render(sample(), options_for(TD_OUTPUT_JSON));
    ASSERT_LACKS(text, "patient");
    free(text);
}

Test(format, json_holds_facets_suggestions_and_the_next_page)
{
    td_render_options_t options = options_for(TD_OUTPUT_JSON);
    options.facets = true;
    options.next_page_token = "r42.o10.abc";
    char *text = render(partial_sample(), options);
    json_t *root = parse(text);
    cr_assert(json_is_true(json_object_get(root, "partial")));

    json_t *facets = json_object_get(root, "facets");
    cr_assert(json_is_object(facets));
    cr_assert_eq(json_object_size(facets), TD_FACET_COUNT);
    json_t *status = json_object_get(facets, "status");
    cr_assert_eq(json_array_size(status), 2);
    cr_assert_str_eq(string_at(json_array_get(status, 0), "value"), "recruiting");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(status, 0), "count")), 2);
    /* every value, not the text layout's top 10 */
    cr_assert_eq(json_array_size(json_object_get(facets, "country")), 12);
    cr_assert_eq(json_array_size(json_object_get(facets, "sex")), 0);

    json_t *suggestion = json_array_get(json_object_get(root, "suggestions"), 0);
    cr_assert_str_eq(string_at(suggestion, "word"), "palbocilib");
    cr_assert_str_eq(string_at(suggestion, "suggestion"), "palbociclib");
    cr_assert_str_eq(string_at(root, "next_page_token"), "r42.o10.abc");
    json_decref(root);
    free(text);
}

Test(format, json_stays_valid_with_invalid_utf8)
{
    char bad[] = "caf\xe9 au lait";
    td_hit_t hit = {.rank = 1, .display = display_1, .snippet = {"summary", bad, NULL, 0}};
    td_search_result_t r = {.total = 1, .hits = &hit, .hit_count = 1};
    char *text = render(&r, options_for(TD_OUTPUT_JSON));
    json_t *root = parse(text);
    json_t *snippet = json_object_get(json_array_get(json_object_get(root, "hits"), 0), "snippet");
    cr_assert_str_eq(string_at(snippet, "text"), "caf\xef\xbf\xbd au lait");
    json_decref(root);
    free(text);
}

/* ---- csv and ids ------------------------------------------------------------------ */

Test(format, csv_quotes_as_rfc_4180)
{
    char *text = render(sample(), options_for(TD_OUTPUT_CSV));
    cr_assert_str_eq(
        text,
        "rank,nct_id,title,status,phases,conditions,interventions,score,distance_km\n"
        "1,NCT09000001,Trastuzumab Deruxtecan in HER2-Low Breast Cancer,RECRUITING,PHASE2; PHASE3,"
        "Breast Cancer; HER2-low Breast Carcinoma,Trastuzumab deruxtecan; Capecitabine,12.5,"
        "12.340\n"
        "2,NCT09000002,\"Palbociclib, \"\"Ibrance\"\", With Letrozole\",NOT_YET_RECRUITING,"
        "EARLY_PHASE1,\"Breast Cancer, Metastatic; ER+\",Palbociclib 125 mg orally once daily on "
        "days 1-21 of each 28-day cycle; Letrozole 2.5 mg orally once daily; Goserelin 3.6 mg "
        "subcutaneous implant; Denosumab; Zoledronic acid,9.25,\n"
        "3,,,,,,,1,\n");
    free(text);
}

Test(format, csv_quotes_line_breaks)
{
    char display[] = "{\"nctId\":\"NCT09000009\",\"briefTitle\":\"Two\\nlines\"}";
    td_hit_t hit = {.rank = 1, .weight = 2, .display = display};
    td_search_result_t r = {.total = 1, .hits = &hit, .hit_count = 1};
    char *text = render(&r, options_for(TD_OUTPUT_CSV));
    ASSERT_HAS(text, "\n1,NCT09000009,\"Two\nlines\",,,,,2,\n");
    free(text);
}

Test(format, ids_are_one_per_line_and_nothing_else)
{
    td_render_options_t options = options_for(TD_OUTPUT_IDS);
    options.facets = true;
    options.explain = true;
    options.next_page_token = "r42.o10.abc";
    char *text = render(partial_sample(), options);
    cr_assert_str_eq(text, "NCT09000001\nNCT09000002\n");
    free(text);
}

/* ---- Records ---------------------------------------------------------------------- */

static const char full_record[] =
    "{\"nctId\":\"NCT09000001\",\"briefTitle\":\"Trastuzumab Deruxtecan in HER2-Low Breast "
    "Cancer\",\"officialTitle\":\"A Phase 2/3 Study of T-DXd\",\"acronym\":\"DESTINY-Low\","
    "\"nctIdAliases\":[\"NCT08000001\"],\"orgStudyId\":\"DS8201-A-U999\",\"secondaryIds\":["
    "\"2023-000001-11\"],\"briefSummary\":\"Adults with HER2-low breast cancer.\","
    "\"detailedDescription\":\"First paragraph.\\n\\nSecond paragraph.\",\"conditions\":["
    "\"Breast Cancer\"],\"keywords\":[\"HER2-low\",\"ADC\"],\"conditionMeshTerms\":[\"Breast "
    "Neoplasms\"],\"interventions\":[{\"type\":\"DRUG\",\"name\":\"Trastuzumab deruxtecan\","
    "\"description\":\"5.4 mg/kg IV every 3 weeks\",\"otherNames\":[\"T-DXd\",\"DS-8201a\"],"
    "\"armGroupLabels\":[\"T-DXd arm\"]},{\"type\":\"DIETARY_SUPPLEMENT\",\"name\":\"Vitamin "
    "D\"}],\"armGroups\":[{\"label\":\"T-DXd arm\",\"type\":\"EXPERIMENTAL\",\"description\":"
    "\"Patients receive T-DXd.\",\"interventionNames\":[\"Drug: Trastuzumab deruxtecan\"]}],"
    "\"primaryOutcomes\":[{\"measure\":\"Progression-free survival\",\"description\":\"Time to "
    "progression.\",\"timeFrame\":\"Up to 36 months\"}],\"secondaryOutcomes\":[{\"measure\":"
    "\"Overall survival\"}],\"eligibilityCriteria\":\"Inclusion Criteria:\\n\\n* Age \xe2\x89\xa5 "
    "18\\n  * nested item\\n\\nExclusion Criteria:\\n\\n* Prior T-DXd\",\"sex\":\"FEMALE\","
    "\"minimumAge\":{\"value\":18,\"unit\":\"YEARS\",\"days\":6574},\"maximumAge\":{\"value\":1,"
    "\"unit\":\"YEARS\",\"days\":365},\"healthyVolunteers\":false,\"stdAges\":[\"ADULT\","
    "\"OLDER_ADULT\"],\"overallStatus\":\"ACTIVE_NOT_RECRUITING\",\"phases\":[\"PHASE2\","
    "\"PHASE3\"],\"studyType\":\"INTERVENTIONAL\",\"design\":{\"allocation\":\"RANDOMIZED\","
    "\"primaryPurpose\":\"TREATMENT\",\"masking\":\"NONE\"},\"enrollment\":{\"count\":557,"
    "\"type\":\"ESTIMATED\"},\"startDate\":{\"date\":\"2023-05-17\",\"type\":\"ACTUAL\"},"
    "\"primaryCompletionDate\":{\"date\":\"2026-01\",\"type\":\"ESTIMATED\"},\"lastUpdateDate\":"
    "{\"date\":\"2024-06-01\",\"type\":\"ACTUAL\"},\"leadSponsor\":{\"name\":\"Daiichi Sankyo\","
    "\"class\":\"INDUSTRY\"},\"collaborators\":[{\"name\":\"National Cancer Institute (NCI)\","
    "\"class\":\"NIH\"}],\"locations\":[{\"facility\":\"Memorial Sloan Kettering\",\"city\":"
    "\"New York\",\"state\":\"New York\",\"zip\":\"10065\",\"country\":\"United States\","
    "\"status\":\"RECRUITING\",\"lat\":40.76,\"lon\":-73.95},{\"city\":\"Shanghai\",\"country\":"
    "\"China\"}],\"hasResults\":false}";

static char *render_record(const char *json, td_output_format_t format, bool color)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    cr_assert_eq(td_render_record(out, json, format, color), TD_OK);
    cr_assert_eq(fclose(out), 0);
    return text;
}

Test(format, record_text_shows_every_field)
{
    char *text = render_record(full_record, TD_OUTPUT_TEXT, false);
    const char *expected[] = {
        "NCT09000001  Trastuzumab Deruxtecan in HER2-Low Breast Cancer\n",
        "\nOfficial title: A Phase 2/3 Study of T-DXd\n",
        "\nAcronym: DESTINY-Low\n",
        "\nAlso known as: NCT08000001\n",
        "\nOrg study ID: DS8201-A-U999\n",
        "\nSecondary IDs: 2023-000001-11\n",
        "\n\nStatus and design\nStatus: Active, not recruiting\n",
        "\nPhases: Phase 2/Phase 3\n",
        "\nStudy type: Interventional\n",
        "\nDesign: allocation Randomized; purpose Treatment; masking None\n",
        "\nEnrollment: 557 (estimated)\n",
        "\nStart: 2023-05-17\n",
        "\nPrimary completion: 2026-01 (estimated)\n",
        "\nLast update: 2024-06-01\n",
        "\nResults posted: no\n",
        "\nSponsor: Daiichi Sankyo (Industry)\n",
        "\nCollaborators: National Cancer Institute (NCI) (NIH)\n",
        "\n\nConditions and keywords\nConditions: Breast Cancer\nKeywords: HER2-low; ADC\n",
        "\nCondition MeSH terms: Breast Neoplasms\n",
        "\nSummary\nAdults with HER2-low breast cancer.\n",
        "\nDescription\nFirst paragraph.\n\nSecond paragraph.\n",
        "\nInterventions\n- Drug: Trastuzumab deruxtecan\n  Other names: T-DXd; DS-8201a\n"
        "  Arms: T-DXd arm\n  5.4 mg/kg IV every 3 weeks\n- Dietary supplement: Vitamin D\n",
        "\nArms\n- Experimental: T-DXd arm\n  Interventions: Drug: Trastuzumab deruxtecan\n"
        "  Patients receive T-DXd.\n",
        "\nPrimary outcomes\n- Progression-free survival\n  Time frame: Up to 36 months\n"
        "  Time to progression.\n",
        "\nSecondary outcomes\n- Overall survival\n",
        "\nSex: Female\n",
        "\nAges: 18 Years to 1 Year\n",
        "\nAge groups: Adult, Older adult\n",
        "\nHealthy volunteers: no\n",
        /* the criteria verbatim */
        "\nCriteria:\nInclusion Criteria:\n\n* Age \xe2\x89\xa5 18\n  * nested item\n\n"
        "Exclusion Criteria:\n\n* Prior T-DXd\n",
        "\nLocations (2)\n- Memorial Sloan Kettering, New York, New York 10065, United States "
        "\xc2\xb7 Recruiting [40.76, -73.95]\n- Shanghai, China\n",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        ASSERT_HAS(text, expected[i]);
    ASSERT_LACKS(text, "\x1b");
    free(text);
}

Test(format, record_text_colours_only_when_asked)
{
    char *text = render_record(full_record, TD_OUTPUT_TEXT, true);
    ASSERT_HAS(text, "\x1b[1mNCT09000001\x1b[0m");
    ASSERT_HAS(text, "\x1b[33mActive, not recruiting\x1b[0m");
    free(text);
}

Test(format, record_json_is_the_record_indented)
{
    char *text = render_record(full_record, TD_OUTPUT_JSON, false);
    cr_assert_eq(strncmp(text, "{\n  \"nctId\": \"NCT09000001\",\n", 28), 0, "%s", text);
    size_t len = strlen(text);
    cr_assert_str_eq(text + len - 3, "\n}\n");
    json_t *printed = parse(text);
    json_t *original = parse(full_record);
    cr_assert(json_equal(printed, original));
    json_decref(printed);
    json_decref(original);
    free(text);
}

Test(format, record_ids_and_csv)
{
    char *ids = render_record(full_record, TD_OUTPUT_IDS, true);
    cr_assert_str_eq(ids, "NCT09000001\n");
    free(ids);
    char *csv = render_record(full_record, TD_OUTPUT_CSV, false);
    cr_assert_str_eq(csv, "nct_id,title,status,phases,conditions,interventions\n"
                          "NCT09000001,Trastuzumab Deruxtecan in HER2-Low Breast Cancer,"
                          "ACTIVE_NOT_RECRUITING,PHASE2; PHASE3,Breast Cancer,"
                          "Trastuzumab deruxtecan; Vitamin D\n");
    free(csv);
}

Test(format, record_that_does_not_parse_is_bad_input)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(td_render_record(out, "{\"nctId\":", TD_OUTPUT_TEXT, false), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_render_record(out, "[1,2]", TD_OUTPUT_JSON, false), TD_ERR_BAD_INPUT);
    cr_assert_eq(fclose(out), 0);
    cr_assert_str_eq(text, "");
    free(text);
}

/* ---- Query errors ------------------------------------------------------------------ */

static char *render_error(const char *query, size_t position, const char *message, const char *hint,
                          bool color)
{
    td_query_error_t error = {.position = position};
    snprintf(error.message, sizeof(error.message), "%s", message);
    snprintf(error.hint, sizeof(error.hint), "%s", hint);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    cr_assert_eq(td_render_query_error(out, query, &error, color), TD_OK);
    cr_assert_eq(fclose(out), 0);
    return text;
}

Test(format, query_error_layout)
{
    char *text = render_error("titel:cancer", 0, "unknown field 'titel:'",
                              "fields are title:, cond:, drug:, ...", false);
    cr_assert_str_eq(text, "error: unknown field 'titel:' (at character 1)\n"
                           "  titel:cancer\n"
                           "  ^\n"
                           "hint: fields are title:, cond:, drug:, ...\n");
    free(text);
}

Test(format, query_error_caret_counts_characters_not_bytes)
{
    /* "précoce" is 8 bytes, 7 characters */
    const char *query = "précoce NEAR/x";
    size_t position = (size_t) (strchr(query, '/') - query);
    cr_assert_eq(position, 13);
    char *text = render_error(query, position, "NEAR/ needs a number", "", false);
    cr_assert_str_eq(text, "error: NEAR/ needs a number (at character 13)\n"
                           "  précoce NEAR/x\n"
                           "              ^\n");
    free(text);
}

Test(format, query_error_caret_under_wide_characters)
{
    /* three CJK characters, two columns each */
    const char *query = "乳腺癌 titel:x";
    char *text = render_error(query, strlen("乳腺癌 "), "unknown field 'titel:'", "", false);
    cr_assert_str_eq(text, "error: unknown field 'titel:' (at character 5)\n"
                           "  乳腺癌 titel:x\n"
                           "         ^\n");
    free(text);
}

Test(format, query_error_keeps_the_caret_aligned_past_control_characters)
{
    char *text = render_error("a\tb\n:x", 5, "empty field", "", false);
    cr_assert_str_eq(text, "error: empty field (at character 6)\n"
                           "  a b :x\n"
                           "       ^\n");
    free(text);
}

Test(format, query_error_at_the_end)
{
    char *text = render_error("(cancer", 99, "missing ')'", "close the group", false);
    cr_assert_str_eq(text, "error: missing ')' (at character 8)\n"
                           "  (cancer\n"
                           "         ^\n"
                           "hint: close the group\n");
    free(text);
}

Test(format, query_error_colour_only_when_asked)
{
    char *plain = render_error("x:", 0, "bad", "hint", false);
    ASSERT_LACKS(plain, "\x1b");
    free(plain);
    char *text = render_error("x:", 0, "bad", "hint", true);
    const char *start = "\x1b[1;31merror:\x1b[0m bad (at character 1)\n";
    cr_assert_eq(strncmp(text, start, strlen(start)), 0, "%s", text);
    free(text);
}

/* ---- Write failures ------------------------------------------------------------------ */

Test(format, write_failure_is_an_io_error)
{
    FILE *out = fopen("/dev/null", "r"); /* every write fails */
    cr_assert_not_null(out);
    td_render_options_t options = options_for(TD_OUTPUT_TEXT);
    cr_assert_eq(td_render_result(out, sample(), &options), TD_ERR_IO);
    options.format = TD_OUTPUT_JSON;
    cr_assert_eq(td_render_result(out, sample(), &options), TD_ERR_IO);
    cr_assert_eq(td_render_record(out, full_record, TD_OUTPUT_TEXT, false), TD_ERR_IO);
    td_query_error_t error = {.position = 0, .message = "bad"};
    cr_assert_eq(td_render_query_error(out, "x", &error, false), TD_ERR_IO);
    fclose(out);
}
