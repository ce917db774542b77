/* trial_json.c - a trial as compact JSON (the views of td_trial_json.h) and
 * its content hash.
 *
 * The JSON is built as a jansson tree and dumped through a callback, into
 * our own malloc'd buffer for td_trial_to_json (so the caller frees it with
 * free() whatever allocator jansson was given) and straight into the hash
 * for td_trial_content_hash. jansson keeps keys in insertion order, so the
 * order in which the build_* functions add them is the order written.
 */
#include "td_trial_json.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

/* Significant digits of a JSON real. Any decimal of up to 15 digits read
 * into a double comes back as the same text, so "42.35843" stays
 * "42.35843" where the default 17 digits would give "42.358429999999998". */
#define REAL_DIGITS 15

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(REAL_DIGITS))

#define FNV_PRIME UINT64_C(0x100000001b3)

/* The ellipsis that ends a cut summary, U+2026 in UTF-8. */
#define ELLIPSIS "\xe2\x80\xa6"
#define ELLIPSIS_LEN 3

typedef struct json_builder {
    td_status_t status; /* first failure, sticky */
} json_builder_t;

static void fail(json_builder_t *b, td_status_t status)
{
    if (b->status == TD_OK)
        b->status = status;
}

/* Checks a value jansson just made: it returns NULL only when out of memory
 * (strings are validated before they reach it). */
static json_t *made(json_builder_t *b, json_t *value)
{
    if (!value)
        fail(b, TD_ERR_NO_MEMORY);
    return value;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points
 * above U+10FFFF, which is what jansson itself accepts. */
static bool utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t i = 0;
    while (i < len) {
        unsigned lead = s[i];
        if (lead < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t code, min;
        if (lead >= 0xc2 && lead <= 0xdf) {
            extra = 1, code = lead & 0x1f, min = 0x80;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            extra = 2, code = lead & 0x0f, min = 0x800;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            extra = 3, code = lead & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            code = (code << 6) | (s[i + k] & 0x3f);
        }
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

static json_t *new_string(json_builder_t *b, const char *text, size_t len)
{
    if (!utf8_valid(text, len)) {
        fail(b, TD_ERR_BAD_INPUT);
        return NULL;
    }
    return made(b, json_stringn_nocheck(text, len));
}

/* Adds `value` to `object` under `key`, taking the reference. A NULL value
 * (its failure is already recorded) and an empty array or object (an absent
 * value) are left out. */
static void put(json_builder_t *b, json_t *object, const char *key, json_t *value)
{
    if (!value)
        return;
    if ((json_is_array(value) && json_array_size(value) == 0) ||
        (json_is_object(value) && json_object_size(value) == 0)) {
        json_decref(value);
        return;
    }
    if (json_object_set_new_nocheck(object, key, value) != 0)
        fail(b, TD_ERR_NO_MEMORY);
}

/* Appends `value` to `array`, taking the reference; NULL is left out. */
static void append(json_builder_t *b, json_t *array, json_t *value)
{
    if (value && json_array_append_new(array, value) != 0)
        fail(b, TD_ERR_NO_MEMORY);
}

static void put_string(json_builder_t *b, json_t *object, const char *key, const char *text)
{
    if (text)
        put(b, object, key, new_string(b, text, strlen(text)));
}

static void put_enum(json_builder_t *b, json_t *object, const char *key, const char *name)
{
    if (*name)
        put(b, object, key, made(b, json_string_nocheck(name)));
}

/* A whole number is written as a JSON integer ("18", not "18.0"); a value
 * that is not finite (no reader makes one) is left out. */
static void put_number(json_builder_t *b, json_t *object, const char *key, double value)
{
    if (!isfinite(value))
        return;
    if (fabs(value) < 1e15 && (double) (json_int_t) value == value)
        put(b, object, key, made(b, json_integer((json_int_t) value)));
    else
        put(b, object, key, made(b, json_real(value)));
}

/* Coordinates stay reals even when whole ("10.0"), so a reader can take
 * every one with json_real_value. */
static void put_real(json_builder_t *b, json_t *object, const char *key, double value)
{
    if (isfinite(value))
        put(b, object, key, made(b, json_real(value)));
}

static json_t *string_list(json_builder_t *b, const td_strlist_t *list)
{
    json_t *array = made(b, json_array());
    for (size_t i = 0; array && i < list->count; i++)
        append(b, array, new_string(b, list->items[i], strlen(list->items[i])));
    return array;
}

/* The names of the bits set in `bits`, lowest bit first. */
static json_t *bit_names(json_builder_t *b, unsigned bits, unsigned highest,
                         const char *(*name_of)(unsigned bit))
{
    json_t *array = made(b, json_array());
    for (unsigned bit = 1; array && bit && bit <= highest; bit <<= 1) {
        const char *name = (bits & bit) ? name_of(bit) : "";
        if (*name)
            append(b, array, made(b, json_string_nocheck(name)));
    }
    return array;
}

static const char *phase_name(unsigned bit)
{
    return td_phase_name((td_phase_t) bit);
}

static const char *std_age_name(unsigned bit)
{
    return td_std_age_name((td_std_age_t) bit);
}

/* ACTUAL, ESTIMATED or null: a date or count always says which it is. */
static json_t *actuality(json_builder_t *b, td_actuality_t type)
{
    switch (type) {
    case TD_ACTUALITY_ACTUAL:
        return made(b, json_string_nocheck("ACTUAL"));
    case TD_ACTUALITY_ESTIMATED:
        return made(b, json_string_nocheck("ESTIMATED"));
    case TD_ACTUALITY_UNSPECIFIED:
        break;
    }
    return made(b, json_null());
}

/* {"date":"2023-05","type":"ACTUAL"}: as many parts as the source gave. */
static void put_date(json_builder_t *b, json_t *object, const char *key, const td_date_t *date)
{
    char text[32];
    switch (date->precision) {
    case TD_DATE_NONE:
        return;
    case TD_DATE_YEAR:
        snprintf(text, sizeof(text), "%04d", date->year);
        break;
    case TD_DATE_MONTH:
        snprintf(text, sizeof(text), "%04d-%02d", date->year, date->month);
        break;
    case TD_DATE_DAY:
        snprintf(text, sizeof(text), "%04d-%02d-%02d", date->year, date->month, date->day);
        break;
    }
    json_t *value = made(b, json_object());
    put(b, value, "date", made(b, json_string_nocheck(text)));
    put(b, value, "type", actuality(b, date->type));
    put(b, object, key, value);
}

static void put_enrollment(json_builder_t *b, json_t *object, const td_trial_t *trial)
{
    if (trial->enrollment < 0)
        return;
    json_t *value = made(b, json_object());
    put(b, value, "count", made(b, json_integer((json_int_t) trial->enrollment)));
    put(b, value, "type", actuality(b, trial->enrollment_type));
    put(b, object, "enrollment", value);
}

static bool age_is_limit(const td_age_t *age)
{
    return age->unit != TD_AGE_UNIT_NONE && age->days >= 0;
}

/* {"value":18,"unit":"YEARS","days":6574} */
static void put_age(json_builder_t *b, json_t *object, const char *key, const td_age_t *age)
{
    if (!age_is_limit(age))
        return;
    json_t *value = made(b, json_object());
    put_number(b, value, "value", age->value);
    put_enum(b, value, "unit", td_age_unit_name(age->unit));
    put(b, value, "days", made(b, json_integer(age->days)));
    put(b, object, key, value);
}

/* "18 Years", "1 Year", "6 Months", "1.5 Years": the registry's own form. */
static void put_age_text(json_builder_t *b, json_t *object, const char *key, const td_age_t *age)
{
    static const char *const units[] = {
        [TD_AGE_UNIT_MINUTES] = "Minute", [TD_AGE_UNIT_HOURS] = "Hour",
        [TD_AGE_UNIT_DAYS] = "Day",       [TD_AGE_UNIT_WEEKS] = "Week",
        [TD_AGE_UNIT_MONTHS] = "Month",   [TD_AGE_UNIT_YEARS] = "Year",
    };
    if (!age_is_limit(age) || !isfinite(age->value))
        return;
    assert(age->unit > TD_AGE_UNIT_NONE && age->unit <= TD_AGE_UNIT_YEARS);
    char text[64];
    const char *plural = age->value == 1 ? "" : "s";
    if (fabs(age->value) < 1e15 && (double) (long long) age->value == age->value)
        snprintf(text, sizeof(text), "%lld %s%s", (long long) age->value, units[age->unit], plural);
    else
        snprintf(text, sizeof(text), "%.*g %s%s", REAL_DIGITS, age->value, units[age->unit],
                 plural);
    put(b, object, key, made(b, json_string_nocheck(text)));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The summary as TD_TRIAL_JSON_SUMMARY_MAX describes it. */
static void put_summary(json_builder_t *b, json_t *object, const char *summary)
{
    if (!summary)
        return;
    size_t len = strlen(summary);
    if (len <= TD_TRIAL_JSON_SUMMARY_MAX) {
        put(b, object, "briefSummary", new_string(b, summary, len));
        return;
    }
    if (!utf8_valid(summary, len)) {
        fail(b, TD_ERR_BAD_INPUT);
        return;
    }
    /* summary[cut] is the first byte left out; back up while it continues
     * a character, so the cut falls between two. */
    size_t cut = TD_TRIAL_JSON_SUMMARY_MAX - ELLIPSIS_LEN;
    while (cut > 0 && ((unsigned char) summary[cut] & 0xc0) == 0x80)
        cut--;
    while (cut > 0 && is_space(summary[cut - 1]))
        cut--;
    char text[TD_TRIAL_JSON_SUMMARY_MAX + 1];
    memcpy(text, summary, cut);
    memcpy(text + cut, ELLIPSIS, ELLIPSIS_LEN);
    put(b, object, "briefSummary", made(b, json_stringn_nocheck(text, cut + ELLIPSIS_LEN)));
}

static json_t *sponsor(json_builder_t *b, const td_sponsor_t *sponsor)
{
    json_t *value = made(b, json_object());
    put_string(b, value, "name", sponsor->name);
    put_enum(b, value, "class", td_sponsor_class_name(sponsor->sponsor_class));
    return value;
}

static json_t *outcomes(json_builder_t *b, const td_outcome_t *outcomes, size_t count)
{
    json_t *array = made(b, json_array());
    for (size_t i = 0; array && i < count; i++) {
        json_t *item = made(b, json_object());
        put_string(b, item, "measure", outcomes[i].measure);
        put_string(b, item, "description", outcomes[i].description);
        put_string(b, item, "timeFrame", outcomes[i].time_frame);
        append(b, array, item);
    }
    return array;
}

static json_t *location(json_builder_t *b, const td_location_t *site)
{
    json_t *item = made(b, json_object());
    put_string(b, item, "facility", site->facility);
    put_string(b, item, "city", site->city);
    put_string(b, item, "state", site->state);
    put_string(b, item, "zip", site->zip);
    put_string(b, item, "country", site->country);
    put_enum(b, item, "status", td_overall_status_name(site->status));
    if (site->has_geo) {
        put_real(b, item, "lat", site->latitude);
        put_real(b, item, "lon", site->longitude);
    }
    return item;
}

static json_t *locations(json_builder_t *b, const td_trial_t *trial)
{
    json_t *array = made(b, json_array());
    for (size_t i = 0; array && i < trial->location_count; i++)
        append(b, array, location(b, &trial->locations[i]));
    return array;
}

static void put_nct_id(json_builder_t *b, json_t *object, const td_trial_t *trial)
{
    /* Empty only in a trial made by td_trial_new and not yet filled. */
    if (trial->nct_id[0])
        put(b, object, "nctId", new_string(b, trial->nct_id, strlen(trial->nct_id)));
}

static void build_full(json_builder_t *b, json_t *root, const td_trial_t *t)
{
    put_nct_id(b, root, t);
    put_string(b, root, "briefTitle", t->brief_title);
    put_string(b, root, "officialTitle", t->official_title);
    put_string(b, root, "acronym", t->acronym);
    put(b, root, "nctIdAliases", string_list(b, &t->nct_aliases));
    put_string(b, root, "orgStudyId", t->org_study_id);
    put(b, root, "secondaryIds", string_list(b, &t->secondary_ids));
    put_string(b, root, "briefSummary", t->brief_summary);
    put_string(b, root, "detailedDescription", t->detailed_description);
    put(b, root, "conditions", string_list(b, &t->conditions));
    put(b, root, "keywords", string_list(b, &t->keywords));
    put(b, root, "conditionMeshTerms", string_list(b, &t->condition_mesh_terms));
    put(b, root, "interventionMeshTerms", string_list(b, &t->intervention_mesh_terms));

    json_t *interventions = made(b, json_array());
    for (size_t i = 0; interventions && i < t->intervention_count; i++) {
        const td_intervention_t *in = &t->interventions[i];
        json_t *item = made(b, json_object());
        put_enum(b, item, "type", td_intervention_type_name(in->type));
        put_string(b, item, "name", in->name);
        put_string(b, item, "description", in->description);
        put(b, item, "otherNames", string_list(b, &in->other_names));
        put(b, item, "armGroupLabels", string_list(b, &in->arm_group_labels));
        append(b, interventions, item);
    }
    put(b, root, "interventions", interventions);

    json_t *arm_groups = made(b, json_array());
    for (size_t i = 0; arm_groups && i < t->arm_group_count; i++) {
        const td_arm_group_t *arm = &t->arm_groups[i];
        json_t *item = made(b, json_object());
        put_string(b, item, "label", arm->label);
        put_string(b, item, "type", arm->type);
        put_string(b, item, "description", arm->description);
        put(b, item, "interventionNames", string_list(b, &arm->intervention_names));
        append(b, arm_groups, item);
    }
    put(b, root, "armGroups", arm_groups);

    put(b, root, "primaryOutcomes", outcomes(b, t->primary_outcomes, t->primary_outcome_count));
    put(b, root, "secondaryOutcomes",
        outcomes(b, t->secondary_outcomes, t->secondary_outcome_count));

    put_string(b, root, "eligibilityCriteria", t->eligibility_criteria);
    put_enum(b, root, "sex", td_sex_name(t->sex));
    put_age(b, root, "minimumAge", &t->minimum_age);
    put_age(b, root, "maximumAge", &t->maximum_age);
    put(b, root, "healthyVolunteers",
        made(b, t->healthy_volunteers == TD_UNSPECIFIED
                    ? json_null()
                    : json_boolean(t->healthy_volunteers == TD_YES)));
    put(b, root, "stdAges", bit_names(b, t->std_ages, TD_STD_AGE_OLDER_ADULT, std_age_name));

    put_enum(b, root, "overallStatus", td_overall_status_name(t->overall_status));
    put(b, root, "phases", bit_names(b, t->phases, TD_PHASE_4, phase_name));
    put_enum(b, root, "studyType", td_study_type_name(t->study_type));
    json_t *design = made(b, json_object());
    put_string(b, design, "allocation", t->design.allocation);
    put_string(b, design, "interventionModel", t->design.intervention_model);
    put_string(b, design, "primaryPurpose", t->design.primary_purpose);
    put_string(b, design, "masking", t->design.masking);
    put_string(b, design, "observationalModel", t->design.observational_model);
    put_string(b, design, "timePerspective", t->design.time_perspective);
    put(b, root, "design", design);
    put_enrollment(b, root, t);

    put_date(b, root, "startDate", &t->start_date);
    put_date(b, root, "primaryCompletionDate", &t->primary_completion_date);
    put_date(b, root, "completionDate", &t->completion_date);
    put_date(b, root, "firstPostedDate", &t->first_posted_date);
    put_date(b, root, "lastUpdateDate", &t->last_update_date);

    put(b, root, "leadSponsor", sponsor(b, &t->lead_sponsor));
    json_t *collaborators = made(b, json_array());
    for (size_t i = 0; collaborators && i < t->collaborator_count; i++)
        append(b, collaborators, sponsor(b, &t->collaborators[i]));
    put(b, root, "collaborators", collaborators);
    put(b, root, "locations", locations(b, t));
    put(b, root, "hasResults", made(b, json_boolean(t->has_results)));
}

static void build_display(json_builder_t *b, json_t *root, const td_trial_t *t)
{
    put_nct_id(b, root, t);
    put_string(b, root, "briefTitle", t->brief_title);
    put_string(b, root, "acronym", t->acronym);
    put_summary(b, root, t->brief_summary);
    put_enum(b, root, "overallStatus", td_overall_status_name(t->overall_status));
    put(b, root, "phases", bit_names(b, t->phases, TD_PHASE_4, phase_name));
    put_enum(b, root, "studyType", td_study_type_name(t->study_type));
    put(b, root, "conditions", string_list(b, &t->conditions));
    json_t *names = made(b, json_array());
    for (size_t i = 0; names && i < t->intervention_count; i++) {
        const char *name = t->interventions[i].name;
        if (name)
            append(b, names, new_string(b, name, strlen(name)));
    }
    put(b, root, "interventionNames", names);
    put_date(b, root, "startDate", &t->start_date);
    put_date(b, root, "primaryCompletionDate", &t->primary_completion_date);
    put_date(b, root, "lastUpdateDate", &t->last_update_date);
    put_enrollment(b, root, t);
    put_enum(b, root, "sex", td_sex_name(t->sex));
    put_age_text(b, root, "minimumAge", &t->minimum_age);
    put_age_text(b, root, "maximumAge", &t->maximum_age);
    put_string(b, root, "leadSponsor", t->lead_sponsor.name);
    put(b, root, "hasResults", made(b, json_boolean(t->has_results)));
}

/* Builds the tree of one view; NULL (with *status set) on failure. */
static json_t *build(const td_trial_t *trial, td_trial_json_view_t view, td_status_t *status)
{
    json_builder_t b = {TD_OK};
    json_t *root = made(&b, json_object());
    if (root) {
        if (view == TD_TRIAL_JSON_FULL)
            build_full(&b, root, trial);
        else
            build_display(&b, root, trial);
    }
    if (b.status != TD_OK) {
        json_decref(root);
        root = NULL;
    }
    *status = b.status;
    return root;
}

typedef struct out_buffer {
    char *data;
    size_t len;
    size_t capacity;
} out_buffer_t;

static int append_bytes(const char *bytes, size_t size, void *data)
{
    out_buffer_t *out = data;
    if (out->capacity - out->len <= size) { /* keep a byte for the NUL */
        size_t capacity = out->capacity ? out->capacity : 1024;
        while (capacity - out->len <= size)
            capacity *= 2;
        char *grown = realloc(out->data, capacity);
        if (!grown)
            return -1;
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->len, bytes, size);
    out->len += size;
    return 0;
}

td_status_t td_trial_to_json(const td_trial_t *trial, td_trial_json_view_t view, char **out,
                             size_t *len)
{
    assert(trial && out && len);
    assert(view == TD_TRIAL_JSON_FULL || view == TD_TRIAL_JSON_DISPLAY);
    *out = NULL;
    *len = 0;
    td_status_t status;
    json_t *root = build(trial, view, &status);
    if (!root)
        return status;
    out_buffer_t buffer = {NULL, 0, 0};
    int dumped = json_dump_callback(root, append_bytes, &buffer, DUMP_FLAGS);
    json_decref(root);
    /* An empty object dumps as "{}", so a successful dump wrote something. */
    if (dumped != 0 || !buffer.data) {
        free(buffer.data);
        return TD_ERR_NO_MEMORY;
    }
    buffer.data[buffer.len] = '\0';
    *out = buffer.data;
    *len = buffer.len;
    return TD_OK;
}

uint64_t td_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *bytes = data;
    uint64_t hash = seed;
    for (size_t i = 0; i < len; i++) {
        hash ^= bytes[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

/* FNV-1a runs byte by byte, so hashing the dump piece by piece gives the
 * hash of the whole without holding it. */
static int hash_bytes(const char *bytes, size_t size, void *data)
{
    uint64_t *hash = data;
    *hash = td_hash64(bytes, size, *hash);
    return 0;
}

td_status_t td_trial_content_hash(const td_trial_t *trial, uint64_t seed, char out[17])
{
    assert(trial && out);
    out[0] = '\0';
    td_status_t status;
    json_t *root = build(trial, TD_TRIAL_JSON_FULL, &status);
    if (!root)
        return status;
    uint64_t hash = seed;
    int dumped = json_dump_callback(root, hash_bytes, &hash, DUMP_FLAGS);
    json_decref(root);
    if (dumped != 0)
        return TD_ERR_NO_MEMORY;
    snprintf(out, 17, "%016llx", (unsigned long long) hash);
    return TD_OK;
}

td_status_t td_trial_json_pack(const char *json, size_t len, char **out, size_t *out_len)
{
    assert(json && out && out_len);
    if (len > UINT32_MAX)
        return TD_ERR_RANGE;
    uLongf size = compressBound((uLong) len);
    unsigned char *packed = malloc(4 + size);
    if (!packed)
        return TD_ERR_NO_MEMORY;
    packed[0] = (unsigned char) (len >> 24);
    packed[1] = (unsigned char) (len >> 16);
    packed[2] = (unsigned char) (len >> 8);
    packed[3] = (unsigned char) len;
    if (compress2(packed + 4, &size, (const Bytef *) json, (uLong) len, Z_BEST_SPEED) != Z_OK) {
        free(packed);
        return TD_ERR_NO_MEMORY;
    }
    *out = (char *) packed;
    *out_len = 4 + size;
    return TD_OK;
}

/* ---- one member of a JSON text ---- */

static size_t skip_space(const char *json, size_t len, size_t at)
{
    while (at < len &&
           (json[at] == ' ' || json[at] == '\t' || json[at] == '\n' || json[at] == '\r'))
        at++;
    return at;
}

/* The offset after the string that starts at `at` (a '"'); len when it
 * does not end. */
static size_t skip_string(const char *json, size_t len, size_t at)
{
    for (at++; at < len; at++) {
        if (json[at] == '\\')
            at++;
        else if (json[at] == '"')
            return at + 1;
    }
    return len;
}

/* The offset after the value that starts at `at`; len when it does not
 * end. Strings, objects and arrays are skipped whole; a number, true,
 * false or null runs to the next ',', '}', ']' or space. */
static size_t skip_value(const char *json, size_t len, size_t at)
{
    if (at >= len)
        return len;
    if (json[at] == '"')
        return skip_string(json, len, at);
    if (json[at] != '{' && json[at] != '[') {
        while (at < len && !strchr(",}] \t\n\r", json[at]))
            at++;
        return at;
    }
    size_t depth = 0;
    while (at < len) {
        char c = json[at];
        if (c == '"') {
            at = skip_string(json, len, at);
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return at + 1;
        at++;
    }
    return len;
}

td_status_t td_trial_json_member(const char *json, size_t len, const char *key, const char **value,
                                 size_t *value_len)
{
    assert(json && key && value && value_len);
    size_t key_len = strlen(key);
    size_t at = skip_space(json, len, 0);
    if (at >= len || json[at] != '{')
        return TD_ERR_BAD_INPUT;
    at = skip_space(json, len, at + 1);
    if (at < len && json[at] == '}')
        return TD_ERR_NOT_FOUND;
    while (at < len && json[at] == '"') {
        size_t name = at + 1, name_end = skip_string(json, len, at);
        at = skip_space(json, len, name_end);
        if (at >= len || json[at] != ':')
            return TD_ERR_BAD_INPUT;
        size_t start = skip_space(json, len, at + 1);
        size_t end = skip_value(json, len, start);
        if (end >= len || start == end)
            return TD_ERR_BAD_INPUT;
        if (name_end - 1 - name == key_len && memcmp(json + name, key, key_len) == 0) {
            *value = json + start;
            *value_len = end - start;
            return TD_OK;
        }
        at = skip_space(json, len, end);
        if (at < len && json[at] == '}')
            return TD_ERR_NOT_FOUND;
        if (at >= len || json[at] != ',')
            return TD_ERR_BAD_INPUT;
        at = skip_space(json, len, at + 1);
    }
    return TD_ERR_BAD_INPUT;
}

td_status_t td_trial_json_unpack(const char *packed, size_t len, char **out, size_t *out_len)
{
    assert(packed && out);
    if (len < 4)
        return TD_ERR_CORRUPT;
    const unsigned char *p = (const unsigned char *) packed;
    uLongf size = (uLongf) p[0] << 24 | (uLongf) p[1] << 16 | (uLongf) p[2] << 8 | p[3];
    char *json = malloc(size + 1);
    if (!json)
        return TD_ERR_NO_MEMORY;
    uLongf got = size;
    int z = uncompress((Bytef *) json, &got, p + 4, (uLong) (len - 4));
    if (z != Z_OK || got != size) {
        free(json);
        return z == Z_MEM_ERROR ? TD_ERR_NO_MEMORY : TD_ERR_CORRUPT;
    }
    json[size] = '\0';
    *out = json;
    if (out_len)
        *out_len = size;
    return TD_OK;
}
