/* The searcher over an index of the sample corpus: each feature of the
 * query language, filters and facets checked against an independent count
 * over the records themselves, synonyms, biomarker polarity, sorting,
 * paging and errors. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "td_indexer.h"
#include "td_schema.h"
#include "td_search.h"
#include "td_test.h"

static td_searcher_t *searcher;
static td_test_run_t records;

static void setup(void)
{
    td_test_dir_setup();
    char *db = td_test_path("sample.db");
    const char *source = TD_SAMPLE_DIR;
    td_index_options_t options = {.db = db, .format = TD_FORMAT_AUTO, .threads = 2};
    td_index_stats_t stats;
    char *error = NULL;
    cr_assert_eq(td_index_build(&source, 1, &options, &stats, &error), TD_OK, "%s", error);
    cr_assert_eq(td_searcher_open(db, NULL, &searcher, &error), TD_OK, "%s", error);
    free(db);
    td_test_read_one(TD_SAMPLE_DIR, TD_FORMAT_AUTO, &records);
    cr_assert_eq(records.trial_count, 41);
}

static void teardown(void)
{
    td_searcher_free(searcher);
    td_test_run_free(&records);
    td_test_dir_teardown();
}

TestSuite(search, .init = setup, .fini = teardown, .timeout = 120);

/* The NCT ID of a hit. */
static const char *hit_id(const td_hit_t *hit, char out[16])
{
    json_t *root = json_loads(hit->display, 0, NULL);
    cr_assert_not_null(root);
    snprintf(out, 16, "%s", json_string_value(json_object_get(root, "nctId")));
    json_decref(root);
    return out;
}

static td_search_result_t *run(const char *query, uint32_t limit)
{
    td_search_request_t request = td_search_request_default(query);
    request.limit = limit;
    td_search_result_t *result = NULL;
    td_query_error_t error = {0};
    cr_assert_eq(td_search(searcher, &request, &result, &error), TD_OK, "%s: %s (at %zu)", query,
                 error.message, error.position);
    return result;
}

/* The matching NCT IDs, sorted, space-separated (malloc'd), with every
 * match asked for. */
static char *ids(const char *query)
{
    td_search_result_t *result = run(query, 1000);
    cr_assert_eq(result->hit_count, result->total, "%s", query);
    char(*list)[16] = calloc(result->hit_count + 1, 16);
    for (size_t i = 0; i < result->hit_count; i++)
        hit_id(&result->hits[i], list[i]);
    qsort(list, result->hit_count, 16, (int (*)(const void *, const void *)) strcmp);
    char *out = calloc(result->hit_count * 13 + 1, 1);
    for (size_t i = 0; i < result->hit_count; i++) {
        strcat(out, list[i]);
        strcat(out, i + 1 < result->hit_count ? " " : "");
    }
    free(list);
    td_search_result_free(result);
    return out;
}

/* The IDs of the records for which `keep` holds, in the same form. */
static char *expected(bool (*keep)(const td_trial_t *, const void *), const void *arg)
{
    char(*list)[16] = calloc(records.trial_count + 1, 16);
    size_t n = 0;
    for (size_t i = 0; i < records.trial_count; i++)
        if (keep(records.trials[i], arg))
            snprintf(list[n++], 16, "%s", records.trials[i]->nct_id);
    qsort(list, n, 16, (int (*)(const void *, const void *)) strcmp);
    char *out = calloc(n * 13 + 1, 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, list[i]);
        strcat(out, i + 1 < n ? " " : "");
    }
    free(list);
    return out;
}

static void assert_same(char *got, char *want, const char *what)
{
    cr_assert_str_eq(got, want, "%s:\n got  %s\n want %s", what, got, want);
    cr_assert_neq(strlen(want), 0, "%s: the check needs some matching trials", what);
    free(got);
    free(want);
}

static td_status_t query_error(const char *query, td_query_error_t *error)
{
    td_search_request_t request = td_search_request_default(query);
    td_search_result_t *result = NULL;
    td_status_t status = td_search(searcher, &request, &result, error);
    td_search_result_free(result);
    return status;
}

/* ---- filters, each against the records ---- */

static bool is_status(const td_trial_t *t, const void *status)
{
    return t->overall_status == *(const td_overall_status_t *) status;
}

Test(search, status_filter_and_short_forms)
{
    td_overall_status_t recruiting = TD_STATUS_RECRUITING, completed = TD_STATUS_COMPLETED;
    assert_same(ids("status:recruiting"), expected(is_status, &recruiting), "status:recruiting");
    assert_same(ids("status:rec"), expected(is_status, &recruiting), "status:rec");
    assert_same(ids("status:com"), expected(is_status, &completed), "status:com");
    char *both = ids("status:rec,com"), *either = ids("status:rec OR status:com");
    cr_assert_str_eq(both, either);
    free(both);
    free(either);
}

static bool has_phase_in(const td_trial_t *t, const void *bits)
{
    return (t->phases & *(const unsigned *) bits) != 0;
}

static bool has_all_phases(const td_trial_t *t, const void *bits)
{
    return (t->phases & *(const unsigned *) bits) == *(const unsigned *) bits;
}

Test(search, phase_filter_single_range_and_both)
{
    unsigned two = TD_PHASE_2, two_three = TD_PHASE_2 | TD_PHASE_3;
    assert_same(ids("phase:2"), expected(has_phase_in, &two), "phase:2");
    assert_same(ids("phase:2-3"), expected(has_phase_in, &two_three), "phase:2-3 is either");
    assert_same(ids("phase:2/3"), expected(has_all_phases, &two_three), "phase:2/3 is both");
}

static bool is_type(const td_trial_t *t, const void *type)
{
    return t->study_type == *(const td_study_type_t *) type;
}

static bool admits_women(const td_trial_t *t, const void *unused)
{
    (void) unused;
    return t->sex == TD_SEX_FEMALE || t->sex == TD_SEX_ALL;
}

Test(search, type_and_sex_filters)
{
    td_study_type_t observational = TD_STUDY_TYPE_OBSERVATIONAL;
    assert_same(ids("type:obs"), expected(is_type, &observational), "type:obs");
    assert_same(ids("sex:female"), expected(admits_women, NULL),
                "sex:female is every trial open to women");
}

static bool in_country(const td_trial_t *t, const void *country)
{
    for (size_t i = 0; i < t->location_count; i++)
        if (t->locations[i].country && strcasecmp(t->locations[i].country, country) == 0)
            return true;
    return false;
}

Test(search, country_filter_with_aliases)
{
    assert_same(ids("country:china"), expected(in_country, "China"), "country:china");
    assert_same(ids("country:usa"), expected(in_country, "United States"), "country:usa");
    assert_same(ids("country:\"United States\""), expected(in_country, "United States"),
                "country:\"United States\"");
    /* A country whose name holds a comma is one country, not a list. */
    assert_same(ids("country:\"Korea, Republic of\""), expected(in_country, "Korea, Republic of"),
                "country:\"Korea, Republic of\"");
    assert_same(ids("country:korea"), expected(in_country, "Korea, Republic of"), "country:korea");
}

static bool admits_age(const td_trial_t *t, const void *days)
{
    int32_t d = *(const int32_t *) days;
    return (t->minimum_age.days < 0 || t->minimum_age.days <= d) &&
           (t->maximum_age.days < 0 || t->maximum_age.days >= d);
}

Test(search, age_filter_admits_the_age)
{
    /* The sample has limits of 6 months, 18, 19, 40 and 70 years, and
     * maxima of 23 months, 55 to 80 years: boundaries are inclusive. */
    int32_t seventy = (int32_t) floor(70 * 365.25), baby = (int32_t) floor(12 * 30.4375);
    assert_same(ids("age:70"), expected(admits_age, &seventy), "age:70");
    assert_same(ids("age:12mo"), expected(admits_age, &baby), "age:12mo");
}

/* The trial of a hit, from the records read beside the index. */
static const td_trial_t *hit_trial(const td_hit_t *hit)
{
    char id[16];
    hit_id(hit, id);
    for (size_t i = 0; i < records.trial_count; i++)
        if (strcmp(records.trials[i]->nct_id, id) == 0)
            return records.trials[i];
    cr_assert_fail("%s is not in the sample", id);
    return NULL;
}

Test(search, a_described_patient_ranks_the_trials_that_admit_them_first)
{
    /* The breast cancer trials of the sample include some up to 55 or 70
     * years, and one for men only. */
    const char *query = "A 72-year-old woman with metastatic breast cancer progressing on "
                        "letrozole and palbociclib, looking for a trial of a new endocrine "
                        "therapy or an antibody-drug conjugate near her home";
    td_search_result_t *result = run(query, 100);
    cr_assert(result->has_patient);
    cr_assert_eq(result->patient.age, 72);
    cr_assert_str_eq(result->patient.age_unit, "years");
    cr_assert_eq(result->patient.sex, TD_SEX_FEMALE);
    int32_t days = (int32_t) floor(72 * 365.25);
    size_t admitted = 0, ruled_out = 0;
    for (size_t i = 0; i < result->hit_count; i++) {
        const td_hit_t *hit = &result->hits[i];
        const td_trial_t *t = hit_trial(hit);
        bool admits = admits_age(t, &days) && t->sex != TD_SEX_MALE;
        cr_assert_eq(hit->rules_out_patient, !admits, "%s", t->nct_id);
        /* Every trial that admits her comes before every one that does not. */
        if (admits)
            cr_assert_eq(ruled_out, 0, "%s ranks after a trial that rules her out", t->nct_id);
        cr_assert_lt(hit->weight, 1e6, "the weight is the words' alone");
        admitted += admits;
        ruled_out += !admits;
    }
    cr_assert_gt(admitted, 0);
    cr_assert_gt(ruled_out, 0, "the check needs trials that rule her out");
    td_search_result_free(result);

    /* With patient reading off, the same words rank as words. */
    td_search_settings_t settings;
    td_search_settings_default(&settings);
    cr_assert_eq(td_search_settings_set(&settings, "patient", "0", NULL), TD_OK);
    char *db = td_test_path("sample.db"), *error = NULL;
    td_searcher_t *plain = NULL;
    cr_assert_eq(td_searcher_open(db, &settings, &plain, &error), TD_OK, "%s", error);
    td_search_request_t request = td_search_request_default(query);
    request.limit = 100;
    cr_assert_eq(td_search(plain, &request, &result, NULL), TD_OK);
    cr_assert_not(result->has_patient);
    bool reordered = false;
    for (size_t i = 1; i < result->hit_count; i++) {
        cr_assert_not(result->hits[i].rules_out_patient);
        reordered |= result->hits[i].weight > result->hits[i - 1].weight;
    }
    cr_assert_not(reordered, "by weight alone");
    td_search_result_free(result);
    /* ... and the words that state the age are searched for: no trial has
     * "yo", so nothing matches every word. */
    request = td_search_request_default("asthma 79 yo F");
    cr_assert_eq(td_search(plain, &request, &result, NULL), TD_OK);
    cr_assert(result->partial);
    td_search_result_free(result);
    td_searcher_free(plain);
    free(db);
}

Test(search, the_words_that_state_an_age_are_not_searched_for)
{
    /* "79 yo F" states the patient; trials need not contain "79" or "yo". */
    assert_same(ids("asthma 79 yo F"), ids("asthma"), "asthma 79 yo F");
    assert_same(ids("otitis in a 12-month-old"), ids("otitis"), "otitis in a 12-month-old");
    td_search_result_t *result = run("asthma 79 yo F", 10);
    cr_assert(result->has_patient);
    cr_assert_not(result->partial);
    cr_assert_eq(result->patient.sex, TD_SEX_FEMALE);
    td_search_result_free(result);
    /* Sorted by something else than relevance, text is text. */
    td_search_request_t sorted = td_search_request_default("asthma 79 yo F");
    sorted.sort = TD_SORT_START;
    cr_assert_eq(td_search(searcher, &sorted, &result, NULL), TD_OK);
    cr_assert_not(result->has_patient);
    cr_assert(result->partial);
    td_search_result_free(result);
    /* Not in a phrase, a field or a filter. */
    const char *not_patients[] = {"\"79 year old\" asthma", "title:(79 year old)", "age:79 asthma",
                                  "asthma -\"79 yo\"", "phase 2 trials in 2024"};
    for (size_t i = 0; i < sizeof(not_patients) / sizeof(not_patients[0]); i++) {
        td_search_request_t request = td_search_request_default(not_patients[i]);
        td_search_result_t *r = NULL;
        cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK, "%s", not_patients[i]);
        cr_assert_not(r->has_patient, "%s", not_patients[i]);
        td_search_result_free(r);
    }
}

typedef struct date_range {
    int low, high; /* YYYYMMDD, inclusive */
    int which;     /* 0 start, 1 last update */
} date_range_t;

static bool date_in(const td_trial_t *t, const void *arg)
{
    const date_range_t *r = arg;
    const td_date_t *d = r->which == 0 ? &t->start_date : &t->last_update_date;
    if (d->precision == TD_DATE_NONE)
        return false;
    int value = d->year * 10000 + d->month * 100 + d->day;
    return value >= r->low && value <= r->high;
}

static bool enrollment_at_least(const td_trial_t *t, const void *low)
{
    return t->enrollment >= *(const int *) low;
}

Test(search, date_and_number_ranges)
{
    date_range_t start = {20200000, 20249999, 0}, updated = {20250100, 99999999, 1};
    assert_same(ids("start:2020..2024"), expected(date_in, &start), "start:2020..2024");
    assert_same(ids("updated:2025-01.."), expected(date_in, &updated), "updated:2025-01..");
    int hundred = 100;
    assert_same(ids("enrollment:100.."), expected(enrollment_at_least, &hundred),
                "enrollment:100..");
}

static bool has_results(const td_trial_t *t, const void *want)
{
    return t->has_results == *(const bool *) want;
}

static bool takes_healthy(const td_trial_t *t, const void *unused)
{
    (void) unused;
    return t->healthy_volunteers == TD_YES;
}

static bool completes_by(const td_trial_t *t, const void *year)
{
    const td_date_t *d = &t->primary_completion_date;
    return d->precision != TD_DATE_NONE && d->year <= *(const int *) year;
}

Test(search, results_healthy_and_completion_filters)
{
    bool no = false;
    assert_same(ids("results:no"), expected(has_results, &no), "results:no");
    char *healthy = ids("healthy:yes"), *want = expected(takes_healthy, NULL);
    cr_assert_str_eq(healthy, want);
    free(healthy);
    free(want);
    int year = 2024;
    assert_same(ids("completion:..2024"), expected(completes_by, &year), "completion:..2024");
}

/* ---- facets against the records ---- */

static uint32_t facet_count(const td_search_result_t *r, td_facet_t facet, const char *value)
{
    for (size_t i = 0; i < r->facets[facet].count; i++)
        if (strcmp(r->facets[facet].values[i].value, value) == 0)
            return r->facets[facet].values[i].count;
    return 0;
}

Test(search, facets_count_the_whole_match_set)
{
    td_search_request_t request = td_search_request_default("country:china");
    request.facets = true;
    request.limit = 3; /* fewer shown than counted */
    td_search_result_t *r = NULL;
    td_query_error_t error;
    cr_assert_eq(td_search(searcher, &request, &r, &error), TD_OK, "%s", error.message);
    cr_assert(r->has_facets);
    uint32_t total = 0, recruiting = 0, phase2 = 0, female = 0, drug = 0, industry = 0, y2021 = 0,
             japan = 0;
    for (size_t i = 0; i < records.trial_count; i++) {
        const td_trial_t *t = records.trials[i];
        if (!in_country(t, "China"))
            continue;
        total++;
        recruiting += t->overall_status == TD_STATUS_RECRUITING;
        phase2 += (t->phases & TD_PHASE_2) != 0;
        female += t->sex == TD_SEX_FEMALE;
        industry += t->lead_sponsor.sponsor_class == TD_SPONSOR_INDUSTRY;
        y2021 += t->start_date.precision != TD_DATE_NONE && t->start_date.year == 2021;
        japan += in_country(t, "Japan");
        bool has_drug = false;
        for (size_t k = 0; k < t->intervention_count; k++)
            has_drug |= t->interventions[k].type == TD_INTERVENTION_DRUG;
        drug += has_drug;
    }
    cr_assert_eq(r->total, total);
    cr_assert_eq(r->hit_count, 3);
    cr_assert_eq(facet_count(r, TD_FACET_STATUS, "recruiting"), recruiting);
    cr_assert_eq(facet_count(r, TD_FACET_PHASE, "phase2"), phase2);
    cr_assert_eq(facet_count(r, TD_FACET_SEX, "female"), female);
    cr_assert_eq(facet_count(r, TD_FACET_COUNTRY, "china"), total);
    cr_assert_eq(facet_count(r, TD_FACET_COUNTRY, "japan"), japan);
    cr_assert_eq(facet_count(r, TD_FACET_INTERVENTION_TYPE, "drug"), drug);
    cr_assert_eq(facet_count(r, TD_FACET_SPONSOR_CLASS, "industry"), industry);
    cr_assert_eq(facet_count(r, TD_FACET_START_YEAR, "2021"), y2021);
    td_search_result_free(r);
}

/* ---- the query language ---- */

Test(search, all_words_are_required_and_phrases_rank_higher)
{
    td_search_result_t *r = run("trastuzumab deruxtecan", 50);
    cr_assert_geq(r->total, 3);
    cr_assert(!r->partial);
    td_search_result_free(r);
    char *wide = ids("breast"), *narrow = ids("breast palbociclib");
    cr_assert_lt(strlen(narrow), strlen(wide), "a second word narrows");
    free(wide);
    free(narrow);
}

Test(search, nothing_matching_every_word_falls_back_to_labelled_partial_matches)
{
    td_search_result_t *r = run("palbociclib zebrafish", 10);
    cr_assert(r->partial, "no trial has both: partial matches, labelled");
    cr_assert_gt(r->total, 0);
    td_search_result_free(r);
    td_search_request_t request = td_search_request_default("palbociclib zebrafish");
    request.partial_ok = false;
    cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK);
    cr_assert_eq(r->total, 0, "--strict: no fallback");
    td_search_result_free(r);
}

Test(search, a_long_description_is_matched_partially_and_ranked)
{
    td_search_result_t *r =
        run("postmenopausal woman with HR+/HER2- metastatic breast cancer progressing on "
            "palbociclib and letrozole, ESR1 mutation in circulating tumour DNA, looking for an "
            "oral SERD trial",
            5);
    cr_assert(r->partial, "more than 16 words: partial matching, labelled");
    cr_assert_gt(r->total, 0);
    char id[16];
    const char *top = hit_id(&r->hits[0], id);
    /* The ESR1-mutation SERD trials of the sample rank first. */
    cr_assert(strcmp(top, "NCT99000005") == 0 || strcmp(top, "NCT99000006") == 0 ||
                  strcmp(top, "NCT99000008") == 0 || strcmp(top, "NCT99000023") == 0,
              "top hit %s", top);
    td_search_result_free(r);
}

Test(search, synonyms_expand_both_ways_and_exact_does_not)
{
    char *brand = ids("Ibrance"), *code = ids("PD-0332991"), *generic = ids("palbociclib");
    cr_assert_str_eq(brand, generic);
    cr_assert_str_eq(code, generic);
    char *exact = ids("=Ibrance");
    cr_assert_lt(strlen(exact), strlen(generic), "=Ibrance only where the brand is written");
    cr_assert_neq(strlen(exact), 0);
    char *t_dxd = ids("T-DXd"), *words = ids("\"trastuzumab deruxtecan\"");
    cr_assert_str_eq(t_dxd, words);
    free(brand);
    free(code);
    free(generic);
    free(exact);
    free(t_dxd);
    free(words);
}

static bool contains_ignoring_case(const char *text, const char *word)
{
    for (size_t n = strlen(word); *text; text++)
        if (strncasecmp(text, word, n) == 0)
            return true;
    return false;
}

Test(search, without_expansion_queries_are_plain_words)
{
    td_search_settings_t plain;
    td_search_settings_default(&plain);
    cr_assert_eq(td_search_settings_set(&plain, "expand", "0", NULL), TD_OK);
    char *db = td_test_path("sample.db"), *error = NULL;
    td_searcher_t *reference = NULL;
    cr_assert_eq(td_searcher_open(db, &plain, &reference, &error), TD_OK, "%s", error);
    td_search_request_t request = td_search_request_default("Ibrance");
    request.limit = 100;
    request.partial_ok = false;
    td_search_result_t *r = NULL;
    cr_assert_eq(td_search(reference, &request, &r, NULL), TD_OK);
    char *expanded = ids("Ibrance"), *exact = ids("=Ibrance");
    cr_assert_lt(r->total, strlen(expanded) / 12 + 1, "no synonyms: fewer than %s", expanded);
    cr_assert_eq(r->total, (strlen(exact) + 1) / 12, "the trials that write Ibrance: %s", exact);
    td_search_result_free(r);
    free(expanded);
    free(exact);
    td_searcher_free(reference);
    free(db);
}

static bool names_a_cdk46_inhibitor(const td_trial_t *t, const void *unused)
{
    (void) unused;
    static const char *const drugs[] = {"palbociclib", "ribociclib", "abemaciclib", "dalpiciclib"};
    for (size_t i = 0; i < t->intervention_count; i++)
        for (size_t k = 0; k < 4; k++)
            if (t->interventions[i].name &&
                contains_ignoring_case(t->interventions[i].name, drugs[k]))
                return true;
    return false;
}

Test(search, drug_class_finds_its_drugs)
{
    char *got = ids("drug:\"CDK4/6 inhibitor\"");
    char *want = expected(names_a_cdk46_inhibitor, NULL);
    /* Every trial naming one of the drugs is found (others may name the
     * class itself). */
    for (char *id = strtok(want, " "); id; id = strtok(NULL, " "))
        cr_assert_not_null(strstr(got, id), "%s names a CDK4/6 inhibitor: %s", id, got);
    free(got);
    free(want);
}

Test(search, biomarker_signs_are_never_operators)
{
    char *negative = ids("HER2-"), *positive = ids("HER2+"), *any = ids("HER2");
    cr_assert_str_neq(negative, any, "HER2- is not every HER2 trial");
    cr_assert_str_neq(negative, positive);
    free(negative);
    free(positive);
    free(any);
    char *low_spaced = ids("HER2 -low"), *low = ids("HER2-low");
    cr_assert_str_eq(low_spaced, low, "HER2 -low is HER2-low, not HER2 without low");
    cr_assert_neq(strlen(low), 0);
    free(low_spaced);
    free(low);
    /* ER- PR- HER2- is triple negative: "triple-negative" trials match. */
    char *triple = ids("ER- PR- HER2-"), *tnbc = ids("TNBC");
    for (char *id = strtok(tnbc, " "); id; id = strtok(NULL, " "))
        cr_assert_not_null(strstr(triple, id), "%s is triple negative: %s", id, triple);
    free(triple);
    free(tnbc);
}

Test(search, field_scopes_restrict_where_words_match)
{
    char *title = ids("title:fulvestrant"), *anywhere = ids("fulvestrant");
    cr_assert_lt(strlen(title), strlen(anywhere));
    for (char *id = strtok(title, " "); id; id = strtok(NULL, " "))
        cr_assert_not_null(strstr(anywhere, id));
    free(title);
    free(anywhere);
    char *id = ids("id:NCT99000017");
    cr_assert_str_eq(id, "NCT99000017");
    free(id);
    char *exclusion = ids("exc:pregnant");
    cr_assert_neq(strlen(exclusion), 0);
    free(exclusion);
}

Test(search, boolean_operators_and_wildcards)
{
    char *a = ids("palbociclib"), *b = ids("ribociclib"),
         *either = ids("palbociclib OR ribociclib"), *not_b = ids("palbociclib -ribociclib"),
         *not_word = ids("palbociclib NOT ribociclib");
    cr_assert_geq(strlen(either), strlen(a));
    cr_assert_geq(strlen(either), strlen(b));
    cr_assert_str_eq(not_b, not_word);
    cr_assert_leq(strlen(not_b), strlen(a));
    char *wild = ids("palbo*");
    cr_assert_str_eq(wild, a, "palbo* finds the palbociclib trials");
    char *grouped = ids("(palbociclib OR ribociclib) fulvestrant");
    cr_assert_neq(strlen(grouped), 0);
    char *near = ids("breast NEAR/2 metastatic");
    cr_assert_neq(strlen(near), 0);
    free(a);
    free(b);
    free(either);
    free(not_b);
    free(not_word);
    free(wild);
    free(grouped);
    free(near);
}

Test(search, near_a_place_filters_and_sorts_by_distance)
{
    td_search_request_t request = td_search_request_default("near:23.12,113.25 within:50km");
    request.sort = TD_SORT_DISTANCE;
    request.limit = 100;
    td_search_result_t *r = NULL;
    td_query_error_t error;
    cr_assert_eq(td_search(searcher, &request, &r, &error), TD_OK, "%s", error.message);
    for (size_t i = 0; i < r->hit_count; i++) {
        cr_assert(r->hits[i].has_distance);
        cr_assert_leq(r->hits[i].distance_km, 50.5);
        if (i)
            cr_assert_geq(r->hits[i].distance_km, r->hits[i - 1].distance_km - 0.01);
    }
    td_search_result_free(r);
    /* A city name works as well as its coordinates. */
    char *by_name = ids("near:Guangzhou within:50km"),
         *by_point = ids("near:23.11667,113.25 within:50km");
    cr_assert_str_eq(by_name, by_point);
    free(by_name);
    free(by_point);
}

Test(search, sorts_put_missing_values_last)
{
    for (int ascending = 0; ascending < 2; ascending++) {
        td_search_request_t request = td_search_request_default("");
        request.sort = TD_SORT_START;
        request.ascending = ascending;
        request.limit = 100;
        td_search_result_t *r = NULL;
        cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK);
        cr_assert_eq(r->hit_count, 41);
        bool missing_seen = false;
        char previous[16] = "";
        for (size_t i = 0; i < r->hit_count; i++) {
            json_t *root = json_loads(r->hits[i].display, 0, NULL);
            const char *date =
                json_string_value(json_object_get(json_object_get(root, "startDate"), "date"));
            if (!date) {
                missing_seen = true;
            } else {
                cr_assert(!missing_seen, "a trial with a start date after one without");
                if (*previous)
                    cr_assert(ascending ? strcmp(previous, date) <= 0 : strcmp(previous, date) >= 0,
                              "%s then %s", previous, date);
                snprintf(previous, sizeof(previous), "%s", date);
            }
            json_decref(root);
        }
        td_search_result_free(r);
    }
}

Test(search, enrollment_sorts_largest_first_and_smallest_first)
{
    for (int ascending = 0; ascending < 2; ascending++) {
        td_search_request_t request = td_search_request_default("breast");
        request.sort = TD_SORT_ENROLLMENT;
        request.ascending = ascending;
        request.limit = 100;
        td_search_result_t *r = NULL;
        cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK);
        json_int_t previous = ascending ? -1 : INT64_MAX;
        for (size_t i = 0; i < r->hit_count; i++) {
            json_t *root = json_loads(r->hits[i].display, 0, NULL);
            json_t *enrollment = json_object_get(json_object_get(root, "enrollment"), "count");
            cr_assert(json_is_integer(enrollment), "the sample has every enrollment");
            json_int_t n = json_integer_value(enrollment);
            cr_assert(ascending ? n >= previous : n <= previous, "%lld after %lld", (long long) n,
                      (long long) previous);
            previous = n;
            json_decref(root);
        }
        td_search_result_free(r);
    }
}

Test(search, pages_are_stable_and_tokens_follow_the_index)
{
    td_search_result_t *all = run("breast", 100);
    cr_assert_gt(all->total, 10);
    td_search_request_t request = td_search_request_default("breast");
    request.limit = 4;
    char seen[200][16];
    size_t count = 0;
    for (uint32_t offset = 0; offset < all->total; offset += 4) {
        request.offset = offset;
        td_search_result_t *page = NULL;
        cr_assert_eq(td_search(searcher, &request, &page, NULL), TD_OK);
        for (size_t i = 0; i < page->hit_count; i++) {
            cr_assert_eq(page->hits[i].rank, offset + i + 1);
            char id[16], whole[16];
            hit_id(&page->hits[i], id);
            hit_id(&all->hits[offset + i], whole);
            cr_assert_str_eq(id, whole, "page at %u", offset);
            snprintf(seen[count++], 16, "%s", id);
        }
        if (offset == 0) {
            char *token = td_page_token_make(&request, page);
            cr_assert_not_null(token);
            td_search_request_t next = td_search_request_default("breast");
            next.limit = 4;
            cr_assert_eq(td_page_token_apply(token, searcher, &next, NULL), TD_OK);
            cr_assert_eq(next.offset, 4);
            td_search_request_t other = td_search_request_default("ovarian");
            other.limit = 4;
            char *error = NULL;
            cr_assert_eq(td_page_token_apply(token, searcher, &other, &error), TD_ERR_BAD_INPUT);
            free(error);
            free(token);
        }
        td_search_result_free(page);
    }
    cr_assert_eq(count, all->total);
    td_search_result_free(all);
}

Test(search, explain_and_snippets_say_why)
{
    td_search_request_t request = td_search_request_default("Enhertu");
    request.explain = request.snippets = true;
    td_search_result_t *r = NULL;
    cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK);
    cr_assert_gt(r->hit_count, 0);
    bool via = false;
    for (size_t i = 0; i < r->hit_count; i++)
        for (size_t k = 0; k < r->hits[i].match_count; k++)
            via |= r->hits[i].matches[k].via != NULL;
    cr_assert(via, "a trial that writes trastuzumab deruxtecan matched via its own words");
    const td_snippet_t *s = &r->hits[0].snippet;
    cr_assert_not_null(s->text);
    cr_assert_gt(s->span_count, 0);
    for (size_t i = 0; i < s->span_count; i++)
        cr_assert_leq(s->spans[i].end, strlen(s->text));
    td_search_result_free(r);
}

Test(search, suggestions_never_correct_gene_symbols)
{
    td_search_result_t *r = run("palbociclb", 10);
    bool offered = false;
    for (size_t i = 0; i < r->suggestion_count; i++)
        offered |= strcmp(r->suggestions[i].suggestion, "palbociclib") == 0;
    cr_assert(offered, "a misspelt drug gets a suggestion");
    td_search_result_free(r);
    r = run("ESR2", 10);
    for (size_t i = 0; i < r->suggestion_count; i++)
        cr_assert_str_neq(r->suggestions[i].word, "ESR2", "gene symbols are never corrected");
    td_search_result_free(r);
}

Test(search, show_gives_the_whole_record)
{
    char *json = NULL;
    cr_assert_eq(td_search_show(searcher, "NCT99000017", &json), TD_OK);
    json_t *root = json_loads(json, 0, NULL);
    cr_assert_not_null(json_object_get(root, "eligibilityCriteria"));
    json_decref(root);
    free(json);
    cr_assert_eq(td_search_show(searcher, "NCT00000000", &json), TD_ERR_NOT_FOUND);
}

/* ---- errors ---- */

static void expect_error(const char *query, size_t position, const char *message)
{
    td_query_error_t error = {0};
    cr_assert_eq(query_error(query, &error), TD_ERR_BAD_QUERY, "%s should fail", query);
    cr_assert_eq(error.position, position, "%s: at %zu, expected %zu (%s)", query, error.position,
                 position, error.message);
    cr_assert_not_null(strstr(error.message, message), "%s: '%s'", query, error.message);
}

Test(search, malformed_queries_get_a_position_and_a_hint)
{
    expect_error("titel:cancer", 0, "unknown field 'titel:'");
    expect_error("breast \"cancer", 7, "unterminated quote");
    expect_error("(breast OR", 8, "OR without a word after it");
    expect_error("breast)", 6, "unmatched )");
    expect_error("AND breast", 0, "AND without a word before it");
    expect_error("status:recruting", 0, "unknown status 'recruting'");
    expect_error("phase:7", 0, "unknown phase");
    expect_error("start:2024..2020", 0, "empty date range");
    expect_error("start:20x0", 0, "bad date range");
    expect_error("enrollment:abc", 0, "bad number range");
    expect_error("near:34.3,108.9 within:100", 16, "has no unit");
    expect_error("within:10km", 0, "needs near:");
    expect_error("near:Atlantis", 0, "unknown place");
    expect_error("title: cancer", 0, "needs a value right after the colon");
    expect_error("p*", 0, "wildcard too short");
    expect_error("biomarker:chemotherapy", 10, "not a biomarker");
    td_query_error_t error = {0};
    cr_assert_eq(query_error("a NEAR/0 b", &error), TD_ERR_BAD_QUERY);
    cr_assert_neq(strlen(error.hint), 0, "errors come with a hint");
}

/* Each thread searches with its own searcher; nothing may be shared
 * underneath (Xapian's static MatchAll query once was, and crashed two
 * threads building "match everything" queries at once). */
static void *search_many(void *db)
{
    td_searcher_t *own = NULL;
    if (td_searcher_open(db, NULL, &own, NULL) != TD_OK)
        return (void *) 1;
    static const char *const queries[] = {"",
                                          "NOT breast",
                                          "age:70",
                                          "the",
                                          "status:rec,com",
                                          "cancer -breast",
                                          "palbociclib zebrafish"};
    intptr_t failures = 0;
    for (int i = 0; i < 300; i++) {
        td_search_request_t request = td_search_request_default(queries[i % 7]);
        request.facets = i % 2;
        td_search_result_t *r = NULL;
        failures += td_search(own, &request, &r, NULL) != TD_OK;
        td_search_result_free(r);
    }
    td_searcher_free(own);
    return (void *) failures;
}

Test(search, searchers_on_two_threads_share_nothing)
{
    char *db = td_test_path("sample.db");
    pthread_t threads[2];
    for (int t = 0; t < 2; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, search_many, db), 0);
    for (int t = 0; t < 2; t++) {
        void *failures;
        pthread_join(threads[t], &failures);
        cr_assert_null(failures, "thread %d: %p failed searches", t, failures);
    }
    free(db);
}

/* ---- found in review ---- */

static size_t count(const char *query)
{
    td_search_result_t *r = run(query, 0);
    size_t total = r->total;
    td_search_result_free(r);
    return total;
}

Test(search, exclusions_of_groups_phrases_and_after_biomarkers)
{
    cr_assert_eq(count("cancer -\"breast cancer\""), count("cancer NOT \"breast cancer\""));
    cr_assert_eq(count("cancer -(breast OR lung)"), count("cancer NOT (breast OR lung)"));
    cr_assert_eq(count("cancer (-breast)"), count("cancer NOT breast"));
    /* Only a level word is glued to a biomarker. */
    cr_assert_eq(count("HER2 -trastuzumab"), count("HER2 NOT trastuzumab"));
    cr_assert_neq(count("HER2 -trastuzumab"), count("HER2 trastuzumab"));
    cr_assert_eq(count("HER2 -low"), count("HER2-low"));
}

Test(search, deep_nesting_is_an_error_not_a_crash)
{
    size_t n = 5000;
    char *query = malloc(n * 6 + 16);
    query[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(query, "NOT ");
    strcat(query, "cancer");
    td_query_error_t error = {0};
    cr_assert_eq(query_error(query, &error), TD_ERR_BAD_QUERY);
    cr_assert_not_null(strstr(error.message, "too many nested"), "%s", error.message);
    query[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(query, "cond:(");
    cr_assert_eq(query_error(query, &error), TD_ERR_BAD_QUERY);
    free(query);
}

Test(search, odd_values_are_errors)
{
    expect_error("=(cancer)", 0, "= goes before a word");
    expect_error("near:nan,nan", 0, "unknown place");
    expect_error("near:91,0", 0, "bad coordinates");
    expect_error("near:Boston within:nankm", 12, "bad distance");
    expect_error("age:nan", 0, "bad age");
    expect_error("age:50000w", 0, "bad age");
    expect_error("enrollment:0x10", 0, "bad number range");
    expect_error("enrollment:1...5", 0, "bad number range");
    expect_error("start:2023-02-30", 0, "bad date range");
    expect_error("type:int,int,int,int,int,int,int,int,obs", 0, "too many values");
    expect_error("cancer near:Boston within:10km OR palbociclib", 7, "inside an OR");
    expect_error("cancer NEAR near:Boston", 7, "NEAR needs words on both sides");
    expect_error("id:NCT9900000*", 0, "one whole ID");
    td_sort_t sort;
    bool ascending;
    cr_assert(!td_sort_parse("distance:desc", &sort, &ascending), "nearest first only");
    cr_assert(td_sort_parse("start:asc", &sort, &ascending) && ascending);
}

Test(search, biomarker_scope_takes_biomarker_expressions)
{
    cr_assert_eq(count("biomarker:HER2-low"), count("biomarker:\"HER2-low\""));
    cr_assert_gt(count("biomarker:HER2-low"), 0);
}

Test(search, wildcards_on_stopword_prefixes_and_why)
{
    cr_assert_gt(count("an*"), 0, "anastrozole starts with a stopword");
    td_search_request_t request = td_search_request_default("palbo*");
    request.explain = request.snippets = true;
    td_search_result_t *r = NULL;
    cr_assert_eq(td_search(searcher, &request, &r, NULL), TD_OK);
    cr_assert_gt(r->hit_count, 0);
    cr_assert_gt(r->hits[0].match_count, 0, "a wildcard says what it matched");
    td_search_result_free(r);
}

Test(search, filters_that_leave_nothing_are_not_labelled_partial)
{
    td_search_result_t *r = run("palbociclib status:withdrawn", 10);
    cr_assert_eq(r->total, 0);
    cr_assert(!r->partial);
    td_search_result_free(r);
}

/* The IDs of `query`'s matches on `s`, sorted (malloc'd), and the fields
 * its first hit matched in, other than biomarker ("title condition ...",
 * in field order), in `fields`. */
static char *ids_and_fields(td_searcher_t *s, const char *query, char *fields, size_t size)
{
    td_search_request_t request = td_search_request_default(query);
    request.limit = 1000;
    request.partial_ok = false;
    request.explain = true;
    td_search_result_t *r = NULL;
    cr_assert_eq(td_search(s, &request, &r, NULL), TD_OK, "%s", query);
    char(*list)[16] = calloc(r->hit_count + 1, 16);
    for (size_t i = 0; i < r->hit_count; i++)
        hit_id(&r->hits[i], list[i]);
    qsort(list, r->hit_count, 16, (int (*)(const void *, const void *)) strcmp);
    char *out = calloc(r->hit_count * 13 + 1, 1);
    for (size_t i = 0; i < r->hit_count; i++)
        strcat(strcat(out, list[i]), " ");
    fields[0] = '\0';
    for (int f = 0; f < TD_FIELD_COUNT; f++) {
        bool matched = false;
        for (size_t k = 0; r->hit_count && k < r->hits[0].match_count; k++)
            matched |= strcmp(r->hits[0].matches[k].field, td_field_name((td_field_t) f)) == 0;
        if (matched && f != TD_FIELD_BIOMARKER)
            snprintf(fields + strlen(fields), size - strlen(fields), "%s ",
                     td_field_name((td_field_t) f));
    }
    free(list);
    td_search_result_free(r);
    return out;
}

Test(search, all_fields_terms_match_what_the_fields_match)
{
    /* A boost off the index's weights searches field by field: the same
     * trials must match, and explanations name the same fields. */
    td_search_settings_t per_field;
    td_search_settings_default(&per_field);
    cr_assert(td_search_settings_are_index_weights(&per_field));
    cr_assert_eq(td_search_settings_set(&per_field, "boost.title", "0.99", NULL), TD_OK);
    cr_assert_not(td_search_settings_are_index_weights(&per_field));
    char *db = td_test_path("sample.db"), *error = NULL;
    td_searcher_t *fields = NULL;
    cr_assert_eq(td_searcher_open(db, &per_field, &fields, &error), TD_OK, "%s", error);
    static const char *const queries[] = {"breast cancer",
                                          "T-DXd",
                                          "HER2-low",
                                          "palbociclib letrozole",
                                          "CDK4/6 inhibitor",
                                          "ESR1 mutation",
                                          "quality of life",
                                          "metastatic",
                                          "China",
                                          "Enhertu"};
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        char seen[256];
        char *all = ids_and_fields(searcher, queries[i], seen, sizeof(seen));
        char *each = ids_and_fields(fields, queries[i], seen, sizeof(seen));
        cr_assert_str_eq(all, each, "%s", queries[i]);
        cr_assert_neq(strlen(all), 0, "%s: the check needs some matching trials", queries[i]);
        free(all);
        free(each);
    }
    /* One trial's words found through the all-fields terms are explained
     * in each field that holds them, as the fields' own terms say. */
    char all_fields_seen[256], per_field_seen[256];
    free(ids_and_fields(searcher, "ESR1 id:NCT99000006", all_fields_seen, sizeof(all_fields_seen)));
    free(ids_and_fields(fields, "ESR1 id:NCT99000006", per_field_seen, sizeof(per_field_seen)));
    cr_assert_str_eq(all_fields_seen, per_field_seen);
    cr_assert(strstr(all_fields_seen, "title") && strstr(all_fields_seen, "summary"), "%s",
              all_fields_seen);
    td_searcher_free(fields);
    free(db);
}
