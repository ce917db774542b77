/* td_eligibility.h - a trial's eligibility criteria split into inclusion and
 * exclusion parts by their headings.
 *
 * The splitter only returns byte spans into the text it is given: it
 * allocates nothing, keeps no state and runs in time linear in the text, so
 * the indexer can call it on every record and a patient matcher can tell
 * inclusion from exclusion criteria.
 *
 * Headings. A heading is a line of its own (lines end at "\n", "\r\n" or
 * "\r"), matched case-insensitively with its leading bullets, numbering
 * and markdown marks ("-", "*", "#", "**", "1.", "a)", "II.", "•") and its
 * closing colon and marks set aside. There are two sorts:
 *
 *   Titles start a section wherever they appear. They are at most 12 words
 *   and may have up to four qualifying words before the keyword ("Key",
 *   "Main", "Patient", "Part A") and, after "criteria", a qualifier such as
 *   "for Cohort A", "- donor" or "include". Without a colon, that qualifier
 *   must have no verb and either start with "for" or be at most three words
 *   ("Inclusion Criteria Phase 1").
 *     INCLUSION  "Inclusion Criteria", "Inclusion:", "Key inclusion criteria",
 *                "Criteria for inclusion"; and the NCI PDQ headings
 *                "Disease Characteristics", "Patient Characteristics",
 *                "Prior Concurrent Therapy", "Prior/Concurrent Therapy" (why:
 *                see eligibility.c).
 *     EXCLUSION  "Exclusion Criteria", "Exclusion:", "Exclusions",
 *                "Non-inclusion criteria".
 *     GENERAL    "Eligibility Criteria", "Major eligibility criteria",
 *                "Inclusion/Exclusion Criteria", "Protocol Entry Criteria",
 *                "Selection Criteria".
 *   A title may be followed on the same line by text after its colon
 *   ("DISEASE CHARACTERISTICS: Histologically confirmed ..."), as in the
 *   legacy NCI records; that text is the start of the section's body.
 *   Not titles: lines whose qualifying words make them a sentence
 *   ("Subjects meeting exclusion criteria of the parent study", "Patient
 *   meets the inclusion criteria", "Other exclusion criteria apply"), lines
 *   ending in ";" or ",", and lines ending in "." unless they are the bare
 *   keyword ("Inclusion criteria." is a title, "Absence of exclusion
 *   criteria." is not).
 *
 *   Phrases are at most 14 words, end the line and do not end in ".", ";"
 *   or ",":
 *     INCLUSION  "Who can join", "Who may participate", "You can join if",
 *                "Patients may be eligible for this study if they:",
 *                "Patients must have:", "Patients must meet all of the
 *                following", "Patients with the following are included:".
 *     EXCLUSION  "Who cannot join", "Who can't participate", "Who should not
 *                participate", "You cannot join if", "You will not be
 *                eligible for this study if you:", "Excluded:", "Excluded
 *                within 30 days of study entry:", "Patients meeting any of
 *                the following will be excluded".
 *   "Must", "excluded" and "included" phrases need the colon or the word
 *   "following", and are not headings when negated ("Patients must not have
 *   any of the following:" introduces negated requirements under inclusion
 *   as often as it lists exclusions). A phrase starts a section only where it changes the kind:
 *   under a heading of its own kind (the "Patients must have:" that follows
 *   "Inclusion Criteria" in older records) it is part of the body.
 *
 * Headings run into the middle of a line ("... relationship Exclusion
 * Criteria: - ...") are not found: such text stays in the section before.
 */
#ifndef TD_ELIGIBILITY_H
#define TD_ELIGIBILITY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum td_criteria_kind {
    /* Text before the first heading, or under a heading that says neither
     * inclusion nor exclusion ("Eligibility Criteria:"). */
    TD_CRITERIA_GENERAL,
    /* Conditions a participant must meet. */
    TD_CRITERIA_INCLUSION,
    /* Conditions that rule a participant out. */
    TD_CRITERIA_EXCLUSION
} td_criteria_kind_t;

typedef struct td_criteria_section {
    td_criteria_kind_t kind;
    /* Byte span of the heading in the text: the heading line without its
     * surrounding white space, or up to and including the colon (and any
     * closing "**") when body text follows on the same line. 0,0 for the
     * text before the first heading. */
    size_t heading_start, heading_end;
    /* Byte span of the section's body: from the end of its heading to the
     * next heading (or the end of the text), without surrounding white
     * space. start == end for an empty section. */
    size_t start, end;
} td_criteria_section_t;

/* Splits text[0..len) into sections at its headings (see the top of this
 * file) and writes the first `max` of them to out[0..max), in text order.
 * Sections never overlap: each one's heading_start <= heading_end <= start
 * <= end <= the next one's heading_start (the text before the first heading
 * has heading_start == heading_end == 0), and all lie within len.
 *
 * The text before the first heading is a GENERAL section if it holds more
 * than white space, so text without headings is one GENERAL section and
 * empty or blank text has none. `text` need not be NUL-terminated and may be
 * NULL when len is 0; `out` may be NULL when max is 0. Both stay the
 * caller's; the spans index into `text` and are valid as long as it is.
 *
 * Returns the number of sections in the text, which may exceed max: call
 * again with an array of that size to get them all. Never fails. */
size_t td_eligibility_split(const char *text, size_t len, td_criteria_section_t *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
