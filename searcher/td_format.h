/* td_format.h - how `trialdex-search` prints results, records and errors.
 *
 * Output formats:
 *   text  for people: rank, NCT ID, title, status, phases, conditions,
 *         interventions, nearest site and distance (when near: was given),
 *         a snippet with the matched words highlighted, "why matched" with
 *         `explain`, facets with `facets`; colour only when `color` is set
 *         (the caller sets it for a terminal)
 *   json  one JSON object per result (query, total, revision, partial,
 *         hits, facets, suggestions, next_page_token), for programs
 *   csv   a header line, then one line per hit (RFC 4180 quoting)
 *   ids   one NCT ID per line, nothing else
 *
 * text, one block per hit after a header:
 *
 *   Partial matches: not every word is required; trials with more of them
 *   rank first.                                               (partial only)
 *   12 trials match, showing 1-10 (index revision 42, 0.004 s)
 *   Did you mean: palbociclib? (no trial has "palbocilib")           (per suggestion)
 *
 *    1. NCT09000001  Trastuzumab Deruxtecan in HER2-Low Breast Cancer (DESTINY-Low)
 *       Recruiting · Phase 2/Phase 3 · 557 planned · Daiichi Sankyo · updated 2024-06-01
 *       Conditions: Breast Cancer; HER2-low Breast Carcinoma
 *       Interventions: Trastuzumab deruxtecan; Capecitabine (+3 more)
 *       Nearest site: Memorial Sloan Kettering, New York, United States (12.3 km)
 *       summary: Adults with [HER2-low] metastatic [breast cancer] receive…
 *       why: title: trastuzumab deruxtecan (from "T-DXd"), breast
 *            intervention: trastuzumab deruxtecan (matched via "DS-8201a")
 *
 *   Facets:                                                          (with `facets`)
 *     status            recruiting (8), not_yet_recruiting (3)
 *     country           united states (5), china (4), ..., +12 more
 *
 *   Next page token: ...                                             (when given)
 *
 * - Status and phases are in words ("Not yet recruiting", "Early Phase 1",
 *   "N/A"); the status line holds what the record has of status, phases (or
 *   the study type when there are none), enrollment ("planned" when
 *   estimated), lead sponsor and last update.
 * - Conditions and interventions show as many items as fit in 100 bytes (at
 *   least one), then "(+N more)".
 * - Matched words of the snippet are bold red with `color` and in [square
 *   brackets] without; spans apart only by spaces are marked as one
 *   ("[breast cancer]"). A snippet's own brackets are printed as they are.
 * - "why:" lists the matches one line per field, in the order the fields
 *   first appear; a term the query wrote otherwise says (from "<query>"),
 *   an expansion says (matched via "<the trial's words>").
 * - Facets print their filter values (what `status:` and the like take)
 *   with counts: every value, but the 10 most frequent for country and
 *   start_year. A facet without values has no line.
 * - Control characters of the records (which could move the cursor or
 *   recolour a terminal) are printed as spaces, invalid UTF-8 as U+FFFD, and
 *   one-line fields keep to one line.
 * - A hit whose stored record does not parse prints its rank and a note.
 *
 * json, one compact line (keys in this order; a key whose value is absent
 * is left out, never null):
 *   {"query", "total", "revision", "partial", "seconds",
 *    "hits": [{"rank", "nct_id", "title", "status", "phases", "conditions",
 *              "interventions", "score", "distance_km", "nearest_site",
 *              "snippet": {"field", "text", "highlights": [[start, end], ...]},
 *              "matches": [{"field", "term", "query", "via"}],
 *              "record": <the DISPLAY JSON of td_trial_json.h>}],
 *    "facets": {"status": [{"value", "count"}], ...},   (with `facets`: every facet, every value)
 *    "suggestions": [{"word", "suggestion"}],
 *    "next_page_token"}
 * status and phases are API tokens ("RECRUITING", ["PHASE2","PHASE3"]);
 * highlights are byte offsets [start, end) into the UTF-8 snippet text.
 *
 * csv: "rank,nct_id,title,status,phases,conditions,interventions,score,
 * distance_km", then a line per hit ending in LF; status and phases are API
 * tokens, lists are joined with "; ", a field with a comma, quote or line
 * break is quoted with its quotes doubled, an absent value is empty.
 */
#ifndef TD_FORMAT_H
#define TD_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "td_search.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum td_output_format {
    TD_OUTPUT_TEXT,
    TD_OUTPUT_JSON,
    TD_OUTPUT_CSV,
    TD_OUTPUT_IDS
} td_output_format_t;

/* "text", "json", "csv", "ids". */
bool td_output_format_parse(const char *text, td_output_format_t *out);
const char *td_output_format_name(td_output_format_t format);

typedef struct td_render_options {
    td_output_format_t format;
    bool color;                  /* ANSI colour and bold highlights (text only) */
    bool facets;                 /* print the facet counts the result holds */
    bool explain;                /* print why each hit matched */
    const char *query;           /* the query as typed, echoed in json */
    const char *next_page_token; /* NULL when there is no next page */
} td_render_options_t;

/* Prints a search result in options->format, and flushes `out`. Nothing
 * of `result` or `options` is kept.
 * Returns TD_OK; TD_ERR_IO when writing failed; TD_ERR_NO_MEMORY (json
 * only) when the output could not be built, before anything is written. */
td_status_t td_render_result(FILE *out, const td_search_result_t *result,
                             const td_render_options_t *options);

/* Prints a whole record (FULL JSON, as td_search_show gives it; a DISPLAY
 * JSON works too), and flushes `out`:
 *   text  every field the record has, in sections (IDs; status and design;
 *         conditions and keywords; summary; description; interventions with
 *         their types, other names and descriptions; arms; outcomes;
 *         eligibility, with the criteria verbatim; locations), enumerations
 *         in words; bold headings and a coloured status with `color`
 *   json  the record indented by 2, keys in their order
 *   csv   "nct_id,title,status,phases,conditions,interventions" and a line
 *   ids   the NCT ID
 * Returns TD_OK; TD_ERR_BAD_INPUT, with nothing written, for JSON that does
 * not parse or is not an object; TD_ERR_IO. */
td_status_t td_render_record(FILE *out, const char *full_json, td_output_format_t format,
                             bool color);

/* Prints a query error as one line, "error: <message> (at character N)",
 * then the query with a caret under the position and the hint:
 *   error: unknown field 'titel:' (at character 1)
 *     titel:cancer
 *     ^
 *   hint: fields are title:, cond:, drug:, ...
 * N counts characters (code points), from 1; the caret counts terminal
 * columns (a CJK character takes two, a combining accent none), and each
 * control character of the query is printed as one space, so the caret
 * stays under the position. A position past the end puts the caret after
 * the query. No query lines for an empty query, no hint line for an empty
 * hint. "error:" is red with `color`. Flushes `out`.
 * Returns TD_OK or TD_ERR_IO. */
td_status_t td_render_query_error(FILE *out, const char *query, const td_query_error_t *error,
                                  bool color);

#ifdef __cplusplus
}
#endif

#endif
