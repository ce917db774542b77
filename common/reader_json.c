/* reader_json.c - maps ClinicalTrials.gov API v2 study objects and BEIR
 * documents onto td_trial_t.
 *
 * Diagnostics name a field by its JSON path from the record root
 * ("protocolSection.armsInterventionsModule.interventions[2].name"), so a
 * user can find it in the source. The mapper keeps the path of the object it
 * is in and extends it while it descends; a value of the wrong JSON type is
 * reported once, where it is found, and everything below it is skipped.
 */
#include "record.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct mapper {
    td_record_ctx_t *ctx;
    td_trial_t *trial;
    td_status_t status; /* TD_ERR_NO_MEMORY once an allocation failed */
    size_t path_len;
    char path[256];  /* JSON path of the object being mapped; "" at the root */
    char field[256]; /* scratch: path of one member, see field() */
} mapper_t;

/* What a member must be. JSON numbers are integers or reals in jansson. */
typedef enum value_kind {
    KIND_OBJECT,
    KIND_ARRAY,
    KIND_STRING,
    KIND_NUMBER,
    KIND_INTEGER,
    KIND_BOOLEAN
} value_kind_t;

static const char *const kind_names[] = {"object", "array",   "string",
                                         "number", "integer", "boolean"};

static const char *type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

static bool is_kind(const json_t *value, value_kind_t kind)
{
    switch (kind) {
    case KIND_OBJECT:
        return json_is_object(value);
    case KIND_ARRAY:
        return json_is_array(value);
    case KIND_STRING:
        return json_is_string(value);
    case KIND_NUMBER:
        return json_is_number(value);
    case KIND_INTEGER:
        return json_is_integer(value);
    case KIND_BOOLEAN:
        return json_is_boolean(value);
    }
    return false;
}

/* Paths are built from this file's own keys and array indexes, so their
 * length is bounded by the code, not by the data; the cut only keeps a
 * release build safe should that ever change. */
static void path_append(char *buffer, size_t *len, size_t size, const char *text)
{
    size_t add = strlen(text);
    assert(*len + add < size);
    if (*len + add >= size)
        add = size - 1 - *len;
    memcpy(buffer + *len, text, add);
    *len += add;
    buffer[*len] = '\0';
}

/* Descends into member `key`; returns the length to restore with pop(). */
static size_t push_key(mapper_t *m, const char *key)
{
    size_t mark = m->path_len;
    if (m->path_len)
        path_append(m->path, &m->path_len, sizeof(m->path), ".");
    path_append(m->path, &m->path_len, sizeof(m->path), key);
    return mark;
}

static size_t push_index(mapper_t *m, size_t index)
{
    size_t mark = m->path_len;
    char text[32];
    snprintf(text, sizeof(text), "[%zu]", index);
    path_append(m->path, &m->path_len, sizeof(m->path), text);
    return mark;
}

static void pop(mapper_t *m, size_t mark)
{
    m->path_len = mark;
    m->path[mark] = '\0';
}

/* The path of member `key` of the current object, for the td_record_*
 * helpers. Valid until the next call. */
static const char *field(mapper_t *m, const char *key)
{
    size_t len = 0;
    m->field[0] = '\0';
    if (m->path_len) {
        path_append(m->field, &len, sizeof(m->field), m->path);
        path_append(m->field, &len, sizeof(m->field), ".");
    }
    path_append(m->field, &len, sizeof(m->field), key);
    return m->field;
}

static void warn_type(mapper_t *m, const char *key, value_kind_t kind, const json_t *value)
{
    td_record_warn(m->ctx, "%s%s%s: expected %s, got %s", m->path, m->path_len ? "." : "", key,
                   kind_names[kind], type_name(value));
}

/* Member `key` of `object` when it has the expected kind. Absent members
 * and nulls give NULL silently (so does a NULL `object`, which lets a missing
 * parent hide its children); a member of another type is reported and gives
 * NULL. */
static const json_t *member(mapper_t *m, const json_t *object, const char *key, value_kind_t kind)
{
    const json_t *value = object ? json_object_get(object, key) : NULL;
    if (!value || json_is_null(value))
        return NULL;
    if (!is_kind(value, kind)) {
        warn_type(m, key, kind, value);
        return NULL;
    }
    return value;
}

static const char *string(mapper_t *m, const json_t *object, const char *key)
{
    return json_string_value(member(m, object, key, KIND_STRING));
}

/* A string member copied into the trial. */
static const char *text(mapper_t *m, const json_t *object, const char *key)
{
    const json_t *value = member(m, object, key, KIND_STRING);
    if (!value)
        return NULL;
    return td_record_text(m->ctx, field(m, key), json_string_value(value),
                          json_string_length(value));
}

static void *allocate(mapper_t *m, size_t count, size_t size)
{
    void *items = td_trial_calloc(m->trial, count, size);
    if (!items)
        m->status = TD_ERR_NO_MEMORY;
    return items;
}

/* Maps one JSON object into `out`. */
typedef void (*map_fn)(mapper_t *m, const json_t *object, void *out);

/* Maps member `key` of `object`, an object, with `map`. */
static void nested(mapper_t *m, const json_t *object, const char *key, map_fn map, void *out)
{
    const json_t *value = member(m, object, key, KIND_OBJECT);
    if (!value)
        return;
    size_t mark = push_key(m, key);
    map(m, value, out);
    pop(m, mark);
}

/* Calls `visit` on each item of array member `key` that has kind `kind`,
 * with the path pointing at the item; other items are reported and
 * skipped, nulls silently. */
typedef void (*visit_fn)(mapper_t *m, const json_t *item, void *data);

static void each_item(mapper_t *m, const json_t *object, const char *key, value_kind_t kind,
                      visit_fn visit, void *data)
{
    const json_t *array = member(m, object, key, KIND_ARRAY);
    size_t count = json_array_size(array);
    if (!count)
        return;
    size_t mark = push_key(m, key);
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(array, i);
        size_t item_mark = push_index(m, i);
        if (is_kind(item, kind)) {
            visit(m, item, data);
        } else if (!json_is_null(item)) {
            /* The index is part of the path already. */
            td_record_warn(m->ctx, "%s: expected %s, got %s", m->path, kind_names[kind],
                           type_name(item));
        }
        pop(m, item_mark);
    }
    pop(m, mark);
}

/* Where each_item puts string items: straight into a list, or (with
 * `subkey`) a member of object items. */
typedef struct list_target {
    td_strlist_t *list;
    const char *subkey;
} list_target_t;

static void visit_list_item(mapper_t *m, const json_t *item, void *data)
{
    const list_target_t *target = data;
    if (target->subkey) {
        item = member(m, item, target->subkey, KIND_STRING);
        if (!item)
            return;
    }
    td_record_list_add(m->ctx, target->subkey ? field(m, target->subkey) : m->path, target->list,
                       json_string_value(item), json_string_length(item));
}

/* Array member `key`: strings into `list`. */
static void string_list(mapper_t *m, const json_t *object, const char *key, td_strlist_t *list)
{
    list_target_t target = {list, NULL};
    each_item(m, object, key, KIND_STRING, visit_list_item, &target);
}

/* Array member `key` of objects: member `subkey` of each into `list`. */
static void member_list(mapper_t *m, const json_t *object, const char *key, const char *subkey,
                        td_strlist_t *list)
{
    list_target_t target = {list, subkey};
    each_item(m, object, key, KIND_OBJECT, visit_list_item, &target);
}

/* An array of objects mapped into a new array of `size`-byte structs. */
typedef struct struct_array {
    map_fn map;
    size_t size;
    char *items;
    size_t count;
} struct_array_t;

static void visit_struct_item(mapper_t *m, const json_t *item, void *data)
{
    struct_array_t *array = data;
    if (array->items)
        array->map(m, item, array->items + array->count++ * array->size);
}

/* Array member `key`: each object mapped by `map` into a new array of
 * `size`-byte structs; *count gets the number mapped. */
static void *struct_list(mapper_t *m, const json_t *object, const char *key, map_fn map,
                         size_t size, size_t *count)
{
    struct_array_t array = {map, size, NULL, 0};
    const json_t *value = json_object_get(object, key);
    if (json_is_array(value) && json_array_size(value))
        array.items = allocate(m, json_array_size(value), size);
    each_item(m, object, key, KIND_OBJECT, visit_struct_item, &array);
    *count = array.count;
    return array.count ? array.items : NULL;
}

/* String members copied into `char *` fields of a struct. */
typedef struct text_field {
    const char *key;
    size_t offset;
} text_field_t;

static void text_fields(mapper_t *m, const json_t *object, const text_field_t *fields, size_t count,
                        void *out)
{
    for (size_t i = 0; i < count; i++)
        *(const char **) ((char *) out + fields[i].offset) = text(m, object, fields[i].key);
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static void visit_phase(mapper_t *m, const json_t *item, void *phases)
{
    td_record_phase(m->ctx, m->path, json_string_value(item), phases);
}

static void visit_std_age(mapper_t *m, const json_t *item, void *std_ages)
{
    td_record_std_age(m->ctx, m->path, json_string_value(item), std_ages);
}

/* protocolSection.identificationModule (nctId is read first, by
 * map_nct_id). */

static void map_org_study_id(mapper_t *m, const json_t *object, void *trial)
{
    td_trial_t *t = trial;
    t->org_study_id = text(m, object, "id");
}

static void map_identification(mapper_t *m, const json_t *module, void *trial)
{
    static const text_field_t fields[] = {
        {"acronym", offsetof(td_trial_t, acronym)},
        {"briefTitle", offsetof(td_trial_t, brief_title)},
        {"officialTitle", offsetof(td_trial_t, official_title)},
    };
    td_trial_t *t = trial;
    string_list(m, module, "nctIdAliases", &t->nct_aliases);
    nested(m, module, "orgStudyIdInfo", map_org_study_id, t);
    member_list(m, module, "secondaryIdInfos", "id", &t->secondary_ids);
    text_fields(m, module, fields, COUNT(fields), t);
}

/* protocolSection.statusModule */

static void map_date(mapper_t *m, const json_t *object, void *date)
{
    td_date_t *d = date;
    td_record_date(m->ctx, field(m, "date"), string(m, object, "date"), d);
    if (d->precision != TD_DATE_NONE)
        td_record_actuality(m->ctx, field(m, "type"), string(m, object, "type"), &d->type);
}

static void map_status(mapper_t *m, const json_t *module, void *trial)
{
    static const struct {
        const char *key;
        size_t offset;
    } dates[] = {
        {"startDateStruct", offsetof(td_trial_t, start_date)},
        {"primaryCompletionDateStruct", offsetof(td_trial_t, primary_completion_date)},
        {"completionDateStruct", offsetof(td_trial_t, completion_date)},
        {"studyFirstPostDateStruct", offsetof(td_trial_t, first_posted_date)},
        {"lastUpdatePostDateStruct", offsetof(td_trial_t, last_update_date)},
    };
    td_trial_t *t = trial;
    td_record_status(m->ctx, field(m, "overallStatus"), string(m, module, "overallStatus"),
                     &t->overall_status);
    for (size_t i = 0; i < COUNT(dates); i++)
        nested(m, module, dates[i].key, map_date, (char *) t + dates[i].offset);
}

/* protocolSection.sponsorCollaboratorsModule */

static void map_sponsor(mapper_t *m, const json_t *object, void *sponsor)
{
    td_sponsor_t *s = sponsor;
    s->name = text(m, object, "name");
    td_record_sponsor_class(m->ctx, field(m, "class"), string(m, object, "class"),
                            &s->sponsor_class);
}

static void map_sponsors(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    nested(m, module, "leadSponsor", map_sponsor, &t->lead_sponsor);
    t->collaborators = struct_list(m, module, "collaborators", map_sponsor, sizeof(td_sponsor_t),
                                   &t->collaborator_count);
}

/* protocolSection.descriptionModule and conditionsModule */

static void map_description(mapper_t *m, const json_t *module, void *trial)
{
    static const text_field_t fields[] = {
        {"briefSummary", offsetof(td_trial_t, brief_summary)},
        {"detailedDescription", offsetof(td_trial_t, detailed_description)},
    };
    text_fields(m, module, fields, COUNT(fields), trial);
}

static void map_conditions(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    string_list(m, module, "conditions", &t->conditions);
    string_list(m, module, "keywords", &t->keywords);
}

/* protocolSection.designModule */

static void map_masking(mapper_t *m, const json_t *object, void *design)
{
    td_design_t *d = design;
    d->masking = text(m, object, "masking");
}

static void map_design_info(mapper_t *m, const json_t *object, void *design)
{
    static const text_field_t fields[] = {
        {"allocation", offsetof(td_design_t, allocation)},
        {"interventionModel", offsetof(td_design_t, intervention_model)},
        {"primaryPurpose", offsetof(td_design_t, primary_purpose)},
        {"observationalModel", offsetof(td_design_t, observational_model)},
        {"timePerspective", offsetof(td_design_t, time_perspective)},
    };
    text_fields(m, object, fields, COUNT(fields), design);
    nested(m, object, "maskingInfo", map_masking, design);
}

static void map_enrollment(mapper_t *m, const json_t *object, void *trial)
{
    td_trial_t *t = trial;
    const json_t *count = member(m, object, "count", KIND_INTEGER);
    if (count && json_integer_value(count) < 0)
        td_record_warn(m->ctx, "bad %s '%" JSON_INTEGER_FORMAT "'", field(m, "count"),
                       json_integer_value(count));
    else if (count)
        t->enrollment = json_integer_value(count);
    td_record_actuality(m->ctx, field(m, "type"), string(m, object, "type"), &t->enrollment_type);
}

static void map_design(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    td_record_study_type(m->ctx, field(m, "studyType"), string(m, module, "studyType"),
                         &t->study_type);
    each_item(m, module, "phases", KIND_STRING, visit_phase, &t->phases);
    nested(m, module, "designInfo", map_design_info, &t->design);
    nested(m, module, "enrollmentInfo", map_enrollment, t);
}

/* protocolSection.armsInterventionsModule and outcomesModule */

static void map_arm_group(mapper_t *m, const json_t *object, void *arm_group)
{
    static const text_field_t fields[] = {
        {"label", offsetof(td_arm_group_t, label)},
        {"type", offsetof(td_arm_group_t, type)},
        {"description", offsetof(td_arm_group_t, description)},
    };
    td_arm_group_t *a = arm_group;
    text_fields(m, object, fields, COUNT(fields), a);
    string_list(m, object, "interventionNames", &a->intervention_names);
}

static void map_intervention(mapper_t *m, const json_t *object, void *intervention)
{
    static const text_field_t fields[] = {
        {"name", offsetof(td_intervention_t, name)},
        {"description", offsetof(td_intervention_t, description)},
    };
    td_intervention_t *i = intervention;
    td_record_intervention_type(m->ctx, field(m, "type"), string(m, object, "type"), &i->type);
    text_fields(m, object, fields, COUNT(fields), i);
    string_list(m, object, "armGroupLabels", &i->arm_group_labels);
    string_list(m, object, "otherNames", &i->other_names);
}

static void map_arms_interventions(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    t->arm_groups = struct_list(m, module, "armGroups", map_arm_group, sizeof(td_arm_group_t),
                                &t->arm_group_count);
    t->interventions = struct_list(m, module, "interventions", map_intervention,
                                   sizeof(td_intervention_t), &t->intervention_count);
}

static void map_outcome(mapper_t *m, const json_t *object, void *outcome)
{
    static const text_field_t fields[] = {
        {"measure", offsetof(td_outcome_t, measure)},
        {"description", offsetof(td_outcome_t, description)},
        {"timeFrame", offsetof(td_outcome_t, time_frame)},
    };
    text_fields(m, object, fields, COUNT(fields), outcome);
}

static void map_outcomes(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    t->primary_outcomes = struct_list(m, module, "primaryOutcomes", map_outcome,
                                      sizeof(td_outcome_t), &t->primary_outcome_count);
    t->secondary_outcomes = struct_list(m, module, "secondaryOutcomes", map_outcome,
                                        sizeof(td_outcome_t), &t->secondary_outcome_count);
}

/* protocolSection.eligibilityModule */

static void map_eligibility(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    t->eligibility_criteria = text(m, module, "eligibilityCriteria");
    const json_t *healthy = member(m, module, "healthyVolunteers", KIND_BOOLEAN);
    if (healthy)
        t->healthy_volunteers = json_is_true(healthy) ? TD_YES : TD_NO;
    td_record_sex(m->ctx, field(m, "sex"), string(m, module, "sex"), &t->sex);
    td_record_age(m->ctx, field(m, "minimumAge"), string(m, module, "minimumAge"), &t->minimum_age);
    td_record_age(m->ctx, field(m, "maximumAge"), string(m, module, "maximumAge"), &t->maximum_age);
    each_item(m, module, "stdAges", KIND_STRING, visit_std_age, &t->std_ages);
}

/* protocolSection.contactsLocationsModule */

static void map_geo_point(mapper_t *m, const json_t *object, void *location)
{
    td_location_t *l = location;
    const json_t *lat = member(m, object, "lat", KIND_NUMBER);
    const json_t *lon = member(m, object, "lon", KIND_NUMBER);
    if (!lat || !lon)
        return;
    double latitude = json_number_value(lat), longitude = json_number_value(lon);
    if (fabs(latitude) > 90 || fabs(longitude) > 180) {
        td_record_warn(m->ctx, "bad %s '%g, %g'", m->path, latitude, longitude);
        return;
    }
    l->has_geo = true;
    l->latitude = latitude;
    l->longitude = longitude;
}

static void map_location(mapper_t *m, const json_t *object, void *location)
{
    static const text_field_t fields[] = {
        {"facility", offsetof(td_location_t, facility)}, {"city", offsetof(td_location_t, city)},
        {"state", offsetof(td_location_t, state)},       {"zip", offsetof(td_location_t, zip)},
        {"country", offsetof(td_location_t, country)},
    };
    td_location_t *l = location;
    text_fields(m, object, fields, COUNT(fields), l);
    td_record_status(m->ctx, field(m, "status"), string(m, object, "status"), &l->status);
    nested(m, object, "geoPoint", map_geo_point, l);
}

static void map_locations(mapper_t *m, const json_t *module, void *trial)
{
    td_trial_t *t = trial;
    t->locations = struct_list(m, module, "locations", map_location, sizeof(td_location_t),
                               &t->location_count);
}

/* The sections */

static void map_protocol(mapper_t *m, const json_t *section, void *trial)
{
    static const struct {
        const char *key;
        map_fn map;
    } modules[] = {
        {"identificationModule", map_identification},
        {"statusModule", map_status},
        {"sponsorCollaboratorsModule", map_sponsors},
        {"descriptionModule", map_description},
        {"conditionsModule", map_conditions},
        {"designModule", map_design},
        {"armsInterventionsModule", map_arms_interventions},
        {"outcomesModule", map_outcomes},
        {"eligibilityModule", map_eligibility},
        {"contactsLocationsModule", map_locations},
    };
    for (size_t i = 0; i < COUNT(modules); i++)
        nested(m, section, modules[i].key, modules[i].map, trial);
}

static void map_mesh_terms(mapper_t *m, const json_t *module, void *list)
{
    member_list(m, module, "meshes", "term", list);
}

static void map_derived(mapper_t *m, const json_t *section, void *trial)
{
    td_trial_t *t = trial;
    nested(m, section, "conditionBrowseModule", map_mesh_terms, &t->condition_mesh_terms);
    nested(m, section, "interventionBrowseModule", map_mesh_terms, &t->intervention_mesh_terms);
}

/* Sets the NCT ID or rejects the record, naming `field` in the error. */
static td_status_t map_required_nct_id(td_record_ctx_t *ctx, const char *field, const json_t *value)
{
    if (value && !json_is_null(value) && !json_is_string(value))
        return td_record_reject(ctx, "%s: expected string, got %s", field, type_name(value));
    if (td_record_nct_id(ctx, json_string_value(value), json_string_length(value)) == TD_OK)
        return TD_OK;
    char message[sizeof(ctx->error)];
    memcpy(message, ctx->error, sizeof(message));
    return td_record_reject(ctx, "%s: %s", field, message);
}

/* A member the record cannot do without: absent or null gives NULL, another
 * type rejects the record. */
static td_status_t required_object(td_record_ctx_t *ctx, const char *field, const json_t *value,
                                   const json_t **out)
{
    *out = NULL;
    if (!value || json_is_null(value))
        return TD_OK;
    if (!json_is_object(value))
        return td_record_reject(ctx, "%s: expected object, got %s", field, type_name(value));
    *out = value;
    return TD_OK;
}

static td_status_t map_nct_id(td_record_ctx_t *ctx, const json_t *study)
{
    const json_t *section, *module;
    td_status_t status = required_object(ctx, "protocolSection",
                                         json_object_get(study, "protocolSection"), &section);
    if (status == TD_OK)
        status = required_object(ctx, "protocolSection.identificationModule",
                                 json_object_get(section, "identificationModule"), &module);
    if (status == TD_OK)
        status = map_required_nct_id(ctx, "protocolSection.identificationModule.nctId",
                                     json_object_get(module, "nctId"));
    return status;
}

static void mapper_init(mapper_t *m, td_record_ctx_t *ctx)
{
    m->ctx = ctx;
    m->trial = ctx->trial;
    m->status = TD_OK;
    m->path_len = 0;
    m->path[0] = '\0';
    m->field[0] = '\0';
}

td_status_t td_map_ctgov_json(td_record_ctx_t *ctx, const json_t *study)
{
    assert(ctx && ctx->trial);
    if (!json_is_object(study))
        return td_record_reject(ctx, "expected a study object, got %s",
                                study ? type_name(study) : "nothing");
    td_status_t status = map_nct_id(ctx, study);
    if (status != TD_OK)
        return status;

    mapper_t m;
    mapper_init(&m, ctx);
    td_trial_t *t = ctx->trial;
    nested(&m, study, "protocolSection", map_protocol, t);
    nested(&m, study, "derivedSection", map_derived, t);
    t->has_results = json_is_true(member(&m, study, "hasResults", KIND_BOOLEAN));
    td_record_derive_std_ages(ctx);
    return m.status;
}

td_status_t td_map_beir(td_record_ctx_t *ctx, const json_t *doc)
{
    assert(ctx && ctx->trial);
    if (!json_is_object(doc))
        return td_record_reject(ctx, "expected a BEIR document object, got %s",
                                doc ? type_name(doc) : "nothing");
    td_status_t status = map_required_nct_id(ctx, "_id", json_object_get(doc, "_id"));
    if (status != TD_OK)
        return status;
    /* The text is the document: without it there is nothing to index. */
    const json_t *body = json_object_get(doc, "text");
    if (!body || json_is_null(body))
        return td_record_reject(ctx, "text: missing");
    if (!json_is_string(body))
        return td_record_reject(ctx, "text: expected string, got %s", type_name(body));

    mapper_t m;
    mapper_init(&m, ctx);
    td_trial_t *t = ctx->trial;
    t->brief_title = text(&m, doc, "title");
    t->brief_summary = text(&m, doc, "text");
    return m.status;
}
