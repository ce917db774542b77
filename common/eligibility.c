/* eligibility.c - splitting eligibility criteria text at its headings.
 *
 * One pass over the lines. Each line is tested as a heading by reading it
 * a fixed number of times (trimming, finding its colon, splitting off at
 * most 14 words) and comparing those words with short lists, so the whole
 * is linear in the text.
 * The word lists below come from a survey of the shared corpus (1,451 API v2
 * and 6,771 legacy XML criteria texts): "Inclusion Criteria:" and
 * "Exclusion Criteria:" head 98% of the API v2 texts; the legacy records add
 * the NCI PDQ headings and the phrases of older NIH and AIDS trial records.
 *
 * The NCI PDQ headings (DISEASE CHARACTERISTICS, PATIENT CHARACTERISTICS,
 * PRIOR CONCURRENT THERAPY; 2,277 legacy records) count as INCLUSION: the
 * lines under them are requirements written the way round an inclusion
 * criterion is ("Histologically confirmed ...", "At least 4 weeks since
 * prior chemotherapy"); even what rules a patient out is put as a condition
 * to meet ("Not pregnant", "No prior radiotherapy": 11,400 of the lines
 * start with "No" or "Not"). So a patient qualifies by meeting every one of
 * them, as under "Inclusion Criteria", and only 14 of these records have
 * an exclusion heading as well.
 */
#include "td_eligibility.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

/* The most words a title and a phrase heading may have. */
#define TITLE_MAX_WORDS 12
#define PHRASE_MAX_WORDS 14
/* Words allowed before a title's keyword ("Key", "Part A", "Patient"). */
#define QUALIFIER_MAX_WORDS 4

typedef struct word {
    const char *text;
    size_t len;
} word_t;

typedef struct words {
    word_t at[PHRASE_MAX_WORDS];
    size_t count;
    bool colon; /* the words ended at a colon */
    char last;  /* the last byte of the heading's words, 0 if none */
} words_t;

typedef struct heading {
    td_criteria_kind_t kind;
    bool title; /* a title, which always starts a section; else a phrase */
    size_t start, end;
} heading_t;

#define END_OF_LIST NULL

static const char *const criteria_words[] = {"criteria", "criterion", "requirements", "criterias",
                                             "critera",  "citeria",   END_OF_LIST};

/* Words that make the start of a line a sentence rather than a title's
 * qualifier: "Subjects meeting exclusion criteria of the parent study". */
static const char *const sentence_words[] = {
    "the",     "a",       "an",        "meet",       "meets",   "meeting",   "met",        "fulfil",
    "fulfill", "fulfils", "fulfills",  "fulfilling", "satisfy", "satisfies", "satisfying", "all",
    "any",     "see",     "per",       "no",         "not",     "if",        "who",        "to",
    "with",    "without", "and",       "or",         "failure", "fail",      "fails",      "by",
    "on",      "as",      "are",       "is",         "be",      "been",      "was",        "were",
    "has",     "have",    "had",       "in",         "from",    "under",     "according",  "listed",
    "above",   "below",   "following", "than",       "absence", "presence",  END_OF_LIST};

/* Words that make a title's trailing qualifier a sentence when there is no
 * colon: "Other exclusion criteria apply". */
static const char *const predicate_words[] = {
    "apply", "applies", "may",  "will", "must", "should", "can", "are", "is",  "were",
    "was",   "be",      "have", "has",  "met",  "not",    "no",  "see", "the", END_OF_LIST};

static const char *const modal_words[] = {"can",   "may", "might", "could",  "should",   "will",
                                          "would", "is",  "are",   "cannot", END_OF_LIST};

static const char *const joining_words[] = {"join",   "participate", "part",     "enrol",
                                            "enroll", "enter",       "eligible", "qualify",
                                            "apply",  END_OF_LIST};

/* "t" is what is left of "can't" and "won't" once the apostrophe splits it. */
static const char *const negative_words[] = {"not",     "cannot", "t",      "ineligible",
                                             "neither", "nor",    "unable", END_OF_LIST};

/* Who "if" may refer to at the end of "You can join if you:". */
static const char *const subject_words[] = {"they",    "you",      "he",          "she",
                                            "or",      "and",      "your",        "child",
                                            "patient", "patients", "participant", "participants",
                                            "subject", "subjects", "volunteers",  END_OF_LIST};

/* Titles matched whole, with no qualifiers. */
static const char *const pdq_titles[] = {"disease characteristics", "patient characteristics",
                                         "prior concurrent therapy", "prior and concurrent therapy",
                                         END_OF_LIST};
static const char *const general_titles[] = {"protocol entry criteria", "entry criteria",
                                             "selection criteria", "patient selection criteria",
                                             END_OF_LIST};

static const struct {
    const char *word;
    td_criteria_kind_t kind;
} keywords[] = {
    {"inclusion", TD_CRITERIA_INCLUSION},    {"inclusions", TD_CRITERIA_INCLUSION},
    {"inclusionary", TD_CRITERIA_INCLUSION}, {"noninclusion", TD_CRITERIA_EXCLUSION},
    {"exclusion", TD_CRITERIA_EXCLUSION},    {"exclusions", TD_CRITERIA_EXCLUSION},
    {"exclusionary", TD_CRITERIA_EXCLUSION}, {"eligibility", TD_CRITERIA_GENERAL},
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool word_is(word_t w, const char *expected)
{
    size_t i = 0;
    for (; i < w.len; i++)
        if (expected[i] == '\0' || lower(w.text[i]) != expected[i])
            return false;
    return expected[i] == '\0';
}

static bool word_in(word_t w, const char *const *list)
{
    for (; *list; list++)
        if (word_is(w, *list))
            return true;
    return false;
}

static bool any_word_in(const words_t *w, size_t from, const char *const *list)
{
    for (size_t i = from; i < w->count; i++)
        if (word_in(w->at[i], list))
            return true;
    return false;
}

/* Whether the words are exactly `phrase` (lower case, single spaces). */
static bool words_are(const words_t *w, const char *phrase)
{
    for (size_t i = 0; i < w->count; i++) {
        size_t len = strcspn(phrase, " ");
        if (len != w->at[i].len)
            return false;
        for (size_t j = 0; j < len; j++)
            if (lower(w->at[i].text[j]) != phrase[j])
                return false;
        phrase += len;
        if (*phrase == ' ')
            phrase++;
        else if (i + 1 < w->count)
            return false;
    }
    return *phrase == '\0';
}

static bool words_are_one_of(const words_t *w, const char *const *phrases)
{
    for (; *phrases; phrases++)
        if (words_are(w, *phrases))
            return true;
    return false;
}

/* The kind a title keyword names, or -1 if the word is not one. */
static int keyword_kind(word_t w)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (word_is(w, keywords[i].word))
            return (int) keywords[i].kind;
    return -1;
}

static td_criteria_kind_t opposite(td_criteria_kind_t kind)
{
    return kind == TD_CRITERIA_INCLUSION ? TD_CRITERIA_EXCLUSION : TD_CRITERIA_INCLUSION;
}

/* Whether the words are a title (see td_eligibility.h); sets *kind. */
static bool is_title(const words_t *w, td_criteria_kind_t *kind)
{
    if (w->count == 0 || w->count > TITLE_MAX_WORDS || w->last == ';' || w->last == ',')
        return false;
    if (words_are_one_of(w, pdq_titles)) {
        *kind = TD_CRITERIA_INCLUSION;
        return true;
    }
    if (words_are_one_of(w, general_titles)) {
        *kind = TD_CRITERIA_GENERAL;
        return true;
    }
    size_t key = 0;
    while (key < w->count && keyword_kind(w->at[key]) < 0)
        key++;
    if (key == w->count)
        return false;
    td_criteria_kind_t found = (td_criteria_kind_t) keyword_kind(w->at[key]);

    size_t qualifiers = key;
    bool criteria = false;
    if (qualifiers >= 2 && word_is(w->at[qualifiers - 1], "for") &&
        word_in(w->at[qualifiers - 2], criteria_words)) {
        qualifiers -= 2; /* "Criteria for inclusion" */
        criteria = true;
    }
    if (found == TD_CRITERIA_INCLUSION && qualifiers >= 1 &&
        word_is(w->at[qualifiers - 1], "non")) {
        qualifiers--; /* "Non-inclusion criteria" */
        found = TD_CRITERIA_EXCLUSION;
    }
    if (qualifiers > QUALIFIER_MAX_WORDS)
        return false;
    for (size_t i = 0; i < qualifiers; i++)
        if (word_in(w->at[i], sentence_words))
            return false;

    size_t next = key + 1;
    if (found != TD_CRITERIA_GENERAL) {
        int other = (int) opposite(found);
        if (next + 1 < w->count && (word_is(w->at[next], "and") || word_is(w->at[next], "or")) &&
            keyword_kind(w->at[next + 1]) == other) {
            found = TD_CRITERIA_GENERAL; /* "Inclusion and Exclusion Criteria" */
            next += 2;
        } else if (next < w->count && keyword_kind(w->at[next]) == other) {
            found = TD_CRITERIA_GENERAL; /* "Inclusion/Exclusion Criteria" */
            next++;
        }
    }
    if (next < w->count && word_in(w->at[next], criteria_words)) {
        criteria = true;
        next++;
    }
    /* A sentence ends in a full stop, a title rarely: "Inclusion criteria."
     * but not "Absence of exclusion criteria." */
    if (w->last == '.' && (qualifiers > 0 || next < w->count))
        return false;
    if (next < w->count) {
        /* A qualifier after the keyword: "Inclusion Criteria for Cohort A". */
        if (!criteria)
            return false;
        if (!w->colon && ((!word_is(w->at[next], "for") && w->count - next > 3) ||
                          any_word_in(w, next, predicate_words)))
            return false;
    }
    *kind = found;
    return true;
}

/* Whether the words are a phrase heading (see td_eligibility.h); sets
 * *kind. */
static bool is_phrase(const words_t *w, td_criteria_kind_t *kind)
{
    if (w->count == 0 || w->last == '.' || w->last == ';' || w->last == ',')
        return false;
    bool negative = any_word_in(w, 0, negative_words);
    bool joining = any_word_in(w, 0, joining_words);

    /* "Who can join", "Who can't participate" */
    if (word_is(w->at[0], "who") && w->count > 1 && word_in(w->at[1], modal_words) && joining) {
        *kind = negative ? TD_CRITERIA_EXCLUSION : TD_CRITERIA_INCLUSION;
        return true;
    }
    /* "You can join if", "Patients will not be eligible for this study if
     * they:" */
    size_t if_at = w->count;
    while (if_at > 0 && !word_is(w->at[if_at - 1], "if"))
        if_at--;
    if (if_at > 0 && w->count - if_at <= 3 &&
        (joining || any_word_in(w, 0, (const char *const[]){"able", END_OF_LIST}))) {
        bool only_subjects = true;
        for (size_t i = if_at; i < w->count; i++)
            only_subjects = only_subjects && word_in(w->at[i], subject_words);
        if (only_subjects) {
            *kind = negative ? TD_CRITERIA_EXCLUSION : TD_CRITERIA_INCLUSION;
            return true;
        }
    }
    /* "Excluded:", "Patients with the following are excluded:", "Patients
     * must have:". "Must not" is left alone: under inclusion it introduces a
     * negated requirement as often as a list of exclusions. */
    if (!w->colon && !any_word_in(w, 0, (const char *const[]){"following", END_OF_LIST}))
        return false;
    if (negative)
        return false;
    if (any_word_in(w, 0, (const char *const[]){"excluded", END_OF_LIST})) {
        *kind = TD_CRITERIA_EXCLUSION;
        return true;
    }
    if (any_word_in(w, 0, (const char *const[]){"included", "must", END_OF_LIST})) {
        *kind = TD_CRITERIA_INCLUSION;
        return true;
    }
    return false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static bool is_space(char c)
{
    return is_blank(c) || c == '\n' || c == '\r';
}

/* Length of the UTF-8 no-break space at s[i] (or ending at s[i - 1] when
 * `backwards`), else 0. */
static size_t nbsp_at(const char *s, size_t i, size_t limit, bool backwards)
{
    if (backwards)
        return i >= limit + 2 && (unsigned char) s[i - 2] == 0xC2 &&
                       (unsigned char) s[i - 1] == 0xA0
                   ? 2
                   : 0;
    return i + 2 <= limit && (unsigned char) s[i] == 0xC2 && (unsigned char) s[i + 1] == 0xA0 ? 2
                                                                                              : 0;
}

/* Length of a UTF-8 bullet or dash at s[i], else 0. */
static size_t bullet_at(const char *s, size_t i, size_t end)
{
    static const char *const bullets[] = {"\xE2\x80\xA2", /* • */
                                          "\xC2\xB7",     /* · */
                                          "\xE2\x96\xAA", /* ▪ */
                                          "\xE2\x97\x8F", /* ● */
                                          "\xE2\x97\x8B", /* ○ */
                                          "\xE2\x97\xA6", /* ◦ */
                                          "\xE2\x80\x93", /* – */
                                          "\xE2\x80\x94", /* — */
                                          END_OF_LIST};
    for (const char *const *b = bullets; *b; b++) {
        size_t len = strlen(*b);
        if (end - i >= len && memcmp(s + i, *b, len) == 0)
            return len;
    }
    return 0;
}

/* Length of list numbering at s[i]: "1.", "2)", "1.1", "(a)", "a)", "b.",
 * "IV." (the last three followed by a blank), else 0. */
static size_t number_at(const char *s, size_t i, size_t end)
{
    size_t j = i;
    if (s[j] >= '0' && s[j] <= '9') {
        while (j < end && j - i < 6 && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'))
            j++;
        if (j < end && s[j] == ')')
            return j + 1 - i;
        if (s[j - 1] == '.' || j == end || is_blank(s[j]))
            return j - i;
        return 0;
    }
    if (s[j] == '(') {
        j++;
        while (j < end && j - i <= 3 && is_alnum(s[j]))
            j++;
        return j > i + 1 && j < end && s[j] == ')' ? j + 1 - i : 0;
    }
    while (j < end && j - i < 4 && s[j] != '\0' && strchr("ivxIVX", s[j]))
        j++;
    if (j == i && is_alnum(s[j]) && !(s[j] >= '0' && s[j] <= '9'))
        j++; /* a single letter */
    if (j > i && j + 1 < end && (s[j] == '.' || s[j] == ')') && is_blank(s[j + 1]))
        return j + 1 - i;
    return 0;
}

/* The first byte of s[i..end) after bullets, numbering, markdown marks and
 * blanks. */
static size_t skip_decoration(const char *s, size_t i, size_t end)
{
    for (;;) {
        size_t from = i;
        while (i < end) {
            size_t len = is_blank(s[i]) || (s[i] != '\0' && strchr("-*+#>=_~", s[i]))
                             ? 1
                             : nbsp_at(s, i, end, false) + bullet_at(s, i, end);
            if (len == 0)
                break;
            i += len;
        }
        if (i < end)
            i += number_at(s, i, end);
        if (i == from)
            return i;
    }
}

/* The end of s[start..end) without trailing bytes from `marks` or blanks. */
static size_t trim_end(const char *s, size_t start, size_t end, const char *marks)
{
    for (;;) {
        if (end > start &&
            (is_blank(s[end - 1]) || (s[end - 1] != '\0' && strchr(marks, s[end - 1]))))
            end--;
        else if (nbsp_at(s, end, start, true))
            end -= 2;
        else
            return end;
    }
}

/* Length of a colon (":" or the full-width "：") at s[i], else 0. */
static size_t colon_at(const char *s, size_t i, size_t end)
{
    if (s[i] == ':')
        return 1;
    return end - i >= 3 && memcmp(s + i, "\xEF\xBC\x9A", 3) == 0 ? 3 : 0;
}

/* Splits s[start..end) into words (runs of ASCII letters and digits).
 * Returns false if there are more than PHRASE_MAX_WORDS. */
static bool split_words(const char *s, size_t start, size_t end, words_t *w)
{
    w->count = 0;
    size_t i = start;
    for (;;) {
        while (i < end && !is_alnum(s[i]))
            i++;
        if (i == end)
            return true;
        if (w->count == PHRASE_MAX_WORDS)
            return false;
        size_t from = i;
        while (i < end && is_alnum(s[i]))
            i++;
        w->at[w->count++] = (word_t){s + from, i - from};
    }
}

/* Whether the line s[start..end) (no line break in it) is a heading. */
static bool find_heading(const char *s, size_t start, size_t end, heading_t *h)
{
    while (start < end && (is_blank(s[start]) || nbsp_at(s, start, end, false)))
        start += is_blank(s[start]) ? 1 : 2;
    end = trim_end(s, start, end, "");
    if (start == end)
        return false;

    size_t head = skip_decoration(s, start, end);
    size_t closed = trim_end(s, head, end, "*_#");
    size_t head_end = closed, heading_end = end;
    bool colon = false, body_follows = false;
    if (closed > head && s[closed - 1] == ':') {
        colon = true;
        head_end = closed - 1;
    } else if (closed >= head + 3 && colon_at(s, closed - 3, closed) == 3) {
        colon = true;
        head_end = closed - 3;
    } else {
        for (size_t i = head; i < end; i++) {
            size_t len = colon_at(s, i, end);
            if (len) {
                /* Text after the colon: "DISEASE CHARACTERISTICS: Histologically ..." */
                colon = body_follows = true;
                head_end = i;
                heading_end = i + len;
                while (heading_end < end && (s[heading_end] == '*' || s[heading_end] == '_'))
                    heading_end++;
                break;
            }
        }
    }
    head_end = trim_end(s, head, head_end, "*_#-=?");

    words_t w;
    if (!split_words(s, head, head_end, &w))
        return false;
    w.colon = colon;
    w.last = head_end > head ? s[head_end - 1] : '\0';
    h->start = start;
    h->end = heading_end;
    h->title = is_title(&w, &h->kind);
    return h->title || (!body_follows && is_phrase(&w, &h->kind));
}

static bool all_space(const char *s, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

/* Trims the body of `section` and stores it as section number `count`. */
static void emit(const char *text, td_criteria_section_t section, td_criteria_section_t *out,
                 size_t max, size_t *count)
{
    while (section.start < section.end && is_space(text[section.start]))
        section.start++;
    while (section.end > section.start && is_space(text[section.end - 1]))
        section.end--;
    if (*count < max)
        out[*count] = section;
    ++*count;
}

size_t td_eligibility_split(const char *text, size_t len, td_criteria_section_t *out, size_t max)
{
    assert(text || len == 0);
    assert(out || max == 0);
    size_t count = 0;
    bool open = false; /* whether `current` has begun at a heading */
    td_criteria_section_t current = {.kind = TD_CRITERIA_GENERAL};
    for (size_t line = 0; line < len;) {
        size_t eol = line;
        while (eol < len && text[eol] != '\n' && text[eol] != '\r')
            eol++;
        heading_t h;
        if (find_heading(text, line, eol, &h) && (h.title || h.kind != current.kind)) {
            if (open || !all_space(text, 0, h.start)) {
                current.end = h.start;
                emit(text, current, out, max, &count);
            }
            current = (td_criteria_section_t){
                .kind = h.kind, .heading_start = h.start, .heading_end = h.end, .start = h.end};
            open = true;
        }
        line = eol + 1;
    }
    current.end = len;
    if (open || !all_space(text, 0, len))
        emit(text, current, out, max, &count);
    return count;
}
