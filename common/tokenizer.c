/* tokenizer.c - ICU word segmentation and normalisation into tokens.
 *
 * The original text is decoded to UTF-16 once, with a table from each
 * UTF-16 unit back to its byte offset, so tokens keep exact byte spans.
 * ICU's word break iterator finds words and numbers; the segments it marks
 * as neither become one punctuation token per character, or white space,
 * which only sets `space_before` on the next token. Words are normalised
 * with NFKC case folding and then stripped of accents (NFD, drop
 * non-spacing marks); ASCII words, most of the text, take a short cut.
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "analyzer_internal.h"

struct td_tokenizer {
    UBreakIterator *breaker;
    const UNormalizer2 *nfkc_casefold;
    const UNormalizer2 *nfd;

    UChar *text16;
    uint32_t *offsets; /* byte offset of each UTF-16 unit, and of the end */
    size_t capacity16;

    td_token_t *tokens;
    size_t count;
    size_t capacity;

    char *norm;
    size_t norm_len;
    size_t norm_capacity;

    UChar *scratch[2]; /* normalisation passes alternate between these */
    size_t scratch_capacity[2];

    size_t invalid_utf8;
};

td_status_t td_tokenizer_new(td_tokenizer_t **out)
{
    td_tokenizer_t *t = calloc(1, sizeof(*t));
    if (!t)
        return TD_ERR_NO_MEMORY;
    UErrorCode error = U_ZERO_ERROR;
    t->breaker = ubrk_open(UBRK_WORD, "en", NULL, 0, &error);
    t->nfkc_casefold = unorm2_getNFKCCasefoldInstance(&error);
    t->nfd = unorm2_getNFDInstance(&error);
    if (U_FAILURE(error)) {
        td_tokenizer_free(t);
        return error == U_MEMORY_ALLOCATION_ERROR ? TD_ERR_NO_MEMORY : TD_ERR_INTERNAL;
    }
    *out = t;
    return TD_OK;
}

void td_tokenizer_free(td_tokenizer_t *t)
{
    if (!t)
        return;
    if (t->breaker)
        ubrk_close(t->breaker);
    free(t->text16);
    free(t->offsets);
    free(t->tokens);
    free(t->norm);
    free(t->scratch[0]);
    free(t->scratch[1]);
    free(t);
}

size_t td_tokenizer_count(const td_tokenizer_t *t)
{
    return t->count;
}

const td_token_t *td_tokenizer_tokens(const td_tokenizer_t *t)
{
    return t->tokens;
}

const char *td_tokenizer_norm(const td_tokenizer_t *t, const td_token_t *token)
{
    return t->norm + token->norm;
}

size_t td_tokenizer_invalid_utf8(const td_tokenizer_t *t)
{
    return t->invalid_utf8;
}

static bool reserve(void **buffer, size_t *capacity, size_t needed, size_t item_size)
{
    if (needed <= *capacity)
        return true;
    size_t grown = *capacity ? *capacity : 256;
    while (grown < needed)
        grown *= 2;
    void *p = realloc(*buffer, grown * item_size);
    if (!p)
        return false;
    *buffer = p;
    *capacity = grown;
    return true;
}

/* Decodes UTF-8 into text16/offsets, reading invalid sequences as U+FFFD. */
static td_status_t decode(td_tokenizer_t *t, const char *text, int32_t len, int32_t *len16)
{
    /* At most one UTF-16 unit per byte, plus the end. */
    size_t needed = (size_t) len + 1;
    if (needed > t->capacity16) {
        UChar *text16 = realloc(t->text16, needed * sizeof(UChar));
        if (text16)
            t->text16 = text16;
        uint32_t *offsets = text16 ? realloc(t->offsets, needed * sizeof(uint32_t)) : NULL;
        if (!offsets)
            return TD_ERR_NO_MEMORY;
        t->offsets = offsets;
        t->capacity16 = needed;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < len;) {
        int32_t start = i;
        UChar32 c = (unsigned char) text[i];
        if (c < 0x80) {
            i++;
        } else {
            U8_NEXT(text, i, len, c);
            if (c < 0) {
                c = 0xFFFD;
                t->invalid_utf8++;
            }
        }
        if (U_IS_BMP(c)) {
            t->offsets[n] = (uint32_t) start;
            t->text16[n++] = (UChar) c;
        } else {
            t->offsets[n] = t->offsets[n + 1] = (uint32_t) start;
            t->text16[n++] = U16_LEAD(c);
            t->text16[n++] = U16_TRAIL(c);
        }
    }
    t->offsets[n] = (uint32_t) len;
    *len16 = n;
    return TD_OK;
}

/* Characters that mean the same to us: dashes and minus signs become '-',
 * typographic apostrophes become '\''. */
static UChar fold_punctuation(UChar c)
{
    switch (c) {
    case 0x2010: /* hyphen */
    case 0x2011: /* non-breaking hyphen */
    case 0x2012: /* figure dash */
    case 0x2013: /* en dash */
    case 0x2014: /* em dash */
    case 0x2212: /* minus sign */
    case 0xFE63: /* small hyphen-minus */
    case 0xFF0D: /* fullwidth hyphen-minus */
        return '-';
    case 0x2018:
    case 0x2019:
    case 0x02BC:
        return '\'';
    default:
        return c;
    }
}

static bool append_norm(td_tokenizer_t *t, const char *bytes, size_t len)
{
    void *norm = t->norm;
    if (!reserve(&norm, &t->norm_capacity, t->norm_len + len + 1, 1))
        return false;
    t->norm = norm;
    memcpy(t->norm + t->norm_len, bytes, len);
    t->norm_len += len;
    t->norm[t->norm_len++] = '\0';
    return true;
}

static bool grow_scratch(td_tokenizer_t *t, int which, size_t needed)
{
    void *buffer = t->scratch[which];
    if (!reserve(&buffer, &t->scratch_capacity[which], needed, sizeof(UChar)))
        return false;
    t->scratch[which] = buffer;
    return true;
}

/* Normalises scratch[from][0, len) into scratch[to], growing it when ICU
 * says the result needs more room (NFKC can expand a character many
 * times). Returns the result's length. */
static int32_t run_normalizer(td_tokenizer_t *t, const UNormalizer2 *normalizer, int from,
                              int32_t len, int to, UErrorCode *error)
{
    if (U_FAILURE(*error))
        return 0;
    if (!grow_scratch(t, to, (size_t) len * 2 + 16)) {
        *error = U_MEMORY_ALLOCATION_ERROR;
        return 0;
    }
    int32_t out = unorm2_normalize(normalizer, t->scratch[from], len, t->scratch[to],
                                   (int32_t) t->scratch_capacity[to], error);
    if (*error == U_BUFFER_OVERFLOW_ERROR) {
        *error = U_ZERO_ERROR;
        if (!grow_scratch(t, to, (size_t) out + 1)) {
            *error = U_MEMORY_ALLOCATION_ERROR;
            return 0;
        }
        out = unorm2_normalize(normalizer, t->scratch[from], len, t->scratch[to],
                               (int32_t) t->scratch_capacity[to], error);
    }
    return out;
}

/* Normalises text16[start, end) and appends it, NUL-terminated, to norm. */
static td_status_t normalise(td_tokenizer_t *t, int32_t start, int32_t end, td_token_t *token)
{
    const UChar *src = t->text16 + start;
    int32_t n = end - start;
    token->norm = (uint32_t) t->norm_len;

    bool ascii = true;
    for (int32_t i = 0; i < n && ascii; i++)
        ascii = src[i] < 0x80;
    if (ascii) {
        void *norm = t->norm;
        if (!reserve(&norm, &t->norm_capacity, t->norm_len + (size_t) n + 1, 1))
            return TD_ERR_NO_MEMORY;
        t->norm = norm;
        char *out = t->norm + t->norm_len;
        for (int32_t i = 0; i < n; i++) {
            char c = (char) src[i];
            out[i] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
        }
        out[n] = '\0';
        t->norm_len += (size_t) n + 1;
        token->norm_len = (uint32_t) n;
        return TD_OK;
    }

    if (!grow_scratch(t, 1, (size_t) n))
        return TD_ERR_NO_MEMORY;
    UChar *input = t->scratch[1];
    for (int32_t i = 0; i < n; i++)
        input[i] = fold_punctuation(src[i]);
    UErrorCode error = U_ZERO_ERROR;
    int32_t folded_len = run_normalizer(t, t->nfkc_casefold, 1, n, 0, &error);
    int32_t decomposed_len = run_normalizer(t, t->nfd, 0, folded_len, 1, &error);
    if (U_FAILURE(error))
        return error == U_MEMORY_ALLOCATION_ERROR ? TD_ERR_NO_MEMORY : TD_ERR_INTERNAL;
    /* Drop the marks in place: `kept` never passes the read position. */
    UChar *decomposed = t->scratch[1];
    int32_t kept = 0;
    for (int32_t i = 0; i < decomposed_len;) {
        UChar32 c;
        int32_t at = i;
        U16_NEXT(decomposed, i, decomposed_len, c);
        if (u_charType(c) == U_NON_SPACING_MARK)
            continue;
        while (at < i)
            decomposed[kept++] = fold_punctuation(decomposed[at++]);
    }
    char utf8[1024];
    char *out = utf8;
    int32_t out_len = 0;
    u_strToUTF8(out, sizeof(utf8), &out_len, decomposed, kept, &error);
    if (error == U_BUFFER_OVERFLOW_ERROR) {
        /* A very long token: size the buffer exactly. */
        out = malloc((size_t) out_len + 1);
        if (!out)
            return TD_ERR_NO_MEMORY;
        error = U_ZERO_ERROR;
        u_strToUTF8(out, out_len + 1, &out_len, decomposed, kept, &error);
    }
    bool ok = U_SUCCESS(error) && append_norm(t, out, (size_t) out_len);
    if (out != utf8)
        free(out);
    if (!ok)
        return U_SUCCESS(error) ? TD_ERR_NO_MEMORY : TD_ERR_INTERNAL;
    token->norm_len = (uint32_t) out_len;
    return TD_OK;
}

static td_token_t *push_token(td_tokenizer_t *t)
{
    void *tokens = t->tokens;
    if (!reserve(&tokens, &t->capacity, t->count + 1, sizeof(td_token_t)))
        return NULL;
    t->tokens = tokens;
    td_token_t *token = &t->tokens[t->count++];
    memset(token, 0, sizeof(*token));
    return token;
}

/* Adds a word or number token for text16[start, end). */
static td_status_t add_word(td_tokenizer_t *t, int32_t start, int32_t end, bool number,
                            bool space_before)
{
    td_token_t *token = push_token(t);
    if (!token)
        return TD_ERR_NO_MEMORY;
    token->type = number ? TD_TOKEN_NUMBER : TD_TOKEN_WORD;
    token->start = t->offsets[start];
    token->end = t->offsets[end];
    token->space_before = space_before;
    int letters = 0, upper = 0;
    for (int32_t i = start; i < end;) {
        UChar32 c;
        U16_NEXT(t->text16, i, end, c);
        if (u_isdigit(c)) {
            token->has_digit = true;
        } else if (u_isalpha(c)) {
            token->has_alpha = true;
            letters++;
            upper += u_isupper(c) != 0;
        }
    }
    token->all_caps = letters >= 2 && upper == letters;
    token->has_upper = upper > 0;
    /* ICU calls "CDK4" a number; to us a token with letters is a word. */
    if (token->has_alpha)
        token->type = TD_TOKEN_WORD;
    return normalise(t, start, end, token);
}

td_status_t td_tokenize(td_tokenizer_t *t, const char *text, size_t len)
{
    t->count = 0;
    t->norm_len = 0;
    t->invalid_utf8 = 0;
    if (len > INT32_MAX / 2)
        return TD_ERR_RANGE;
    int32_t len16;
    td_status_t status = decode(t, text, (int32_t) len, &len16);
    if (status != TD_OK)
        return status;
    UErrorCode error = U_ZERO_ERROR;
    ubrk_setText(t->breaker, t->text16, len16, &error);
    if (U_FAILURE(error))
        return TD_ERR_INTERNAL;

    bool space = false;
    int32_t start = ubrk_first(t->breaker);
    for (int32_t end = ubrk_next(t->breaker); end != UBRK_DONE;
         start = end, end = ubrk_next(t->breaker)) {
        int32_t rule = ubrk_getRuleStatus(t->breaker);
        if (rule >= UBRK_WORD_NONE_LIMIT) {
            status = add_word(t, start, end, rule < UBRK_WORD_NUMBER_LIMIT, space);
            if (status != TD_OK)
                return status;
            space = false;
            continue;
        }
        /* Neither word nor number: white space, or symbols one by one. */
        for (int32_t i = start; i < end;) {
            int32_t at = i;
            UChar32 c;
            U16_NEXT(t->text16, i, end, c);
            if (u_isUWhiteSpace(c) || u_iscntrl(c)) {
                space = true;
                continue;
            }
            td_token_t *token = push_token(t);
            if (!token)
                return TD_ERR_NO_MEMORY;
            token->type = TD_TOKEN_PUNCT;
            token->start = t->offsets[at];
            token->end = t->offsets[i];
            token->space_before = space;
            space = false;
            if ((status = normalise(t, at, i, token)) != TD_OK)
                return status;
        }
    }
    return TD_OK;
}
