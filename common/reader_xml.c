/* reader_xml.c - maps one legacy ClinicalTrials.gov <clinical_study> XML
 * document onto td_trial_t.
 *
 * Parsing. libxml2 builds a tree from memory with network access off and
 * without loading any DTD or external entity (no XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD or XML_PARSE_DTDVALID), so a document cannot make us read
 * a file or a URL. Entity references that survive into the tree are never
 * expanded: text is read from text and CDATA nodes only, and the first
 * reference in a record is reported. Errors go to a structured handler on
 * the parser context (and libxml2's generic handler is silenced around the
 * parse): the first one becomes the reject message, nothing is printed.
 *
 * Mapping. Each element the model uses has a row in a table: its name, what
 * kind of value it holds and where that goes in the struct being filled.
 * Elements that group others (<sponsors>, <eligibility>) have a table of
 * their own; repeated elements (<location>, <intervention>) fill an array of
 * structs. Elements without a row are ignored. Diagnostics name a field by
 * its element path from the root, XPath style
 * ("location[3]/facility/address/country", "start_date/@type").
 *
 * Text. Legacy records wrap textblocks at about 100 columns, indent every
 * line and end lines with CR LF. Textblocks are unwrapped: lines are trimmed
 * and the lines of a paragraph joined with a space, paragraphs (separated by
 * blank lines) are kept and separated by one blank line ("\n\n"). In the
 * 6,786-record sample corpus, a line followed by a non-blank line is always a
 * wrapped one, so nothing is joined that was not split (and the summaries
 * come out identical to the API v2 text of the same studies). Other text
 * keeps its line breaks: lines are trimmed, CR LF and CR become LF, and runs
 * of blank lines become one.
 *
 * Design values (<allocation>, <masking>, ...) and <arm_group_type> become
 * API v2-like tokens: a qualifier in parentheses is dropped ("Double
 * (Participant, Investigator)" -> DOUBLE), ASCII letters are upper-cased,
 * runs of other ASCII characters become one '_' ("Non-Randomized" ->
 * NON_RANDOMIZED), and a trailing "_ASSIGNMENT" goes ("Parallel Assignment"
 * -> PARALLEL). The two values this rule gets wrong have a row in
 * token_exceptions.
 */
#include "record.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

typedef enum field_kind {
    FIELD_TEXT,              /* const char * */
    FIELD_TEXTBLOCK,         /* const char *, the element's text unwrapped */
    FIELD_LIST,              /* td_strlist_t, one item per element */
    FIELD_TOKEN,             /* const char *, an API v2-like token */
    FIELD_DATE,              /* td_date_t, with type="Actual|Anticipated|Estimate" */
    FIELD_AGE,               /* td_age_t */
    FIELD_ENROLLMENT,        /* td_trial_t.enrollment and enrollment_type (root only) */
    FIELD_STATUS,            /* td_overall_status_t */
    FIELD_PHASE,             /* unsigned, td_phase_t bits */
    FIELD_STUDY_TYPE,        /* td_study_type_t */
    FIELD_SEX,               /* td_sex_t */
    FIELD_INTERVENTION_TYPE, /* td_intervention_type_t */
    FIELD_SPONSOR_CLASS,     /* td_sponsor_class_t */
    FIELD_HEALTHY,           /* td_tristate_t */
    FIELD_PRESENT,           /* bool, true when the element occurs */
    FIELD_GROUP,             /* children fill the struct at `offset` */
    FIELD_ARRAY              /* each occurrence fills a new item of an array */
} field_kind_t;

typedef struct field {
    const char *name;
    field_kind_t kind;
    size_t offset;                /* of the value from the start of the struct being filled */
    const struct field *children; /* GROUP, ARRAY: table ended by a NULL name */
    size_t count_offset;          /* ARRAY: of the size_t item count; `offset` is the pointer */
    size_t item_size;             /* ARRAY */
} field_t;

/* Tables hold at most this many rows (see map_children). */
#define MAX_FIELDS 32

/* Table rows, each inside braces: a value at `offset`, a value member of
 * `type`, a group whose children fill the struct at `offset`, an array of
 * structs, and the row that ends a table. */
#define ROW(name, kind, offset) name, kind, offset, NULL, 0, 0
#define VALUE(name, kind, type, member) ROW(name, kind, offsetof(type, member))
#define GROUP(name, offset, children) name, FIELD_GROUP, offset, children, 0, 0
#define ARRAY(name, type, items, count, item_type, children)                                       \
    name, FIELD_ARRAY, offsetof(type, items), children, offsetof(type, count), sizeof(item_type)
#define END ROW(NULL, FIELD_TEXT, 0)

static const field_t id_info_fields[] = {
    /* nct_id is read before everything else, see td_map_ctgov_xml. */
    {VALUE("org_study_id", FIELD_TEXT, td_trial_t, org_study_id)},
    {VALUE("secondary_id", FIELD_LIST, td_trial_t, secondary_ids)},
    {VALUE("nct_alias", FIELD_LIST, td_trial_t, nct_aliases)},
    {END},
};

static const field_t sponsor_fields[] = {
    {VALUE("agency", FIELD_TEXT, td_sponsor_t, name)},
    {VALUE("agency_class", FIELD_SPONSOR_CLASS, td_sponsor_t, sponsor_class)},
    {END},
};

static const field_t sponsors_fields[] = {
    {GROUP("lead_sponsor", offsetof(td_trial_t, lead_sponsor), sponsor_fields)},
    {ARRAY("collaborator", td_trial_t, collaborators, collaborator_count, td_sponsor_t,
           sponsor_fields)},
    {END},
};

static const field_t design_fields[] = {
    {VALUE("allocation", FIELD_TOKEN, td_design_t, allocation)},
    {VALUE("intervention_model", FIELD_TOKEN, td_design_t, intervention_model)},
    {VALUE("primary_purpose", FIELD_TOKEN, td_design_t, primary_purpose)},
    {VALUE("masking", FIELD_TOKEN, td_design_t, masking)},
    {VALUE("observational_model", FIELD_TOKEN, td_design_t, observational_model)},
    {VALUE("time_perspective", FIELD_TOKEN, td_design_t, time_perspective)},
    {END},
};

static const field_t outcome_fields[] = {
    {VALUE("measure", FIELD_TEXT, td_outcome_t, measure)},
    {VALUE("description", FIELD_TEXT, td_outcome_t, description)},
    {VALUE("time_frame", FIELD_TEXT, td_outcome_t, time_frame)},
    {END},
};

static const field_t arm_group_fields[] = {
    {VALUE("arm_group_label", FIELD_TEXT, td_arm_group_t, label)},
    {VALUE("arm_group_type", FIELD_TOKEN, td_arm_group_t, type)},
    {VALUE("description", FIELD_TEXT, td_arm_group_t, description)},
    {END},
};

static const field_t intervention_fields[] = {
    {VALUE("intervention_type", FIELD_INTERVENTION_TYPE, td_intervention_t, type)},
    {VALUE("intervention_name", FIELD_TEXT, td_intervention_t, name)},
    {VALUE("description", FIELD_TEXT, td_intervention_t, description)},
    {VALUE("other_name", FIELD_LIST, td_intervention_t, other_names)},
    {VALUE("arm_group_label", FIELD_LIST, td_intervention_t, arm_group_labels)},
    {END},
};

static const field_t eligibility_fields[] = {
    {VALUE("criteria", FIELD_TEXTBLOCK, td_trial_t, eligibility_criteria)},
    {VALUE("gender", FIELD_SEX, td_trial_t, sex)},
    {VALUE("minimum_age", FIELD_AGE, td_trial_t, minimum_age)},
    {VALUE("maximum_age", FIELD_AGE, td_trial_t, maximum_age)},
    {VALUE("healthy_volunteers", FIELD_HEALTHY, td_trial_t, healthy_volunteers)},
    {END},
};

static const field_t address_fields[] = {
    {VALUE("city", FIELD_TEXT, td_location_t, city)},
    {VALUE("state", FIELD_TEXT, td_location_t, state)},
    {VALUE("zip", FIELD_TEXT, td_location_t, zip)},
    {VALUE("country", FIELD_TEXT, td_location_t, country)},
    {END},
};

static const field_t facility_fields[] = {
    {VALUE("name", FIELD_TEXT, td_location_t, facility)},
    {GROUP("address", 0, address_fields)},
    {END},
};

static const field_t location_fields[] = {
    {GROUP("facility", 0, facility_fields)},
    {VALUE("status", FIELD_STATUS, td_location_t, status)},
    {END},
};

/* <condition_browse> and <intervention_browse> fill a td_strlist_t. */
static const field_t browse_fields[] = {
    {ROW("mesh_term", FIELD_LIST, 0)},
    {END},
};

static const field_t study_fields[] = {
    {GROUP("id_info", 0, id_info_fields)},
    {VALUE("acronym", FIELD_TEXT, td_trial_t, acronym)},
    {VALUE("brief_title", FIELD_TEXT, td_trial_t, brief_title)},
    {VALUE("official_title", FIELD_TEXT, td_trial_t, official_title)},
    {GROUP("sponsors", 0, sponsors_fields)},
    {VALUE("brief_summary", FIELD_TEXTBLOCK, td_trial_t, brief_summary)},
    {VALUE("detailed_description", FIELD_TEXTBLOCK, td_trial_t, detailed_description)},
    {VALUE("overall_status", FIELD_STATUS, td_trial_t, overall_status)},
    {VALUE("start_date", FIELD_DATE, td_trial_t, start_date)},
    {VALUE("completion_date", FIELD_DATE, td_trial_t, completion_date)},
    {VALUE("primary_completion_date", FIELD_DATE, td_trial_t, primary_completion_date)},
    {VALUE("phase", FIELD_PHASE, td_trial_t, phases)},
    {VALUE("study_type", FIELD_STUDY_TYPE, td_trial_t, study_type)},
    {GROUP("study_design_info", offsetof(td_trial_t, design), design_fields)},
    {ARRAY("primary_outcome", td_trial_t, primary_outcomes, primary_outcome_count, td_outcome_t,
           outcome_fields)},
    {ARRAY("secondary_outcome", td_trial_t, secondary_outcomes, secondary_outcome_count,
           td_outcome_t, outcome_fields)},
    {ROW("enrollment", FIELD_ENROLLMENT, 0)},
    {VALUE("condition", FIELD_LIST, td_trial_t, conditions)},
    {ARRAY("arm_group", td_trial_t, arm_groups, arm_group_count, td_arm_group_t, arm_group_fields)},
    {ARRAY("intervention", td_trial_t, interventions, intervention_count, td_intervention_t,
           intervention_fields)},
    {GROUP("eligibility", 0, eligibility_fields)},
    {ARRAY("location", td_trial_t, locations, location_count, td_location_t, location_fields)},
    {VALUE("study_first_posted", FIELD_DATE, td_trial_t, first_posted_date)},
    {VALUE("last_update_posted", FIELD_DATE, td_trial_t, last_update_date)},
    {VALUE("keyword", FIELD_LIST, td_trial_t, keywords)},
    {GROUP("condition_browse", offsetof(td_trial_t, condition_mesh_terms), browse_fields)},
    {GROUP("intervention_browse", offsetof(td_trial_t, intervention_mesh_terms), browse_fields)},
    {VALUE("clinical_results", FIELD_PRESENT, td_trial_t, has_results)},
    {END},
};

/* Legacy design values whose API v2 token the general rule does not give. */
static const struct {
    const char *text;
    const char *token;
} token_exceptions[] = {
    {"N/A", "NA"},
    {"Educational/Counseling/Training", "ECT"},
};

typedef struct mapper {
    td_record_ctx_t *ctx;
    td_trial_t *trial;
    td_status_t status;   /* TD_ERR_NO_MEMORY once an allocation failed */
    bool entity_reported; /* an unexpanded entity reference was reported */
    char *text;           /* scratch: the value being mapped, NUL-terminated */
    size_t text_len;
    size_t text_size;
    size_t path_len;
    char path[256]; /* element path of the value being mapped */
} mapper_t;

/* Paths are built from this file's own element names and item numbers, so
 * their length is bounded by the code, not by the data. */
static size_t push(mapper_t *m, const char *separator, const char *name, size_t index)
{
    size_t mark = m->path_len;
    int n = index ? snprintf(m->path + mark, sizeof(m->path) - mark, "%s%s[%zu]", separator, name,
                             index)
                  : snprintf(m->path + mark, sizeof(m->path) - mark, "%s%s", separator, name);
    assert(n > 0 && (size_t) n < sizeof(m->path) - mark);
    m->path_len += (size_t) n;
    return mark;
}

static size_t push_element(mapper_t *m, const char *name, size_t index)
{
    return push(m, m->path_len ? "/" : "", name, index);
}

static void pop(mapper_t *m, size_t mark)
{
    m->path_len = mark;
    m->path[mark] = '\0';
}

/* The length of at most `max` bytes of `text` that does not split a
 * character. */
static int utf8_prefix(const char *text, size_t max)
{
    size_t len = strlen(text);
    if (len > max) {
        len = max;
        while (len && ((unsigned char) text[len] & 0xC0) == 0x80)
            len--;
    }
    return (int) len;
}

static bool name_is(const xmlNode *node, const char *name)
{
    return strcmp((const char *) node->name, name) == 0;
}

static const xmlNode *child_element(const xmlNode *parent, const char *name)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && name_is(c, name))
            return c;
    return NULL;
}

static void append_text(mapper_t *m, const char *text)
{
    size_t len = strlen(text);
    if (m->text_len + len + 1 > m->text_size) {
        size_t size = m->text_size ? m->text_size : 256;
        while (size < m->text_len + len + 1)
            size *= 2;
        char *grown = realloc(m->text, size);
        if (!grown) {
            m->status = TD_ERR_NO_MEMORY;
            return;
        }
        m->text = grown;
        m->text_size = size;
    }
    memcpy(m->text + m->text_len, text, len + 1);
    m->text_len += len;
}

static void report_entity(mapper_t *m, const xmlNode *ref)
{
    if (m->entity_reported)
        return;
    m->entity_reported = true;
    td_record_warn(m->ctx, "%s: entity reference '&%.*s;' not expanded", m->path,
                   utf8_prefix((const char *) ref->name, 40), (const char *) ref->name);
}

/* Collects the text of the nodes from `first` on and of their descendant
 * elements into m->text, without recursion. Only element nodes are entered:
 * an entity reference node's children are the entity declaration. */
static void collect_text(mapper_t *m, const xmlNode *first)
{
    const xmlNode *node = first;
    const xmlNode *top = first ? first->parent : NULL;
    while (node) {
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            if (node->content)
                append_text(m, (const char *) node->content);
        } else if (node->type == XML_ENTITY_REF_NODE) {
            report_entity(m, node);
        } else if (node->type == XML_ELEMENT_NODE && node->children) {
            node = node->children;
            continue;
        }
        while (!node->next && node->parent != top)
            node = node->parent;
        node = node->next;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Normalises text[0..len) in place (see the top of the file) and returns
 * the new length. The output never overtakes the input: a separator is
 * written only for line breaks already read, one byte per break. */
static size_t normalise(char *text, size_t len, bool unwrap)
{
    size_t out = 0, i = 0;
    enum { NONE, LINE, PARAGRAPH } separator = NONE;
    while (i < len) {
        size_t start = i;
        while (i < len && text[i] != '\r' && text[i] != '\n')
            i++;
        size_t end = i;
        if (i < len)
            i += text[i] == '\r' && i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
        while (start < end && is_blank(text[start]))
            start++;
        while (end > start && is_blank(text[end - 1]))
            end--;
        if (start == end) {
            if (out)
                separator = PARAGRAPH;
            continue;
        }
        if (separator == PARAGRAPH) {
            text[out++] = '\n';
            text[out++] = '\n';
        } else if (separator == LINE) {
            text[out++] = unwrap ? ' ' : '\n';
        }
        memmove(text + out, text + start, end - start);
        out += end - start;
        separator = LINE;
    }
    text[out] = '\0';
    return out;
}

/* Reads the text of `first` and its siblings into m->text, normalised.
 * Returns NULL when there is none. */
static const char *read_text(mapper_t *m, const xmlNode *first, bool unwrap)
{
    m->text_len = 0;
    if (m->text)
        m->text[0] = '\0';
    collect_text(m, first);
    if (!m->text)
        return NULL;
    m->text_len = normalise(m->text, m->text_len, unwrap);
    return m->text_len ? m->text : NULL;
}

static const char *attribute_text(mapper_t *m, const xmlNode *node, const char *name)
{
    for (const xmlAttr *a = node->properties; a; a = a->next)
        if (strcmp((const char *) a->name, name) == 0)
            return read_text(m, a->children, false);
    return NULL;
}

/* The type="..." attribute of a date or of <enrollment>. */
static void map_actuality(mapper_t *m, const xmlNode *node, td_actuality_t *out)
{
    size_t mark = push(m, "/", "@type", 0);
    td_record_actuality(m->ctx, m->path, attribute_text(m, node, "type"), out);
    pop(m, mark);
}

/* The token goes to the scratch buffer (it is never longer than the text)
 * and is returned with its length in *len. */
static const char *make_token(mapper_t *m, const char *text, size_t *len)
{
    for (size_t i = 0; i < sizeof(token_exceptions) / sizeof(token_exceptions[0]); i++)
        if (strcasecmp(text, token_exceptions[i].text) == 0) {
            *len = strlen(token_exceptions[i].token);
            return token_exceptions[i].token;
        }
    const char *suffix = "_ASSIGNMENT";
    size_t out = 0;
    bool pending_separator = false;
    for (const char *p = text; *p && *p != '('; p++) {
        unsigned char c = (unsigned char) *p;
        bool keep = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
        if (c >= 'a' && c <= 'z') {
            c = (unsigned char) (c - 'a' + 'A');
            keep = true;
        }
        if (!keep) {
            pending_separator = out > 0;
            continue;
        }
        if (pending_separator)
            m->text[out++] = '_';
        pending_separator = false;
        m->text[out++] = (char) c;
    }
    size_t suffix_len = strlen(suffix);
    if (out > suffix_len && memcmp(m->text + out - suffix_len, suffix, suffix_len) == 0)
        out -= suffix_len;
    m->text[out] = '\0';
    *len = out;
    return m->text;
}

static void map_enrollment(mapper_t *m, const xmlNode *node, const char *text)
{
    td_trial_t *t = m->trial;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || end == text || *end || value < 0) {
        char quoted[64];
        td_record_warn(m->ctx, "bad %s '%s'", m->path,
                       td_record_excerpt(text, strlen(text), quoted));
        return;
    }
    t->enrollment = value;
    map_actuality(m, node, &t->enrollment_type);
}

static void map_healthy(mapper_t *m, const char *text, td_tristate_t *out)
{
    if (strcasecmp(text, "Accepts Healthy Volunteers") == 0 || strcasecmp(text, "Yes") == 0)
        *out = TD_YES;
    else if (strcasecmp(text, "No") == 0)
        *out = TD_NO;
    else {
        char quoted[64];
        td_record_warn(m->ctx, "unknown %s '%s'", m->path,
                       td_record_excerpt(text, strlen(text), quoted));
    }
}

/* Maps one element that holds a value; m->path names it. */
static void map_value(mapper_t *m, const field_t *f, const xmlNode *node, char *base)
{
    void *out = base + f->offset;
    if (f->kind == FIELD_PRESENT) {
        *(bool *) out = true;
        return;
    }
    const char *text = read_text(m, node->children, f->kind == FIELD_TEXTBLOCK);
    if (!text)
        return;
    size_t len = m->text_len;
    switch (f->kind) {
    case FIELD_TOKEN:
        text = make_token(m, text, &len);
        /* fall through */
    case FIELD_TEXT:
    case FIELD_TEXTBLOCK:
        *(const char **) out = td_record_text(m->ctx, m->path, text, len);
        break;
    case FIELD_LIST:
        td_record_list_add(m->ctx, m->path, out, text, len);
        break;
    case FIELD_DATE: {
        td_date_t *date = out;
        td_record_date(m->ctx, m->path, text, date);
        if (date->precision != TD_DATE_NONE)
            map_actuality(m, node, &date->type);
        break;
    }
    case FIELD_AGE:
        td_record_age(m->ctx, m->path, text, out);
        break;
    case FIELD_ENROLLMENT:
        map_enrollment(m, node, text);
        break;
    case FIELD_STATUS:
        td_record_status(m->ctx, m->path, text, out);
        break;
    case FIELD_PHASE:
        td_record_phase(m->ctx, m->path, text, out);
        break;
    case FIELD_STUDY_TYPE:
        td_record_study_type(m->ctx, m->path, text, out);
        break;
    case FIELD_SEX:
        td_record_sex(m->ctx, m->path, text, out);
        break;
    case FIELD_INTERVENTION_TYPE:
        td_record_intervention_type(m->ctx, m->path, text, out);
        break;
    case FIELD_SPONSOR_CLASS:
        td_record_sponsor_class(m->ctx, m->path, text, out);
        break;
    case FIELD_HEALTHY:
        map_healthy(m, text, out);
        break;
    case FIELD_PRESENT:
    case FIELD_GROUP:
    case FIELD_ARRAY:
        assert(!"not a value field");
        break;
    }
}

static const field_t *find_field(const field_t *table, const xmlNode *node)
{
    for (const field_t *f = table; f->name; f++)
        if (name_is(node, f->name))
            return f;
    return NULL;
}

/* Maps the child elements of `parent` with `table` into the struct at
 * `base`. Arrays are sized first, from a count of their elements, because
 * arena memory cannot grow. */
static void map_children(mapper_t *m, const xmlNode *parent, const field_t *table, char *base)
{
    size_t counts[MAX_FIELDS] = {0};
    for (const xmlNode *c = parent->children; c; c = c->next) {
        const field_t *f = c->type == XML_ELEMENT_NODE ? find_field(table, c) : NULL;
        if (f && f->kind == FIELD_ARRAY) {
            assert(f - table < MAX_FIELDS);
            counts[f - table]++;
        }
    }
    for (const field_t *f = table; f->name; f++) {
        if (f->kind != FIELD_ARRAY || !counts[f - table])
            continue;
        void *items = td_trial_calloc(m->trial, counts[f - table], f->item_size);
        if (!items)
            m->status = TD_ERR_NO_MEMORY;
        *(void **) (base + f->offset) = items;
        *(size_t *) (base + f->count_offset) = 0;
    }
    for (const xmlNode *c = parent->children; c && m->status == TD_OK; c = c->next) {
        const field_t *f = c->type == XML_ELEMENT_NODE ? find_field(table, c) : NULL;
        if (!f)
            continue;
        if (f->kind == FIELD_ARRAY) {
            char *items = *(char **) (base + f->offset);
            size_t *count = (size_t *) (base + f->count_offset);
            size_t mark = push_element(m, f->name, *count + 1);
            map_children(m, c, f->children, items + (*count)++ * f->item_size);
            pop(m, mark);
        } else {
            size_t mark = push_element(m, f->name, 0);
            if (f->kind == FIELD_GROUP)
                map_children(m, c, f->children, base + f->offset);
            else
                map_value(m, f, c, base);
            pop(m, mark);
        }
    }
}

/* What the parser reported; the first error is the one that explains. */
typedef struct parse_errors {
    bool seen;
    bool no_memory;
    int line;
    char message[256];
} parse_errors_t;

#if LIBXML_VERSION >= 21200
static void on_parse_error(void *data, const xmlError *error)
#else
static void on_parse_error(void *data, xmlErrorPtr error)
#endif
{
    parse_errors_t *errors = ((xmlParserCtxtPtr) data)->_private;
    /* Namespace errors (an undeclared prefix) leave the document usable. */
    if (error->level < XML_ERR_ERROR || error->domain == XML_FROM_NAMESPACE)
        return;
    if (error->code == XML_ERR_NO_MEMORY)
        errors->no_memory = true;
    if (errors->seen)
        return;
    errors->seen = true;
    errors->line = error->line;
    const char *message = error->message ? error->message : "unknown error";
    int len = utf8_prefix(message, sizeof(errors->message) - 1);
    while (len && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
    memcpy(errors->message, message, (size_t) len);
    errors->message[len] = '\0';
}

static void ignore_generic_error(void *data, const char *format, ...)
{
    (void) data;
    (void) format;
}

/* Parses `xml`; on failure returns NULL with *status set. */
static xmlDoc *parse(td_record_ctx_t *ctx, const char *xml, size_t len, td_status_t *status)
{
    if (len > INT_MAX || ctx->line_offset > INT_MAX / 2) {
        *status = td_record_reject(ctx, "XML document of %zu bytes is too large", len);
        return NULL;
    }
    xmlInitParser();
    xmlParserCtxtPtr parser = xmlCreateMemoryParserCtxt(xml, (int) len);
    if (!parser) {
        *status = TD_ERR_NO_MEMORY;
        return NULL;
    }
    parse_errors_t errors = {0};
    parser->_private = &errors;
    parser->sax->serror = on_parse_error;
    /* Text reaching a mapper is UTF-8 whatever the declaration says. */
    xmlCtxtUseOptions(parser, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
    /* The reader passes over blank lines before the document; libxml2 counts
     * lines from where it starts in the file, so that the line numbers in
     * its messages are the file's too. */
    parser->input->line += (int) ctx->line_offset;
    /* Errors raised without a parser context would reach libxml2's generic
     * handler, which prints to stderr. Its setting is per thread. */
    xmlGenericErrorFunc saved_handler = xmlGenericError;
    void *saved_context = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, ignore_generic_error);
    xmlParseDocument(parser);
    xmlSetGenericErrorFunc(saved_context, saved_handler);
    xmlDoc *doc = parser->myDoc;
    parser->myDoc = NULL;
    if (!parser->wellFormed) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(parser);
    if (doc)
        return doc;
    if (errors.no_memory)
        *status = TD_ERR_NO_MEMORY;
    else if (errors.seen)
        *status =
            td_record_reject(ctx, "malformed XML at line %d: %s", errors.line, errors.message);
    else
        *status = td_record_reject(ctx, "malformed XML");
    return NULL;
}

static td_status_t map_nct_id(mapper_t *m, const xmlNode *root)
{
    const xmlNode *id_info = child_element(root, "id_info");
    const xmlNode *nct_id = id_info ? child_element(id_info, "nct_id") : NULL;
    /* The path names the element in a warning about its text. */
    size_t mark = push_element(m, "id_info", 0);
    push_element(m, "nct_id", 0);
    const char *text = nct_id ? read_text(m, nct_id->children, false) : NULL;
    pop(m, mark);
    if (m->status != TD_OK)
        return m->status;
    return td_record_nct_id(m->ctx, text, text ? m->text_len : 0);
}

td_status_t td_map_ctgov_xml(td_record_ctx_t *ctx, const char *xml, size_t len)
{
    td_status_t status = TD_OK;
    xmlDoc *doc = parse(ctx, xml, len, &status);
    if (!doc)
        return status;
    const xmlNode *root = xmlDocGetRootElement(doc);
    mapper_t m = {.ctx = ctx, .trial = ctx->trial, .status = TD_OK};
    if (!root || !name_is(root, "clinical_study")) {
        const char *name = root ? (const char *) root->name : "";
        status = td_record_reject(ctx, "not a <clinical_study> document (root is <%.*s>)",
                                  utf8_prefix(name, 40), name);
    } else if ((status = map_nct_id(&m, root)) == TD_OK) {
        map_children(&m, root, study_fields, (char *) ctx->trial);
        td_record_derive_std_ages(ctx);
        status = m.status;
    }
    free(m.text);
    xmlFreeDoc(doc);
    return status;
}
