/* td_analyzer.h - turns text into index and query terms.
 *
 * One analyzer serves the indexer (documents) and the searcher (queries), so
 * every term a query can produce is a term documents were indexed with.
 *
 * Pipeline, the same for both sides:
 *   1. UTF-8 is decoded; invalid sequences are counted and read as U+FFFD.
 *   2. ICU's word break iterator segments the original text, so every term
 *      keeps the byte span it came from. Punctuation segments are kept long
 *      enough for step 4 to see signs next to words ("HER2-", "ER+").
 *   3. Each word is normalised: NFKC, case folding, accents removed.
 *   4. Domain rules read the token stream:
 *      - lexicon matches (longest first, multi-word) give concept terms:
 *        "Enhertu", "T-DXd" and "trastuzumab deruxtecan" all give
 *        trastuzumab_deruxtecan; in documents the concept's classes follow
 *        (palbociclib -> cdk4_6_inhibitor);
 *      - receptor and biomarker status keeps its polarity and level:
 *        "HER2-", "HER2 negative" -> her2_neg; "HER2-low" -> her2_low;
 *        "HR+/HER2-" -> hr_pos her2_neg; "HER2 IHC 2+" -> her2_ihc2plus;
 *      - slash lists of genes expand: "CDK4/6" -> cdk4_6 cdk4 cdk6;
 *      - variants attach to their gene: "ESR1 Y537S" -> esr1_y537s;
 *      - drug codes join across hyphens: "DS-8201a" -> ds8201a;
 *      - numbers with units or comparators ("≥18 years", "100 × 10^9/L")
 *        give no terms; ECOG ranges expand ("ECOG 0-2" -> ecog_0 ecog_1
 *        ecog_2).
 *   5. Ordinary words give a word term and, unless they are stopwords, an
 *      English (Snowball) stem; gene symbols, codes and canonical terms are
 *      never stemmed. Stopwords give no terms but keep their position.
 *
 * Threads: a td_analyzer_t is read-only once made and may be shared; each
 * thread analyzes into its own td_analysis_t, which holds the per-thread
 * state (break iterator, stemmer, caches).
 */
#ifndef TD_ANALYZER_H
#define TD_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct td_analyzer td_analyzer_t;
typedef struct td_analysis td_analysis_t;

typedef enum td_term_kind {
    TD_TERM_WORD,      /* a normalised word as written: "metastatic" */
    TD_TERM_STEM,      /* the English stem of a word: "metastat" */
    TD_TERM_CANONICAL, /* a domain token: "her2_neg", "cdk4_6", "esr1_y537s", "ds8201a" */
    TD_TERM_CONCEPT    /* a lexicon concept: "trastuzumab_deruxtecan", "cdk4_6_inhibitor" */
} td_term_kind_t;

typedef enum td_analyze_mode {
    /* Documents: concepts are followed by their classes (a record naming
     * palbociclib also gets cdk4_6_inhibitor). */
    TD_ANALYZE_DOCUMENT,
    /* Queries: concepts only, so "palbociclib" does not widen to its class.
     * A query's terms are always a subset of the same text's document terms. */
    TD_ANALYZE_QUERY
} td_analyze_mode_t;

typedef struct td_term {
    const char *text; /* NUL-terminated, lower case; valid until the analysis is reused or freed */
    td_term_kind_t kind;
    uint32_t position; /* word position; terms from one span share it */
    uint32_t start;    /* byte span in the analyzed text: [start, end) */
    uint32_t end;
} td_term_t;

/* Makes an analyzer with the lexicon built into the program, or, when
 * `lexicon_dir` is not NULL, with the *.tsv files of that directory (see
 * common/lexicon/README.md for their format). On failure returns
 * TD_ERR_BAD_INPUT (a lexicon line is malformed), TD_ERR_NOT_FOUND or
 * TD_ERR_IO (files), TD_ERR_NO_MEMORY or TD_ERR_INTERNAL (ICU), and sets
 * *error to a malloc'd one-line message (file and line) the caller frees.
 * Free the analyzer with td_analyzer_free. */
td_status_t td_analyzer_new(const char *lexicon_dir, td_analyzer_t **out, char **error);

/* Frees an analyzer. Accepts NULL. Every analysis made with it must be
 * freed first. */
void td_analyzer_free(td_analyzer_t *analyzer);

/* Number of concepts and of surface forms in the analyzer's lexicon. */
size_t td_analyzer_concept_count(const td_analyzer_t *analyzer);
size_t td_analyzer_form_count(const td_analyzer_t *analyzer);

/* The kind ("drug", "drug_class", "gene", "condition", "abbreviation") of a
 * concept, or NULL when `concept` is not one. Static string. */
const char *td_analyzer_concept_kind(const td_analyzer_t *analyzer, const char *concept);

/* Makes a workspace for analyzing with `analyzer` from one thread.
 * Returns TD_OK, TD_ERR_NO_MEMORY or TD_ERR_INTERNAL (ICU or the stemmer
 * could not start). Free with td_analysis_free. */
td_status_t td_analysis_new(const td_analyzer_t *analyzer, td_analysis_t **out);

/* Frees a workspace and its terms. Accepts NULL. */
void td_analysis_free(td_analysis_t *analysis);

/* Analyzes `len` bytes of UTF-8 `text`, replacing the workspace's previous
 * terms. Positions start at `first_position`, so several fields of one
 * document can share a position space with gaps between them. Returns
 * TD_OK, TD_ERR_RANGE (text over 4 GiB) or TD_ERR_NO_MEMORY. Invalid
 * UTF-8 is not an error: see td_analysis_invalid_utf8. */
td_status_t td_analyze(td_analysis_t *analysis, const char *text, size_t len,
                       td_analyze_mode_t mode, uint32_t first_position);

/* The terms of the last td_analyze, in position order. Valid until the next
 * td_analyze or td_analysis_free. */
size_t td_analysis_count(const td_analysis_t *analysis);
const td_term_t *td_analysis_term(const td_analysis_t *analysis, size_t index);

/* The position after the last word of the last td_analyze. */
uint32_t td_analysis_end_position(const td_analysis_t *analysis);

/* How many invalid UTF-8 sequences the last td_analyze met. */
size_t td_analysis_invalid_utf8(const td_analysis_t *analysis);

/* The name of a term kind: "word", "stem", "canonical", "concept". */
const char *td_term_kind_name(td_term_kind_t kind);

#ifdef __cplusplus
}
#endif

#endif
