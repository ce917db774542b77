/* main.c - trialdex-search: one-shot queries, `show`, and the shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_format.h"
#include "td_schema.h"
#include "td_search.h"
#include "td_shell.h"

enum {
    EXIT_FOUND = 0,
    EXIT_NONE = 1,   /* the query ran and matched nothing */
    EXIT_USAGE = 2,  /* bad options or a malformed query */
    EXIT_INDEX = 3,  /* the index cannot be opened or read */
    EXIT_SEARCH = 4, /* the search failed */
};

static const char USAGE[] =
    "usage: trialdex-search [OPTIONS] [QUERY...]\n"
    "       trialdex-search show [OPTIONS] NCT...\n"
    "\n"
    "Searches a trialdex index. The query is the remaining arguments joined by\n"
    "spaces; with no query on a terminal, an interactive shell opens (:help).\n"
    "\n"
    "Query language:\n"
    "  free text          every word must match, exact phrases rank higher; when\n"
    "                     nothing matches every word, the best partial matches\n"
    "                     are shown, labelled as such\n"
    "  \"a phrase\"         words in this order (in titles, conditions, keywords,\n"
    "                     interventions, sponsors), or all in one long field\n"
    "  a AND b, a OR b, NOT a, -a, (a OR b) c, a NEAR b, a NEAR/5 b, palbo*\n"
    "  =word              exactly this word: no synonyms, classes or stems\n"
    "  title: cond: drug: biomarker: outcome: sponsor: site: inc: exc: id:\n"
    "                     search one field: drug:\"CDK4/6 inhibitor\", exc:pregnan*,\n"
    "                     cond:(breast OR ovarian), id:NCT04494425\n"
    "  synonyms and drug classes expand: Enhertu = T-DXd = DS-8201a = trastuzumab\n"
    "  deruxtecan; drug:\"CDK4/6 inhibitor\" finds palbociclib trials. Biomarker\n"
    "  signs are never operators: HER2-, HER2 -low, ER- PR- HER2-, HR+/HER2-.\n"
    "  Text that states an age describes a patient (\"a 62-year-old woman with\n"
    "  ...\", \"79 yo F\"): trials whose age and sex limits admit them rank first\n"
    "Filters (they restrict, never rank):\n"
    "  status:recruiting   (rec, not, act, enr, com, ter, sus, wit, unk, open;\n"
    "                       lists: status:rec,not)\n"
    "  phase:2  phase:2-3 (any of 2 to 3)  phase:2/3 (both)  phase:0 (early 1)\n"
    "  type:interventional|observational|expanded_access   sex:female|male|all\n"
    "  country:china  country:\"united states\"   age:45 (admits a 45-year-old;\n"
    "  age:18mo, age:3w)   start:2020..2024  updated:2025-01..  completion:..2026\n"
    "  enrollment:100..500   results:yes|no   healthy:yes|no\n"
    "  near:\"Xi'an\" or near:34.3,108.9 within:100km (or 60mi; a unit is required)\n"
    "  recruiting-near:PLACE  measures to recruiting sites only\n"
    "\n"
    "Options:\n"
    "  -d, --db DB          the index (default $" TD_DB_ENV ", or ./" TD_DB_DEFAULT ")\n"
    "  -n, --limit N        results per page (default 10)\n"
    "      --offset N       results to skip\n"
    "      --page TOKEN     the next page, from a previous run's page token\n"
    "  -s, --sort KEY       relevance (default), start, updated, enrollment,\n"
    "                       distance (nearest first); add :asc or :desc to the\n"
    "                       others; missing values last\n"
    "  -f, --format FMT     text (default), json, csv, ids (one NCT ID per line)\n"
    "      --facets         counts by status, phase, type, sex, country,\n"
    "                       intervention type, sponsor class and start year\n"
    "  -w, --why            why each result matched (fields, terms, expansions)\n"
    "      --no-snippets    no text snippets\n"
    "      --strict         no partial matches when nothing matches every word\n"
    "      --no-expand      no synonyms, drug classes or biomarker tokens: plain\n"
    "                       words and stems (the benchmarks' reference setting)\n"
    "      --no-patient     do not read a patient's age and sex from the text\n"
    "      --boost FIELD=W  a field's weight: title, condition, keyword,\n"
    "                       intervention, biomarker, summary, outcome, inclusion,\n"
    "                       exclusion, sponsor, site, arm (repeatable); boosts\n"
    "                       other than the defaults (the index's) search field\n"
    "                       by field, which is slower\n"
    "      --bm25 K=V,...   BM25 parameters: k1, k2, k3, b, min_normlen\n"
    "      --config FILE    settings as 'key = value' lines (boost.title = 1.2,\n"
    "                       bm25.k1 = 1.2, phrase_boost = 0.5, expand = 0,\n"
    "                       patient = 0);\n"
    "                       default\n"
    "                       ~/.config/trialdex/search.conf when it exists\n"
    "      --color WHEN     auto (default: on a terminal), always, never\n"
    "  -h, --help           this text\n"
    "\n"
    "Examples:\n"
    "  trialdex-search 'HR+/HER2- metastatic breast cancer CDK4/6 inhibitor' status:rec\n"
    "  trialdex-search 'drug:\"trastuzumab deruxtecan\" HER2-low' phase:2-3 --facets\n"
    "  trialdex-search 'biomarker:ESR1 country:china' --sort start --format json\n"
    "  trialdex-search show NCT04494425\n"
    "\n"
    "Exit status: 0 results found, 1 no results, 2 usage or query error,\n"
    "3 the index cannot be opened, 4 the search failed.\n";

typedef struct args {
    const char *db;
    td_search_settings_t settings;
    td_search_request_t request;
    td_render_options_t render;
    const char *page;
    const char *color;
    bool show;
    char *query; /* the remaining arguments joined */
    char **ids;
    size_t id_count;
} args_t;

static int usage_error(const char *fmt, const char *value)
{
    fprintf(stderr, "trialdex-search: ");
    fprintf(stderr, fmt, value);
    fprintf(stderr, "\n(trialdex-search --help for usage)\n");
    return EXIT_USAGE;
}

static bool parse_count(const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (end == text || *end || errno || value > 100000 || text[0] == '-')
        return false;
    *out = (uint32_t) value;
    return true;
}

/* --bm25 k1=1.2,b=0.75 */
static int apply_bm25(args_t *a, const char *value)
{
    char *copy = strdup(value);
    int status = 0;
    char *rest = NULL;
    for (char *item = strtok_r(copy, ",", &rest); item && !status;
         item = strtok_r(NULL, ",", &rest)) {
        char *equals = strchr(item, '=');
        char key[64], *error = NULL;
        if (!equals)
            status = usage_error("--bm25 takes KEY=VALUE pairs, not '%s'", item);
        else {
            *equals = '\0';
            snprintf(key, sizeof(key), "bm25.%s", item);
            if (td_search_settings_set(&a->settings, key, equals + 1, &error) != TD_OK)
                status = usage_error("--bm25: %s", error);
            free(error);
        }
    }
    free(copy);
    return status;
}

static int apply_boost(args_t *a, const char *value)
{
    const char *equals = strchr(value, '=');
    if (!equals)
        return usage_error("--boost takes FIELD=WEIGHT, not '%s'", value);
    char key[128], *error = NULL;
    snprintf(key, sizeof(key), "boost.%.*s", (int) (equals - value), value);
    if (td_search_settings_set(&a->settings, key, equals + 1, &error) != TD_OK) {
        int status = usage_error("--boost: %s", error);
        free(error);
        return status;
    }
    return 0;
}

static int load_config(args_t *a, const char *path, bool required)
{
    char *error = NULL;
    td_status_t status = td_search_settings_load(&a->settings, path, &error);
    int result = 0;
    if (status == TD_ERR_NOT_FOUND && !required)
        result = 0;
    else if (status != TD_OK)
        result = usage_error("%s", error ? error : "cannot read the settings");
    free(error);
    return result;
}

/* The config file is read first, so options given after override it. */
static int find_config(int argc, char **argv, args_t *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0)
            return i + 1 < argc ? load_config(a, argv[i + 1], true)
                                : usage_error("--config needs a value%s", "");
        if (strncmp(argv[i], "--config=", 9) == 0)
            return load_config(a, argv[i] + 9, true);
    }
    const char *home = getenv("HOME");
    if (!home)
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/.config/trialdex/search.conf", home);
    return load_config(a, path, false);
}

/* Whether `arg` is the option: "--name", "--name=value" (eq points at the
 * '='), or the short form when there is one. */
static bool matches_option(bool options_done, const char *arg, const char *eq,
                           const char *long_name, const char *short_name)
{
    if (options_done)
        return false;
    if (eq)
        return strlen(long_name) == (size_t) (eq - arg) &&
               strncmp(arg, long_name, (size_t) (eq - arg)) == 0;
    return strcmp(arg, long_name) == 0 || (short_name && strcmp(arg, short_name) == 0);
}

static int parse_args(int argc, char **argv, args_t *a)
{
    const char *env = getenv(TD_DB_ENV);
    a->db = env && *env ? env : TD_DB_DEFAULT;
    td_search_settings_default(&a->settings);
    a->request = td_search_request_default("");
    a->request.snippets = true;
    a->render.format = TD_OUTPUT_TEXT;
    a->color = "auto";
    int status = find_config(argc, argv, a);
    if (status)
        return status;
    size_t query_len = 0;
    char **words = calloc((size_t) argc + 1, sizeof(char *));
    size_t word_count = 0;
    bool options_done = false;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "show") == 0) {
        a->show = true;
        first = 2;
    }
    for (int i = first; i < argc && !status; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        const char *eq = NULL;
        if (!options_done && strncmp(arg, "--", 2) == 0 && (eq = strchr(arg, '=')))
            value = eq + 1;
#define OPTION(long_name, short_name) matches_option(options_done, arg, eq, long_name, short_name)
#define VALUE() (value ? value : (i + 1 < argc ? argv[++i] : NULL))
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (OPTION("--help", "-h")) {
            fputs(USAGE, stdout);
            free(words);
            return -1;
        } else if (OPTION("--db", "-d")) {
            if (!(a->db = VALUE()))
                status = usage_error("%s needs a value", arg);
        } else if (OPTION("--limit", "-n")) {
            const char *v = VALUE();
            if (!v || !parse_count(v, &a->request.limit))
                status =
                    usage_error("--limit takes a number from 0 to 100000, not '%s'", v ? v : "");
        } else if (OPTION("--offset", NULL)) {
            const char *v = VALUE();
            if (!v || !parse_count(v, &a->request.offset))
                status = usage_error("--offset takes a number, not '%s'", v ? v : "");
        } else if (OPTION("--page", NULL)) {
            if (!(a->page = VALUE()))
                status = usage_error("%s needs a token", arg);
        } else if (OPTION("--sort", "-s")) {
            const char *v = VALUE();
            if (!v || !td_sort_parse(v, &a->request.sort, &a->request.ascending))
                status = usage_error("unknown sort '%s' (relevance, start, updated, enrollment, "
                                     "distance; :asc or :desc)",
                                     v ? v : "");
        } else if (OPTION("--format", "-f")) {
            const char *v = VALUE();
            if (!v || !td_output_format_parse(v, &a->render.format))
                status = usage_error("unknown format '%s' (text, json, csv, ids)", v ? v : "");
        } else if (OPTION("--facets", NULL)) {
            a->request.facets = a->render.facets = true;
        } else if (OPTION("--why", "-w")) {
            a->request.explain = a->render.explain = true;
        } else if (OPTION("--no-snippets", NULL)) {
            a->request.snippets = false;
        } else if (OPTION("--strict", NULL)) {
            a->request.partial_ok = false;
        } else if (OPTION("--no-expand", NULL)) {
            a->settings.expand = false;
        } else if (OPTION("--no-patient", NULL)) {
            a->settings.patient = false;
        } else if (OPTION("--boost", NULL)) {
            const char *v = VALUE();
            status = v ? apply_boost(a, v) : usage_error("%s needs FIELD=WEIGHT", arg);
        } else if (OPTION("--bm25", NULL)) {
            const char *v = VALUE();
            status = v ? apply_bm25(a, v) : usage_error("%s needs K=V pairs", arg);
        } else if (OPTION("--config", NULL)) {
            VALUE(); /* read first, in find_config */
        } else if (OPTION("--color", NULL)) {
            a->color = VALUE();
            if (!a->color || (strcmp(a->color, "auto") && strcmp(a->color, "always") &&
                              strcmp(a->color, "never")))
                status = usage_error("--color takes auto, always or never, not '%s'",
                                     a->color ? a->color : "");
        } else if (!options_done && arg[0] == '-' && arg[1] == '-' && arg[2]) {
            status = usage_error("unknown option '%s'", arg);
        } else {
            words[word_count++] = argv[i];
            query_len += strlen(arg) + 1;
        }
#undef OPTION
#undef VALUE
    }
    if (!status) {
        if (a->show) {
            a->ids = words;
            a->id_count = word_count;
            words = NULL;
            if (!a->id_count)
                status = usage_error("show needs NCT IDs%s", "");
        } else {
            a->query = calloc(query_len + 1, 1);
            for (size_t i = 0; i < word_count; i++) {
                if (i)
                    strcat(a->query, " ");
                strcat(a->query, words[i]);
            }
            a->request.query = a->query;
        }
    }
    free(words);
    if (!status && !a->show) {
        bool tty = isatty(STDOUT_FILENO);
        a->render.color =
            strcmp(a->color, "always") == 0 ||
            (strcmp(a->color, "auto") == 0 && tty && a->render.format == TD_OUTPUT_TEXT);
    }
    return status;
}

static int run_show(td_searcher_t *searcher, const args_t *a)
{
    int result = EXIT_FOUND;
    bool color =
        strcmp(a->color, "always") == 0 || (strcmp(a->color, "auto") == 0 && isatty(STDOUT_FILENO));
    for (size_t i = 0; i < a->id_count; i++) {
        char *json = NULL;
        td_status_t status = td_search_show(searcher, a->ids[i], &json);
        if (status == TD_ERR_NOT_FOUND) {
            fprintf(stderr, "trialdex-search: %s is not in the index\n", a->ids[i]);
            result = EXIT_NONE;
            continue;
        }
        if (status != TD_OK) {
            fprintf(stderr, "trialdex-search: cannot read %s: %s\n", a->ids[i],
                    td_xdb_last_error(td_searcher_db(searcher)));
            return EXIT_INDEX;
        }
        if (td_render_record(stdout, json, a->render.format, color) != TD_OK)
            result = EXIT_SEARCH;
        free(json);
    }
    return result;
}

static int run_query(td_searcher_t *searcher, args_t *a)
{
    if (a->page) {
        char *error = NULL;
        if (td_page_token_apply(a->page, searcher, &a->request, &error) != TD_OK) {
            fprintf(stderr, "trialdex-search: %s\n", error ? error : "bad page token");
            free(error);
            return EXIT_USAGE;
        }
    }
    td_search_result_t *result = NULL;
    td_query_error_t qerr = {0};
    td_status_t status = td_search(searcher, &a->request, &result, &qerr);
    if (status == TD_ERR_BAD_QUERY) {
        td_render_query_error(stderr, a->request.query, &qerr, a->render.color);
        return EXIT_USAGE;
    }
    if (status != TD_OK) {
        fprintf(stderr, "trialdex-search: search failed: %s\n", qerr.message);
        return EXIT_SEARCH;
    }
    char *token = td_page_token_make(&a->request, result);
    a->render.query = a->request.query;
    a->render.next_page_token = token;
    int exit_code = result->total ? EXIT_FOUND : EXIT_NONE;
    if (td_render_result(stdout, result, &a->render) != TD_OK || fflush(stdout) != 0) {
        fprintf(stderr, "trialdex-search: cannot write the results\n");
        exit_code = EXIT_SEARCH;
    }
    free(token);
    td_search_result_free(result);
    return exit_code;
}

int main(int argc, char **argv)
{
    args_t a = {0};
    int status = parse_args(argc, argv, &a);
    if (status) {
        free(a.query);
        free(a.ids);
        return status < 0 ? EXIT_FOUND : status;
    }
    td_searcher_t *searcher = NULL;
    char *error = NULL;
    if (td_searcher_open(a.db, &a.settings, &searcher, &error) != TD_OK) {
        fprintf(stderr, "trialdex-search: %s\n", error ? error : "cannot open the index");
        free(error);
        free(a.query);
        free(a.ids);
        return EXIT_INDEX;
    }
    if (a.show) {
        status = run_show(searcher, &a);
    } else if (!*a.query && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        char history[4096];
        const char *home = getenv("HOME");
        if (home)
            snprintf(history, sizeof(history), "%s/.trialdex_history", home);
        td_shell_options_t options = {
            .request = a.request, .render = a.render, .history_path = home ? history : NULL};
        options.request.facets = options.render.facets = true;
        status = td_shell_run(searcher, &options);
    } else {
        status = run_query(searcher, &a);
    }
    td_searcher_free(searcher);
    free(a.query);
    free(a.ids);
    return status;
}
