/* lexicon.c - the concept lexicon: parsing its files and matching forms.
 *
 * Each form is tokenized with the analyzer's own tokenizer, and its token
 * texts joined with US (0x1F) become the key of a hash map, so text matches
 * a form exactly when it tokenizes the same way. A second map from first
 * token to the longest form starting with it keeps the lookup at one probe
 * for most tokens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer_internal.h"

#define MAX_FORM_TOKENS 16
#define KEY_SEPARATOR '\x1f'

typedef struct form {
    uint32_t concept;
    uint32_t token_count;
    bool case_sensitive; /* short capitals like "ER", "AI": text must be in capitals too */
    bool short_form;
} form_t;

struct td_lexicon {
    td_concept_t *concepts;
    size_t concept_count;
    td_strmap_t concept_ids;
    form_t *forms;
    size_t form_count;
    size_t form_capacity;
    td_strmap_t form_keys;    /* joined token texts -> index in forms */
    td_strmap_t first_tokens; /* first token text -> longest form, in tokens */
};

static const char *const kind_names[TD_CONCEPT_KIND_COUNT] = {
    [TD_CONCEPT_DRUG] = "drug",           [TD_CONCEPT_DRUG_CLASS] = "drug_class",
    [TD_CONCEPT_GENE] = "gene",           [TD_CONCEPT_ASSAY] = "assay",
    [TD_CONCEPT_CONDITION] = "condition", [TD_CONCEPT_ABBREVIATION] = "abbreviation",
};

const char *td_concept_kind_name(td_concept_kind_t kind)
{
    return kind < TD_CONCEPT_KIND_COUNT ? kind_names[kind] : "";
}

size_t td_lexicon_concept_count(const td_lexicon_t *lexicon)
{
    return lexicon->concept_count;
}

size_t td_lexicon_form_count(const td_lexicon_t *lexicon)
{
    return lexicon->form_count;
}

const td_concept_t *td_lexicon_concept(const td_lexicon_t *lexicon, uint32_t index)
{
    return &lexicon->concepts[index];
}

bool td_lexicon_find_concept(const td_lexicon_t *lexicon, const char *id, uint32_t *index)
{
    return td_strmap_get(&lexicon->concept_ids, id, strlen(id), index);
}

void td_lexicon_free(td_lexicon_t *lexicon)
{
    if (!lexicon)
        return;
    for (size_t i = 0; i < lexicon->concept_count; i++) {
        free(lexicon->concepts[i].id);
        free(lexicon->concepts[i].ancestors);
    }
    free(lexicon->concepts);
    free(lexicon->forms);
    td_strmap_free(&lexicon->concept_ids);
    td_strmap_free(&lexicon->form_keys);
    td_strmap_free(&lexicon->first_tokens);
    free(lexicon);
}

/* ---- building ---- */

/* One data line, kept until every concept is known and parents resolve. */
typedef struct pending {
    const td_lexicon_source_t *source;
    size_t line;
    const char *parents;
    size_t parents_len;
} pending_t;

typedef struct builder {
    td_lexicon_t *lexicon;
    td_tokenizer_t *tokenizer;
    pending_t *pending; /* one per concept, same index */
    size_t capacity;    /* of lexicon->concepts and pending */
    char **error;
} builder_t;

static td_status_t fail(builder_t *b, td_status_t status, const td_lexicon_source_t *source,
                        size_t line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static td_status_t fail(builder_t *b, td_status_t status, const td_lexicon_source_t *source,
                        size_t line, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    size_t size = strlen(message) + strlen(source->name) + 64;
    *b->error = malloc(size);
    if (*b->error)
        snprintf(*b->error, size, "lexicon %s:%zu: %s", source->name, line, message);
    return status;
}

static bool valid_id(const char *id, size_t len)
{
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '_'))
            return false;
    return true;
}

static bool short_capitals(const char *form, size_t len)
{
    bool letters = false;
    if (len > 3)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (form[i] >= 'a' && form[i] <= 'z')
            return false;
        letters |= form[i] >= 'A' && form[i] <= 'Z';
    }
    return letters;
}

/* Tokenizes one form and adds it under concept `concept`. */
static td_status_t add_form(builder_t *b, const td_lexicon_source_t *source, size_t line,
                            uint32_t concept, const char *form, size_t len)
{
    td_lexicon_t *lexicon = b->lexicon;
    td_status_t status = td_tokenize(b->tokenizer, form, len);
    if (status != TD_OK)
        return fail(b, status, source, line, "cannot tokenize form '%.*s'", (int) len, form);
    size_t count = td_tokenizer_count(b->tokenizer);
    const td_token_t *tokens = td_tokenizer_tokens(b->tokenizer);
    if (count == 0 || count > MAX_FORM_TOKENS)
        return fail(b, TD_ERR_BAD_INPUT, source, line, "form '%.*s' has %zu tokens (1 to %d)",
                    (int) len, form, count, MAX_FORM_TOKENS);
    char key[1024];
    size_t key_len = 0;
    for (size_t i = 0; i < count; i++) {
        const char *text = td_tokenizer_norm(b->tokenizer, &tokens[i]);
        if (key_len + tokens[i].norm_len + 1 >= sizeof(key))
            return fail(b, TD_ERR_BAD_INPUT, source, line, "form '%.*s' is too long", (int) len,
                        form);
        if (i)
            key[key_len++] = KEY_SEPARATOR;
        memcpy(key + key_len, text, tokens[i].norm_len);
        key_len += tokens[i].norm_len;
    }

    uint32_t existing;
    if (td_strmap_get(&lexicon->form_keys, key, key_len, &existing)) {
        uint32_t other = lexicon->forms[existing].concept;
        if (other != concept)
            return fail(b, TD_ERR_BAD_INPUT, source, line,
                        "form '%.*s' already belongs to concept '%s'", (int) len, form,
                        lexicon->concepts[other].id);
        return TD_OK; /* the same form again, e.g. in another case */
    }
    if (lexicon->form_count == lexicon->form_capacity) {
        size_t capacity = lexicon->form_capacity ? lexicon->form_capacity * 2 : 256;
        form_t *forms = realloc(lexicon->forms, capacity * sizeof(*forms));
        if (!forms)
            return fail(b, TD_ERR_NO_MEMORY, source, line, "out of memory");
        lexicon->forms = forms;
        lexicon->form_capacity = capacity;
    }
    lexicon->forms[lexicon->form_count] = (form_t){
        .concept = concept,
        .token_count = (uint32_t) count,
        .case_sensitive = short_capitals(form, len),
        .short_form = len <= 2,
    };
    const char *first = td_tokenizer_norm(b->tokenizer, &tokens[0]);
    uint32_t longest = 0;
    td_strmap_get(&lexicon->first_tokens, first, tokens[0].norm_len, &longest);
    if (td_strmap_put(&lexicon->form_keys, key, key_len, (uint32_t) lexicon->form_count) != TD_OK ||
        (count > longest && td_strmap_put(&lexicon->first_tokens, first, tokens[0].norm_len,
                                          (uint32_t) count) != TD_OK))
        return fail(b, TD_ERR_NO_MEMORY, source, line, "out of memory");
    lexicon->form_count++;
    return TD_OK;
}

/* Splits `text` at `separator` (a string) and calls back for each trimmed
 * non-empty piece. */
typedef td_status_t (*piece_fn)(builder_t *b, const td_lexicon_source_t *source, size_t line,
                                uint32_t concept, const char *piece, size_t len);

static td_status_t each_piece(builder_t *b, const td_lexicon_source_t *source, size_t line,
                              uint32_t concept, const char *text, size_t len, const char *separator,
                              piece_fn fn)
{
    size_t sep_len = strlen(separator);
    size_t i = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && !(end + sep_len <= len && memcmp(text + end, separator, sep_len) == 0))
            end++;
        size_t a = i, z = end;
        while (a < z && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (z > a && (text[z - 1] == ' ' || text[z - 1] == '\t'))
            z--;
        if (z > a) {
            td_status_t status = fn(b, source, line, concept, text + a, z - a);
            if (status != TD_OK)
                return status;
        }
        i = end + sep_len;
    }
    return TD_OK;
}

static td_status_t add_parent(builder_t *b, const td_lexicon_source_t *source, size_t line,
                              uint32_t concept, const char *id, size_t len)
{
    td_lexicon_t *lexicon = b->lexicon;
    if (len == 1 && id[0] == '-')
        return TD_OK;
    uint32_t parent;
    if (!td_strmap_get(&lexicon->concept_ids, id, len, &parent))
        return fail(b, TD_ERR_BAD_INPUT, source, line, "unknown parent concept '%.*s'", (int) len,
                    id);
    if (parent == concept)
        return fail(b, TD_ERR_BAD_INPUT, source, line, "concept '%.*s' is its own parent",
                    (int) len, id);
    td_concept_t *c = &lexicon->concepts[concept];
    uint32_t *ancestors = realloc(c->ancestors, (c->ancestor_count + 1) * sizeof(uint32_t));
    if (!ancestors)
        return fail(b, TD_ERR_NO_MEMORY, source, line, "out of memory");
    c->ancestors = ancestors;
    c->ancestors[c->ancestor_count++] = parent;
    return TD_OK;
}

/* Replaces each concept's parent list by all its ancestors, nearest first,
 * and rejects cycles. */
static td_status_t close_ancestors(builder_t *b)
{
    td_lexicon_t *lexicon = b->lexicon;
    size_t n = lexicon->concept_count;
    uint32_t **closed = calloc(n, sizeof(*closed));
    size_t *closed_count = calloc(n, sizeof(*closed_count));
    uint32_t *queue = malloc((n + 1) * sizeof(*queue));
    bool *seen = calloc(n, sizeof(*seen));
    td_status_t status = closed && closed_count && queue && seen ? TD_OK : TD_ERR_NO_MEMORY;
    for (size_t c = 0; c < n && status == TD_OK; c++) {
        /* Breadth-first over parents: nearest classes first. */
        size_t head = 0, tail = 0;
        memset(seen, 0, n * sizeof(*seen));
        seen[c] = true;
        const td_concept_t *concept = &lexicon->concepts[c];
        for (size_t p = 0; p < concept->ancestor_count; p++)
            if (!seen[concept->ancestors[p]]) {
                seen[concept->ancestors[p]] = true;
                queue[tail++] = concept->ancestors[p];
            }
        while (head < tail) {
            const td_concept_t *up = &lexicon->concepts[queue[head++]];
            for (size_t p = 0; p < up->ancestor_count; p++) {
                if (up->ancestors[p] == c) {
                    pending_t *where = &b->pending[c];
                    status = fail(b, TD_ERR_BAD_INPUT, where->source, where->line,
                                  "concept '%s' is its own ancestor", concept->id);
                    break;
                }
                if (!seen[up->ancestors[p]]) {
                    seen[up->ancestors[p]] = true;
                    queue[tail++] = up->ancestors[p];
                }
            }
            if (status != TD_OK)
                break;
        }
        if (status == TD_OK && tail) {
            closed[c] = malloc(tail * sizeof(uint32_t));
            if (!closed[c])
                status = TD_ERR_NO_MEMORY;
            else
                memcpy(closed[c], queue, tail * sizeof(uint32_t));
            closed_count[c] = tail;
        }
    }
    for (size_t c = 0; c < n && closed; c++) {
        if (status == TD_OK) {
            free(lexicon->concepts[c].ancestors);
            lexicon->concepts[c].ancestors = closed[c];
            lexicon->concepts[c].ancestor_count = closed_count[c];
        } else {
            free(closed[c]);
        }
    }
    if (status == TD_ERR_NO_MEMORY && !*b->error)
        *b->error = strdup("lexicon: out of memory");
    free(closed);
    free(closed_count);
    free(queue);
    free(seen);
    return status;
}

/* Parses one data line: CONCEPT \t KIND \t FORMS \t PARENTS. */
static td_status_t parse_line(builder_t *b, const td_lexicon_source_t *source, size_t line,
                              const char *text, size_t len)
{
    const char *field[4];
    size_t field_len[4];
    size_t fields = 0;
    for (size_t i = 0, start = 0; i <= len; i++)
        if (i == len || text[i] == '\t') {
            if (fields == 4)
                return fail(b, TD_ERR_BAD_INPUT, source, line, "more than 4 tab-separated fields");
            field[fields] = text + start;
            field_len[fields++] = i - start;
            start = i + 1;
        }
    if (fields != 4)
        return fail(b, TD_ERR_BAD_INPUT, source, line,
                    "expected 4 tab-separated fields (concept, kind, forms, parents), got %zu",
                    fields);
    if (!valid_id(field[0], field_len[0]))
        return fail(b, TD_ERR_BAD_INPUT, source, line, "bad concept id '%.*s' (use [a-z0-9_])",
                    (int) field_len[0], field[0]);
    td_concept_kind_t kind = TD_CONCEPT_KIND_COUNT;
    for (int k = 0; k < TD_CONCEPT_KIND_COUNT; k++)
        if (strlen(kind_names[k]) == field_len[1] &&
            memcmp(kind_names[k], field[1], field_len[1]) == 0)
            kind = (td_concept_kind_t) k;
    if (kind == TD_CONCEPT_KIND_COUNT)
        return fail(b, TD_ERR_BAD_INPUT, source, line, "unknown kind '%.*s'", (int) field_len[1],
                    field[1]);

    td_lexicon_t *lexicon = b->lexicon;
    uint32_t index;
    if (td_strmap_get(&lexicon->concept_ids, field[0], field_len[0], &index))
        return fail(b, TD_ERR_BAD_INPUT, source, line, "concept '%.*s' is defined twice",
                    (int) field_len[0], field[0]);
    index = (uint32_t) lexicon->concept_count;
    if (index == b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : 128;
        td_concept_t *concepts = realloc(lexicon->concepts, capacity * sizeof(*concepts));
        if (concepts)
            lexicon->concepts = concepts;
        pending_t *pending = concepts ? realloc(b->pending, capacity * sizeof(*pending)) : NULL;
        if (!pending)
            return fail(b, TD_ERR_NO_MEMORY, source, line, "out of memory");
        b->pending = pending;
        b->capacity = capacity;
    }
    td_concept_t *concept = &lexicon->concepts[index];
    memset(concept, 0, sizeof(*concept));
    concept->kind = kind;
    concept->id = strndup(field[0], field_len[0]);
    lexicon->concept_count++;
    if (!concept->id ||
        td_strmap_put(&lexicon->concept_ids, field[0], field_len[0], index) != TD_OK)
        return fail(b, TD_ERR_NO_MEMORY, source, line, "out of memory");
    b->pending[index] = (pending_t){source, line, field[3], field_len[3]};
    return each_piece(b, source, line, index, field[2], field_len[2], " | ", add_form);
}

td_status_t td_lexicon_build(const td_lexicon_source_t *sources, size_t count,
                             td_tokenizer_t *tokenizer, td_lexicon_t **out, char **error)
{
    *error = NULL;
    td_lexicon_t *lexicon = calloc(1, sizeof(*lexicon));
    if (!lexicon)
        return TD_ERR_NO_MEMORY;
    builder_t b = {.lexicon = lexicon, .tokenizer = tokenizer, .error = error};
    td_status_t status = TD_OK;
    for (size_t s = 0; s < count && status == TD_OK; s++) {
        const char *text = sources[s].text;
        size_t len = sources[s].len, line = 0;
        for (size_t i = 0; i < len && status == TD_OK;) {
            size_t end = i;
            while (end < len && text[end] != '\n')
                end++;
            line++;
            size_t line_len = end - i;
            if (line_len && text[i + line_len - 1] == '\r')
                line_len--;
            bool blank = true;
            for (size_t j = i; j < i + line_len && blank; j++)
                blank = text[j] == ' ' || text[j] == '\t';
            if (!blank && text[i] != '#')
                status = parse_line(&b, &sources[s], line, text + i, line_len);
            i = end + 1;
        }
    }
    for (size_t c = 0; c < lexicon->concept_count && status == TD_OK; c++) {
        pending_t *p = &b.pending[c];
        status = each_piece(&b, p->source, p->line, (uint32_t) c, p->parents, p->parents_len, ",",
                            add_parent);
    }
    if (status == TD_OK)
        status = close_ancestors(&b);
    free(b.pending);
    if (status != TD_OK) {
        td_lexicon_free(lexicon);
        return status;
    }
    *out = lexicon;
    return TD_OK;
}

/* ---- matching ---- */

bool td_lexicon_longest(const td_lexicon_t *lexicon, const td_tokenizer_t *tokenizer,
                        const td_token_t *tokens, size_t count, size_t start,
                        td_lexicon_match_t *match)
{
    uint32_t longest;
    const td_token_t *first = &tokens[start];
    if (!td_strmap_get(&lexicon->first_tokens, td_tokenizer_norm(tokenizer, first), first->norm_len,
                       &longest))
        return false;
    if (longest > count - start)
        longest = (uint32_t) (count - start);
    char key[1024];
    size_t ends[MAX_FORM_TOKENS];
    size_t key_len = 0;
    uint32_t n = 0;
    for (; n < longest; n++) {
        const td_token_t *t = &tokens[start + n];
        if (key_len + t->norm_len + 1 >= sizeof(key))
            break;
        if (n)
            key[key_len++] = KEY_SEPARATOR;
        memcpy(key + key_len, td_tokenizer_norm(tokenizer, t), t->norm_len);
        key_len += t->norm_len;
        ends[n] = key_len;
    }
    for (; n > 0; n--) {
        uint32_t index;
        if (!td_strmap_get(&lexicon->form_keys, key, ends[n - 1], &index))
            continue;
        const form_t *form = &lexicon->forms[index];
        bool capitals = true;
        for (uint32_t i = 0; i < n && capitals && form->case_sensitive; i++) {
            const td_token_t *t = &tokens[start + i];
            capitals = !t->has_alpha || t->all_caps;
        }
        *match = (td_lexicon_match_t){form->concept, n, form->short_form, form->case_sensitive,
                                      !capitals};
        return true;
    }
    return false;
}
