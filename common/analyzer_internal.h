/* analyzer_internal.h - internal: the pieces behind td_analyzer.h.
 *
 *   strmap.c     a string -> uint32 hash map (lexicon, stopwords, caches)
 *   tokenizer.c  ICU segmentation and normalisation into a token stream
 *   lexicon.c    the concept lexicon: loading, and longest-match lookup
 *   analyzer.c   the domain rules that turn tokens into terms
 *
 * Not part of the public API.
 */
#ifndef TD_ANALYZER_INTERNAL_H
#define TD_ANALYZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

/* ---- strmap.c ---- */

/* Keys are copied into the map; values are caller-defined numbers. */
typedef struct td_strmap {
    struct td_strmap_slot *slots;
    size_t capacity; /* a power of two, or 0 */
    size_t count;
    char *keys; /* all keys, NUL-terminated, back to back, in insertion order */
    size_t keys_len;
    size_t keys_capacity;
} td_strmap_t;

void td_strmap_init(td_strmap_t *map);
void td_strmap_free(td_strmap_t *map);
void td_strmap_clear(td_strmap_t *map);

/* Sets key -> value, replacing an old value. Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_strmap_put(td_strmap_t *map, const char *key, size_t len, uint32_t value);

/* Finds key; returns true and sets *value when present. */
bool td_strmap_get(const td_strmap_t *map, const char *key, size_t len, uint32_t *value);

/* Counting: adds `n` to key's value, a new key starting from 0.
 * Returns TD_OK or TD_ERR_NO_MEMORY. */
td_status_t td_strmap_add(td_strmap_t *map, const char *key, size_t len, uint32_t n);

/* Iterates over the entries in no particular order: start with *cursor 0;
 * each call sets *key (NUL-terminated) and *value and returns true, or
 * returns false at the end. The map must not change meanwhile. */
bool td_strmap_next(const td_strmap_t *map, size_t *cursor, const char **key, uint32_t *value);

/* ---- tokenizer.c ---- */

typedef enum td_token_type {
    TD_TOKEN_WORD,   /* letters, possibly with digits: "her2", "e545k", "cdk4" */
    TD_TOKEN_NUMBER, /* "18", "1.5", "10,000" */
    TD_TOKEN_PUNCT   /* one symbol or punctuation character: "+", "-", "/", "≥" */
} td_token_type_t;

typedef struct td_token {
    uint32_t start, end; /* byte span in the original text */
    uint32_t norm;       /* offset of the normalised text in the tokenizer's buffer */
    uint32_t norm_len;
    td_token_type_t type;
    bool space_before; /* white space separates it from the previous token */
    bool all_caps;     /* two or more letters, every one upper case: "HER", "ECOG" */
    bool has_upper;    /* at least one upper-case letter: "DXd", "Her2" */
    bool has_digit;
    bool has_alpha;
} td_token_t;

typedef struct td_tokenizer td_tokenizer_t;

td_status_t td_tokenizer_new(td_tokenizer_t **out);
void td_tokenizer_free(td_tokenizer_t *tokenizer);

/* Segments and normalises `text`. Tokens and their normalised text stay
 * valid until the next call. Returns TD_OK, TD_ERR_RANGE (over 4 GiB) or
 * TD_ERR_NO_MEMORY. */
td_status_t td_tokenize(td_tokenizer_t *tokenizer, const char *text, size_t len);
size_t td_tokenizer_count(const td_tokenizer_t *tokenizer);
const td_token_t *td_tokenizer_tokens(const td_tokenizer_t *tokenizer);
const char *td_tokenizer_norm(const td_tokenizer_t *tokenizer, const td_token_t *token);
size_t td_tokenizer_invalid_utf8(const td_tokenizer_t *tokenizer);

/* ---- lexicon.c ---- */

typedef enum td_concept_kind {
    TD_CONCEPT_DRUG,
    TD_CONCEPT_DRUG_CLASS,
    TD_CONCEPT_GENE,
    TD_CONCEPT_ASSAY,
    TD_CONCEPT_CONDITION,
    TD_CONCEPT_ABBREVIATION,
    TD_CONCEPT_KIND_COUNT
} td_concept_kind_t;

typedef struct td_concept {
    char *id;
    td_concept_kind_t kind;
    uint32_t *ancestors; /* every class above it, nearest first, no repeats */
    size_t ancestor_count;
} td_concept_t;

typedef struct td_lexicon td_lexicon_t;

/* One lexicon file's text, as built into the program or read from disk. */
typedef struct td_lexicon_source {
    const char *name;
    const char *text;
    size_t len;
} td_lexicon_source_t;

/* Builds a lexicon from sources, tokenizing each form with `tokenizer`.
 * On TD_ERR_BAD_INPUT or TD_ERR_NO_MEMORY, *error gets a malloc'd message
 * naming the file and line. */
td_status_t td_lexicon_build(const td_lexicon_source_t *sources, size_t count,
                             td_tokenizer_t *tokenizer, td_lexicon_t **out, char **error);
void td_lexicon_free(td_lexicon_t *lexicon);

size_t td_lexicon_concept_count(const td_lexicon_t *lexicon);
size_t td_lexicon_form_count(const td_lexicon_t *lexicon);
const td_concept_t *td_lexicon_concept(const td_lexicon_t *lexicon, uint32_t index);
bool td_lexicon_find_concept(const td_lexicon_t *lexicon, const char *id, uint32_t *index);
const char *td_concept_kind_name(td_concept_kind_t kind);

typedef struct td_lexicon_match {
    uint32_t concept;
    uint32_t token_count; /* tokens covered, from the start token */
    bool short_form;      /* matched by a form of two characters or less */
    bool case_sensitive;  /* the form is written in short capitals ("ER", "AI") */
    bool case_mismatch;   /* ... and met text in other case */
} td_lexicon_match_t;

/* The longest form starting at tokens[start]. Forms of three characters or
 * less that the lexicon writes in capitals ("ER", "AI") are ambiguous in
 * other case ("er", "ai"): the match says so and the caller decides. */
bool td_lexicon_longest(const td_lexicon_t *lexicon, const td_tokenizer_t *tokenizer,
                        const td_token_t *tokens, size_t count, size_t start,
                        td_lexicon_match_t *match);

/* The lexicon built into the program (generated from common/lexicon/). */
extern const td_lexicon_source_t td_builtin_lexicon[];
extern const size_t td_builtin_lexicon_count;

#endif
