/* document.c - builds the Xapian document of one trial (see td_schema.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer_internal.h"
#include "td_eligibility.h"
#include "td_indexer.h"
#include "td_schema.h"
#include "td_trial_json.h"

/* Xapian refuses terms over 245 bytes; longer ones (pathological tokens)
 * are left out. */
#define MAX_TERM 240
/* Positions left between field values, so a phrase never spans two. */
#define POSITION_GAP 100
/* Most criteria sections a record is split into. */
#define MAX_SECTIONS 64

struct td_doc_builder {
    const td_analyzer_t *analyzer;
    td_analysis_t *analysis;
    td_xdoc_t *doc;     /* the document being built */
    td_status_t status; /* first failure, sticky */
    char error[256];
    uint32_t position; /* next free position */
    char term[MAX_TERM + 16];

    /* Terms without positions are counted here first and handed to Xapian
     * once each, with their total wdf: far fewer calls across the binding
     * and into Xapian's term map than one per occurrence. */
    td_strmap_t terms; /* term -> wdf */

    char *spelling; /* words for the spelling dictionary, NUL-separated */
    size_t spelling_len, spelling_capacity;
    size_t *spelling_offsets;
    size_t spelling_count, spelling_offsets_capacity;
};

td_status_t td_doc_builder_new(const td_analyzer_t *analyzer, td_doc_builder_t **out)
{
    td_doc_builder_t *b = calloc(1, sizeof(*b));
    if (!b)
        return TD_ERR_NO_MEMORY;
    b->analyzer = analyzer;
    td_status_t status = td_analysis_new(analyzer, &b->analysis);
    if (status != TD_OK) {
        free(b);
        return status;
    }
    *out = b;
    return TD_OK;
}

void td_doc_builder_free(td_doc_builder_t *b)
{
    if (!b)
        return;
    td_analysis_free(b->analysis);
    td_strmap_free(&b->terms);
    free(b->spelling);
    free(b->spelling_offsets);
    free(b);
}

const char *td_doc_builder_error(const td_doc_builder_t *b)
{
    return b->error;
}

size_t td_doc_builder_spelling_count(const td_doc_builder_t *b)
{
    return b->spelling_count;
}

const char *td_doc_builder_spelling_word(const td_doc_builder_t *b, size_t index)
{
    return b->spelling + b->spelling_offsets[index];
}

static void fail(td_doc_builder_t *b, td_status_t status, const char *what)
{
    if (b->status != TD_OK)
        return;
    b->status = status;
    snprintf(b->error, sizeof(b->error), "%s: %s", what,
             b->doc ? td_xdoc_last_error(b->doc) : td_status_str(status));
}

static void add_term(td_doc_builder_t *b, const char *term, uint32_t wdf)
{
    if (b->status == TD_OK && td_strmap_add(&b->terms, term, strlen(term), wdf) != TD_OK)
        fail(b, TD_ERR_NO_MEMORY, "term counts");
}

/* Hands the counted terms to the document. */
static void flush_terms(td_doc_builder_t *b)
{
    const char *term;
    uint32_t wdf;
    for (size_t cursor = 0; b->status == TD_OK && td_strmap_next(&b->terms, &cursor, &term, &wdf);)
        if (td_xdoc_add_term(b->doc, term, wdf) != TD_OK)
            fail(b, TD_ERR_INTERNAL, "cannot add a term");
    td_strmap_clear(&b->terms);
}

/* A position of `term`; its wdf comes from add_term. */
static void add_posting(td_doc_builder_t *b, const char *term, uint32_t position)
{
    if (b->status == TD_OK && td_xdoc_add_posting(b->doc, term, position, 0) != TD_OK)
        fail(b, TD_ERR_INTERNAL, "cannot add a posting");
}

/* Adds the boolean term `head` + `value`, the value in lower case, so
 * "China" and "CHINA" filter alike. */
static void add_boolean(td_doc_builder_t *b, const char *head, const char *value)
{
    if (!value || !*value)
        return;
    size_t n = strlen(head);
    if (n >= MAX_TERM)
        return;
    memcpy(b->term, head, n);
    for (const char *p = value; *p && n < MAX_TERM; p++)
        b->term[n++] = (*p >= 'A' && *p <= 'Z') ? (char) (*p + 32) : *p;
    b->term[n] = '\0';
    if (b->status == TD_OK && td_xdoc_add_boolean_term(b->doc, b->term) != TD_OK)
        fail(b, TD_ERR_INTERNAL, "cannot add a boolean term");
}

static void add_filter(td_doc_builder_t *b, const char *facet, const char *value)
{
    char head[32];
    snprintf(head, sizeof(head), TD_PREFIX_FILTER "%s=", facet);
    add_boolean(b, head, value);
}

static void set_value(td_doc_builder_t *b, unsigned slot, const char *value, size_t len)
{
    if (b->status == TD_OK && len && td_xdoc_set_value(b->doc, slot, value, len) != TD_OK)
        fail(b, TD_ERR_INTERNAL, "cannot set a value");
}

static void set_number(td_doc_builder_t *b, unsigned slot, double number)
{
    char encoded[TD_XSORTABLE_MAX];
    set_value(b, slot, encoded, td_xsortable_serialise(number, encoded));
}

static void set_date(td_doc_builder_t *b, unsigned slot, const td_date_t *date)
{
    if (date->precision == TD_DATE_NONE)
        return;
    char text[16];
    snprintf(text, sizeof(text), "%04d%02d%02d", date->year, date->month, date->day);
    set_value(b, slot, text, 8);
}

static void remember_spelling(td_doc_builder_t *b, const char *word)
{
    size_t len = strlen(word);
    if (b->spelling_len + len + 1 > b->spelling_capacity) {
        size_t capacity = b->spelling_capacity ? b->spelling_capacity * 2 : 4096;
        while (capacity < b->spelling_len + len + 1)
            capacity *= 2;
        char *grown = realloc(b->spelling, capacity);
        if (!grown) {
            fail(b, TD_ERR_NO_MEMORY, "spelling words");
            return;
        }
        b->spelling = grown;
        b->spelling_capacity = capacity;
    }
    if (b->spelling_count == b->spelling_offsets_capacity) {
        size_t capacity = b->spelling_offsets_capacity ? b->spelling_offsets_capacity * 2 : 256;
        size_t *grown = realloc(b->spelling_offsets, capacity * sizeof(*grown));
        if (!grown) {
            fail(b, TD_ERR_NO_MEMORY, "spelling words");
            return;
        }
        b->spelling_offsets = grown;
        b->spelling_offsets_capacity = capacity;
    }
    b->spelling_offsets[b->spelling_count++] = b->spelling_len;
    memcpy(b->spelling + b->spelling_len, word, len + 1);
    b->spelling_len += len + 1;
}

/* How a field's text is indexed. */
typedef struct field {
    const char *prefix;
    uint32_t weight; /* wdf an occurrence adds to the all-fields term */
    bool positional; /* phrases are searched here: unprefixed terms keep positions */
    bool spelling;   /* its words feed the spelling dictionary */
    bool stems_only; /* long text: a word with a stem is indexed only as the stem */
} field_t;

static const field_t TITLE = {TD_PREFIX_TITLE, TD_WEIGHT_TITLE, true, true, false};
static const field_t CONDITION = {TD_PREFIX_CONDITION, TD_WEIGHT_CONDITION, true, true, false};
static const field_t KEYWORD = {TD_PREFIX_KEYWORD, TD_WEIGHT_KEYWORD, true, true, false};
static const field_t INTERVENTION = {TD_PREFIX_INTERVENTION, TD_WEIGHT_INTERVENTION, true, true,
                                     false};
static const field_t INTERVENTION_TEXT = {TD_PREFIX_INTERVENTION, TD_WEIGHT_INTERVENTION, false,
                                          false, true};
static const field_t DESCRIPTION = {TD_PREFIX_DESCRIPTION, TD_WEIGHT_SUMMARY, false, false, true};
static const field_t OUTCOME = {TD_PREFIX_OUTCOME, TD_WEIGHT_OUTCOME, false, false, true};
static const field_t INCLUSION = {TD_PREFIX_INCLUSION, TD_WEIGHT_INCLUSION, false, false, true};
static const field_t EXCLUSION = {TD_PREFIX_EXCLUSION, TD_WEIGHT_EXCLUSION, false, false, true};
static const field_t SPONSOR = {TD_PREFIX_SPONSOR, TD_WEIGHT_SPONSOR, true, false, false};
static const field_t LOCATION = {TD_PREFIX_LOCATION, TD_WEIGHT_SITE, false, false, true};
static const field_t ARM = {TD_PREFIX_ARM, TD_WEIGHT_ARM, false, false, true};

/* Writes `a` + `b` + `c` into b->term; false when too long. Called for
 * every term of every field, so it copies rather than formats. */
static bool make_term(td_doc_builder_t *builder, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    if (la + lb + lc > MAX_TERM || la + lb + lc == 0)
        return false;
    char *out = builder->term;
    memcpy(out, a, la);
    memcpy(out + la, b, lb);
    memcpy(out + la + lb, c, lc);
    out[la + lb + lc] = '\0';
    return true;
}

static bool is_biomarker(const td_doc_builder_t *b, const char *concept)
{
    const char *kind = td_analyzer_concept_kind(b->analyzer, concept);
    return kind && (strcmp(kind, "gene") == 0 || strcmp(kind, "assay") == 0);
}

static void add_text(td_doc_builder_t *b, const field_t *field, const char *text, size_t len)
{
    if (!text || !len || b->status != TD_OK)
        return;
    td_status_t status = td_analyze(b->analysis, text, len, TD_ANALYZE_DOCUMENT, b->position);
    if (status != TD_OK) {
        fail(b, status, "cannot analyze text");
        return;
    }
    size_t count = td_analysis_count(b->analysis);
    for (size_t i = 0; i < count; i++) {
        const td_term_t *t = td_analysis_term(b->analysis, i);
        const char *mark = t->kind == TD_TERM_CONCEPT     ? TD_MARK_CONCEPT
                           : t->kind == TD_TERM_CANONICAL ? TD_MARK_CANONICAL
                           : t->kind == TD_TERM_STEM      ? TD_PREFIX_STEM
                                                          : "";
        const td_term_t *next = i + 1 < count ? td_analysis_term(b->analysis, i + 1) : NULL;
        bool has_stem = t->kind == TD_TERM_WORD && next && next->kind == TD_TERM_STEM &&
                        next->position == t->position;
        bool stem = t->kind == TD_TERM_STEM;
        /* The all-fields term, weighted by the field; with a position in
         * the fields where phrases are searched. Long fields add a word
         * with a stem only as the stem. */
        if (make_term(b, mark, "", t->text)) {
            if (field->positional && !stem)
                add_posting(b, b->term, t->position + 1);
            if (field->weight && (field->positional || !has_stem))
                add_term(b, b->term, field->weight);
        }
        /* The field's own copy: "Z" goes before the field prefix. A word
         * that is its own stem is indexed once, as the stem: the exact
         * term would duplicate its posting list (see td_schema.h). */
        bool own_stem = has_stem && (field->stems_only || strcmp(next->text, t->text) == 0);
        if (!own_stem && make_term(b, stem ? TD_PREFIX_STEM : field->prefix,
                                   stem ? field->prefix : mark, t->text))
            add_term(b, b->term, TD_WDF_SCALE);
        /* Biomarkers, wherever they are mentioned. */
        if (t->kind == TD_TERM_CANONICAL ||
            (t->kind == TD_TERM_CONCEPT && is_biomarker(b, t->text))) {
            if (make_term(b, TD_PREFIX_BIOMARKER, mark, t->text))
                add_term(b, b->term, TD_WDF_SCALE);
        }
        if (field->spelling && t->kind == TD_TERM_WORD && t->end - t->start > 3)
            remember_spelling(b, t->text);
    }
    b->position = td_analysis_end_position(b->analysis) + POSITION_GAP;
}

static void add_string(td_doc_builder_t *b, const field_t *field, const char *text)
{
    if (text)
        add_text(b, field, text, strlen(text));
}

static void add_list(td_doc_builder_t *b, const field_t *field, const td_strlist_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        add_string(b, field, list->items[i]);
}

/* Inclusion and exclusion criteria are indexed apart; text under a general
 * heading counts as inclusion, since it lists what a participant must
 * meet. */
static void add_criteria(td_doc_builder_t *b, const char *criteria)
{
    if (!criteria)
        return;
    size_t len = strlen(criteria);
    td_criteria_section_t sections[MAX_SECTIONS];
    size_t count = td_eligibility_split(criteria, len, sections, MAX_SECTIONS);
    if (count > MAX_SECTIONS) {
        /* Too many headings to keep apart: index the rest as one. */
        sections[MAX_SECTIONS - 1].end = len;
        count = MAX_SECTIONS;
    }
    for (size_t i = 0; i < count; i++) {
        const td_criteria_section_t *section = &sections[i];
        const field_t *field = section->kind == TD_CRITERIA_EXCLUSION ? &EXCLUSION : &INCLUSION;
        add_text(b, field, criteria + section->start, section->end - section->start);
    }
}

static void add_outcomes(td_doc_builder_t *b, const td_outcome_t *outcomes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        add_string(b, &OUTCOME, outcomes[i].measure);
        add_string(b, &OUTCOME, outcomes[i].description);
    }
}

static void add_filters(td_doc_builder_t *b, const td_trial_t *t)
{
    if (t->overall_status)
        add_filter(b, "status", td_overall_status_name(t->overall_status));
    for (unsigned bit = 1; bit <= TD_PHASE_4; bit <<= 1)
        if (t->phases & bit)
            add_filter(b, "phase", td_phase_name((td_phase_t) bit));
    if (t->study_type)
        add_filter(b, "type", td_study_type_name(t->study_type));
    if (t->sex)
        add_filter(b, "sex", td_sex_name(t->sex));
    for (unsigned bit = 1; bit <= TD_STD_AGE_OLDER_ADULT; bit <<= 1)
        if (t->std_ages & bit)
            add_filter(b, "age", td_std_age_name((td_std_age_t) bit));
    for (size_t i = 0; i < t->location_count; i++) {
        add_filter(b, "country", t->locations[i].country);
        add_filter(b, "state", t->locations[i].state);
        add_filter(b, "city", t->locations[i].city);
    }
    for (size_t i = 0; i < t->intervention_count; i++)
        if (t->interventions[i].type)
            add_filter(b, "itype", td_intervention_type_name(t->interventions[i].type));
    if (t->lead_sponsor.sponsor_class)
        add_filter(b, "sponsor", td_sponsor_class_name(t->lead_sponsor.sponsor_class));
    if (t->healthy_volunteers)
        add_filter(b, "healthy", t->healthy_volunteers == TD_YES ? "yes" : "no");
    add_filter(b, "results", t->has_results ? "yes" : "no");
    for (size_t i = 0; i < t->nct_aliases.count; i++)
        add_boolean(b, TD_PREFIX_OTHER_ID, t->nct_aliases.items[i]);
    add_boolean(b, TD_PREFIX_OTHER_ID, t->org_study_id);
    for (size_t i = 0; i < t->secondary_ids.count; i++)
        add_boolean(b, TD_PREFIX_OTHER_ID, t->secondary_ids.items[i]);
}

/* A facet value: the filter value, lower case. */
static void set_facet(td_doc_builder_t *b, unsigned slot, const char *value)
{
    char lower[64];
    size_t n = 0;
    for (; value && value[n] && n + 1 < sizeof(lower); n++)
        lower[n] = (value[n] >= 'A' && value[n] <= 'Z') ? (char) (value[n] + 32) : value[n];
    set_value(b, slot, lower, n);
}

static int compare_strings(const void *x, const void *y)
{
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

/* A facet with several values: distinct lower-case values, sorted, joined
 * with '|'. `values` (NULLs and empty strings are skipped) is reordered. */
static void set_multi_facet(td_doc_builder_t *b, unsigned slot, const char **values, size_t count)
{
    size_t kept = 0, len = 0;
    for (size_t i = 0; i < count; i++)
        if (values[i] && *values[i]) {
            values[kept++] = values[i];
            len += strlen(values[i]) + 1;
        }
    if (!kept)
        return;
    qsort(values, kept, sizeof(*values), compare_strings);
    char *joined = malloc(len);
    if (!joined) {
        fail(b, TD_ERR_NO_MEMORY, "facet values");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < kept; i++) {
        if (i && strcmp(values[i], values[i - 1]) == 0)
            continue;
        if (n)
            joined[n++] = '|';
        for (const char *p = values[i]; *p; p++)
            joined[n++] = (*p >= 'A' && *p <= 'Z') ? (char) (*p + 32) : *p;
    }
    set_value(b, slot, joined, n);
    free(joined);
}

static void set_list_facets(td_doc_builder_t *b, const td_trial_t *t)
{
    size_t count =
        t->location_count > t->intervention_count ? t->location_count : t->intervention_count;
    const char **values = malloc((count + 1) * sizeof(*values));
    if (!values) {
        fail(b, TD_ERR_NO_MEMORY, "facet values");
        return;
    }
    for (size_t i = 0; i < t->location_count; i++)
        values[i] = t->locations[i].country;
    set_multi_facet(b, TD_SLOT_COUNTRIES, values, t->location_count);
    for (size_t i = 0; i < t->intervention_count; i++)
        values[i] =
            t->interventions[i].type ? td_intervention_type_name(t->interventions[i].type) : NULL;
    set_multi_facet(b, TD_SLOT_INTERVENTION_TYPES, values, t->intervention_count);
    free(values);
}

static void set_sites(td_doc_builder_t *b, const td_trial_t *t, unsigned slot, bool recruiting_only)
{
    size_t count = 0;
    double *lat = malloc((t->location_count + 1) * sizeof(double));
    double *lon = malloc((t->location_count + 1) * sizeof(double));
    if (!lat || !lon) {
        fail(b, TD_ERR_NO_MEMORY, "site coordinates");
    } else {
        for (size_t i = 0; i < t->location_count; i++) {
            const td_location_t *site = &t->locations[i];
            if (!site->has_geo || (recruiting_only && site->status != TD_STATUS_RECRUITING &&
                                   site->status != TD_STATUS_NOT_YET_RECRUITING))
                continue;
            lat[count] = site->latitude;
            lon[count++] = site->longitude;
        }
        char *value = NULL;
        size_t len = 0;
        if (count && td_xlatlong_serialise(lat, lon, count, &value, &len) == TD_OK)
            set_value(b, slot, value, len);
        free(value);
    }
    free(lat);
    free(lon);
}

static void set_values(td_doc_builder_t *b, const td_trial_t *t)
{
    set_date(b, TD_SLOT_START_DATE, &t->start_date);
    set_date(b, TD_SLOT_PRIMARY_COMPLETION_DATE, &t->primary_completion_date);
    set_date(b, TD_SLOT_COMPLETION_DATE, &t->completion_date);
    set_date(b, TD_SLOT_FIRST_POSTED_DATE, &t->first_posted_date);
    set_date(b, TD_SLOT_LAST_UPDATE_DATE, &t->last_update_date);
    if (t->enrollment >= 0)
        set_number(b, TD_SLOT_ENROLLMENT, (double) t->enrollment);
    if (t->minimum_age.days >= 0)
        set_number(b, TD_SLOT_MINIMUM_AGE, t->minimum_age.days);
    if (t->maximum_age.days >= 0)
        set_number(b, TD_SLOT_MAXIMUM_AGE, t->maximum_age.days);
    set_sites(b, t, TD_SLOT_SITES, false);
    set_sites(b, t, TD_SLOT_RECRUITING_SITES, true);
    if (t->overall_status)
        set_facet(b, TD_SLOT_STATUS, td_overall_status_name(t->overall_status));
    char phases[64] = "";
    for (unsigned bit = 1; bit <= TD_PHASE_4; bit <<= 1)
        if (t->phases & bit)
            snprintf(phases + strlen(phases), sizeof(phases) - strlen(phases), "%s%s",
                     *phases ? "|" : "", td_phase_name((td_phase_t) bit));
    set_facet(b, TD_SLOT_PHASES, phases);
    if (t->study_type)
        set_facet(b, TD_SLOT_STUDY_TYPE, td_study_type_name(t->study_type));
    if (t->sex)
        set_facet(b, TD_SLOT_SEX, td_sex_name(t->sex));
    if (t->lead_sponsor.sponsor_class)
        set_facet(b, TD_SLOT_SPONSOR_CLASS, td_sponsor_class_name(t->lead_sponsor.sponsor_class));
    if (t->start_date.precision != TD_DATE_NONE) {
        char year[8];
        snprintf(year, sizeof(year), "%04d", t->start_date.year);
        set_value(b, TD_SLOT_START_YEAR, year, 4);
    }
    set_list_facets(b, t);
}

static uint64_t content_hash_seed(void)
{
    char schema[32];
    int n = snprintf(schema, sizeof(schema), "trialdex schema %d", TD_SCHEMA_VERSION);
    return td_hash64(schema, (size_t) n, TD_HASH64_FNV_OFFSET_BASIS);
}

td_status_t td_doc_content_hash(const td_trial_t *trial, char out[17])
{
    return td_trial_content_hash(trial, content_hash_seed(), out);
}

/* The data (DISPLAY JSON), the packed record (FULL JSON) and the content
 * hash, which is td_hash64 of the FULL JSON: the same as
 * td_doc_content_hash, from the one serialisation. */
static void set_data_and_hash(td_doc_builder_t *b, const td_trial_t *t)
{
    char *display = NULL, *full = NULL, *packed = NULL;
    size_t display_len = 0, full_len = 0, packed_len = 0;
    td_status_t status = td_trial_to_json(t, TD_TRIAL_JSON_DISPLAY, &display, &display_len);
    if (status == TD_OK)
        status = td_trial_to_json(t, TD_TRIAL_JSON_FULL, &full, &full_len);
    if (status == TD_OK)
        status = td_trial_json_pack(full, full_len, &packed, &packed_len);
    if (status != TD_OK) {
        fail(b, status, "cannot serialise the record");
    } else {
        char hash[17];
        snprintf(hash, sizeof(hash), "%016llx",
                 (unsigned long long) td_hash64(full, full_len, content_hash_seed()));
        set_value(b, TD_SLOT_CONTENT_HASH, hash, 16);
        set_value(b, TD_SLOT_RECORD, packed, packed_len);
        if (b->status == TD_OK && td_xdoc_set_data(b->doc, display, display_len) != TD_OK)
            fail(b, TD_ERR_INTERNAL, "cannot set the document data");
    }
    free(display);
    free(full);
    free(packed);
}

td_status_t td_doc_build(td_doc_builder_t *b, const td_trial_t *t, td_xdoc_t **out)
{
    b->status = TD_OK;
    b->error[0] = '\0';
    b->position = 0;
    b->spelling_len = b->spelling_count = 0;
    td_strmap_clear(&b->terms); /* a failed document may have left some */
    b->doc = NULL;
    td_status_t status = td_xdoc_new(&b->doc);
    if (status != TD_OK)
        return status;

    snprintf(b->term, sizeof(b->term), TD_PREFIX_ID "%s", t->nct_id);
    if (b->status == TD_OK && td_xdoc_add_boolean_term(b->doc, b->term) != TD_OK)
        fail(b, TD_ERR_INTERNAL, "cannot add the ID term");

    add_string(b, &TITLE, t->brief_title);
    add_string(b, &TITLE, t->official_title);
    add_string(b, &TITLE, t->acronym);
    add_list(b, &CONDITION, &t->conditions);
    add_list(b, &CONDITION, &t->condition_mesh_terms);
    add_list(b, &KEYWORD, &t->keywords);
    for (size_t i = 0; i < t->intervention_count; i++) {
        add_string(b, &INTERVENTION, t->interventions[i].name);
        add_list(b, &INTERVENTION, &t->interventions[i].other_names);
        add_string(b, &INTERVENTION_TEXT, t->interventions[i].description);
    }
    add_list(b, &INTERVENTION, &t->intervention_mesh_terms);
    for (size_t i = 0; i < t->arm_group_count; i++) {
        add_string(b, &ARM, t->arm_groups[i].label);
        add_string(b, &ARM, t->arm_groups[i].description);
    }
    add_string(b, &DESCRIPTION, t->brief_summary);
    add_string(b, &DESCRIPTION, t->detailed_description);
    add_outcomes(b, t->primary_outcomes, t->primary_outcome_count);
    add_outcomes(b, t->secondary_outcomes, t->secondary_outcome_count);
    add_criteria(b, t->eligibility_criteria);
    add_string(b, &SPONSOR, t->lead_sponsor.name);
    for (size_t i = 0; i < t->collaborator_count; i++)
        add_string(b, &SPONSOR, t->collaborators[i].name);
    for (size_t i = 0; i < t->location_count; i++) {
        add_string(b, &LOCATION, t->locations[i].facility);
        add_string(b, &LOCATION, t->locations[i].city);
        add_string(b, &LOCATION, t->locations[i].state);
        add_string(b, &LOCATION, t->locations[i].country);
    }
    flush_terms(b);
    add_filters(b, t);
    set_values(b, t);
    set_data_and_hash(b, t);

    if (b->status != TD_OK) {
        td_xdoc_free(b->doc);
        b->doc = NULL;
        return b->status;
    }
    *out = b->doc;
    b->doc = NULL;
    return TD_OK;
}
