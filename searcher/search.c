/* search.c - the searcher: settings, opening, running requests, facets,
 * sorting, geo, suggestions, page tokens and `show`. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "search_internal.h"
#include "td_schema.h"
#include "td_trial.h"
#include "td_trial_json.h"

/* What a trial that admits the patient a description speaks of gains:
 * far more than any query's words weigh, so those trials rank first. Hits
 * report their weight without it. */
#define PATIENT_BONUS 1e9

/* Queries with more words than this go straight to partial matching. */
#define DESCRIPTION_WORDS 16

/* ---- settings ---- */

static const double INDEX_WEIGHTS[TD_FIELD_COUNT] = {
    [TD_FIELD_TITLE] = TD_WEIGHT_TITLE,         [TD_FIELD_CONDITION] = TD_WEIGHT_CONDITION,
    [TD_FIELD_KEYWORD] = TD_WEIGHT_KEYWORD,     [TD_FIELD_INTERVENTION] = TD_WEIGHT_INTERVENTION,
    [TD_FIELD_BIOMARKER] = TD_WEIGHT_BIOMARKER, [TD_FIELD_SUMMARY] = TD_WEIGHT_SUMMARY,
    [TD_FIELD_OUTCOME] = TD_WEIGHT_OUTCOME,     [TD_FIELD_INCLUSION] = TD_WEIGHT_INCLUSION,
    [TD_FIELD_EXCLUSION] = TD_WEIGHT_EXCLUSION, [TD_FIELD_SPONSOR] = TD_WEIGHT_SPONSOR,
    [TD_FIELD_SITE] = TD_WEIGHT_SITE,           [TD_FIELD_ARM] = TD_WEIGHT_ARM,
};

void td_search_settings_default(td_search_settings_t *settings)
{
    for (int f = 0; f < TD_FIELD_COUNT; f++)
        settings->boost[f] = INDEX_WEIGHTS[f] / TD_WDF_SCALE;
    settings->bm25 = (td_xbm25_t){.k1 = 1.2, .k2 = 0, .k3 = 1, .b = 0.75, .min_normlen = 0.5};
    settings->phrase_boost = 0.5;
    settings->expand = true;
    settings->patient = true;
}

bool td_search_settings_are_index_weights(const td_search_settings_t *settings)
{
    for (int f = 0; f < TD_FIELD_COUNT; f++)
        if (settings->boost[f] != INDEX_WEIGHTS[f] / TD_WDF_SCALE)
            return false;
    return true;
}

td_xbm25_t td_search_bm25(const td_search_settings_t *settings)
{
    td_xbm25_t bm25 = settings->bm25;
    bm25.k1 *= TD_WDF_SCALE;
    return bm25;
}

/* Sets *error (when not NULL) to a malloc'd message; returns TD_ERR_BAD_INPUT.
 * Settings and page tokens report their problems this way. */
static td_status_t message_fail(char **error, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    if (error)
        *error = strdup(message);
    return TD_ERR_BAD_INPUT;
}

td_status_t td_search_settings_set(td_search_settings_t *settings, const char *key,
                                   const char *value, char **error)
{
    char *end;
    errno = 0;
    double number = strtod(value, &end);
    while (isspace((unsigned char) *end))
        end++;
    if (end == value || *end || errno || !isfinite(number) || number < 0)
        return message_fail(error, "%s: '%s' is not a non-negative number", key, value);
    if (strncmp(key, "boost.", 6) == 0) {
        for (int f = 0; f < TD_FIELD_COUNT; f++)
            if (strcmp(key + 6, td_field_name((td_field_t) f)) == 0) {
                settings->boost[f] = number;
                return TD_OK;
            }
        return message_fail(error,
                            "unknown field in '%s' (fields: title, condition, keyword, "
                            "intervention, biomarker, summary, outcome, inclusion, exclusion, "
                            "sponsor, site, arm)",
                            key);
    }
    static const struct {
        const char *key;
        size_t offset;
    } bm25[] = {{"bm25.k1", offsetof(td_xbm25_t, k1)},
                {"bm25.k2", offsetof(td_xbm25_t, k2)},
                {"bm25.k3", offsetof(td_xbm25_t, k3)},
                {"bm25.b", offsetof(td_xbm25_t, b)},
                {"bm25.min_normlen", offsetof(td_xbm25_t, min_normlen)}};
    for (size_t i = 0; i < sizeof(bm25) / sizeof(bm25[0]); i++)
        if (strcmp(key, bm25[i].key) == 0) {
            if (strcmp(key, "bm25.b") == 0 && number > 1)
                return message_fail(error, "bm25.b must be between 0 and 1, not %s", value);
            *(double *) ((char *) &settings->bm25 + bm25[i].offset) = number;
            return TD_OK;
        }
    if (strcmp(key, "phrase_boost") == 0) {
        settings->phrase_boost = number;
        return TD_OK;
    }
    bool *flag = strcmp(key, "expand") == 0    ? &settings->expand
                 : strcmp(key, "patient") == 0 ? &settings->patient
                                               : NULL;
    if (flag) {
        if (number != 0 && number != 1)
            return message_fail(error, "%s is 0 or 1, not %s", key, value);
        *flag = number == 1;
        return TD_OK;
    }
    return message_fail(error,
                        "unknown setting '%s' (settings: boost.<field>, bm25.k1, bm25.k2, "
                        "bm25.k3, bm25.b, bm25.min_normlen, phrase_boost, expand, patient)",
                        key);
}

td_status_t td_search_settings_load(td_search_settings_t *settings, const char *path, char **error)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        if (error) {
            char message[512];
            snprintf(message, sizeof(message), "cannot read '%s': %s", path, strerror(errno));
            *error = strdup(message);
        }
        return errno == ENOENT ? TD_ERR_NOT_FOUND : TD_ERR_IO;
    }
    char line[1024];
    unsigned number = 0;
    td_status_t status = TD_OK;
    while (status == TD_OK && fgets(line, sizeof(line), file)) {
        number++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *key = line;
        while (isspace((unsigned char) *key))
            key++;
        if (!*key)
            continue;
        char *equals = strchr(key, '=');
        if (!equals) {
            status = message_fail(error, "%s:%u: expected 'key = value'", path, number);
            break;
        }
        char *key_end = equals;
        while (key_end > key && isspace((unsigned char) key_end[-1]))
            key_end--;
        *key_end = '\0';
        char *value = equals + 1;
        while (isspace((unsigned char) *value))
            value++;
        size_t len = strlen(value);
        while (len && isspace((unsigned char) value[len - 1]))
            value[--len] = '\0';
        char *message = NULL;
        status = td_search_settings_set(settings, key, value, &message);
        if (status != TD_OK) {
            message_fail(error, "%s:%u: %s", path, number, message ? message : "bad setting");
            free(message);
        }
    }
    fclose(file);
    return status;
}

/* ---- the searcher ---- */

static char *link_target(const char *path)
{
    char target[4096];
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return strdup("");
    target[n] = '\0';
    return strdup(target);
}

static td_status_t open_fail(char **error, td_status_t status, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    if (error && !*error)
        *error = strdup(message);
    return status;
}

/* Opens the database at s->path and checks its schema. */
static td_status_t open_database(td_searcher_t *s, char **error)
{
    char *open_error = NULL;
    td_xdb_t *db = NULL;
    char *version = link_target(s->path);
    td_status_t status = td_xdb_open(s->path, TD_XDB_READ, &db, &open_error);
    if (status != TD_OK) {
        if (status == TD_ERR_NOT_FOUND)
            open_fail(error, status,
                      "no index at '%s': build one with trialdex-index build -d %s SRC...", s->path,
                      s->path);
        else
            open_fail(error, status, "%s", open_error ? open_error : "cannot open the index");
        free(open_error);
        free(version);
        return status;
    }
    char *schema = NULL;
    if (td_xdb_get_metadata(db, TD_META_SCHEMA, &schema, NULL) != TD_OK ||
        atoi(schema) != TD_SCHEMA_VERSION) {
        status = open_fail(error, TD_ERR_BAD_INPUT,
                           "index '%s' has schema %s; this trialdex reads schema %d: rebuild it "
                           "with trialdex-index build",
                           s->path, schema ? schema : "(none)", TD_SCHEMA_VERSION);
        free(schema);
        free(version);
        td_xdb_close(db);
        return status;
    }
    free(schema);
    uint64_t revision = 0;
    uint32_t count = 0;
    if (td_xdb_revision(db, &revision) != TD_OK || td_xdb_doc_count(db, &count) != TD_OK) {
        status = open_fail(error, TD_ERR_IO, "%s", td_xdb_last_error(db));
        free(version);
        td_xdb_close(db);
        return status;
    }
    td_xdb_close(s->db);
    free(s->version);
    s->db = db;
    s->version = version;
    s->revision = revision;
    s->doc_count = count;
    return TD_OK;
}

td_status_t td_searcher_open(const char *db, const td_search_settings_t *settings,
                             td_searcher_t **out, char **error)
{
    if (error)
        *error = NULL;
    td_searcher_t *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(db))) {
        free(s);
        return open_fail(error, TD_ERR_NO_MEMORY, "out of memory");
    }
    if (settings)
        s->settings = *settings;
    else
        td_search_settings_default(&s->settings);
    char *analyzer_error = NULL;
    td_status_t status = td_analyzer_new(NULL, &s->analyzer, &analyzer_error);
    if (status != TD_OK) {
        open_fail(error, status, "cannot start the analyzer: %s",
                  analyzer_error ? analyzer_error : td_status_str(status));
        free(analyzer_error);
    }
    if (status == TD_OK && (status = td_analysis_new(s->analyzer, &s->analysis)) != TD_OK)
        open_fail(error, status, "cannot start the analyzer: %s", td_status_str(status));
    if (status == TD_OK)
        status = open_database(s, error);
    if (status != TD_OK) {
        td_searcher_free(s);
        return status;
    }
    *out = s;
    return TD_OK;
}

void td_searcher_free(td_searcher_t *s)
{
    if (!s)
        return;
    td_xdb_close(s->db);
    td_analysis_free(s->analysis);
    td_analyzer_free(s->analyzer);
    free(s->path);
    free(s->version);
    free(s);
}

td_status_t td_searcher_refresh(td_searcher_t *s, bool *changed, char **error)
{
    if (error)
        *error = NULL;
    if (changed)
        *changed = false;
    char *version = link_target(s->path);
    bool swapped = !version || strcmp(version, s->version) != 0;
    free(version);
    uint64_t before = s->revision;
    td_status_t status;
    if (swapped) {
        status = open_database(s, error);
    } else {
        bool reopened = false;
        status = td_xdb_reopen(s->db, &reopened);
        if (status == TD_OK && td_xdb_revision(s->db, &s->revision) == TD_OK)
            status = td_xdb_doc_count(s->db, &s->doc_count);
        if (status != TD_OK)
            open_fail(error, status, "%s", td_xdb_last_error(s->db));
    }
    if (changed)
        *changed = status == TD_OK && (swapped || s->revision != before);
    return status;
}

uint64_t td_searcher_revision(const td_searcher_t *s)
{
    return s->revision;
}

uint32_t td_searcher_doc_count(const td_searcher_t *s)
{
    return s->doc_count;
}

td_xdb_t *td_searcher_db(td_searcher_t *s)
{
    return s->db;
}

/* ---- requests ---- */

static const char *const SORT_NAMES[] = {"relevance", "start", "updated", "enrollment", "distance"};

const char *td_sort_name(td_sort_t sort)
{
    return sort <= TD_SORT_DISTANCE ? SORT_NAMES[sort] : "";
}

bool td_sort_parse(const char *text, td_sort_t *sort, bool *ascending)
{
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t) (colon - text) : strlen(text);
    for (int i = 0; i <= TD_SORT_DISTANCE; i++)
        if (strlen(SORT_NAMES[i]) == len && strncmp(text, SORT_NAMES[i], len) == 0) {
            bool up = i == TD_SORT_DISTANCE;
            if (colon && strcmp(colon + 1, "asc") == 0)
                up = true;
            else if (colon && strcmp(colon + 1, "desc") == 0 && i != TD_SORT_DISTANCE)
                up = false; /* farthest first is no use: distance sorts nearest first */
            else if (colon)
                return false;
            *sort = (td_sort_t) i;
            *ascending = up;
            return true;
        }
    return false;
}

td_search_request_t td_search_request_default(const char *query)
{
    return (td_search_request_t){
        .query = query ? query : "", .limit = 10, .sort = TD_SORT_RELEVANCE, .partial_ok = true};
}

static const char *const FACET_NAMES[TD_FACET_COUNT] = {
    "status",        "phase",     "type", "sex", "country", "intervention_type",
    "sponsor_class", "start_year"};
static const unsigned FACET_SLOTS[TD_FACET_COUNT] = {
    TD_SLOT_STATUS,        TD_SLOT_PHASES,    TD_SLOT_STUDY_TYPE,
    TD_SLOT_SEX,           TD_SLOT_COUNTRIES, TD_SLOT_INTERVENTION_TYPES,
    TD_SLOT_SPONSOR_CLASS, TD_SLOT_START_YEAR};

const char *td_facet_name(td_facet_t facet)
{
    return facet < TD_FACET_COUNT ? FACET_NAMES[facet] : "";
}

void td_search_result_free(td_search_result_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->hit_count; i++) {
        td_hit_t *h = &r->hits[i];
        free(h->display);
        free(h->nearest_site);
        for (size_t k = 0; k < h->match_count; k++) {
            free(h->matches[k].term);
            free(h->matches[k].query);
            free(h->matches[k].via);
        }
        free(h->matches);
        free(h->snippet.text);
        free(h->snippet.spans);
    }
    free(r->hits);
    for (int f = 0; f < TD_FACET_COUNT; f++) {
        for (size_t i = 0; i < r->facets[f].count; i++)
            free(r->facets[f].values[i].value);
        free(r->facets[f].values);
    }
    for (size_t i = 0; i < r->suggestion_count; i++) {
        free(r->suggestions[i].word);
        free(r->suggestions[i].suggestion);
    }
    free(r->suggestions);
    free(r);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static td_status_t search_fail(td_query_error_t *qerr, td_status_t status, const char *message)
{
    if (qerr) {
        qerr->position = 0;
        snprintf(qerr->message, sizeof(qerr->message), "%s", message);
        qerr->hint[0] = '\0';
    }
    return status;
}

/* The distance query of `geo` (within its radius, or any distance). */
static td_status_t distance_query(const td_geo_t *geo, td_xquery_t **out)
{
    unsigned slot = geo->recruiting ? TD_SLOT_RECRUITING_SITES : TD_SLOT_SITES;
    return td_xquery_new_distance(slot, geo->latitude, geo->longitude, geo->radius_km * 1000, out);
}

/* Replaces *query with `op` of it and `other` (which is freed). */
static td_status_t wrap(td_xop_t op, td_xquery_t **query, td_xquery_t *other)
{
    const td_xquery_t *parts[] = {*query, other};
    td_xquery_t *out = NULL;
    td_status_t status = td_xquery_new_compound(op, parts, 2, 0, &out);
    td_xquery_free(other);
    if (status == TD_OK) {
        td_xquery_free(*query);
        *query = out;
    }
    return status;
}

/* Parses a request's query (once: the partial fallback rebuilds from the
 * same parse). */
static td_status_t parse_request(td_searcher_t *s, const td_search_request_t *request,
                                 td_parsed_query_t *parsed, td_query_error_t *qerr)
{
    /* Trials that admit the patient first: a ranking, so in relevance order. */
    bool patient = request->sort == TD_SORT_RELEVANCE && s->settings.patient;
    td_status_t status = td_query_parse(s, request->query, patient, parsed, qerr);
    if (status == TD_OK && request->sort == TD_SORT_DISTANCE && !parsed->geo.set) {
        td_parsed_query_clear(parsed);
        return td_query_fail(qerr, 0, "add near:PLACE or recruiting-near:PLACE to the query",
                             "sorting by distance needs a place to measure from");
    }
    return status;
}

/* The query a parse runs (before sorting), and what building it learnt:
 * the text and filters, and trials beyond within: left out. */
static td_status_t build_request(td_searcher_t *s, const td_parsed_query_t *parsed, bool partial,
                                 td_build_info_t *info, td_xquery_t **out, td_query_error_t *qerr)
{
    td_status_t status = td_build_query(s, parsed->root, partial, info, out, qerr);
    if (status == TD_OK && parsed->has_patient) {
        td_xquery_t *every = NULL, *bonus = NULL;
        status = td_xquery_new_constant(PATIENT_BONUS, &every);
        const td_xquery_t *parts[] = {every, parsed->rules_out};
        if (status == TD_OK)
            status = td_xquery_new_compound(TD_XOP_AND_NOT, parts, 2, 0, &bonus);
        td_xquery_free(every);
        if (status == TD_OK)
            status = wrap(TD_XOP_AND_MAYBE, out, bonus);
        if (status != TD_OK) {
            td_xquery_free(*out);
            *out = NULL;
            return search_fail(qerr, status, "out of memory");
        }
    }
    if (status == TD_OK && parsed->geo.set && parsed->geo.radius_km > 0) {
        td_xquery_t *distance = NULL;
        status = distance_query(&parsed->geo, &distance);
        if (status == TD_OK)
            status = wrap(TD_XOP_FILTER, out, distance);
        if (status != TD_OK) {
            td_xquery_free(*out);
            *out = NULL;
            search_fail(qerr, status, "out of memory");
        }
    }
    return status;
}

/* For sorts whose missing values would come first (ascending values,
 * distance), the trials that have the value, sorted: *with; and the rest,
 * by relevance: *without. A distance sort weighs by distance alone. */
static td_status_t split_sorted(const td_search_request_t *request, const td_geo_t *geo,
                                const td_xquery_t *query, td_xquery_t **with, td_xquery_t **without)
{
    unsigned slot = request->sort == TD_SORT_START     ? TD_SLOT_START_DATE
                    : request->sort == TD_SORT_UPDATED ? TD_SLOT_LAST_UPDATE_DATE
                    : request->sort == TD_SORT_ENROLLMENT
                        ? TD_SLOT_ENROLLMENT
                        : (geo->recruiting ? TD_SLOT_RECRUITING_SITES : TD_SLOT_SITES);
    td_xquery_t *has_value = NULL, *sorted = NULL;
    td_status_t status = td_xquery_new_value_range(slot, HAS_VALUE, 1, NULL, 0, &has_value);
    const td_xquery_t *parts[] = {query, has_value};
    if (status == TD_OK)
        status = td_xquery_new_compound(TD_XOP_AND_NOT, parts, 2, 0, without);
    if (status == TD_OK && request->sort == TD_SORT_DISTANCE) {
        td_xquery_t *distance = NULL;
        status = td_xquery_new_scaled(query, 0, &sorted);
        if (status == TD_OK)
            status = distance_query(geo, &distance);
        if (status == TD_OK)
            status = wrap(TD_XOP_AND, &sorted, distance);
    } else if (status == TD_OK) {
        status = td_xquery_new_compound(TD_XOP_FILTER, parts, 2, 0, &sorted);
    }
    td_xquery_free(has_value);
    if (status != TD_OK) {
        td_xquery_free(sorted);
        td_xquery_free(*without);
        *without = NULL;
        return status;
    }
    *with = sorted;
    return TD_OK;
}

/* Whether a sort runs in two parts (see split_sorted). */
static bool two_parts(const td_search_request_t *request)
{
    return request->sort == TD_SORT_DISTANCE ||
           (request->sort != TD_SORT_RELEVANCE && request->ascending);
}

/* Whether `query` matches any trial. */
static bool matches_any(td_searcher_t *s, const td_xquery_t *query)
{
    td_xenquire_t *enquire = NULL;
    td_xmset_t *mset = NULL;
    bool any = true; /* on failure, let the real search report it */
    if (td_xenquire_new(s->db, &enquire) == TD_OK) {
        td_xenquire_set_query(enquire, query);
        if (td_xenquire_mset(enquire, 0, 0, 1, &mset) == TD_OK)
            any = td_xmset_matches_lower_bound(mset) > 0;
    }
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    return any;
}

td_status_t td_search_build_query(td_searcher_t *s, const td_search_request_t *request,
                                  td_xquery_t **out, td_query_error_t *qerr)
{
    td_parsed_query_t parsed;
    td_build_info_t info = {0};
    td_status_t status = parse_request(s, request, &parsed, qerr);
    if (status != TD_OK)
        return status;
    status = build_request(s, &parsed, false, &info, out, qerr);
    /* The query td_search runs last: the partial one for a description, or
     * when nothing matches every word. */
    if (status == TD_OK && request->partial_ok && parsed.has_text &&
        (info.word_count > DESCRIPTION_WORDS || !matches_any(s, *out))) {
        td_xquery_free(*out);
        *out = NULL;
        td_build_info_clear(&info);
        status = build_request(s, &parsed, true, &info, out, qerr);
    }
    if (status == TD_OK && two_parts(request)) {
        td_xquery_t *with = NULL, *without = NULL;
        status = split_sorted(request, &parsed.geo, *out, &with, &without);
        td_xquery_free(without);
        td_xquery_free(*out);
        *out = status == TD_OK ? with : NULL;
        if (status != TD_OK)
            search_fail(qerr, status, "out of memory");
    }
    td_parsed_query_clear(&parsed);
    td_build_info_clear(&info);
    return status;
}

/* ---- facets ---- */

static int by_value(const void *a, const void *b)
{
    return strcmp(((const td_facet_value_t *) a)->value, ((const td_facet_value_t *) b)->value);
}

static int by_count(const void *a, const void *b)
{
    const td_facet_value_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->value, y->value);
}

/* Counts of a spy, with '|'-joined values split and summed. */
static td_status_t facet_counts(const td_xspy_t *spy, td_facet_counts_t *out)
{
    td_xlist_t *list = NULL;
    td_status_t status = td_xspy_values(spy, 0, &list);
    if (status != TD_OK)
        return status;
    size_t capacity = 16, count = 0;
    td_facet_value_t *values = malloc(capacity * sizeof(*values));
    for (size_t i = 0; values && i < td_xlist_count(list); i++) {
        size_t len;
        const char *joined = td_xlist_string(list, i, &len);
        uint32_t n = (uint32_t) td_xlist_number(list, i);
        for (size_t at = 0; at < len;) {
            const char *bar = memchr(joined + at, '|', len - at);
            size_t part = bar ? (size_t) (bar - joined) - at : len - at;
            if (count == capacity) {
                capacity *= 2;
                td_facet_value_t *grown = realloc(values, capacity * sizeof(*grown));
                if (!grown)
                    break;
                values = grown;
            }
            values[count].value = strndup(joined + at, part);
            values[count++].count = n;
            at += part + 1;
        }
    }
    td_xlist_free(list);
    if (!values)
        return TD_ERR_NO_MEMORY;
    /* Merge equal values. */
    qsort(values, count, sizeof(*values), by_value);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (kept && strcmp(values[kept - 1].value, values[i].value) == 0) {
            values[kept - 1].count += values[i].count;
            free(values[i].value);
        } else {
            values[kept++] = values[i];
        }
    }
    qsort(values, kept, sizeof(*values), by_count);
    out->values = values;
    out->count = kept;
    return TD_OK;
}

/* ---- running ---- */

static double haversine_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = 3.14159265358979323846 / 180;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(a)));
}

json_t *td_record_locations(const char *record)
{
    const char *value;
    size_t len;
    if (td_trial_json_member(record, strlen(record), "locations", &value, &len) != TD_OK)
        return NULL;
    return json_loadb(value, len, 0, NULL);
}

/* The nearest (recruiting) site of a hit, from its whole record. */
static void nearest_site(const td_geo_t *geo, const char *record, td_hit_t *hit)
{
    json_t *locations = td_record_locations(record);
    json_t *site;
    size_t i;
    double best = INFINITY;
    json_t *best_site = NULL;
    json_array_foreach(locations, i, site)
    {
        json_t *lat = json_object_get(site, "lat"), *lon = json_object_get(site, "lon");
        const char *status = json_string_value(json_object_get(site, "status"));
        if (!json_is_number(lat) || !json_is_number(lon))
            continue;
        if (geo->recruiting && !(status && (strcmp(status, "RECRUITING") == 0 ||
                                            strcmp(status, "NOT_YET_RECRUITING") == 0)))
            continue;
        double d = haversine_km(geo->latitude, geo->longitude, json_number_value(lat),
                                json_number_value(lon));
        if (d < best) {
            best = d;
            best_site = site;
        }
    }
    if (best_site) {
        hit->has_distance = true;
        hit->distance_km = best;
        char place[512] = "";
        const char *keys[] = {"facility", "city", "country"};
        for (size_t k = 0; k < 3; k++) {
            const char *part = json_string_value(json_object_get(best_site, keys[k]));
            if (part && *part)
                snprintf(place + strlen(place), sizeof(place) - strlen(place), "%s%s",
                         *place ? ", " : "", part);
        }
        hit->nearest_site = *place ? strdup(place) : NULL;
    }
    json_decref(locations);
}

typedef struct run {
    td_searcher_t *searcher;
    const td_search_request_t *request;
    td_search_result_t *result;
    const td_parsed_query_t *parsed;
    const td_build_info_t *info;
    td_query_error_t *qerr;
} run_t;

static td_status_t xapian_fail(run_t *r, td_status_t status, const char *message)
{
    return search_fail(r->qerr, status, message);
}

/* The whole record (FULL JSON) of a document, malloc'd into *json. */
static td_status_t record_of(td_xdoc_t *doc, char **json)
{
    char *packed = NULL;
    size_t len = 0;
    td_status_t status = td_xdoc_get_value(doc, TD_SLOT_RECORD, &packed, &len);
    if (status == TD_OK)
        status = td_trial_json_unpack(packed, len, json, NULL);
    free(packed);
    return status;
}

td_status_t td_hit_record(td_xmset_t *mset, size_t index, char **json)
{
    td_xdoc_t *doc = NULL;
    td_status_t status = td_xmset_document(mset, index, &doc);
    if (status == TD_OK)
        status = record_of(doc, json);
    td_xdoc_free(doc);
    return status;
}

/* Appends the hits of `mset` (from index `from`, at most `max`). */
static td_status_t take_hits(run_t *r, td_xmset_t *mset, size_t from, size_t max)
{
    td_search_result_t *result = r->result;
    for (size_t i = from; i < td_xmset_size(mset) && max; i++, max--) {
        td_hit_t *hit = &result->hits[result->hit_count];
        memset(hit, 0, sizeof(*hit));
        char *data = NULL;
        td_status_t status = td_xmset_data(mset, i, &data, NULL);
        if (status != TD_OK)
            return xapian_fail(r, status, td_xmset_last_error(mset));
        hit->display = data;
        result->hit_count++;
        hit->rank = r->request->offset + (uint32_t) result->hit_count;
        hit->docid = td_xmset_docid(mset, i);
        hit->weight = td_xmset_weight(mset, i);
        if (r->result->has_patient) {
            hit->rules_out_patient = hit->weight < PATIENT_BONUS;
            if (!hit->rules_out_patient)
                hit->weight -= PATIENT_BONUS;
        }
        if (!r->parsed->geo.set && !r->request->explain && !r->request->snippets)
            continue;
        /* The whole record: every site, every text. */
        char *record = NULL;
        status = td_hit_record(mset, i, &record);
        if (status != TD_OK)
            return xapian_fail(r, status, "cannot read a trial's record");
        if (r->parsed->geo.set)
            nearest_site(&r->parsed->geo, record, hit);
        if (r->request->explain || r->request->snippets)
            status = td_explain_hit(r->searcher, mset, i, r->info, record, r->request->explain,
                                    r->request->snippets, hit);
        free(record);
        if (status != TD_OK)
            return xapian_fail(r, status, "cannot explain a hit");
    }
    return TD_OK;
}

/* Runs `query` sorted as asked; `first`/`max` page through it; *total gets
 * the exact match count; facets are counted when `spies`. */
static td_status_t run_one(run_t *r, const td_xquery_t *query, bool sorted, uint32_t first,
                           uint32_t max, bool spies, uint32_t *total)
{
    td_searcher_t *s = r->searcher;
    td_xenquire_t *enquire = NULL;
    td_xmset_t *mset = NULL;
    td_xspy_t *spy[TD_FACET_COUNT] = {0};
    td_status_t status = td_xenquire_new(s->db, &enquire);
    if (status != TD_OK)
        return xapian_fail(r, status, td_xdb_last_error(s->db));
    td_xenquire_set_query(enquire, query);
    td_xenquire_set_bm25(enquire, td_search_bm25(&s->settings));
    const td_search_request_t *request = r->request;
    if (sorted && request->sort != TD_SORT_RELEVANCE && request->sort != TD_SORT_DISTANCE) {
        unsigned slot = request->sort == TD_SORT_START     ? TD_SLOT_START_DATE
                        : request->sort == TD_SORT_UPDATED ? TD_SLOT_LAST_UPDATE_DATE
                                                           : TD_SLOT_ENROLLMENT;
        td_xenquire_set_sort(enquire, TD_XSORT_VALUE_THEN_RELEVANCE, slot, !request->ascending);
    }
    for (int f = 0; spies && f < TD_FACET_COUNT && status == TD_OK; f++)
        status = td_xenquire_add_spy(enquire, FACET_SLOTS[f], &spy[f]);
    if (status == TD_OK)
        status = td_xenquire_mset(enquire, first, max, s->doc_count, &mset);
    if (status != TD_OK) {
        xapian_fail(r, status, td_xenquire_last_error(enquire));
    } else {
        *total = td_xmset_matches_estimated(mset);
        status = take_hits(r, mset, 0, max);
        for (int f = 0; spies && f < TD_FACET_COUNT && status == TD_OK; f++)
            status = facet_counts(spy[f], &r->result->facets[f]);
        r->result->has_facets |= spies && status == TD_OK;
    }
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    return status;
}

static td_status_t run_query(run_t *r, const td_xquery_t *query)
{
    const td_search_request_t *request = r->request;
    td_search_result_t *result = r->result;
    result->hits = calloc(request->limit ? request->limit : 1, sizeof(*result->hits));
    if (!result->hits)
        return xapian_fail(r, TD_ERR_NO_MEMORY, "out of memory");
    if (!two_parts(request))
        return run_one(r, query, true, request->offset, request->limit, request->facets,
                       &result->total);
    td_xquery_t *with = NULL, *without = NULL;
    td_status_t status = split_sorted(request, &r->parsed->geo, query, &with, &without);
    uint32_t with_total = 0, without_total = 0;
    if (status == TD_OK)
        status = run_one(r, with, true, request->offset, request->limit, false, &with_total);
    if (status == TD_OK) {
        uint32_t taken = (uint32_t) result->hit_count;
        uint32_t first = request->offset > with_total ? request->offset - with_total : 0;
        status = run_one(r, without, false, first, request->limit - taken, false, &without_total);
    }
    uint32_t total = 0;
    if (status == TD_OK && request->facets)
        status = run_one(r, query, false, 0, 0, true, &total);
    result->total = with_total + without_total;
    td_xquery_free(with);
    td_xquery_free(without);
    if (status == TD_ERR_NO_MEMORY)
        xapian_fail(r, status, "out of memory");
    return status;
}

/* "Did you mean": words that match nothing anywhere, with a close word from
 * the spelling dictionary. Words with digits or in capitals (gene symbols,
 * codes, acronyms) are never corrected. */
static td_status_t suggest(run_t *r)
{
    td_searcher_t *s = r->searcher;
    const td_build_info_t *info = r->info;
    for (size_t i = 0; i < info->word_count; i++) {
        const td_qword_t *w = &info->words[i];
        bool plain = w->term_count > 0, has_upper = false;
        for (const char *c = w->query; *c; c++) {
            if (isdigit((unsigned char) *c) ||
                (!isalpha((unsigned char) *c) && *c != '-' && !((unsigned char) *c & 0x80)))
                plain = false;
            has_upper |= isupper((unsigned char) *c) != 0;
        }
        for (size_t k = 0; k < w->term_count && plain; k++)
            plain = w->terms[k][0] != '@' && w->terms[k][0] != '#';
        if (!plain || (has_upper && strlen(w->query) <= 6))
            continue;
        bool known = false;
        for (size_t k = 0; k < w->term_count && !known; k++) {
            const char *term = w->terms[k];
            bool stem = term[0] == 'Z';
            for (int f = 0; f < TD_FIELD_COUNT && !known; f++) {
                char full[300];
                snprintf(full, sizeof(full), "%s%s%s", stem ? TD_PREFIX_STEM : "",
                         td_field_prefix((td_field_t) f), term + (stem ? 1 : 0));
                td_xdb_term_exists(s->db, full, &known);
            }
        }
        if (known)
            continue;
        char lower[256];
        size_t n = 0;
        for (const char *c = w->query; *c && n + 1 < sizeof(lower); c++)
            lower[n++] = (char) tolower((unsigned char) *c);
        lower[n] = '\0';
        char *suggestion = NULL;
        if (td_xdb_spelling_suggestion(s->db, lower, 2, &suggestion) != TD_OK || !suggestion)
            continue;
        if (strcmp(suggestion, lower) == 0) {
            free(suggestion);
            continue;
        }
        td_search_result_t *result = r->result;
        td_suggestion_t *grown =
            realloc(result->suggestions, (result->suggestion_count + 1) * sizeof(*grown));
        if (!grown) {
            free(suggestion);
            return TD_ERR_NO_MEMORY;
        }
        result->suggestions = grown;
        result->suggestions[result->suggestion_count].word = strdup(w->query);
        result->suggestions[result->suggestion_count++].suggestion = suggestion;
    }
    return TD_OK;
}

static td_status_t search_once(td_searcher_t *s, const td_search_request_t *request,
                               const td_parsed_query_t *parsed, bool partial,
                               td_search_result_t *result, td_query_error_t *qerr)
{
    td_build_info_t info = {0};
    td_xquery_t *query = NULL;
    td_status_t status = build_request(s, parsed, partial, &info, &query, qerr);
    if (status == TD_OK) {
        run_t r = {.searcher = s,
                   .request = request,
                   .result = result,
                   .parsed = parsed,
                   .info = &info,
                   .qerr = qerr};
        /* A description of more words than any trial will hold together is
         * matched partially straight away. */
        bool description = !partial && request->partial_ok && parsed->has_text &&
                           info.word_count > DESCRIPTION_WORDS;
        result->has_patient = parsed->has_patient;
        result->patient = parsed->patient;
        status = description ? TD_OK : run_query(&r, query);
        if (status == TD_OK && !description && (result->total == 0 || partial))
            status = suggest(&r);
        result->partial = partial;
        if (status == TD_OK && result->total == 0 && !partial && request->partial_ok &&
            parsed->has_text)
            status = TD_DONE; /* try the partial fallback */
        if (description)
            status = TD_DONE;
    }
    td_xquery_free(query);
    td_build_info_clear(&info);
    return status;
}

static void result_reset(td_search_result_t *result)
{
    td_search_result_t *copy = malloc(sizeof(*copy));
    if (copy) {
        *copy = *result;
        td_search_result_free(copy);
    }
    memset(result, 0, sizeof(*result));
}

td_status_t td_search(td_searcher_t *s, const td_search_request_t *request,
                      td_search_result_t **out, td_query_error_t *qerr)
{
    double start = now();
    td_search_result_t *result = calloc(1, sizeof(*result));
    if (!result)
        return search_fail(qerr, TD_ERR_NO_MEMORY, "out of memory");
    td_status_t status = TD_ERR_MODIFIED;
    /* A database changed underneath a reader is reopened once and the
     * search run again. */
    for (int attempt = 0; attempt < 2 && status == TD_ERR_MODIFIED; attempt++) {
        if (attempt) {
            bool changed;
            td_xdb_reopen(s->db, &changed);
            td_xdb_revision(s->db, &s->revision);
            td_xdb_doc_count(s->db, &s->doc_count);
            result_reset(result);
        }
        result->revision = s->revision;
        td_parsed_query_t parsed;
        status = parse_request(s, request, &parsed, qerr);
        if (status == TD_OK)
            status = search_once(s, request, &parsed, false, result, qerr);
        if (status == TD_DONE) {
            result_reset(result);
            result->revision = s->revision;
            status = search_once(s, request, &parsed, true, result, qerr);
            /* Nothing even partly: no partial matches to label (the filters
             * may be what left nothing). */
            if (status == TD_OK && result->total == 0)
                result->partial = false;
        }
        td_parsed_query_clear(&parsed); /* a failed parse leaves it empty */
    }
    if (status != TD_OK) {
        td_search_result_free(result);
        return status;
    }
    result->seconds = now() - start;
    *out = result;
    return TD_OK;
}

/* ---- show ---- */

td_status_t td_search_show(td_searcher_t *s, const char *id, char **json)
{
    char nct[TD_NCT_ID_LEN + 1], term[300];
    td_xdocid_t docid = 0;
    td_status_t status = TD_ERR_NOT_FOUND;
    if (td_nct_id_parse(id, strlen(id), nct)) {
        snprintf(term, sizeof(term), TD_PREFIX_ID "%s", nct);
        status = td_xdb_find_unique(s->db, term, &docid);
    }
    if (status == TD_ERR_NOT_FOUND) {
        int n = snprintf(term, sizeof(term), TD_PREFIX_OTHER_ID "%s", id);
        for (int i = (int) strlen(TD_PREFIX_OTHER_ID); i < n; i++)
            term[i] = (char) tolower((unsigned char) term[i]);
        status = td_xdb_find_unique(s->db, term, &docid);
    }
    if (status != TD_OK)
        return status == TD_ERR_NOT_FOUND ? status : TD_ERR_IO;
    td_xdoc_t *doc = NULL;
    status = td_xdb_get_document(s->db, docid, &doc);
    if (status == TD_OK)
        status = record_of(doc, json);
    td_xdoc_free(doc);
    return status == TD_OK || status == TD_ERR_NO_MEMORY ? status : TD_ERR_IO;
}

/* ---- page tokens ---- */

static uint64_t request_hash(const td_search_request_t *request)
{
    char head[64];
    int n = snprintf(head, sizeof(head), "%s:%d:%u:", td_sort_name(request->sort),
                     request->ascending, request->limit);
    uint64_t hash = td_hash64(head, (size_t) n, TD_HASH64_FNV_OFFSET_BASIS);
    return td_hash64(request->query, strlen(request->query), hash);
}

char *td_page_token_make(const td_search_request_t *request, const td_search_result_t *result)
{
    uint64_t next = (uint64_t) request->offset + request->limit;
    if (!request->limit || next >= result->total)
        return NULL;
    char token[96];
    snprintf(token, sizeof(token), "r%llu-o%llu-%016llx", (unsigned long long) result->revision,
             (unsigned long long) next, (unsigned long long) request_hash(request));
    return strdup(token);
}

td_status_t td_page_token_apply(const char *token, td_searcher_t *s, td_search_request_t *request,
                                char **error)
{
    unsigned long long revision, offset, hash;
    int used = 0;
    if (sscanf(token, "r%llu-o%llu-%16llx%n", &revision, &offset, &hash, &used) != 3 ||
        token[used] || offset > UINT32_MAX)
        return message_fail(error, "'%s' is not a page token", token);
    if (hash != request_hash(request))
        return message_fail(error, "this page token belongs to another query, sort or page size: "
                                   "repeat the query, sort and --limit it was made with");
    if (revision != s->revision) {
        if (error) {
            char message[256];
            snprintf(message, sizeof(message),
                     "the index changed since this page token was made (revision %llu, now "
                     "%llu): run the query again",
                     revision, (unsigned long long) s->revision);
            *error = strdup(message);
        }
        return TD_ERR_MODIFIED;
    }
    request->offset = (uint32_t) offset;
    return TD_OK;
}
