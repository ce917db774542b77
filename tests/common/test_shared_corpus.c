/* Reads all of ../shared/corpus/ (real ClinicalTrials.gov records) and checks
 * the counts given in its PROVENANCE.md and parsed fields against the raw
 * files. Skipped when ../shared/ is absent. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_reader.h"
#include "td_test.h"

#define CORPUS TD_SHARED_DIR "/corpus"
#define JSONL CORPUS "/ctgov_api_v2_studies.jsonl.gz"
#define LEGACY CORPUS "/ctgov_legacy_xml_clinical_study.tar.xz"

static void require_corpus(void)
{
    if (access(JSONL, R_OK) != 0 || access(LEGACY, R_OK) != 0)
        cr_skip_test("shared corpus not found at %s; skipping the real-data checks", CORPUS);
}

TestSuite(shared_corpus, .timeout = 300);

static const char *json_path_string(json_t *root, const char *module, const char *key)
{
    json_t *value =
        json_object_get(json_object_get(json_object_get(root, "protocolSection"), module), key);
    return json_string_value(value);
}

Test(shared_corpus, api_v2_json_lines_match_the_raw_records)
{
    require_corpus();
    td_test_run_t run;
    td_test_read_one(JSONL, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_eq(run.trial_count, 1457, "PROVENANCE.md: 1,457 unique NCT IDs");
    cr_assert_eq(run.stats.rejected, 0);
    cr_assert_eq(run.stats.failed_sources, 0);

    /* Parse the raw lines independently and compare record by record. */
    FILE *raw = popen("gzip -dc '" JSONL "'", "r");
    cr_assert_not_null(raw);
    char *line = NULL;
    size_t capacity = 0;
    size_t index = 0;
    while (getline(&line, &capacity, raw) > 0) {
        cr_assert_lt(index, run.trial_count);
        const td_trial_t *trial = run.trials[index++];
        json_error_t error;
        json_t *root = json_loads(line, 0, &error);
        cr_assert_not_null(root, "line %zu: %s", index, error.text);
        cr_assert_str_eq(trial->nct_id, json_path_string(root, "identificationModule", "nctId"));
        const char *title = json_path_string(root, "identificationModule", "briefTitle");
        if (title)
            cr_assert_str_eq(trial->brief_title, title, "%s", trial->nct_id);
        const char *status = json_path_string(root, "statusModule", "overallStatus");
        if (status)
            cr_assert_str_eq(td_overall_status_name(trial->overall_status), status, "%s",
                             trial->nct_id);
        json_t *conditions = json_object_get(
            json_object_get(json_object_get(root, "protocolSection"), "conditionsModule"),
            "conditions");
        cr_assert_eq(trial->conditions.count, json_array_size(conditions), "%s", trial->nct_id);
        json_t *locations = json_object_get(
            json_object_get(json_object_get(root, "protocolSection"), "contactsLocationsModule"),
            "locations");
        cr_assert_eq(trial->location_count, json_array_size(locations), "%s", trial->nct_id);
        cr_assert_eq(trial->has_results, json_is_true(json_object_get(root, "hasResults")), "%s",
                     trial->nct_id);
        json_decref(root);
    }
    free(line);
    pclose(raw);
    cr_assert_eq(index, 1457);
    td_test_run_free(&run);
}

Test(shared_corpus, legacy_xml_archive_reads_every_study)
{
    require_corpus();
    td_test_run_t run;
    td_test_read_one(LEGACY, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_eq(run.trial_count, 6786, "PROVENANCE.md: 6,786 studies");
    cr_assert_eq(run.stats.rejected, 0);
    cr_assert_eq(run.stats.failed_sources, 0);
    size_t with_results = 0, with_criteria = 0, with_description = 0;
    for (size_t i = 0; i < run.trial_count; i++) {
        const td_trial_t *trial = run.trials[i];
        /* Members are named after their study: .../NCT00000102.xml */
        char expected[32];
        snprintf(expected, sizeof(expected), "/%s.xml", trial->nct_id);
        const char *tail = trial->source + strlen(trial->source) - strlen(expected);
        cr_assert_str_eq(tail, expected, "%s", trial->source);
        cr_assert_not_null(trial->brief_title, "%s", trial->nct_id);
        cr_assert_not_null(trial->brief_summary, "%s", trial->nct_id);
        cr_assert_neq(trial->overall_status, TD_STATUS_UNSET, "%s", trial->nct_id);
        with_results += trial->has_results;
        with_criteria += trial->eligibility_criteria != NULL;
        with_description += trial->detailed_description != NULL;
    }
    cr_assert_eq(with_results, 440, "PROVENANCE.md: clinical_results in 440 studies");
    cr_assert_eq(with_criteria, 6771, "PROVENANCE.md: criteria textblock in 6,771");
    cr_assert_eq(with_description, 6017, "PROVENANCE.md: detailed_description in 6,017");
    td_test_run_free(&run);
}

Test(shared_corpus, api_v2_sample_fields)
{
    require_corpus();
    td_test_run_t run;
    td_test_read_one(CORPUS "/samples/NCT00364754.api_v2.json", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    cr_assert_str_eq(t->nct_id, "NCT00364754");
    cr_assert_str_eq(t->org_study_id, "YMB1002 202");
    cr_assert_eq(t->overall_status, TD_STATUS_COMPLETED);
    cr_assert_eq(t->phases, TD_PHASE_1);
    cr_assert_eq(t->enrollment, 28);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ACTUAL);
    cr_assert_eq(t->sex, TD_SEX_FEMALE);
    cr_assert_eq(t->minimum_age.days, 6574);
    cr_assert_eq(t->maximum_age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_float_eq(t->maximum_age.value, 55.0, 1e-9);
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT);
    cr_assert_eq(t->start_date.year, 2004);
    cr_assert_eq(t->start_date.month, 5);
    cr_assert_eq(t->start_date.precision, TD_DATE_MONTH);
    cr_assert_eq(t->conditions.count, 1);
    cr_assert_str_eq(t->conditions.items[0], "Metastatic/Recurrent Breast Cancer");
    cr_assert_eq(t->keywords.count, 6);
    cr_assert_str_eq(t->keywords.items[1], "DPPE");
    cr_assert_eq(t->intervention_count, 1);
    cr_assert_str_eq(t->interventions[0].name, "Tesmilifene (YMB 1002)");
    cr_assert_eq(t->location_count, 10);
    cr_assert_str_eq(t->locations[0].city, "Tbilisi");
    cr_assert_str_eq(t->locations[0].country, "Georgia");
    cr_assert(t->locations[0].has_geo);
    cr_assert_float_eq(t->locations[0].latitude, 41.69143, 1e-9);
    cr_assert_eq(t->condition_mesh_terms.count, 1);
    cr_assert_str_eq(t->condition_mesh_terms.items[0], "Breast Neoplasms");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_INDUSTRY);
    cr_assert_not(t->has_results);
    td_test_run_free(&run);
}

Test(shared_corpus, legacy_xml_sample_fields)
{
    require_corpus();
    td_test_run_t run;
    td_test_read_one(CORPUS "/samples/NCT00491816.legacy.xml", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    cr_assert_str_eq(t->nct_id, "NCT00491816");
    cr_assert_str_eq(t->brief_title,
                     "Erlotinib Plus Chemotherapy for Treatment of Triple Negative Breast Cancer");
    cr_assert_eq(t->overall_status, TD_STATUS_UNKNOWN);
    cr_assert_eq(t->phases, TD_PHASE_2);
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_INTERVENTIONAL);
    cr_assert_eq(t->start_date.year, 2007);
    cr_assert_eq(t->start_date.month, 7);
    cr_assert_eq(t->sex, TD_SEX_FEMALE);
    cr_assert_eq(t->minimum_age.days, 6574);
    cr_assert_eq(t->maximum_age.days, -1);
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
    cr_assert_str_eq(t->conditions.items[0], "Breast Cancer");
    cr_assert_str_eq(t->interventions[0].name, "Erlotinib with neoadjuvant chemotherapy");
    cr_assert_eq(t->intervention_mesh_terms.count, 1);
    cr_assert_str_eq(t->intervention_mesh_terms.items[0], "Erlotinib Hydrochloride");
    cr_assert_eq(t->location_count, 1);
    cr_assert_str_eq(t->locations[0].city, "Kansas City");
    cr_assert_str_eq(t->lead_sponsor.name, "University of Kansas Medical Center");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_OTHER);
    cr_assert_eq(t->collaborator_count, 1);
    cr_assert_eq(t->collaborators[0].sponsor_class, TD_SPONSOR_INDUSTRY);
    cr_assert_not_null(strstr(t->brief_summary, "pathological complete response rate (pCR)"));
    td_test_run_free(&run);
}

Test(shared_corpus, whole_directory_reads_records_and_skips_the_rest)
{
    require_corpus();
    td_test_run_t run;
    td_test_read_one(CORPUS, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    /* 1,457 + 6,786 studies, plus the two copies in samples/. */
    cr_assert_eq(run.trial_count, 1457 + 6786 + 2);
    cr_assert_eq(run.stats.rejected, 0);
    cr_assert_eq(run.stats.failed_sources, 0);
    /* PROVENANCE.md, the TSV and the two CSV exports are passed over. */
    cr_assert_eq(run.stats.sources, 1 + 2 + 6786, "the JSON Lines, the samples, the XML files");
    td_test_run_free(&run);
}
