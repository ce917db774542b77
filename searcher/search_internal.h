/* search_internal.h - internal: the pieces behind td_search.h.
 *
 *   query.c    the query language: lexer and parser into a tree of nodes,
 *              filters read into Xapian queries on the way
 *   build.c    nodes -> Xapian queries: words through the analyzer, field
 *              prefixes and boosts, expansions, phrases, wildcards
 *   patient.c  the patient a description speaks of: age and sex
 *   search.c   the searcher: settings, opening, running requests, facets,
 *              sorting, geo, suggestions, page tokens, `show`
 *   explain.c  why a hit matched, and its snippet
 *
 * Not part of the public API.
 */
#ifndef TD_SEARCH_INTERNAL_H
#define TD_SEARCH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_analyzer.h"
#include "td_search.h"
#include "td_xapian.h"

/* The lowest non-empty value: a range from it matches the documents that
 * have a value in the slot (Xapian reads a range from "" as every
 * document). */
#define HAS_VALUE "\0"

/* A scope that is not a text field: `id:`. */
#define TD_SCOPE_ID (-2)
/* No scope: every text field. */
#define TD_SCOPE_ALL (-1)

struct td_searcher {
    char *path;
    char *version; /* where the DB link pointed when opened ("" for a plain directory) */
    td_xdb_t *db;
    td_analyzer_t *analyzer;
    td_analysis_t *analysis;
    td_search_settings_t settings;
    uint64_t revision;
    uint32_t doc_count;
};

/* ---- patient.c ---- */

/* Reads the patient `text` describes: true, with *out filled, when the
 * text states an age ("a 62-year-old woman", "aged 8 months", "45 yo");
 * [*start, *end) are then the bytes that state it ("62-year-old", "79 yo
 * F"), which say nothing a trial's words should match. */
bool td_patient_read(const char *text, td_patient_t *out, size_t *start, size_t *end);

/* ---- query.c ---- */

typedef enum td_qnode_kind {
    TD_QNODE_TEXT,   /* words, all required */
    TD_QNODE_PHRASE, /* "quoted words", in order */
    TD_QNODE_AND,
    TD_QNODE_OR,
    TD_QNODE_NOT,   /* one child: what must not match */
    TD_QNODE_NEAR,  /* children within `window` positions, any order */
    TD_QNODE_FILTER /* a ready filter query: matches, never weighs */
} td_qnode_kind_t;

typedef struct td_qnode {
    td_qnode_kind_t kind;
    size_t position; /* byte offset in the query, for messages */
    int scope;       /* a td_field_t, TD_SCOPE_ALL or TD_SCOPE_ID */
    bool exact;      /* =word: no stems, no expansion */
    bool wildcard;   /* word*: every indexed word that starts so */
    char *text;      /* TEXT and PHRASE: the words, as typed */
    uint32_t window; /* NEAR */
    td_xquery_t *filter;
    struct td_qnode **children;
    size_t child_count;
} td_qnode_t;

/* Where distances are measured from. */
typedef struct td_geo {
    bool set;
    double latitude, longitude;
    bool recruiting;  /* recruiting sites only (recruiting-near:) */
    double radius_km; /* 0: no limit */
    size_t position;
} td_geo_t;

typedef struct td_parsed_query {
    td_qnode_t *root; /* NULL: match every trial */
    td_geo_t geo;
    bool has_text; /* some words can weigh */
    /* The text describes a patient (patient.c); `rules_out` matches the
     * trials whose age or sex limits rule them out. */
    bool has_patient;
    td_patient_t patient;
    td_xquery_t *rules_out;
} td_parsed_query_t;

/* Parses `text`; with `patient`, reads the patient its free text describes
 * (has_patient). On TD_ERR_BAD_QUERY, *error says where and why. */
td_status_t td_query_parse(td_searcher_t *searcher, const char *text, bool patient,
                           td_parsed_query_t *out, td_query_error_t *error);
void td_parsed_query_clear(td_parsed_query_t *parsed);
void td_qnode_free(td_qnode_t *node);

/* Fills *error (printf-style message) and returns TD_ERR_BAD_QUERY. */
td_status_t td_query_fail(td_query_error_t *error, size_t position, const char *hint,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- search.c ---- */

/* The whole record (FULL JSON) of the hit at `index`, malloc'd into *json. */
td_status_t td_hit_record(td_xmset_t *mset, size_t index, char **json);

/* The sites of a whole record (its "locations" array), parsed without the
 * rest of it: a new reference, or NULL when it has none. */
json_t *td_record_locations(const char *record);

/* ---- build.c ---- */

/* One word of a query as the searcher uses it: where it came from and the
 * terms that stand for it, unprefixed ("Zstem" for a stem, "@concept",
 * "#canonical", or the word). */
typedef struct td_qword {
    char *query;  /* the query text of the word or expression */
    char **terms; /* its alternatives, unprefixed */
    size_t term_count;
} td_qword_t;

/* What building collected for explanations, snippets and suggestions. */
typedef struct td_build_info {
    td_qword_t *words;
    size_t word_count, word_capacity;
} td_build_info_t;

void td_build_info_clear(td_build_info_t *info);

/* Builds the weighted query of `root` (NULL: match all). */
td_status_t td_build_query(td_searcher_t *searcher, const td_qnode_t *root, bool partial,
                           td_build_info_t *info, td_xquery_t **out, td_query_error_t *error);

/* ---- explain.c ---- */

/* Fills hit->matches from the hit's matching terms, and hit->snippet. */
td_status_t td_explain_hit(td_searcher_t *searcher, td_xmset_t *mset, size_t index,
                           const td_build_info_t *info, const char *full_json, bool matches,
                           bool snippet, td_hit_t *hit);

#endif
