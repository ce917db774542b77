/* format.c - printing search results, records and query errors in the
 * formats of td_format.h.
 *
 * Every trial string reaching a terminal goes through put_clean: records
 * come from a public registry, and a control character in a title (an ESC
 * sequence, say) must not be able to move the cursor or recolour the
 * terminal. JSON is built as a jansson tree, so its escaping is jansson's.
 */
#include "td_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <unicode/uchar.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

#define ANSI_RESET "\x1b[0m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_DIM "\x1b[2m"
#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_HIGHLIGHT "\x1b[1;31m" /* bold red, as grep marks its matches */
#define ANSI_ERROR "\x1b[1;31m"

/* Matched words in a snippet printed without colour. */
#define PLAIN_HIGHLIGHT_OPEN "["
#define PLAIN_HIGHLIGHT_CLOSE "]"

/* " · " between the parts of a hit's status line. */
#define SEPARATOR " \xc2\xb7 "
#define ELLIPSIS "\xe2\x80\xa6"
#define REPLACEMENT_CHARACTER "\xef\xbf\xbd"

/* Significant digits of a JSON real, as in td_trial_json.h: a coordinate of
 * up to 15 digits is written back as the same text. */
#define REAL_DIGITS 15
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(REAL_DIGITS))
#define JSON_PRETTY_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(REAL_DIGITS))

/* A list on a hit's line (conditions, interventions) shows as many items
 * as fit in this many bytes, at least one, then "(+N more)". */
#define LIST_MAX_BYTES 100
/* The facets with many values show only their most frequent ones. */
#define FACET_TOP 10

/* ---- Formats -------------------------------------------------------------- */

static const char *const format_names[] = {
    [TD_OUTPUT_TEXT] = "text",
    [TD_OUTPUT_JSON] = "json",
    [TD_OUTPUT_CSV] = "csv",
    [TD_OUTPUT_IDS] = "ids",
};

bool td_output_format_parse(const char *text, td_output_format_t *out)
{
    for (size_t i = 0; text && i < COUNT(format_names); i++) {
        if (strcmp(text, format_names[i]) == 0) {
            *out = (td_output_format_t) i;
            return true;
        }
    }
    return false;
}

const char *td_output_format_name(td_output_format_t format)
{
    return (size_t) format < COUNT(format_names) ? format_names[format] : "";
}

/* ---- UTF-8 and clean text ------------------------------------------------ */

/* The length of the well-formed UTF-8 character (RFC 3629) starting at `s`,
 * with at most `left` bytes, its code point in *code; 0 when the bytes there
 * are not one. */
static size_t utf8_next(const unsigned char *s, size_t left, uint32_t *code)
{
    unsigned lead = s[0];
    size_t extra;
    uint32_t value, min;
    if (lead < 0x80) {
        *code = lead;
        return 1;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
        extra = 1, value = lead & 0x1f, min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        extra = 2, value = lead & 0x0f, min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        extra = 3, value = lead & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left <= extra)
        return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (s[k] & 0x3f);
    }
    if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return 0;
    *code = value;
    return extra + 1;
}

/* The longest prefix of `text` of at most `max` bytes that ends on a
 * character boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char) text[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* C0 controls, DEL and C1 controls: what could move a terminal's cursor or
 * change its colours. */
static bool is_control(uint32_t code)
{
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/* Writes text for a terminal: control characters become spaces and invalid
 * UTF-8 bytes U+FFFD. With `space` (the state of the line being written,
 * true after a space), the text stays on one line: every run of white space
 * and control characters becomes one space. Without, line breaks and tabs
 * are kept. */
static void put_clean(FILE *out, const char *text, size_t len, bool *space)
{
    const unsigned char *s = (const unsigned char *) text;
    for (size_t i = 0; i < len;) {
        uint32_t code;
        size_t n = utf8_next(s + i, len - i, &code);
        if (n == 0) {
            fputs(REPLACEMENT_CHARACTER, out);
            if (space)
                *space = false;
            i++;
            continue;
        }
        bool line_break = code == '\n' || code == '\r' || code == 0x2028 || code == 0x2029;
        bool blank = line_break || code == ' ' || is_control(code);
        if (space) {
            if (!blank)
                fwrite(s + i, 1, n, out);
            else if (!*space)
                fputc(' ', out);
            *space = blank;
        } else if (code == '\r' && i + 1 < len && s[i + 1] == '\n') {
            /* CR LF is one line break: the LF writes it */
        } else if (line_break) {
            fputc('\n', out);
        } else if (code == '\t') {
            fputc('\t', out);
        } else if (blank) {
            fputc(' ', out);
        } else {
            fwrite(s + i, 1, n, out);
        }
        i += n;
    }
}

/* One line in which every character keeps its place, so that a caret can
 * be put under any of them: each control character becomes one space. */
static void put_aligned(FILE *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    for (size_t i = 0; i < len;) {
        uint32_t code;
        size_t n = utf8_next(s + i, len - i, &code);
        if (n == 0) {
            fputs(REPLACEMENT_CHARACTER, out);
            n = 1;
        } else if (is_control(code)) {
            fputc(' ', out);
        } else {
            fwrite(s + i, 1, n, out);
        }
        i += n;
    }
}

/* One-line text without the blanks and control characters around it. */
static void put_line_text(FILE *out, const char *text)
{
    if (!text)
        return;
    const unsigned char *s = (const unsigned char *) text;
    size_t len = strlen(text);
    for (;;) {
        if (len > 0 && (s[len - 1] <= 0x20 || s[len - 1] == 0x7f))
            len--;
        else if (len > 1 && s[len - 2] == 0xc2 && s[len - 1] >= 0x80 && s[len - 1] <= 0x9f)
            len -= 2; /* a C1 control */
        else
            break;
    }
    bool space = true; /* drops blanks at the start */
    put_clean(out, text, len, &space);
}

static void style(FILE *out, bool color, const char *code)
{
    if (color && code)
        fputs(code, out);
}

static void unstyle(FILE *out, bool color, const char *code)
{
    if (color && code)
        fputs(ANSI_RESET, out);
}

/* The columns a code point takes in a terminal: 0 for combining marks and
 * format characters, 2 for East Asian wide and full-width ones. */
static int columns_of(uint32_t code)
{
    int8_t type = u_charType((UChar32) code);
    if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_FORMAT_CHAR)
        return 0;
    int width = u_getIntPropertyValue((UChar32) code, UCHAR_EAST_ASIAN_WIDTH);
    return (width == U_EA_WIDE || width == U_EA_FULLWIDTH) ? 2 : 1;
}

/* ---- Readable enumerations ----------------------------------------------- */

typedef struct word_entry {
    const char *token;
    const char *words;
} word_entry_t;

/* Only the tokens whose words are not the token in sentence case. */
static const word_entry_t status_words[] = {
    {"ACTIVE_NOT_RECRUITING", "Active, not recruiting"},
    {"UNKNOWN", "Unknown status"},
};

static const word_entry_t phase_words[] = {
    {"NA", "N/A"},         {"EARLY_PHASE1", "Early Phase 1"},
    {"PHASE1", "Phase 1"}, {"PHASE2", "Phase 2"},
    {"PHASE3", "Phase 3"}, {"PHASE4", "Phase 4"},
};

static const word_entry_t sponsor_class_words[] = {
    {"NIH", "NIH"},          {"FED", "U.S. federal"}, {"OTHER_GOV", "Other government"},
    {"INDIV", "Individual"}, {"AMBIG", "Ambiguous"},
};

/* An API token in words: from `table` when it is there, else in sentence
 * case with spaces ("NOT_YET_RECRUITING" -> "Not yet recruiting"). Text that
 * is not a token ("Randomized", from a legacy record) is returned as it is.
 * The result is `token`, a table entry or `buf`. */
static const char *readable(const word_entry_t *table, size_t count, const char *token, char *buf,
                            size_t size)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(token, table[i].token) == 0)
            return table[i].words;
    }
    size_t len = strlen(token);
    if (len == 0 || len >= size)
        return token;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return token;
        if (c == '_')
            buf[i] = ' ';
        else if (i > 0 && c >= 'A' && c <= 'Z')
            buf[i] = (char) (c - 'A' + 'a');
        else
            buf[i] = c;
    }
    buf[len] = '\0';
    return buf;
}

#define READABLE(table, token, buf) readable((table), COUNT(table), (token), (buf), sizeof(buf))
#define READABLE_TOKEN(token, buf) readable(NULL, 0, (token), (buf), sizeof(buf))

static const char *status_color(const char *token)
{
    static const char *const open[] = {"RECRUITING", "NOT_YET_RECRUITING",
                                       "ENROLLING_BY_INVITATION", "AVAILABLE"};
    static const char *const paused[] = {"ACTIVE_NOT_RECRUITING", "SUSPENDED",
                                         "TEMPORARILY_NOT_AVAILABLE"};
    static const char *const stopped[] = {"TERMINATED", "WITHDRAWN", "NO_LONGER_AVAILABLE",
                                          "WITHHELD"};
    for (size_t i = 0; i < COUNT(open); i++)
        if (strcmp(token, open[i]) == 0)
            return ANSI_GREEN;
    for (size_t i = 0; i < COUNT(paused); i++)
        if (strcmp(token, paused[i]) == 0)
            return ANSI_YELLOW;
    for (size_t i = 0; i < COUNT(stopped); i++)
        if (strcmp(token, stopped[i]) == 0)
            return ANSI_RED;
    return NULL;
}

/* ---- Reading the record JSON ---------------------------------------------- */

static const char *get_string(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

/* A non-empty string, or NULL. */
static const char *get_text(const json_t *object, const char *key)
{
    const char *text = get_string(object, key);
    return text && *text ? text : NULL;
}

/* An array member with at least one element, or NULL. */
static json_t *get_list(const json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    return json_is_array(value) && json_array_size(value) > 0 ? value : NULL;
}

static json_t *parse_object(const char *text)
{
    if (!text)
        return NULL;
    json_t *root = json_loads(text, 0, NULL);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The intervention names of a record: "interventionNames" in the DISPLAY
 * view, the names of "interventions" in the FULL view. A new reference. */
static json_t *intervention_names(const json_t *record)
{
    json_t *names = json_object_get(record, "interventionNames");
    if (json_is_array(names))
        return json_incref(names);
    json_t *list = json_array();
    json_t *interventions = json_object_get(record, "interventions");
    size_t i;
    json_t *item;
    json_array_foreach(interventions, i, item)
    {
        json_t *name = json_object_get(item, "name");
        if (list && json_is_string(name))
            json_array_append(list, name);
    }
    return list;
}

/* ---- Text pieces shared by results and records ----------------------------- */

static void put_phases(FILE *out, const json_t *phases)
{
    size_t i;
    json_t *phase;
    json_array_foreach(phases, i, phase)
    {
        char buf[64];
        if (!json_is_string(phase))
            continue;
        if (i > 0)
            fputc('/', out);
        put_line_text(out, READABLE(phase_words, json_string_value(phase), buf));
    }
}

static void put_status(FILE *out, const char *token, bool color)
{
    char buf[64];
    const char *code = status_color(token);
    style(out, color, code);
    put_line_text(out, READABLE(status_words, token, buf));
    unstyle(out, color, code);
}

/* {"date":"2023-05","type":"ACTUAL"} as "2023-05", or "2023-05 (estimated)"
 * with `type`. */
static void put_date(FILE *out, const json_t *date, bool type)
{
    put_line_text(out, get_string(date, "date"));
    const char *actuality = get_string(date, "type");
    if (type && actuality && strcmp(actuality, "ESTIMATED") == 0)
        fputs(" (estimated)", out);
}

/* The strings of `list` joined with "; ", as many as fit in LIST_MAX_BYTES
 * (at least one, cut with "…" when it alone is longer), then "(+N more)". */
static void put_short_list(FILE *out, const json_t *list)
{
    size_t count = json_array_size(list), used = 0, shown = 0;
    bool space = false;
    for (; shown < count; shown++) {
        const char *item = json_string_value(json_array_get(list, shown));
        size_t len = item ? strlen(item) : 0;
        if (shown > 0 && used + 2 + len > LIST_MAX_BYTES)
            break;
        if (shown > 0)
            fputs("; ", out);
        if (len > LIST_MAX_BYTES) {
            put_clean(out, item, utf8_cut(item, len, LIST_MAX_BYTES), &space);
            fputs(ELLIPSIS, out);
        } else {
            put_clean(out, item ? item : "", len, &space);
        }
        space = false;
        used += (shown > 0 ? 2 : 0) + len;
    }
    if (shown < count)
        fprintf(out, " (+%zu more)", count - shown);
}

/* A labelled line of a hit, indented. */
static void put_label(FILE *out, int indent, const char *label, bool color)
{
    fprintf(out, "%*s", indent, "");
    style(out, color, ANSI_DIM);
    fputs(label, out);
    unstyle(out, color, ANSI_DIM);
}

/* ---- text results ----------------------------------------------------------- */

/* The snippet with its spans highlighted. Spans out of order or outside the
 * text are passed over; spans apart only by spaces are marked as one, so
 * "[breast cancer]" rather than "[breast] [cancer]". */
static void put_snippet(FILE *out, const td_snippet_t *snippet, bool color)
{
    const char *text = snippet->text;
    size_t len = strlen(text), at = 0, i = 0;
    bool space = false;
    while (i < snippet->span_count) {
        size_t start = snippet->spans[i].start, end = snippet->spans[i].end;
        i++;
        if (start < at || start >= end || end > len)
            continue;
        while (i < snippet->span_count && snippet->spans[i].start >= end &&
               snippet->spans[i].end > snippet->spans[i].start && snippet->spans[i].end <= len &&
               strspn(text + end, " ") >= snippet->spans[i].start - end) {
            end = snippet->spans[i].end;
            i++;
        }
        put_clean(out, text + at, start - at, &space);
        if (color)
            fputs(ANSI_HIGHLIGHT, out);
        else
            fputs(PLAIN_HIGHLIGHT_OPEN, out);
        space = false;
        put_clean(out, text + start, end - start, &space);
        fputs(color ? ANSI_RESET : PLAIN_HIGHLIGHT_CLOSE, out);
        space = false;
        at = end;
    }
    put_clean(out, text + at, len - at, &space);
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* "why:" and one line per field, in the order the fields first appear:
 *   why: title: palbociclib, letrozole
 *        intervention: trastuzumab deruxtecan (matched via "DS-8201a")
 * A term the query wrote otherwise (not only in another case) says so:
 * (from "CDK4/6 inhibitor"). */
static void put_matches(FILE *out, const td_hit_t *hit, int indent, bool color)
{
    bool first_line = true;
    for (size_t i = 0; i < hit->match_count; i++) {
        const char *field = hit->matches[i].field ? hit->matches[i].field : "";
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = same_text(hit->matches[j].field ? hit->matches[j].field : "", field);
        if (seen)
            continue;
        if (first_line)
            put_label(out, indent, "why: ", color);
        else
            fprintf(out, "%*s", indent + 5, "");
        first_line = false;
        put_line_text(out, field);
        fputs(": ", out);
        bool first = true;
        for (size_t j = i; j < hit->match_count; j++) {
            const td_match_t *m = &hit->matches[j];
            if (!same_text(m->field ? m->field : "", field))
                continue;
            bool repeated = false;
            for (size_t k = i; k < j && !repeated; k++) {
                const td_match_t *p = &hit->matches[k];
                repeated = same_text(p->field ? p->field : "", field) &&
                           same_text(p->term, m->term) && same_text(p->query, m->query) &&
                           same_text(p->via, m->via);
            }
            if (repeated)
                continue;
            if (!first)
                fputs(", ", out);
            first = false;
            put_line_text(out, m->term ? m->term : m->query);
            bool from = m->query && m->term && strcasecmp(m->query, m->term) != 0;
            if (from || m->via) {
                fputs(" (", out);
                if (from) {
                    fputs("from \"", out);
                    put_line_text(out, m->query);
                    fputc('"', out);
                }
                if (m->via) {
                    fputs(from ? ", matched via \"" : "matched via \"", out);
                    put_line_text(out, m->via);
                    fputc('"', out);
                }
                fputc(')', out);
            }
        }
        fputc('\n', out);
    }
}

/* The status line of a hit: status, phases (or the study type when it has
 * none), enrollment, sponsor and last update, those the record has. */
static void put_hit_facts(FILE *out, const json_t *record, int indent, bool color)
{
    bool any = false;
    const char *status = get_text(record, "overallStatus");
    const json_t *phases = get_list(record, "phases");
    const char *type = get_text(record, "studyType");
    const json_t *enrollment = json_object_get(record, "enrollment");
    const char *sponsor = get_text(record, "leadSponsor");
    const json_t *updated = json_object_get(record, "lastUpdateDate");

    if (!status && !phases && !type && !json_is_integer(json_object_get(enrollment, "count")) &&
        !sponsor && !get_string(updated, "date"))
        return;
    fprintf(out, "%*s", indent, "");
    if (status) {
        put_status(out, status, color);
        any = true;
    }
    if (phases || type) {
        char buf[64];
        fputs(any ? SEPARATOR : "", out);
        if (phases)
            put_phases(out, phases);
        else
            put_line_text(out, READABLE_TOKEN(type, buf));
        any = true;
    }
    if (json_is_integer(json_object_get(enrollment, "count"))) {
        const char *actuality = get_string(enrollment, "type");
        fputs(any ? SEPARATOR : "", out);
        fprintf(out, "%" JSON_INTEGER_FORMAT " %s",
                json_integer_value(json_object_get(enrollment, "count")),
                actuality && strcmp(actuality, "ESTIMATED") == 0 ? "planned" : "participants");
        any = true;
    }
    if (sponsor) {
        fputs(any ? SEPARATOR : "", out);
        put_line_text(out, sponsor);
        any = true;
    }
    if (get_string(updated, "date")) {
        fputs(any ? SEPARATOR "updated " : "updated ", out);
        put_date(out, updated, false);
        any = true;
    }
    fputc('\n', out);
}

/* "female", "male", or NULL when the description does not say. */
static const char *patient_sex(const td_patient_t *patient)
{
    return patient->sex == TD_SEX_FEMALE ? "female" : patient->sex == TD_SEX_MALE ? "male" : NULL;
}

/* "62 years, female", "8 months": the patient a description spoke of. */
static void patient_text(const td_patient_t *patient, char *buf, size_t size)
{
    size_t unit_len = strlen(patient->age_unit);
    if (patient->age == 1)
        unit_len--; /* "1 year" */
    const char *sex = patient_sex(patient);
    snprintf(buf, size, "%d %.*s%s%s", patient->age, (int) unit_len, patient->age_unit,
             sex ? ", " : "", sex ? sex : "");
}

static void text_hit(FILE *out, const td_hit_t *hit, int width, const td_render_options_t *options)
{
    bool color = options->color;
    int indent = width + 2;
    json_t *record = parse_object(hit->display);

    fprintf(out, "%*" PRIu32 ". ", width, hit->rank);
    if (!record) {
        fputs("(this trial's stored record could not be read)\n", out);
        return;
    }
    const char *nct_id = get_text(record, "nctId");
    const char *title = get_text(record, "briefTitle");
    const char *acronym = get_text(record, "acronym");
    style(out, color, ANSI_BOLD);
    put_line_text(out, nct_id ? nct_id : "(no NCT ID)");
    unstyle(out, color, ANSI_BOLD);
    if (title) {
        fputs("  ", out);
        put_line_text(out, title);
    }
    if (acronym && !(title && strstr(title, acronym))) {
        fputs(" (", out);
        put_line_text(out, acronym);
        fputc(')', out);
    }
    fputc('\n', out);

    put_hit_facts(out, record, indent, color);
    if (hit->rules_out_patient) {
        fprintf(out, "%*s", indent, "");
        style(out, color, ANSI_YELLOW);
        fputs("Its age or sex limits rule the patient out", out);
        unstyle(out, color, ANSI_YELLOW);
        fputc('\n', out);
    }
    const json_t *conditions = get_list(record, "conditions");
    if (conditions) {
        put_label(out, indent, "Conditions: ", color);
        put_short_list(out, conditions);
        fputc('\n', out);
    }
    const json_t *interventions = get_list(record, "interventionNames");
    if (interventions) {
        put_label(out, indent, "Interventions: ", color);
        put_short_list(out, interventions);
        fputc('\n', out);
    }
    if (hit->has_distance) {
        put_label(out, indent, "Nearest site: ", color);
        if (hit->nearest_site) {
            put_line_text(out, hit->nearest_site);
            fputs(" (", out);
        }
        fprintf(out, "%.1f km", hit->distance_km);
        fputs(hit->nearest_site ? ")\n" : "\n", out);
    }
    if (hit->snippet.text) {
        fprintf(out, "%*s", indent, "");
        style(out, color, ANSI_DIM);
        put_line_text(out, hit->snippet.field ? hit->snippet.field : "text");
        fputs(":", out);
        unstyle(out, color, ANSI_DIM);
        fputc(' ', out);
        put_snippet(out, &hit->snippet, color);
        fputc('\n', out);
    }
    if (options->explain)
        put_matches(out, hit, indent, color);
    json_decref(record);
}

static void text_facets(FILE *out, const td_search_result_t *result, bool color)
{
    style(out, color, ANSI_BOLD);
    fputs("Facets:", out);
    unstyle(out, color, ANSI_BOLD);
    fputc('\n', out);
    for (size_t f = 0; f < TD_FACET_COUNT; f++) {
        const td_facet_counts_t *facet = &result->facets[f];
        if (facet->count == 0)
            continue;
        size_t shown = facet->count;
        if ((f == TD_FACET_COUNTRY || f == TD_FACET_START_YEAR) && shown > FACET_TOP)
            shown = FACET_TOP;
        fprintf(out, "  %-18s", td_facet_name((td_facet_t) f));
        for (size_t i = 0; i < shown; i++) {
            if (i > 0)
                fputs(", ", out);
            put_line_text(out, facet->values[i].value);
            fprintf(out, " (%" PRIu32 ")", facet->values[i].count);
        }
        if (shown < facet->count)
            fprintf(out, ", +%zu more", facet->count - shown);
        fputc('\n', out);
    }
}

static void text_result(FILE *out, const td_search_result_t *result,
                        const td_render_options_t *options)
{
    bool color = options->color;
    if (result->partial) {
        style(out, color, ANSI_YELLOW);
        fputs("Partial matches: not every word is required; trials with more of them rank "
              "first.",
              out);
        unstyle(out, color, ANSI_YELLOW);
        fputc('\n', out);
    }
    if (result->has_patient) {
        char patient[64];
        patient_text(&result->patient, patient, sizeof(patient));
        fprintf(out, "Patient: %s. Trials whose age and sex limits admit them rank first.\n",
                patient);
    }
    if (result->total == 0) {
        fputs("No trials match", out);
    } else {
        fprintf(out, "%" PRIu32 " %s", result->total,
                result->total == 1 ? "trial matches" : "trials match");
        if (result->partial)
            fputs(" some of the words", out);
        if (result->hit_count > 0) {
            uint32_t first = result->hits[0].rank;
            uint32_t last = result->hits[result->hit_count - 1].rank;
            fprintf(out, ", showing %" PRIu32, first);
            if (last != first)
                fprintf(out, "-%" PRIu32, last);
        }
    }
    fprintf(out, " (index revision %" PRIu64 ", %.3f s)\n", result->revision, result->seconds);
    for (size_t i = 0; i < result->suggestion_count; i++) {
        fputs("Did you mean: ", out);
        style(out, color, ANSI_BOLD);
        put_line_text(out, result->suggestions[i].suggestion);
        unstyle(out, color, ANSI_BOLD);
        fputs("? (no trial has \"", out);
        put_line_text(out, result->suggestions[i].word);
        fputs("\")\n", out);
    }

    uint32_t last_rank = 0;
    for (size_t i = 0; i < result->hit_count; i++)
        if (result->hits[i].rank > last_rank)
            last_rank = result->hits[i].rank;
    int width = 1;
    for (uint32_t r = last_rank; r >= 10; r /= 10)
        width++;
    for (size_t i = 0; i < result->hit_count; i++) {
        fputc('\n', out);
        text_hit(out, &result->hits[i], width, options);
    }

    if (options->facets && result->has_facets) {
        fputc('\n', out);
        text_facets(out, result, color);
    }
    if (options->next_page_token) {
        fputc('\n', out);
        fputs("Next page token: ", out);
        put_line_text(out, options->next_page_token);
        fputc('\n', out);
    }
}

/* ---- json results ---------------------------------------------------------- */

/* A JSON string of `text`; invalid UTF-8 bytes become U+FFFD rather than
 * failing (jansson takes only valid UTF-8). NULL when out of memory. */
static json_t *text_value(const char *text)
{
    size_t len = strlen(text);
    json_t *value = json_stringn(text, len);
    if (value)
        return value;
    char *repaired = malloc(len * 3 + 1);
    if (!repaired)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < len;) {
        uint32_t code;
        size_t n = utf8_next((const unsigned char *) text + i, len - i, &code);
        if (n == 0 || code == 0) {
            memcpy(repaired + at, REPLACEMENT_CHARACTER, 3);
            at += 3;
            i++;
        } else {
            memcpy(repaired + at, text + i, n);
            at += n;
            i += n;
        }
    }
    value = json_stringn(repaired, at);
    free(repaired);
    return value;
}

/* Adds a new value under `key`; NULL (out of memory) clears *ok. */
static void put(json_t *object, const char *key, json_t *value, bool *ok)
{
    if (!value || json_object_set_new(object, key, value) != 0)
        *ok = false;
}

/* Adds a value that another tree holds too (jansson counts references). */
static void put_shared(json_t *object, const char *key, json_t *value, bool *ok)
{
    if (value && json_object_set(object, key, value) != 0)
        *ok = false;
}

static void append(json_t *array, json_t *value, bool *ok)
{
    if (!value || json_array_append_new(array, value) != 0)
        *ok = false;
}

static void put_text(json_t *object, const char *key, const char *text, bool *ok)
{
    if (text)
        put(object, key, text_value(text), ok);
}

static void put_real(json_t *object, const char *key, double value, bool *ok)
{
    if (isfinite(value))
        put(object, key, json_real(value), ok);
}

static json_t *snippet_json(const td_snippet_t *snippet, bool *ok)
{
    json_t *object = json_object(), *spans = json_array();
    if (!object || !spans) {
        json_decref(object);
        json_decref(spans);
        *ok = false;
        return NULL;
    }
    put_text(object, "field", snippet->field, ok);
    put_text(object, "text", snippet->text, ok);
    for (size_t i = 0; i < snippet->span_count; i++)
        append(spans,
               json_pack("[II]", (json_int_t) snippet->spans[i].start,
                         (json_int_t) snippet->spans[i].end),
               ok);
    put(object, "highlights", spans, ok);
    return object;
}

static json_t *hit_json(const td_hit_t *hit, bool has_patient, bool *ok)
{
    json_t *object = json_object();
    if (!object) {
        *ok = false;
        return NULL;
    }
    json_t *record = parse_object(hit->display);
    put(object, "rank", json_integer(hit->rank), ok);
    if (record) {
        put_shared(object, "nct_id", json_object_get(record, "nctId"), ok);
        put_shared(object, "title", json_object_get(record, "briefTitle"), ok);
        put_shared(object, "status", json_object_get(record, "overallStatus"), ok);
        put_shared(object, "phases", json_object_get(record, "phases"), ok);
        put_shared(object, "conditions", json_object_get(record, "conditions"), ok);
        put_shared(object, "interventions", json_object_get(record, "interventionNames"), ok);
    }
    put_real(object, "score", hit->weight, ok);
    if (hit->has_distance)
        put_real(object, "distance_km", hit->distance_km, ok);
    put_text(object, "nearest_site", hit->nearest_site, ok);
    if (has_patient)
        put(object, "admits_patient", json_boolean(!hit->rules_out_patient), ok);
    if (hit->snippet.text)
        put(object, "snippet", snippet_json(&hit->snippet, ok), ok);
    if (hit->match_count > 0) {
        json_t *matches = json_array();
        for (size_t i = 0; matches && i < hit->match_count; i++) {
            const td_match_t *m = &hit->matches[i];
            json_t *item = json_object();
            if (item) {
                put_text(item, "field", m->field, ok);
                put_text(item, "term", m->term, ok);
                put_text(item, "query", m->query, ok);
                put_text(item, "via", m->via, ok);
            }
            append(matches, item, ok);
        }
        put(object, "matches", matches, ok);
    }
    if (record)
        put(object, "record", record, ok);
    return object;
}

static json_t *result_json(const td_search_result_t *result, const td_render_options_t *options,
                           bool *ok)
{
    json_t *root = json_object();
    if (!root) {
        *ok = false;
        return NULL;
    }
    put_text(root, "query", options->query, ok);
    put(root, "total", json_integer(result->total), ok);
    put(root, "revision", json_integer((json_int_t) result->revision), ok);
    put(root, "partial", json_boolean(result->partial), ok);
    if (result->has_patient) {
        const td_patient_t *patient = &result->patient;
        json_t *object = json_object();
        put(object, "age", json_integer(patient->age), ok);
        put_text(object, "age_unit", patient->age_unit, ok);
        const char *sex = patient_sex(patient);
        put(object, "sex", sex ? json_string(sex) : json_null(), ok);
        put(root, "patient", object, ok);
    }
    put_real(root, "seconds", result->seconds, ok);
    json_t *hits = json_array();
    for (size_t i = 0; hits && i < result->hit_count; i++)
        append(hits, hit_json(&result->hits[i], result->has_patient, ok), ok);
    put(root, "hits", hits, ok);
    if (options->facets && result->has_facets) {
        json_t *facets = json_object();
        for (size_t f = 0; facets && f < TD_FACET_COUNT; f++) {
            json_t *values = json_array();
            for (size_t i = 0; values && i < result->facets[f].count; i++) {
                const td_facet_value_t *v = &result->facets[f].values[i];
                json_t *item = json_object();
                if (item) {
                    put_text(item, "value", v->value ? v->value : "", ok);
                    put(item, "count", json_integer(v->count), ok);
                }
                append(values, item, ok);
            }
            put(facets, td_facet_name((td_facet_t) f), values, ok);
        }
        put(root, "facets", facets, ok);
    }
    if (result->suggestion_count > 0) {
        json_t *suggestions = json_array();
        for (size_t i = 0; suggestions && i < result->suggestion_count; i++) {
            json_t *item = json_object();
            if (item) {
                put_text(item, "word", result->suggestions[i].word, ok);
                put_text(item, "suggestion", result->suggestions[i].suggestion, ok);
            }
            append(suggestions, item, ok);
        }
        put(root, "suggestions", suggestions, ok);
    }
    put_text(root, "next_page_token", options->next_page_token, ok);
    return root;
}

/* Dumps `root` (taking the reference) and a newline. */
static td_status_t dump_json(FILE *out, json_t *root, bool ok, size_t flags)
{
    if (!root || !ok) {
        json_decref(root);
        return TD_ERR_NO_MEMORY;
    }
    int failed = json_dumpf(root, out, flags);
    json_decref(root);
    if (failed != 0)
        return TD_ERR_IO;
    fputc('\n', out);
    return TD_OK;
}

/* ---- csv and ids ------------------------------------------------------------ */

static bool csv_needs_quotes(const char *text)
{
    return text && strpbrk(text, ",\"\r\n") != NULL;
}

static void csv_quoted_body(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
}

/* One field, quoted (RFC 4180) when it holds a comma, quote or line break. */
static void csv_field(FILE *out, const char *text)
{
    if (!text)
        return;
    if (!csv_needs_quotes(text)) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    csv_quoted_body(out, text);
    fputc('"', out);
}

/* The strings of a list as one field, joined with "; ". */
static void csv_list(FILE *out, const json_t *list)
{
    size_t i;
    json_t *item;
    bool quote = false;
    json_array_foreach(list, i, item)
    {
        if (csv_needs_quotes(json_string_value(item)))
            quote = true;
    }
    if (quote)
        fputc('"', out);
    json_array_foreach(list, i, item)
    {
        const char *text = json_string_value(item);
        if (i > 0)
            fputs("; ", out);
        if (text && quote)
            csv_quoted_body(out, text);
        else if (text)
            fputs(text, out);
    }
    if (quote)
        fputc('"', out);
}

/* nct_id,title,status,phases,conditions,interventions of a record. */
static void csv_record_fields(FILE *out, const json_t *record)
{
    csv_field(out, get_string(record, "nctId"));
    fputc(',', out);
    csv_field(out, get_string(record, "briefTitle"));
    fputc(',', out);
    csv_field(out, get_string(record, "overallStatus"));
    fputc(',', out);
    csv_list(out, json_object_get(record, "phases"));
    fputc(',', out);
    csv_list(out, json_object_get(record, "conditions"));
    fputc(',', out);
    json_t *names = intervention_names(record);
    csv_list(out, names);
    json_decref(names);
}

static void csv_result(FILE *out, const td_search_result_t *result)
{
    fputs("rank,nct_id,title,status,phases,conditions,interventions,score,distance_km\n", out);
    for (size_t i = 0; i < result->hit_count; i++) {
        const td_hit_t *hit = &result->hits[i];
        json_t *record = parse_object(hit->display);
        fprintf(out, "%" PRIu32 ",", hit->rank);
        if (record)
            csv_record_fields(out, record);
        else
            fputs(",,,,,", out);
        fputc(',', out);
        if (isfinite(hit->weight))
            fprintf(out, "%.6g", hit->weight);
        fputc(',', out);
        if (hit->has_distance && isfinite(hit->distance_km))
            fprintf(out, "%.3f", hit->distance_km);
        fputc('\n', out);
        json_decref(record);
    }
}

static void ids_result(FILE *out, const td_search_result_t *result)
{
    for (size_t i = 0; i < result->hit_count; i++) {
        json_t *record = parse_object(result->hits[i].display);
        const char *nct_id = get_text(record, "nctId");
        if (nct_id) {
            put_line_text(out, nct_id);
            fputc('\n', out);
        }
        json_decref(record);
    }
}

/* Every write went through (fflush too, so that a full disk shows here and
 * not at fclose). */
static td_status_t finish(FILE *out, td_status_t status)
{
    if (fflush(out) != 0 || ferror(out))
        return TD_ERR_IO;
    return status;
}

td_status_t td_render_result(FILE *out, const td_search_result_t *result,
                             const td_render_options_t *options)
{
    td_status_t status = TD_OK;
    switch (options->format) {
    case TD_OUTPUT_TEXT:
        text_result(out, result, options);
        break;
    case TD_OUTPUT_JSON: {
        bool ok = true;
        json_t *root = result_json(result, options, &ok);
        status = dump_json(out, root, ok, JSON_FLAGS);
        break;
    }
    case TD_OUTPUT_CSV:
        csv_result(out, result);
        break;
    case TD_OUTPUT_IDS:
        ids_result(out, result);
        break;
    }
    return finish(out, status);
}

/* ---- Records ---------------------------------------------------------------- */

/* A heading of the record layout: a blank line, then the bold name. */
static void heading(FILE *out, const char *name, bool color)
{
    fputc('\n', out);
    style(out, color, ANSI_BOLD);
    fputs(name, out);
    unstyle(out, color, ANSI_BOLD);
    fputc('\n', out);
}

static void label(FILE *out, const char *name, bool color)
{
    style(out, color, ANSI_BOLD);
    fputs(name, out);
    unstyle(out, color, ANSI_BOLD);
    fputs(": ", out);
}

/* "Label: text" when the record has the text. */
static void text_line(FILE *out, const char *name, const char *text, bool color)
{
    if (!text || !*text)
        return;
    label(out, name, color);
    put_line_text(out, text);
    fputc('\n', out);
}

/* "Label: a; b; c" when the list has items. */
static void list_line(FILE *out, const char *name, const json_t *list, bool color)
{
    if (json_array_size(list) == 0)
        return;
    label(out, name, color);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (i > 0)
            fputs("; ", out);
        put_line_text(out, json_string_value(item));
    }
    fputc('\n', out);
}

/* Multi-line text, every line indented; line breaks of the record kept. */
static void paragraph(FILE *out, const char *text, int indent)
{
    if (!text)
        return;
    const char *line = text;
    while (*line) {
        size_t len = strcspn(line, "\n");
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > 0)
            fprintf(out, "%*s", indent, "");
        put_clean(out, line, len, NULL);
        fputc('\n', out);
        line += strcspn(line, "\n");
        if (*line == '\n')
            line++;
    }
}

/* {"value":18,"unit":"YEARS","days":6574} as "18 Years". */
static void put_age(FILE *out, const json_t *age)
{
    const json_t *value = json_object_get(age, "value");
    const char *unit = get_string(age, "unit");
    double number = json_number_value(value);
    char buf[64];
    fprintf(out, "%.*g", REAL_DIGITS, number);
    if (unit) {
        const char *words = READABLE_TOKEN(unit, buf);
        size_t len = strlen(words);
        /* "1 Year", not "1 Years" */
        if (number == 1 && len > 1 && words[len - 1] == 's')
            len--;
        fputc(' ', out);
        fwrite(words, 1, len, out);
    }
}

static void date_line(FILE *out, const char *name, const json_t *record, const char *key,
                      bool color)
{
    const json_t *date = json_object_get(record, key);
    if (!get_string(date, "date"))
        return;
    label(out, name, color);
    put_date(out, date, true);
    fputc('\n', out);
}

static void put_sponsor(FILE *out, const json_t *sponsor)
{
    char buf[64];
    const char *name =
        json_is_string(sponsor) ? json_string_value(sponsor) : get_string(sponsor, "name");
    const char *sponsor_class = get_text(sponsor, "class");
    put_line_text(out, name ? name : "(unnamed)");
    if (sponsor_class) {
        fputs(" (", out);
        put_line_text(out, READABLE(sponsor_class_words, sponsor_class, buf));
        fputc(')', out);
    }
}

static void record_header(FILE *out, const json_t *r, bool color)
{
    char buf[64];
    const char *status = get_text(r, "overallStatus");
    style(out, color, ANSI_BOLD);
    put_line_text(out, get_text(r, "nctId") ? get_text(r, "nctId") : "(no NCT ID)");
    unstyle(out, color, ANSI_BOLD);
    if (get_text(r, "briefTitle")) {
        fputs("  ", out);
        put_line_text(out, get_text(r, "briefTitle"));
    }
    fputc('\n', out);
    text_line(out, "Official title", get_text(r, "officialTitle"), color);
    text_line(out, "Acronym", get_text(r, "acronym"), color);
    list_line(out, "Also known as", json_object_get(r, "nctIdAliases"), color);
    text_line(out, "Org study ID", get_text(r, "orgStudyId"), color);
    list_line(out, "Secondary IDs", json_object_get(r, "secondaryIds"), color);

    heading(out, "Status and design", color);
    if (status) {
        label(out, "Status", color);
        put_status(out, status, color);
        fputc('\n', out);
    }
    if (get_list(r, "phases")) {
        label(out, "Phases", color);
        put_phases(out, json_object_get(r, "phases"));
        fputc('\n', out);
    }
    if (get_text(r, "studyType"))
        text_line(out, "Study type", READABLE_TOKEN(get_text(r, "studyType"), buf), color);
    const json_t *design = json_object_get(r, "design");
    if (json_object_size(design) > 0) {
        static const struct {
            const char *key, *words;
        } parts[] = {{"allocation", "allocation"},    {"interventionModel", "model"},
                     {"primaryPurpose", "purpose"},   {"masking", "masking"},
                     {"observationalModel", "model"}, {"timePerspective", "time perspective"}};
        label(out, "Design", color);
        bool first = true;
        for (size_t i = 0; i < COUNT(parts); i++) {
            const char *value = get_text(design, parts[i].key);
            if (!value)
                continue;
            fprintf(out, "%s%s ", first ? "" : "; ", parts[i].words);
            put_line_text(out, READABLE_TOKEN(value, buf));
            first = false;
        }
        fputc('\n', out);
    }
    const json_t *enrollment = json_object_get(r, "enrollment");
    if (json_is_integer(json_object_get(enrollment, "count"))) {
        const char *type = get_text(enrollment, "type");
        label(out, "Enrollment", color);
        fprintf(out, "%" JSON_INTEGER_FORMAT,
                json_integer_value(json_object_get(enrollment, "count")));
        if (type)
            fprintf(out, " (%s)", strcmp(type, "ESTIMATED") == 0 ? "estimated" : "actual");
        fputc('\n', out);
    }
    date_line(out, "Start", r, "startDate", color);
    date_line(out, "Primary completion", r, "primaryCompletionDate", color);
    date_line(out, "Completion", r, "completionDate", color);
    date_line(out, "First posted", r, "firstPostedDate", color);
    date_line(out, "Last update", r, "lastUpdateDate", color);
    const json_t *results = json_object_get(r, "hasResults");
    if (json_is_boolean(results))
        text_line(out, "Results posted", json_is_true(results) ? "yes" : "no", color);
    const json_t *lead = json_object_get(r, "leadSponsor");
    if (lead) {
        label(out, "Sponsor", color);
        put_sponsor(out, lead);
        fputc('\n', out);
    }
    const json_t *collaborators = get_list(r, "collaborators");
    if (collaborators) {
        label(out, "Collaborators", color);
        size_t i;
        json_t *item;
        json_array_foreach(collaborators, i, item)
        {
            if (i > 0)
                fputs("; ", out);
            put_sponsor(out, item);
        }
        fputc('\n', out);
    }
}

/* "- TYPE: name", then its lists ("Other names: ..."), then its
 * description: one intervention or arm. */
static void typed_entry(FILE *out, const json_t *item, const char *name_key,
                        const char *const lists[][2], size_t list_count, bool color)
{
    char buf[64];
    const char *type = get_text(item, "type");
    fputs("- ", out);
    if (type) {
        put_line_text(out, READABLE_TOKEN(type, buf));
        fputs(": ", out);
    }
    put_line_text(out, get_text(item, name_key) ? get_text(item, name_key) : "(unnamed)");
    fputc('\n', out);
    for (size_t k = 0; k < list_count; k++) {
        const json_t *list = get_list(item, lists[k][0]);
        if (list) {
            fputs("  ", out);
            list_line(out, lists[k][1], list, color);
        }
    }
    paragraph(out, get_text(item, "description"), 2);
}

static void record_interventions(FILE *out, const json_t *r, bool color)
{
    static const char *const intervention_lists[][2] = {{"otherNames", "Other names"},
                                                        {"armGroupLabels", "Arms"}};
    static const char *const arm_lists[][2] = {{"interventionNames", "Interventions"}};
    const json_t *interventions = get_list(r, "interventions");
    const json_t *names = get_list(r, "interventionNames");
    size_t i;
    json_t *item;
    if (interventions) {
        heading(out, "Interventions", color);
        json_array_foreach(interventions, i, item)
            typed_entry(out, item, "name", intervention_lists, 2, color);
    } else if (names) {
        heading(out, "Interventions", color);
        json_array_foreach(names, i, item)
        {
            fputs("- ", out);
            put_line_text(out, json_string_value(item));
            fputc('\n', out);
        }
    }
    const json_t *arms = get_list(r, "armGroups");
    if (arms) {
        heading(out, "Arms", color);
        json_array_foreach(arms, i, item) typed_entry(out, item, "label", arm_lists, 1, color);
    }
}

static void record_outcomes(FILE *out, const json_t *r, const char *key, const char *name,
                            bool color)
{
    const json_t *outcomes = get_list(r, key);
    if (!outcomes)
        return;
    heading(out, name, color);
    size_t i;
    json_t *item;
    json_array_foreach(outcomes, i, item)
    {
        fputs("- ", out);
        put_line_text(out, get_text(item, "measure") ? get_text(item, "measure") : "(unnamed)");
        fputc('\n', out);
        if (get_text(item, "timeFrame")) {
            fputs("  ", out);
            text_line(out, "Time frame", get_text(item, "timeFrame"), color);
        }
        paragraph(out, get_text(item, "description"), 2);
    }
}

static void record_eligibility(FILE *out, const json_t *r, bool color)
{
    const json_t *min_age = json_object_get(r, "minimumAge");
    const json_t *max_age = json_object_get(r, "maximumAge");
    const json_t *healthy = json_object_get(r, "healthyVolunteers");
    const char *sex = get_text(r, "sex");
    const char *criteria = get_text(r, "eligibilityCriteria");
    const json_t *ages = get_list(r, "stdAges");
    if (!min_age && !max_age && !sex && !criteria && !ages && !json_is_boolean(healthy))
        return;
    heading(out, "Eligibility", color);
    char buf[64];
    if (sex)
        text_line(out, "Sex", READABLE_TOKEN(sex, buf), color);
    if (min_age || max_age) {
        label(out, "Ages", color);
        /* DISPLAY records hold the registry's text, FULL ones an object */
        if (json_is_string(min_age))
            put_line_text(out, json_string_value(min_age));
        else if (min_age)
            put_age(out, min_age);
        else
            fputs("any", out);
        fputs(" to ", out);
        if (json_is_string(max_age))
            put_line_text(out, json_string_value(max_age));
        else if (max_age)
            put_age(out, max_age);
        else
            fputs("any age", out);
        fputc('\n', out);
    }
    if (ages) {
        label(out, "Age groups", color);
        size_t i;
        json_t *item;
        json_array_foreach(ages, i, item)
        {
            if (i > 0)
                fputs(", ", out);
            put_line_text(out, READABLE_TOKEN(json_string_value(item), buf));
        }
        fputc('\n', out);
    }
    if (json_is_boolean(healthy))
        text_line(out, "Healthy volunteers", json_is_true(healthy) ? "yes" : "no", color);
    if (criteria) {
        style(out, color, ANSI_BOLD);
        fputs("Criteria:", out);
        unstyle(out, color, ANSI_BOLD);
        fputc('\n', out);
        /* verbatim: the registry's own indentation and bullets */
        put_clean(out, criteria, strlen(criteria), NULL);
        if (criteria[strlen(criteria) - 1] != '\n')
            fputc('\n', out);
    }
}

static void record_locations(FILE *out, const json_t *r, bool color)
{
    const json_t *locations = get_list(r, "locations");
    if (!locations)
        return;
    char title[64];
    snprintf(title, sizeof(title), "Locations (%zu)", json_array_size(locations));
    heading(out, title, color);
    size_t i;
    json_t *site;
    json_array_foreach(locations, i, site)
    {
        static const char *const parts[] = {"facility", "city", "state", "zip", "country"};
        const char *status = get_text(site, "status");
        bool first = true;
        fputs("- ", out);
        for (size_t p = 0; p < COUNT(parts); p++) {
            const char *text = get_text(site, parts[p]);
            if (!text)
                continue;
            /* "Boston, Massachusetts 02115": the zip follows the state */
            fputs(first ? "" : (strcmp(parts[p], "zip") == 0 ? " " : ", "), out);
            put_line_text(out, text);
            first = false;
        }
        if (first)
            fputs("(no address)", out);
        if (status) {
            fputs(SEPARATOR, out);
            put_status(out, status, color);
        }
        const json_t *lat = json_object_get(site, "lat"), *lon = json_object_get(site, "lon");
        if (json_is_number(lat) && json_is_number(lon))
            fprintf(out, " [%.*g, %.*g]", REAL_DIGITS, json_number_value(lat), REAL_DIGITS,
                    json_number_value(lon));
        fputc('\n', out);
    }
}

static void text_record(FILE *out, const json_t *r, bool color)
{
    record_header(out, r, color);

    if (get_list(r, "conditions") || get_list(r, "keywords") || get_list(r, "conditionMeshTerms") ||
        get_list(r, "interventionMeshTerms")) {
        heading(out, "Conditions and keywords", color);
        list_line(out, "Conditions", get_list(r, "conditions"), color);
        list_line(out, "Keywords", get_list(r, "keywords"), color);
        list_line(out, "Condition MeSH terms", get_list(r, "conditionMeshTerms"), color);
        list_line(out, "Intervention MeSH terms", get_list(r, "interventionMeshTerms"), color);
    }
    if (get_text(r, "briefSummary")) {
        heading(out, "Summary", color);
        paragraph(out, get_text(r, "briefSummary"), 0);
    }
    if (get_text(r, "detailedDescription")) {
        heading(out, "Description", color);
        paragraph(out, get_text(r, "detailedDescription"), 0);
    }
    record_interventions(out, r, color);
    record_outcomes(out, r, "primaryOutcomes", "Primary outcomes", color);
    record_outcomes(out, r, "secondaryOutcomes", "Secondary outcomes", color);
    record_eligibility(out, r, color);
    record_locations(out, r, color);
}

td_status_t td_render_record(FILE *out, const char *full_json, td_output_format_t format,
                             bool color)
{
    json_error_t error;
    json_t *record = full_json ? json_loads(full_json, 0, &error) : NULL;
    if (!json_is_object(record)) {
        json_decref(record);
        return TD_ERR_BAD_INPUT;
    }
    td_status_t status = TD_OK;
    switch (format) {
    case TD_OUTPUT_TEXT:
        text_record(out, record, color);
        break;
    case TD_OUTPUT_JSON:
        status = dump_json(out, json_incref(record), true, JSON_PRETTY_FLAGS);
        break;
    case TD_OUTPUT_CSV:
        fputs("nct_id,title,status,phases,conditions,interventions\n", out);
        csv_record_fields(out, record);
        fputc('\n', out);
        break;
    case TD_OUTPUT_IDS:
        if (get_text(record, "nctId")) {
            put_line_text(out, get_text(record, "nctId"));
            fputc('\n', out);
        }
        break;
    }
    json_decref(record);
    return finish(out, status);
}

/* ---- Query errors ------------------------------------------------------------ */

td_status_t td_render_query_error(FILE *out, const char *query, const td_query_error_t *error,
                                  bool color)
{
    size_t len = query ? strlen(query) : 0;
    size_t position = error->position < len ? error->position : len;
    size_t characters = 0;
    int columns = 0;
    for (size_t i = 0; i < position;) {
        uint32_t code;
        size_t n = utf8_next((const unsigned char *) query + i, len - i, &code);
        if (n == 0) {
            n = 1;
            columns++; /* written as U+FFFD */
        } else if (is_control(code)) {
            columns++; /* written as a space */
        } else {
            columns += columns_of(code);
        }
        characters++;
        i += n;
    }

    style(out, color, ANSI_ERROR);
    fputs("error:", out);
    unstyle(out, color, ANSI_ERROR);
    fputc(' ', out);
    put_line_text(out, error->message);
    fprintf(out, " (at character %zu)\n", characters + 1);
    if (len > 0) {
        fputs("  ", out);
        put_aligned(out, query, len);
        fprintf(out, "\n  %*s", columns, "");
        style(out, color, ANSI_ERROR);
        fputc('^', out);
        unstyle(out, color, ANSI_ERROR);
        fputc('\n', out);
    }
    if (error->hint[0]) {
        style(out, color, ANSI_BOLD);
        fputs("hint:", out);
        unstyle(out, color, ANSI_BOLD);
        fputc(' ', out);
        put_line_text(out, error->hint);
        fputc('\n', out);
    }
    return finish(out, TD_OK);
}
