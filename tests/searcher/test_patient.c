/* test_patient.c - reading the patient a description speaks of. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "search_internal.h"

/* Reads `text`; returns the bytes that state the age as a string. */
static const char *read_ok(const char *text, td_patient_t *patient)
{
    static char stated[64];
    size_t start = 0, end = 0;
    cr_assert(td_patient_read(text, patient, &start, &end), "%s", text);
    cr_assert_lt(start, end);
    snprintf(stated, sizeof(stated), "%.*s", (int) (end - start), text + start);
    return stated;
}

static void expect(const char *text, int age, const char *unit, td_sex_t sex, const char *stated)
{
    td_patient_t p;
    const char *got = read_ok(text, &p);
    cr_assert_eq(p.age, age, "%s", text);
    cr_assert_str_eq(p.age_unit, unit, "%s", text);
    cr_assert_eq(p.sex, sex, "%s", text);
    cr_assert_str_eq(got, stated, "%s", text);
}

Test(patient, ages_as_case_reports_write_them)
{
    expect("A 62-year-old woman with HR+ breast cancer", 62, "years", TD_SEX_FEMALE, "62-year-old");
    expect("62 year old man", 62, "years", TD_SEX_MALE, "62 year old");
    expect("patient is 45 yrs old", 45, "years", TD_SEX_UNSET, "45 yrs old");
    expect("79 yo F with chronic hypoxemia", 79, "years", TD_SEX_FEMALE, "79 yo F");
    expect("65 y/o M, COPD", 65, "years", TD_SEX_MALE, "65 y/o M");
    expect("a 58 y.o. never-smoker; he", 58, "years", TD_SEX_MALE, "58 y.o.");
    expect("an 8-month-old boy with otitis", 8, "months", TD_SEX_MALE, "8-month-old");
    expect("a 3-week-old girl", 3, "weeks", TD_SEX_FEMALE, "3-week-old");
    expect("infants aged 6 months", 6, "months", TD_SEX_UNSET, "aged 6 months");
    expect("Adults aged 70 with dementia", 70, "years", TD_SEX_UNSET, "aged 70");
}

Test(patient, the_first_age_is_the_patients)
{
    expect("A 36-year-old mother of a 2-year-old girl", 36, "years", TD_SEX_FEMALE, "36-year-old");
}

Test(patient, sex_from_a_noun_before_a_pronoun)
{
    /* "his" comes first, but "woman" names her. */
    expect("A 40-year-old presented with his wife's worry; the woman", 40, "years", TD_SEX_FEMALE,
           "40-year-old");
    expect("A 40-year-old presented; she reports pain", 40, "years", TD_SEX_FEMALE, "40-year-old");
    expect("A 40-year-old postmenopausal patient", 40, "years", TD_SEX_FEMALE, "40-year-old");
    /* HER2 is not "her"; "female" is not "male". */
    expect("A 50-year-old with HER2-positive disease", 50, "years", TD_SEX_UNSET, "50-year-old");
    expect("A 50-year-old female", 50, "years", TD_SEX_FEMALE, "50-year-old");
}

Test(patient, no_age_no_patient)
{
    td_patient_t p;
    size_t start, end;
    const char *texts[] = {"breast cancer in women",
                           "her2 positive",
                           "phase 2 trials from 2020",
                           "18 years or older",
                           "5 year survival",
                           "aged care",
                           "1000 year old",
                           ""};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        cr_assert_not(td_patient_read(texts[i], &p, &start, &end), "%s", texts[i]);
}
