/* td_search.h - searching a trialdex index: the query language, ranking,
 * filters, facets, sorting and paging behind `trialdex-search`.
 *
 * A td_searcher_t holds one open index (td_schema.h) and the analyzer, so a
 * query's words become exactly the terms documents were indexed with. It
 * serves one thread; open one per thread.
 *
 * The query language is described in searcher/README.md and in
 * `trialdex-search --help`. In short: words are all required, quoted
 * phrases match in order, AND / OR / NOT / NEAR / parentheses / -word /
 * word* / =word work as usual, field scopes (`title:`, `cond:`, `drug:`,
 * `biomarker:`, `outcome:`, `sponsor:`, `site:`, `inc:`, `exc:`, `id:`)
 * restrict where words match, and filters (`status:`, `phase:`, `type:`,
 * `sex:`, `country:`, `age:`, `start:`, `updated:`, `enrollment:`, `near:`,
 * `recruiting-near:`, `within:`) restrict without changing the ranking.
 *
 * Text that states a patient's age ("a 62-year-old woman with ...") is read
 * as a patient description: in relevance order, the trials whose age and
 * sex limits admit the patient rank before those whose limits rule them
 * out, and the words that state the age are not searched for
 * (settings.patient).
 */
#ifndef TD_SEARCH_H
#define TD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"
#include "td_trial.h"
#include "td_xapian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Fields and settings ------------------------------------------------ */

/* The searchable text fields, each with its own boost. */
typedef enum td_field {
    TD_FIELD_TITLE,
    TD_FIELD_CONDITION,
    TD_FIELD_KEYWORD,
    TD_FIELD_INTERVENTION,
    TD_FIELD_BIOMARKER,
    TD_FIELD_SUMMARY, /* brief summary and detailed description */
    TD_FIELD_OUTCOME,
    TD_FIELD_INCLUSION,
    TD_FIELD_EXCLUSION,
    TD_FIELD_SPONSOR,
    TD_FIELD_SITE,
    TD_FIELD_ARM,
    TD_FIELD_COUNT
} td_field_t;

/* The field's name in settings and explanations ("title", "condition",
 * ...), and its term prefix (td_schema.h). */
const char *td_field_name(td_field_t field);
const char *td_field_prefix(td_field_t field);

/* What ranking is tuned with. */
typedef struct td_search_settings {
    double boost[TD_FIELD_COUNT]; /* weight of a match in each field; 0 = never scores */
    td_xbm25_t bm25;
    double phrase_boost; /* weight of free text found as a phrase, on top of its words */
    bool expand;         /* the analyzer's domain knowledge: lexicon concepts (synonyms, drug
                            classes) and canonical tokens (biomarker status); off, queries are
                            plain words and stems: the reference configuration of benchmarks */
    bool patient;        /* read a patient's age and sex from a description and rank the
                            trials that admit them first; off in the reference configuration */
} td_search_settings_t;

/* The defaults, close to ClinicalTrials.gov's field weights: title and
 * condition highest, interventions and biomarkers next, summary lower,
 * exclusion criteria 0 (they never raise a score). They are the weights
 * the index is built with (td_schema.h TD_WEIGHT_*). */
void td_search_settings_default(td_search_settings_t *settings);

/* Whether every boost is the index's weight (the default): then free text
 * searches every field through one all-fields term per word (BM25F),
 * faster than one term per field, with the same field weights. */
bool td_search_settings_are_index_weights(const td_search_settings_t *settings);

/* The BM25 parameters Xapian runs with: the settings', with k1 scaled to
 * the index's term weights (td_schema.h TD_WDF_SCALE). */
td_xbm25_t td_search_bm25(const td_search_settings_t *settings);

/* Sets one setting by name: "boost.<field>" (e.g. "boost.title"),
 * "bm25.k1", "bm25.k2", "bm25.k3", "bm25.b", "bm25.min_normlen",
 * "phrase_boost", "expand". Values are non-negative numbers ("expand": 0 or
 * 1).
 * Returns TD_OK, or TD_ERR_BAD_INPUT with a malloc'd one-line *error. */
td_status_t td_search_settings_set(td_search_settings_t *settings, const char *key,
                                   const char *value, char **error);

/* Reads settings from a file of "key = value" lines ('#' starts a
 * comment), applied over what `settings` holds.
 * Returns TD_OK; TD_ERR_NOT_FOUND or TD_ERR_IO for the file; TD_ERR_BAD_INPUT
 * with "file:line: ..." in the malloc'd *error. */
td_status_t td_search_settings_load(td_search_settings_t *settings, const char *path, char **error);

/* ---- Searcher ----------------------------------------------------------- */

typedef struct td_searcher td_searcher_t;

/* Opens the index at `db` (read-only; readers never block the indexer).
 * Returns TD_OK; TD_ERR_NOT_FOUND (no index there), TD_ERR_CORRUPT,
 * TD_ERR_BAD_INPUT (an index of another schema), TD_ERR_IO, each with a
 * malloc'd one-line *error. */
td_status_t td_searcher_open(const char *db, const td_search_settings_t *settings,
                             td_searcher_t **out, char **error);

void td_searcher_free(td_searcher_t *searcher);

/* Picks up a newer index: another version swapped in by the nightly job, or
 * new commits to the same one. *changed (may be NULL) says whether it did.
 * Returns TD_OK, or as td_searcher_open. */
td_status_t td_searcher_refresh(td_searcher_t *searcher, bool *changed, char **error);

/* The open index: its revision, trial count, and the underlying database
 * (for `show`; owned by the searcher). */
uint64_t td_searcher_revision(const td_searcher_t *searcher);
uint32_t td_searcher_doc_count(const td_searcher_t *searcher);
td_xdb_t *td_searcher_db(td_searcher_t *searcher);

/* ---- Requests and results ----------------------------------------------- */

typedef enum td_sort {
    TD_SORT_RELEVANCE,
    TD_SORT_START,      /* start date; newest first unless ascending */
    TD_SORT_UPDATED,    /* last update; newest first unless ascending */
    TD_SORT_ENROLLMENT, /* largest first unless ascending */
    TD_SORT_DISTANCE    /* nearest site first; needs near: or recruiting-near: */
} td_sort_t;

/* Parses "relevance", "start", "updated", "enrollment", "distance", each
 * optionally followed by ":asc" or ":desc" (distance: ":asc" only, nearest
 * first). Returns false for anything else. */
bool td_sort_parse(const char *text, td_sort_t *sort, bool *ascending);
const char *td_sort_name(td_sort_t sort);

typedef struct td_search_request {
    const char *query; /* the query language; "" matches every trial */
    uint32_t offset;   /* hits to skip */
    uint32_t limit;    /* hits to return (0: only counts and facets) */
    td_sort_t sort;
    bool ascending;  /* sort direction for the value sorts */
    bool facets;     /* count facets over the whole match set */
    bool explain;    /* fill td_hit_t.matches */
    bool snippets;   /* fill td_hit_t.snippet */
    bool partial_ok; /* when nothing matches every word, show best partial
                        matches (labelled: td_search_result_t.partial) */
} td_search_request_t;

/* A request with the defaults: limit 10, relevance, partial matches allowed. */
td_search_request_t td_search_request_default(const char *query);

/* A malformed query: where, what, and how to fix it. */
typedef struct td_query_error {
    size_t position; /* byte offset in the query where the problem starts */
    char message[256];
    char hint[256]; /* may be "" */
} td_query_error_t;

/* Why a hit matched: one entry per matching (field, query word). */
typedef struct td_match {
    const char *field; /* td_field_name() */
    char *term;        /* what matched, readable: "palbociclib", "HER2-negative status" */
    char *query;       /* the query text it came from: "CDK4/6 inhibitor" */
    char *via;         /* for an expansion, the trial's own words that gave it
                          ("DS-8201a"); NULL when the trial has the query's words */
} td_match_t;

/* A highlighted span of a snippet: bytes [start, end) of td_snippet_t.text. */
typedef struct td_span {
    uint32_t start, end;
} td_span_t;

typedef struct td_snippet {
    const char *field; /* where the text comes from: "summary", "title", ... */
    char *text;        /* about 200 bytes, "…" where cut */
    td_span_t *spans;  /* matched words, in order */
    size_t span_count;
} td_snippet_t;

/* The patient a description speaks of. */
typedef struct td_patient {
    int age;              /* in age_unit, as the text states it */
    const char *age_unit; /* "years", "months", "weeks" or "days" */
    double age_days;      /* as trials' age limits are counted */
    td_sex_t sex;         /* TD_SEX_UNSET when the text does not say */
} td_patient_t;

typedef struct td_hit {
    uint32_t rank; /* 1-based over the whole result list */
    td_xdocid_t docid;
    double weight;
    char *display; /* the DISPLAY JSON of the trial (td_trial_json.h), NUL-terminated */
    bool has_distance;
    double distance_km;  /* to the nearest (recruiting) site when near: was given */
    char *nearest_site;  /* "Facility, City, Country" of that site, or NULL */
    td_match_t *matches; /* with request.explain */
    size_t match_count;
    td_snippet_t snippet;   /* with request.snippets; text NULL when none */
    bool rules_out_patient; /* the result has a patient, whom the trial's age or sex
                               limits rule out */
} td_hit_t;

/* Facet names, in display order. */
typedef enum td_facet {
    TD_FACET_STATUS,
    TD_FACET_PHASE,
    TD_FACET_TYPE,
    TD_FACET_SEX,
    TD_FACET_COUNTRY,
    TD_FACET_INTERVENTION_TYPE,
    TD_FACET_SPONSOR_CLASS,
    TD_FACET_START_YEAR,
    TD_FACET_COUNT
} td_facet_t;

/* "status", "phase", "type", "sex", "country", "intervention_type",
 * "sponsor_class", "start_year". */
const char *td_facet_name(td_facet_t facet);

typedef struct td_facet_value {
    char *value;    /* the filter value: "recruiting", "phase2", "china", "2021" */
    uint32_t count; /* trials in the match set with that value */
} td_facet_value_t;

typedef struct td_facet_counts {
    td_facet_value_t *values; /* most frequent first, ties by value */
    size_t count;
} td_facet_counts_t;

/* "Did you mean": a query word that matches nothing, and a close word from
 * the index. Never applied by the searcher. */
typedef struct td_suggestion {
    char *word;
    char *suggestion;
} td_suggestion_t;

typedef struct td_search_result {
    uint32_t total;    /* matching trials (exact) */
    uint64_t revision; /* of the index searched */
    bool partial;      /* no trial matched every word; these are the best partial matches */
    bool has_patient;  /* the query described a patient (settings.patient) */
    td_patient_t patient;
    td_hit_t *hits;
    size_t hit_count;
    bool has_facets;
    td_facet_counts_t facets[TD_FACET_COUNT];
    td_suggestion_t *suggestions;
    size_t suggestion_count;
    double seconds; /* time spent in td_search */
} td_search_result_t;

/* Runs a request. On TD_OK *out is a new result (free with
 * td_search_result_free). A malformed query gives TD_ERR_BAD_QUERY with
 * *qerr filled (qerr may be NULL). Other failures (TD_ERR_IO,
 * TD_ERR_CORRUPT, TD_ERR_MODIFIED after a retry) fill qerr->message too,
 * with position 0. */
td_status_t td_search(td_searcher_t *searcher, const td_search_request_t *request,
                      td_search_result_t **out, td_query_error_t *qerr);

void td_search_result_free(td_search_result_t *result);

/* The final Xapian query td_search runs for a request (the partial one when
 * it would fall back to partial matches; the sorted part of a two-part
 * sort), as td_xquery_t (free with td_xquery_free): what the benchmarks run
 * against raw Xapian. Returns as td_search. */
td_status_t td_search_build_query(td_searcher_t *searcher, const td_search_request_t *request,
                                  td_xquery_t **out, td_query_error_t *qerr);

/* The whole record of a trial by NCT ID (or alias) as FULL JSON, malloc'd
 * into *json. Returns TD_OK, TD_ERR_NOT_FOUND, or TD_ERR_IO. */
td_status_t td_search_show(td_searcher_t *searcher, const char *id, char **json);

/* ---- Page tokens -------------------------------------------------------- */

/* A token for the page after `result`: the request (query, sort, limit) and
 * the index revision, so a token from another index state is refused.
 * malloc'd; NULL when there is no next page. */
char *td_page_token_make(const td_search_request_t *request, const td_search_result_t *result);

/* Applies a token to `request` (which must carry the same query and sort):
 * sets offset and limit. Returns TD_OK; TD_ERR_BAD_INPUT for a malformed
 * token or one made for another query; TD_ERR_MODIFIED when the index has
 * changed since (the message says to run the query again). *error gets a
 * malloc'd message on failure. */
td_status_t td_page_token_apply(const char *token, td_searcher_t *searcher,
                                td_search_request_t *request, char **error);

#ifdef __cplusplus
}
#endif

#endif
