/* record.c - helpers a format mapper uses to fill a trial and report problems. */
#include "record.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>

void td_record_emit(td_diag_fn on_diag, void *user, const td_diagnostic_t *diagnostic)
{
    if (!on_diag)
        return;
    char message[512];
    size_t n = 0;
    for (const char *p = diagnostic->message; *p && n + 1 < sizeof(message); p++)
        message[n++] = (unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p;
    message[n] = '\0';
    td_diagnostic_t copy = *diagnostic;
    copy.message = message;
    on_diag(&copy, user);
}

static void report(td_record_ctx_t *ctx, td_diag_level_t level, const char *message)
{
    td_diagnostic_t diagnostic = {
        .level = level,
        .source = ctx->source ? ctx->source : "",
        .position = ctx->position ? ctx->position : "",
        .nct_id = ctx->trial ? ctx->trial->nct_id : "",
        .message = message,
    };
    td_record_emit(ctx->on_diag, ctx->user, &diagnostic);
}

void td_record_warn(td_record_ctx_t *ctx, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    ctx->warnings++;
    report(ctx, TD_DIAG_WARNING, message);
}

td_status_t td_record_reject(td_record_ctx_t *ctx, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, args);
    va_end(args);
    return TD_ERR_BAD_INPUT;
}

const char *td_record_excerpt(const char *text, size_t len, char out[64])
{
    size_t limit = len < 40 ? len : 40, o = 0, i = 0;
    while (i < limit) {
        unsigned char c = (unsigned char) text[i];
        char piece[8] = {(char) c};
        size_t width = 1;
        if (c == '\n' || c == '\t')
            width = (size_t) snprintf(piece, sizeof(piece), "\\%c", c == '\n' ? 'n' : 't');
        else if (c < 0x20 || c == 0x7f)
            width = (size_t) snprintf(piece, sizeof(piece), "\\x%02x", c);
        if (o + width > 56)
            break;
        memcpy(out + o, piece, width);
        o += width;
        i++;
    }
    /* Never end inside a character: continuation bytes were copied one for one. */
    while (i < len && i && ((unsigned char) text[i] & 0xC0) == 0x80) {
        i--;
        o--;
    }
    snprintf(out + o, 64 - o, "%s", i < len ? "..." : "");
    return out;
}

td_status_t td_record_nct_id(td_record_ctx_t *ctx, const char *text, size_t len)
{
    char quoted[64];
    if (!text || !len)
        return td_record_reject(ctx, "missing NCT ID");
    if (!td_nct_id_parse(text, len, ctx->trial->nct_id))
        return td_record_reject(ctx, "malformed NCT ID '%s'", td_record_excerpt(text, len, quoted));
    return TD_OK;
}

const char *td_record_text(td_record_ctx_t *ctx, const char *field, const char *text, size_t len)
{
    bool truncated;
    const char *copy;
    if (td_trial_strndup(ctx->trial, text, len, &copy, &truncated) != TD_OK) {
        ctx->out_of_memory = true;
        return NULL;
    }
    if (truncated)
        td_record_warn(ctx, "%s is %zu bytes; cut to the %u-byte limit", field, len, TD_FIELD_MAX);
    return copy;
}

void td_record_list_add(td_record_ctx_t *ctx, const char *field, td_strlist_t *list,
                        const char *text, size_t len)
{
    bool truncated;
    if (td_trial_strlist_add(ctx->trial, list, text, len, &truncated) != TD_OK)
        ctx->out_of_memory = true;
    else if (truncated)
        td_record_warn(ctx, "%s is %zu bytes; cut to the %u-byte limit", field, len, TD_FIELD_MAX);
}

static void warn_value(td_record_ctx_t *ctx, const char *what, const char *field, const char *text)
{
    char quoted[64];
    td_record_warn(ctx, "%s %s '%s'", what, field, td_record_excerpt(text, strlen(text), quoted));
}

void td_record_date(td_record_ctx_t *ctx, const char *field, const char *text, td_date_t *out)
{
    if (!text)
        return;
    if (td_date_parse(text, out) != TD_OK)
        warn_value(ctx, "bad", field, text);
}

void td_record_age(td_record_ctx_t *ctx, const char *field, const char *text, td_age_t *out)
{
    if (!text)
        return;
    if (td_age_parse(text, out) != TD_OK)
        warn_value(ctx, "bad", field, text);
}

void td_record_status(td_record_ctx_t *ctx, const char *field, const char *text,
                      td_overall_status_t *out)
{
    if (text && !td_overall_status_parse(text, out)) {
        warn_value(ctx, "unknown", field, text);
        *out = TD_STATUS_OTHER;
    }
}

void td_record_phase(td_record_ctx_t *ctx, const char *field, const char *text, unsigned *phases)
{
    if (text && !td_phase_parse(text, phases))
        warn_value(ctx, "unknown", field, text);
}

void td_record_study_type(td_record_ctx_t *ctx, const char *field, const char *text,
                          td_study_type_t *out)
{
    if (text && !td_study_type_parse(text, out)) {
        warn_value(ctx, "unknown", field, text);
        *out = TD_STUDY_TYPE_OTHER;
    }
}

void td_record_sex(td_record_ctx_t *ctx, const char *field, const char *text, td_sex_t *out)
{
    if (text && !td_sex_parse(text, out))
        warn_value(ctx, "unknown", field, text);
}

void td_record_std_age(td_record_ctx_t *ctx, const char *field, const char *text,
                       unsigned *std_ages)
{
    if (text && !td_std_age_parse(text, std_ages))
        warn_value(ctx, "unknown", field, text);
}

void td_record_intervention_type(td_record_ctx_t *ctx, const char *field, const char *text,
                                 td_intervention_type_t *out)
{
    if (text && !td_intervention_type_parse(text, out)) {
        warn_value(ctx, "unknown", field, text);
        *out = TD_INTERVENTION_OTHER;
    }
}

void td_record_sponsor_class(td_record_ctx_t *ctx, const char *field, const char *text,
                             td_sponsor_class_t *out)
{
    if (text && !td_sponsor_class_parse(text, out)) {
        warn_value(ctx, "unknown", field, text);
        *out = TD_SPONSOR_UNKNOWN;
    }
}

void td_record_actuality(td_record_ctx_t *ctx, const char *field, const char *text,
                         td_actuality_t *out)
{
    if (text && !td_actuality_parse(text, out))
        warn_value(ctx, "unknown", field, text);
}

void td_record_derive_std_ages(td_record_ctx_t *ctx)
{
    td_trial_t *t = ctx->trial;
    if (!t->std_ages)
        t->std_ages = td_std_ages_from_limits(&t->minimum_age, &t->maximum_age);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) (c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The code unit of the escape "\uXXXX" at buf[i], or -1 when there is none. */
static long unicode_escape(const char *buf, size_t len, size_t i)
{
    if (i + 6 > len || buf[i] != '\\' || buf[i + 1] != 'u')
        return -1;
    long unit = 0;
    for (size_t k = 2; k < 6; k++) {
        int digit = hex_digit(buf[i + k]);
        if (digit < 0)
            return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

/* Outside strings a backslash is a syntax error anyway, so escapes are
 * found without tracking strings: each backslash starts a pair. */
size_t td_json_repair_escapes(char *buf, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\\')
            continue;
        long unit = unicode_escape(buf, len, i);
        if (unit < 0) {
            i++; /* skip the escaped character, which may be a backslash */
            continue;
        }
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            long low = unicode_escape(buf, len, i + 6);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                i += 11; /* a whole pair */
                continue;
            }
        } else if (unit != 0 && (unit < 0xDC00 || unit > 0xDFFF)) {
            i += 5;
            continue;
        }
        memcpy(buf + i, "\\uFFFD", 6);
        count++;
        i += 5;
    }
    return count;
}

/* ICU decodes with substitution: one pass counts bad sequences (valid input,
 * the common case, ends there) and only when there are some does a round
 * trip through UTF-16 rebuild the text with U+FFFD in their place. */
size_t td_utf8_repair(const char *buf, size_t len, char **repaired, size_t *repaired_len)
{
    assert(len <= INT32_MAX / 3);
    *repaired = NULL;
    *repaired_len = 0;
    UErrorCode error = U_ZERO_ERROR;
    int32_t units = 0, subs = 0;
    u_strFromUTF8WithSub(NULL, 0, &units, buf, (int32_t) len, 0xFFFD, &subs, &error);
    if (subs <= 0)
        return 0;
    UChar *wide = malloc(((size_t) units + 1) * sizeof(UChar));
    size_t capacity = len * 3 + 1; /* a bad byte becomes at most 3 bytes */
    char *out = malloc(capacity);
    if (!wide || !out) {
        free(wide);
        free(out);
        return (size_t) -1;
    }
    error = U_ZERO_ERROR;
    u_strFromUTF8WithSub(wide, units + 1, &units, buf, (int32_t) len, 0xFFFD, NULL, &error);
    int32_t written = 0;
    u_strToUTF8(out, (int32_t) capacity, &written, wide, units, &error);
    free(wide);
    if (U_FAILURE(error)) {
        free(out);
        return (size_t) -1;
    }
    *repaired = out;
    *repaired_len = (size_t) written;
    return (size_t) subs;
}
