/* record.c - helpers a format mapper uses to fill a trial and report problems. */
#include "record.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>

static void report(td_record_ctx_t *ctx, td_diag_level_t level, const char *message)
{
    if (!ctx->on_diag)
        return;
    td_diagnostic_t diagnostic = {
        .level = level,
        .source = ctx->source ? ctx->source : "",
        .position = ctx->position ? ctx->position : "",
        .nct_id = ctx->trial ? ctx->trial->nct_id : "",
        .message = message,
    };
    ctx->on_diag(&diagnostic, ctx->user);
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

/* Quotes at most 40 bytes of a value for a message, without splitting a
 * character. */
static const char *excerpt(const char *text, size_t len, char out[64])
{
    size_t n = len < 40 ? len : 40;
    while (n < len && n && ((unsigned char) text[n] & 0xC0) == 0x80)
        n--;
    snprintf(out, 64, "%.*s%s", (int) n, text, n < len ? "..." : "");
    return out;
}

td_status_t td_record_nct_id(td_record_ctx_t *ctx, const char *text, size_t len)
{
    char quoted[64];
    if (!text || !len)
        return td_record_reject(ctx, "missing NCT ID");
    if (!td_nct_id_parse(text, len, ctx->trial->nct_id))
        return td_record_reject(ctx, "malformed NCT ID '%s'", excerpt(text, len, quoted));
    return TD_OK;
}

const char *td_record_text(td_record_ctx_t *ctx, const char *field, const char *text, size_t len)
{
    bool truncated;
    const char *copy = td_trial_strndup(ctx->trial, text, len, &truncated);
    if (!copy && text) {
        /* NULL for non-blank text means the arena could not grow. */
        for (size_t i = 0; i < len && !ctx->out_of_memory; i++)
            ctx->out_of_memory = !strchr(" \t\n\r\f\v", text[i]);
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
    td_record_warn(ctx, "%s %s '%s'", what, field, excerpt(text, strlen(text), quoted));
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
