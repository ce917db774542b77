/* patient.c - the patient a description speaks of: age and sex.
 *
 * A description states an age as case reports and referral notes do: "a
 * 62-year-old woman", "62 year old", "aged 62", "62 yo", "an 8-month-old
 * boy", "3 weeks old". Only text that states an age is read as a patient:
 * an ordinary query that says "women" or "her" is not a description. The
 * first age stated is the patient's (a description may go on to mention a
 * relative's).
 *
 * The sex comes from a letter after the age ("79 yo F"), else from the
 * first word that names one ("woman", "girl", "female", "mother"; "man",
 * "boy", "male", "father"), else from the first pronoun ("she", "her";
 * "he", "him", "his").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search_internal.h"
#include "td_trial.h"

typedef struct word {
    const char *text;
    size_t len;
} word_t;

static bool word_is(const word_t *w, const char *s)
{
    return w->len == strlen(s) && strncasecmp(w->text, s, w->len) == 0;
}

static bool word_in(const word_t *w, const char *const *list)
{
    for (; *list; list++)
        if (word_is(w, *list))
            return true;
    return false;
}

/* The words of `text`: runs of letters, digits, '.' and '/' inside a word
 * ("y/o", "y.o."); everything else separates. Returns how many (at most
 * `max`). */
static size_t split_words(const char *text, word_t *words, size_t max)
{
    size_t n = 0;
    const char *c = text;
    while (*c && n < max) {
        while (*c && !isalnum((unsigned char) *c))
            c++;
        if (!*c)
            break;
        const char *start = c;
        while (*c && (isalnum((unsigned char) *c) ||
                      ((*c == '.' || *c == '/') && isalnum((unsigned char) c[1]))))
            c++;
        if (*c == '.' && c - start <= 3 && c > start && c[-1] != '.' &&
            memchr(start, '.', c - start))
            c++; /* the closing dot of "y.o." */
        words[n++] = (word_t){start, (size_t) (c - start)};
    }
    return n;
}

/* The unit of an age ("year", "months", "yr", "wk") as td_age_parse
 * spells it, or NULL. */
static const char *age_unit(const word_t *w)
{
    static const char *const years[] = {"year", "years", "yr", "yrs", NULL};
    static const char *const months[] = {"month", "months", "mo", "mos", NULL};
    static const char *const weeks[] = {"week", "weeks", "wk", "wks", NULL};
    static const char *const days[] = {"day", "days", NULL};
    return word_in(w, years)    ? "years"
           : word_in(w, months) ? "months"
           : word_in(w, weeks)  ? "weeks"
           : word_in(w, days)   ? "days"
                                : NULL;
}

static bool whole_number(const word_t *w, int *value)
{
    if (w->len == 0 || w->len > 3)
        return false;
    for (size_t i = 0; i < w->len; i++)
        if (!isdigit((unsigned char) w->text[i]))
            return false;
    *value = atoi(w->text);
    return true;
}

/* Sets the patient's age to `value` `unit`, counted in days as the
 * indexer counts trials' age limits. */
static bool set_age(td_patient_t *patient, int value, const char *unit)
{
    char text[32];
    snprintf(text, sizeof(text), "%d %s", value, unit);
    td_age_t age;
    if (td_age_parse(text, &age) != TD_OK || age.days < 0)
        return false;
    patient->age = value;
    patient->age_unit = unit;
    patient->age_days = age.days;
    return true;
}

/* The age stated at word i, if one is ("62 year old", "62 yo", "aged 62"):
 * how many words state it; 0 when none. */
static size_t age_at(const word_t *w, size_t n, size_t i, td_patient_t *patient)
{
    static const char *const short_years[] = {"yo", "y/o", "y.o.", "yrs/o", NULL};
    int value;
    if (word_is(&w[i], "aged") && i + 1 < n && whole_number(&w[i + 1], &value)) {
        const char *unit = i + 2 < n ? age_unit(&w[i + 2]) : NULL;
        return set_age(patient, value, unit ? unit : "years") ? (unit ? 3 : 2) : 0;
    }
    if (!whole_number(&w[i], &value) || i + 1 >= n)
        return 0;
    if (word_in(&w[i + 1], short_years))
        return set_age(patient, value, "years") ? 2 : 0;
    const char *unit = age_unit(&w[i + 1]);
    return unit && i + 2 < n && word_is(&w[i + 2], "old") && set_age(patient, value, unit) ? 3 : 0;
}

static td_sex_t sex_of(const word_t *w, bool pronouns)
{
    static const char *const female[] = {"woman",          "female",        "girl",     "lady",
                                         "mother",         "wife",          "daughter", "sister",
                                         "postmenopausal", "premenopausal", NULL};
    static const char *const male[] = {"man",     "male", "boy",     "gentleman", "father",
                                       "husband", "son",  "brother", NULL};
    static const char *const she[] = {"she", "her", "hers", "herself", NULL};
    static const char *const he[] = {"he", "him", "his", "himself", NULL};
    if (word_in(w, female) || (pronouns && word_in(w, she)))
        return TD_SEX_FEMALE;
    if (word_in(w, male) || (pronouns && word_in(w, he)))
        return TD_SEX_MALE;
    return TD_SEX_UNSET;
}

bool td_patient_read(const char *text, td_patient_t *out, size_t *start, size_t *end)
{
    enum { MAX_WORDS = 2048 };
    word_t *words = malloc(MAX_WORDS * sizeof(*words));
    if (!words)
        return false;
    size_t n = split_words(text, words, MAX_WORDS);
    td_patient_t patient = {.sex = TD_SEX_UNSET};
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        size_t stated = age_at(words, n, i, &patient);
        found = stated > 0;
        if (!found)
            continue;
        /* Clinical notes write "79 yo F", "65 y/o M". */
        if (i + stated < n)
            patient.sex = word_is(&words[i + stated], "f")   ? TD_SEX_FEMALE
                          : word_is(&words[i + stated], "m") ? TD_SEX_MALE
                                                             : TD_SEX_UNSET;
        const word_t *last = &words[i + stated - (patient.sex == TD_SEX_UNSET)];
        *start = (size_t) (words[i].text - text);
        *end = (size_t) (last->text + last->len - text);
    }
    for (int pass = 0; pass < 2 && found && patient.sex == TD_SEX_UNSET; pass++)
        for (size_t i = 0; i < n && patient.sex == TD_SEX_UNSET; i++)
            patient.sex = sex_of(&words[i], pass == 1);
    free(words);
    if (found)
        *out = patient;
    return found;
}
