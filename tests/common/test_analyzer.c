/* The analyzer: golden biomedical cases, words and stems, spans, query mode,
 * the lexicon loader, and the property that query terms are document terms. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "td_analyzer.h"
#include "td_test.h"

static td_analyzer_t *analyzer;
static td_analysis_t *analysis;

static void setup(void)
{
    char *error = NULL;
    cr_assert_eq(td_analyzer_new(NULL, &analyzer, &error), TD_OK, "%s", error ? error : "");
    cr_assert_eq(td_analysis_new(analyzer, &analysis), TD_OK);
    td_test_dir_setup();
}

static void teardown(void)
{
    td_analysis_free(analysis);
    td_analyzer_free(analyzer);
    td_test_dir_teardown();
}

TestSuite(analyzer, .init = setup, .fini = teardown, .timeout = 300);

static void analyze(const char *text, td_analyze_mode_t mode)
{
    cr_assert_eq(td_analyze(analysis, text, strlen(text), mode, 0), TD_OK, "%s", text);
}

/* The term of `kind` and `text`, or NULL. */
static const td_term_t *find(td_term_kind_t kind, const char *text)
{
    for (size_t i = 0; i < td_analysis_count(analysis); i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == kind && strcmp(t->text, text) == 0)
            return t;
    }
    return NULL;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The canonical terms and @concepts of the last analysis, sorted, each once,
 * space-separated: the golden file's notation. */
static char *canonical_set(void)
{
    size_t n = td_analysis_count(analysis), count = 0, size = 1;
    char **items = calloc(n + 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind != TD_TERM_CANONICAL && t->kind != TD_TERM_CONCEPT)
            continue;
        items[count] = malloc(strlen(t->text) + 2);
        sprintf(items[count], "%s%s", t->kind == TD_TERM_CONCEPT ? "@" : "", t->text);
        size += strlen(items[count++]) + 1;
    }
    qsort(items, count, sizeof(*items), compare_strings);
    char *out = calloc(size, 1);
    for (size_t i = 0; i < count; i++)
        if (!i || strcmp(items[i], items[i - 1]) != 0) {
            if (*out)
                strcat(out, " ");
            strcat(out, items[i]);
        }
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
    return out;
}

Test(analyzer, golden_biomedical_cases)
{
    char *golden = td_test_slurp(TD_FIXTURES_DIR "/analyzer/golden.tsv", NULL);
    size_t cases = 0;
    for (char *line = strtok(golden, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        cr_assert_not_null(tab, "golden line without a tab: %s", line);
        *tab = '\0';
        analyze(line, TD_ANALYZE_DOCUMENT);
        char *got = canonical_set();
        cr_expect_str_eq(got, tab + 1, "input: %s", line);
        free(got);
        cases++;
    }
    cr_assert_geq(cases, 60);
    free(golden);
}

Test(analyzer, words_stems_stopwords_and_positions)
{
    analyze("Patients with metastatic tumours were randomised", TD_ANALYZE_DOCUMENT);
    static const struct {
        td_term_kind_t kind;
        const char *text;
        uint32_t position;
    } expected[] = {
        {TD_TERM_WORD, "patients", 0},   {TD_TERM_STEM, "patient", 0},
        {TD_TERM_WORD, "metastatic", 2}, {TD_TERM_STEM, "metastat", 2},
        {TD_TERM_WORD, "tumours", 3},    {TD_TERM_STEM, "tumour", 3},
        {TD_TERM_WORD, "randomised", 5}, {TD_TERM_STEM, "randomis", 5},
    };
    cr_assert_eq(td_analysis_count(analysis), sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < td_analysis_count(analysis); i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        cr_assert_eq(t->kind, expected[i].kind, "term %zu", i);
        cr_assert_str_eq(t->text, expected[i].text);
        cr_assert_eq(t->position, expected[i].position, "%s", t->text);
    }
    cr_assert_eq(td_analysis_end_position(analysis), 6);
}

Test(analyzer, normalisation_folds_case_accents_and_compatibility_forms)
{
    analyze("CAFÉ Ångström ﬁbrosis Naïve", TD_ANALYZE_DOCUMENT);
    cr_assert_not_null(find(TD_TERM_WORD, "cafe"));
    cr_assert_not_null(find(TD_TERM_WORD, "angstrom"));
    cr_assert_not_null(find(TD_TERM_WORD, "fibrosis"), "the ligature is unfolded by NFKC");
    cr_assert_not_null(find(TD_TERM_WORD, "naive"));
    analyze("HER2\u2212negative", TD_ANALYZE_DOCUMENT); /* a minus sign, not a hyphen */
    cr_assert_not_null(find(TD_TERM_CANONICAL, "her2_neg"));
}

Test(analyzer, spans_point_at_the_original_text)
{
    const char *text = "Café: HER2-low, ESR1 Y537S and trastuzumab deruxtecan";
    analyze(text, TD_ANALYZE_DOCUMENT);
    static const struct {
        td_term_kind_t kind;
        const char *term, *source;
    } expected[] = {
        {TD_TERM_WORD, "cafe", "Café"},
        {TD_TERM_CANONICAL, "her2_low", "HER2-low"},
        {TD_TERM_CANONICAL, "esr1_y537s", "Y537S"},
        {TD_TERM_CONCEPT, "trastuzumab_deruxtecan", "trastuzumab deruxtecan"},
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const td_term_t *t = find(expected[i].kind, expected[i].term);
        cr_assert_not_null(t, "%s", expected[i].term);
        cr_assert_eq(t->end - t->start, strlen(expected[i].source), "%s", expected[i].term);
        cr_assert_eq(strncmp(text + t->start, expected[i].source, t->end - t->start), 0, "%s",
                     expected[i].term);
    }
}

Test(analyzer, names_and_codes_are_never_stemmed)
{
    analyze("palbociclib ESR1 ECOG DS-8201a BRCA1 abemaciclib inhibitors", TD_ANALYZE_DOCUMENT);
    for (size_t i = 0; i < td_analysis_count(analysis); i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == TD_TERM_STEM)
            cr_assert_str_eq(t->text, "inhibitor", "only the ordinary word is stemmed");
    }
    cr_assert_not_null(find(TD_TERM_STEM, "inhibitor"));
    cr_assert_null(find(TD_TERM_WORD, "ds"), "a code gives no stray part");
    cr_assert_null(find(TD_TERM_WORD, "8201a"));
}

Test(analyzer, measurements_give_no_junk_terms)
{
    analyze("≥18 years, platelets ≥ 100 × 10^9/L, 1.5 mg/kg, aged 18 to 75 years",
            TD_ANALYZE_DOCUMENT);
    static const char *const junk[] = {"18",  "years", "100", "10", "9", "l",
                                       "1.5", "mg",    "kg",  "75", "×", "≥"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        for (size_t k = 0; k < td_analysis_count(analysis); k++)
            cr_assert_str_neq(td_analysis_term(analysis, k)->text, junk[i]);
    cr_assert_not_null(find(TD_TERM_WORD, "platelets"));
    cr_assert_not_null(find(TD_TERM_WORD, "aged"));
    analyze("type 2 diabetes, stage 4", TD_ANALYZE_DOCUMENT);
    cr_assert_not_null(find(TD_TERM_WORD, "2"), "a plain number is kept");
    cr_assert_not_null(find(TD_TERM_WORD, "4"));
}

Test(analyzer, queries_do_not_widen_to_classes)
{
    analyze("palbociclib", TD_ANALYZE_DOCUMENT);
    cr_assert_not_null(find(TD_TERM_CONCEPT, "palbociclib"));
    cr_assert_not_null(find(TD_TERM_CONCEPT, "cdk4_6_inhibitor"));
    analyze("palbociclib", TD_ANALYZE_QUERY);
    cr_assert_not_null(find(TD_TERM_CONCEPT, "palbociclib"));
    cr_assert_null(find(TD_TERM_CONCEPT, "cdk4_6_inhibitor"));
    /* A class named in a query meets its members in documents. */
    analyze("CDK4/6 inhibitors", TD_ANALYZE_QUERY);
    cr_assert_not_null(find(TD_TERM_CONCEPT, "cdk4_6_inhibitor"));
}

/* Whether the concepts of `query` (query mode) all appear among the
 * concepts of `document` (document mode). */
static bool concepts_reach(const char *query, const char *document)
{
    analyze(query, TD_ANALYZE_QUERY);
    char wanted[16][64];
    size_t count = 0;
    for (size_t i = 0; i < td_analysis_count(analysis) && count < 16; i++)
        if (td_analysis_term(analysis, i)->kind == TD_TERM_CONCEPT)
            snprintf(wanted[count++], sizeof(wanted[0]), "%s", td_analysis_term(analysis, i)->text);
    if (!count)
        return false;
    analyze(document, TD_ANALYZE_DOCUMENT);
    for (size_t i = 0; i < count; i++)
        if (!find(TD_TERM_CONCEPT, wanted[i]))
            return false;
    return true;
}

Test(analyzer, multi_word_synonyms_work_both_ways)
{
    cr_assert(concepts_reach("Enhertu", "patients received trastuzumab deruxtecan"));
    cr_assert(concepts_reach("trastuzumab deruxtecan", "Enhertu 5.4 mg/kg every 3 weeks"));
    cr_assert(concepts_reach("T-DXd", "fam-trastuzumab deruxtecan-nxki"));
    cr_assert(concepts_reach("Ibrance", "PD-0332991 125 mg daily"));
    cr_assert(concepts_reach("Trodelvy", "sacituzumab govitecan (IMMU-132)"));
    cr_assert(concepts_reach("Cipterbin", "inetetamab plus vinorelbine"));
    cr_assert(concepts_reach("MBC", "stage IV breast cancer"));
    cr_assert(concepts_reach("HER2", "ERBB2 amplification"));
    cr_assert(concepts_reach("PI3KCA", "PIK3CA"));
    cr_assert(concepts_reach("CDK4/6 inhibitor", "ribociclib with letrozole"));
    cr_assert(concepts_reach("aromatase inhibitor", "letrozole or anastrozole"));
    cr_assert_not(concepts_reach("palbociclib", "ribociclib with letrozole"));
}

Test(analyzer, short_capital_forms_need_capitals_or_a_status)
{
    analyze("AI-assisted triage of patients who met criteria in the ER", TD_ANALYZE_DOCUMENT);
    cr_assert_null(find(TD_TERM_CONCEPT, "aromatase_inhibitor"));
    cr_assert_null(find(TD_TERM_CONCEPT, "er"), "ER alone is the emergency room");
    cr_assert_null(find(TD_TERM_CONCEPT, "met"));
    analyze("prior AI therapy; er+/her2- disease", TD_ANALYZE_DOCUMENT);
    cr_assert_not_null(find(TD_TERM_CONCEPT, "aromatase_inhibitor"));
    cr_assert_not_null(find(TD_TERM_CANONICAL, "er_pos"), "typed in lower case with a status");
}

Test(analyzer, invalid_utf8_is_counted_not_fatal)
{
    const char text[] = "HER2\xff-low \xc3 tumour";
    cr_assert_eq(td_analyze(analysis, text, sizeof(text) - 1, TD_ANALYZE_DOCUMENT, 0), TD_OK);
    cr_assert_eq(td_analysis_invalid_utf8(analysis), 2);
    cr_assert_not_null(find(TD_TERM_CONCEPT, "her2"));
    cr_assert_not_null(find(TD_TERM_WORD, "tumour"));
}

Test(analyzer, positions_continue_from_first_position)
{
    cr_assert_eq(td_analyze(analysis, "breast cancer", 13, TD_ANALYZE_DOCUMENT, 100), TD_OK);
    cr_assert_eq(find(TD_TERM_WORD, "breast")->position, 100);
    cr_assert_eq(find(TD_TERM_WORD, "cancer")->position, 101);
    cr_assert_eq(td_analysis_end_position(analysis), 102);
    cr_assert_eq(td_analyze(analysis, "", 0, TD_ANALYZE_DOCUMENT, 7), TD_OK);
    cr_assert_eq(td_analysis_count(analysis), 0);
    cr_assert_eq(td_analysis_end_position(analysis), 7);
}

Test(analyzer, lexicon_has_the_required_coverage)
{
    cr_assert_geq(td_analyzer_concept_count(analyzer), 300);
    size_t drugs = 0;
    static const char *const required[] = {"palbociclib",
                                           "ribociclib",
                                           "abemaciclib",
                                           "dalpiciclib",
                                           "fulvestrant",
                                           "letrozole",
                                           "anastrozole",
                                           "exemestane",
                                           "elacestrant",
                                           "alpelisib",
                                           "capivasertib",
                                           "trastuzumab_deruxtecan",
                                           "sacituzumab_govitecan",
                                           "inetetamab",
                                           "cdk4_6_inhibitor",
                                           "aromatase_inhibitor",
                                           "serd",
                                           "adc",
                                           "anti_her2",
                                           "her2",
                                           "esr1",
                                           "pik3ca",
                                           "akt1",
                                           "pten",
                                           "fgfr1",
                                           "brca1",
                                           "brca2",
                                           "metastatic_breast_cancer",
                                           "pfs",
                                           "orr",
                                           "os",
                                           "cbr"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        cr_assert_not_null(td_analyzer_concept_kind(analyzer, required[i]), "%s", required[i]);
    analyze("palbociclib ribociclib abemaciclib dalpiciclib fulvestrant letrozole anastrozole "
            "exemestane tamoxifen elacestrant camizestrant alpelisib inavolisib capivasertib "
            "everolimus trastuzumab pertuzumab tucatinib neratinib lapatinib pyrotinib olaparib "
            "talazoparib pembrolizumab atezolizumab nivolumab capecitabine eribulin paclitaxel "
            "docetaxel vinorelbine gemcitabine carboplatin cisplatin doxorubicin epirubicin "
            "cyclophosphamide osimertinib lorlatinib alectinib bevacizumab cetuximab enzalutamide "
            "abiraterone ipilimumab temozolomide denosumab goserelin leuprolide giredestrant "
            "imlunestrant margetuximab durvalumab erdafitinib relatlimab lomustine ixabepilone "
            "fluorouracil pemetrexed etoposide irinotecan oxaliplatin dabrafenib trametinib "
            "sotorasib",
            TD_ANALYZE_QUERY);
    for (size_t i = 0; i < td_analysis_count(analysis); i++) {
        const td_term_t *t = td_analysis_term(analysis, i);
        if (t->kind == TD_TERM_CONCEPT)
            drugs += strcmp(td_analyzer_concept_kind(analyzer, t->text), "drug") == 0;
    }
    cr_assert_geq(drugs, 60, "at least 60 oncology drugs, got %zu", drugs);
}

static char *write_lexicon(const char *name, const char *text)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/lexicon-%s", td_test_dir, name);
    char file[700];
    snprintf(file, sizeof(file), "lexicon-%s/%s.tsv", name, name);
    free(td_test_write(td_test_dir, file, text, strlen(text)));
    return strdup(dir);
}

static void expect_lexicon_error(const char *name, const char *text, const char *message)
{
    char *dir = write_lexicon(name, text);
    td_analyzer_t *bad = NULL;
    char *error = NULL;
    cr_assert_eq(td_analyzer_new(dir, &bad, &error), TD_ERR_BAD_INPUT, "%s", name);
    cr_assert_null(bad);
    cr_assert_not_null(error);
    cr_assert_not_null(strstr(error, message), "%s: got '%s'", name, error);
    free(error);
    free(dir);
}

Test(analyzer, lexicon_errors_name_file_and_line)
{
    expect_lexicon_error("fields", "# comment\nx\tdrug\tX\n", "fields.tsv:2: expected 4");
    expect_lexicon_error("kind", "x\tpotion\tX\t-\n", "kind.tsv:1: unknown kind 'potion'");
    expect_lexicon_error("id", "X-1\tdrug\tX\t-\n", "bad concept id 'X-1'");
    expect_lexicon_error("twice", "x\tdrug\tX\t-\nx\tdrug\tY\t-\n", "twice.tsv:2: concept 'x'");
    expect_lexicon_error("parent", "x\tdrug\tX\tnowhere\n", "unknown parent concept 'nowhere'");
    expect_lexicon_error("clash", "x\tdrug\tAlpha\t-\ny\tdrug\talpha\t-\n",
                         "clash.tsv:2: form 'alpha' already belongs to concept 'x'");
    expect_lexicon_error("cycle", "x\tdrug_class\tXx\ty\ny\tdrug_class\tYy\tx\n",
                         "is its own ancestor");
}

Test(analyzer, lexicon_from_a_directory)
{
    char *dir = write_lexicon("small", "# a tiny lexicon\n"
                                       "widget_class\tdrug_class\twidget inhibitor\t-\n"
                                       "widgetinib\tdrug\twidgetinib | WX-101 | Widgetra\t"
                                       "widget_class\n");
    td_analyzer_t *small = NULL;
    char *error = NULL;
    cr_assert_eq(td_analyzer_new(dir, &small, &error), TD_OK, "%s", error ? error : "");
    cr_assert_eq(td_analyzer_concept_count(small), 2);
    cr_assert_eq(td_analyzer_form_count(small), 4);
    td_analysis_t *a;
    cr_assert_eq(td_analysis_new(small, &a), TD_OK);
    cr_assert_eq(td_analyze(a, "Widgetra (WX-101)", 17, TD_ANALYZE_DOCUMENT, 0), TD_OK);
    size_t concepts = 0;
    for (size_t i = 0; i < td_analysis_count(a); i++)
        concepts += td_analysis_term(a, i)->kind == TD_TERM_CONCEPT;
    cr_assert_eq(concepts, 4, "widgetinib and its class, twice");
    td_analysis_free(a);
    td_analyzer_free(small);
    free(dir);

    cr_assert_eq(td_analyzer_new("/nonexistent/lexicon", &small, &error), TD_ERR_NOT_FOUND);
    cr_assert_not_null(strstr(error, "/nonexistent/lexicon"));
    free(error);
}

/* The property: analyzing text as a query gives terms that its analysis as
 * a document holds, at the same positions. */
static void check_query_terms_are_document_terms(const char *text)
{
    size_t len = strlen(text);
    cr_assert_eq(td_analyze(analysis, text, len, TD_ANALYZE_QUERY, 0), TD_OK);
    size_t n = td_analysis_count(analysis);
    td_term_t *query = malloc((n + 1) * sizeof(*query));
    char **texts = malloc((n + 1) * sizeof(*texts));
    for (size_t i = 0; i < n; i++) {
        query[i] = *td_analysis_term(analysis, i);
        texts[i] = strdup(query[i].text);
    }
    cr_assert_eq(td_analyze(analysis, text, len, TD_ANALYZE_DOCUMENT, 0), TD_OK);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < td_analysis_count(analysis) && !found; k++) {
            const td_term_t *d = td_analysis_term(analysis, k);
            found = d->kind == query[i].kind && d->position == query[i].position &&
                    strcmp(d->text, texts[i]) == 0;
        }
        cr_assert(found, "query term %s:%s@%u is not a document term of: %.200s",
                  td_term_kind_name(query[i].kind), texts[i], query[i].position, text);
        free(texts[i]);
    }
    free(texts);
    free(query);
}

Test(analyzer, query_terms_are_document_terms_for_the_golden_set)
{
    char *golden = td_test_slurp(TD_FIXTURES_DIR "/analyzer/golden.tsv", NULL);
    for (char *line = strtok(golden, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        *strchr(line, '\t') = '\0';
        check_query_terms_are_document_terms(line);
    }
    free(golden);
}

static void check_text(td_text_field_t field, const char *text, void *user)
{
    (void) field;
    (void) user;
    check_query_terms_are_document_terms(text);
}

Test(analyzer, query_terms_are_document_terms_for_real_records)
{
    const char *corpus = TD_SHARED_DIR "/corpus/ctgov_api_v2_studies.jsonl.gz";
    if (access(corpus, R_OK) != 0)
        cr_skip_test("shared corpus not found at %s; skipping the real-text property", corpus);
    td_test_run_t run;
    td_test_read_one(corpus, TD_FORMAT_AUTO, &run);
    cr_assert_gt(run.trial_count, 1000);
    /* Every fifth record: all of its text, about 1.7 MB. */
    for (size_t i = 0; i < run.trial_count; i += 5)
        td_trial_each_text(run.trials[i], check_text, NULL);
    td_test_run_free(&run);
}
