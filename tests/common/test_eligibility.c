/* Splitting eligibility criteria into inclusion and exclusion sections. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_eligibility.h"
#include "td_reader.h"
#include "td_test.h"

#define FIXTURES TD_FIXTURES_DIR "/eligibility"
#define CORPUS TD_SHARED_DIR "/corpus"
#define JSONL CORPUS "/ctgov_api_v2_studies.jsonl.gz"
#define LEGACY CORPUS "/ctgov_legacy_xml_clinical_study.tar.xz"

#define MAX_SECTIONS 64

static const char *const kind_names[] = {"GENERAL", "INCLUSION", "EXCLUSION"};

TestSuite(eligibility, .timeout = 600);

static size_t split(const char *text, td_criteria_section_t *out)
{
    return td_eligibility_split(text, strlen(text), out, MAX_SECTIONS);
}

static void assert_span(const char *text, size_t start, size_t end, const char *expected,
                        const char *what)
{
    cr_assert_leq(start, end, "%s: span %zu..%zu is reversed", what, start, end);
    cr_assert(strlen(expected) == end - start && memcmp(text + start, expected, end - start) == 0,
              "%s is \"%.*s\", expected \"%s\"", what, (int) (end - start), text + start, expected);
}

/* Asserts the section's kind, heading text (NULL: the 0,0 span of the text
 * before any heading) and body text. */
static void assert_section(const char *text, const td_criteria_section_t *section,
                           td_criteria_kind_t kind, const char *heading, const char *body)
{
    cr_assert_eq(section->kind, kind, "section under \"%s\" is %s, expected %s",
                 heading ? heading : "(no heading)", kind_names[section->kind], kind_names[kind]);
    if (heading) {
        assert_span(text, section->heading_start, section->heading_end, heading, "heading");
    } else {
        cr_assert_eq(section->heading_start, 0);
        cr_assert_eq(section->heading_end, 0);
    }
    assert_span(text, section->start, section->end, body, "body");
}

/* Asserts that the sections are in order, do not overlap and lie within
 * the text; only the first may be the headless text before any heading. */
static void assert_well_formed(size_t len, const td_criteria_section_t *s, size_t count,
                               const char *name)
{
    size_t previous_end = 0;
    for (size_t i = 0; i < count; i++) {
        bool headless = s[i].heading_start == 0 && s[i].heading_end == 0;
        if (headless)
            cr_assert(i == 0 && s[i].kind == TD_CRITERIA_GENERAL, "%s: section %zu has no heading",
                      name, i);
        else
            cr_assert_lt(s[i].heading_start, s[i].heading_end, "%s: section %zu", name, i);
        cr_assert_geq(s[i].heading_start, previous_end, "%s: section %zu overlaps", name, i);
        cr_assert_leq(s[i].heading_end, s[i].start, "%s: section %zu", name, i);
        cr_assert_leq(s[i].start, s[i].end, "%s: section %zu", name, i);
        cr_assert_leq(s[i].end, len, "%s: section %zu ends past the text", name, i);
        previous_end = s[i].end;
    }
}

Test(eligibility, api_v2_style_text)
{
    const char *text = "Inclusion Criteria:\n"
                       "\n"
                       "* Age ≥ 18 years\n"
                       "* Histologically confirmed HR-positive, HER2-negative breast cancer\n"
                       "* ECOG performance status 0-1\n"
                       "\n"
                       "Exclusion Criteria:\n"
                       "\n"
                       "* Prior treatment with a CDK4/6 inhibitor";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria:",
                   "* Age ≥ 18 years\n"
                   "* Histologically confirmed HR-positive, HER2-negative breast cancer\n"
                   "* ECOG performance status 0-1");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION,
                   "Exclusion Criteria:", "* Prior treatment with a CDK4/6 inhibitor");
}

Test(eligibility, legacy_textblock_style)
{
    /* As the legacy XML has it before the reader unwraps it: indented,
     * wrapped at about 100 columns, CR LF line ends. */
    const char *text =
        "\r\n"
        "        Inclusion Criteria:\r\n"
        "\r\n"
        "          -  Adults aged 18 to 70 years with moderate to severe chronic plaque\r\n"
        "             psoriasis\r\n"
        "\r\n"
        "          -  Inclusion in the national psoriasis registry\r\n"
        "\r\n"
        "        Exclusion Criteria:\r\n"
        "\r\n"
        "          -  Prior biologic therapy\r\n"
        "      ";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria:",
                   "-  Adults aged 18 to 70 years with moderate to severe chronic plaque\r\n"
                   "             psoriasis\r\n"
                   "\r\n"
                   "          -  Inclusion in the national psoriasis registry");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION,
                   "Exclusion Criteria:", "-  Prior biologic therapy");
}

Test(eligibility, legacy_pdq_headings_are_inclusion_with_text_on_the_same_line)
{
    const char *text =
        "\r\n"
        "        DISEASE CHARACTERISTICS: Histologically confirmed stage IIIB or IV\r\n"
        "        non-small cell lung cancer\r\n"
        "\r\n"
        "        PATIENT CHARACTERISTICS: Age: 18 and over Performance status: ECOG 0-1\r\n"
        "\r\n"
        "        PRIOR CONCURRENT THERAPY: No prior chemotherapy\r\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 3);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "DISEASE CHARACTERISTICS:",
                   "Histologically confirmed stage IIIB or IV\r\n"
                   "        non-small cell lung cancer");
    assert_section(text, &s[1], TD_CRITERIA_INCLUSION,
                   "PATIENT CHARACTERISTICS:", "Age: 18 and over Performance status: ECOG 0-1");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION,
                   "PRIOR CONCURRENT THERAPY:", "No prior chemotherapy");
}

/* Each heading, on a line of its own above one criterion, makes one section
 * of `kind` whose heading is the whole line. */
static void assert_headings(const char *const *headings, size_t count, td_criteria_kind_t kind)
{
    for (size_t i = 0; i < count; i++) {
        char text[256];
        snprintf(text, sizeof(text), "  %s  \n- Age 18 years or older\n", headings[i]);
        td_criteria_section_t s[MAX_SECTIONS];
        size_t n = split(text, s);
        cr_assert_eq(n, 1, "\"%s\" gives %zu sections", headings[i], n);
        assert_section(text, &s[0], kind, headings[i], "- Age 18 years or older");
    }
}

Test(eligibility, inclusion_headings)
{
    static const char *const headings[] = {
        "Inclusion Criteria:",
        "Inclusion Criteria",
        "INCLUSION CRITERIA:",
        "inclusion criteria",
        "Inclusion criteria :",
        "Inclusion criteria.",
        "Inclusion Criteria：",
        "Key Inclusion Criteria:",
        "Main inclusion criteria:",
        "Patient inclusion criteria:",
        "Inclusion criteria for Cohort A:",
        "Inclusion criteria for Cohort A",
        "Inclusion Criteria (Part 1: dose escalation):",
        "Inclusion Criteria Phase 2",
        "Inclusion criteria include:",
        "Criteria for inclusion:",
        "Inclusion:",
        "Inclusion",
        "**Inclusion Criteria:**",
        "**Inclusion Criteria**:",
        "## Inclusion Criteria",
        "### Key Inclusion Criteria",
        "* Inclusion Criteria:",
        "-  Inclusion Criteria:",
        "• Inclusion criteria",
        "1. Inclusion Criteria",
        "A. Inclusion criteria:",
        "II. INCLUSION CRITERIA",
        "Who can join",
        "Who can participate?",
        "Who may participate:",
        "Who can take part in this study?",
        "You can join if",
        "You can join if you:",
        "Patients may be eligible for this study if they:",
        "Patients must meet all of the following:",
        "Patients must meet all of the following",
        "Patients must have:",
        "Patients with the following conditions are included:",
        "DISEASE CHARACTERISTICS:",
        "Patient Characteristics:",
        "PRIOR CONCURRENT THERAPY:",
        "--Prior/Concurrent Therapy--",
    };
    assert_headings(headings, sizeof(headings) / sizeof(headings[0]), TD_CRITERIA_INCLUSION);
}

Test(eligibility, exclusion_headings)
{
    static const char *const headings[] = {
        "Exclusion Criteria:",
        "Exclusion Criteria",
        "EXCLUSION CRITERIA",
        "Key Exclusion Criteria:",
        "Main exclusion criteria:",
        "Exclusion criteria for Cohort A:",
        "Exclusion criteria for medical history and comorbidities:",
        "Exclusion:",
        "Exclusions:",
        "Non-inclusion criteria:",
        "**Key Exclusion Criteria**",
        "2) Exclusion criteria",
        "Who cannot join",
        "Who can't participate",
        "Who can not take part:",
        "Who should not participate",
        "You cannot join if",
        "You will not be eligible for this study if you:",
        "Patients meeting any of the following will be excluded",
        "Patients meeting any of the following will be excluded:",
        "Patients with the following symptoms or conditions are excluded:",
        "Excluded:",
        "Excluded within 30 days of study entry:",
    };
    assert_headings(headings, sizeof(headings) / sizeof(headings[0]), TD_CRITERIA_EXCLUSION);
}

Test(eligibility, general_headings)
{
    static const char *const headings[] = {
        "Eligibility Criteria:",
        "Eligibility:",
        "Major Eligibility Criteria:",
        "Inclusion/Exclusion Criteria:",
        "Inclusion and Exclusion Criteria",
        "PROTOCOL ENTRY CRITERIA:",
        "Selection criteria",
    };
    assert_headings(headings, sizeof(headings) / sizeof(headings[0]), TD_CRITERIA_GENERAL);

    const char *text = "Eligibility Criteria:\n"
                       "\n"
                       "Inclusion Criteria:\n"
                       "- Adults\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_GENERAL, "Eligibility Criteria:", "");
    assert_section(text, &s[1], TD_CRITERIA_INCLUSION, "Inclusion Criteria:", "- Adults");
}

Test(eligibility, sentences_that_mention_criteria_are_not_headings)
{
    const char *text = "Inclusion Criteria:\n"
                       "- Subjects meeting exclusion criteria of the parent study\n"
                       "- Patient meets the inclusion criteria for trial entry\n"
                       "- Absence of exclusion criteria\n"
                       "- Absence of exclusion criteria.\n"
                       "- Local exclusion criteria for MRI safety.\n"
                       "- Other exclusion criteria apply according to the product label\n"
                       "- Exclusion criteria of the parent study apply\n"
                       "- Prior exclusion from a trial; see protocol;\n"
                       "- Pregnant women will be excluded.\n"
                       "- Women who cannot join the registry are referred elsewhere\n"
                       "- WHO performance status 0-1\n"
                       "- Eligibility for percutaneous intervention\n"
                       "- Patients must not have any of the following:\n"
                       "- Patients must have: ECOG 0-1\n"
                       "- Relationship stable for 6 months Exclusion Criteria: nitrate use\n";
    td_criteria_section_t s[MAX_SECTIONS];
    size_t n = split(text, s);
    cr_assert_eq(n, 1, "%zu sections; the second begins at \"%.30s\"", n,
                 n > 1 ? text + s[1].heading_start : "");
    cr_assert_eq(s[0].kind, TD_CRITERIA_INCLUSION);
    cr_assert_eq(s[0].end, strlen(text) - 1);
}

Test(eligibility, heading_with_text_after_the_colon)
{
    const char *text = "**Inclusion:** adults with asthma\n"
                       "Exclusion criteria: smokers\n"
                       "- Patients must have: ECOG 0-1\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "**Inclusion:**", "adults with asthma");
    /* A phrase heading needs a line of its own: the last line stays in the
     * exclusion section. */
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION,
                   "Exclusion criteria:", "smokers\n- Patients must have: ECOG 0-1");
}

Test(eligibility, repeated_headings_for_cohorts)
{
    const char *text = "Inclusion criteria for Cohort A:\n"
                       "- Adults\n"
                       "Exclusion criteria for Cohort A:\n"
                       "- Prior surgery\n"
                       "Inclusion criteria for Cohort B:\n"
                       "- Children\n"
                       "Exclusion criteria for Cohort B:\n"
                       "- Body weight below 20 kg\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 4);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION,
                   "Inclusion criteria for Cohort A:", "- Adults");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION,
                   "Exclusion criteria for Cohort A:", "- Prior surgery");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION,
                   "Inclusion criteria for Cohort B:", "- Children");
    assert_section(text, &s[3], TD_CRITERIA_EXCLUSION,
                   "Exclusion criteria for Cohort B:", "- Body weight below 20 kg");
}

Test(eligibility, phrase_starts_a_section_only_where_the_kind_changes)
{
    /* The layout of older AIDS trial records. */
    const char *text = "Inclusion Criteria\n\n"
                       "Patients must have:\n\n"
                       "- HIV infection.\n\n"
                       "Exclusion Criteria\n\n"
                       "Patients with the following conditions are excluded:\n\n"
                       "- Active infection.\n\n"
                       "Excluded:\n\n"
                       "- Other antiretroviral drugs.\n\n"
                       "Patients must have:\n\n"
                       "- CD4 count above 200.\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 3);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria",
                   "Patients must have:\n\n- HIV infection.");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Exclusion Criteria",
                   "Patients with the following conditions are excluded:\n\n"
                   "- Active infection.\n\n"
                   "Excluded:\n\n"
                   "- Other antiretroviral drugs.");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION,
                   "Patients must have:", "- CD4 count above 200.");
}

Test(eligibility, empty_sections)
{
    const char *text =
        "Inclusion Criteria:\n\nExclusion Criteria:\n\n- Smokers\n\nKey Inclusion Criteria:";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 3);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria:", "");
    cr_assert_eq(s[0].start, s[1].heading_start, "an empty body sits before the next heading");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Exclusion Criteria:", "- Smokers");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION, "Key Inclusion Criteria:", "");
    cr_assert_eq(s[2].start, strlen(text));
}

Test(eligibility, crlf_cr_and_lf_line_ends_split_alike)
{
    const char *const texts[] = {
        "Summary line\nInclusion Criteria:\n- Adults\nExclusion:\n- Smokers\n",
        "Summary line\r\nInclusion Criteria:\r\n- Adults\r\nExclusion:\r\n- Smokers\r\n",
        "Summary line\rInclusion Criteria:\r- Adults\rExclusion:\r- Smokers\r",
    };
    for (size_t i = 0; i < 3; i++) {
        td_criteria_section_t s[MAX_SECTIONS];
        cr_assert_eq(split(texts[i], s), 3, "text %zu", i);
        assert_section(texts[i], &s[0], TD_CRITERIA_GENERAL, NULL, "Summary line");
        assert_section(texts[i], &s[1], TD_CRITERIA_INCLUSION, "Inclusion Criteria:", "- Adults");
        assert_section(texts[i], &s[2], TD_CRITERIA_EXCLUSION, "Exclusion:", "- Smokers");
    }
}

Test(eligibility, text_before_the_first_heading_is_general)
{
    const char *text = "  Healthy volunteers aged 18 to 45.\n\nExclusion Criteria:\n- Smokers";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_GENERAL, NULL, "Healthy volunteers aged 18 to 45.");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Exclusion Criteria:", "- Smokers");

    /* Only white space before the first heading makes no section. */
    text = " \r\n\t\nExclusion Criteria:\n- Smokers";
    cr_assert_eq(split(text, s), 1);
    cr_assert_eq(s[0].kind, TD_CRITERIA_EXCLUSION);
}

Test(eligibility, text_without_headings_is_one_general_section)
{
    const char *text = "\n  * Healthy volunteers aged 18 to 45\n  * Non-smokers  \n\n";
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split(text, s), 1);
    assert_section(text, &s[0], TD_CRITERIA_GENERAL, NULL,
                   "* Healthy volunteers aged 18 to 45\n  * Non-smokers");
}

Test(eligibility, empty_and_blank_text_have_no_sections)
{
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(td_eligibility_split(NULL, 0, s, MAX_SECTIONS), 0);
    cr_assert_eq(td_eligibility_split("", 0, NULL, 0), 0);
    cr_assert_eq(split(" \r\n\t \n", s), 0);
    /* len, not a NUL, ends the text. */
    cr_assert_eq(td_eligibility_split("Inclusion Criteria:", 0, s, MAX_SECTIONS), 0);
}

Test(eligibility, a_short_array_gets_the_first_sections_and_the_full_count)
{
    const char *text = "Intro\nInclusion:\n- a\nExclusion:\n- b\nInclusion:\n- c\n";
    td_criteria_section_t all[MAX_SECTIONS];
    cr_assert_eq(split(text, all), 4);

    td_criteria_section_t some[3];
    memset(some, 0xAB, sizeof(some));
    cr_assert_eq(td_eligibility_split(text, strlen(text), some, 2), 4);
    cr_assert_eq(memcmp(some, all, 2 * sizeof(some[0])), 0);
    unsigned char untouched[sizeof(some[2])];
    memset(untouched, 0xAB, sizeof(untouched));
    cr_assert_eq(memcmp(&some[2], untouched, sizeof(untouched)), 0, "wrote past max");

    cr_assert_eq(td_eligibility_split(text, strlen(text), NULL, 0), 4);
}

Test(eligibility, reads_only_len_bytes)
{
    /* Heap copies without a terminating NUL, so a read past the end is
     * caught by AddressSanitizer. */
    const char *source = "Inclusion Criteria:\n- Adults\nExclusion Criteria:\n- Smokers";
    size_t cut = strstr(source, "Exclusion") - source;
    char *text = malloc(cut);
    cr_assert_not_null(text);
    memcpy(text, source, cut);
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(td_eligibility_split(text, cut, s, MAX_SECTIONS), 1);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria:", "- Adults");
    free(text);

    const char *heading = "Exclusion：";
    text = malloc(strlen(heading) - 1); /* the full-width colon cut short */
    cr_assert_not_null(text);
    memcpy(text, heading, strlen(heading) - 1);
    cr_assert_eq(td_eligibility_split(text, strlen(heading) - 1, s, MAX_SECTIONS), 1);
    cr_assert_eq(s[0].kind, TD_CRITERIA_EXCLUSION);
    free(text);
}

/* The sections of one trial's criteria, checked for form. */
static size_t split_trial(const td_trial_t *trial, td_criteria_section_t *s)
{
    const char *text = trial->eligibility_criteria;
    size_t len = strlen(text);
    size_t count = td_eligibility_split(text, len, s, MAX_SECTIONS);
    cr_assert_leq(count, MAX_SECTIONS, "%s", trial->nct_id);
    assert_well_formed(len, s, count, trial->nct_id);
    return count;
}

Test(eligibility, api_v2_records_through_the_reader)
{
    td_test_run_t run;
    td_test_read_one(FIXTURES "/api_v2.jsonl", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_eq(run.trial_count, 5);
    td_criteria_section_t s[MAX_SECTIONS];

    const td_trial_t *trial = td_test_find(&run, "NCT09100001");
    const char *text = trial->eligibility_criteria;
    cr_assert_eq(split_trial(trial, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria:",
                   "* Age ≥ 18 years\n"
                   "* Hormone receptor-positive, HER2-negative advanced breast cancer\n"
                   "* Measurable disease per RECIST 1.1");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Exclusion Criteria:",
                   "* Prior treatment with a CDK4/6 inhibitor\n* Symptomatic brain metastases");

    trial = td_test_find(&run, "NCT09100002");
    text = trial->eligibility_criteria;
    cr_assert_eq(split_trial(trial, s), 4);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "**Key Inclusion Criteria (Cohort A):**",
                   "1. Adults 18 to 75 years\n2. Chronic migraine for at least 12 months");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "**Key Exclusion Criteria (Cohort A):**",
                   "1. Medication overuse headache");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION, "**Key Inclusion Criteria (Cohort B):**",
                   "1. Adolescents 12 to 17 years");
    assert_section(text, &s[3], TD_CRITERIA_EXCLUSION, "**Key Exclusion Criteria (Cohort B):**",
                   "1. Body weight below 40 kg");

    trial = td_test_find(&run, "NCT09100003");
    cr_assert_eq(split_trial(trial, s), 1);
    assert_section(trial->eligibility_criteria, &s[0], TD_CRITERIA_GENERAL, NULL,
                   trial->eligibility_criteria);

    trial = td_test_find(&run, "NCT09100004");
    text = trial->eligibility_criteria;
    cr_assert_eq(split_trial(trial, s), 2);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Who can join:",
                   "* Adults with type 2 diabetes\n* Using insulin for at least 6 months");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Who cannot join:",
                   "* People who are pregnant or breastfeeding\n"
                   "* People taking part in another study");

    cr_assert_null(td_test_find(&run, "NCT09100005")->eligibility_criteria);
    td_test_run_free(&run);
}

Test(eligibility, legacy_record_through_the_reader)
{
    td_test_run_t run;
    td_test_read_one(FIXTURES "/legacy.xml", TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    cr_assert_eq(run.trial_count, 1);
    const td_trial_t *trial = run.trials[0];
    const char *text = trial->eligibility_criteria;
    td_criteria_section_t s[MAX_SECTIONS];
    cr_assert_eq(split_trial(trial, s), 3);
    assert_section(text, &s[0], TD_CRITERIA_INCLUSION, "Inclusion Criteria",
                   "Concurrent Medication:\n\n"
                   "Allowed:\n\n"
                   "-  Inhaled pentamidine for pneumonia prophylaxis, if begun before study "
                   "entry.");
    assert_section(text, &s[1], TD_CRITERIA_EXCLUSION, "Exclusion Criteria",
                   "Co-existing Condition:\n\n"
                   "Patients with the following symptoms or conditions are excluded:\n\n"
                   "-  Active opportunistic infection needing treatment.\n\n"
                   "Prior Medication:\n\n"
                   "Excluded within 30 days of study entry:\n\n"
                   "-  Any investigational drug.");
    assert_section(text, &s[2], TD_CRITERIA_INCLUSION, "Patients must have:",
                   "-  Documented HIV infection.\n\n-  CD4 count of 200 cells/mm3 or more.");
    td_test_run_free(&run);
}

/* How many of a corpus's records with criteria get an inclusion section,
 * and how many get both an inclusion and an exclusion section. */
typedef struct corpus_counts {
    size_t with_criteria, with_inclusion, with_both;
} corpus_counts_t;

static corpus_counts_t count_corpus(const char *path)
{
    if (access(path, R_OK) != 0)
        cr_skip_test("shared corpus not found at %s; skipping the real-data checks", CORPUS);
    td_test_run_t run;
    td_test_read_one(path, TD_FORMAT_AUTO, &run);
    cr_assert_eq(run.status, TD_DONE);
    corpus_counts_t counts = {0};
    for (size_t i = 0; i < run.trial_count; i++) {
        const td_trial_t *trial = run.trials[i];
        if (!trial->eligibility_criteria)
            continue;
        td_criteria_section_t s[MAX_SECTIONS];
        size_t count = split_trial(trial, s);
        bool inclusion = false, exclusion = false;
        for (size_t j = 0; j < count; j++) {
            inclusion = inclusion || s[j].kind == TD_CRITERIA_INCLUSION;
            exclusion = exclusion || s[j].kind == TD_CRITERIA_EXCLUSION;
        }
        counts.with_criteria++;
        counts.with_inclusion += inclusion;
        counts.with_both += inclusion && exclusion;
    }
    td_test_run_free(&run);
    return counts;
}

Test(eligibility, shared_api_v2_corpus)
{
    corpus_counts_t counts = count_corpus(JSONL);
    cr_assert_eq(counts.with_criteria, 1451, "1,451 of the 1,457 records have criteria");
    /* 1,425 (98.2%) when this was written; the rest have no headings, the
     * PDQ headings only, or headings run into the middle of a line. */
    cr_assert_geq(counts.with_both * 1000, counts.with_criteria * 975,
                  "%zu of %zu records split into inclusion and exclusion, under 97.5%%",
                  counts.with_both, counts.with_criteria);
}

Test(eligibility, shared_legacy_xml_corpus)
{
    corpus_counts_t counts = count_corpus(LEGACY);
    cr_assert_eq(counts.with_criteria, 6771, "6,771 of the 6,786 records have criteria");
    /* 2,753 (40.7%) and 5,326 (78.7%) when this was written: about 2,200
     * NCI PDQ records have inclusion only and 1,400 records no headings
     * (529 say "No eligibility criteria"). */
    cr_assert_geq(counts.with_both * 1000, counts.with_criteria * 400,
                  "%zu of %zu records split into inclusion and exclusion, under 40%%",
                  counts.with_both, counts.with_criteria);
    cr_assert_geq(counts.with_inclusion * 1000, counts.with_criteria * 775,
                  "%zu of %zu records have an inclusion section, under 77.5%%",
                  counts.with_inclusion, counts.with_criteria);
}
