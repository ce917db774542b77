/* test_reader_json.c - the API v2 JSON and BEIR mappers (reader_json.c),
 * through the public reader and, for field-type errors, directly. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "td_reader.h"
#include "td_test.h"

/* Reads one file of tests/fixtures through the public reader. */
static void read_fixture(const char *name, td_format_t format, td_test_run_t *run)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TD_FIXTURES_DIR, name);
    td_test_read_one(path, format, run);
    cr_assert_eq(run->status, TD_DONE);
}

/* ---- through the public reader ---- */

Test(reader_json, full_record_maps_every_field)
{
    td_test_run_t run;
    read_fixture("json/full.json", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.diag_count, 0, "first diagnostic: %s",
                 run.diag_count ? run.diags[0].message : "");
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];

    cr_assert_str_eq(t->nct_id, "NCT09000001");
    TD_TEST_ASSERT_LIST(t->nct_aliases, "NCT08999990");
    cr_assert_str_eq(t->org_study_id, "NCI-ONC-2023-0117");
    TD_TEST_ASSERT_LIST(t->secondary_ids, "2023-501234-12-00", "U10CA180888");
    cr_assert_str_eq(t->acronym, "NORTH-HER2");
    cr_assert_str_eq(t->brief_title, "Trastuzumab Deruxtecan Plus Pertuzumab in HER2-Positive "
                                     "Metastatic Breast Cancer");
    cr_assert(strncmp(t->official_title, "A Randomized, Open-Label Phase 2/3 Study", 39) == 0);

    /* Surrounding white space is trimmed; inner line breaks are kept. */
    cr_assert(strncmp(t->brief_summary, "This study compares trastuzumab deruxtecan", 42) == 0);
    cr_assert_eq(t->brief_summary[strlen(t->brief_summary) - 1], '.');
    cr_assert_not_null(strstr(t->detailed_description, "and pertuzumab.\n\nTumour assessments"));

    TD_TEST_ASSERT_LIST(t->conditions, "HER2-positive Breast Cancer", "Metastatic Breast Cancer");
    TD_TEST_ASSERT_LIST(t->keywords, "trastuzumab deruxtecan", "T-DXd", "pertuzumab", "HER2");
    TD_TEST_ASSERT_LIST(t->condition_mesh_terms, "Breast Neoplasms");
    TD_TEST_ASSERT_LIST(t->intervention_mesh_terms, "Trastuzumab", "pertuzumab",
                        "trastuzumab deruxtecan");

    cr_assert_eq(t->overall_status, TD_STATUS_RECRUITING);
    cr_assert_eq(t->phases, TD_PHASE_2 | TD_PHASE_3);
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_INTERVENTIONAL);
    cr_assert_str_eq(t->design.allocation, "RANDOMIZED");
    cr_assert_str_eq(t->design.intervention_model, "PARALLEL");
    cr_assert_str_eq(t->design.primary_purpose, "TREATMENT");
    cr_assert_str_eq(t->design.masking, "NONE");
    cr_assert_null(t->design.observational_model);
    cr_assert_null(t->design.time_perspective);
    cr_assert_eq(t->enrollment, 420);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ESTIMATED);

    td_test_assert_date(t->start_date, 2023, 5, 17, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    td_test_assert_date(t->primary_completion_date, 2026, 12, 0, TD_DATE_MONTH,
                        TD_ACTUALITY_ESTIMATED);
    td_test_assert_date(t->completion_date, 2028, 6, 30, TD_DATE_DAY, TD_ACTUALITY_ESTIMATED);
    td_test_assert_date(t->first_posted_date, 2023, 4, 2, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    td_test_assert_date(t->last_update_date, 2024, 11, 8, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);

    cr_assert_str_eq(t->lead_sponsor.name, "Northbridge Cancer Institute");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_OTHER);
    cr_assert_eq(t->collaborator_count, 2);
    cr_assert_str_eq(t->collaborators[0].name, "Daiichi Sankyo");
    cr_assert_eq(t->collaborators[0].sponsor_class, TD_SPONSOR_INDUSTRY);
    cr_assert_str_eq(t->collaborators[1].name, "National Cancer Institute (NCI)");
    cr_assert_eq(t->collaborators[1].sponsor_class, TD_SPONSOR_NIH);

    cr_assert_eq(t->arm_group_count, 2);
    cr_assert_str_eq(t->arm_groups[0].label, "Arm A: T-DXd + pertuzumab");
    cr_assert_str_eq(t->arm_groups[0].type, "EXPERIMENTAL");
    cr_assert_str_eq(t->arm_groups[0].description,
                     "Trastuzumab deruxtecan 5.4 mg/kg IV with pertuzumab every 21 days.");
    TD_TEST_ASSERT_LIST(t->arm_groups[0].intervention_names, "Drug: Trastuzumab deruxtecan",
                        "Drug: Pertuzumab");
    cr_assert_str_eq(t->arm_groups[1].type, "ACTIVE_COMPARATOR");
    TD_TEST_ASSERT_LIST(t->arm_groups[1].intervention_names, "Drug: Docetaxel",
                        "Biological: Trastuzumab", "Drug: Pertuzumab");

    cr_assert_eq(t->intervention_count, 3);
    const td_intervention_t *tdxd = &t->interventions[0];
    cr_assert_eq(tdxd->type, TD_INTERVENTION_DRUG);
    cr_assert_str_eq(tdxd->name, "Trastuzumab deruxtecan");
    cr_assert_str_eq(tdxd->description, "5.4 mg/kg intravenously on day 1 of each 21-day cycle.");
    TD_TEST_ASSERT_LIST(tdxd->other_names, "T-DXd", "DS-8201a", "Enhertu");
    TD_TEST_ASSERT_LIST(tdxd->arm_group_labels, "Arm A: T-DXd + pertuzumab");
    cr_assert_null(t->interventions[1].description);
    TD_TEST_ASSERT_LIST(t->interventions[1].arm_group_labels, "Arm A: T-DXd + pertuzumab",
                        "Arm B: THP");
    TD_TEST_ASSERT_LIST(t->interventions[1].other_names, "Perjeta");
    cr_assert_eq(t->interventions[2].type, TD_INTERVENTION_BIOLOGICAL);
    cr_assert_eq(t->interventions[2].other_names.count, 0);
    cr_assert_null(t->interventions[2].other_names.items);

    cr_assert_eq(t->primary_outcome_count, 1);
    cr_assert_str_eq(t->primary_outcomes[0].measure, "Progression-free survival (PFS)");
    cr_assert_str_eq(t->primary_outcomes[0].time_frame, "Up to 36 months");
    cr_assert(strncmp(t->primary_outcomes[0].description, "Time from randomization", 23) == 0);
    cr_assert_eq(t->secondary_outcome_count, 2);
    cr_assert_str_eq(t->secondary_outcomes[0].measure, "Overall survival (OS)");
    cr_assert_null(t->secondary_outcomes[0].description);
    cr_assert_str_eq(t->secondary_outcomes[1].description,
                     "Complete or partial response per RECIST 1.1.");

    cr_assert(strncmp(t->eligibility_criteria, "Inclusion Criteria:", 19) == 0);
    cr_assert_not_null(strstr(t->eligibility_criteria, "Exclusion Criteria:"));
    cr_assert_eq(t->healthy_volunteers, TD_NO);
    cr_assert_eq(t->sex, TD_SEX_ALL);
    cr_assert_eq(t->minimum_age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_float_eq(t->minimum_age.value, 18.0, 1e-9);
    cr_assert_eq(t->minimum_age.days, 6574);
    cr_assert_eq(t->maximum_age.days, 27393); /* 75 * 365.25, floored */
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);

    cr_assert_eq(t->location_count, 3);
    const td_location_t *boston = &t->locations[0];
    cr_assert_str_eq(boston->facility, "Northbridge Cancer Institute");
    cr_assert_eq(boston->status, TD_STATUS_RECRUITING);
    cr_assert_str_eq(boston->city, "Boston");
    cr_assert_str_eq(boston->state, "Massachusetts");
    cr_assert_str_eq(boston->zip, "02215");
    cr_assert_str_eq(boston->country, "United States");
    cr_assert(boston->has_geo);
    cr_assert_float_eq(boston->latitude, 42.35843, 1e-9);
    cr_assert_float_eq(boston->longitude, -71.05977, 1e-9);
    cr_assert_str_eq(t->locations[1].facility, "Hôpital Saint-Louis");
    cr_assert_eq(t->locations[1].status, TD_STATUS_NOT_YET_RECRUITING);
    cr_assert_null(t->locations[1].state);
    cr_assert_float_eq(t->locations[1].longitude, 2.3488, 1e-9);
    cr_assert_str_eq(t->locations[2].country, "Korea, Republic of");
    cr_assert_eq(t->locations[2].status, TD_STATUS_UNSET);
    cr_assert_not(t->locations[2].has_geo);

    cr_assert(t->has_results);
    cr_assert_eq(run.stats.records, 1);
    cr_assert_eq(run.stats.warnings, 0);
    td_test_run_free(&run);
}

Test(reader_json, wrong_types_are_reported_and_skipped)
{
    td_test_run_t run;
    read_fixture("json/wrong_types.json", TD_FORMAT_AUTO, &run);
    static const char *const expected[] = {
        "protocolSection.identificationModule.orgStudyIdInfo: expected object, got string",
        "protocolSection.identificationModule.briefTitle: expected string, got integer",
        "protocolSection.statusModule.startDateStruct: expected object, got string",
        "protocolSection.sponsorCollaboratorsModule: expected object, got boolean",
        "protocolSection.conditionsModule.conditions: expected array, got string",
        "protocolSection.conditionsModule.keywords[1]: expected string, got integer",
        "protocolSection.designModule.phases: expected array, got string",
        "protocolSection.designModule.designInfo: expected object, got array",
        "protocolSection.designModule.enrollmentInfo.count: expected integer, got string",
        "protocolSection.armsInterventionsModule.armGroups[0]: expected object, got string",
        "protocolSection.armsInterventionsModule.interventions: expected array, got object",
        "protocolSection.outcomesModule.primaryOutcomes[0].timeFrame: expected string, got integer",
        "protocolSection.eligibilityModule.healthyVolunteers: expected boolean, got string",
        "protocolSection.eligibilityModule.minimumAge: expected string, got integer",
        "protocolSection.contactsLocationsModule.locations[0].geoPoint.lat: expected number, got "
        "string",
        "derivedSection.conditionBrowseModule.meshes[1].term: expected string, got array",
        "hasResults: expected boolean, got string",
    };
    size_t count = sizeof(expected) / sizeof(expected[0]);
    cr_assert_eq(run.diag_count, count, "%zu diagnostics", run.diag_count);
    for (size_t i = 0; i < count; i++) {
        td_test_assert_diag(&run, i, TD_DIAG_WARNING, "line 1", expected[i]);
        cr_assert_str_eq(run.diags[i].nct_id, "NCT09000002");
    }
    cr_assert_eq(run.stats.warnings, count);
    cr_assert_eq(run.stats.rejected, 0);

    /* The record is kept with everything that was well typed. */
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    cr_assert_null(t->brief_title);
    cr_assert_null(t->org_study_id);
    cr_assert_str_eq(t->official_title, "Osimertinib With or Without Chemotherapy in EGFR-Mutant "
                                        "Non-Small Cell Lung Cancer");
    cr_assert_eq(t->overall_status, TD_STATUS_COMPLETED);
    cr_assert_eq(t->start_date.precision, TD_DATE_NONE);
    td_test_assert_date(t->completion_date, 2022, 8, 31, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    cr_assert_null(t->lead_sponsor.name);
    cr_assert_eq(t->conditions.count, 0);
    TD_TEST_ASSERT_LIST(t->keywords, "NSCLC", "EGFR");
    cr_assert_eq(t->phases, 0);
    cr_assert_null(t->design.allocation);
    cr_assert_eq(t->enrollment, -1);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ACTUAL);
    cr_assert_eq(t->arm_group_count, 1);
    cr_assert_str_eq(t->arm_groups[0].label, "Osimertinib + pemetrexed/platinum");
    TD_TEST_ASSERT_LIST(t->arm_groups[0].intervention_names, "Drug: Osimertinib",
                        "Drug: Pemetrexed");
    cr_assert_eq(t->intervention_count, 0);
    cr_assert_null(t->interventions);
    cr_assert_eq(t->primary_outcome_count, 1);
    cr_assert_str_eq(t->primary_outcomes[0].measure, "Progression-free survival");
    cr_assert_null(t->primary_outcomes[0].time_frame);
    cr_assert_eq(t->healthy_volunteers, TD_UNSPECIFIED);
    cr_assert_eq(t->minimum_age.days, -1);
    cr_assert_eq(t->location_count, 1);
    cr_assert_str_eq(t->locations[0].city, "Taipei");
    cr_assert_not(t->locations[0].has_geo);
    TD_TEST_ASSERT_LIST(t->condition_mesh_terms, "Carcinoma, Non-Small-Cell Lung");
    cr_assert_not(t->has_results);
    td_test_run_free(&run);
}

Test(reader_json, bad_nct_ids_reject_the_record_only)
{
    td_test_run_t run;
    read_fixture("json/bad_ids.jsonl", TD_FORMAT_CTGOV_JSON, &run);
    cr_assert_eq(run.diag_count, 5);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "line 2",
                        "protocolSection.identificationModule.nctId: missing NCT ID");
    td_test_assert_diag(&run, 1, TD_DIAG_ERROR, "line 3",
                        "protocolSection.identificationModule.nctId: malformed NCT ID 'NCT123'");
    td_test_assert_diag(&run, 2, TD_DIAG_ERROR, "line 4",
                        "protocolSection.identificationModule.nctId: expected string, got integer");
    td_test_assert_diag(&run, 3, TD_DIAG_ERROR, "line 6",
                        "protocolSection.identificationModule: expected object, got array");
    td_test_assert_diag(&run, 4, TD_DIAG_ERROR, "line 7",
                        "protocolSection.identificationModule.nctId: missing NCT ID");
    for (size_t i = 0; i < run.diag_count; i++)
        cr_assert_str_eq(run.diags[i].nct_id, "");

    cr_assert_eq(run.stats.rejected, 5);
    cr_assert_eq(run.stats.records, 2);
    cr_assert_eq(run.trial_count, 2);
    cr_assert_str_eq(run.trials[0]->nct_id, "NCT09000011");
    cr_assert_eq(run.trials[0]->overall_status, TD_STATUS_ACTIVE_NOT_RECRUITING);
    cr_assert_str_eq(run.trials[0]->position, "line 1");
    /* Case and surrounding spaces are forgiven; the ID is stored canonically. */
    cr_assert_str_eq(run.trials[1]->nct_id, "NCT09000015");
    cr_assert_str_eq(run.trials[1]->position, "line 5");
    cr_assert(run.trials[1]->has_results);
    td_test_run_free(&run);
}

Test(reader_json, unknown_enum_values_warn_and_fall_back)
{
    td_test_run_t run;
    read_fixture("json/unknown_enums.json", TD_FORMAT_AUTO, &run);
    static const char *const expected[] = {
        "unknown protocolSection.statusModule.overallStatus 'PAUSED'",
        "unknown protocolSection.statusModule.startDateStruct.type 'PROJECTED'",
        "unknown protocolSection.sponsorCollaboratorsModule.leadSponsor.class 'PHARMA'",
        "unknown protocolSection.designModule.studyType 'INTERVENTIONAL_PLUS'",
        "unknown protocolSection.designModule.phases[1] 'PHASE5'",
        "unknown protocolSection.designModule.enrollmentInfo.type 'GUESSED'",
        "unknown protocolSection.armsInterventionsModule.interventions[0].type 'VACCINE'",
        "unknown protocolSection.eligibilityModule.sex 'UNSPECIFIED'",
        "unknown protocolSection.eligibilityModule.stdAges[1] 'SENIOR'",
        "unknown protocolSection.contactsLocationsModule.locations[0].status 'OPEN'",
    };
    size_t count = sizeof(expected) / sizeof(expected[0]);
    cr_assert_eq(run.diag_count, count, "%zu diagnostics", run.diag_count);
    for (size_t i = 0; i < count; i++)
        td_test_assert_diag(&run, i, TD_DIAG_WARNING, "line 1", expected[i]);

    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    cr_assert_eq(t->overall_status, TD_STATUS_OTHER);
    td_test_assert_date(t->start_date, 2024, 2, 1, TD_DATE_DAY, TD_ACTUALITY_UNSPECIFIED);
    cr_assert_str_eq(t->lead_sponsor.name, "Moderna Oncology Consortium");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_UNKNOWN);
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_OTHER);
    cr_assert_eq(t->phases, TD_PHASE_2);
    cr_assert_eq(t->enrollment, 150);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_UNSPECIFIED);
    cr_assert_eq(t->intervention_count, 2);
    cr_assert_eq(t->interventions[0].type, TD_INTERVENTION_OTHER);
    cr_assert_str_eq(t->interventions[0].name, "mRNA-4157");
    cr_assert_eq(t->interventions[1].type, TD_INTERVENTION_DRUG);
    cr_assert_eq(t->sex, TD_SEX_UNSET);
    /* A stdAges list with a known value is kept as given, not derived. */
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT);
    cr_assert_eq(t->locations[0].status, TD_STATUS_OTHER);
    td_test_run_free(&run);
}

Test(reader_json, age_limits_and_derived_std_ages)
{
    td_test_run_t run;
    read_fixture("json/ages.jsonl", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 6);
    const unsigned all = TD_STD_AGE_CHILD | TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT;

    /* "N/A" and absent both mean no limit. */
    for (size_t i = 0; i < 2; i++) {
        const td_trial_t *t = run.trials[i];
        cr_assert_eq(t->minimum_age.unit, TD_AGE_UNIT_NONE);
        cr_assert_eq(t->minimum_age.days, -1);
        cr_assert_eq(t->maximum_age.unit, TD_AGE_UNIT_NONE);
        cr_assert_eq(t->maximum_age.days, -1);
        cr_assert_eq(t->std_ages, all, "trial %zu", i);
    }
    cr_assert_eq(run.trials[1]->sex, TD_SEX_FEMALE);

    const td_trial_t *adults = run.trials[2];
    cr_assert_eq(adults->minimum_age.days, 6574);
    cr_assert_eq(adults->minimum_age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_eq(adults->std_ages, TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);

    const td_trial_t *children = run.trials[3];
    cr_assert_eq(children->minimum_age.unit, TD_AGE_UNIT_MONTHS);
    cr_assert_eq(children->minimum_age.days, 182);  /* 6 * 30.4375, floored */
    cr_assert_eq(children->maximum_age.days, 6209); /* 17 * 365.25, floored */
    cr_assert_eq(children->std_ages, TD_STD_AGE_CHILD);

    const td_trial_t *unreadable = run.trials[4];
    cr_assert_eq(unreadable->minimum_age.days, -1);
    cr_assert_eq(unreadable->maximum_age.days, 25567);
    cr_assert_eq(unreadable->std_ages, all);

    cr_assert_eq(run.trials[5]->std_ages, TD_STD_AGE_CHILD);
    cr_assert_eq(run.trials[5]->sex, TD_SEX_MALE);

    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "line 5",
                        "bad protocolSection.eligibilityModule.minimumAge 'eighteen'");
    cr_assert_str_eq(run.diags[0].nct_id, "NCT09000025");
    td_test_run_free(&run);
}

Test(reader_json, partial_and_bad_dates)
{
    td_test_run_t run;
    read_fixture("json/dates.json", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    td_test_assert_date(t->start_date, 2023, 5, 0, TD_DATE_MONTH, TD_ACTUALITY_UNSPECIFIED);
    td_test_assert_date(t->primary_completion_date, 2025, 0, 0, TD_DATE_YEAR,
                        TD_ACTUALITY_ESTIMATED);
    td_test_assert_date(t->completion_date, 0, 0, 0, TD_DATE_NONE, TD_ACTUALITY_UNSPECIFIED);
    td_test_assert_date(t->first_posted_date, 2023, 5, 17, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    /* A type without a date is no date. */
    td_test_assert_date(t->last_update_date, 0, 0, 0, TD_DATE_NONE, TD_ACTUALITY_UNSPECIFIED);
    cr_assert_eq(t->overall_status, TD_STATUS_UNKNOWN);
    cr_assert_eq(run.diag_count, 1);
    td_test_assert_diag(&run, 0, TD_DIAG_WARNING, "line 1",
                        "bad protocolSection.statusModule.completionDateStruct.date '2023-13-01'");
    td_test_run_free(&run);
}

Test(reader_json, beir_documents)
{
    td_test_run_t run;
    read_fixture("beir/corpus.jsonl", TD_FORMAT_BEIR, &run);
    cr_assert_eq(run.diag_count, 5);
    td_test_assert_diag(&run, 0, TD_DIAG_ERROR, "line 2", "_id: missing NCT ID");
    td_test_assert_diag(&run, 1, TD_DIAG_ERROR, "line 3", "_id: malformed NCT ID 'doc-17'");
    td_test_assert_diag(&run, 2, TD_DIAG_ERROR, "line 4", "text: missing");
    cr_assert_str_eq(run.diags[2].nct_id, "NCT09000104");
    td_test_assert_diag(&run, 3, TD_DIAG_WARNING, "line 6", "title: expected string, got integer");
    cr_assert_str_eq(run.diags[3].nct_id, "NCT09000106");
    td_test_assert_diag(&run, 4, TD_DIAG_ERROR, "line 7", "text: expected string, got array");
    cr_assert_eq(run.stats.rejected, 4);
    cr_assert_eq(run.stats.warnings, 1);

    cr_assert_eq(run.trial_count, 3);
    const td_trial_t *t = run.trials[0];
    cr_assert_str_eq(t->nct_id, "NCT09000101");
    cr_assert_str_eq(t->brief_title,
                     "Pembrolizumab Versus Chemotherapy in PD-L1-High Advanced NSCLC");
    cr_assert(strncmp(t->brief_summary, "A phase 3 study of first-line pembrolizumab", 43) == 0);
    /* BEIR carries no structured fields. */
    cr_assert_eq(t->overall_status, TD_STATUS_UNSET);
    cr_assert_eq(t->enrollment, -1);
    cr_assert_eq(t->std_ages, 0);
    cr_assert_str_eq(run.trials[1]->nct_id, "NCT09000105");
    cr_assert_null(run.trials[1]->brief_title);
    cr_assert_not_null(run.trials[1]->brief_summary);
    cr_assert_str_eq(run.trials[2]->nct_id, "NCT09000106");
    cr_assert_null(run.trials[2]->brief_title);
    td_test_run_free(&run);
}

Test(reader_json, beir_detected_automatically)
{
    td_test_run_t run;
    read_fixture("beir/corpus.jsonl", TD_FORMAT_AUTO, &run);
    cr_assert_geq(run.trial_count, 1);
    cr_assert_str_eq(run.trials[0]->nct_id, "NCT09000101");
    cr_assert_not_null(run.trials[0]->brief_summary);
    td_test_run_free(&run);
}

/* ---- the real records in ../shared, when present ---- */

static bool shared_file(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/corpus/%s", TD_SHARED_DIR, name);
    return access(path, R_OK) == 0;
}

Test(reader_json, real_sample_record)
{
    char path[512];
    if (!shared_file(path, sizeof(path), "samples/NCT00364754.api_v2.json"))
        cr_skip_test("shared corpus not present: %s", path);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    cr_assert_str_eq(t->nct_id, "NCT00364754");
    cr_assert_str_eq(t->org_study_id, "YMB1002 202");
    cr_assert_str_eq(t->brief_title, "Pharmacokinetic Study of Tesmilifene (YMB1002) Plus "
                                     "Epirubicin and Cyclophosphamide in Metastatic Breast Cancer");
    cr_assert_eq(t->overall_status, TD_STATUS_COMPLETED);
    cr_assert_eq(t->phases, TD_PHASE_1);
    td_test_assert_date(t->start_date, 2004, 5, 0, TD_DATE_MONTH, TD_ACTUALITY_UNSPECIFIED);
    td_test_assert_date(t->first_posted_date, 2006, 8, 16, TD_DATE_DAY, TD_ACTUALITY_ESTIMATED);
    cr_assert_eq(t->enrollment, 28);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ACTUAL);
    cr_assert_str_eq(t->design.allocation, "NA");
    cr_assert_str_eq(t->design.intervention_model, "SINGLE_GROUP");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_INDUSTRY);
    cr_assert_eq(t->intervention_count, 1);
    cr_assert_str_eq(t->interventions[0].name, "Tesmilifene (YMB 1002)");
    TD_TEST_ASSERT_LIST(t->condition_mesh_terms, "Breast Neoplasms");
    TD_TEST_ASSERT_LIST(t->intervention_mesh_terms, "tesmilifene");
    cr_assert_gt(t->location_count, 0);
    const td_location_t *lviv = &t->locations[t->location_count - 1];
    cr_assert_str_eq(lviv->city, "Lviv");
    cr_assert(lviv->has_geo);
    cr_assert_float_eq(lviv->latitude, 49.83826, 1e-9);
    cr_assert_float_eq(lviv->longitude, 24.02324, 1e-9);
    cr_assert_not(t->has_results);
    td_test_run_free(&run);
}

/* Counts diagnostics and logs them, so a failure shows what went wrong. */
static void count_diagnostic(const td_diagnostic_t *diagnostic, void *user)
{
    size_t *count = user;
    (*count)++;
    cr_log_warn("%s %s: %s", diagnostic->position, diagnostic->nct_id, diagnostic->message);
}

Test(reader_json, real_corpus_maps_without_diagnostics, .timeout = 120)
{
    char path[512];
    if (!shared_file(path, sizeof(path), "ctgov_api_v2_studies.jsonl.gz"))
        cr_skip_test("shared corpus not present: %s", path);
    const char *sources[] = {path};
    size_t diagnostics = 0, with_geo = 0, with_mesh = 0;
    td_reader_t *reader = NULL;
    cr_assert_eq(
        td_reader_open(sources, 1, TD_FORMAT_CTGOV_JSON, count_diagnostic, &diagnostics, &reader),
        TD_OK);
    td_trial_t *t;
    while (td_reader_next(reader, &t) == TD_OK) {
        cr_assert_not_null(t->brief_title, "%s has no title", t->nct_id);
        cr_assert_neq(t->overall_status, TD_STATUS_OTHER, "%s", t->nct_id);
        with_geo += t->location_count && t->locations[0].has_geo;
        with_mesh += t->condition_mesh_terms.count > 0;
        td_trial_free(t);
    }
    td_reader_stats_t stats = td_reader_stats(reader);
    td_reader_close(reader);
    cr_assert_eq(stats.records, 1457);
    cr_assert_eq(stats.rejected, 0);
    cr_assert_eq(diagnostics, 0);
    cr_assert_gt(with_geo, 1000);
    cr_assert_gt(with_mesh, 1000);
}

/* The project's own demo studies must map cleanly: they are what users see
 * first. */
Test(reader_json, sample_corpus_maps_without_diagnostics)
{
    const char *sources[] = {TD_SAMPLE_DIR};
    size_t diagnostics = 0;
    td_reader_t *reader = NULL;
    cr_assert_eq(
        td_reader_open(sources, 1, TD_FORMAT_AUTO, count_diagnostic, &diagnostics, &reader), TD_OK);
    td_trial_t *t;
    while (td_reader_next(reader, &t) == TD_OK) {
        cr_assert_not_null(t->brief_title, "%s has no title", t->nct_id);
        td_trial_free(t);
    }
    td_reader_stats_t stats = td_reader_stats(reader);
    td_reader_close(reader);
    cr_assert_gt(stats.records, 0);
    cr_assert_eq(stats.rejected, 0);
    cr_assert_eq(diagnostics, 0);
}

/* ---- the mappers directly, on JSON built in the test ---- */

typedef struct direct {
    td_test_run_t run; /* only its diagnostics */
    td_record_ctx_t ctx;
    json_t *json;
    td_status_t status;
} direct_t;

static void map_direct(direct_t *d, const char *text, bool beir)
{
    memset(d, 0, sizeof(*d));
    json_error_t error;
    d->json = json_loads(text, JSON_DECODE_ANY, &error);
    cr_assert_not_null(d->json, "test JSON: %s", error.text);
    d->ctx.trial = td_trial_new();
    cr_assert_not_null(d->ctx.trial);
    d->ctx.source = "direct";
    d->ctx.position = "record 1";
    d->ctx.on_diag = td_test_collect_diag;
    d->ctx.user = &d->run;
    d->status = beir ? td_map_beir(&d->ctx, d->json) : td_map_ctgov_json(&d->ctx, d->json);
}

static void free_direct(direct_t *d)
{
    json_decref(d->json);
    td_trial_free(d->ctx.trial);
    td_test_run_free(&d->run);
}

/* A minimal study, NCT09000031, with `fields` (members, each after a comma)
 * added to its protocolSection. */
#define STUDY(fields)                                                                              \
    "{\"protocolSection\": {\"identificationModule\": {\"nctId\": \"NCT09000031\"}" fields "}}"

Test(reader_json, direct_non_object_study_is_rejected)
{
    static const struct {
        const char *json;
        const char *error;
    } cases[] = {
        {"[{\"protocolSection\": {}}]", "expected a study object, got array"},
        {"\"NCT09000031\"", "expected a study object, got string"},
        {"{\"protocolSection\": \"NCT09000031\"}", "protocolSection: expected object, got string"},
        {"{\"protocolSection\": null}",
         "protocolSection.identificationModule.nctId: missing NCT ID"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        direct_t d;
        map_direct(&d, cases[i].json, false);
        cr_assert_eq(d.status, TD_ERR_BAD_INPUT, "case %zu", i);
        cr_assert_str_eq(d.ctx.error, cases[i].error);
        cr_assert_eq(d.run.diag_count, 0);
        free_direct(&d);
    }
}

Test(reader_json, direct_nested_item_paths)
{
    direct_t d;
    map_direct(&d,
               STUDY(", \"armsInterventionsModule\": {\"interventions\": ["
                     "{\"type\": \"DRUG\", \"name\": \"Capecitabine\"},"
                     "{\"type\": \"DRUG\", \"name\": \"Tucatinib\", \"otherNames\": [\"ONT-380\", "
                     "{\"name\": \"Tukysa\"}, \"Tukysa\"]}]}"),
               false);
    cr_assert_eq(d.status, TD_OK);
    cr_assert_eq(d.run.diag_count, 1);
    td_test_assert_diag(&d.run, 0, TD_DIAG_WARNING, "record 1",
                        "protocolSection.armsInterventionsModule.interventions[1].otherNames[1]: "
                        "expected string, got object");
    cr_assert_str_eq(d.run.diags[0].nct_id, "NCT09000031");
    const td_trial_t *t = d.ctx.trial;
    cr_assert_eq(t->intervention_count, 2);
    TD_TEST_ASSERT_LIST(t->interventions[1].other_names, "ONT-380", "Tukysa");
    cr_assert_eq(d.ctx.warnings, 1);
    free_direct(&d);
}

Test(reader_json, direct_nulls_are_absent)
{
    direct_t d;
    map_direct(&d,
               STUDY(", \"descriptionModule\": {\"briefSummary\": null}, \"conditionsModule\": "
                     "{\"conditions\": null, \"keywords\": [null, \"HER2\"]}, \"designModule\": "
                     "{\"enrollmentInfo\": null}"),
               false);
    cr_assert_eq(d.status, TD_OK);
    cr_assert_eq(d.run.diag_count, 0);
    cr_assert_null(d.ctx.trial->brief_summary);
    cr_assert_eq(d.ctx.trial->conditions.count, 0);
    TD_TEST_ASSERT_LIST(d.ctx.trial->keywords, "HER2");
    cr_assert_eq(d.ctx.trial->enrollment, -1);
    free_direct(&d);
}

Test(reader_json, direct_bad_numbers)
{
    direct_t d;
    map_direct(&d,
               STUDY(", \"designModule\": {\"enrollmentInfo\": {\"count\": -5, \"type\": "
                     "\"ACTUAL\"}}, \"contactsLocationsModule\": {\"locations\": [{\"city\": "
                     "\"Lyon\", \"geoPoint\": {\"lat\": 145.76, \"lon\": 4.84}}, {\"city\": "
                     "\"Nantes\", \"geoPoint\": {\"lat\": 47.21725, \"lon\": -1.55336}}]}"),
               false);
    cr_assert_eq(d.status, TD_OK);
    cr_assert_eq(d.run.diag_count, 2);
    td_test_assert_diag(&d.run, 0, TD_DIAG_WARNING, "record 1",
                        "bad protocolSection.designModule.enrollmentInfo.count '-5'");
    td_test_assert_diag(&d.run, 1, TD_DIAG_WARNING, "record 1",
                        "bad protocolSection.contactsLocationsModule.locations[0].geoPoint "
                        "'145.76, 4.84'");
    const td_trial_t *t = d.ctx.trial;
    cr_assert_eq(t->enrollment, -1);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ACTUAL);
    cr_assert_not(t->locations[0].has_geo);
    cr_assert(t->locations[1].has_geo);
    cr_assert_float_eq(t->locations[1].latitude, 47.21725, 1e-9);
    free_direct(&d);
}

Test(reader_json, direct_beir_id_of_wrong_type)
{
    direct_t d;
    map_direct(&d, "{\"_id\": 9000201, \"text\": \"Trastuzumab in gastric cancer.\"}", true);
    cr_assert_eq(d.status, TD_ERR_BAD_INPUT);
    cr_assert_str_eq(d.ctx.error, "_id: expected string, got integer");
    free_direct(&d);

    map_direct(&d, "[\"NCT09000201\"]", true);
    cr_assert_eq(d.status, TD_ERR_BAD_INPUT);
    cr_assert_str_eq(d.ctx.error, "expected a BEIR document object, got array");
    free_direct(&d);
}

static void check_one_line(const td_diagnostic_t *diagnostic, void *user)
{
    (void) user;
    cr_assert_gt(strlen(diagnostic->message), 0);
    cr_assert_null(strchr(diagnostic->message, '\n'), "%s", diagnostic->message);
}

/* Replaces each member and array item under `node`, in turn, by a value of
 * every JSON type, maps the whole study each time, and puts it back. */
static void replace_each_value(json_t *study, json_t *node, json_t *const *replacements,
                               size_t replacement_count, size_t *mappings)
{
    size_t size = json_is_array(node) ? json_array_size(node) : 0;
    void *iter = json_is_object(node) ? json_object_iter(node) : NULL;
    for (size_t i = 0; i < size || iter; i++) {
        const char *key = iter ? json_object_iter_key(iter) : "";
        /* Only the NCT ID and the objects holding it are required. */
        bool required = (node == study && strcmp(key, "protocolSection") == 0) ||
                        strcmp(key, "identificationModule") == 0 || strcmp(key, "nctId") == 0;
        json_t *original =
            json_incref(iter ? json_object_iter_value(iter) : json_array_get(node, i));
        for (size_t r = 0; r < replacement_count; r++) {
            if (iter)
                json_object_iter_set(node, iter, replacements[r]);
            else
                json_array_set(node, i, replacements[r]);
            td_record_ctx_t ctx = {.trial = td_trial_new(), .on_diag = check_one_line};
            cr_assert_not_null(ctx.trial);
            td_status_t status = td_map_ctgov_json(&ctx, study);
            if (required) {
                cr_assert(status == TD_OK || status == TD_ERR_BAD_INPUT);
            } else {
                cr_assert_eq(status, TD_OK, "replacing %s: %s", key, ctx.error);
                cr_assert_str_eq(ctx.trial->nct_id, "NCT09000001");
            }
            td_trial_free(ctx.trial);
            (*mappings)++;
        }
        if (iter)
            json_object_iter_set_new(node, iter, original);
        else
            json_array_set_new(node, i, original);
        replace_each_value(study, original, replacements, replacement_count, mappings);
        if (iter)
            iter = json_object_iter_next(node, iter);
    }
}

Test(reader_json, direct_any_value_of_any_type_is_survived, .timeout = 60)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/json/full.json", TD_FIXTURES_DIR);
    json_error_t error;
    json_t *study = json_load_file(path, 0, &error);
    cr_assert_not_null(study, "%s", error.text);
    json_t *replacements[] = {
        json_null(),           json_true(),  json_integer(-7),    json_real(1e300), json_string(""),
        json_string("NCT123"), json_array(), json_pack("[i]", 3), json_object(),
    };
    size_t count = sizeof(replacements) / sizeof(replacements[0]);
    size_t mappings = 0;
    replace_each_value(study, study, replacements, count, &mappings);
    cr_assert_gt(mappings, 1000);
    for (size_t i = 0; i < count; i++)
        json_decref(replacements[i]);
    json_decref(study);
}
