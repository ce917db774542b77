/* build.c - query nodes into Xapian queries.
 *
 * Text goes through the analyzer in query mode and comes out as units, one
 * per word position. A unit matches when any of its alternatives does:
 *   - a word with an English stem matches through the stem (Z<F>stem),
 *     which the index holds for every field; a word without one (a gene
 *     symbol, a drug name, a code) matches as itself (<F>word);
 *   - a canonical token ("her2_neg", "cdk4_6") replaces the words it was
 *     read from, so "HER2-" never matches a plain "HER2";
 *   - a lexicon concept ("trastuzumab_deruxtecan", "cdk4_6_inhibitor")
 *     joins every unit inside its span: synonyms and drug classes expand.
 * With `=word` there are no concepts and no stems (td_schema.h: long fields
 * hold stems only, so there the stem stands in).
 *
 * Every unit is required (all words must match), unless building the
 * partial fallback, which ORs them. With the boosts the index was built
 * with (the defaults), a unit searches every field through the all-fields
 * terms (td_schema.h): one OP_SYNONYM of its alternatives, weighted by
 * field in the index itself. A unit in one field (`title:`), or under other
 * boosts, searches each field with the field's boost (OP_SCALE_WEIGHT over
 * OP_SYNONYM of its terms there); fields with boost 0 are not searched
 * unless named (`exc:`), and then only filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"
#include "td_schema.h"
#include "td_trial.h"

#define MAX_TERM 240
#define MAX_ALTERNATIVES 24
#define MAX_UNITS 512
/* Partial matching searches the fields with at least this boost. */
#define PARTIAL_MIN_BOOST 0.5
/* Most words a wildcard may expand to in one field. */
#define MAX_WILDCARD_TERMS 500
/* The all-fields terms, as a field (td_schema.h); also what
 * td_field_name() calls "" */
#define ALL_FIELDS TD_FIELD_COUNT

typedef enum alt_kind { ALT_WORD, ALT_STEM, ALT_CANONICAL, ALT_CONCEPT } alt_kind_t;

typedef struct alternative {
    alt_kind_t kind;
    char text[MAX_TERM + 1];
} alternative_t;

typedef struct unit {
    uint32_t position;
    uint32_t start, end; /* bytes of the query text it came from */
    alternative_t alts[MAX_ALTERNATIVES];
    size_t count;
    bool has_canonical;
} unit_t;

typedef struct builder {
    td_searcher_t *searcher;
    td_build_info_t *info;
    td_query_error_t *error;
    bool partial;
    bool all_fields; /* the boosts are the index's: unscoped units use ALL_FIELDS */
    td_status_t status;
} builder_t;

static const struct {
    const char *name;
    const char *prefix;
    bool long_text; /* stems only (td_schema.h) */
    bool positional;
} FIELDS[TD_FIELD_COUNT + 1] = {
    [TD_FIELD_TITLE] = {"title", TD_PREFIX_TITLE, false, true},
    [TD_FIELD_CONDITION] = {"condition", TD_PREFIX_CONDITION, false, true},
    [TD_FIELD_KEYWORD] = {"keyword", TD_PREFIX_KEYWORD, false, true},
    [TD_FIELD_INTERVENTION] = {"intervention", TD_PREFIX_INTERVENTION, false, true},
    [TD_FIELD_BIOMARKER] = {"biomarker", TD_PREFIX_BIOMARKER, false, false},
    [TD_FIELD_SUMMARY] = {"summary", TD_PREFIX_DESCRIPTION, true, false},
    [TD_FIELD_OUTCOME] = {"outcome", TD_PREFIX_OUTCOME, true, false},
    [TD_FIELD_INCLUSION] = {"inclusion", TD_PREFIX_INCLUSION, true, false},
    [TD_FIELD_EXCLUSION] = {"exclusion", TD_PREFIX_EXCLUSION, true, false},
    [TD_FIELD_SPONSOR] = {"sponsor", TD_PREFIX_SPONSOR, false, true},
    [TD_FIELD_SITE] = {"site", TD_PREFIX_LOCATION, true, false},
    [TD_FIELD_ARM] = {"arm", TD_PREFIX_ARM, true, false},
    [ALL_FIELDS] = {"", "", false, true},
};

const char *td_field_name(td_field_t field)
{
    return field < TD_FIELD_COUNT ? FIELDS[field].name : "";
}

const char *td_field_prefix(td_field_t field)
{
    return field < TD_FIELD_COUNT ? FIELDS[field].prefix : "";
}

void td_build_info_clear(td_build_info_t *info)
{
    for (size_t i = 0; i < info->word_count; i++) {
        free(info->words[i].query);
        for (size_t k = 0; k < info->words[i].term_count; k++)
            free(info->words[i].terms[k]);
        free(info->words[i].terms);
    }
    free(info->words);
    memset(info, 0, sizeof(*info));
}

static td_xquery_t *fail_memory(builder_t *b)
{
    if (b->status == TD_OK) {
        b->status = TD_ERR_NO_MEMORY;
        td_query_fail(b->error, 0, NULL, "out of memory");
    }
    return NULL;
}

/* ---- small query helpers; each frees nothing it is given ---- */

static td_xquery_t *term_query(builder_t *b, const char *term)
{
    td_xquery_t *q = NULL;
    if (td_xquery_new_term(term, 1, 0, &q) != TD_OK)
        return fail_memory(b);
    return q;
}

static td_xquery_t *compound(builder_t *b, td_xop_t op, td_xquery_t **children, size_t count,
                             uint32_t window)
{
    td_xquery_t *q = NULL;
    if (td_xquery_new_compound(op, (const td_xquery_t *const *) children, count, window, &q) !=
        TD_OK)
        return fail_memory(b);
    return q;
}

static td_xquery_t *scaled(builder_t *b, td_xquery_t *query, double factor)
{
    td_xquery_t *q = NULL;
    if (td_xquery_new_scaled(query, factor, &q) != TD_OK)
        return fail_memory(b);
    return q;
}

/* Combines and frees `children` (NULLs are skipped); NULL when none. */
static td_xquery_t *combine(builder_t *b, td_xop_t op, td_xquery_t **children, size_t count,
                            uint32_t window)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (children[i])
            children[kept++] = children[i];
    td_xquery_t *q = NULL;
    if (kept == 1 && op != TD_XOP_PHRASE && op != TD_XOP_NEAR)
        return children[0];
    if (kept)
        q = compound(b, op, children, kept, window);
    for (size_t i = 0; i < kept; i++)
        td_xquery_free(children[i]);
    return q;
}

/* Scales and frees `query`. */
static td_xquery_t *scale_owned(builder_t *b, td_xquery_t *query, double factor)
{
    if (!query || factor == 1.0)
        return query;
    td_xquery_t *q = scaled(b, query, factor);
    td_xquery_free(query);
    return q;
}

/* ---- analysis into units ---- */

static bool add_alternative(unit_t *u, alt_kind_t kind, const char *text)
{
    if (u->count == MAX_ALTERNATIVES || strlen(text) > MAX_TERM)
        return false;
    for (size_t i = 0; i < u->count; i++)
        if (u->alts[i].kind == kind && strcmp(u->alts[i].text, text) == 0)
            return true;
    u->alts[u->count].kind = kind;
    snprintf(u->alts[u->count].text, sizeof(u->alts[u->count].text), "%s", text);
    u->count++;
    return true;
}

static unit_t *unit_at(unit_t *units, size_t *count, uint32_t position, uint32_t start,
                       uint32_t end)
{
    for (size_t i = 0; i < *count; i++)
        if (units[i].position == position) {
            if (start < units[i].start)
                units[i].start = start;
            if (end > units[i].end)
                units[i].end = end;
            return &units[i];
        }
    if (*count == MAX_UNITS)
        return NULL;
    unit_t *u = &units[(*count)++];
    memset(u, 0, sizeof(*u));
    u->position = position;
    u->start = start;
    u->end = end;
    return u;
}

/* Analyzes `text` into units in position order; returns how many. */
static size_t analyze_units(builder_t *b, const char *text, bool exact, unit_t *units)
{
    td_analysis_t *analysis = b->searcher->analysis;
    if (td_analyze(analysis, text, strlen(text), TD_ANALYZE_QUERY, 0) != TD_OK) {
        fail_memory(b);
        return 0;
    }
    size_t count = 0, terms = td_analysis_count(analysis);
    bool expand = b->searcher->settings.expand;
    /* Words, stems and canonical tokens make the units... */
    for (size_t i = 0; i < terms; i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == TD_TERM_CONCEPT || (!expand && t->kind == TD_TERM_CANONICAL))
            continue;
        unit_t *u = unit_at(units, &count, t->position, t->start, t->end);
        if (!u)
            break;
        alt_kind_t kind = t->kind == TD_TERM_WORD   ? ALT_WORD
                          : t->kind == TD_TERM_STEM ? ALT_STEM
                                                    : ALT_CANONICAL;
        add_alternative(u, kind, t->text);
        u->has_canonical |= kind == ALT_CANONICAL;
    }
    /* ... and concepts join every unit inside their span, or stand alone. */
    for (size_t i = 0; i < terms && !exact && expand; i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind != TD_TERM_CONCEPT)
            continue;
        bool placed = false;
        for (size_t k = 0; k < count; k++)
            if (units[k].start >= t->start && units[k].end <= t->end) {
                add_alternative(&units[k], ALT_CONCEPT, t->text);
                placed = true;
            }
        /* A concept inside a canonical token ("HER2" in "HER2-") is less
         * than it: it must not widen the token back to any HER2. */
        bool inside = false;
        for (size_t k = 0; k < count && !placed; k++)
            inside |= units[k].position == t->position;
        if (!placed && !inside) {
            unit_t *u = unit_at(units, &count, t->position, t->start, t->end);
            if (u)
                add_alternative(u, ALT_CONCEPT, t->text);
        }
    }
    /* Position order (units were made in term order, which is position
     * order but for stand-alone concepts). */
    for (size_t i = 1; i < count; i++)
        for (size_t k = i; k > 0 && units[k].position < units[k - 1].position; k--) {
            unit_t swap = units[k];
            units[k] = units[k - 1];
            units[k - 1] = swap;
        }
    return count;
}

/* The stem of the word alternative `word`, if the unit has one. */
static const char *stem_of(const unit_t *u)
{
    for (size_t i = 0; i < u->count; i++)
        if (u->alts[i].kind == ALT_STEM)
            return u->alts[i].text;
    return NULL;
}

static bool is_biomarker_concept(builder_t *b, const char *concept)
{
    const char *kind = td_analyzer_concept_kind(b->searcher->analyzer, concept);
    return kind && (strcmp(kind, "gene") == 0 || strcmp(kind, "assay") == 0);
}

/* The terms of unit `u` in field `f`, written to terms[]; returns how many. */
static size_t field_terms(builder_t *b, const unit_t *u, td_field_t f, bool exact,
                          char terms[][MAX_TERM + 8], size_t max)
{
    const char *prefix = FIELDS[f].prefix;
    const char *stem = stem_of(u);
    size_t n = 0;
    for (size_t i = 0; i < u->count && n < max; i++) {
        const alternative_t *a = &u->alts[i];
        if (f == TD_FIELD_BIOMARKER) {
            if (a->kind == ALT_CANONICAL ||
                (a->kind == ALT_CONCEPT && is_biomarker_concept(b, a->text)))
                snprintf(terms[n++], MAX_TERM + 8, "%s%s%s", prefix,
                         a->kind == ALT_CANONICAL ? TD_MARK_CANONICAL : TD_MARK_CONCEPT, a->text);
            continue;
        }
        switch (a->kind) {
        case ALT_CANONICAL:
            snprintf(terms[n++], MAX_TERM + 8, "%s" TD_MARK_CANONICAL "%s", prefix, a->text);
            break;
        case ALT_CONCEPT:
            snprintf(terms[n++], MAX_TERM + 8, "%s" TD_MARK_CONCEPT "%s", prefix, a->text);
            break;
        case ALT_STEM:
            if (!u->has_canonical && (!exact || FIELDS[f].long_text))
                snprintf(terms[n++], MAX_TERM + 8, TD_PREFIX_STEM "%s%s", prefix, a->text);
            break;
        case ALT_WORD:
            if (u->has_canonical)
                break;
            if (!stem) /* no stem: kept as it is everywhere */
                snprintf(terms[n++], MAX_TERM + 8, "%s%s", prefix, a->text);
            else if (exact && !FIELDS[f].long_text)
                snprintf(terms[n++], MAX_TERM + 8, "%s%s%s",
                         strcmp(stem, a->text) == 0 ? TD_PREFIX_STEM : "", prefix, a->text);
            break;
        }
    }
    return n;
}

/* Records a unit for explanations, snippets and suggestions. */
static void remember(builder_t *b, const char *text, const unit_t *u)
{
    td_build_info_t *info = b->info;
    if (!info || b->status != TD_OK)
        return;
    if (info->word_count == info->word_capacity) {
        size_t capacity = info->word_capacity ? info->word_capacity * 2 : 16;
        td_qword_t *grown = realloc(info->words, capacity * sizeof(*grown));
        if (!grown) {
            fail_memory(b);
            return;
        }
        info->words = grown;
        info->word_capacity = capacity;
    }
    td_qword_t *w = &info->words[info->word_count];
    memset(w, 0, sizeof(*w));
    w->query = strndup(text + u->start, u->end - u->start);
    w->terms = calloc(u->count ? u->count : 1, sizeof(char *));
    if (!w->query || !w->terms) {
        free(w->query);
        free(w->terms);
        fail_memory(b);
        return;
    }
    for (size_t i = 0; i < u->count; i++) {
        const alternative_t *a = &u->alts[i];
        if (u->has_canonical && (a->kind == ALT_WORD || a->kind == ALT_STEM))
            continue;
        const char *mark = a->kind == ALT_STEM        ? TD_PREFIX_STEM
                           : a->kind == ALT_CANONICAL ? TD_MARK_CANONICAL
                           : a->kind == ALT_CONCEPT   ? TD_MARK_CONCEPT
                                                      : "";
        size_t len = strlen(mark) + strlen(a->text) + 1;
        char *term = malloc(len);
        if (!term) {
            fail_memory(b);
            break;
        }
        snprintf(term, len, "%s%s", mark, a->text);
        w->terms[w->term_count++] = term;
    }
    info->word_count++;
}

/* A field's boost; the all-fields terms carry theirs in the index. */
static double field_boost(const builder_t *b, td_field_t f)
{
    return f == ALL_FIELDS ? 1.0 : b->searcher->settings.boost[f];
}

/* The fields a scope searches: the one named; else the all-fields terms,
 * when the boosts are the index's and the words are not exact (long fields
 * hold no exact words); else every field with a boost. */
static size_t scope_fields(builder_t *b, int scope, bool exact, td_field_t *fields)
{
    size_t n = 0;
    if (scope >= 0) {
        fields[n++] = (td_field_t) scope;
        return n;
    }
    if (b->all_fields && !exact) {
        fields[n++] = ALL_FIELDS;
        return n;
    }
    /* Partial matching (long descriptions, mostly) keeps to the fields that
     * weigh most, when there are any: every field and every word is a
     * posting list to open. */
    const double *boost = b->searcher->settings.boost;
    for (int f = 0; f < TD_FIELD_COUNT && b->partial; f++)
        if (boost[f] >= PARTIAL_MIN_BOOST)
            fields[n++] = (td_field_t) f;
    if (!n)
        for (int f = 0; f < TD_FIELD_COUNT; f++)
            if (boost[f] > 0)
                fields[n++] = (td_field_t) f;
    return n;
}

/* One unit over the scope's fields: OR of each field's SYNONYM, scaled by
 * the field's boost. NULL (with b->status TD_OK) when it has no terms. */
static td_xquery_t *unit_query(builder_t *b, const unit_t *u, int scope, bool exact)
{
    td_field_t fields[TD_FIELD_COUNT];
    size_t field_count = scope_fields(b, scope, exact, fields);
    td_xquery_t *per_field[TD_FIELD_COUNT] = {0};
    char(*terms)[MAX_TERM + 8] = malloc(MAX_ALTERNATIVES * sizeof(*terms));
    if (!terms)
        return fail_memory(b);
    for (size_t i = 0; i < field_count && b->status == TD_OK; i++) {
        td_field_t f = fields[i];
        size_t n = field_terms(b, u, f, exact, terms, MAX_ALTERNATIVES);
        td_xquery_t *children[MAX_ALTERNATIVES];
        for (size_t k = 0; k < n; k++)
            children[k] = term_query(b, terms[k]);
        td_xquery_t *synonym = combine(b, TD_XOP_SYNONYM, children, n, 0);
        per_field[i] = scale_owned(b, synonym, field_boost(b, f));
    }
    free(terms);
    return combine(b, TD_XOP_OR, per_field, field_count, 0);
}

/* The positional (unprefixed) alternatives of a unit for phrases and NEAR:
 * its canonical tokens, or else its word. */
static td_xquery_t *positional_unit(builder_t *b, const unit_t *u)
{
    td_xquery_t *children[MAX_ALTERNATIVES];
    size_t n = 0;
    for (size_t i = 0; i < u->count; i++) {
        const alternative_t *a = &u->alts[i];
        char term[MAX_TERM + 8];
        if (a->kind == ALT_CANONICAL)
            snprintf(term, sizeof(term), TD_MARK_CANONICAL "%s", a->text);
        else if (a->kind == ALT_WORD && !u->has_canonical)
            snprintf(term, sizeof(term), "%s", a->text);
        else
            continue;
        children[n++] = term_query(b, term);
    }
    return combine(b, TD_XOP_OR, children, n, 0);
}

static td_xquery_t *positional_units(builder_t *b, const unit_t *units, size_t count, td_xop_t op,
                                     uint32_t window)
{
    td_xquery_t **children = calloc(count ? count : 1, sizeof(*children));
    if (!children)
        return fail_memory(b);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if ((children[n] = positional_unit(b, &units[i])))
            n++;
    td_xquery_t *q = n >= 2 ? combine(b, op, children, n, window) : NULL;
    if (n < 2)
        for (size_t i = 0; i < n; i++)
            td_xquery_free(children[i]);
    free(children);
    return q;
}

/* A concept spanning every unit: "trastuzumab deruxtecan" as a phrase also
 * matches "Enhertu". */
static const char *whole_concept(const unit_t *units, size_t count)
{
    if (!count)
        return NULL;
    for (size_t i = 0; i < units[0].count; i++) {
        const alternative_t *a = &units[0].alts[i];
        if (a->kind != ALT_CONCEPT)
            continue;
        bool everywhere = true;
        for (size_t k = 1; k < count && everywhere; k++) {
            everywhere = false;
            for (size_t j = 0; j < units[k].count; j++)
                if (units[k].alts[j].kind == ALT_CONCEPT &&
                    strcmp(units[k].alts[j].text, a->text) == 0)
                    everywhere = true;
        }
        if (everywhere)
            return a->text;
    }
    return NULL;
}

static td_xquery_t *id_query(builder_t *b, const td_qnode_t *node)
{
    char nct[TD_NCT_ID_LEN + 1], term[MAX_TERM + 8];
    td_xquery_t *children[2] = {0};
    size_t n = 0;
    if (td_nct_id_parse(node->text, strlen(node->text), nct)) {
        snprintf(term, sizeof(term), TD_PREFIX_ID "%s", nct);
        children[n++] = term_query(b, term);
    }
    int len = snprintf(term, sizeof(term), TD_PREFIX_OTHER_ID "%s", node->text);
    for (int i = (int) strlen(TD_PREFIX_OTHER_ID); i < len; i++)
        term[i] = (term[i] >= 'A' && term[i] <= 'Z') ? (char) (term[i] + 32) : term[i];
    children[n++] = term_query(b, term);
    return scale_owned(b, combine(b, TD_XOP_OR, children, n, 0), 0);
}

/* word*: every indexed word of the scope's fields that starts so. */
static td_xquery_t *wildcard_query(builder_t *b, const td_qnode_t *node)
{
    char prefix[MAX_TERM + 1];
    size_t len = 0;
    td_analysis_t *analysis = b->searcher->analysis;
    if (td_analyze(analysis, node->text, strlen(node->text), TD_ANALYZE_QUERY, 0) != TD_OK)
        return fail_memory(b);
    for (size_t i = 0; i < td_analysis_count(analysis) && !len; i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == TD_TERM_WORD)
            len = (size_t) snprintf(prefix, sizeof(prefix), "%s", t->text);
    }
    /* A stopword gives no term ("at*" for atezolizumab): its letters are the
     * prefix. */
    bool letters = true;
    for (const char *c = node->text; *c && letters; c++)
        letters = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
    if (!len && letters && strlen(node->text) < sizeof(prefix)) {
        for (const char *c = node->text; *c; c++)
            prefix[len++] = (*c >= 'A' && *c <= 'Z') ? (char) (*c + 32) : *c;
        prefix[len] = '\0';
    }
    if (!len) {
        b->status = td_query_fail(b->error, node->position, "e.g. palbo*",
                                  "nothing to expand in '%s*'", node->text);
        return NULL;
    }
    td_field_t fields[TD_FIELD_COUNT];
    size_t field_count = scope_fields(b, node->scope, false, fields);
    td_xquery_t *per_field[TD_FIELD_COUNT] = {0};
    /* The words it expanded to, for explanations and highlights. */
    unit_t *expanded = calloc(1, sizeof(*expanded));
    if (!expanded)
        return fail_memory(b);
    expanded->end = (uint32_t) strlen(node->text);
    for (size_t i = 0; i < field_count && b->status == TD_OK; i++) {
        td_field_t f = fields[i];
        td_xquery_t **children = NULL;
        size_t n = 0;
        size_t prefix_len = strlen(FIELDS[f].prefix);
        for (int stemmed = 0; stemmed < 2 && b->status == TD_OK; stemmed++) {
            char head[MAX_TERM + 16];
            snprintf(head, sizeof(head), "%s%s%s", stemmed ? TD_PREFIX_STEM : "", FIELDS[f].prefix,
                     prefix);
            td_xlist_t *list = NULL;
            if (td_xdb_terms_with_prefix(b->searcher->db, head, &list) != TD_OK) {
                b->status = TD_ERR_IO;
                td_query_fail(b->error, 0, NULL, "%s", td_xdb_last_error(b->searcher->db));
                break;
            }
            size_t count = td_xlist_count(list);
            if (n + count > MAX_WILDCARD_TERMS) {
                b->status = td_query_fail(b->error, node->position, "give more letters",
                                          "'%s*' matches too many words", node->text);
            } else if (count) {
                td_xquery_t **grown = realloc(children, (n + count) * sizeof(*grown));
                if (!grown) {
                    fail_memory(b);
                } else {
                    children = grown;
                    for (size_t k = 0; k < count; k++) {
                        const char *term = td_xlist_string(list, k, NULL);
                        children[n++] = term_query(b, term);
                        add_alternative(expanded, stemmed ? ALT_STEM : ALT_WORD,
                                        term + (stemmed ? 1 : 0) + prefix_len);
                    }
                }
            }
            td_xlist_free(list);
        }
        td_xquery_t *synonym = combine(b, TD_XOP_SYNONYM, children, n, 0);
        free(children);
        per_field[i] = scale_owned(b, synonym, field_boost(b, f));
    }
    remember(b, node->text, expanded);
    free(expanded);
    td_xquery_t *q = combine(b, TD_XOP_OR, per_field, field_count, 0);
    if (!q && b->status == TD_OK)
        td_xquery_new_match_nothing(&q);
    return q;
}

/* Whether some unit has a biomarker term: then the words around it ("low"
 * in "HER2-low") are part of it, not biomarkers of their own. */
static bool any_biomarker_unit(builder_t *b, const unit_t *units, size_t count)
{
    char terms[MAX_ALTERNATIVES][MAX_TERM + 8];
    for (size_t i = 0; i < count; i++)
        if (field_terms(b, &units[i], TD_FIELD_BIOMARKER, false, terms, MAX_ALTERNATIVES))
            return true;
    return false;
}

/* TEXT and PHRASE nodes. */
static td_xquery_t *text_query(builder_t *b, const td_qnode_t *node, bool phrase)
{
    if (node->scope == TD_SCOPE_ID)
        return id_query(b, node);
    if (node->wildcard)
        return wildcard_query(b, node);
    unit_t *units = malloc(MAX_UNITS * sizeof(*units));
    if (!units)
        return fail_memory(b);
    size_t count = analyze_units(b, node->text, node->exact, units);
    td_xquery_t **parts = calloc(count + 1, sizeof(*parts));
    if (!parts) {
        free(units);
        return fail_memory(b);
    }
    size_t n = 0;
    for (size_t i = 0; i < count && b->status == TD_OK; i++) {
        remember(b, node->text, &units[i]);
        td_xquery_t *q = unit_query(b, &units[i], node->scope, node->exact);
        if (q) {
            parts[n++] = q;
        } else if (b->status == TD_OK && node->scope == TD_FIELD_BIOMARKER &&
                   !any_biomarker_unit(b, units, count)) {
            b->status = td_query_fail(
                b->error, node->position,
                "biomarker: takes genes, receptor status and assays the lexicon knows, e.g. "
                "biomarker:ESR1 or biomarker:HER2-low; search other words as free text",
                "'%.*s' is not a biomarker", (int) (units[i].end - units[i].start),
                node->text + units[i].start);
        }
    }
    bool partial = b->partial && !phrase;
    td_xquery_t *words = combine(b, partial ? TD_XOP_OR : TD_XOP_AND, parts, n, 0);
    free(parts);
    /* Words that no searched field can hold match nothing (only stopwords,
     * with no units at all, are no constraint). */
    if (!words && count && b->status == TD_OK && td_xquery_new_match_nothing(&words) != TD_OK)
        fail_memory(b);
    /* Phrases: in order in the positional fields, or for a multi-word
     * concept, the concept. A quoted phrase requires it (or all of its words
     * in one long field); free text is only boosted by it, except in partial
     * matching, where the words are not all there to be a phrase. */
    bool positional =
        node->scope == TD_SCOPE_ALL || (node->scope >= 0 && FIELDS[node->scope].positional);
    double boost = b->searcher->settings.phrase_boost;
    if (words && count >= 2 && positional && b->status == TD_OK &&
        (phrase || (boost > 0 && !b->partial))) {
        td_xquery_t *ordered = positional_units(b, units, count, TD_XOP_PHRASE, 0);
        const char *concept = node->exact ? NULL : whole_concept(units, count);
        if (ordered && concept) {
            char term[MAX_TERM + 8];
            snprintf(term, sizeof(term), TD_MARK_CONCEPT "%s", concept);
            td_xquery_t *either[2] = {ordered, term_query(b, term)};
            ordered = combine(b, TD_XOP_OR, either, 2, 0);
        }
        if (ordered && phrase && node->scope == TD_SCOPE_ALL) {
            /* Long fields keep no positions: all the words in one of them. */
            td_xquery_t *options[TD_FIELD_COUNT + 1] = {ordered};
            size_t option_count = 1;
            for (int f = 0; f < TD_FIELD_COUNT && b->status == TD_OK; f++) {
                if (!FIELDS[f].long_text || b->searcher->settings.boost[f] <= 0)
                    continue;
                td_xquery_t **in_field = calloc(count, sizeof(*in_field));
                if (!in_field) {
                    fail_memory(b);
                    break;
                }
                for (size_t i = 0; i < count; i++)
                    in_field[i] = unit_query(b, &units[i], f, node->exact);
                options[option_count++] = combine(b, TD_XOP_AND, in_field, count, 0);
                free(in_field);
            }
            ordered = combine(b, TD_XOP_OR, options, option_count, 0);
        }
        if (ordered) {
            td_xquery_t *pair[2] = {words, scale_owned(b, ordered, boost)};
            words = combine(b, phrase ? TD_XOP_AND : TD_XOP_AND_MAYBE, pair, 2, 0);
        }
    }
    free(units);
    return words;
}

/* a NEAR b: every unit of every side within the window, in the positional
 * fields (Xapian cannot nest a phrase in NEAR, so a phrase's words join
 * the NEAR themselves), weighted as the words of both sides. */
static td_xquery_t *near_query(builder_t *b, const td_qnode_t *node)
{
    unit_t *units = malloc(MAX_UNITS * sizeof(*units));
    td_xquery_t **weights = calloc(node->child_count, sizeof(*weights));
    td_xquery_t **groups = calloc(MAX_UNITS, sizeof(*groups));
    if (!units || !weights || !groups) {
        free(units);
        free(weights);
        free(groups);
        return fail_memory(b);
    }
    size_t group_count = 0;
    for (size_t i = 0; i < node->child_count && b->status == TD_OK; i++) {
        const td_qnode_t *child = node->children[i];
        weights[i] = text_query(b, child, child->kind == TD_QNODE_PHRASE);
        size_t count = analyze_units(b, child->text, child->exact, units);
        for (size_t k = 0; k < count && group_count < MAX_UNITS; k++)
            if ((groups[group_count] = positional_unit(b, &units[k])))
                group_count++;
    }
    free(units);
    td_xquery_t *near = group_count >= 2 ? combine(b, TD_XOP_NEAR, groups, group_count,
                                                   node->window + (uint32_t) group_count - 1)
                                         : combine(b, TD_XOP_AND, groups, group_count, 0);
    free(groups);
    td_xquery_t *all = combine(b, TD_XOP_AND, weights, node->child_count, 0);
    free(weights);
    if (!near || !all) {
        td_xquery_free(near);
        td_xquery_free(all);
        return b->status == TD_OK ? fail_memory(b) : NULL;
    }
    td_xquery_t *pair[2] = {all, scale_owned(b, near, b->searcher->settings.phrase_boost)};
    return combine(b, TD_XOP_AND, pair, 2, 0);
}

static td_xquery_t *build(builder_t *b, const td_qnode_t *node);

static td_xquery_t *match_all(builder_t *b)
{
    td_xquery_t *q = NULL;
    if (td_xquery_new_match_all(&q) != TD_OK)
        return fail_memory(b);
    return q;
}

/* AND: positive children weigh (ORed in the partial fallback), NOT
 * children exclude, filters restrict. */
static td_xquery_t *and_query(builder_t *b, const td_qnode_t *node)
{
    size_t n = node->child_count;
    td_xquery_t **positive = calloc(n + 1, sizeof(*positive));
    td_xquery_t **negative = calloc(n + 1, sizeof(*negative));
    td_xquery_t **filters = calloc(n + 2, sizeof(*filters));
    if (!positive || !negative || !filters) {
        free(positive);
        free(negative);
        free(filters);
        return fail_memory(b);
    }
    size_t pn = 0, nn = 0, fn = 1;
    for (size_t i = 0; i < n && b->status == TD_OK; i++) {
        const td_qnode_t *child = node->children[i];
        if (child->kind == TD_QNODE_NOT)
            negative[nn] = build(b, child->children[0]), nn += negative[nn] != NULL;
        else if (child->kind == TD_QNODE_FILTER)
            filters[fn] = build(b, child), fn += filters[fn] != NULL;
        else
            positive[pn] = build(b, child), pn += positive[pn] != NULL;
    }
    td_xquery_t *q = combine(b, b->partial ? TD_XOP_OR : TD_XOP_AND, positive, pn, 0);
    if (fn > 1 || (!q && nn)) {
        filters[0] = q ? q : match_all(b);
        q = combine(b, TD_XOP_FILTER, filters, fn, 0);
    }
    if (q && nn) {
        td_xquery_t *excluded = combine(b, TD_XOP_OR, negative, nn, 0);
        td_xquery_t *pair[2] = {q, excluded};
        q = combine(b, TD_XOP_AND_NOT, pair, 2, 0);
    }
    free(positive);
    free(negative);
    free(filters);
    return q;
}

static td_xquery_t *build(builder_t *b, const td_qnode_t *node)
{
    if (b->status != TD_OK)
        return NULL;
    switch (node->kind) {
    case TD_QNODE_TEXT:
        return text_query(b, node, false);
    case TD_QNODE_PHRASE:
        return text_query(b, node, true);
    case TD_QNODE_NEAR:
        return near_query(b, node);
    case TD_QNODE_FILTER:
        return scaled(b, node->filter, 0);
    case TD_QNODE_AND:
        return and_query(b, node);
    case TD_QNODE_NOT: {
        td_xquery_t *pair[2] = {match_all(b), build(b, node->children[0])};
        if (!pair[1]) {
            td_xquery_free(pair[0]);
            return NULL;
        }
        return combine(b, TD_XOP_AND_NOT, pair, 2, 0);
    }
    case TD_QNODE_OR: {
        td_xquery_t **children = calloc(node->child_count, sizeof(*children));
        if (!children)
            return fail_memory(b);
        for (size_t i = 0; i < node->child_count; i++)
            children[i] = build(b, node->children[i]);
        td_xquery_t *q = combine(b, TD_XOP_OR, children, node->child_count, 0);
        free(children);
        return q;
    }
    }
    return NULL;
}

td_status_t td_build_query(td_searcher_t *searcher, const td_qnode_t *root, bool partial,
                           td_build_info_t *info, td_xquery_t **out, td_query_error_t *error)
{
    builder_t b = {.searcher = searcher,
                   .info = info,
                   .error = error,
                   .partial = partial,
                   .all_fields = td_search_settings_are_index_weights(&searcher->settings)};
    td_xquery_t *q = root ? build(&b, root) : NULL;
    if (b.status == TD_OK && !q)
        q = match_all(&b); /* no query, or only stopwords */
    if (b.status != TD_OK) {
        td_xquery_free(q);
        return b.status;
    }
    *out = q;
    return TD_OK;
}
