/* The trial record model: value parsing, enumerations and the arena. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "td_trial.h"

Test(trial, nct_ids)
{
    char id[TD_NCT_ID_LEN + 1];
    cr_assert(td_nct_id_parse("NCT01234567", 11, id));
    cr_assert_str_eq(id, "NCT01234567");
    cr_assert(td_nct_id_parse("  nct01234567\n", 14, id));
    cr_assert_str_eq(id, "NCT01234567");
    cr_assert_not(td_nct_id_parse("NCT123", 6, id));
    cr_assert_not(td_nct_id_parse("NCT0123456X", 11, id));
    cr_assert_not(td_nct_id_parse("XYZ01234567", 11, id));
    cr_assert_not(td_nct_id_parse("NCT012345678", 12, id));
    cr_assert_not(td_nct_id_parse("", 0, id));
}

static td_date_t date(const char *text)
{
    td_date_t d = {.type = TD_ACTUALITY_ACTUAL};
    cr_assert_eq(td_date_parse(text, &d), TD_OK, "'%s' should parse", text);
    cr_assert_eq(d.type, TD_ACTUALITY_ACTUAL, "the type is kept");
    return d;
}

Test(trial, dates_in_both_formats)
{
    td_date_t d = date("2023-05-17");
    cr_assert_eq(d.year, 2023);
    cr_assert_eq(d.month, 5);
    cr_assert_eq(d.day, 17);
    cr_assert_eq(d.precision, TD_DATE_DAY);

    d = date("2004-05");
    cr_assert_eq(d.month, 5);
    cr_assert_eq(d.day, 0);
    cr_assert_eq(d.precision, TD_DATE_MONTH);

    d = date("1999");
    cr_assert_eq(d.precision, TD_DATE_YEAR);

    d = date("July 2001");
    cr_assert_eq(d.year, 2001);
    cr_assert_eq(d.month, 7);
    cr_assert_eq(d.precision, TD_DATE_MONTH);

    d = date("September 13, 2001");
    cr_assert_eq(d.day, 13);
    cr_assert_eq(d.month, 9);
    cr_assert_eq(d.precision, TD_DATE_DAY);

    d = date("Feb 29, 2024");
    cr_assert_eq(d.day, 29);
}

Test(trial, bad_dates)
{
    static const char *const bad[] = {
        "",    "2023-13", "2023-02-30",       "Feb 29, 2023", "2023/05/17", "Smarch 2001",
        "May", "12345",   "2023-05-17T10:00", "20-05-2023"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        td_date_t d = {0};
        cr_assert_eq(td_date_parse(bad[i], &d), TD_ERR_BAD_INPUT, "'%s' should not parse", bad[i]);
    }
}

Test(trial, month_or_day_zero_is_not_a_date)
{
    static const char *const bad[] = {"2023-00", "2023-00-10", "2023-05-00", "May 0, 2023",
                                      "May 00, 2023"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        td_date_t d = {.year = 1999, .precision = TD_DATE_YEAR};
        cr_assert_eq(td_date_parse(bad[i], &d), TD_ERR_BAD_INPUT, "'%s' should not parse", bad[i]);
        cr_assert_eq(d.year, 1999, "'%s': a bad date leaves the output alone", bad[i]);
    }
}

Test(trial, ages)
{
    td_age_t age;
    cr_assert_eq(td_age_parse("18 Years", &age), TD_OK);
    cr_assert_eq(age.unit, TD_AGE_UNIT_YEARS);
    cr_assert_float_eq(age.value, 18.0, 1e-9);
    cr_assert_eq(age.days, 6574);
    cr_assert_eq(td_age_parse("1 Year", &age), TD_OK);
    cr_assert_eq(age.days, 365);
    cr_assert_eq(td_age_parse("6 Months", &age), TD_OK);
    cr_assert_eq(age.days, 182);
    cr_assert_eq(td_age_parse("2 weeks", &age), TD_OK);
    cr_assert_eq(age.days, 14);
    cr_assert_eq(td_age_parse("36 Hours", &age), TD_OK);
    cr_assert_eq(age.days, 1);
    cr_assert_eq(td_age_parse("N/A", &age), TD_OK);
    cr_assert_eq(age.unit, TD_AGE_UNIT_NONE);
    cr_assert_eq(age.days, -1);
    cr_assert_eq(td_age_parse("", &age), TD_OK);
    cr_assert_eq(age.days, -1);
    cr_assert_eq(td_age_parse("eighteen years", &age), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_age_parse("18 Eons", &age), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_age_parse("18 Years old", &age), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_age_parse("18 Yearss", &age), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_age_parse("18 Yea", &age), TD_ERR_BAD_INPUT);
    cr_assert_eq(td_age_parse("18", &age), TD_ERR_BAD_INPUT);
    cr_assert_str_eq(td_age_unit_name(TD_AGE_UNIT_MONTHS), "MONTHS");
}

Test(trial, every_age_unit_parses_singular_and_plural_and_has_a_name)
{
    static const struct {
        const char *singular, *plural;
        td_age_unit_t unit;
        const char *name;
        int32_t days_of_ten; /* of "10 <unit>" */
    } units[] = {
        {"1 Minute", "10 minutes", TD_AGE_UNIT_MINUTES, "MINUTES", 0},
        {"1 Hour", "10 HOURS", TD_AGE_UNIT_HOURS, "HOURS", 0},
        {"1 Day", "10 Days", TD_AGE_UNIT_DAYS, "DAYS", 10},
        {"1 week", "10 Weeks", TD_AGE_UNIT_WEEKS, "WEEKS", 70},
        {"1 Month", "10 Months", TD_AGE_UNIT_MONTHS, "MONTHS", 304},
        {"1 Year", "10 Years", TD_AGE_UNIT_YEARS, "YEARS", 3652},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        td_age_t age;
        cr_assert_eq(td_age_parse(units[i].singular, &age), TD_OK, "%s", units[i].singular);
        cr_assert_eq(age.unit, units[i].unit);
        cr_assert_eq(td_age_parse(units[i].plural, &age), TD_OK, "%s", units[i].plural);
        cr_assert_eq(age.unit, units[i].unit);
        cr_assert_eq(age.days, units[i].days_of_ten, "%s", units[i].plural);
        cr_assert_str_eq(td_age_unit_name(units[i].unit), units[i].name);
    }
    cr_assert_str_eq(td_age_unit_name(TD_AGE_UNIT_NONE), "");
}

static unsigned std_ages(const char *minimum, const char *maximum)
{
    td_age_t low, high;
    cr_assert_eq(td_age_parse(minimum, &low), TD_OK);
    cr_assert_eq(td_age_parse(maximum, &high), TD_OK);
    return td_std_ages_from_limits(&low, &high);
}

Test(trial, standard_age_groups_from_limits)
{
    cr_assert_eq(std_ages("18 Years", "N/A"), TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
    cr_assert_eq(std_ages("18 Years", "64 Years"), TD_STD_AGE_ADULT);
    cr_assert_eq(std_ages("N/A", "17 Years"), TD_STD_AGE_CHILD);
    cr_assert_eq(std_ages("12 Years", "30 Years"), TD_STD_AGE_CHILD | TD_STD_AGE_ADULT);
    cr_assert_eq(std_ages("65 Years", "N/A"), TD_STD_AGE_OLDER_ADULT);
    cr_assert_eq(std_ages("N/A", "N/A"),
                 TD_STD_AGE_CHILD | TD_STD_AGE_ADULT | TD_STD_AGE_OLDER_ADULT);
}

Test(trial, enumerations_accept_api_and_legacy_spellings)
{
    td_overall_status_t status;
    cr_assert(td_overall_status_parse("ACTIVE_NOT_RECRUITING", &status));
    cr_assert_eq(status, TD_STATUS_ACTIVE_NOT_RECRUITING);
    cr_assert(td_overall_status_parse("Active, not recruiting", &status));
    cr_assert_eq(status, TD_STATUS_ACTIVE_NOT_RECRUITING);
    cr_assert(td_overall_status_parse("Unknown status", &status));
    cr_assert_eq(status, TD_STATUS_UNKNOWN);
    cr_assert_not(td_overall_status_parse("On hold", &status));
    cr_assert_str_eq(td_overall_status_name(TD_STATUS_NOT_YET_RECRUITING), "NOT_YET_RECRUITING");
    cr_assert_str_eq(td_overall_status_name(TD_STATUS_UNSET), "");

    unsigned phases = 0;
    cr_assert(td_phase_parse("Phase 1/Phase 2", &phases));
    cr_assert_eq(phases, TD_PHASE_1 | TD_PHASE_2);
    phases = 0;
    cr_assert(td_phase_parse("N/A", &phases));
    cr_assert_eq(phases, TD_PHASE_NA);
    phases = 0;
    cr_assert(td_phase_parse("EARLY_PHASE1", &phases));
    cr_assert(td_phase_parse("Early Phase 1", &phases));
    cr_assert_eq(phases, TD_PHASE_EARLY1);
    cr_assert_not(td_phase_parse("Phase 5", &phases));
    cr_assert_not(td_phase_parse("Phase 1/Phase 9", &phases));
    cr_assert_eq(phases, TD_PHASE_EARLY1, "a failed parse sets no bits");
    cr_assert_str_eq(td_phase_name(TD_PHASE_3), "PHASE3");

    td_sponsor_class_t sponsor;
    cr_assert(td_sponsor_class_parse("U.S. Fed", &sponsor));
    cr_assert_eq(sponsor, TD_SPONSOR_FED);
    cr_assert(td_sponsor_class_parse("Industry", &sponsor));
    cr_assert_eq(sponsor, TD_SPONSOR_INDUSTRY);

    td_sex_t sex;
    cr_assert(td_sex_parse("Both", &sex));
    cr_assert_eq(sex, TD_SEX_ALL);

    td_study_type_t type;
    cr_assert(td_study_type_parse("Observational [Patient Registry]", &type));
    cr_assert_eq(type, TD_STUDY_TYPE_OBSERVATIONAL);

    td_intervention_type_t intervention;
    cr_assert(td_intervention_type_parse("Dietary Supplement", &intervention));
    cr_assert_eq(intervention, TD_INTERVENTION_DIETARY_SUPPLEMENT);

    td_actuality_t actuality;
    cr_assert(td_actuality_parse("Anticipated", &actuality));
    cr_assert_eq(actuality, TD_ACTUALITY_ESTIMATED);

    actuality = TD_ACTUALITY_ACTUAL;
    cr_assert_not(td_actuality_parse("Projected", &actuality));
    cr_assert_eq(actuality, TD_ACTUALITY_ACTUAL, "an unknown value leaves the output alone");

    unsigned ages = 0;
    cr_assert(td_std_age_parse("Older Adult", &ages));
    cr_assert_eq(ages, TD_STD_AGE_OLDER_ADULT);
    cr_assert(td_std_age_parse("CHILD", &ages));
    cr_assert_eq(ages, TD_STD_AGE_OLDER_ADULT | TD_STD_AGE_CHILD, "bits are ORed in");
    cr_assert_not(td_std_age_parse("Senior", &ages));
    cr_assert_eq(ages, TD_STD_AGE_OLDER_ADULT | TD_STD_AGE_CHILD);
    cr_assert_str_eq(td_std_age_name(TD_STD_AGE_ADULT), "ADULT");
}

Test(trial, text_is_trimmed_and_lists_grow)
{
    td_trial_t *trial = td_trial_new();
    cr_assert_not_null(trial);
    cr_assert_eq(trial->enrollment, -1);
    cr_assert_eq(trial->minimum_age.days, -1);

    bool truncated = true;
    const char *copy = NULL;
    cr_assert_eq(td_trial_strndup(trial, "  HER2-low \n", 12, &copy, &truncated), TD_OK);
    cr_assert_str_eq(copy, "HER2-low");
    cr_assert_not(truncated);

    td_strlist_t list = {0};
    char word[16];
    for (int i = 0; i < 100; i++) {
        snprintf(word, sizeof(word), "term%d", i);
        cr_assert_eq(td_trial_strlist_add(trial, &list, word, strlen(word), NULL), TD_OK);
    }
    cr_assert_eq(td_trial_strlist_add(trial, &list, "   ", 3, NULL), TD_OK);
    cr_assert_eq(list.count, 100, "empty text is not added");
    for (int i = 0; i < 100; i++) {
        snprintf(word, sizeof(word), "term%d", i);
        cr_assert_str_eq(list.items[i], word);
    }

    /* Blank and absent text are not an error: TD_OK with no copy. */
    copy = "not reset";
    cr_assert_eq(td_trial_strndup(trial, " \t\n", 3, &copy, NULL), TD_OK);
    cr_assert_null(copy);
    copy = "not reset";
    cr_assert_eq(td_trial_strndup(trial, NULL, 0, &copy, NULL), TD_OK);
    cr_assert_null(copy);

    int *numbers = td_trial_calloc(trial, 50000, sizeof(int));
    cr_assert_not_null(numbers, "requests larger than a block work");
    cr_assert_eq(numbers[49999], 0);
    td_trial_free(trial);
    td_trial_free(NULL);
}
