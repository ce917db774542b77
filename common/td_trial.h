/* td_trial.h - the trial record model.
 *
 * One td_trial_t holds every field of a ClinicalTrials.gov study that
 * trialdex indexes, filters, sorts or shows. Readers (td_reader.h) fill it
 * from API v2 JSON, legacy XML or BEIR JSON Lines.
 *
 * Memory: a trial owns one arena. Every string and array reachable from the
 * struct lives in that arena and is released by td_trial_free(). Strings are
 * UTF-8, NUL-terminated, trimmed of surrounding white space, and NULL when the
 * field is absent. Lists have `count` items; `items` is NULL when count is 0.
 *
 * Enumerations use the API v2 vocabulary (RECRUITING, PHASE2, ...). Legacy
 * XML display strings ("Active, not recruiting", "Phase 1/Phase 2") map to
 * the same values. A value outside the vocabulary is reported as a warning
 * and becomes: TD_STATUS_OTHER, TD_STUDY_TYPE_OTHER, TD_INTERVENTION_OTHER,
 * TD_SPONSOR_UNKNOWN (the class is not known), TD_SEX_UNSET and
 * TD_ACTUALITY_UNSPECIFIED (neither has an "other" value); in a bit set
 * (phases, std_ages) it sets no bit.
 */
#ifndef TD_TRIAL_H
#define TD_TRIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text kept in one field, in bytes. Longer text is cut at a
 * character boundary and the reader reports a warning. */
#define TD_FIELD_MAX (1u << 20)

/* Length of a canonical NCT ID ("NCT" + 8 digits). */
#define TD_NCT_ID_LEN 11

typedef struct td_strlist {
    const char **items;
    size_t count;
} td_strlist_t;

/* Precision of a date as the source gave it. */
typedef enum td_date_precision {
    TD_DATE_NONE = 0, /* absent */
    TD_DATE_YEAR,
    TD_DATE_MONTH,
    TD_DATE_DAY
} td_date_precision_t;

/* Whether a date (or enrollment count) is actual or anticipated. */
typedef enum td_actuality {
    TD_ACTUALITY_UNSPECIFIED = 0,
    TD_ACTUALITY_ACTUAL,
    TD_ACTUALITY_ESTIMATED
} td_actuality_t;

/* A calendar date; month and day are 0 when below the precision. */
typedef struct td_date {
    int16_t year;
    uint8_t month;
    uint8_t day;
    td_date_precision_t precision;
    td_actuality_t type;
} td_date_t;

typedef enum td_age_unit {
    TD_AGE_UNIT_NONE = 0, /* absent or "N/A": no limit */
    TD_AGE_UNIT_MINUTES,
    TD_AGE_UNIT_HOURS,
    TD_AGE_UNIT_DAYS,
    TD_AGE_UNIT_WEEKS,
    TD_AGE_UNIT_MONTHS,
    TD_AGE_UNIT_YEARS
} td_age_unit_t;

/* An age limit: "18 Years" is {value 18, unit YEARS, days 6574}.
 * `days` is the limit in whole days (years count 365.25 days, months
 * 30.4375), or -1 when there is no limit. */
typedef struct td_age {
    double value;
    td_age_unit_t unit;
    int32_t days;
} td_age_t;

typedef enum td_overall_status {
    TD_STATUS_UNSET = 0,
    TD_STATUS_ACTIVE_NOT_RECRUITING,
    TD_STATUS_COMPLETED,
    TD_STATUS_ENROLLING_BY_INVITATION,
    TD_STATUS_NOT_YET_RECRUITING,
    TD_STATUS_RECRUITING,
    TD_STATUS_SUSPENDED,
    TD_STATUS_TERMINATED,
    TD_STATUS_WITHDRAWN,
    TD_STATUS_AVAILABLE,
    TD_STATUS_NO_LONGER_AVAILABLE,
    TD_STATUS_TEMPORARILY_NOT_AVAILABLE,
    TD_STATUS_APPROVED_FOR_MARKETING,
    TD_STATUS_WITHHELD,
    TD_STATUS_UNKNOWN,
    TD_STATUS_OTHER,
    TD_STATUS_COUNT_
} td_overall_status_t;

/* Phases form a bit set: a Phase 2/3 study has both bits. */
typedef enum td_phase {
    TD_PHASE_NA = 1 << 0,
    TD_PHASE_EARLY1 = 1 << 1,
    TD_PHASE_1 = 1 << 2,
    TD_PHASE_2 = 1 << 3,
    TD_PHASE_3 = 1 << 4,
    TD_PHASE_4 = 1 << 5
} td_phase_t;

typedef enum td_study_type {
    TD_STUDY_TYPE_UNSET = 0,
    TD_STUDY_TYPE_INTERVENTIONAL,
    TD_STUDY_TYPE_OBSERVATIONAL,
    TD_STUDY_TYPE_EXPANDED_ACCESS,
    TD_STUDY_TYPE_OTHER,
    TD_STUDY_TYPE_COUNT_
} td_study_type_t;

typedef enum td_sex {
    TD_SEX_UNSET = 0,
    TD_SEX_ALL,
    TD_SEX_FEMALE,
    TD_SEX_MALE,
    TD_SEX_COUNT_
} td_sex_t;

/* Standard age groups form a bit set. */
typedef enum td_std_age {
    TD_STD_AGE_CHILD = 1 << 0,      /* 0-17 years */
    TD_STD_AGE_ADULT = 1 << 1,      /* 18-64 years */
    TD_STD_AGE_OLDER_ADULT = 1 << 2 /* 65 years and over */
} td_std_age_t;

typedef enum td_tristate { TD_UNSPECIFIED = 0, TD_YES, TD_NO } td_tristate_t;

typedef enum td_intervention_type {
    TD_INTERVENTION_UNSET = 0,
    TD_INTERVENTION_BEHAVIORAL,
    TD_INTERVENTION_BIOLOGICAL,
    TD_INTERVENTION_COMBINATION_PRODUCT,
    TD_INTERVENTION_DEVICE,
    TD_INTERVENTION_DIAGNOSTIC_TEST,
    TD_INTERVENTION_DIETARY_SUPPLEMENT,
    TD_INTERVENTION_DRUG,
    TD_INTERVENTION_GENETIC,
    TD_INTERVENTION_PROCEDURE,
    TD_INTERVENTION_RADIATION,
    TD_INTERVENTION_OTHER,
    TD_INTERVENTION_COUNT_
} td_intervention_type_t;

typedef enum td_sponsor_class {
    TD_SPONSOR_UNSET = 0,
    TD_SPONSOR_NIH,
    TD_SPONSOR_FED,
    TD_SPONSOR_OTHER_GOV,
    TD_SPONSOR_INDIV,
    TD_SPONSOR_INDUSTRY,
    TD_SPONSOR_NETWORK,
    TD_SPONSOR_AMBIG,
    TD_SPONSOR_OTHER,
    TD_SPONSOR_UNKNOWN,
    TD_SPONSOR_COUNT_
} td_sponsor_class_t;

typedef struct td_intervention {
    td_intervention_type_t type;
    const char *name;
    const char *description;
    td_strlist_t other_names;
    td_strlist_t arm_group_labels;
} td_intervention_t;

typedef struct td_arm_group {
    const char *label;
    const char *type; /* EXPERIMENTAL, ACTIVE_COMPARATOR, ... (API v2 token) */
    const char *description;
    td_strlist_t intervention_names;
} td_arm_group_t;

typedef struct td_outcome {
    const char *measure;
    const char *description;
    const char *time_frame;
} td_outcome_t;

typedef struct td_sponsor {
    const char *name;
    td_sponsor_class_t sponsor_class;
} td_sponsor_t;

typedef struct td_location {
    const char *facility;
    const char *city;
    const char *state;
    const char *zip;
    const char *country;
    td_overall_status_t status; /* recruitment status of this site */
    bool has_geo;
    double latitude;
    double longitude;
} td_location_t;

/* Study design. Strings hold API v2 tokens (RANDOMIZED, PARALLEL,
 * TREATMENT, ...) or, for legacy records, the normalised source text. */
typedef struct td_design {
    const char *allocation;
    const char *intervention_model;
    const char *primary_purpose;
    const char *masking;
    const char *observational_model;
    const char *time_perspective;
} td_design_t;

typedef struct td_trial {
    /* Identification */
    char nct_id[TD_NCT_ID_LEN + 1]; /* always a valid canonical NCT ID */
    td_strlist_t nct_aliases;
    const char *org_study_id;
    td_strlist_t secondary_ids;
    const char *acronym;
    const char *brief_title;
    const char *official_title;

    /* Description */
    const char *brief_summary;
    const char *detailed_description;

    /* Conditions and keywords */
    td_strlist_t conditions;
    td_strlist_t keywords;
    td_strlist_t condition_mesh_terms;
    td_strlist_t intervention_mesh_terms;

    /* Arms, interventions and outcomes */
    td_intervention_t *interventions;
    size_t intervention_count;
    td_arm_group_t *arm_groups;
    size_t arm_group_count;
    td_outcome_t *primary_outcomes;
    size_t primary_outcome_count;
    td_outcome_t *secondary_outcomes;
    size_t secondary_outcome_count;

    /* Eligibility */
    const char *eligibility_criteria; /* the whole text, inclusion and exclusion */
    td_sex_t sex;
    td_age_t minimum_age;
    td_age_t maximum_age;
    td_tristate_t healthy_volunteers;
    /* td_std_age_t bits. An API v2 or XML study that names no known group
     * (legacy XML never does) gets the groups its age limits overlap, see
     * td_std_ages_from_limits: with no limits, all three. BEIR documents
     * have no eligibility data and keep 0. */
    unsigned std_ages;

    /* Status and design */
    td_overall_status_t overall_status;
    unsigned phases; /* td_phase_t bits; 0 when not given */
    td_study_type_t study_type;
    td_design_t design;
    int64_t enrollment; /* -1 when not given */
    td_actuality_t enrollment_type;

    /* Dates */
    td_date_t start_date;
    td_date_t primary_completion_date;
    td_date_t completion_date;
    td_date_t first_posted_date;
    td_date_t last_update_date;

    /* Sponsors and sites */
    td_sponsor_t lead_sponsor;
    td_sponsor_t *collaborators;
    size_t collaborator_count;
    td_location_t *locations;
    size_t location_count;

    bool has_results;

    /* Where the record came from, for messages: the source file (and
     * archive member, as "archive.tar.xz!dir/NCT...xml") and the position
     * inside it, as td_diagnostic_t.position: "line 12" (a study object or a
     * JSON Lines line), "study 3, line 40" (an element of an array or API
     * page, and the line where it starts), or "" (an XML document: the whole
     * file or member). Never NULL for a trial from a reader. */
    const char *source;
    const char *position;

    struct td_arena *arena; /* owns everything above */
} td_trial_t;

/* Creates an empty trial (enrollment -1, ages without limit).
 * Returns NULL when out of memory. Free with td_trial_free(). */
td_trial_t *td_trial_new(void);

/* Frees a trial and everything it owns. Accepts NULL. */
void td_trial_free(td_trial_t *trial);

/* Allocates zeroed memory for `count` items of `size` bytes in the trial's
 * arena; it lives as long as the trial. Returns NULL when out of memory. */
void *td_trial_calloc(td_trial_t *trial, size_t count, size_t size);

/* Copies `len` bytes of `text` into the trial's arena, trimming white space
 * at both ends. Returns TD_OK with *copy set to the copy (owned by the trial,
 * valid until td_trial_free), or to NULL when `text` is NULL or nothing is
 * left after trimming; or TD_ERR_NO_MEMORY with *copy NULL. Text longer than
 * TD_FIELD_MAX is cut at a character boundary and *truncated (if not NULL)
 * is set to true. */
td_status_t td_trial_strndup(td_trial_t *trial, const char *text, size_t len, const char **copy,
                             bool *truncated);

/* Appends a copy of `text` (trimmed as by td_trial_strndup) to `list`, which
 * must belong to `trial`. NULL or blank text is skipped. Returns TD_OK or
 * TD_ERR_NO_MEMORY. *truncated as for td_trial_strndup. */
td_status_t td_trial_strlist_add(td_trial_t *trial, td_strlist_t *list, const char *text,
                                 size_t len, bool *truncated);

/* Canonicalises an NCT ID: accepts "NCT" in any case followed by exactly 8
 * digits, with surrounding white space. Writes "NCT01234567" to `out` and
 * returns true; returns false for anything else. */
bool td_nct_id_parse(const char *text, size_t len, char out[TD_NCT_ID_LEN + 1]);

/* Parses a date in the forms ClinicalTrials.gov uses: "2023", "2023-05",
 * "2023-05-17" (API v2) and "May 2023", "May 17, 2023" (legacy XML). A month
 * or day that is given must exist ("2023-00", "2023-02-30" and "May 0, 2023"
 * are bad). Returns TD_OK and fills *out (keeping out->type), or
 * TD_ERR_BAD_INPUT leaving *out as it was. */
td_status_t td_date_parse(const char *text, td_date_t *out);

/* Parses an age limit: "18 Years", "6 Months", "1 Year", "N/A", "" (no
 * limit). Returns TD_OK or TD_ERR_BAD_INPUT. */
td_status_t td_age_parse(const char *text, td_age_t *out);

/* Derives the standard age groups a trial's age limits overlap; an absent
 * limit (days -1) is no limit. */
unsigned td_std_ages_from_limits(const td_age_t *minimum, const td_age_t *maximum);

/* Enumeration parsing. Each accepts an API v2 token or a legacy display
 * string, ignoring case and punctuation ("Active, not recruiting" ==
 * "ACTIVE_NOT_RECRUITING"). They return false, leaving the output as it
 * was, when the text is not a known value; the caller decides how to report
 * it and what the field becomes (see the top of this file). */
bool td_overall_status_parse(const char *text, td_overall_status_t *out);
bool td_phase_parse(const char *text, unsigned *phases_out); /* ORs bits in */
bool td_study_type_parse(const char *text, td_study_type_t *out);
bool td_sex_parse(const char *text, td_sex_t *out);
bool td_std_age_parse(const char *text, unsigned *std_ages_out); /* ORs bits in */
bool td_intervention_type_parse(const char *text, td_intervention_type_t *out);
bool td_sponsor_class_parse(const char *text, td_sponsor_class_t *out);
bool td_actuality_parse(const char *text, td_actuality_t *out);

/* API v2 tokens for enumeration values ("RECRUITING", "PHASE2", ...), for
 * display and index terms. Static strings; "" for *_UNSET. */
const char *td_overall_status_name(td_overall_status_t value);
const char *td_phase_name(td_phase_t bit);
const char *td_study_type_name(td_study_type_t value);
const char *td_sex_name(td_sex_t value);
const char *td_std_age_name(td_std_age_t bit);
const char *td_intervention_type_name(td_intervention_type_t value);
const char *td_sponsor_class_name(td_sponsor_class_t value);
const char *td_age_unit_name(td_age_unit_t unit);

/* The free-text fields of a trial, as td_trial_each_text reports them. */
typedef enum td_text_field {
    TD_TEXT_BRIEF_TITLE,
    TD_TEXT_OFFICIAL_TITLE,
    TD_TEXT_ACRONYM,
    TD_TEXT_BRIEF_SUMMARY,
    TD_TEXT_DETAILED_DESCRIPTION,
    TD_TEXT_CONDITION,
    TD_TEXT_KEYWORD,
    TD_TEXT_CONDITION_MESH,
    TD_TEXT_INTERVENTION_NAME,
    TD_TEXT_INTERVENTION_OTHER_NAME,
    TD_TEXT_INTERVENTION_DESCRIPTION,
    TD_TEXT_INTERVENTION_MESH,
    TD_TEXT_ARM_GROUP,
    TD_TEXT_OUTCOME,
    TD_TEXT_ELIGIBILITY,
    TD_TEXT_SPONSOR,
    TD_TEXT_LOCATION,
    TD_TEXT_FIELD_COUNT
} td_text_field_t;

/* Calls `fn` for every non-empty free-text value of the trial, in the
 * order of td_text_field_t; a list field calls once per item. Used to feed
 * the analyzer every text a record holds. */
typedef void (*td_text_fn)(td_text_field_t field, const char *text, void *user);
void td_trial_each_text(const td_trial_t *trial, td_text_fn fn, void *user);

/* A short name for a text field: "brief_title", "eligibility", ... */
const char *td_text_field_name(td_text_field_t field);

#ifdef __cplusplus
}
#endif

#endif
