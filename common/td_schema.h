/* td_schema.h - the index schema: the single source of truth for what a
 * trialdex index holds. The indexer writes it, the searcher reads it.
 *
 * Terms (every term is lower case after its prefix; see td_analyzer.h for
 * the kinds):
 *
 *   Q<NCT ID>               unique ID, "QNCT01234567"; one per trial, so a
 *                           record is replaced, not duplicated
 *   <F><term>, Z<F><stem>   every text field's terms once, prefixed with the
 *                           field's prefix F (below), without positions:
 *                           words, stems, "@concept", "#canonical"; each
 *                           occurrence adds TD_WDF_SCALE to the wdf. A word
 *                           that is its own stem ("cancer") is indexed only
 *                           as Z<F><stem>: an exact query for such a word
 *                           looks up the Z term (same posting list).
 *                           Long fields (XD, XO, XN, XX, XL, XA, and the
 *                           intervention descriptions in XI) hold a stemmed
 *                           word only as its stem: an exact word query
 *                           there matches the stem. Words without a stem
 *                           (gene symbols, drug names, codes) are kept as
 *                           they are everywhere. This halves the terms of a
 *                           trial, and Xapian's indexing cost follows them.
 *                           A search of one field (`title:`), or of every
 *                           field with other weights than the index's, is
 *                           an OR of these, scaled per field
 *   <word>, Z<stem>, @<concept>, #<canonical>
 *                           unprefixed: the all-fields terms. Each
 *                           occurrence in a field adds the field's weight
 *                           (TD_WEIGHT_*, below) to the wdf, so one posting
 *                           list per word ranks a search of every field
 *                           with the field weights (BM25F) instead of one
 *                           list per field. Exclusion criteria (weight 0)
 *                           add nothing. Long fields add a stemmed word only
 *                           as Z<stem>, as above. In the fields where
 *                           phrases are searched (titles, conditions,
 *                           keywords, intervention names, sponsors) the
 *                           words, concepts and canonical tokens keep
 *                           positions: phrase search across those fields.
 *                           Long fields (descriptions, criteria, outcomes,
 *                           sites) keep no positions: positional data is
 *                           most of the cost of an index
 *   XB@<concept>, XB#<canonical>  biomarkers found anywhere in the record:
 *                           canonical tokens, and concepts of genes and
 *                           assays
 *   XY<id>                  boolean terms for the trial's other IDs, lower
 *                           case: NCT ID aliases, the org study ID and
 *                           secondary IDs ("XYnct00000001", "XYd5160c00001")
 *   XF<facet>=<value>       boolean filter terms (wdf 0), values lower case:
 *                           status=recruiting, phase=phase2, type=
 *                           interventional, sex=female, age=adult,
 *                           country=china, state=..., city=..., itype=drug,
 *                           sponsor=industry, healthy=yes|no, results=yes|no
 *
 * Field prefixes (F):
 *   S   titles: brief, official, acronym
 *   XC  conditions and condition MeSH terms
 *   XK  keywords
 *   XI  interventions: names, other names, descriptions, MeSH terms
 *   XD  brief summary and detailed description
 *   XO  outcomes: measures and descriptions
 *   XN  inclusion criteria (and criteria under general headings)
 *   XX  exclusion criteria
 *   XP  lead sponsor and collaborators
 *   XL  locations: facility, city, state, country
 *   XA  arm groups
 *
 * Value slots (dates are "YYYYMMDD" strings with 00 for missing month or
 * day, so byte order is date order; numbers use sortable serialisation):
 * see enum td_slot. Facet values are the XF values; a facet with several
 * values per trial holds them sorted and joined with '|'.
 *
 * Document data: the DISPLAY JSON of the trial (what a result shows, see
 * td_trial_json.h). The whole record (FULL JSON, for `trialdex-search show`,
 * explanations and snippets) is packed in its own slot (td_trial_json_pack),
 * so fetching a hit reads only what it shows.
 */
#ifndef TD_SCHEMA_H
#define TD_SCHEMA_H

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever what the indexer writes changes meaning; an index of
 * another version is refused and must be rebuilt. */
#define TD_SCHEMA_VERSION 4

/* Term weights (wdf per occurrence). A field's own terms count
 * TD_WDF_SCALE an occurrence, so BM25 runs with k1 * TD_WDF_SCALE and a
 * field term ranks as it would with wdf 1. The all-fields terms count the
 * field's weight: TD_WDF_SCALE times the searcher's default boost of the
 * field, which follows ClinicalTrials.gov's search areas (title .85-.95,
 * condition .81-.95, intervention name .8, summary .6, outcomes .6,
 * sponsor .4, location .35). Biomarker terms (XB) are derived from the
 * other fields, so they are not in the all-fields terms; their weight is
 * the boost of a `biomarker:` search. Exclusion criteria never score. */
#define TD_WDF_SCALE 20
#define TD_WEIGHT_TITLE 20
#define TD_WEIGHT_CONDITION 19
#define TD_WEIGHT_KEYWORD 10
#define TD_WEIGHT_INTERVENTION 16
#define TD_WEIGHT_BIOMARKER 16
#define TD_WEIGHT_SUMMARY 10
#define TD_WEIGHT_OUTCOME 8
#define TD_WEIGHT_INCLUSION 10
#define TD_WEIGHT_EXCLUSION 0
#define TD_WEIGHT_SPONSOR 8
#define TD_WEIGHT_SITE 7
#define TD_WEIGHT_ARM 8

enum td_slot {
    TD_SLOT_START_DATE = 0,
    TD_SLOT_PRIMARY_COMPLETION_DATE = 1,
    TD_SLOT_COMPLETION_DATE = 2,
    TD_SLOT_FIRST_POSTED_DATE = 3,
    TD_SLOT_LAST_UPDATE_DATE = 4,
    TD_SLOT_ENROLLMENT = 5,       /* sortable number */
    TD_SLOT_MINIMUM_AGE = 6,      /* days, sortable number; absent = no limit */
    TD_SLOT_MAXIMUM_AGE = 7,      /* days, sortable number; absent = no limit */
    TD_SLOT_SITES = 8,            /* serialised coordinates of every site */
    TD_SLOT_RECRUITING_SITES = 9, /* serialised coordinates of recruiting sites */
    TD_SLOT_CONTENT_HASH = 10,    /* 16 hex digits over the record and the schema */
    TD_SLOT_STATUS = 11,          /* facet values: the XF value, e.g. "recruiting" */
    TD_SLOT_PHASES = 12,          /* "phase2|phase3" */
    TD_SLOT_STUDY_TYPE = 13,
    TD_SLOT_SEX = 14,
    TD_SLOT_SPONSOR_CLASS = 15,
    TD_SLOT_START_YEAR = 16,         /* "2021" */
    TD_SLOT_COUNTRIES = 17,          /* "china|united states" */
    TD_SLOT_INTERVENTION_TYPES = 18, /* "drug|radiation" */
    TD_SLOT_RECORD = 19,             /* the FULL JSON, packed: td_trial_json_pack */
    TD_SLOT_COUNT
};

/* Field prefixes. */
#define TD_PREFIX_ID "Q"
#define TD_PREFIX_STEM "Z"
#define TD_PREFIX_TITLE "S"
#define TD_PREFIX_CONDITION "XC"
#define TD_PREFIX_KEYWORD "XK"
#define TD_PREFIX_INTERVENTION "XI"
#define TD_PREFIX_DESCRIPTION "XD"
#define TD_PREFIX_OUTCOME "XO"
#define TD_PREFIX_INCLUSION "XN"
#define TD_PREFIX_EXCLUSION "XX"
#define TD_PREFIX_SPONSOR "XP"
#define TD_PREFIX_LOCATION "XL"
#define TD_PREFIX_ARM "XA"
#define TD_PREFIX_BIOMARKER "XB"
#define TD_PREFIX_OTHER_ID "XY"
#define TD_PREFIX_FILTER "XF"

/* Markers that start concept and canonical terms after any prefix. */
#define TD_MARK_CONCEPT "@"
#define TD_MARK_CANONICAL "#"

/* Where the programs find the index when -d is not given: the environment
 * variable, or else the path (relative to the working directory). */
#define TD_DB_ENV "TRIALDEX_DB"
#define TD_DB_DEFAULT "trialdex.db"

/* Metadata keys. */
#define TD_META_SCHEMA "trialdex.schema"       /* TD_SCHEMA_VERSION as text */
#define TD_META_LAST_SYNC "trialdex.last_sync" /* high-water mark of the nightly sync */
#define TD_META_BUILT "trialdex.built"         /* time of the last full build, ISO 8601 */

#ifdef __cplusplus
}
#endif

#endif
