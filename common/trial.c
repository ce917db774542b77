/* trial.c - the trial record: arena, value parsing and enumeration tables. */
#include "td_trial.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A trial's strings and arrays come from a chain of blocks freed together.
 * Requests larger than a block get a block of their own. */
#define ARENA_BLOCK 8192

struct td_arena_block {
    struct td_arena_block *next;
    size_t used;
    size_t size;
    max_align_t data[];
};

struct td_arena {
    struct td_arena_block *head;
};

static void *arena_alloc(struct td_arena *arena, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    struct td_arena_block *block = arena->head;
    if (!block || block->size - block->used < size) {
        size_t capacity = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        block = malloc(sizeof(*block) + capacity);
        if (!block)
            return NULL;
        block->size = capacity;
        block->used = 0;
        /* A block made for one large request goes behind the current one so
         * the current block's free space is not abandoned. */
        if (capacity > ARENA_BLOCK && arena->head) {
            block->next = arena->head->next;
            arena->head->next = block;
        } else {
            block->next = arena->head;
            arena->head = block;
        }
    }
    void *p = (char *) block->data + block->used;
    block->used += size;
    return p;
}

td_trial_t *td_trial_new(void)
{
    td_trial_t *trial = calloc(1, sizeof(*trial));
    if (!trial)
        return NULL;
    trial->arena = calloc(1, sizeof(*trial->arena));
    if (!trial->arena) {
        free(trial);
        return NULL;
    }
    trial->enrollment = -1;
    trial->minimum_age.days = -1;
    trial->maximum_age.days = -1;
    return trial;
}

void td_trial_free(td_trial_t *trial)
{
    if (!trial)
        return;
    struct td_arena_block *block = trial->arena->head;
    while (block) {
        struct td_arena_block *next = block->next;
        free(block);
        block = next;
    }
    free(trial->arena);
    free(trial);
}

void *td_trial_calloc(td_trial_t *trial, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(trial->arena, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **text, size_t *len)
{
    while (*len && is_space((unsigned char) (*text)[0])) {
        (*text)++;
        (*len)--;
    }
    while (*len && is_space((unsigned char) (*text)[*len - 1]))
        (*len)--;
}

td_status_t td_trial_strndup(td_trial_t *trial, const char *text, size_t len, const char **copy,
                             bool *truncated)
{
    *copy = NULL;
    if (truncated)
        *truncated = false;
    if (!text)
        return TD_OK;
    trim(&text, &len);
    if (!len)
        return TD_OK;
    if (len > TD_FIELD_MAX) {
        len = TD_FIELD_MAX;
        /* Back up over continuation bytes so no character is split. */
        while (len && ((unsigned char) text[len] & 0xC0) == 0x80)
            len--;
        if (truncated)
            *truncated = true;
    }
    char *out = arena_alloc(trial->arena, len + 1);
    if (!out)
        return TD_ERR_NO_MEMORY;
    memcpy(out, text, len);
    out[len] = '\0';
    *copy = out;
    return TD_OK;
}

td_status_t td_trial_strlist_add(td_trial_t *trial, td_strlist_t *list, const char *text,
                                 size_t len, bool *truncated)
{
    const char *copy;
    td_status_t status = td_trial_strndup(trial, text, len, &copy, truncated);
    if (status != TD_OK || !copy)
        return status;
    /* Capacity is 4, then doubles: grow when count reaches a power of two >= 4. */
    size_t count = list->count;
    if (count == 0 || (count >= 4 && (count & (count - 1)) == 0)) {
        const char **items = td_trial_calloc(trial, count ? count * 2 : 4, sizeof(*items));
        if (!items)
            return TD_ERR_NO_MEMORY;
        if (count)
            memcpy(items, list->items, count * sizeof(*items));
        list->items = items;
    }
    list->items[count] = copy;
    list->count = count + 1;
    return TD_OK;
}

bool td_nct_id_parse(const char *text, size_t len, char out[TD_NCT_ID_LEN + 1])
{
    trim(&text, &len);
    if (len != TD_NCT_ID_LEN)
        return false;
    if ((text[0] | 0x20) != 'n' || (text[1] | 0x20) != 'c' || (text[2] | 0x20) != 't')
        return false;
    for (size_t i = 3; i < TD_NCT_ID_LEN; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    memcpy(out, "NCT", 3);
    memcpy(out + 3, text + 3, 8);
    out[TD_NCT_ID_LEN] = '\0';
    return true;
}

/* Reads an unsigned decimal number of at most `max_digits` digits. */
static bool read_uint(const char **p, int max_digits, int *out)
{
    int value = 0, digits = 0;
    while (**p >= '0' && **p <= '9' && digits < max_digits) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (!digits || (**p >= '0' && **p <= '9'))
        return false;
    *out = value;
    return true;
}

static void skip_spaces(const char **p)
{
    while (is_space((unsigned char) **p))
        (*p)++;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static const char *const month_names[12] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};

/* Matches a month name or its three-letter abbreviation, case-insensitively. */
static int read_month_name(const char **p)
{
    size_t len = 0;
    while (((*p)[len] | 0x20) >= 'a' && ((*p)[len] | 0x20) <= 'z')
        len++;
    if (len < 3)
        return 0;
    for (int m = 0; m < 12; m++) {
        size_t name_len = strlen(month_names[m]);
        if (len != 3 && len != name_len)
            continue;
        size_t i = 0;
        while (i < len && ((*p)[i] | 0x20) == month_names[m][i])
            i++;
        if (i == len) {
            *p += len;
            return m + 1;
        }
    }
    return 0;
}

td_status_t td_date_parse(const char *text, td_date_t *out)
{
    td_actuality_t type = out->type;
    int year = 0, month = 0, day = 0;
    bool has_month = false, has_day = false;
    const char *p = text;
    skip_spaces(&p);
    if (*p >= '0' && *p <= '9') {
        /* ISO: 2023, 2023-05, 2023-05-17 */
        if (!read_uint(&p, 4, &year))
            return TD_ERR_BAD_INPUT;
        if (*p == '-') {
            p++;
            has_month = true;
            if (!read_uint(&p, 2, &month))
                return TD_ERR_BAD_INPUT;
            if (*p == '-') {
                p++;
                has_day = true;
                if (!read_uint(&p, 2, &day))
                    return TD_ERR_BAD_INPUT;
            }
        }
    } else {
        /* Legacy: "May 2023", "May 17, 2023" */
        month = read_month_name(&p);
        if (!month)
            return TD_ERR_BAD_INPUT;
        has_month = true;
        skip_spaces(&p);
        int first;
        if (!read_uint(&p, 4, &first))
            return TD_ERR_BAD_INPUT;
        if (*p == ',') {
            p++;
            skip_spaces(&p);
            day = first;
            has_day = true;
            if (!read_uint(&p, 4, &year))
                return TD_ERR_BAD_INPUT;
        } else {
            year = first;
        }
    }
    skip_spaces(&p);
    if (*p || year < 1000)
        return TD_ERR_BAD_INPUT;
    /* A month or day that is given must be a real one: "2023-00" and
     * "May 0, 2023" are not dates. */
    if (has_month && (month < 1 || month > 12))
        return TD_ERR_BAD_INPUT;
    if (has_day && (day < 1 || day > days_in_month(year, month)))
        return TD_ERR_BAD_INPUT;
    out->year = (int16_t) year;
    out->month = (uint8_t) month;
    out->day = (uint8_t) day;
    out->precision = has_day ? TD_DATE_DAY : has_month ? TD_DATE_MONTH : TD_DATE_YEAR;
    out->type = type;
    return TD_OK;
}

/* Age units: the API v2 token (plural, upper case; the singular is the
 * token without its final 'S') and the length of one unit in days. */
static const struct {
    td_age_unit_t unit;
    const char *name;
    double days;
} age_units[] = {
    {TD_AGE_UNIT_YEARS, "YEARS", 365.25},   {TD_AGE_UNIT_MONTHS, "MONTHS", 30.4375},
    {TD_AGE_UNIT_WEEKS, "WEEKS", 7},        {TD_AGE_UNIT_DAYS, "DAYS", 1},
    {TD_AGE_UNIT_HOURS, "HOURS", 1.0 / 24}, {TD_AGE_UNIT_MINUTES, "MINUTES", 1.0 / 1440},
};

td_status_t td_age_parse(const char *text, td_age_t *out)
{
    const char *p = text ? text : "";
    skip_spaces(&p);
    if (!*p || ((p[0] | 0x20) == 'n' && p[1] == '/' && (p[2] | 0x20) == 'a')) {
        const char *rest = *p ? p + 3 : p;
        skip_spaces(&rest);
        if (*rest)
            return TD_ERR_BAD_INPUT;
        *out = (td_age_t){.value = 0, .unit = TD_AGE_UNIT_NONE, .days = -1};
        return TD_OK;
    }
    /* A decimal number, parsed without the locale. */
    double value = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        value = value * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits)
        return TD_ERR_BAD_INPUT;
    if (*p == '.') {
        p++;
        double scale = 0.1;
        while (*p >= '0' && *p <= '9' && scale > 1e-6) {
            value += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    skip_spaces(&p);
    size_t len = 0;
    while ((p[len] | 0x20) >= 'a' && (p[len] | 0x20) <= 'z')
        len++;
    for (size_t u = 0; u < sizeof(age_units) / sizeof(age_units[0]); u++) {
        /* "Years" or "Year", in any case. */
        size_t name_len = strlen(age_units[u].name);
        if ((len != name_len && len != name_len - 1) || strncasecmp(p, age_units[u].name, len) != 0)
            continue;
        const char *rest = p + len;
        skip_spaces(&rest);
        if (*rest)
            return TD_ERR_BAD_INPUT;
        out->value = value;
        out->unit = age_units[u].unit;
        out->days = (int32_t) floor(value * age_units[u].days + 1e-9);
        return TD_OK;
    }
    return TD_ERR_BAD_INPUT;
}

unsigned td_std_ages_from_limits(const td_age_t *minimum, const td_age_t *maximum)
{
    const int32_t adult_days = 18 * 365 + 4;     /* 18 years: 6574 days */
    const int32_t older_days = 65 * 36525 / 100; /* 65 years: 23741 days */
    int32_t low = minimum->days < 0 ? 0 : minimum->days;
    int32_t high = maximum->days < 0 ? INT32_MAX : maximum->days;
    unsigned ages = 0;
    if (low < adult_days)
        ages |= TD_STD_AGE_CHILD;
    if (low < older_days && high >= adult_days)
        ages |= TD_STD_AGE_ADULT;
    if (high >= older_days)
        ages |= TD_STD_AGE_OLDER_ADULT;
    return ages;
}

/* Enumerations. Text is compared "squashed": letters upper-cased, digits
 * kept, everything else dropped, so "Active, not recruiting" and
 * "ACTIVE_NOT_RECRUITING" are the same. Each entry has its API v2 token
 * and the other spellings seen in legacy records. */
typedef struct enum_entry {
    int value;
    const char *name;    /* API v2 token */
    const char *aliases; /* other spellings, '|'-separated, or NULL */
} enum_entry_t;

static size_t squash(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < size; p++) {
        char c = *p;
        if (c >= 'a' && c <= 'z')
            out[n++] = (char) (c - 32);
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static bool spelling_matches(const char *spellings, const char *key)
{
    char one[64];
    for (const char *s = spellings; *s;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t) (bar - s) : strlen(s);
        if (len >= sizeof(one))
            len = sizeof(one) - 1;
        memcpy(one, s, len);
        one[len] = '\0';
        char squashed[64];
        squash(one, squashed, sizeof(squashed));
        if (strcmp(squashed, key) == 0)
            return true;
        s += len;
        if (*s == '|')
            s++;
    }
    return false;
}

static bool enum_lookup(const enum_entry_t *table, size_t count, const char *text, int *out)
{
    char key[64];
    if (!text || strlen(text) >= sizeof(key))
        return false;
    if (!squash(text, key, sizeof(key)))
        return false;
    for (size_t i = 0; i < count; i++)
        if (spelling_matches(table[i].name, key) ||
            (table[i].aliases && spelling_matches(table[i].aliases, key))) {
            *out = table[i].value;
            return true;
        }
    return false;
}

/* enum_lookup for a bit set: ORs the bit into *bits. */
static bool bits_lookup(const enum_entry_t *table, size_t count, const char *text, unsigned *bits)
{
    int value;
    if (!enum_lookup(table, count, text, &value))
        return false;
    *bits |= (unsigned) value;
    return true;
}

static const char *enum_name(const enum_entry_t *table, size_t count, int value)
{
    for (size_t i = 0; i < count; i++)
        if (table[i].value == value)
            return table[i].name;
    return "";
}

#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

static const enum_entry_t status_table[] = {
    {TD_STATUS_ACTIVE_NOT_RECRUITING, "ACTIVE_NOT_RECRUITING", NULL},
    {TD_STATUS_COMPLETED, "COMPLETED", NULL},
    {TD_STATUS_ENROLLING_BY_INVITATION, "ENROLLING_BY_INVITATION", NULL},
    {TD_STATUS_NOT_YET_RECRUITING, "NOT_YET_RECRUITING", NULL},
    {TD_STATUS_RECRUITING, "RECRUITING", NULL},
    {TD_STATUS_SUSPENDED, "SUSPENDED", NULL},
    {TD_STATUS_TERMINATED, "TERMINATED", NULL},
    {TD_STATUS_WITHDRAWN, "WITHDRAWN", NULL},
    {TD_STATUS_AVAILABLE, "AVAILABLE", NULL},
    {TD_STATUS_NO_LONGER_AVAILABLE, "NO_LONGER_AVAILABLE", NULL},
    {TD_STATUS_TEMPORARILY_NOT_AVAILABLE, "TEMPORARILY_NOT_AVAILABLE", NULL},
    {TD_STATUS_APPROVED_FOR_MARKETING, "APPROVED_FOR_MARKETING", NULL},
    {TD_STATUS_WITHHELD, "WITHHELD", NULL},
    {TD_STATUS_UNKNOWN, "UNKNOWN", "Unknown status"},
    {TD_STATUS_OTHER, "OTHER", NULL},
};

static const enum_entry_t phase_table[] = {
    {TD_PHASE_NA, "NA", "N/A|Not Applicable"},
    {TD_PHASE_EARLY1, "EARLY_PHASE1", NULL},
    {TD_PHASE_1, "PHASE1", NULL},
    {TD_PHASE_2, "PHASE2", NULL},
    {TD_PHASE_3, "PHASE3", NULL},
    {TD_PHASE_4, "PHASE4", NULL},
};

static const enum_entry_t study_type_table[] = {
    {TD_STUDY_TYPE_INTERVENTIONAL, "INTERVENTIONAL", NULL},
    {TD_STUDY_TYPE_OBSERVATIONAL, "OBSERVATIONAL", "Observational [Patient Registry]"},
    {TD_STUDY_TYPE_EXPANDED_ACCESS, "EXPANDED_ACCESS", NULL},
    {TD_STUDY_TYPE_OTHER, "OTHER", NULL},
};

static const enum_entry_t sex_table[] = {
    {TD_SEX_ALL, "ALL", "Both"},
    {TD_SEX_FEMALE, "FEMALE", NULL},
    {TD_SEX_MALE, "MALE", NULL},
};

static const enum_entry_t std_age_table[] = {
    {TD_STD_AGE_CHILD, "CHILD", NULL},
    {TD_STD_AGE_ADULT, "ADULT", NULL},
    {TD_STD_AGE_OLDER_ADULT, "OLDER_ADULT", NULL},
};

static const enum_entry_t intervention_table[] = {
    {TD_INTERVENTION_BEHAVIORAL, "BEHAVIORAL", NULL},
    {TD_INTERVENTION_BIOLOGICAL, "BIOLOGICAL", NULL},
    {TD_INTERVENTION_COMBINATION_PRODUCT, "COMBINATION_PRODUCT", NULL},
    {TD_INTERVENTION_DEVICE, "DEVICE", NULL},
    {TD_INTERVENTION_DIAGNOSTIC_TEST, "DIAGNOSTIC_TEST", NULL},
    {TD_INTERVENTION_DIETARY_SUPPLEMENT, "DIETARY_SUPPLEMENT", NULL},
    {TD_INTERVENTION_DRUG, "DRUG", NULL},
    {TD_INTERVENTION_GENETIC, "GENETIC", NULL},
    {TD_INTERVENTION_PROCEDURE, "PROCEDURE", "Procedure/Surgery"},
    {TD_INTERVENTION_RADIATION, "RADIATION", NULL},
    {TD_INTERVENTION_OTHER, "OTHER", NULL},
};

static const enum_entry_t sponsor_table[] = {
    {TD_SPONSOR_NIH, "NIH", NULL},
    {TD_SPONSOR_FED, "FED", "U.S. Fed"},
    {TD_SPONSOR_OTHER_GOV, "OTHER_GOV", NULL},
    {TD_SPONSOR_INDIV, "INDIV", "Individual"},
    {TD_SPONSOR_INDUSTRY, "INDUSTRY", NULL},
    {TD_SPONSOR_NETWORK, "NETWORK", NULL},
    {TD_SPONSOR_AMBIG, "AMBIG", "Ambiguous"},
    {TD_SPONSOR_OTHER, "OTHER", NULL},
    {TD_SPONSOR_UNKNOWN, "UNKNOWN", NULL},
};

static const enum_entry_t actuality_table[] = {
    {TD_ACTUALITY_ACTUAL, "ACTUAL", NULL},
    {TD_ACTUALITY_ESTIMATED, "ESTIMATED", "Anticipated|Estimate"},
};

/* Defines td_<name>_parse and td_<name>_name over a table: a plain enum
 * (parse sets *out) or a bit set (parse ORs the bit into *out). */
#define TD_ENUM_PARSE(name, type, table)                                                           \
    bool td_##name##_parse(const char *text, type *out)                                            \
    {                                                                                              \
        int value;                                                                                 \
        if (!enum_lookup(table, COUNT(table), text, &value))                                       \
            return false;                                                                          \
        *out = (type) value;                                                                       \
        return true;                                                                               \
    }
#define TD_BITS_PARSE(name, table)                                                                 \
    bool td_##name##_parse(const char *text, unsigned *out)                                        \
    {                                                                                              \
        return bits_lookup(table, COUNT(table), text, out);                                        \
    }
#define TD_ENUM_NAME(name, type, table)                                                            \
    const char *td_##name##_name(type value)                                                       \
    {                                                                                              \
        return enum_name(table, COUNT(table), (int) value);                                        \
    }
#define TD_ENUM_FUNCTIONS(name, type, table)                                                       \
    TD_ENUM_PARSE(name, type, table)                                                               \
    TD_ENUM_NAME(name, type, table)

TD_ENUM_FUNCTIONS(overall_status, td_overall_status_t, status_table)
TD_ENUM_FUNCTIONS(study_type, td_study_type_t, study_type_table)
TD_ENUM_FUNCTIONS(sex, td_sex_t, sex_table)
TD_ENUM_FUNCTIONS(intervention_type, td_intervention_type_t, intervention_table)
TD_ENUM_FUNCTIONS(sponsor_class, td_sponsor_class_t, sponsor_table)
TD_ENUM_PARSE(actuality, td_actuality_t, actuality_table)
TD_BITS_PARSE(std_age, std_age_table)
TD_ENUM_NAME(std_age, td_std_age_t, std_age_table)
TD_ENUM_NAME(phase, td_phase_t, phase_table)

/* Legacy records join phases with '/' ("Phase 1/Phase 2"), except "N/A". */
bool td_phase_parse(const char *text, unsigned *phases_out)
{
    if (bits_lookup(phase_table, COUNT(phase_table), text, phases_out))
        return true;
    if (!text || !strchr(text, '/'))
        return false;
    unsigned phases = 0;
    char part[64];
    for (const char *s = text; *s;) {
        size_t len = strcspn(s, "/");
        if (len >= sizeof(part) || len == 0)
            return false;
        memcpy(part, s, len);
        part[len] = '\0';
        if (!bits_lookup(phase_table, COUNT(phase_table), part, &phases))
            return false;
        s += len;
        if (*s == '/')
            s++;
    }
    *phases_out |= phases;
    return true;
}

const char *td_age_unit_name(td_age_unit_t unit)
{
    for (size_t u = 0; u < sizeof(age_units) / sizeof(age_units[0]); u++)
        if (age_units[u].unit == unit)
            return age_units[u].name;
    return "";
}

const char *td_text_field_name(td_text_field_t field)
{
    static const char *const names[TD_TEXT_FIELD_COUNT] = {
        [TD_TEXT_BRIEF_TITLE] = "brief_title",
        [TD_TEXT_OFFICIAL_TITLE] = "official_title",
        [TD_TEXT_ACRONYM] = "acronym",
        [TD_TEXT_BRIEF_SUMMARY] = "brief_summary",
        [TD_TEXT_DETAILED_DESCRIPTION] = "detailed_description",
        [TD_TEXT_CONDITION] = "condition",
        [TD_TEXT_KEYWORD] = "keyword",
        [TD_TEXT_CONDITION_MESH] = "condition_mesh",
        [TD_TEXT_INTERVENTION_NAME] = "intervention_name",
        [TD_TEXT_INTERVENTION_OTHER_NAME] = "intervention_other_name",
        [TD_TEXT_INTERVENTION_DESCRIPTION] = "intervention_description",
        [TD_TEXT_INTERVENTION_MESH] = "intervention_mesh",
        [TD_TEXT_ARM_GROUP] = "arm_group",
        [TD_TEXT_OUTCOME] = "outcome",
        [TD_TEXT_ELIGIBILITY] = "eligibility",
        [TD_TEXT_SPONSOR] = "sponsor",
        [TD_TEXT_LOCATION] = "location",
    };
    return field < TD_TEXT_FIELD_COUNT ? names[field] : "";
}

static void each(td_text_field_t field, const char *text, td_text_fn fn, void *user)
{
    if (text)
        fn(field, text, user);
}

static void each_list(td_text_field_t field, const td_strlist_t *list, td_text_fn fn, void *user)
{
    for (size_t i = 0; i < list->count; i++)
        fn(field, list->items[i], user);
}

static void each_outcome(const td_outcome_t *outcomes, size_t count, td_text_fn fn, void *user)
{
    for (size_t i = 0; i < count; i++) {
        each(TD_TEXT_OUTCOME, outcomes[i].measure, fn, user);
        each(TD_TEXT_OUTCOME, outcomes[i].description, fn, user);
    }
}

void td_trial_each_text(const td_trial_t *t, td_text_fn fn, void *user)
{
    each(TD_TEXT_BRIEF_TITLE, t->brief_title, fn, user);
    each(TD_TEXT_OFFICIAL_TITLE, t->official_title, fn, user);
    each(TD_TEXT_ACRONYM, t->acronym, fn, user);
    each(TD_TEXT_BRIEF_SUMMARY, t->brief_summary, fn, user);
    each(TD_TEXT_DETAILED_DESCRIPTION, t->detailed_description, fn, user);
    each_list(TD_TEXT_CONDITION, &t->conditions, fn, user);
    each_list(TD_TEXT_KEYWORD, &t->keywords, fn, user);
    each_list(TD_TEXT_CONDITION_MESH, &t->condition_mesh_terms, fn, user);
    for (size_t i = 0; i < t->intervention_count; i++)
        each(TD_TEXT_INTERVENTION_NAME, t->interventions[i].name, fn, user);
    for (size_t i = 0; i < t->intervention_count; i++)
        each_list(TD_TEXT_INTERVENTION_OTHER_NAME, &t->interventions[i].other_names, fn, user);
    for (size_t i = 0; i < t->intervention_count; i++)
        each(TD_TEXT_INTERVENTION_DESCRIPTION, t->interventions[i].description, fn, user);
    each_list(TD_TEXT_INTERVENTION_MESH, &t->intervention_mesh_terms, fn, user);
    for (size_t i = 0; i < t->arm_group_count; i++) {
        each(TD_TEXT_ARM_GROUP, t->arm_groups[i].label, fn, user);
        each(TD_TEXT_ARM_GROUP, t->arm_groups[i].description, fn, user);
    }
    each_outcome(t->primary_outcomes, t->primary_outcome_count, fn, user);
    each_outcome(t->secondary_outcomes, t->secondary_outcome_count, fn, user);
    each(TD_TEXT_ELIGIBILITY, t->eligibility_criteria, fn, user);
    each(TD_TEXT_SPONSOR, t->lead_sponsor.name, fn, user);
    for (size_t i = 0; i < t->collaborator_count; i++)
        each(TD_TEXT_SPONSOR, t->collaborators[i].name, fn, user);
    for (size_t i = 0; i < t->location_count; i++) {
        each(TD_TEXT_LOCATION, t->locations[i].facility, fn, user);
        each(TD_TEXT_LOCATION, t->locations[i].city, fn, user);
        each(TD_TEXT_LOCATION, t->locations[i].state, fn, user);
        each(TD_TEXT_LOCATION, t->locations[i].country, fn, user);
    }
}
