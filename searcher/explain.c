/* explain.c - why a hit matched, and its snippet.
 *
 * The matching terms Xapian reports for a hit are mapped back to fields
 * (by prefix) and to the query words that produced them. A concept match
 * whose query words the trial does not have is an expansion; the trial's
 * own words for it are found by analyzing the field's text, so the user
 * sees "matched via DS-8201a".
 *
 * Snippets come from the analyzer too: a token is highlighted when one of
 * its terms (word, stem, concept, canonical) is a term of the query.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search_internal.h"
#include "td_schema.h"

#define SNIPPET_BYTES 220

/* The field of a prefixed term, and where the unprefixed part starts;
 * TD_FIELD_COUNT for an all-fields (unprefixed) term. Terms are lower case
 * after their prefix, so a leading 'Z' is always the stem mark. */
static td_field_t field_of(const char *term, const char **rest, bool *stem)
{
    *stem = term[0] == 'Z';
    const char *t = term + (*stem ? 1 : 0);
    td_field_t best = TD_FIELD_COUNT;
    size_t best_len = 0;
    for (int f = 0; f < TD_FIELD_COUNT; f++) {
        const char *prefix = td_field_prefix((td_field_t) f);
        size_t len = strlen(prefix);
        if (len > best_len && strncmp(t, prefix, len) == 0) {
            best = (td_field_t) f;
            best_len = len;
        }
    }
    *rest = t + best_len;
    return best;
}

/* The terms of hit `index`, in byte order. */
static td_status_t document_terms(td_searcher_t *s, td_xmset_t *mset, size_t index,
                                  td_xlist_t **out)
{
    td_xdoc_t *doc = NULL;
    td_status_t status = td_xdb_get_document(s->db, td_xmset_docid(mset, index), &doc);
    if (status == TD_OK)
        status = td_xdoc_terms(doc, out);
    td_xdoc_free(doc);
    return status;
}

/* Whether the sorted list `terms` holds `term`. */
static bool has_term(const td_xlist_t *terms, const char *term)
{
    size_t low = 0, high = td_xlist_count(terms);
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int order = strcmp(td_xlist_string(terms, mid, NULL), term);
        if (order == 0)
            return true;
        if (order < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return false;
}

/* The fields whose own copy of the all-fields term `rest` (a stem when
 * `stem`) the trial has, among those that score: where it matched.
 * Returns how many, written to fields[]. */
static size_t fields_holding(td_searcher_t *s, const td_xlist_t *doc_terms, const char *rest,
                             bool stem, td_field_t *fields)
{
    size_t n = 0;
    for (int f = 0; f < TD_FIELD_COUNT && doc_terms; f++) {
        if (s->settings.boost[f] <= 0 || f == TD_FIELD_BIOMARKER)
            continue;
        /* A word that is its own stem is held as the stem (td_schema.h). */
        char term[300];
        snprintf(term, sizeof(term), "Z%s%s", td_field_prefix((td_field_t) f), rest);
        bool found = has_term(doc_terms, term + (stem ? 0 : 1));
        if (!found && !stem)
            found = has_term(doc_terms, term);
        if (found)
            fields[n++] = (td_field_t) f;
    }
    return n;
}

/* The query word whose alternatives include `term` (unprefixed, stems as
 * "Z..."), or NULL. */
static const td_qword_t *query_word(const td_build_info_t *info, const char *term, bool stem)
{
    for (size_t i = 0; i < info->word_count; i++)
        for (size_t k = 0; k < info->words[i].term_count; k++) {
            const char *t = info->words[i].terms[k];
            if (stem ? (t[0] == 'Z' && strcmp(t + 1, term) == 0) : strcmp(t, term) == 0)
                return &info->words[i];
        }
    return NULL;
}

/* Text values of the record that feed a field (td_schema.h), appended to
 * `out` (NUL-separated). */
static const char *const *field_keys(td_field_t field)
{
    static const char *const title[] = {"briefTitle", "officialTitle", "acronym", NULL};
    static const char *const condition[] = {"conditions", "conditionMeshTerms", NULL};
    static const char *const keyword[] = {"keywords", NULL};
    static const char *const intervention[] = {"interventions", "interventionMeshTerms", NULL};
    static const char *const summary[] = {"briefSummary", "detailedDescription", NULL};
    static const char *const outcome[] = {"primaryOutcomes", "secondaryOutcomes", NULL};
    static const char *const criteria[] = {"eligibilityCriteria", NULL};
    static const char *const sponsor[] = {"leadSponsor", "collaborators", NULL};
    static const char *const site[] = {"locations", NULL};
    static const char *const arm[] = {"armGroups", NULL};
    static const char *const everything[] = {
        "briefTitle",      "officialTitle",     "conditions",          "keywords",
        "interventions",   "briefSummary",      "detailedDescription", "eligibilityCriteria",
        "primaryOutcomes", "secondaryOutcomes", "armGroups",           NULL};
    switch (field) {
    case TD_FIELD_TITLE:
        return title;
    case TD_FIELD_CONDITION:
        return condition;
    case TD_FIELD_KEYWORD:
        return keyword;
    case TD_FIELD_INTERVENTION:
        return intervention;
    case TD_FIELD_SUMMARY:
        return summary;
    case TD_FIELD_OUTCOME:
        return outcome;
    case TD_FIELD_INCLUSION:
    case TD_FIELD_EXCLUSION:
        return criteria;
    case TD_FIELD_SPONSOR:
        return sponsor;
    case TD_FIELD_SITE:
        return site;
    case TD_FIELD_ARM:
        return arm;
    default:
        return everything;
    }
}

/* Calls `visit` on every string inside `value` (arrays and objects
 * recursively) until it returns true. */
static bool each_string(json_t *value, bool (*visit)(const char *, size_t, void *), void *user)
{
    if (json_is_string(value))
        return visit(json_string_value(value), json_string_length(value), user);
    size_t i;
    json_t *item;
    const char *key;
    if (json_is_array(value)) {
        json_array_foreach(value, i, item) if (each_string(item, visit, user)) return true;
    } else if (json_is_object(value)) {
        json_object_foreach(value, key, item)
        {
            (void) key;
            if (each_string(item, visit, user))
                return true;
        }
    }
    return false;
}

typedef struct via_search {
    td_analysis_t *analysis;
    const char *concept; /* with its mark: "@x" or "#x" */
    char *found;
} via_search_t;

static bool find_concept(const char *text, size_t len, void *user)
{
    via_search_t *v = user;
    if (td_analyze(v->analysis, text, len, TD_ANALYZE_DOCUMENT, 0) != TD_OK)
        return false;
    bool concept = v->concept[0] == '@';
    for (size_t i = 0; i < td_analysis_count(v->analysis); i++) {
        const td_term_t *t = td_analysis_term(v->analysis, i);
        if (t->kind == (concept ? TD_TERM_CONCEPT : TD_TERM_CANONICAL) &&
            strcmp(t->text, v->concept + 1) == 0) {
            v->found = strndup(text + t->start, t->end - t->start);
            return true;
        }
    }
    return false;
}

/* The trial's own words for a concept in a field, malloc'd, or NULL. */
static char *via_words(td_searcher_t *s, json_t *record, td_field_t field, const char *concept)
{
    via_search_t v = {.analysis = s->analysis, .concept = concept};
    for (const char *const *key = field_keys(field); *key && !v.found; key++)
        each_string(json_object_get(record, *key), find_concept, &v);
    return v.found;
}

static char *readable(const char *term, bool stem, const td_qword_t *word)
{
    if (stem || (term[0] != '@' && term[0] != '#'))
        return strdup(word ? word->query : term);
    char *out = strdup(term + 1);
    for (char *c = out; c && *c; c++)
        if (*c == '_')
            *c = ' ';
    return out;
}

/* Whether `own` (the trial's words) is within `query` (the user's),
 * ignoring case: then the match is no expansion. */
static bool within_query(const char *own, const char *query)
{
    size_t n = strlen(own);
    for (const char *q = query; strlen(q) >= n; q++)
        if (strncasecmp(q, own, n) == 0)
            return true;
    return false;
}

static td_status_t add_match(td_hit_t *hit, const char *field, char *term, const char *query,
                             char *via)
{
    for (size_t i = 0; i < hit->match_count; i++)
        if (strcmp(hit->matches[i].field, field) == 0 && strcmp(hit->matches[i].term, term) == 0) {
            free(term);
            free(via);
            return TD_OK;
        }
    td_match_t *grown = realloc(hit->matches, (hit->match_count + 1) * sizeof(*grown));
    if (!grown) {
        free(term);
        free(via);
        return TD_ERR_NO_MEMORY;
    }
    hit->matches = grown;
    hit->matches[hit->match_count++] =
        (td_match_t){.field = field, .term = term, .query = strdup(query), .via = via};
    return TD_OK;
}

static td_status_t explain_matches(td_searcher_t *s, td_xmset_t *mset, size_t index,
                                   const td_build_info_t *info, json_t *record, td_hit_t *hit)
{
    td_xlist_t *terms = NULL, *doc_terms = NULL;
    td_status_t status = td_xmset_matching_terms(mset, index, &terms);
    if (status != TD_OK)
        return status;
    for (size_t i = 0; i < td_xlist_count(terms) && status == TD_OK; i++) {
        const char *term = td_xlist_string(terms, i, NULL), *rest;
        bool stem;
        td_field_t field = field_of(term, &rest, &stem);
        if (field == TD_FIELD_COUNT && (term[0] == 'Q' || strncmp(term, "XY", 2) == 0 ||
                                        strncmp(term, TD_PREFIX_FILTER, 2) == 0))
            continue; /* IDs and filters */
        const td_qword_t *word = query_word(info, rest, stem);
        if (!word)
            continue;
        /* An all-fields term matched in each field that holds it. */
        td_field_t fields[TD_FIELD_COUNT] = {field};
        size_t field_count = 1;
        if (field == TD_FIELD_COUNT) {
            if (!doc_terms && (status = document_terms(s, mset, index, &doc_terms)) != TD_OK)
                break;
            field_count = fields_holding(s, doc_terms, rest, stem, fields);
        }
        for (size_t k = 0; k < field_count && status == TD_OK; k++) {
            char *via = NULL;
            if ((rest[0] == '@' || rest[0] == '#') && record) {
                char *own = via_words(s, record, fields[k], rest);
                if (own && !within_query(own, word->query))
                    via = own;
                else
                    free(own);
            }
            status = add_match(hit, td_field_name(fields[k]), readable(rest, stem, word),
                               word->query, via);
        }
    }
    td_xlist_free(doc_terms);
    td_xlist_free(terms);
    return status;
}

/* ---- snippets ---- */

static bool is_query_term(const td_build_info_t *info, const td_term_t *t)
{
    char term[300];
    const char *mark = t->kind == TD_TERM_STEM        ? TD_PREFIX_STEM
                       : t->kind == TD_TERM_CONCEPT   ? TD_MARK_CONCEPT
                       : t->kind == TD_TERM_CANONICAL ? TD_MARK_CANONICAL
                                                      : "";
    snprintf(term, sizeof(term), "%s%s", mark, t->text);
    for (size_t i = 0; i < info->word_count; i++)
        for (size_t k = 0; k < info->words[i].term_count; k++)
            if (strcmp(info->words[i].terms[k], term) == 0)
                return true;
    return false;
}

static bool utf8_continuation(char c)
{
    return ((unsigned char) c & 0xC0) == 0x80;
}

/* Builds the snippet of `text` around its densest run of query words. */
static td_status_t make_snippet(td_searcher_t *s, const td_build_info_t *info, const char *field,
                                const char *text, size_t len, td_snippet_t *out, size_t *hits)
{
    *hits = 0;
    if (td_analyze(s->analysis, text, len, TD_ANALYZE_DOCUMENT, 0) != TD_OK)
        return TD_ERR_NO_MEMORY;
    size_t count = td_analysis_count(s->analysis);
    td_span_t *spans = malloc((count ? count : 1) * sizeof(*spans));
    if (!spans)
        return TD_ERR_NO_MEMORY;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const td_term_t *t = td_analysis_term(s->analysis, i);
        if (!is_query_term(info, t))
            continue;
        if (n && spans[n - 1].end >= t->start) { /* overlapping spans merge */
            if (t->end > spans[n - 1].end)
                spans[n - 1].end = t->end;
            continue;
        }
        spans[n++] = (td_span_t){t->start, t->end};
    }
    *hits = n;
    /* The window of SNIPPET_BYTES holding the most spans. */
    size_t best = 0, best_count = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (j < n && spans[j].end - spans[i].start <= SNIPPET_BYTES)
            j++;
        if (j - i > best_count) {
            best_count = j - i;
            best = i;
        }
    }
    size_t start = n ? spans[best].start : 0;
    /* Some context before the first match, from a word start. */
    start = start > 40 ? start - 40 : 0;
    while (start > 0 && start < len && text[start - 1] != ' ')
        start++;
    size_t end = start + SNIPPET_BYTES < len ? start + SNIPPET_BYTES : len;
    while (end < len && end > start && text[end] != ' ' && end - start < SNIPPET_BYTES + 30)
        end++;
    while (end < len && utf8_continuation(text[end]))
        end++;
    bool cut_start = start > 0, cut_end = end < len;
    size_t size = (end - start) + 8;
    char *snippet = malloc(size);
    if (!snippet) {
        free(spans);
        return TD_ERR_NO_MEMORY;
    }
    size_t at = 0;
    if (cut_start) {
        memcpy(snippet, "\xe2\x80\xa6", 3);
        at = 3;
    }
    size_t shift = at;
    for (size_t i = start; i < end; i++)
        snippet[at++] = (text[i] == '\n' || text[i] == '\r' || text[i] == '\t') ? ' ' : text[i];
    if (cut_end) {
        memcpy(snippet + at, "\xe2\x80\xa6", 3);
        at += 3;
    }
    snippet[at] = '\0';
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (spans[i].start >= start && spans[i].end <= end)
            spans[kept++] = (td_span_t){(uint32_t) (spans[i].start - start + shift),
                                        (uint32_t) (spans[i].end - start + shift)};
    out->field = field;
    out->text = snippet;
    out->spans = spans;
    out->span_count = kept;
    return TD_OK;
}

static td_status_t choose_snippet(td_searcher_t *s, const td_build_info_t *info, json_t *record,
                                  td_hit_t *hit)
{
    static const struct {
        const char *key;
        const char *field;
    } sources[] = {{"briefSummary", "summary"},
                   {"officialTitle", "title"},
                   {"detailedDescription", "summary"},
                   {"eligibilityCriteria", "eligibility"}};
    td_snippet_t fallback = {0};
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        json_t *value = json_object_get(record, sources[i].key);
        if (!json_is_string(value))
            continue;
        td_snippet_t snippet = {0};
        size_t hits = 0;
        td_status_t status = make_snippet(s, info, sources[i].field, json_string_value(value),
                                          json_string_length(value), &snippet, &hits);
        if (status != TD_OK) {
            free(fallback.text);
            free(fallback.spans);
            return status;
        }
        if (hits) {
            free(fallback.text);
            free(fallback.spans);
            hit->snippet = snippet;
            return TD_OK;
        }
        if (!fallback.text)
            fallback = snippet;
        else {
            free(snippet.text);
            free(snippet.spans);
        }
    }
    hit->snippet = fallback;
    return TD_OK;
}

td_status_t td_explain_hit(td_searcher_t *s, td_xmset_t *mset, size_t index,
                           const td_build_info_t *info, const char *full_json, bool matches,
                           bool snippet, td_hit_t *hit)
{
    json_t *record = json_loads(full_json, 0, NULL);
    td_status_t status = TD_OK;
    if (matches)
        status = explain_matches(s, mset, index, info, record, hit);
    if (status == TD_OK && snippet && record)
        status = choose_snippet(s, info, record, hit);
    json_decref(record);
    return status;
}
