/* analyzer.c - the domain rules that turn a token stream into terms.
 *
 * td_analyze works in three steps over the tokens of one text:
 *   1. lexicon matches, longest first from the left, become "mentions";
 *   2. each gene or assay mention gets its status from the tokens after it
 *      ("+", "-", "-low", " negative"), or from the mention after a slash
 *      ("ER/PR-negative" gives both);
 *   3. one walk over the tokens emits terms unit by unit: a word, a joined
 *      drug code, a slash list of genes, a number, or a measurement (no
 *      terms). Every unit takes one position; the concepts and statuses of
 *      a mention are emitted at the position of the unit where it starts.
 * The rules read normalised token text only, so the same text always gives
 * the same terms, in documents and in queries alike.
 */
#include "td_analyzer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer_internal.h"
#include "td_xapian.h"

/* Stem cache entries before the cache starts over. */
#define STEM_CACHE_MAX 200000
/* Units within which a gene mention still governs a variant or IHC score. */
#define GENE_WINDOW 6
/* Positions within which ER-, PR- and HER2- add up to triple negative. */
#define TRIPLE_NEGATIVE_WINDOW 12

struct td_analyzer {
    td_lexicon_t *lexicon;
    td_strmap_t stopwords;
    td_strmap_t units;           /* unit words that follow a number: "mg", "years" */
    td_strmap_t status_words;    /* "negative" -> index in status_names */
    td_strmap_t ecog_fillers;    /* words between "ECOG" and its score */
    uint32_t tnbc, er, pr, her2; /* concept indices, or UINT32_MAX when absent */
};

typedef struct mention {
    uint32_t start, end; /* tokens [start, end) */
    uint32_t concept;
    bool short_form;
    bool case_mismatch;
    const char *status;  /* "neg", "pos", ... or NULL */
    uint32_t status_end; /* byte offset where the status text ends */
} mention_t;

struct td_analysis {
    const td_analyzer_t *analyzer;
    td_tokenizer_t *tokenizer;
    td_xstem_t *stemmer;
    td_strmap_t stem_cache; /* word -> offset of its stem in `stems` */
    char *stems;
    size_t stems_len, stems_capacity;

    td_term_t *terms;
    uint32_t *term_text; /* offset of each term's text in `text` while building */
    size_t count, capacity;
    char *text;
    size_t text_len, text_capacity;

    mention_t *mentions;
    size_t mention_count, mention_capacity;
    bool *in_name; /* per token: inside a drug, gene or assay mention */
    size_t in_name_capacity;

    uint32_t end_position;
    size_t invalid_utf8;
};

static const char *const status_names[] = {"neg", "pos", "low",  "ultralow", "mut",
                                           "amp", "wt",  "high", "loss",     "fusion"};

/* Word -> status_names index. */
static const struct {
    const char *word;
    int status;
} status_words[] = {
    {"negative", 0},
    {"neg", 0},
    {"positive", 1},
    {"pos", 1},
    {"overexpressing", 1},
    {"overexpression", 1},
    {"low", 2},
    {"ultralow", 3},
    {"mutated", 4},
    {"mutant", 4},
    {"mutation", 4},
    {"mutations", 4},
    {"mut", 4},
    {"amplified", 5},
    {"amplification", 5},
    {"amp", 5},
    {"wildtype", 6},
    {"wt", 6},
    {"high", 7},
    {"deleted", 8},
    {"deletion", 8},
    {"loss", 8},
    {"fusion", 9},
    {"fusions", 9},
    {"rearranged", 9},
    {"rearrangement", 9},
};

/* Function words that carry no meaning for search. Negations ("no",
 * "not", "without") are kept: in eligibility criteria they matter. */
static const char *const stopwords[] = {
    "a",     "about", "above", "after",  "again",   "all",   "also",   "am",    "an",     "and",
    "any",   "are",   "as",    "at",     "be",      "been",  "being",  "both",  "but",    "by",
    "can",   "could", "did",   "do",     "does",    "doing", "each",   "few",   "for",    "from",
    "had",   "has",   "have",  "having", "he",      "her",   "here",   "hers",  "him",    "his",
    "how",   "i",     "if",    "in",     "into",    "is",    "it",     "its",   "itself", "just",
    "me",    "more",  "most",  "my",     "of",      "off",   "on",     "once",  "only",   "or",
    "other", "our",   "ours",  "out",    "over",    "own",   "same",   "she",   "should", "so",
    "some",  "such",  "than",  "that",   "the",     "their", "theirs", "them",  "then",   "there",
    "these", "they",  "this",  "those",  "through", "to",    "too",    "under", "until",  "up",
    "very",  "was",   "we",    "were",   "what",    "when",  "where",  "which", "while",  "who",
    "whom",  "why",   "will",  "with",   "would",   "you",   "your",   "yours", "shall",  "may",
    "might", "must",  "per",   "via",    "e.g",     "i.e",   "etc",
};

static const char *const units[] = {
    "year",   "years",   "yr",   "yrs",   "month",  "months",  "mo",    "mos",    "week", "weeks",
    "wk",     "wks",     "day",  "days",  "d",      "hour",    "hours", "hr",     "hrs",  "h",
    "minute", "minutes", "min",  "mins",  "second", "seconds", "s",     "mg",     "g",    "kg",
    "mcg",    "µg",      "μg",   "ug",    "ng",     "pg",      "ml",    "l",      "dl",   "µl",
    "μl",     "ul",      "mmol", "µmol",  "μmol",   "umol",    "nmol",  "pmol",   "mol",  "meq",
    "mmhg",   "iu",      "u",    "units", "mm",     "cm",      "m",     "m2",     "mm2",  "mm3",
    "gy",     "cgy",     "x",    "×",     "fold",   "times",   "cells", "copies", "bpm",  "kcal",
    "lbs",    "lb",      "sec",  "uln",   "lln",    "kpa",
};

static const char *const ecog_fillers[] = {"performance", "status", "ps",  "score", "of",
                                           "grade",       "must",   "be",  "is",    "scale",
                                           "a",           "an",     "the", "zubrod"};

static bool fill_set(td_strmap_t *map, const char *const *words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (td_strmap_put(map, words[i], strlen(words[i]), (uint32_t) i) != TD_OK)
            return false;
    return true;
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Reads the *.tsv files of `dir` in name order. */
static td_status_t read_lexicon_dir(const char *dir, td_lexicon_source_t **out, size_t *count,
                                    char **error)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, NULL, alphasort);
    if (n < 0) {
        size_t size = strlen(dir) + 64;
        if ((*error = malloc(size)))
            snprintf(*error, size, "cannot read lexicon directory '%s'", dir);
        return TD_ERR_NOT_FOUND;
    }
    td_lexicon_source_t *sources = calloc((size_t) n + 1, sizeof(*sources));
    td_status_t status = sources ? TD_OK : TD_ERR_NO_MEMORY;
    *count = 0;
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        size_t len = strlen(name);
        if (status == TD_OK && len > 4 && strcmp(name + len - 4, ".tsv") == 0) {
            size_t path_size = strlen(dir) + len + 2;
            char *path = malloc(path_size);
            FILE *f =
                path ? (snprintf(path, path_size, "%s/%s", dir, name), fopen(path, "rb")) : NULL;
            char *text = NULL;
            long size = -1;
            if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
                fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t) size + 1)) &&
                fread(text, 1, (size_t) size, f) == (size_t) size) {
                sources[*count].name = path;
                sources[*count].text = text;
                sources[*count].len = (size_t) size;
                (*count)++;
                path = NULL;
                text = NULL;
            } else {
                status = TD_ERR_IO;
                size_t size_msg = path_size + 64;
                if ((*error = malloc(size_msg)))
                    snprintf(*error, size_msg, "cannot read lexicon file '%s/%s'", dir, name);
            }
            if (f)
                fclose(f);
            free(path);
            free(text);
        }
        free(entries[i]);
    }
    free(entries);
    *out = sources;
    return status;
}

static void free_sources(td_lexicon_source_t *sources, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free((char *) sources[i].name);
        free((char *) sources[i].text);
    }
    free(sources);
}

static uint32_t concept_or_none(const td_lexicon_t *lexicon, const char *id)
{
    uint32_t index;
    return td_lexicon_find_concept(lexicon, id, &index) ? index : UINT32_MAX;
}

td_status_t td_analyzer_new(const char *lexicon_dir, td_analyzer_t **out, char **error)
{
    *error = NULL;
    td_analyzer_t *analyzer = calloc(1, sizeof(*analyzer));
    td_tokenizer_t *tokenizer = NULL;
    td_status_t status = analyzer ? td_tokenizer_new(&tokenizer) : TD_ERR_NO_MEMORY;
    if (status == TD_OK) {
        td_lexicon_source_t *sources = NULL;
        size_t count = 0;
        if (lexicon_dir)
            status = read_lexicon_dir(lexicon_dir, &sources, &count, error);
        if (status == TD_OK)
            status = td_lexicon_build(lexicon_dir ? sources : td_builtin_lexicon,
                                      lexicon_dir ? count : td_builtin_lexicon_count, tokenizer,
                                      &analyzer->lexicon, error);
        free_sources(sources, count);
    }
    td_tokenizer_free(tokenizer);
    if (status == TD_OK) {
        for (size_t i = 0; i < COUNT(status_words) && status == TD_OK; i++)
            if (td_strmap_put(&analyzer->status_words, status_words[i].word,
                              strlen(status_words[i].word),
                              (uint32_t) status_words[i].status) != TD_OK)
                status = TD_ERR_NO_MEMORY;
        if (!fill_set(&analyzer->stopwords, stopwords, COUNT(stopwords)) ||
            !fill_set(&analyzer->units, units, COUNT(units)) ||
            !fill_set(&analyzer->ecog_fillers, ecog_fillers, COUNT(ecog_fillers)))
            status = TD_ERR_NO_MEMORY;
    }
    if (status != TD_OK) {
        if (!*error)
            *error = strdup(status == TD_ERR_NO_MEMORY ? "out of memory"
                                                       : "cannot start ICU's word breaker");
        td_analyzer_free(analyzer);
        return status;
    }
    analyzer->tnbc = concept_or_none(analyzer->lexicon, "tnbc");
    analyzer->er = concept_or_none(analyzer->lexicon, "er");
    analyzer->pr = concept_or_none(analyzer->lexicon, "pr");
    analyzer->her2 = concept_or_none(analyzer->lexicon, "her2");
    *out = analyzer;
    return TD_OK;
}

void td_analyzer_free(td_analyzer_t *analyzer)
{
    if (!analyzer)
        return;
    td_lexicon_free(analyzer->lexicon);
    td_strmap_free(&analyzer->stopwords);
    td_strmap_free(&analyzer->units);
    td_strmap_free(&analyzer->status_words);
    td_strmap_free(&analyzer->ecog_fillers);
    free(analyzer);
}

size_t td_analyzer_concept_count(const td_analyzer_t *analyzer)
{
    return td_lexicon_concept_count(analyzer->lexicon);
}

size_t td_analyzer_form_count(const td_analyzer_t *analyzer)
{
    return td_lexicon_form_count(analyzer->lexicon);
}

const char *td_analyzer_concept_kind(const td_analyzer_t *analyzer, const char *concept)
{
    uint32_t index;
    if (!td_lexicon_find_concept(analyzer->lexicon, concept, &index))
        return NULL;
    return td_concept_kind_name(td_lexicon_concept(analyzer->lexicon, index)->kind);
}

td_status_t td_analysis_new(const td_analyzer_t *analyzer, td_analysis_t **out)
{
    td_analysis_t *a = calloc(1, sizeof(*a));
    if (!a)
        return TD_ERR_NO_MEMORY;
    a->analyzer = analyzer;
    td_status_t status = td_tokenizer_new(&a->tokenizer);
    if (status == TD_OK)
        status = td_xstem_new("english", &a->stemmer);
    if (status != TD_OK) {
        td_analysis_free(a);
        return status;
    }
    *out = a;
    return TD_OK;
}

void td_analysis_free(td_analysis_t *a)
{
    if (!a)
        return;
    td_tokenizer_free(a->tokenizer);
    td_xstem_free(a->stemmer);
    td_strmap_free(&a->stem_cache);
    free(a->stems);
    free(a->terms);
    free(a->term_text);
    free(a->text);
    free(a->mentions);
    free(a->in_name);
    free(a);
}

size_t td_analysis_count(const td_analysis_t *a)
{
    return a->count;
}

const td_term_t *td_analysis_term(const td_analysis_t *a, size_t index)
{
    return &a->terms[index];
}

uint32_t td_analysis_end_position(const td_analysis_t *a)
{
    return a->end_position;
}

size_t td_analysis_invalid_utf8(const td_analysis_t *a)
{
    return a->invalid_utf8;
}

const char *td_term_kind_name(td_term_kind_t kind)
{
    static const char *const names[] = {"word", "stem", "canonical", "concept"};
    return kind <= TD_TERM_CONCEPT ? names[kind] : "";
}

/* ---- building the term list ---- */

/* The analysis being built, with the first failure kept (sticky). */
typedef struct run {
    td_analysis_t *a;
    const td_analyzer_t *analyzer;
    const td_token_t *tokens;
    size_t n;
    td_analyze_mode_t mode;
    td_status_t status;
    uint32_t position;
    /* The last gene mention that took effect, for variants and IHC scores. */
    uint32_t gene_concept;
    uint32_t gene_unit; /* unit number of that mention */
    uint32_t unit;      /* units emitted so far */
    /* Positions and first bytes of the last ER-, PR- and HER2- statuses, for
     * triple negative, whose span covers all three ("ER- PR- HER2-"). */
    int64_t negative_at[3];
    uint32_t negative_start[3];
    int64_t triple_negative_at;
} run_t;

static const char *norm(const run_t *r, size_t i)
{
    return td_tokenizer_norm(r->a->tokenizer, &r->tokens[i]);
}

static bool norm_is(const run_t *r, size_t i, const char *text)
{
    return i < r->n && strcmp(norm(r, i), text) == 0;
}

/* Whether token i is the punctuation `text` written right after the token
 * before it. */
static bool joined_punct(const run_t *r, size_t i, const char *text)
{
    return i < r->n && r->tokens[i].type == TD_TOKEN_PUNCT && !r->tokens[i].space_before &&
           norm_is(r, i, text);
}

static void emit(run_t *r, td_term_kind_t kind, const char *text, size_t len, uint32_t position,
                 uint32_t start, uint32_t end)
{
    td_analysis_t *a = r->a;
    if (r->status != TD_OK)
        return;
    if (a->count == a->capacity) {
        size_t capacity = a->capacity ? a->capacity * 2 : 256;
        td_term_t *terms = realloc(a->terms, capacity * sizeof(*terms));
        if (terms)
            a->terms = terms;
        uint32_t *offsets = terms ? realloc(a->term_text, capacity * sizeof(*offsets)) : NULL;
        if (!offsets) {
            r->status = TD_ERR_NO_MEMORY;
            return;
        }
        a->term_text = offsets;
        a->capacity = capacity;
    }
    if (a->text_len + len + 1 > a->text_capacity) {
        size_t capacity = a->text_capacity ? a->text_capacity * 2 : 4096;
        while (capacity < a->text_len + len + 1)
            capacity *= 2;
        char *text_buffer = realloc(a->text, capacity);
        if (!text_buffer) {
            r->status = TD_ERR_NO_MEMORY;
            return;
        }
        a->text = text_buffer;
        a->text_capacity = capacity;
    }
    a->term_text[a->count] = (uint32_t) a->text_len;
    memcpy(a->text + a->text_len, text, len);
    a->text[a->text_len + len] = '\0';
    a->text_len += len + 1;
    a->terms[a->count++] =
        (td_term_t){.text = NULL, .kind = kind, .position = position, .start = start, .end = end};
}

static void emit_str(run_t *r, td_term_kind_t kind, const char *text, uint32_t position,
                     uint32_t start, uint32_t end)
{
    emit(r, kind, text, strlen(text), position, start, end);
}

/* Emits a concept, and in documents every class above it. */
static void emit_concept(run_t *r, uint32_t index, uint32_t position, uint32_t start, uint32_t end)
{
    const td_concept_t *concept = td_lexicon_concept(r->analyzer->lexicon, index);
    emit_str(r, TD_TERM_CONCEPT, concept->id, position, start, end);
    if (r->mode == TD_ANALYZE_DOCUMENT)
        for (size_t i = 0; i < concept->ancestor_count; i++)
            emit_str(r, TD_TERM_CONCEPT,
                     td_lexicon_concept(r->analyzer->lexicon, concept->ancestors[i])->id, position,
                     start, end);
}

static const char *stem(run_t *r, const char *word, size_t len)
{
    td_analysis_t *a = r->a;
    uint32_t offset;
    if (td_strmap_get(&a->stem_cache, word, len, &offset))
        return a->stems + offset;
    char *stemmed;
    td_status_t status = td_xstem_word(a->stemmer, word, &stemmed);
    if (status != TD_OK) {
        r->status = status;
        return NULL;
    }
    if (a->stem_cache.count >= STEM_CACHE_MAX) {
        td_strmap_clear(&a->stem_cache);
        a->stems_len = 0;
    }
    size_t stem_len = strlen(stemmed);
    if (a->stems_len + stem_len + 1 > a->stems_capacity) {
        size_t capacity = a->stems_capacity ? a->stems_capacity * 2 : 65536;
        char *grown = realloc(a->stems, capacity);
        if (!grown) {
            free(stemmed);
            r->status = TD_ERR_NO_MEMORY;
            return NULL;
        }
        a->stems = grown;
        a->stems_capacity = capacity;
    }
    offset = (uint32_t) a->stems_len;
    memcpy(a->stems + offset, stemmed, stem_len + 1);
    a->stems_len += stem_len + 1;
    free(stemmed);
    if (td_strmap_put(&a->stem_cache, word, len, offset) != TD_OK) {
        r->status = TD_ERR_NO_MEMORY;
        return NULL;
    }
    return a->stems + offset;
}

/* ---- step 1 and 2: mentions and their statuses ---- */

static bool is_marker(const run_t *r, uint32_t concept)
{
    td_concept_kind_t kind = td_lexicon_concept(r->analyzer->lexicon, concept)->kind;
    return kind == TD_CONCEPT_GENE || kind == TD_CONCEPT_ASSAY;
}

static bool is_gene(const run_t *r, uint32_t concept)
{
    return td_lexicon_concept(r->analyzer->lexicon, concept)->kind == TD_CONCEPT_GENE;
}

static const char *status_word(const run_t *r, size_t i)
{
    uint32_t index;
    if (i >= r->n || r->tokens[i].type != TD_TOKEN_WORD)
        return NULL;
    if (!td_strmap_get(&r->analyzer->status_words, norm(r, i), r->tokens[i].norm_len, &index))
        return NULL;
    return status_names[index];
}

/* The status written after a marker ending at token e: "+", "-", "-low",
 * " negative", and for genes "3+" (an IHC score). Sets *end to the byte
 * where it ends. */
static const char *status_after(run_t *r, size_t e, bool gene, uint32_t *end)
{
    static const char *const ihc_scores[] = {"ihc0plus", "ihc1plus", "ihc2plus", "ihc3plus"};
    const td_token_t *t = r->tokens;
    if (joined_punct(r, e, "+")) {
        size_t k = e;
        while (joined_punct(r, k + 1, "+"))
            k++;
        *end = t[k].end;
        return "pos";
    }
    if (joined_punct(r, e, "-")) {
        if (e + 1 < r->n && t[e + 1].type == TD_TOKEN_WORD && !t[e + 1].space_before) {
            /* "HER2-low" has a status; "EGFR-TKI" is a compound, not one. */
            const char *status = status_word(r, e + 1);
            if (status)
                *end = t[e + 1].end;
            return status;
        }
        *end = t[e].end;
        return "neg";
    }
    const char *status = status_word(r, e);
    if (status) {
        *end = t[e].end;
        return status;
    }
    /* "HER2 3+": an IHC score written after the gene. */
    if (gene && e + 1 < r->n && t[e].type == TD_TOKEN_NUMBER && t[e].norm_len == 1 &&
        norm(r, e)[0] >= '0' && norm(r, e)[0] <= '3' && joined_punct(r, e + 1, "+")) {
        *end = t[e + 1].end;
        return ihc_scores[norm(r, e)[0] - '0'];
    }
    return NULL;
}

static td_status_t find_mentions(run_t *r)
{
    td_analysis_t *a = r->a;
    a->mention_count = 0;
    if (r->n > a->in_name_capacity) {
        bool *grown = realloc(a->in_name, r->n * sizeof(*grown));
        if (!grown)
            return TD_ERR_NO_MEMORY;
        a->in_name = grown;
        a->in_name_capacity = r->n;
    }
    memset(a->in_name, 0, r->n * sizeof(*a->in_name));
    for (size_t i = 0; i < r->n;) {
        td_lexicon_match_t match;
        if (r->tokens[i].type == TD_TOKEN_PUNCT ||
            !td_lexicon_longest(r->analyzer->lexicon, a->tokenizer, r->tokens, r->n, i, &match)) {
            i++;
            continue;
        }
        if (a->mention_count == a->mention_capacity) {
            size_t capacity = a->mention_capacity ? a->mention_capacity * 2 : 64;
            mention_t *grown = realloc(a->mentions, capacity * sizeof(*grown));
            if (!grown)
                return TD_ERR_NO_MEMORY;
            a->mentions = grown;
            a->mention_capacity = capacity;
        }
        size_t after = i + match.token_count;
        if (match.case_sensitive && joined_punct(r, after, "-") && after + 1 < r->n &&
            r->tokens[after + 1].type == TD_TOKEN_WORD && !r->tokens[after + 1].space_before &&
            !status_word(r, after + 1)) {
            /* "AI-assisted", "OS-free": a short capital form that starts a
             * compound word is not the concept. */
            i++;
            continue;
        }
        td_concept_kind_t kind = td_lexicon_concept(r->analyzer->lexicon, match.concept)->kind;
        for (size_t k = i; k < i + match.token_count && !match.case_mismatch; k++)
            a->in_name[k] =
                kind == TD_CONCEPT_DRUG || kind == TD_CONCEPT_GENE || kind == TD_CONCEPT_ASSAY;
        a->mentions[a->mention_count++] = (mention_t){
            .start = (uint32_t) i,
            .end = (uint32_t) (i + match.token_count),
            .concept = match.concept,
            .short_form = match.short_form,
            .case_mismatch = match.case_mismatch,
        };
        i += match.token_count;
    }
    /* Statuses, right to left so "ER/PR-negative" can hand PR's to ER. */
    for (size_t m = a->mention_count; m-- > 0;) {
        mention_t *mention = &a->mentions[m];
        if (!is_marker(r, mention->concept))
            continue;
        mention->status =
            status_after(r, mention->end, is_gene(r, mention->concept), &mention->status_end);
        const mention_t *next = m + 1 < a->mention_count ? &a->mentions[m + 1] : NULL;
        if (!mention->status && next && next->status && next->start == mention->end + 1 &&
            joined_punct(r, mention->end, "/") && is_marker(r, next->concept)) {
            mention->status = next->status;
            mention->status_end = next->status_end;
        }
    }
    return TD_OK;
}

/* ---- step 3: units ---- */

static void note_negative(run_t *r, uint32_t concept, uint32_t position, uint32_t start,
                          uint32_t end)
{
    const uint32_t receptors[3] = {r->analyzer->er, r->analyzer->pr, r->analyzer->her2};
    for (int k = 0; k < 3; k++)
        if (concept == receptors[k] && concept != UINT32_MAX) {
            r->negative_at[k] = position;
            r->negative_start[k] = start;
        }
    if (r->analyzer->tnbc == UINT32_MAX)
        return;
    for (int k = 0; k < 3; k++)
        if (r->negative_at[k] < 0 || position - r->negative_at[k] > TRIPLE_NEGATIVE_WINDOW)
            return;
    if (r->triple_negative_at >= 0 && position - r->triple_negative_at <= TRIPLE_NEGATIVE_WINDOW)
        return;
    r->triple_negative_at = position;
    for (int k = 0; k < 3; k++)
        if (r->negative_start[k] < start)
            start = r->negative_start[k];
    emit_concept(r, r->analyzer->tnbc, position, start, end);
}

/* Emits the mentions that start within tokens [first, last) at `position`. */
static void emit_mentions(run_t *r, size_t *next_mention, size_t first, size_t last,
                          uint32_t position)
{
    td_analysis_t *a = r->a;
    while (*next_mention < a->mention_count && a->mentions[*next_mention].start < last) {
        const mention_t *m = &a->mentions[(*next_mention)++];
        if (m->start < first)
            continue;
        uint32_t start = r->tokens[m->start].start, end = r->tokens[m->end - 1].end;
        /* Two-letter forms of markers ("ER", "PR", "HR") are ambiguous alone
         * (emergency room, hazard ratio); they count only with a status,
         * which also lets lower case through ("er+/her2-" as typed in a
         * query). Other short capitals ("AI", "OS") count only as capitals. */
        bool marker = is_marker(r, m->concept);
        if ((m->short_form && marker && !m->status) || (m->case_mismatch && !(marker && m->status)))
            continue;
        emit_concept(r, m->concept, position, start, end);
        if (!marker)
            continue;
        if (is_gene(r, m->concept)) {
            r->gene_concept = m->concept;
            r->gene_unit = r->unit;
        }
        if (m->status) {
            char term[128];
            const char *id = td_lexicon_concept(r->analyzer->lexicon, m->concept)->id;
            snprintf(term, sizeof(term), "%s_%s", id, m->status);
            emit_str(r, TD_TERM_CANONICAL, term, position, start, m->status_end);
            if (strcmp(m->status, "neg") == 0)
                note_negative(r, m->concept, position, start, m->status_end);
        }
    }
}

static bool is_comparator(const run_t *r, size_t i)
{
    static const char *const comparators[] = {"≥", "≤", ">", "<", "=", "±", "~", "≈", "⩾", "⩽"};
    if (i >= r->n || r->tokens[i].type != TD_TOKEN_PUNCT)
        return false;
    for (size_t k = 0; k < COUNT(comparators); k++)
        if (norm_is(r, i, comparators[k]))
            return true;
    return false;
}

static bool is_unit(const run_t *r, size_t i)
{
    uint32_t ignored;
    if (i >= r->n)
        return false;
    if (r->tokens[i].type == TD_TOKEN_PUNCT)
        return norm_is(r, i, "%") || norm_is(r, i, "×");
    return r->tokens[i].type == TD_TOKEN_WORD &&
           td_strmap_get(&r->analyzer->units, norm(r, i), r->tokens[i].norm_len, &ignored);
}

/* A number at token i that is part of a measurement ("≥ 18 years",
 * "100 × 10^9/L", "18 to 75 years"): returns the token after it, or 0 when
 * the number stands alone. */
static size_t measurement_end(const run_t *r, size_t i)
{
    size_t k = i + 1;
    bool measured = i > 0 && is_comparator(r, i - 1);
    /* A range: "18-75 years", "18 to 75 years". */
    if (k + 1 < r->n && (norm_is(r, k, "-") || norm_is(r, k, "to")) &&
        r->tokens[k + 1].type == TD_TOKEN_NUMBER)
        k += 2;
    if (!measured && !is_unit(r, k))
        return 0;
    /* Take the unit and what hangs off it: "/", "^", "10^9", "/L". */
    while (k < r->n) {
        const td_token_t *t = &r->tokens[k];
        if (is_unit(r, k) ||
            (t->type == TD_TOKEN_PUNCT && (norm_is(r, k, "/") || norm_is(r, k, "^"))))
            k++;
        else if (t->type == TD_TOKEN_NUMBER && k > i + 1 &&
                 (norm_is(r, k - 1, "^") || norm_is(r, k - 1, "×") || norm_is(r, k - 1, "x")))
            k++;
        else if (t->type == TD_TOKEN_WORD && k > 0 && norm_is(r, k - 1, "/") && t->norm_len <= 4)
            k++; /* "/L", "/mm3", "/dL" */
        else
            break;
    }
    return k;
}

/* "ECOG 0-2", "ECOG performance status ≤ 1", "ECOG 0 or 1": emits
 * ecog_<n> for each accepted score and returns the token after the score,
 * or 0 when no score follows. */
static size_t ecog_scores(run_t *r, size_t i, uint32_t position)
{
    bool accepted[6] = {false};
    bool any = false, at_most = false, below = false;
    size_t k = i + 1, end = 0;
    int last = -1;
    for (; k < r->n && k < i + 12; k++) {
        const td_token_t *t = &r->tokens[k];
        uint32_t ignored;
        if (t->type == TD_TOKEN_NUMBER && t->norm_len == 1 && norm(r, k)[0] <= '5') {
            int score = norm(r, k)[0] - '0';
            int low = at_most || below ? 0 : score;
            int high = below ? score - 1 : score;
            if (last >= 0 && k >= 2 && (norm_is(r, k - 1, "-") || norm_is(r, k - 1, "to")))
                low = last;
            for (int s = low; s <= high; s++)
                accepted[s] = true;
            any = true;
            at_most = below = false;
            last = score;
            end = k + 1;
        } else if (t->type == TD_TOKEN_PUNCT &&
                   (norm_is(r, k, "≤") || norm_is(r, k, "⩽") ||
                    (norm_is(r, k, "<") && joined_punct(r, k + 1, "=")))) {
            at_most = true;
        } else if (t->type == TD_TOKEN_PUNCT && norm_is(r, k, "<")) {
            below = true;
        } else if (norm_is(r, k, "-") || norm_is(r, k, "to") || norm_is(r, k, "or") ||
                   norm_is(r, k, ",") || norm_is(r, k, "and") || norm_is(r, k, "=") ||
                   norm_is(r, k, ":") || norm_is(r, k, "(") || norm_is(r, k, ")") ||
                   (t->type == TD_TOKEN_WORD &&
                    td_strmap_get(&r->analyzer->ecog_fillers, norm(r, k), t->norm_len, &ignored))) {
            continue;
        } else {
            break;
        }
    }
    if (!any)
        return 0;
    for (int s = 0; s <= 5; s++)
        if (accepted[s]) {
            char term[16];
            snprintf(term, sizeof(term), "ecog_%d", s);
            emit_str(r, TD_TERM_CANONICAL, term, position, r->tokens[i].start,
                     r->tokens[end - 1].end);
        }
    return end;
}

/* "Y537S", "H1047R", "E545K", "V600E", "G12C": a protein change. */
static bool is_variant(const char *text, size_t len)
{
    if (len < 3 || len > 7 || text[0] < 'a' || text[0] > 'z')
        return false;
    size_t i = 1;
    while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
    return i > 1 && i <= 5 && i + 1 == len && text[i] >= 'a' && text[i] <= 'z';
}

/* A gene symbol ending in a digit followed by "/digit" lists:
 * "CDK4/6" -> cdk4_6 cdk4 cdk6; "BRCA1/2"; "SMAD2/3". Returns the token
 * after the list, or 0. */
static size_t slash_list(run_t *r, size_t i, uint32_t position)
{
    const td_token_t *t = r->tokens;
    const char *word = norm(r, i);
    size_t len = t[i].norm_len;
    if (t[i].type != TD_TOKEN_WORD || !t[i].has_alpha || len < 2 || word[len - 1] < '0' ||
        word[len - 1] > '9')
        return 0;
    size_t stem_len = len;
    while (stem_len && word[stem_len - 1] >= '0' && word[stem_len - 1] <= '9')
        stem_len--;
    char joined[128];
    size_t joined_len = (size_t) snprintf(joined, sizeof(joined), "%s", word);
    size_t k = i + 1, members = 0;
    char member[128];
    while (joined_punct(r, k, "/") && k + 1 < r->n && !t[k + 1].space_before &&
           norm(r, k + 1)[0] >= '0' && norm(r, k + 1)[0] <= '9') {
        const char *next = norm(r, k + 1);
        size_t digits = strspn(next, "0123456789");
        if (digits > 3 || joined_len + digits + 2 >= sizeof(joined))
            break;
        joined_len += (size_t) snprintf(joined + joined_len, sizeof(joined) - joined_len, "_%.*s",
                                        (int) digits, next);
        if (!members++)
            emit_str(r, TD_TERM_CANONICAL, word, position, t[i].start, t[i].end);
        snprintf(member, sizeof(member), "%.*s%.*s", (int) stem_len, word, (int) digits, next);
        emit_str(r, TD_TERM_CANONICAL, member, position, t[k + 1].start, t[k + 1].end);
        k += 2;
    }
    if (!members)
        return 0;
    emit_str(r, TD_TERM_CANONICAL, joined, position, t[i].start, t[k - 1].end);
    return k;
}

/* A research code or abbreviation written with a hyphen: "DS-8201a",
 * "PD-0332991", "PD-L1", "IMMU-132", "T-DXd" -> one term without the
 * hyphen. The right part must hold a digit, or both parts must look like
 * capitals ("T-DXd"), so "HER2-low" and "first-line" stay apart. Returns
 * the token after the code, or 0. */
static size_t hyphen_code(run_t *r, size_t i, uint32_t position)
{
    const td_token_t *t = r->tokens;
    if (t[i].type == TD_TOKEN_PUNCT || !joined_punct(r, i + 1, "-") || i + 2 >= r->n ||
        t[i + 2].type == TD_TOKEN_PUNCT || t[i + 2].space_before)
        return 0;
    const td_token_t *left = &t[i], *right = &t[i + 2];
    bool code = right->has_digit ||
                (left->has_alpha && !left->has_digit && left->norm_len <= 3 &&
                 (left->all_caps || left->norm_len == 1) && left->has_upper && right->has_upper);
    if (!code || !left->has_alpha)
        return 0;
    char joined[256];
    int len = snprintf(joined, sizeof(joined), "%s%s", norm(r, i), norm(r, i + 2));
    if (len <= 0 || (size_t) len >= sizeof(joined))
        return 0;
    emit(r, TD_TERM_CANONICAL, joined, (size_t) len, position, left->start, right->end);
    return i + 3;
}

static void emit_word(run_t *r, size_t i, uint32_t position)
{
    const td_token_t *t = &r->tokens[i];
    const char *word = norm(r, i);
    uint32_t ignored;
    if (!t->all_caps && td_strmap_get(&r->analyzer->stopwords, word, t->norm_len, &ignored))
        return;
    emit(r, TD_TERM_WORD, word, t->norm_len, position, t->start, t->end);
    if (t->has_digit || t->all_caps || t->norm_len < 3 || r->a->in_name[i])
        return;
    const char *stemmed = stem(r, word, t->norm_len);
    if (stemmed)
        emit_str(r, TD_TERM_STEM, stemmed, position, t->start, t->end);
}

/* A variant after a recent gene: "ESR1 Y537S" -> esr1_y537s. */
static void emit_variant(run_t *r, size_t i, uint32_t position)
{
    const td_token_t *t = &r->tokens[i];
    if (r->gene_concept == UINT32_MAX || r->unit - r->gene_unit > GENE_WINDOW ||
        !is_variant(norm(r, i), t->norm_len))
        return;
    char term[160];
    snprintf(term, sizeof(term), "%s_%s",
             td_lexicon_concept(r->analyzer->lexicon, r->gene_concept)->id, norm(r, i));
    emit_str(r, TD_TERM_CANONICAL, term, position, t->start, t->end);
    r->gene_unit = r->unit; /* "ESR1 Y537S, D538G and E380Q" */
}

/* One IHC score at token k ("2+", "0"), whose text starts at token `from`
 * ("IHC" or the score itself); returns the token after it, or 0. */
static size_t one_ihc_score(run_t *r, size_t k, uint32_t position, size_t from)
{
    if (k >= r->n || r->tokens[k].type != TD_TOKEN_NUMBER || r->tokens[k].norm_len != 1 ||
        norm(r, k)[0] > '3')
        return 0;
    bool plus = joined_punct(r, k + 1, "+");
    char level = norm(r, k)[0];
    if (!plus && level != '0')
        return 0;
    char score[16], term[160];
    snprintf(score, sizeof(score), plus ? "ihc%cplus" : "ihc%c", level);
    uint32_t start = r->tokens[from].start, end = r->tokens[plus ? k + 1 : k].end;
    emit_str(r, TD_TERM_CANONICAL, score, position, start, end);
    if (r->gene_concept != UINT32_MAX && r->unit - r->gene_unit <= GENE_WINDOW) {
        snprintf(term, sizeof(term), "%s_%s",
                 td_lexicon_concept(r->analyzer->lexicon, r->gene_concept)->id, score);
        emit_str(r, TD_TERM_CANONICAL, term, position, start, end);
    }
    return plus ? k + 2 : k + 1;
}

/* "IHC 2+", "IHC 0 or 1+" -> ihc2plus, ihc0 ihc1plus; after a recent gene
 * also her2_ihc2plus. Returns the token after the scores, or 0. */
static size_t ihc_score(run_t *r, size_t i, uint32_t position)
{
    if (!norm_is(r, i, "ihc"))
        return 0;
    size_t next = one_ihc_score(r, i + 1, position, i);
    if (!next)
        return 0;
    /* A list of scores: "0 or 1+", "1+/2+", "0, 1+". */
    for (;;) {
        size_t k = next;
        if (norm_is(r, k, ",") || norm_is(r, k, "/"))
            k++;
        if (norm_is(r, k, "or") || norm_is(r, k, "and"))
            k++;
        size_t after = k > next ? one_ihc_score(r, k, position, k) : 0;
        if (!after)
            return next;
        next = after;
    }
}

td_status_t td_analyze(td_analysis_t *a, const char *text, size_t len, td_analyze_mode_t mode,
                       uint32_t first_position)
{
    a->count = 0;
    a->text_len = 0;
    a->end_position = first_position;
    td_status_t status = td_tokenize(a->tokenizer, text, len);
    a->invalid_utf8 = td_tokenizer_invalid_utf8(a->tokenizer);
    if (status != TD_OK)
        return status;
    run_t r = {
        .a = a,
        .analyzer = a->analyzer,
        .tokens = td_tokenizer_tokens(a->tokenizer),
        .n = td_tokenizer_count(a->tokenizer),
        .mode = mode,
        .position = first_position,
        .gene_concept = UINT32_MAX,
        .negative_at = {-1, -1, -1},
        .triple_negative_at = -1,
    };
    if ((status = find_mentions(&r)) != TD_OK)
        return status;

    size_t next_mention = 0;
    for (size_t i = 0; i < r.n && r.status == TD_OK;) {
        const td_token_t *t = &r.tokens[i];
        if (t->type == TD_TOKEN_PUNCT) {
            i++;
            continue;
        }
        uint32_t position = r.position++;
        size_t next;
        if (t->type == TD_TOKEN_NUMBER) {
            next = measurement_end(&r, i);
            if (!next) {
                /* A plain integer ("type 2", "stage 4") is a word. */
                if (t->norm_len <= 4 && strspn(norm(&r, i), "0123456789") == t->norm_len)
                    emit(&r, TD_TERM_WORD, norm(&r, i), t->norm_len, position, t->start, t->end);
                next = i + 1;
            }
            emit_mentions(&r, &next_mention, i, next, position);
        } else if ((next = hyphen_code(&r, i, position))) {
            emit_mentions(&r, &next_mention, i, next, position);
        } else if ((next = slash_list(&r, i, position))) {
            emit_word(&r, i, position);
            emit_mentions(&r, &next_mention, i, next, position);
        } else {
            next = i + 1;
            emit_mentions(&r, &next_mention, i, next, position);
            emit_word(&r, i, position);
            emit_variant(&r, i, position);
            size_t after;
            if ((after = ihc_score(&r, i, position)) ||
                (norm_is(&r, i, "ecog") && (after = ecog_scores(&r, i, position))))
                next = after;
        }
        r.unit++;
        i = next;
    }
    if (r.status != TD_OK)
        return r.status;
    for (size_t k = 0; k < a->count; k++)
        a->terms[k].text = a->text + a->term_text[k];
    a->end_position = r.position;
    return TD_OK;
}
