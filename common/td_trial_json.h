/* td_trial_json.h - a trial as compact JSON, and its content hash.
 *
 * Two views of a td_trial_t, each written with keys in a fixed order so that
 * equal records give byte-equal JSON:
 *
 *   TD_TRIAL_JSON_FULL     every field of the record model; what `show`
 *                          prints and what the content hash covers
 *   TD_TRIAL_JSON_DISPLAY  what a search result shows; stored as the
 *                          Xapian document data, which every hit reads, so
 *                          it stays small: no site list, a cut summary
 *
 * Keys follow the ClinicalTrials.gov API v2 spelling and enumerations its
 * tokens (the td_*_name functions of td_trial.h). An absent value is left
 * out, not written as null: a NULL string, an empty list, an empty object,
 * an absent date, enrollment -1, an age without limit, an *_UNSET
 * enumeration. The exceptions, which are always written: "hasResults"
 * (true/false), "healthyVolunteers" (true/false/null) in the FULL view, and
 * the "type" of a date or enrollment (ACTUAL/ESTIMATED/null).
 *
 * Neither view holds `source` or `position`: they say where a record was
 * read, not what it says, and the same record read from another file must
 * hash the same.
 *
 * FULL view, in this order:
 *   nctId, briefTitle, officialTitle, acronym, nctIdAliases [..],
 *   orgStudyId, secondaryIds [..], briefSummary, detailedDescription,
 *   conditions [..], keywords [..], conditionMeshTerms [..],
 *   interventionMeshTerms [..],
 *   interventions [{type, name, description, otherNames [..],
 *                   armGroupLabels [..]}],
 *   armGroups [{label, type, description, interventionNames [..]}],
 *   primaryOutcomes, secondaryOutcomes [{measure, description, timeFrame}],
 *   eligibilityCriteria, sex, minimumAge, maximumAge, healthyVolunteers,
 *   stdAges [..], overallStatus, phases [..], studyType,
 *   design {allocation, interventionModel, primaryPurpose, masking,
 *           observationalModel, timePerspective},
 *   enrollment {count, type},
 *   startDate, primaryCompletionDate, completionDate, firstPostedDate,
 *   lastUpdateDate, leadSponsor {name, class}, collaborators [{name, class}],
 *   locations [{facility, city, state, zip, country, status, lat, lon}],
 *   hasResults
 * where an age is {"value":18,"unit":"YEARS","days":6574} (the value is a
 * JSON integer when it is whole), a date is {"date":"2023-05","type":
 * "ACTUAL"} with as many parts as the source gave ("2023", "2023-05",
 * "2023-05-17"), and lat/lon are always JSON reals ("10.0" for a whole
 * degree) written with 15 significant digits, so a coordinate read from
 * text of up to 15 digits is written as that text.
 *
 * DISPLAY view, in this order:
 *   nctId, briefTitle, acronym, briefSummary, overallStatus, phases [..],
 *   studyType, conditions [..], interventionNames [..], startDate,
 *   primaryCompletionDate, lastUpdateDate, enrollment, sex, minimumAge,
 *   maximumAge, leadSponsor, hasResults
 * where dates and enrollment are as in the FULL view, interventionNames
 * holds the names of the interventions, the ages are text as the registry
 * writes them ("18 Years", "1 Year", "6 Months"), leadSponsor is the lead
 * sponsor's name (a string), and briefSummary is cut as described at
 * TD_TRIAL_JSON_SUMMARY_MAX. The sites are left to the FULL view: a trial
 * can list thousands, and every hit reads its DISPLAY JSON.
 *
 * Example (DISPLAY, shortened):
 *   {"nctId":"NCT09000001","briefTitle":"Trastuzumab ...","overallStatus":
 *    "RECRUITING","phases":["PHASE2","PHASE3"],"startDate":{"date":
 *    "2023-05-17","type":"ACTUAL"},"minimumAge":"18 Years",...}
 */
#ifndef TD_TRIAL_JSON_H
#define TD_TRIAL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "td_status.h"
#include "td_trial.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest brief summary in the DISPLAY view, in bytes, including the "…"
 * (U+2026, 3 bytes) that ends a summary that was cut. A longer summary is
 * cut at a UTF-8 character boundary, white space before the cut is
 * dropped, and "…" is appended. */
#define TD_TRIAL_JSON_SUMMARY_MAX 600

typedef enum td_trial_json_view {
    TD_TRIAL_JSON_FULL,   /* every field of td_trial_t: the content hash and `show` */
    TD_TRIAL_JSON_DISPLAY /* what a search result shows: stored as Xapian document data */
} td_trial_json_view_t;

/* Serialises `trial` in `view` as compact UTF-8 JSON (non-ASCII characters
 * are written as themselves, not as \u escapes), with keys in the fixed
 * order described at the top of this file.
 *
 * Returns:
 *   TD_OK              *out is a NUL-terminated string allocated with
 *                      malloc, owned by the caller (free it with free()),
 *                      and *len its length in bytes, without the NUL
 *   TD_ERR_BAD_INPUT   a string of the trial is not valid UTF-8 (readers
 *                      never produce one: they repair invalid input)
 *   TD_ERR_NO_MEMORY   out of memory
 * On failure *out is NULL and *len 0. */
td_status_t td_trial_to_json(const td_trial_t *trial, td_trial_json_view_t view, char **out,
                             size_t *len);

/* Packs `len` bytes of JSON for storage: a 4-byte big-endian length, then
 * the bytes compressed with zlib (its fastest level: a record is written
 * once per change and read only to show it). *out is malloc'd.
 * Returns TD_OK, TD_ERR_RANGE (over 4 GiB) or TD_ERR_NO_MEMORY. */
td_status_t td_trial_json_pack(const char *json, size_t len, char **out, size_t *out_len);

/* Unpacks what td_trial_json_pack made into a malloc'd NUL-terminated
 * string *out (its length in *out_len, which may be NULL).
 * Returns TD_OK, TD_ERR_CORRUPT for bytes it did not make, or
 * TD_ERR_NO_MEMORY. */
td_status_t td_trial_json_unpack(const char *packed, size_t len, char **out, size_t *out_len);

/* The value of the member `key` of the JSON object in `json` (`len`
 * bytes), found without parsing the rest: *value points at its first byte
 * in `json` and *value_len counts its bytes, ready for json_loadb. Only
 * the object's own members count, not those of objects inside it. A key
 * with escapes in it is compared as written.
 * Returns TD_OK; TD_ERR_NOT_FOUND when the object has no such member;
 * TD_ERR_BAD_INPUT when `json` is not an object or ends early. */
td_status_t td_trial_json_member(const char *json, size_t len, const char *key, const char **value,
                                 size_t *value_len);

/* The offset basis of 64-bit FNV-1a: the seed that makes td_hash64 the
 * standard FNV-1a hash. */
#define TD_HASH64_FNV_OFFSET_BASIS UINT64_C(0xcbf29ce484222325)

/* 64-bit FNV-1a of `len` bytes at `data`, starting from `seed` in place of
 * the offset basis. With seed TD_HASH64_FNV_OFFSET_BASIS it is the standard
 * FNV-1a ("" -> 0xcbf29ce484222325, "a" -> 0xaf63dc4c8601ec8c); another
 * seed (say, one derived from the index schema version) gives another,
 * independent family of hashes. Not a cryptographic hash. */
uint64_t td_hash64(const void *data, size_t len, uint64_t seed);

/* The content hash of a trial: td_hash64 of its FULL JSON with `seed`,
 * written to `out` as 16 lower-case hex digits and a NUL. `source` and
 * `position` are not part of it, so the same record read from another file
 * (or another place in one) hashes the same; any other field that changes
 * changes the hash (but for a collision of the 64-bit hash).
 *
 * Returns TD_OK, or as td_trial_to_json (TD_ERR_BAD_INPUT,
 * TD_ERR_NO_MEMORY) with `out` set to "". */
td_status_t td_trial_content_hash(const td_trial_t *trial, uint64_t seed, char out[17]);

#ifdef __cplusplus
}
#endif

#endif
