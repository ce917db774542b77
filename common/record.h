/* record.h - internal: what a format mapper uses to fill one trial.
 *
 * The reader (reader.c) frames the input into records and hands each one to a
 * mapper (reader_json.c, reader_xml.c) together with a td_record_ctx_t. The
 * mapper fills the td_trial_t and reports problems through the context, which
 * adds the source, position and NCT ID and forwards them to the caller's
 * diagnostic callback. Text reaching a mapper is always valid UTF-8.
 *
 * Not part of the public API.
 */
#ifndef TD_RECORD_H
#define TD_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "td_reader.h"
#include "td_trial.h"

typedef struct td_record_ctx {
    td_trial_t *trial;
    const char *source;
    const char *position;
    size_t line_offset; /* lines of the source before the record's first line */
    td_diag_fn on_diag;
    void *user;
    size_t warnings;
    bool out_of_memory; /* set when a copy into the trial failed */
    char error[512];    /* set by td_record_reject */
} td_record_ctx_t;

#define TD_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/* Passes a diagnostic to `on_diag` (which may be NULL) with every control
 * character of its message replaced by '?', so a message is always one line
 * whatever bytes a parser quoted into it. Every diagnostic of the readers
 * goes through here. */
void td_record_emit(td_diag_fn on_diag, void *user, const td_diagnostic_t *diagnostic);

/* Quotes at most 40 bytes of `text` for a message, without splitting a
 * character, control characters written as \n, \t or \xNN; "..." marks a
 * cut. Returns `out`. */
const char *td_record_excerpt(const char *text, size_t len, char out[64]);

/* Reports a warning about the current record; the record is kept. */
void td_record_warn(td_record_ctx_t *ctx, const char *fmt, ...) TD_PRINTF(2, 3);

/* Records why the current record must be skipped and returns
 * TD_ERR_BAD_INPUT, so a mapper can `return td_record_reject(...)`. The
 * reader reports the message as an error diagnostic. */
td_status_t td_record_reject(td_record_ctx_t *ctx, const char *fmt, ...) TD_PRINTF(2, 3);

/* Sets trial->nct_id from `text`, or rejects the record ("missing NCT ID",
 * "malformed NCT ID 'x'"). `text` may be NULL. */
td_status_t td_record_nct_id(td_record_ctx_t *ctx, const char *text, size_t len);

/* Copies text into the trial (td_trial_strndup), warning when `field` was
 * cut to TD_FIELD_MAX. Returns the copy, or NULL when the text is absent or
 * blank, or when memory ran out: then it sets ctx->out_of_memory, and the
 * reader fails with TD_ERR_NO_MEMORY. td_record_list_add likewise. */
const char *td_record_text(td_record_ctx_t *ctx, const char *field, const char *text, size_t len);

/* Appends text to a list of the trial, warning on truncation. */
void td_record_list_add(td_record_ctx_t *ctx, const char *field, td_strlist_t *list,
                        const char *text, size_t len);

/* Parses `text` into *out (td_date_parse, td_age_parse); on bad text warns
 * "bad <field> 'text'" and leaves *out absent. NULL text means absent. */
void td_record_date(td_record_ctx_t *ctx, const char *field, const char *text, td_date_t *out);
void td_record_age(td_record_ctx_t *ctx, const char *field, const char *text, td_age_t *out);

/* Enumerations: parse `text`, warn "unknown <field> 'text'" when it is not a
 * known value; the field then becomes what td_trial.h says (*_OTHER, sponsor
 * class UNKNOWN; sex and actuality stay as they were; no bit is set). NULL
 * text leaves the field as it is. */
void td_record_status(td_record_ctx_t *ctx, const char *field, const char *text,
                      td_overall_status_t *out);
void td_record_phase(td_record_ctx_t *ctx, const char *field, const char *text, unsigned *phases);
void td_record_study_type(td_record_ctx_t *ctx, const char *field, const char *text,
                          td_study_type_t *out);
void td_record_sex(td_record_ctx_t *ctx, const char *field, const char *text, td_sex_t *out);
void td_record_std_age(td_record_ctx_t *ctx, const char *field, const char *text,
                       unsigned *std_ages);
void td_record_intervention_type(td_record_ctx_t *ctx, const char *field, const char *text,
                                 td_intervention_type_t *out);
void td_record_sponsor_class(td_record_ctx_t *ctx, const char *field, const char *text,
                             td_sponsor_class_t *out);
void td_record_actuality(td_record_ctx_t *ctx, const char *field, const char *text,
                         td_actuality_t *out);

/* Ends every study mapper (API v2 JSON and XML alike): a trial that names
 * no known standard age group gets the groups its age limits overlap. */
void td_record_derive_std_ages(td_record_ctx_t *ctx);

/* Rewrites, in place, the JSON escapes jansson refuses inside an otherwise
 * good record: "\u0000" and UTF-16 surrogate escapes without their other
 * half each become "\uFFFD" (the same length, so line and column numbers
 * do not move). Returns the number rewritten. */
size_t td_json_repair_escapes(char *buf, size_t len);

/* Replaces invalid UTF-8 sequences in buf[0..len) with U+FFFD. Returns the
 * number of replacements; when it is non-zero *repaired points to a new
 * malloc'd NUL-terminated buffer of *repaired_len bytes that the caller
 * frees. Returns (size_t)-1 when out of memory. */
size_t td_utf8_repair(const char *buf, size_t len, char **repaired, size_t *repaired_len);

/* Format mappers. Each fills ctx->trial from one record and returns TD_OK,
 * TD_ERR_BAD_INPUT (after td_record_reject) or TD_ERR_NO_MEMORY. */

/* One API v2 study object ({"protocolSection": ..., "hasResults": ...}). */
td_status_t td_map_ctgov_json(td_record_ctx_t *ctx, const json_t *study);

/* One BEIR document ({"_id": "NCT...", "title": ..., "text": ...}); the title
 * becomes brief_title and the text brief_summary. */
td_status_t td_map_beir(td_record_ctx_t *ctx, const json_t *doc);

/* One legacy <clinical_study> XML document held in memory (valid UTF-8). */
td_status_t td_map_ctgov_xml(td_record_ctx_t *ctx, const char *xml, size_t len);

#endif
