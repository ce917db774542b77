/* test_reader_xml.c - the legacy <clinical_study> XML mapper (reader_xml.c),
 * through the public reader. Fixtures are in tests/fixtures/xml; documents
 * that are large or vary by case are written at run time. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_reader.h"
#include "td_test.h"

#define XML_FIXTURES TD_FIXTURES_DIR "/xml"

TestSuite(reader_xml, .init = td_test_dir_setup, .fini = td_test_dir_teardown);

/* Reads one fixture, asserting it gave exactly one trial. */
static const td_trial_t *read_one_trial(const char *name, td_test_run_t *run)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", XML_FIXTURES, name);
    td_test_read_one(path, TD_FORMAT_AUTO, run);
    cr_assert_eq(run->status, TD_DONE);
    cr_assert_eq(run->trial_count, 1, "%s gave %zu trials; first diagnostic: %s", name,
                 run->trial_count, run->diag_count ? run->diags[0].message : "none");
    return run->trials[0];
}

/* Reads the full fixture, asserting it raised no diagnostic. */
static const td_trial_t *read_full(td_test_run_t *run)
{
    const td_trial_t *t = read_one_trial("full.xml", run);
    cr_assert_eq(run->diag_count, 0, "unexpected diagnostic: %s",
                 run->diag_count ? run->diags[0].message : "");
    return t;
}

/* Reads a fixture that must be rejected and returns its one diagnostic. */
static const td_test_diag_t *read_rejected(const char *name, td_test_run_t *run)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", XML_FIXTURES, name);
    td_test_read_one(path, TD_FORMAT_AUTO, run);
    cr_assert_eq(run->status, TD_DONE);
    cr_assert_eq(run->trial_count, 0);
    cr_assert_eq(run->stats.rejected, 1);
    cr_assert_eq(run->diag_count, 1);
    cr_assert_eq(run->diags[0].level, TD_DIAG_ERROR);
    cr_assert_str_eq(run->diags[0].source, path);
    return &run->diags[0];
}

/* Writes `xml` to a file in the test's directory and reads it. */
static void read_text(const char *xml, size_t len, td_test_run_t *run)
{
    char *path = td_test_write(td_test_dir, "NCT04299999.xml", xml, len);
    td_test_read_one(path, TD_FORMAT_AUTO, run);
    cr_assert_eq(run->status, TD_DONE);
    free(path);
}

/* Reads a study with NCT ID NCT04299999 whose other elements are `body`;
 * asserts it was kept. */
static const td_trial_t *read_body(const char *body, td_test_run_t *run)
{
    char xml[8192];
    int len = snprintf(xml, sizeof(xml),
                       "<clinical_study>\n  <id_info><nct_id>NCT04299999</nct_id></id_info>\n"
                       "%s\n</clinical_study>\n",
                       body);
    cr_assert(len > 0 && (size_t) len < sizeof(xml));
    read_text(xml, (size_t) len, run);
    cr_assert_eq(run->trial_count, 1, "first diagnostic: %s",
                 run->diag_count ? run->diags[0].message : "none");
    return run->trials[0];
}

static void assert_warning(const td_test_run_t *run, const char *message)
{
    const td_test_diag_t *d = td_test_find_diag(run, message);
    cr_assert_not_null(d, "no warning \"%s\"", message);
    cr_assert_str_eq(d->message, message);
    cr_assert_eq(d->level, TD_DIAG_WARNING);
}

/* ---- a complete record ---- */

Test(reader_xml, full_record_identification_and_titles)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_str_eq(t->nct_id, "NCT04123456");
    TD_TEST_ASSERT_LIST(t->nct_aliases, "NCT04000001");
    cr_assert_str_eq(t->org_study_id, "VA-ONC-2019-07");
    TD_TEST_ASSERT_LIST(t->secondary_ids, "NCI-2019-01234", "R01CA223344");
    cr_assert_str_eq(t->acronym, "DESTINY-RT");
    cr_assert_str_eq(t->brief_title, "Trastuzumab Deruxtecan With or Without Radiotherapy in "
                                     "HER2-Positive Breast Cancer Brain Metastases");
    cr_assert_str_eq(t->official_title,
                     "A Randomized Phase I/II Study of Trastuzumab Deruxtecan (T-DXd) With or "
                     "Without Stereotactic Radiosurgery in Patients With HER2-Positive Breast "
                     "Cancer and Brain Metastases");
    cr_assert_str_eq(t->source, XML_FIXTURES "/full.xml");
    td_test_run_free(&run);
}

Test(reader_xml, full_record_textblocks_are_unwrapped_into_paragraphs)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    /* Wrapped lines are joined with a space; a blank line stays a paragraph
     * break; CR (&#xD;) and indentation are gone. */
    cr_assert_str_eq(t->brief_summary,
                     "This phase I/II trial studies the side effects and best dose of trastuzumab "
                     "deruxtecan given with or without stereotactic radiosurgery in treating "
                     "patients with HER2-positive breast cancer that has spread to the brain.\n"
                     "\n"
                     "Trastuzumab deruxtecan is a monoclonal antibody linked to a chemotherapy "
                     "drug.");
    /* Two blank lines in a row make one paragraph break. */
    cr_assert_str_eq(t->detailed_description,
                     "PRIMARY OBJECTIVES:\n"
                     "\n"
                     "I. To determine the recommended phase II dose of trastuzumab deruxtecan "
                     "given with stereotactic radiosurgery. (Phase I)\n"
                     "\n"
                     "II. To compare intracranial progression-free survival between the two arms. "
                     "(Phase II)");
    cr_assert_str_eq(t->eligibility_criteria,
                     "Inclusion Criteria:\n"
                     "\n"
                     "-  HER2-positive breast cancer (IHC 3+ or ISH amplified) with at least one "
                     "brain metastasis >= 5 mm\n"
                     "\n"
                     "-  Age >= 18 years\n"
                     "\n"
                     "Exclusion Criteria:\n"
                     "\n"
                     "-  Leptomeningeal disease");
    /* Outside textblocks a line break is kept, as LF. */
    cr_assert_str_eq(t->primary_outcomes[0].description,
                     "Assessed by RANO-BM criteria.\n"
                     "Compared between arms with a stratified log-rank test.");
    td_test_run_free(&run);
}

Test(reader_xml, full_record_sponsors)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_str_eq(t->lead_sponsor.name, "VA Office of Research and Development");
    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_FED); /* "U.S. Fed" */
    cr_assert_eq(t->collaborator_count, 2);
    cr_assert_str_eq(t->collaborators[0].name, "Daiichi Sankyo, Inc.");
    cr_assert_eq(t->collaborators[0].sponsor_class, TD_SPONSOR_INDUSTRY);
    cr_assert_str_eq(t->collaborators[1].name, "National Cancer Institute (NCI)");
    cr_assert_eq(t->collaborators[1].sponsor_class, TD_SPONSOR_NIH);
    td_test_run_free(&run);
}

Test(reader_xml, full_record_status_dates_and_phases)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_eq(t->overall_status, TD_STATUS_ACTIVE_NOT_RECRUITING);
    cr_assert_eq(t->phases, TD_PHASE_1 | TD_PHASE_2); /* "Phase 1/Phase 2" */
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_INTERVENTIONAL);
    td_test_assert_date(t->start_date, 2019, 3, 15, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    td_test_assert_date(t->primary_completion_date, 2024, 6, 0, TD_DATE_MONTH, TD_ACTUALITY_ACTUAL);
    /* type="Anticipated" and type="Estimate" are both ESTIMATED. */
    td_test_assert_date(t->completion_date, 2025, 12, 0, TD_DATE_MONTH, TD_ACTUALITY_ESTIMATED);
    td_test_assert_date(t->first_posted_date, 2019, 10, 9, TD_DATE_DAY, TD_ACTUALITY_ACTUAL);
    td_test_assert_date(t->last_update_date, 2024, 2, 29, TD_DATE_DAY, TD_ACTUALITY_ESTIMATED);
    td_test_run_free(&run);
}

Test(reader_xml, full_record_design_and_enrollment)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_str_eq(t->design.allocation, "RANDOMIZED");
    cr_assert_str_eq(t->design.intervention_model, "PARALLEL");
    cr_assert_str_eq(t->design.primary_purpose, "TREATMENT");
    cr_assert_str_eq(t->design.masking, "DOUBLE");
    cr_assert_null(t->design.observational_model);
    cr_assert_null(t->design.time_perspective);
    cr_assert_eq(t->enrollment, 120);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_ESTIMATED);
    td_test_run_free(&run);
}

Test(reader_xml, full_record_arms_interventions_and_outcomes)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_eq(t->arm_group_count, 2);
    cr_assert_str_eq(t->arm_groups[0].label, "Arm I (T-DXd, SRS)");
    cr_assert_str_eq(t->arm_groups[0].type, "EXPERIMENTAL");
    cr_assert_str_eq(t->arm_groups[0].description, "Patients receive trastuzumab deruxtecan IV on "
                                                   "day 1 of each 21-day cycle and undergo SRS.");
    cr_assert_str_eq(t->arm_groups[1].label, "Arm II (T-DXd)");
    cr_assert_str_eq(t->arm_groups[1].type, "ACTIVE_COMPARATOR");

    cr_assert_eq(t->intervention_count, 2);
    const td_intervention_t *drug = &t->interventions[0];
    cr_assert_eq(drug->type, TD_INTERVENTION_DRUG);
    cr_assert_str_eq(drug->name, "Trastuzumab Deruxtecan");
    cr_assert_str_eq(drug->description, "Given IV");
    TD_TEST_ASSERT_LIST(drug->other_names, "DS-8201a", "Enhertu");
    TD_TEST_ASSERT_LIST(drug->arm_group_labels, "Arm I (T-DXd, SRS)", "Arm II (T-DXd)");
    const td_intervention_t *radiation = &t->interventions[1];
    cr_assert_eq(radiation->type, TD_INTERVENTION_RADIATION);
    cr_assert_str_eq(radiation->name, "Stereotactic Radiosurgery");
    TD_TEST_ASSERT_LIST(radiation->other_names, "SRS");
    TD_TEST_ASSERT_LIST(radiation->arm_group_labels, "Arm I (T-DXd, SRS)");

    cr_assert_eq(t->primary_outcome_count, 1);
    cr_assert_str_eq(t->primary_outcomes[0].measure, "Intracranial progression-free survival");
    cr_assert_str_eq(t->primary_outcomes[0].time_frame, "Up to 24 months");
    cr_assert_eq(t->secondary_outcome_count, 2);
    cr_assert_str_eq(t->secondary_outcomes[0].measure, "Incidence of adverse events");
    cr_assert_str_eq(t->secondary_outcomes[0].time_frame, "Up to 30 days after the last dose");
    cr_assert_null(t->secondary_outcomes[0].description);
    cr_assert_str_eq(t->secondary_outcomes[1].measure, "Overall survival");
    td_test_run_free(&run);
}

Test(reader_xml, full_record_eligibility)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_eq(t->sex, TD_SEX_ALL);
    cr_assert_float_eq(t->minimum_age.value, 18.0, 1e-9);
    cr_assert_eq(t->minimum_age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_eq(t->minimum_age.days, 6574); /* floor(18 * 365.25) */
    cr_assert_eq(t->maximum_age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_eq(t->maximum_age.days, 27393); /* floor(75 * 365.25) */
    cr_assert_eq(t->healthy_volunteers, TD_NO);
    /* Legacy records have no standard age groups; they come from the limits. */
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
    td_test_run_free(&run);
}

Test(reader_xml, full_record_conditions_keywords_and_mesh_terms)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    TD_TEST_ASSERT_LIST(t->conditions, "HER2-positive Breast Cancer", "Brain Metastases");
    /* The second keyword is a CDATA section. */
    TD_TEST_ASSERT_LIST(t->keywords, "HER2", "T-DXd & SRS");
    TD_TEST_ASSERT_LIST(t->condition_mesh_terms, "Breast Neoplasms", "Brain Neoplasms");
    TD_TEST_ASSERT_LIST(t->intervention_mesh_terms, "Trastuzumab");
    td_test_run_free(&run);
}

Test(reader_xml, full_record_locations_and_results)
{
    td_test_run_t run;
    const td_trial_t *t = read_full(&run);
    cr_assert_eq(t->location_count, 2);
    const td_location_t *houston = &t->locations[0];
    cr_assert_str_eq(houston->facility, "Example VA Medical Center");
    cr_assert_str_eq(houston->city, "Houston");
    cr_assert_str_eq(houston->state, "Texas");
    cr_assert_str_eq(houston->zip, "77030");
    cr_assert_str_eq(houston->country, "United States");
    cr_assert_eq(houston->status, TD_STATUS_ACTIVE_NOT_RECRUITING);
    cr_assert_not(houston->has_geo);
    const td_location_t *zurich = &t->locations[1];
    cr_assert_str_eq(zurich->facility, "Universitätsspital Zürich");
    cr_assert_str_eq(zurich->city, "Zürich");
    cr_assert_null(zurich->state);
    cr_assert_str_eq(zurich->zip, "8091");
    cr_assert_str_eq(zurich->country, "Switzerland");
    cr_assert_eq(zurich->status, TD_STATUS_UNSET);
    cr_assert(t->has_results); /* <clinical_results> is present */
    td_test_run_free(&run);
}

Test(reader_xml, absent_fields_stay_absent)
{
    td_test_run_t run;
    const td_trial_t *t = read_body("<brief_title>Only a title</brief_title>", &run);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_str_eq(t->brief_title, "Only a title");
    cr_assert_null(t->official_title);
    cr_assert_null(t->brief_summary);
    cr_assert_eq(t->conditions.count, 0);
    cr_assert_eq(t->location_count, 0);
    cr_assert_null(t->locations);
    cr_assert_eq(t->enrollment, -1);
    cr_assert_eq(t->phases, 0);
    cr_assert_eq(t->start_date.precision, TD_DATE_NONE);
    cr_assert_eq(t->minimum_age.days, -1);
    cr_assert_not(t->has_results);
    td_test_run_free(&run);
}

Test(reader_xml, std_ages_are_derived_as_for_json_without_eligibility)
{
    /* No age limits means no limit, in both formats: all three groups. */
    const unsigned all = TD_STD_AGE_CHILD | TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT;
    td_test_run_t run;
    const td_trial_t *t = read_body("<brief_title>No eligibility</brief_title>", &run);
    cr_assert_eq(t->std_ages, all);
    td_test_run_free(&run);

    const char json[] = "{\"protocolSection\": {\"identificationModule\": "
                        "{\"nctId\": \"NCT04299999\"}}}\n";
    char *path = td_test_write(td_test_dir, "no-eligibility.json", json, sizeof(json) - 1);
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_eq(run.trials[0]->std_ages, all);
    td_test_run_free(&run);
    free(path);

    t = read_body("<eligibility><minimum_age>65 Years</minimum_age></eligibility>", &run);
    cr_assert_eq(t->std_ages, TD_STD_AGE_OLDER_ADULT);
    td_test_run_free(&run);
}

Test(reader_xml, a_document_is_its_own_position)
{
    /* The record is the whole member: its position is "", never NULL. */
    td_test_run_t run;
    const td_trial_t *t = read_body("", &run);
    cr_assert_not_null(t->position);
    cr_assert_str_eq(t->position, "");
    cr_assert_not_null(strstr(t->source, "NCT04299999.xml"));
    td_test_run_free(&run);
}

/* ---- values ---- */

Test(reader_xml, design_values_become_api_v2_tokens)
{
    /* Every legacy spelling seen in the sample corpus, through the one
     * rule all design fields share (arm_group_type uses it too). */
    static const char *const cases[][2] = {
        {"Randomized", "RANDOMIZED"},
        {"Non-Randomized", "NON_RANDOMIZED"},
        {"N/A", "NA"},
        {"Single Group Assignment", "SINGLE_GROUP"},
        {"Crossover Assignment", "CROSSOVER"},
        {"Educational/Counseling/Training", "ECT"},
        {"Health Services Research", "HEALTH_SERVICES_RESEARCH"},
        {"None (Open Label)", "NONE"},
        {"Quadruple (Participant, Care Provider, Investigator, Outcomes Assessor)", "QUADRUPLE"},
        {"Case-Only", "CASE_ONLY"},
        {"Ecologic or Community", "ECOLOGIC_OR_COMMUNITY"},
        {"Cross-Sectional", "CROSS_SECTIONAL"},
        {"No Intervention", "NO_INTERVENTION"},
        {"Sham Comparator", "SHAM_COMPARATOR"},
    };
    const size_t count = sizeof(cases) / sizeof(cases[0]);
    char body[4096];
    size_t len = 0;
    for (size_t i = 0; i < count; i++)
        len += (size_t) snprintf(body + len, sizeof(body) - len,
                                 "<arm_group><arm_group_label>%zu</arm_group_label>"
                                 "<arm_group_type>%s</arm_group_type></arm_group>\n",
                                 i, cases[i][0]);
    cr_assert_lt(len, sizeof(body));
    td_test_run_t run;
    const td_trial_t *t = read_body(body, &run);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_eq(t->arm_group_count, count);
    for (size_t i = 0; i < count; i++)
        cr_assert_str_eq(t->arm_groups[i].type, cases[i][1], "'%s'", cases[i][0]);
    td_test_run_free(&run);
}

Test(reader_xml, observational_design)
{
    td_test_run_t run;
    const td_trial_t *t = read_body("<study_type>Observational [Patient Registry]</study_type>"
                                    "<study_design_info>"
                                    "<observational_model>Case-Control</observational_model>"
                                    "<time_perspective>Prospective</time_perspective>"
                                    "</study_design_info>",
                                    &run);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_OBSERVATIONAL);
    cr_assert_str_eq(t->design.observational_model, "CASE_CONTROL");
    cr_assert_str_eq(t->design.time_perspective, "PROSPECTIVE");
    cr_assert_null(t->design.allocation);
    td_test_run_free(&run);
}

Test(reader_xml, phase_and_age_forms)
{
    td_test_run_t run;
    const td_trial_t *t = read_body("<phase>N/A</phase>"
                                    "<eligibility><gender>Female</gender>"
                                    "<minimum_age>6 Months</minimum_age>"
                                    "<maximum_age>N/A</maximum_age>"
                                    "<healthy_volunteers>Accepts Healthy Volunteers"
                                    "</healthy_volunteers></eligibility>",
                                    &run);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_eq(t->phases, TD_PHASE_NA);
    cr_assert_eq(t->sex, TD_SEX_FEMALE);
    cr_assert_eq(t->minimum_age.unit, TD_AGE_UNIT_MONTHS);
    cr_assert_eq(t->minimum_age.days, 182); /* floor(6 * 30.4375) */
    cr_assert_eq(t->maximum_age.unit, TD_AGE_UNIT_NONE);
    cr_assert_eq(t->maximum_age.days, -1);
    cr_assert_eq(t->healthy_volunteers, TD_YES);
    cr_assert_eq(t->std_ages, TD_STD_AGE_CHILD | TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
    td_test_run_free(&run);
}

Test(reader_xml, text_normalisation_edge_cases)
{
    td_test_run_t run;
    const td_trial_t *t = read_body(
        /* Bare CR line ends, tabs, blank lines at both ends. */
        "<brief_summary><textblock>\r\r\t  First line\r\t second line  \r\r\r"
        "Next paragraph\r\r</textblock></brief_summary>"
        /* A textblock of white space only is absent. */
        "<detailed_description><textblock>\n   &#xD;\n   </textblock></detailed_description>"
        "<brief_title>  Title\r\n   continued  </brief_title>"
        "<condition>   </condition><condition> Kept </condition>",
        &run);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_str_eq(t->brief_summary, "First line second line\n\nNext paragraph");
    cr_assert_null(t->detailed_description);
    cr_assert_str_eq(t->brief_title, "Title\ncontinued");
    TD_TEST_ASSERT_LIST(t->conditions, "Kept");
    td_test_run_free(&run);
}

Test(reader_xml, unknown_values_are_warnings_and_the_record_is_kept)
{
    td_test_run_t run;
    const td_trial_t *t = read_one_trial("unknown_values.xml", &run);
    cr_assert_str_eq(t->nct_id, "NCT04200004"); /* canonical from "nct04200004" */
    assert_warning(&run, "unknown sponsors/lead_sponsor/agency_class 'Charity'");
    assert_warning(&run, "unknown overall_status 'Paused'");
    assert_warning(&run, "bad start_date 'Spring 2020'");
    assert_warning(&run, "unknown completion_date/@type 'Guessed'");
    assert_warning(&run, "unknown phase 'Phase 5'");
    assert_warning(&run, "unknown study_type 'Quasi-Experimental'");
    assert_warning(&run, "bad enrollment 'about forty'");
    assert_warning(&run, "unknown intervention[1]/intervention_type 'Homeopathy'");
    assert_warning(&run, "unknown eligibility/gender 'Unknown'");
    assert_warning(&run, "bad eligibility/minimum_age '18 Parsecs'");
    assert_warning(&run, "unknown eligibility/healthy_volunteers 'Maybe'");
    assert_warning(&run, "unknown location[1]/status 'Open'");
    cr_assert_eq(run.diag_count, 12, "%zu diagnostics", run.diag_count);
    cr_assert_eq(run.stats.warnings, 12);
    cr_assert_eq(run.stats.rejected, 0);
    for (size_t i = 0; i < run.diag_count; i++)
        cr_assert_str_eq(run.diags[i].nct_id, "NCT04200004");

    cr_assert_eq(t->lead_sponsor.sponsor_class, TD_SPONSOR_UNKNOWN);
    cr_assert_eq(t->overall_status, TD_STATUS_OTHER);
    cr_assert_eq(t->start_date.precision, TD_DATE_NONE);
    td_test_assert_date(t->completion_date, 2021, 5, 0, TD_DATE_MONTH, TD_ACTUALITY_UNSPECIFIED);
    cr_assert_eq(t->phases, 0);
    cr_assert_eq(t->study_type, TD_STUDY_TYPE_OTHER);
    cr_assert_eq(t->enrollment, -1);
    cr_assert_eq(t->enrollment_type, TD_ACTUALITY_UNSPECIFIED);
    cr_assert_eq(t->interventions[0].type, TD_INTERVENTION_OTHER);
    cr_assert_str_eq(t->interventions[0].name, "Water");
    cr_assert_eq(t->sex, TD_SEX_UNSET);
    cr_assert_eq(t->minimum_age.days, -1);
    cr_assert_eq(t->maximum_age.days, 23741); /* floor(65 * 365.25) */
    cr_assert_eq(t->healthy_volunteers, TD_UNSPECIFIED);
    cr_assert_eq(t->locations[0].status, TD_STATUS_OTHER);
    /* Design values are kept as tokens without a vocabulary check. */
    cr_assert_str_eq(t->design.allocation, "CLUSTER_RANDOMIZED");
    /* The text is UTF-8 whatever the XML declaration says (ISO-8859-1). */
    cr_assert_str_eq(t->brief_title, "Values outside the vocabulary in Zürich");
    cr_assert_str_eq(t->lead_sponsor.name, "Zürich Cancer League");
    td_test_run_free(&run);
}

/* ---- rejected records ---- */

Test(reader_xml, malformed_xml_is_rejected_with_its_line)
{
    td_test_run_t run;
    const td_test_diag_t *d = read_rejected("malformed.xml", &run);
    const char *prefix = "malformed XML at line 5: Opening and ending tag mismatch: brief_title";
    cr_assert(strncmp(d->message, prefix, strlen(prefix)) == 0, "message: %s", d->message);
    cr_assert_not_null(strstr(d->message, "official_title"), "message: %s", d->message);
    td_test_run_free(&run);
}

Test(reader_xml, error_lines_count_blank_lines_before_the_document)
{
    const char xml[] = "\n\n\n<clinical_study>\n"
                       "<id_info><nct_id>NCT04299999</nct_id></id_info><bad></clinical_study>\n";
    td_test_run_t run;
    read_text(xml, sizeof(xml) - 1, &run);
    cr_assert_eq(run.stats.rejected, 1);
    cr_assert_eq(run.diag_count, 1);
    const char *prefix = "malformed XML at line 5: Opening and ending tag mismatch: bad line 5";
    cr_assert(strncmp(run.diags[0].message, prefix, strlen(prefix)) == 0, "message: %s",
              run.diags[0].message);
    td_test_run_free(&run);
}

Test(reader_xml, other_root_element_is_rejected)
{
    td_test_run_t run;
    const td_test_diag_t *d = read_rejected("not_clinical_study.xml", &run);
    cr_assert_str_eq(d->message, "not a <clinical_study> document (root is <search_results>)");
    td_test_run_free(&run);
}

Test(reader_xml, missing_nct_id_is_rejected)
{
    td_test_run_t run;
    const td_test_diag_t *d = read_rejected("missing_nct_id.xml", &run);
    cr_assert_str_eq(d->message, "missing NCT ID");
    td_test_run_free(&run);
}

Test(reader_xml, malformed_nct_id_is_rejected)
{
    td_test_run_t run;
    const td_test_diag_t *d = read_rejected("bad_nct_id.xml", &run);
    cr_assert_str_eq(d->message, "malformed NCT ID 'NCT0420003'");
    td_test_run_free(&run);
}

Test(reader_xml, truncated_document_is_rejected)
{
    td_test_run_t run;
    read_text("<clinical_study>", 16, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.stats.rejected, 1);
    const td_test_diag_t *d = td_test_find_diag(&run, "malformed XML at line 1: ");
    cr_assert_not_null(d);
    cr_assert_eq(d->level, TD_DIAG_ERROR);
    td_test_run_free(&run);
}

Test(reader_xml, undeclared_namespace_prefix_is_not_an_error)
{
    /* Files saved by some tools carry xsi: attributes without declaring
     * the prefix: a namespace error, not a malformed document. */
    const char *ok = "<clinical_study xsi:noNamespaceSchemaLocation=\"public.xsd\">\n"
                     "<id_info><nct_id>NCT04299999</nct_id></id_info>\n"
                     "<brief_title>Kept</brief_title>\n</clinical_study>\n";
    td_test_run_t run;
    read_text(ok, strlen(ok), &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_eq(run.diag_count, 0);
    cr_assert_str_eq(run.trials[0]->brief_title, "Kept");
    td_test_run_free(&run);

    /* When the document is also malformed, the message names the real
     * error, not the namespace one before it. */
    const char *bad = "<clinical_study xsi:noNamespaceSchemaLocation=\"public.xsd\">\n"
                      "<id_info><nct_id>NCT04299999</nct_id></id_info>\n"
                      "<brief_title>Lost</acronym>\n</clinical_study>\n";
    read_text(bad, strlen(bad), &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.diag_count, 1);
    const char *prefix = "malformed XML at line 3: Opening and ending tag mismatch";
    cr_assert(strncmp(run.diags[0].message, prefix, strlen(prefix)) == 0, "message: %s",
              run.diags[0].message);
    td_test_run_free(&run);
}

/* ---- hostile input ---- */

static bool contains(const char *text, const char *needle)
{
    return text && strstr(text, needle);
}

Test(reader_xml, external_entities_are_never_loaded)
{
    /* The fixture declares an external DTD, an external parameter entity
     * and an external general entity, all pointing at /etc/passwd or the
     * network. None is read: the record is kept, the references are dropped
     * and reported once. */
    cr_assert_eq(access("/etc/passwd", R_OK), 0, "the test needs a readable /etc/passwd");
    td_test_run_t run;
    const td_trial_t *t = read_one_trial("xxe.xml", &run);
    cr_assert_str_eq(t->nct_id, "NCT04200005");
    cr_assert_str_eq(t->brief_title, "Before  after");
    cr_assert_str_eq(t->brief_summary, "Summary  text.");
    cr_assert_eq(t->conditions.count, 0);
    cr_assert_not(contains(t->brief_title, "root:"));
    cr_assert_not(contains(t->brief_summary, "root:"));
    cr_assert_eq(run.diag_count, 1);
    cr_assert_str_eq(run.diags[0].message, "brief_title: entity reference '&secret;' not expanded");
    cr_assert_eq(run.diags[0].level, TD_DIAG_WARNING);
    td_test_run_free(&run);
}

Test(reader_xml, entity_in_the_nct_id_is_reported_with_its_path)
{
    const char xml[] = "<?xml version=\"1.0\"?>\n"
                       "<!DOCTYPE clinical_study [ <!ENTITY nct \"NCT00000001\"> ]>\n"
                       "<clinical_study><id_info><nct_id>&nct;</nct_id></id_info>"
                       "</clinical_study>\n";
    td_test_run_t run;
    read_text(xml, sizeof(xml) - 1, &run);
    cr_assert_eq(run.trial_count, 0);
    cr_assert_eq(run.diag_count, 2);
    cr_assert_str_eq(run.diags[0].message, "id_info/nct_id: entity reference '&nct;' not expanded");
    cr_assert_str_eq(run.diags[1].message, "missing NCT ID");
    td_test_run_free(&run);
}

Test(reader_xml, control_characters_in_quoted_values_stay_on_one_line)
{
    td_test_run_t run;
    read_body("<enrollment>12\n34</enrollment><overall_status>On\thold</overall_status>", &run);
    assert_warning(&run, "bad enrollment '12\\n34'");
    assert_warning(&run, "unknown overall_status 'On\\thold'");
    td_test_run_free(&run);
}

Test(reader_xml, entity_expansion_bomb_is_not_expanded)
{
    /* Internal entities nested ten deep ("billion laughs"). The mapper
     * never expands references, and libxml2 2.9 stops the parse with its
     * amplification check: either way nothing blows up. */
    char xml[4096];
    size_t len = (size_t) snprintf(xml, sizeof(xml),
                                   "<!DOCTYPE clinical_study [\n"
                                   "<!ENTITY e0 \"lol\">\n");
    for (int i = 1; i <= 10; i++) {
        len += (size_t) snprintf(xml + len, sizeof(xml) - len, "<!ENTITY e%d \"", i);
        for (int j = 0; j < 10; j++)
            len += (size_t) snprintf(xml + len, sizeof(xml) - len, "&e%d;", i - 1);
        len += (size_t) snprintf(xml + len, sizeof(xml) - len, "\">\n");
    }
    len += (size_t) snprintf(xml + len, sizeof(xml) - len,
                             "]>\n<clinical_study><id_info><nct_id>NCT04299999</nct_id></id_info>"
                             "<brief_title>&e10;</brief_title></clinical_study>\n");
    cr_assert_lt(len, sizeof(xml));
    td_test_run_t run;
    read_text(xml, len, &run);
    for (size_t i = 0; i < run.trial_count; i++)
        cr_assert_not(contains(run.trials[i]->brief_title, "lollol"));
    cr_assert_eq(run.trial_count + run.stats.rejected, 1);
    td_test_run_free(&run);
}

Test(reader_xml, huge_text_is_cut_with_a_warning)
{
    /* A 1.5 MB summary of two-byte characters in wrapped, CR LF-terminated
     * lines: normalised, then cut at a character boundary. */
    const char *head = "<clinical_study><id_info><nct_id>NCT04299999</nct_id></id_info>"
                       "<brief_summary><textblock>\r\n";
    const char *words = "\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9";
    const char *tail = "</textblock></brief_summary><brief_title>After</brief_title>"
                       "</clinical_study>\n";
    const size_t lines = 50000;
    size_t words_len = strlen(words);
    size_t len = strlen(head) + lines * (words_len + 8) + strlen(tail);
    char *xml = malloc(len + 1);
    cr_assert_not_null(xml);
    char *p = xml;
    p += sprintf(p, "%s", head);
    for (size_t i = 0; i < lines; i++)
        p += sprintf(p, "      %s\r\n", words);
    sprintf(p, "%s", tail);

    td_test_run_t run;
    read_text(xml, len, &run);
    free(xml);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *t = run.trials[0];
    /* Each line becomes its words and a joining space. */
    size_t normalised = lines * (words_len + 1) - 1;
    char expected[128];
    snprintf(expected, sizeof(expected), "brief_summary is %zu bytes; cut to the %u-byte limit",
             normalised, TD_FIELD_MAX);
    cr_assert_eq(run.diag_count, 1);
    cr_assert_str_eq(run.diags[0].message, expected);
    cr_assert_eq(run.diags[0].level, TD_DIAG_WARNING);
    size_t kept = strlen(t->brief_summary);
    cr_assert_leq(kept, TD_FIELD_MAX);
    cr_assert_geq(kept, TD_FIELD_MAX - 3);
    cr_assert_neq((unsigned char) t->brief_summary[kept - 1], 0xc3, "a character was split");
    cr_assert(strncmp(t->brief_summary, words, words_len) == 0);
    cr_assert_eq(t->brief_summary[words_len], ' ');
    cr_assert_str_eq(t->brief_title, "After");
    td_test_run_free(&run);
}

/* ---- real data ---- */

Test(reader_xml, real_legacy_sample)
{
    const char *path = TD_SHARED_DIR "/corpus/samples/NCT00491816.legacy.xml";
    if (access(path, R_OK) != 0)
        cr_skip_test("%s is absent", path);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.trial_count, 1);
    cr_assert_eq(run.diag_count, 0);
    const td_trial_t *t = run.trials[0];
    cr_assert_str_eq(t->nct_id, "NCT00491816");
    cr_assert_eq(t->overall_status, TD_STATUS_UNKNOWN); /* "Unknown status" */
    cr_assert_eq(t->phases, TD_PHASE_2);
    cr_assert_str_eq(t->design.allocation, "NA");
    cr_assert_str_eq(t->design.intervention_model, "SINGLE_GROUP");
    cr_assert_str_eq(t->design.masking, "NONE");
    td_test_assert_date(t->start_date, 2007, 7, 0, TD_DATE_MONTH, TD_ACTUALITY_UNSPECIFIED);
    td_test_assert_date(t->first_posted_date, 2007, 6, 26, TD_DATE_DAY, TD_ACTUALITY_ESTIMATED);
    cr_assert_str_eq(t->brief_summary,
                     "Primary Study Objective:\n\nTo assess the pathological complete response "
                     "rate (pCR) with 4-6 cycles of neoadjuvant chemotherapy plus erlotinib in "
                     "patients with triple negative breast cancer.");
    cr_assert_eq(t->sex, TD_SEX_FEMALE);
    cr_assert_eq(t->std_ages, TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
    td_test_run_free(&run);
}

/* Counts diagnostics and keeps the first, for a run too large to keep. */
typedef struct diag_tally {
    size_t count;
    char first[1024];
} diag_tally_t;

static void tally_diag(const td_diagnostic_t *diagnostic, void *user)
{
    diag_tally_t *tally = user;
    if (!tally->count++)
        snprintf(tally->first, sizeof(tally->first), "%s: %s", diagnostic->source,
                 diagnostic->message);
}

Test(reader_xml, real_legacy_corpus_reads_without_a_diagnostic)
{
    const char *path = TD_SHARED_DIR "/corpus/ctgov_legacy_xml_clinical_study.tar.xz";
    if (access(path, R_OK) != 0)
        cr_skip_test("%s is absent", path);
    diag_tally_t tally = {0};
    td_reader_t *reader;
    cr_assert_eq(td_reader_open(&path, 1, TD_FORMAT_AUTO, tally_diag, &tally, &reader), TD_OK);
    td_trial_t *trial;
    td_status_t status;
    size_t trials = 0, with_results = 0;
    while ((status = td_reader_next(reader, &trial)) == TD_OK) {
        trials++;
        with_results += trial->has_results;
        td_trial_free(trial);
    }
    td_reader_stats_t stats = td_reader_stats(reader);
    td_reader_close(reader);
    cr_assert_eq(status, TD_DONE);
    cr_assert_eq(tally.count, 0, "%zu diagnostics, first %s", tally.count, tally.first);
    cr_assert_eq(trials, 6786);
    cr_assert_eq(stats.rejected, 0);
    cr_assert_eq(with_results, 440);
}
