/* query.c - the query language: a lexer and a recursive-descent parser.
 *
 *   query    := or
 *   or       := and ("OR" and)*
 *   and      := unary (["AND"] unary)*
 *   unary    := ("NOT" | "-") unary | near
 *   near     := primary ("NEAR" ["/" n] primary)*
 *   primary  := "(" or ")" | field ":" value | "\"" words "\"" | ["="] word | word "*"
 *
 * Runs of plain words become one TEXT node, so the analyzer sees them
 * together ("HR+/HER2- metastatic breast cancer", "ER- PR- HER2-"). A '-'
 * right after a word ("HER2-") is part of the word; " -low" after a
 * biomarker ("HER2 -low") is its level, never an exclusion.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search_internal.h"
#include "td_schema.h"
#include "td_trial.h"

#define MAX_DEPTH 64

td_status_t td_query_fail(td_query_error_t *error, size_t position, const char *hint,
                          const char *fmt, ...)
{
    if (error) {
        error->position = position;
        va_list args;
        va_start(args, fmt);
        vsnprintf(error->message, sizeof(error->message), fmt, args);
        va_end(args);
        snprintf(error->hint, sizeof(error->hint), "%s", hint ? hint : "");
    }
    return TD_ERR_BAD_QUERY;
}

void td_qnode_free(td_qnode_t *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->child_count; i++)
        td_qnode_free(node->children[i]);
    free(node->children);
    free(node->text);
    td_xquery_free(node->filter);
    free(node);
}

void td_parsed_query_clear(td_parsed_query_t *parsed)
{
    td_qnode_free(parsed->root);
    td_xquery_free(parsed->rules_out);
    memset(parsed, 0, sizeof(*parsed));
}

/* ---- lexer ---- */

typedef enum token_kind {
    TOKEN_END,
    TOKEN_OPEN,
    TOKEN_CLOSE,
    TOKEN_AND,
    TOKEN_OR,
    TOKEN_NOT,
    TOKEN_NEAR,
    TOKEN_MINUS,  /* exclusion: "-word" */
    TOKEN_FIELD,  /* "name:" with the value right after */
    TOKEN_PHRASE, /* "quoted" */
    TOKEN_WORD
} token_kind_t;

typedef struct token {
    token_kind_t kind;
    size_t start, end;     /* bytes of the token in the query */
    size_t text, text_len; /* WORD, PHRASE: the words; FIELD: the name */
    bool exact, wildcard;
    bool glued;      /* WORD: continues the previous word ("HER2 -low") */
    uint32_t window; /* NEAR */
} token_t;

typedef struct parser {
    td_searcher_t *searcher;
    const char *q;
    size_t len, at;
    token_t token; /* the current token */
    bool have_token;
    token_t previous; /* the token before it */
    td_query_error_t *error;
    td_status_t status;
    td_parsed_query_t *out;
    int depth;
} parser_t;

static const char FIELD_HINT[] =
    "text fields: title: cond: drug: biomarker: outcome: sponsor: site: inc: exc: id:; filters: "
    "status: phase: type: sex: country: age: start: updated: enrollment: results: healthy: "
    "near: recruiting-near: within:";

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool ends_word(char c)
{
    return !c || is_space(c) || c == '(' || c == ')' || c == '"';
}

/* Whether the word [start, end) names a biomarker, so that " -low" after it
 * is its level, not an exclusion. */
static bool is_biomarker_word(parser_t *p, size_t start, size_t end)
{
    td_analysis_t *analysis = p->searcher->analysis;
    if (td_analyze(analysis, p->q + start, end - start, TD_ANALYZE_QUERY, 0) != TD_OK)
        return false;
    for (size_t i = 0; i < td_analysis_count(analysis); i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == TD_TERM_CANONICAL)
            return true;
        if (t->kind == TD_TERM_CONCEPT) {
            const char *kind = td_analyzer_concept_kind(p->searcher->analyzer, t->text);
            if (kind && (strcmp(kind, "gene") == 0 || strcmp(kind, "assay") == 0))
                return true;
        }
    }
    return false;
}

/* A word that states a biomarker's level or status, so "HER2 -low" is
 * HER2-low and "HER2 -trastuzumab" an exclusion. */
static bool is_level_word(const char *text)
{
    static const char *const levels[] = {
        "low",       "ultralow",   "high",    "positive", "negative", "pos",
        "neg",       "null",       "zero",    "mutant",   "mutated",  "mutation",
        "amplified", "expressing", "deleted", "wildtype", "wt"};
    size_t len = 0;
    while (isalpha((unsigned char) text[len]))
        len++;
    if (!len || (text[len] && !ends_word(text[len]) && text[len] != ','))
        return false;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strlen(levels[i]) == len && strncasecmp(text, levels[i], len) == 0)
            return true;
    return false;
}

static bool lex_fail(parser_t *p, size_t position, const char *hint, const char *message)
{
    p->status = td_query_fail(p->error, position, hint, "%s", message);
    return false;
}

/* Reads the token at p->at into p->token. */
static bool lex(parser_t *p)
{
    const char *q = p->q;
    while (p->at < p->len && is_space(q[p->at]))
        p->at++;
    size_t start = p->at;
    bool space_before = start == 0 || is_space(q[start - 1]) || q[start - 1] == '(';
    token_t t = {.start = start};
    if (start >= p->len) {
        t.kind = TOKEN_END;
        t.end = start;
        p->token = t;
        return true;
    }
    char c = q[start];
    if (c == '(' || c == ')') {
        t.kind = c == '(' ? TOKEN_OPEN : TOKEN_CLOSE;
        t.end = start + 1;
        p->at = t.end;
        p->token = t;
        return true;
    }
    if (c == '=' && start + 1 < p->len && !is_space(q[start + 1])) {
        if (q[start + 1] == '(' || q[start + 1] == ')')
            return lex_fail(p, start, "write =word or =\"a phrase\"",
                            "= goes before a word or a phrase");
        t.exact = true;
        start++;
        c = q[start];
    }
    if (c == '"') {
        const char *close = memchr(q + start + 1, '"', p->len - start - 1);
        if (!close)
            return lex_fail(p, start, "close the phrase with a second \"", "unterminated quote");
        t.kind = TOKEN_PHRASE;
        t.text = start + 1;
        t.text_len = (size_t) (close - q) - t.text;
        t.end = (size_t) (close - q) + 1;
        p->at = t.end;
        size_t i = 0;
        while (i < t.text_len && is_space(q[t.text + i]))
            i++;
        if (i == t.text_len)
            return lex_fail(p, t.start, "put words between the quotes", "empty phrase");
        p->token = t;
        return true;
    }
    /* "-word", "-(group)", "-\"phrase\"": an exclusion, unless it is a
     * biomarker's level ("HER2 -low"). */
    if (c == '-' && start + 1 < p->len && !is_space(q[start + 1]) && q[start + 1] != ')' &&
        q[start + 1] != '-' && space_before && !t.exact) {
        if (p->previous.kind == TOKEN_WORD && !p->previous.exact && !p->previous.wildcard &&
            p->previous.end == start - 1 && is_level_word(q + start + 1) &&
            is_biomarker_word(p, p->previous.text, p->previous.text + p->previous.text_len)) {
            t.glued = true;
        } else {
            t.kind = TOKEN_MINUS;
            t.end = start + 1;
            p->at = t.end;
            p->token = t;
            return true;
        }
    }
    if (c == '+' && start + 1 < p->len && !ends_word(q[start + 1]) && !t.exact)
        start++; /* "+word": required, as every word already is */
    size_t end = start;
    while (end < p->len && !ends_word(q[end]))
        end++;
    t.end = end;
    p->at = end;
    /* A field: letters (and '-') then ':' */
    size_t colon = start;
    while (colon < end && (isalpha((unsigned char) q[colon]) || (colon > start && q[colon] == '-')))
        colon++;
    if (colon > start && colon < end + 1 && q[colon] == ':' && !t.exact) {
        t.kind = TOKEN_FIELD;
        t.text = start;
        t.text_len = colon - start;
        t.end = colon + 1;
        p->at = t.end;
        p->token = t;
        return true;
    }
    t.kind = TOKEN_WORD;
    t.text = start;
    t.text_len = end - start;
    if (!t.glued && !t.exact) {
        static const struct {
            const char *word;
            token_kind_t kind;
        } operators[] = {{"AND", TOKEN_AND}, {"OR", TOKEN_OR}, {"NOT", TOKEN_NOT}};
        for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
            if (t.text_len == strlen(operators[i].word) &&
                memcmp(q + start, operators[i].word, t.text_len) == 0)
                t.kind = operators[i].kind;
        if (t.text_len >= 4 && memcmp(q + start, "NEAR", 4) == 0) {
            if (t.text_len == 4) {
                t.kind = TOKEN_NEAR;
                t.window = 10;
            } else if (q[start + 4] == '/') {
                char *stop;
                long window = strtol(q + start + 5, &stop, 10);
                if (stop != q + end || window < 1 || window > 1000)
                    return lex_fail(p, start, "write NEAR/n with n from 1 to 1000, e.g. NEAR/5",
                                    "bad NEAR window");
                t.kind = TOKEN_NEAR;
                t.window = (uint32_t) window;
            }
        }
    }
    size_t characters = 0; /* UTF-8 characters before the '*' */
    for (size_t i = start; i + 1 < end; i++)
        characters += ((unsigned char) q[i] & 0xC0) != 0x80;
    if (t.kind == TOKEN_WORD && q[end - 1] == '*') {
        if (characters < 2)
            return lex_fail(p, start, "give at least two letters before the *, e.g. palbo*",
                            "wildcard too short");
        if (memchr(q + start, '*', t.text_len - 1))
            return lex_fail(p, start, "only a trailing * is supported, e.g. palbo*",
                            "'*' inside a word");
        t.wildcard = true;
        t.text_len--;
    }
    p->token = t;
    return true;
}

static token_t *peek(parser_t *p)
{
    if (!p->have_token) {
        if (!lex(p)) {
            p->token.kind = TOKEN_END;
            p->token.start = p->token.end = p->len;
        }
        p->have_token = true;
    }
    return &p->token;
}

static void advance(parser_t *p)
{
    p->previous = p->token;
    p->have_token = false;
}

/* ---- nodes ---- */

static td_qnode_t *new_node(parser_t *p, td_qnode_kind_t kind, size_t position)
{
    td_qnode_t *node = calloc(1, sizeof(*node));
    if (!node) {
        p->status = TD_ERR_NO_MEMORY;
        return NULL;
    }
    node->kind = kind;
    node->position = position;
    node->scope = TD_SCOPE_ALL;
    return node;
}

static bool add_child(parser_t *p, td_qnode_t *parent, td_qnode_t *child)
{
    td_qnode_t **grown = realloc(parent->children, (parent->child_count + 1) * sizeof(*grown));
    if (!grown) {
        td_qnode_free(child);
        p->status = TD_ERR_NO_MEMORY;
        return false;
    }
    parent->children = grown;
    parent->children[parent->child_count++] = child;
    return true;
}

static char *copy_text(parser_t *p, size_t start, size_t len)
{
    char *text = malloc(len + 1);
    if (!text) {
        p->status = TD_ERR_NO_MEMORY;
        return NULL;
    }
    memcpy(text, p->q + start, len);
    text[len] = '\0';
    return text;
}

/* Appends a word to a TEXT node's text: after a space, or glued ("HER2" +
 * "-low" -> "HER2-low"). */
static bool append_word(parser_t *p, td_qnode_t *node, const token_t *t)
{
    size_t old = strlen(node->text);
    char *grown = realloc(node->text, old + t->text_len + 2);
    if (!grown) {
        p->status = TD_ERR_NO_MEMORY;
        return false;
    }
    node->text = grown;
    if (!t->glued)
        grown[old++] = ' ';
    memcpy(grown + old, p->q + t->text, t->text_len);
    grown[old + t->text_len] = '\0';
    return true;
}

/* ---- filters ---- */

static td_status_t filter_fail(parser_t *p, size_t position, const char *hint, const char *fmt,
                               const char *value)
{
    p->status = td_query_fail(p->error, position, hint, fmt, value);
    return p->status;
}

/* An OR of filter terms XF<facet>=<value>, or AND with `all`. */
static td_xquery_t *terms_query(parser_t *p, const char *facet, const char *const *values,
                                size_t count, bool all)
{
    td_xquery_t *children[32] = {0};
    size_t n = 0;
    for (size_t i = 0; i < count && i < 32; i++) {
        char term[256];
        snprintf(term, sizeof(term), TD_PREFIX_FILTER "%s=%s", facet, values[i]);
        if (td_xquery_new_term(term, 1, 0, &children[n]) != TD_OK)
            break;
        n++;
    }
    td_xquery_t *out = NULL;
    if (n == count &&
        td_xquery_new_compound(all ? TD_XOP_AND : TD_XOP_OR, (const td_xquery_t *const *) children,
                               n, 0, &out) != TD_OK)
        out = NULL;
    for (size_t i = 0; i < n; i++)
        td_xquery_free(children[i]);
    if (!out)
        p->status = TD_ERR_NO_MEMORY;
    return out;
}

static const struct {
    const char *name;
    const char *value;
} STATUS_NAMES[] = {
    {"recruiting", "recruiting"},
    {"rec", "recruiting"},
    {"not_yet_recruiting", "not_yet_recruiting"},
    {"not", "not_yet_recruiting"},
    {"nyr", "not_yet_recruiting"},
    {"active_not_recruiting", "active_not_recruiting"},
    {"active", "active_not_recruiting"},
    {"act", "active_not_recruiting"},
    {"enrolling_by_invitation", "enrolling_by_invitation"},
    {"enr", "enrolling_by_invitation"},
    {"completed", "completed"},
    {"com", "completed"},
    {"terminated", "terminated"},
    {"ter", "terminated"},
    {"suspended", "suspended"},
    {"sus", "suspended"},
    {"withdrawn", "withdrawn"},
    {"wit", "withdrawn"},
    {"unknown", "unknown"},
    {"unk", "unknown"},
    {"available", "available"},
    {"no_longer_available", "no_longer_available"},
    {"temporarily_not_available", "temporarily_not_available"},
    {"approved_for_marketing", "approved_for_marketing"},
    {"withheld", "withheld"},
};

/* Splits a comma list in place into up to `max` lower-case items with '-'
 * and ' ' as '_'; returns the count, or TOO_MANY. */
#define TOO_MANY ((size_t) -1)
static size_t split_list(char *value, char **items, size_t max, bool underscores)
{
    size_t n = 0;
    char *rest = NULL; /* strtok_r: searchers run on several threads at once */
    for (char *item = strtok_r(value, ",", &rest); item; item = strtok_r(NULL, ",", &rest)) {
        if (n == max)
            return TOO_MANY;
        while (is_space(*item))
            item++;
        size_t len = strlen(item);
        while (len && is_space(item[len - 1]))
            item[--len] = '\0';
        for (char *c = item; *c; c++) {
            *c = (char) tolower((unsigned char) *c);
            if (underscores && (*c == '-' || *c == ' '))
                *c = '_';
        }
        if (*item)
            items[n++] = item;
    }
    return n;
}

static td_status_t parse_status(parser_t *p, char *value, size_t position, td_xquery_t **out)
{
    char *items[16];
    const char *values[16];
    size_t n = split_list(value, items, 16, true);
    if (n == TOO_MANY)
        return filter_fail(p, position, "list fewer values", "too many values for %s:", "status");
    for (size_t i = 0; i < n; i++) {
        values[i] = NULL;
        if (strcmp(items[i], "open") == 0) {
            static const char *const open[] = {"recruiting", "not_yet_recruiting",
                                               "enrolling_by_invitation", "available"};
            td_xquery_t *q = terms_query(p, "status", open, 4, false);
            if (!q)
                return p->status;
            if (n == 1) {
                *out = q;
                return TD_OK;
            }
            td_xquery_free(q);
            return filter_fail(p, position, "use status:open alone, or list statuses",
                               "status:%s cannot be mixed with other statuses", "open");
        }
        for (size_t k = 0; k < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]); k++)
            if (strcmp(items[i], STATUS_NAMES[k].name) == 0)
                values[i] = STATUS_NAMES[k].value;
        if (!values[i])
            return filter_fail(p, position,
                               "statuses: recruiting (rec), not_yet_recruiting (not), "
                               "active_not_recruiting (act), enrolling_by_invitation (enr), "
                               "completed (com), terminated (ter), suspended (sus), withdrawn "
                               "(wit), unknown (unk), open",
                               "unknown status '%s'", items[i]);
    }
    if (!n)
        return filter_fail(p, position, "e.g. status:recruiting", "status:%s needs a value", "");
    *out = terms_query(p, "status", values, n, false);
    return *out ? TD_OK : p->status;
}

static int phase_index(const char *text)
{
    static const char *const names[][3] = {
        {"0", "early", "early_phase1"}, {"1", "phase1", "i"},  {"2", "phase2", "ii"},
        {"3", "phase3", "iii"},         {"4", "phase4", "iv"},
    };
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++)
            if (strcmp(text, names[i][k]) == 0)
                return i;
    if (strcmp(text, "early1") == 0 || strcmp(text, "early_phase_1") == 0)
        return 0;
    return -1;
}

static const char *const PHASE_VALUES[] = {"early_phase1", "phase1", "phase2", "phase3", "phase4"};

/* phase:2 (phase 2), phase:2-3 (any of 2..3), phase:2/3 (both: a phase
 * 2/3 trial), phase:1,3 (either), phase:na. */
static td_status_t parse_phase(parser_t *p, char *value, size_t position, td_xquery_t **out)
{
    static const char hint[] =
        "phases: 0 (early phase 1), 1, 2, 3, 4, na; 2-3 means any of 2 to 3, 2/3 means both";
    char *items[8];
    size_t n = split_list(value, items, 8, false);
    if (n == TOO_MANY)
        return filter_fail(p, position, "list fewer values", "too many values for %s:", "phase");
    td_xquery_t *alternatives[8];
    size_t count = 0;
    td_status_t status = TD_OK;
    for (size_t i = 0; i < n && status == TD_OK; i++) {
        char *item = items[i];
        const char *values[5];
        size_t value_count = 0;
        bool all = false;
        char *dash = strchr(item, '-'), *slash = strchr(item, '/');
        if (strcmp(item, "na") == 0 || strcmp(item, "n/a") == 0) {
            values[value_count++] = "na";
        } else if (dash || slash) {
            char *split = dash ? dash : slash;
            *split = '\0';
            int low = phase_index(item), high = phase_index(split + 1);
            if (low < 0 || high < 0 || low > high) {
                status = filter_fail(p, position, hint, "bad phase range '%s'", value);
                break;
            }
            for (int k = low; k <= high; k++)
                values[value_count++] = PHASE_VALUES[k];
            all = slash != NULL;
        } else {
            int k = phase_index(item);
            if (k < 0) {
                status = filter_fail(p, position, hint, "unknown phase '%s'", item);
                break;
            }
            values[value_count++] = PHASE_VALUES[k];
        }
        alternatives[count] = terms_query(p, "phase", values, value_count, all);
        if (!alternatives[count])
            status = p->status;
        else
            count++;
    }
    if (status == TD_OK && !count)
        status = filter_fail(p, position, hint, "phase:%s needs a value", "");
    if (status == TD_OK &&
        td_xquery_new_compound(TD_XOP_OR, (const td_xquery_t *const *) alternatives, count, 0,
                               out) != TD_OK)
        status = p->status = TD_ERR_NO_MEMORY;
    for (size_t i = 0; i < count; i++)
        td_xquery_free(alternatives[i]);
    return status;
}

/* A filter with a fixed set of values and their short forms; a choice may
 * stand for several filter values, ORed. */
typedef struct choice {
    const char *name;
    const char *values[2];
} choice_t;

static td_status_t parse_choice(parser_t *p, const char *facet, const choice_t *choices,
                                size_t choice_count, const char *hint, char *value, size_t position,
                                td_xquery_t **out)
{
    char *items[8];
    size_t n = split_list(value, items, 8, true);
    if (n == TOO_MANY)
        return filter_fail(p, position, "list at most 8 values", "too many values for %s:", facet);
    const char *values[16];
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const choice_t *found = NULL;
        for (size_t k = 0; k < choice_count && !found; k++)
            if (strcmp(items[i], choices[k].name) == 0)
                found = &choices[k];
        if (!found) {
            p->status = td_query_fail(p->error, position, hint, "unknown %s '%s'", facet, items[i]);
            return p->status;
        }
        for (size_t k = 0; k < 2 && found->values[k]; k++)
            values[count++] = found->values[k];
    }
    if (!count)
        return filter_fail(p, position, hint, "%s: needs a value", facet);
    *out = terms_query(p, facet, values, count, false);
    return *out ? TD_OK : p->status;
}

static const choice_t TYPES[] = {
    {"interventional", {"interventional"}},
    {"int", {"interventional"}},
    {"observational", {"observational"}},
    {"obs", {"observational"}},
    {"expanded_access", {"expanded_access"}},
    {"expanded", {"expanded_access"}},
    {"ea", {"expanded_access"}},
};
/* A trial for all sexes admits a woman too. */
static const choice_t SEXES[] = {
    {"female", {"female", "all"}},
    {"f", {"female", "all"}},
    {"women", {"female", "all"}},
    {"male", {"male", "all"}},
    {"m", {"male", "all"}},
    {"men", {"male", "all"}},
    {"all", {"all"}},
};
static const choice_t YES_NO[] = {{"yes", {"yes"}}, {"y", {"yes"}}, {"no", {"no"}}, {"n", {"no"}}};

/* Countries the registry spells more than one way; an alias stands for
 * every spelling. */
static const struct {
    const char *alias;
    const char *countries[2];
} COUNTRY_ALIASES[] = {
    {"us", {"united states"}},
    {"usa", {"united states"}},
    {"u.s.", {"united states"}},
    {"united states of america", {"united states"}},
    {"america", {"united states"}},
    {"uk", {"united kingdom"}},
    {"britain", {"united kingdom"}},
    {"great britain", {"united kingdom"}},
    {"england", {"united kingdom"}},
    {"korea", {"korea, republic of", "south korea"}},
    {"south korea", {"korea, republic of", "south korea"}},
    {"korea, republic of", {"korea, republic of", "south korea"}},
    {"russia", {"russian federation", "russia"}},
    {"russian federation", {"russian federation", "russia"}},
    {"iran", {"iran, islamic republic of", "iran"}},
    {"prc", {"china"}},
    {"mainland china", {"china"}},
};

/* Whether `country` (lower case) is a country some trial has a site in. */
static bool indexed_country(parser_t *p, const char *country)
{
    char term[300];
    snprintf(term, sizeof(term), TD_PREFIX_FILTER "country=%s", country);
    bool exists = false;
    td_xdb_term_exists(p->searcher->db, term, &exists);
    return exists;
}

static td_status_t parse_country(parser_t *p, char *value, size_t position, td_xquery_t **out)
{
    for (char *c = value; *c; c++)
        *c = (char) tolower((unsigned char) *c);
    char *items[16];
    size_t n = 0;
    /* "korea, republic of" is one country, not a list. */
    if (strchr(value, ',') && indexed_country(p, value))
        items[n++] = value;
    else
        n = split_list(value, items, 16, false);
    if (n == TOO_MANY)
        return filter_fail(p, position, "list at most 16 countries", "too many countries%s", "");
    if (!n)
        return filter_fail(p, position, "e.g. country:china or country:\"united states\"",
                           "country: needs a value%s", "");
    const char *values[32];
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        bool alias = false;
        for (size_t k = 0; k < sizeof(COUNTRY_ALIASES) / sizeof(COUNTRY_ALIASES[0]) && !alias; k++)
            if (strcmp(items[i], COUNTRY_ALIASES[k].alias) == 0) {
                alias = true;
                for (size_t j = 0; j < 2 && COUNTRY_ALIASES[k].countries[j]; j++)
                    values[count++] = COUNTRY_ALIASES[k].countries[j];
            }
        if (!alias)
            values[count++] = items[i];
    }
    *out = terms_query(p, "country", values, count, false);
    return *out ? TD_OK : p->status;
}

/* A plain decimal at `text` (digits, at most one '.', a leading '-' when
 * `sign`): what strtod reads, without its hex, exponents, infinities and
 * NaNs. Returns the end, or NULL. */
static const char *plain_number(const char *text, bool sign, double *out)
{
    const char *c = text + (sign && *text == '-');
    size_t digits = 0, dots = 0;
    for (; isdigit((unsigned char) *c) || (*c == '.' && !dots); c++) {
        digits += *c != '.';
        dots += *c == '.';
    }
    if (!digits || digits > 15)
        return NULL;
    char copy[32];
    size_t len = (size_t) (c - text);
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    return c;
}

/* "45", "45y", "45 years", "6mo", "6 months", "3w", "10d" -> days, counted
 * as the indexer counts trials' limits (td_age_parse). */
static bool parse_age_days(const char *text, double *days)
{
    double value;
    const char *number_end = plain_number(text, false, &value);
    if (!number_end)
        return false;
    const char *end = number_end;
    while (is_space(*end))
        end++;
    static const struct {
        const char *abbreviation;
        const char *unit;
    } units[] = {{"", "years"},    {"y", "years"}, {"yr", "years"}, {"yrs", "years"},
                 {"mo", "months"}, {"w", "weeks"}, {"d", "days"}};
    const char *unit = end;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].abbreviation) == 0)
            unit = units[i].unit;
    char age[64];
    td_age_t parsed;
    snprintf(age, sizeof(age), "%.*s %s", (int) (number_end - text), text, unit);
    if (td_age_parse(age, &parsed) != TD_OK || parsed.days < 0 || parsed.days > 150 * 366)
        return false;
    *days = parsed.days;
    return true;
}

/* A slot's value within [low, high] (either may be NULL), or the slot empty
 * when `or_missing`. */
static td_xquery_t *slot_range(parser_t *p, unsigned slot, const char *low, size_t low_len,
                               const char *high, size_t high_len, bool or_missing)
{
    td_xquery_t *range = NULL, *all = NULL, *any = NULL, *missing = NULL, *out = NULL;
    if (td_xquery_new_value_range(slot, low, low_len, high, high_len, &range) != TD_OK)
        goto done;
    if (!or_missing) {
        out = range;
        range = NULL;
        goto done;
    }
    if (td_xquery_new_match_all(&all) != TD_OK ||
        td_xquery_new_value_range(slot, HAS_VALUE, 1, NULL, 0, &any) != TD_OK)
        goto done;
    const td_xquery_t *not_parts[] = {all, any};
    if (td_xquery_new_compound(TD_XOP_AND_NOT, not_parts, 2, 0, &missing) != TD_OK)
        goto done;
    const td_xquery_t *or_parts[] = {range, missing};
    td_xquery_new_compound(TD_XOP_OR, or_parts, 2, 0, &out);
done:
    td_xquery_free(range);
    td_xquery_free(all);
    td_xquery_free(any);
    td_xquery_free(missing);
    if (!out)
        p->status = TD_ERR_NO_MEMORY;
    return out;
}

/* The trials whose age range admits someone `days` old (no minimum or one
 * at most that, and no maximum or one at least that). */
static td_status_t age_query(parser_t *p, double days, td_xquery_t **out)
{
    char encoded[TD_XSORTABLE_MAX];
    size_t len = td_xsortable_serialise(days, encoded);
    td_xquery_t *minimum = slot_range(p, TD_SLOT_MINIMUM_AGE, NULL, 0, encoded, len, true);
    td_xquery_t *maximum = slot_range(p, TD_SLOT_MAXIMUM_AGE, encoded, len, NULL, 0, true);
    td_status_t status = TD_ERR_NO_MEMORY;
    if (minimum && maximum) {
        const td_xquery_t *parts[] = {minimum, maximum};
        status = td_xquery_new_compound(TD_XOP_AND, parts, 2, 0, out);
    }
    td_xquery_free(minimum);
    td_xquery_free(maximum);
    return p->status = status;
}

/* age:45: the trial's age range admits a 45-year-old. */
static td_status_t parse_age(parser_t *p, const char *value, size_t position, td_xquery_t **out)
{
    double days;
    if (!parse_age_days(value, &days))
        return filter_fail(p, position,
                           "an age in years (age:45), or with a unit: age:18mo, age:3w, age:10d",
                           "bad age '%s'", value);
    return age_query(p, days, out);
}

/* "2020", "2020-05", "2020-05-17" (or "May 2020", as td_date_parse reads
 * dates) -> "YYYYMMDD" as the lowest (or, with `high`, the highest) date
 * it covers. */
static bool parse_date_bound(const char *text, size_t len, bool high, char out[9])
{
    char copy[32];
    if (len >= sizeof(copy) || !isalnum((unsigned char) text[0]))
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    td_date_t date = {0};
    if (td_date_parse(copy, &date) != TD_OK || date.year > 2200)
        return false;
    int month = date.precision >= TD_DATE_MONTH ? date.month : high ? 99 : 0;
    int day = date.precision == TD_DATE_DAY ? date.day : high ? 99 : 0;
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "%04d%02d%02d", date.year, month, day);
    memcpy(out, buffer, 9);
    return true;
}

/* Splits "a..b", "a..", "..b" or "a"; *single when there was no "..". */
static bool split_range(const char *value, const char **low, size_t *low_len, const char **high,
                        size_t *high_len)
{
    const char *dots = strstr(value, "..");
    if (!dots) {
        *low = *high = value;
        *low_len = *high_len = strlen(value);
        return *low_len > 0;
    }
    *low = value;
    *low_len = (size_t) (dots - value);
    *high = dots + 2;
    *high_len = strlen(*high);
    return (*low_len || *high_len) && !strstr(*high, "..") && **high != '.';
}

static td_status_t parse_date_range(parser_t *p, const char *field, unsigned slot,
                                    const char *value, size_t position, td_xquery_t **out)
{
    static const char hint[] =
        "dates are YYYY, YYYY-MM or YYYY-MM-DD; ranges a..b, a.. or ..b, e.g. start:2020..2024";
    const char *low, *high;
    size_t low_len, high_len;
    char low_date[9], high_date[9];
    if (!split_range(value, &low, &low_len, &high, &high_len) ||
        (low_len && !parse_date_bound(low, low_len, false, low_date)) ||
        (high_len && !parse_date_bound(high, high_len, true, high_date))) {
        char message[64];
        snprintf(message, sizeof(message), "bad date range '%%s' for %s:", field);
        return filter_fail(p, position, hint, message, value);
    }
    if (low_len && high_len && strcmp(low_date, high_date) > 0)
        return filter_fail(p, position, "put the earlier date first, e.g. start:2020..2024",
                           "empty date range '%s': the start is after the end", value);
    *out = slot_range(p, slot, low_len ? low_date : NULL, low_len ? 8 : 0,
                      high_len ? high_date : NULL, high_len ? 8 : 0, false);
    return *out ? TD_OK : p->status;
}

static td_status_t parse_number_range(parser_t *p, const char *field, unsigned slot,
                                      const char *value, size_t position, td_xquery_t **out)
{
    const char *low, *high;
    size_t low_len, high_len;
    double bounds[2] = {0, 0};
    bool ok = split_range(value, &low, &low_len, &high, &high_len);
    const char *parts[2] = {low, high};
    size_t lens[2] = {low_len, high_len};
    for (int i = 0; i < 2 && ok; i++) {
        if (!lens[i])
            continue;
        char copy[32];
        if (lens[i] >= sizeof(copy)) {
            ok = false;
            break;
        }
        memcpy(copy, parts[i], lens[i]);
        copy[lens[i]] = '\0';
        const char *end = plain_number(copy, false, &bounds[i]);
        ok = end && !*end;
    }
    if (!ok) {
        char message[64];
        snprintf(message, sizeof(message), "bad number range '%%s' for %s:", field);
        return filter_fail(p, position, "ranges are a..b, a.. or ..b, e.g. enrollment:100..500",
                           message, value);
    }
    if (low_len && high_len && bounds[0] > bounds[1])
        return filter_fail(p, position, "put the smaller number first, e.g. enrollment:100..500",
                           "empty range '%s': the start is above the end", value);
    char low_key[TD_XSORTABLE_MAX], high_key[TD_XSORTABLE_MAX];
    size_t low_key_len = low_len ? td_xsortable_serialise(bounds[0], low_key) : 0;
    size_t high_key_len = high_len ? td_xsortable_serialise(bounds[1], high_key) : 0;
    *out = slot_range(p, slot, low_len ? low_key : NULL, low_key_len, high_len ? high_key : NULL,
                      high_key_len, false);
    return *out ? TD_OK : p->status;
}

/* Finds a place by the name of a city that trial sites have, reading the
 * site's coordinates from a trial that has it: the index is the gazetteer. */
static bool find_place(parser_t *p, const char *name, double *latitude, double *longitude);

static td_status_t parse_geo_near(parser_t *p, const char *value, size_t position, bool recruiting)
{
    td_geo_t *geo = &p->out->geo;
    if (geo->set)
        return filter_fail(p, position, "give one place to measure from",
                           "a second near: or recruiting-near: ('%s')", value);
    double latitude = 0, longitude = 0;
    const char *end = plain_number(value, true, &latitude);
    if (end && *end == ',') {
        const char *end2 = plain_number(end + 1, true, &longitude);
        if (!end2 || *end2 || latitude < -90 || latitude > 90 || longitude < -180 ||
            longitude > 180)
            return filter_fail(p, position,
                               "coordinates are latitude,longitude in degrees, e.g. "
                               "near:34.3,108.9",
                               "bad coordinates '%s'", value);
    } else if (!find_place(p, value, &latitude, &longitude)) {
        if (p->status != TD_OK && p->status != TD_ERR_BAD_QUERY)
            return p->status;
        return filter_fail(p, position,
                           "name a city where trials have sites, or give coordinates: "
                           "near:34.3,108.9",
                           "unknown place '%s'", value);
    }
    geo->set = true;
    geo->latitude = latitude;
    geo->longitude = longitude;
    geo->recruiting = recruiting;
    geo->position = position;
    return TD_OK;
}

static td_status_t parse_within(parser_t *p, const char *value, size_t position)
{
    double distance = 0;
    const char *end = plain_number(value, false, &distance);
    static const char hint[] = "give a unit: within:100km or within:60mi";
    if (!end || distance <= 0 || distance > 40075)
        return filter_fail(p, position, hint, "bad distance '%s'", value);
    double km;
    if (strcasecmp(end, "km") == 0)
        km = distance;
    else if (strcasecmp(end, "mi") == 0 || strcasecmp(end, "miles") == 0)
        km = distance * 1.609344;
    else if (!*end)
        return filter_fail(p, position, hint, "distance '%s' has no unit", value);
    else
        return filter_fail(p, position, hint, "unknown distance unit in '%s'", value);
    if (p->out->geo.radius_km > 0)
        return filter_fail(p, position, "give one within:", "a second within: ('%s')", value);
    p->out->geo.radius_km = km;
    return TD_OK;
}

/* ---- parser ---- */

static td_qnode_t *parse_or(parser_t *p);

/* The text scopes: name -> field. */
static const struct {
    const char *name;
    int scope;
} SCOPES[] = {
    {"title", TD_FIELD_TITLE},
    {"cond", TD_FIELD_CONDITION},
    {"condition", TD_FIELD_CONDITION},
    {"drug", TD_FIELD_INTERVENTION},
    {"intervention", TD_FIELD_INTERVENTION},
    {"biomarker", TD_FIELD_BIOMARKER},
    {"outcome", TD_FIELD_OUTCOME},
    {"sponsor", TD_FIELD_SPONSOR},
    {"site", TD_FIELD_SITE},
    {"inc", TD_FIELD_INCLUSION},
    {"exc", TD_FIELD_EXCLUSION},
    {"keyword", TD_FIELD_KEYWORD},
    {"summary", TD_FIELD_SUMMARY},
    {"arm", TD_FIELD_ARM},
    {"id", TD_SCOPE_ID},
};

static void set_scope(td_qnode_t *node, int scope)
{
    if (node->kind == TD_QNODE_TEXT || node->kind == TD_QNODE_PHRASE)
        node->scope = scope;
    for (size_t i = 0; i < node->child_count; i++)
        set_scope(node->children[i], scope);
}

static bool has_scoped_text(const td_qnode_t *node)
{
    if ((node->kind == TD_QNODE_TEXT || node->kind == TD_QNODE_PHRASE) &&
        node->scope != TD_SCOPE_ALL)
        return true;
    for (size_t i = 0; i < node->child_count; i++)
        if (has_scoped_text(node->children[i]))
            return true;
    return false;
}

/* The raw value after "name:": a phrase's words or a word. */
static char *filter_value(parser_t *p, const token_t *field)
{
    token_t *t = peek(p);
    if (p->status != TD_OK)
        return NULL;
    if ((t->kind != TOKEN_WORD && t->kind != TOKEN_PHRASE) || t->start != field->end) {
        p->status = td_query_fail(p->error, field->start, "e.g. status:recruiting",
                                  "%.*s: needs a value right after the colon",
                                  (int) field->text_len, p->q + field->text);
        return NULL;
    }
    char *value = copy_text(p, t->text, t->text_len);
    advance(p);
    return value;
}

static td_qnode_t *parse_filter(parser_t *p, const token_t *field, const char *name)
{
    char *value = filter_value(p, field);
    if (!value)
        return NULL;
    td_xquery_t *query = NULL;
    td_status_t status = TD_OK;
    size_t at = field->start;
    if (strcmp(name, "status") == 0)
        status = parse_status(p, value, at, &query);
    else if (strcmp(name, "phase") == 0)
        status = parse_phase(p, value, at, &query);
    else if (strcmp(name, "type") == 0)
        status = parse_choice(p, "type", TYPES, sizeof(TYPES) / sizeof(TYPES[0]),
                              "types: interventional (int), observational (obs), "
                              "expanded_access (ea)",
                              value, at, &query);
    else if (strcmp(name, "sex") == 0)
        status =
            parse_choice(p, "sex", SEXES, sizeof(SEXES) / sizeof(SEXES[0]),
                         "sex:female (trials open to women), sex:male, sex:all", value, at, &query);
    else if (strcmp(name, "results") == 0 || strcmp(name, "healthy") == 0)
        status = parse_choice(p, name, YES_NO, 4, "yes or no", value, at, &query);
    else if (strcmp(name, "country") == 0)
        status = parse_country(p, value, at, &query);
    else if (strcmp(name, "age") == 0)
        status = parse_age(p, value, at, &query);
    else if (strcmp(name, "start") == 0)
        status = parse_date_range(p, name, TD_SLOT_START_DATE, value, at, &query);
    else if (strcmp(name, "updated") == 0)
        status = parse_date_range(p, name, TD_SLOT_LAST_UPDATE_DATE, value, at, &query);
    else if (strcmp(name, "completion") == 0)
        status = parse_date_range(p, name, TD_SLOT_PRIMARY_COMPLETION_DATE, value, at, &query);
    else if (strcmp(name, "enrollment") == 0)
        status = parse_number_range(p, name, TD_SLOT_ENROLLMENT, value, at, &query);
    else if (strcmp(name, "near") == 0 || strcmp(name, "recruiting-near") == 0)
        status = parse_geo_near(p, value, at, name[0] == 'r');
    else if (strcmp(name, "within") == 0)
        status = parse_within(p, value, at);
    free(value);
    if (status != TD_OK) {
        p->status = status;
        return NULL;
    }
    if (!query)
        return NULL; /* geo settings: no node */
    td_qnode_t *node = new_node(p, TD_QNODE_FILTER, at);
    if (!node) {
        td_xquery_free(query);
        return NULL;
    }
    node->filter = query;
    return node;
}

static bool is_filter_name(const char *name)
{
    static const char *const filters[] = {"status",  "phase",           "type",       "sex",
                                          "results", "healthy",         "country",    "age",
                                          "start",   "updated",         "completion", "enrollment",
                                          "near",    "recruiting-near", "within"};
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        if (strcmp(name, filters[i]) == 0)
            return true;
    return false;
}

/* Geo settings are global: they may not hide under OR or NOT. */
static bool geo_allowed(parser_t *p, const char *name, size_t position)
{
    if ((strcmp(name, "near") == 0 || strcmp(name, "recruiting-near") == 0 ||
         strcmp(name, "within") == 0) &&
        p->depth > 1) {
        p->status = td_query_fail(p->error, position,
                                  "put near:, recruiting-near: and within: at the top level",
                                  "%s: cannot be inside parentheses, OR or NOT", name);
        return false;
    }
    return true;
}

static td_qnode_t *parse_field(parser_t *p)
{
    token_t field = *peek(p);
    advance(p);
    char name[32];
    if (field.text_len >= sizeof(name)) {
        p->status = td_query_fail(p->error, field.start, FIELD_HINT, "unknown field '%.*s:'",
                                  (int) field.text_len, p->q + field.text);
        return NULL;
    }
    for (size_t i = 0; i < field.text_len; i++)
        name[i] = (char) tolower((unsigned char) p->q[field.text + i]);
    name[field.text_len] = '\0';
    if (is_filter_name(name))
        return geo_allowed(p, name, field.start) ? parse_filter(p, &field, name) : NULL;
    int scope = 0;
    bool known = false;
    for (size_t i = 0; i < sizeof(SCOPES) / sizeof(SCOPES[0]) && !known; i++)
        if (strcmp(name, SCOPES[i].name) == 0) {
            scope = SCOPES[i].scope;
            known = true;
        }
    if (!known) {
        p->status = td_query_fail(p->error, field.start, FIELD_HINT, "unknown field '%s:'", name);
        return NULL;
    }
    token_t *t = peek(p);
    if (p->status != TD_OK)
        return NULL;
    if (t->start != field.end ||
        (t->kind != TOKEN_WORD && t->kind != TOKEN_PHRASE && t->kind != TOKEN_OPEN)) {
        p->status = td_query_fail(p->error, field.start,
                                  "write the value right after the colon: title:cancer, "
                                  "drug:\"CDK4/6 inhibitor\", cond:(breast OR ovarian)",
                                  "%s: needs a value right after the colon", name);
        return NULL;
    }
    td_qnode_t *node;
    if (t->kind == TOKEN_OPEN) {
        advance(p);
        if (++p->depth > MAX_DEPTH) {
            p->status = td_query_fail(p->error, t->start, NULL, "too many nested parentheses");
            return NULL;
        }
        node = parse_or(p);
        p->depth--;
        if (node && peek(p)->kind != TOKEN_CLOSE) {
            p->status = td_query_fail(p->error, peek(p)->start, "close it with )",
                                      "missing ) for the ( at character %zu", t->start + 1);
            td_qnode_free(node);
            return NULL;
        }
        if (node)
            advance(p);
        if (node && has_scoped_text(node)) {
            p->status = td_query_fail(p->error, field.start,
                                      "give each word one field: cond:(breast OR ovarian)",
                                      "a field inside %s:( ... )", name);
            td_qnode_free(node);
            return NULL;
        }
    } else {
        node = new_node(p, t->kind == TOKEN_PHRASE ? TD_QNODE_PHRASE : TD_QNODE_TEXT, t->start);
        if (node) {
            node->exact = t->exact;
            node->wildcard = t->wildcard;
            node->text = copy_text(p, t->text, t->text_len);
        }
        advance(p);
    }
    if (node)
        set_scope(node, scope);
    if (node && scope == TD_SCOPE_ID && (node->kind != TD_QNODE_TEXT || node->wildcard)) {
        p->status =
            td_query_fail(p->error, field.start, "e.g. id:NCT04494425", "id: takes one whole ID");
        td_qnode_free(node);
        return NULL;
    }
    return node;
}

static td_qnode_t *parse_primary(parser_t *p)
{
    token_t *t = peek(p);
    if (p->status != TD_OK)
        return NULL;
    switch (t->kind) {
    case TOKEN_OPEN: {
        size_t open = t->start;
        advance(p);
        if (++p->depth > MAX_DEPTH) {
            p->status = td_query_fail(p->error, open, NULL, "too many nested parentheses");
            return NULL;
        }
        td_qnode_t *node = parse_or(p);
        p->depth--;
        if (!node)
            return NULL;
        if (peek(p)->kind != TOKEN_CLOSE) {
            p->status = td_query_fail(p->error, open, "close it with )", "unmatched (");
            td_qnode_free(node);
            return NULL;
        }
        advance(p);
        return node;
    }
    case TOKEN_FIELD:
        return parse_field(p);
    case TOKEN_PHRASE: {
        td_qnode_t *node = new_node(p, TD_QNODE_PHRASE, t->start);
        if (node) {
            node->exact = t->exact;
            node->text = copy_text(p, t->text, t->text_len);
        }
        advance(p);
        return node;
    }
    case TOKEN_WORD: {
        td_qnode_t *node = new_node(p, TD_QNODE_TEXT, t->start);
        if (!node)
            return NULL;
        node->exact = t->exact;
        node->wildcard = t->wildcard;
        node->text = copy_text(p, t->text, t->text_len);
        advance(p);
        /* Plain words run on into one text node. */
        while (!node->exact && !node->wildcard && p->status == TD_OK) {
            token_t *next = peek(p);
            if (next->kind != TOKEN_WORD || next->exact || next->wildcard)
                break;
            if (!append_word(p, node, next))
                break;
            advance(p);
        }
        if (p->status != TD_OK) {
            td_qnode_free(node);
            return NULL;
        }
        return node;
    }
    case TOKEN_END:
        p->status = td_query_fail(p->error, t->start, "finish the query, or remove the operator",
                                  "the query ends where a word was expected");
        return NULL;
    case TOKEN_CLOSE:
        p->status =
            td_query_fail(p->error, t->start, "remove it, or add the ( it closes", "unmatched )");
        return NULL;
    default:
        p->status = td_query_fail(
            p->error, t->start, "operators go between words: a AND b, a OR b, a NOT b",
            "'%.*s' where a word was expected", (int) (t->end - t->start), p->q + t->start);
        return NULL;
    }
}

static td_qnode_t *parse_near_op(parser_t *p)
{
    td_qnode_t *left = parse_primary(p);
    if (!left || peek(p)->kind != TOKEN_NEAR)
        return left;
    td_qnode_t *near = new_node(p, TD_QNODE_NEAR, left->position);
    if (!near || !add_child(p, near, left)) {
        td_qnode_free(near);
        return NULL;
    }
    near->window = 0;
    while (p->status == TD_OK && peek(p)->kind == TOKEN_NEAR) {
        uint32_t window = peek(p)->window;
        if (window > near->window)
            near->window = window;
        size_t at = peek(p)->start;
        advance(p);
        td_qnode_t *right = parse_primary(p);
        if (!right && p->status == TD_OK)
            p->status = td_query_fail(p->error, at,
                                      "NEAR joins words or phrases: trastuzumab NEAR/5 cardiac",
                                      "NEAR needs words on both sides");
        if (!right || !add_child(p, near, right))
            break;
    }
    for (size_t i = 0; i < near->child_count && p->status == TD_OK; i++) {
        td_qnode_kind_t kind = near->children[i]->kind;
        if ((kind != TD_QNODE_TEXT && kind != TD_QNODE_PHRASE) || near->children[i]->wildcard)
            p->status = td_query_fail(p->error, near->children[i]->position,
                                      "NEAR joins words or phrases: trastuzumab NEAR/5 cardiac",
                                      "NEAR needs words on both sides");
    }
    if (p->status != TD_OK) {
        td_qnode_free(near);
        return NULL;
    }
    return near;
}

static td_qnode_t *parse_unary(parser_t *p)
{
    token_t *t = peek(p);
    if (p->status != TD_OK)
        return NULL;
    if (t->kind == TOKEN_NOT || t->kind == TOKEN_MINUS) {
        size_t at = t->start;
        advance(p);
        if (++p->depth > MAX_DEPTH) {
            p->status = td_query_fail(p->error, at, NULL, "too many nested NOTs");
            return NULL;
        }
        td_qnode_t *child = parse_unary(p);
        p->depth--;
        if (!child)
            return NULL;
        td_qnode_t *node = new_node(p, TD_QNODE_NOT, at);
        if (!node || !add_child(p, node, child)) {
            td_qnode_free(node);
            return NULL;
        }
        return node;
    }
    return parse_near_op(p);
}

static bool starts_unary(token_kind_t kind)
{
    return kind == TOKEN_OPEN || kind == TOKEN_FIELD || kind == TOKEN_PHRASE ||
           kind == TOKEN_WORD || kind == TOKEN_NOT || kind == TOKEN_MINUS;
}

/* Collects children of AND (or OR); a single child is returned as is, and
 * geo settings (which give no node) are skipped. */
static td_qnode_t *parse_and(parser_t *p)
{
    td_qnode_t *all = new_node(p, TD_QNODE_AND, peek(p)->start);
    if (!all)
        return NULL;
    bool want = true;
    while (p->status == TD_OK) {
        token_t *t = peek(p);
        if (p->status != TD_OK)
            break;
        if (t->kind == TOKEN_AND) {
            if (want) {
                p->status = td_query_fail(p->error, t->start, "AND goes between two words: a AND b",
                                          "AND without a word before it");
                break;
            }
            advance(p);
            want = true;
            if (!starts_unary(peek(p)->kind)) {
                p->status = td_query_fail(p->error, t->start, "AND goes between two words: a AND b",
                                          "AND without a word after it");
                break;
            }
            continue;
        }
        if (!starts_unary(t->kind))
            break;
        size_t before = p->at;
        td_qnode_t *child = parse_unary(p);
        if (child && !add_child(p, all, child))
            break;
        if (!child && p->status == TD_OK && p->at == before)
            break;
        want = false;
    }
    if (p->status != TD_OK) {
        td_qnode_free(all);
        return NULL;
    }
    if (all->child_count == 1) {
        td_qnode_t *only = all->children[0];
        all->child_count = 0;
        td_qnode_free(all);
        return only;
    }
    if (all->child_count == 0) {
        td_qnode_free(all);
        return NULL;
    }
    return all;
}

static td_qnode_t *parse_or(parser_t *p)
{
    token_t *first = peek(p);
    if (p->status != TD_OK)
        return NULL;
    if (first->kind == TOKEN_OR) {
        p->status = td_query_fail(p->error, first->start, "OR goes between two words: a OR b",
                                  "OR without a word before it");
        return NULL;
    }
    td_geo_t geo_before = p->out->geo;
    td_qnode_t *left = parse_and(p);
    if (p->status != TD_OK || peek(p)->kind != TOKEN_OR)
        return left;
    if (memcmp(&geo_before, &p->out->geo, sizeof(geo_before)) != 0) {
        p->status = td_query_fail(p->error, p->out->geo.position,
                                  "put near:, recruiting-near: and within: outside the OR",
                                  "near: and within: cannot be inside an OR");
        td_qnode_free(left);
        return NULL;
    }
    td_qnode_t *any = new_node(p, TD_QNODE_OR, left ? left->position : peek(p)->start);
    if (!any) {
        td_qnode_free(left);
        return NULL;
    }
    if (left && !add_child(p, any, left)) {
        td_qnode_free(any);
        return NULL;
    }
    while (p->status == TD_OK && peek(p)->kind == TOKEN_OR) {
        size_t at = peek(p)->start;
        advance(p);
        p->depth++;
        td_qnode_t *right = parse_and(p);
        p->depth--;
        if (p->status != TD_OK)
            break;
        if (!right) {
            p->status = td_query_fail(p->error, at, "OR goes between two words: a OR b",
                                      "OR without a word after it");
            break;
        }
        add_child(p, any, right);
    }
    if (p->status == TD_OK && any->child_count < 2)
        p->status = td_query_fail(p->error, any->position, "OR goes between two words: a OR b",
                                  "OR without a word before it");
    if (p->status != TD_OK) {
        td_qnode_free(any);
        return NULL;
    }
    return any;
}

static bool node_has_text(const td_qnode_t *node, bool negated)
{
    if (!node)
        return false;
    if (node->kind == TD_QNODE_TEXT || node->kind == TD_QNODE_PHRASE)
        return !negated && node->scope != TD_FIELD_EXCLUSION && node->scope != TD_SCOPE_ID;
    for (size_t i = 0; i < node->child_count; i++)
        if (node_has_text(node->children[i], negated || node->kind == TD_QNODE_NOT))
            return true;
    return false;
}

/* The patient the first free text that states an age describes (not a
 * phrase, a field's words or words under NOT); the words that state the age
 * are blanked, as they say nothing a trial's text should match. */
static bool find_patient(td_qnode_t *node, bool negated, td_patient_t *patient)
{
    if (!node)
        return false;
    size_t start, end;
    if (node->kind == TD_QNODE_TEXT && !negated && node->scope == TD_SCOPE_ALL && !node->exact &&
        !node->wildcard && td_patient_read(node->text, patient, &start, &end)) {
        memset(node->text + start, ' ', end - start);
        return true;
    }
    for (size_t i = 0; i < node->child_count; i++)
        if (find_patient(node->children[i], negated || node->kind == TD_QNODE_NOT, patient))
            return true;
    return false;
}

/* The trials whose limits rule `patient` out: a minimum age above theirs, a
 * maximum below it, or the other sex only. Ages are whole days. */
static td_status_t rules_out_query(parser_t *p, const td_patient_t *patient, td_xquery_t **out)
{
    char above[TD_XSORTABLE_MAX], below[TD_XSORTABLE_MAX];
    size_t above_len = td_xsortable_serialise(patient->age_days + 1, above);
    size_t below_len = td_xsortable_serialise(patient->age_days - 1, below);
    const char *other = patient->sex == TD_SEX_FEMALE ? "male" : "female";
    td_xquery_t *parts[3] = {
        slot_range(p, TD_SLOT_MINIMUM_AGE, above, above_len, NULL, 0, false),
        slot_range(p, TD_SLOT_MAXIMUM_AGE, NULL, 0, below, below_len, false),
        patient->sex == TD_SEX_UNSET ? NULL : terms_query(p, "sex", &other, 1, false)};
    size_t n = patient->sex == TD_SEX_UNSET ? 2 : 3;
    if (p->status == TD_OK &&
        td_xquery_new_compound(TD_XOP_OR, (const td_xquery_t *const *) parts, n, 0, out) != TD_OK)
        p->status = TD_ERR_NO_MEMORY;
    for (size_t i = 0; i < n; i++)
        td_xquery_free(parts[i]);
    return p->status;
}

td_status_t td_query_parse(td_searcher_t *searcher, const char *text, bool patient,
                           td_parsed_query_t *out, td_query_error_t *error)
{
    memset(out, 0, sizeof(*out));
    parser_t p = {.searcher = searcher,
                  .q = text,
                  .len = strlen(text),
                  .error = error,
                  .status = TD_OK,
                  .out = out,
                  .depth = 1};
    p.previous.kind = TOKEN_END;
    td_qnode_t *root = parse_or(&p);
    if (p.status == TD_OK && peek(&p)->kind != TOKEN_END) {
        token_t *t = peek(&p);
        if (t->kind == TOKEN_CLOSE)
            td_query_fail(error, t->start, "remove it, or add the ( it closes", "unmatched )");
        else
            td_query_fail(error, t->start, NULL, "unexpected '%.*s'", (int) (t->end - t->start),
                          text + t->start);
        p.status = TD_ERR_BAD_QUERY;
    }
    if (p.status == TD_OK && out->geo.radius_km > 0 && !out->geo.set)
        p.status = td_query_fail(error, 0, "add near:PLACE or recruiting-near:PLACE",
                                 "within: needs near: or recruiting-near:");
    if (p.status != TD_OK) {
        td_qnode_free(root);
        memset(out, 0, sizeof(*out));
        if (p.status == TD_ERR_NO_MEMORY && error)
            td_query_fail(error, 0, NULL, "out of memory");
        return p.status;
    }
    out->root = root;
    if (patient && find_patient(root, false, &out->patient) &&
        rules_out_query(&p, &out->patient, &out->rules_out) == TD_OK)
        out->has_patient = true;
    out->has_text = node_has_text(root, false);
    if (p.status != TD_OK) {
        td_parsed_query_clear(out);
        if (error)
            td_query_fail(error, 0, NULL, "out of memory");
    }
    return p.status;
}

/* ---- the gazetteer ---- */

static bool find_place(parser_t *p, const char *name, double *latitude, double *longitude)
{
    char term[256];
    int n = snprintf(term, sizeof(term), TD_PREFIX_FILTER "city=");
    for (const char *c = name; *c && n < (int) sizeof(term) - 1; c++)
        term[n++] = (char) tolower((unsigned char) *c);
    term[n] = '\0';
    td_xdb_t *db = p->searcher->db;
    td_xquery_t *query = NULL;
    td_xenquire_t *enquire = NULL;
    td_xmset_t *mset = NULL;
    bool found = false;
    if (td_xquery_new_term(term, 1, 0, &query) != TD_OK || td_xenquire_new(db, &enquire) != TD_OK)
        goto done;
    td_xenquire_set_query(enquire, query);
    if (td_xenquire_mset(enquire, 0, 20, 0, &mset) != TD_OK)
        goto done;
    for (size_t i = 0; i < td_xmset_size(mset) && !found; i++) {
        char *record = NULL;
        if (td_hit_record(mset, i, &record) != TD_OK)
            continue;
        json_t *locations = td_record_locations(record);
        json_t *site;
        size_t k;
        json_array_foreach(locations, k, site)
        {
            const char *city = json_string_value(json_object_get(site, "city"));
            json_t *lat = json_object_get(site, "lat"), *lon = json_object_get(site, "lon");
            if (city && strcasecmp(city, name) == 0 && json_is_number(lat) && json_is_number(lon)) {
                *latitude = json_number_value(lat);
                *longitude = json_number_value(lon);
                found = true;
                break;
            }
        }
        json_decref(locations);
        free(record);
    }
done:
    td_xmset_free(mset);
    td_xenquire_free(enquire);
    td_xquery_free(query);
    return found;
}
