/* shell.c - the interactive shell of trialdex-search (td_shell.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>
#include <jansson.h>

#include "td_shell.h"

#define PROMPT "trialdex> "
#define HISTORY_MAX 1000
#define LIMIT_MAX 100000 /* as `--limit` */

typedef struct shell {
    td_searcher_t *searcher;
    td_search_request_t request; /* the settings; query and offset are set per search */
    td_render_options_t render;
    char *query;                /* the last query that ran; NULL before the first */
    uint32_t offset;            /* of the page shown last */
    td_search_result_t *result; /* the page shown last */
    /* ranked[r - 1]: the NCT ID last shown at rank r for this query (NULL if
     * none), so :show N finds any result seen, not only those of the page
     * shown last. */
    char **ranked;
    size_t ranked_count;
} shell_t;

static const char HELP[] =
    "Type a query to search, or a command:\n"
    "  :next, :n             the next page of the last query\n"
    "  :prev, :p             the previous page\n"
    "  :show N, :show NCT... the whole record of result N (its rank) or of a trial\n"
    "  :facets               facet counts on or off\n"
    "  :why                  why each result matched, on or off\n"
    "  :format FORMAT        text, json, csv or ids\n"
    "  :sort KEY             relevance, start, updated, enrollment or distance,\n"
    "                        with :asc or :desc (e.g. :sort start:asc)\n"
    "  :limit N              results per page\n"
    "  :help                 this text\n"
    "  :quit, :q             leave (also Ctrl-D)\n"
    "Without an argument, :format, :sort and :limit print their setting.\n"
    "\n"
    "Query examples:\n"
    "  HR+/HER2- metastatic breast cancer CDK4/6 inhibitor status:rec\n"
    "  drug:\"trastuzumab deruxtecan\" HER2-low phase:2-3\n"
    "  biomarker:ESR1 country:china start:2020..\n"
    "  cond:(breast OR ovarian) -pediatric exc:pregnan*\n"
    "  near:Boston within:50km status:recruiting\n"
    "trialdex-search --help describes the whole query language.\n";

/* Prints "error: ..." and a line break to standard output, where the
 * shell's user reads everything else. */
__attribute__((format(printf, 1, 2))) static void error_line(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("error: ", stdout);
    vprintf(fmt, args);
    fputc('\n', stdout);
    va_end(args);
}

/* ---- Ranks shown -------------------------------------------------------- */

static void ranks_clear(shell_t *sh)
{
    for (size_t i = 0; i < sh->ranked_count; i++)
        free(sh->ranked[i]);
    free(sh->ranked);
    sh->ranked = NULL;
    sh->ranked_count = 0;
}

/* The "nctId" of a hit's DISPLAY JSON, malloc'd; NULL if it has none. */
static char *hit_nct_id(const td_hit_t *hit)
{
    if (!hit->display)
        return NULL;
    json_t *root = json_loads(hit->display, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "nctId"));
    char *copy = id ? strdup(id) : NULL;
    json_decref(root);
    return copy;
}

static void ranks_record(shell_t *sh, const td_search_result_t *result)
{
    for (size_t i = 0; i < result->hit_count; i++) {
        const td_hit_t *hit = &result->hits[i];
        if (hit->rank == 0)
            continue;
        if (hit->rank > sh->ranked_count) {
            char **grown = realloc(sh->ranked, hit->rank * sizeof(*grown));
            if (!grown)
                return; /* :show N then says the rank was not shown */
            memset(grown + sh->ranked_count, 0, (hit->rank - sh->ranked_count) * sizeof(*grown));
            sh->ranked = grown;
            sh->ranked_count = hit->rank;
        }
        free(sh->ranked[hit->rank - 1]);
        sh->ranked[hit->rank - 1] = hit_nct_id(hit);
    }
}

/* ---- Searching ---------------------------------------------------------- */

/* Picks up a new index (the nightly job swaps one in) and says so. A failure
 * leaves the open index in use. */
static void refresh(shell_t *sh)
{
    bool changed = false;
    char *error = NULL;
    if (td_searcher_refresh(sh->searcher, &changed, &error) != TD_OK)
        fprintf(stderr, "warning: cannot refresh the index, searching the one open: %s\n",
                error ? error : "unknown error");
    else if (changed)
        printf("index updated: revision %" PRIu64 ", %" PRIu32 " trials\n",
               td_searcher_revision(sh->searcher), td_searcher_doc_count(sh->searcher));
    free(error);
}

static void print_page_info(const shell_t *sh, const td_search_result_t *result)
{
    double ms = result->seconds * 1000.0;
    uint32_t limit = sh->request.limit;
    if (limit == 0 || result->total == 0) {
        printf("%.1f ms\n", ms);
        return;
    }
    uint32_t page = sh->offset / limit + 1;
    uint32_t pages = (uint32_t) (((uint64_t) result->total + limit - 1) / limit);
    printf("page %" PRIu32 " of %" PRIu32 ", %.1f ms%s\n", page, pages, ms,
           (uint64_t) sh->offset + limit < result->total ? " (:next for more)" : "");
}

/* Runs `query` from `offset`; on success the page becomes the one shown.
 * `query` may be sh->query itself. */
static void run_search(shell_t *sh, const char *query, uint32_t offset, bool new_query)
{
    refresh(sh);
    td_search_request_t request = sh->request;
    request.query = query;
    request.offset = offset;
    td_search_result_t *result = NULL;
    td_query_error_t qerr = {0};
    td_status_t status = td_search(sh->searcher, &request, &result, &qerr);
    if (status == TD_ERR_BAD_QUERY) {
        td_render_query_error(stdout, query, &qerr, sh->render.color);
        return;
    }
    if (status != TD_OK) {
        error_line("search failed: %s", qerr.message[0] ? qerr.message : td_status_str(status));
        return;
    }
    if (new_query) {
        char *copy = strdup(query);
        if (!copy) {
            error_line("%s", td_status_str(TD_ERR_NO_MEMORY));
            td_search_result_free(result);
            return;
        }
        free(sh->query);
        sh->query = copy;
        ranks_clear(sh);
    }
    sh->offset = offset;
    td_search_result_free(sh->result);
    sh->result = result;
    ranks_record(sh, result);

    td_render_options_t render = sh->render;
    render.query = sh->query;
    render.next_page_token = NULL; /* :next pages here */
    if (td_render_result(stdout, result, &render) != TD_OK)
        fprintf(stderr, "error: cannot write the results\n");
    print_page_info(sh, result);
}

static void command_page(shell_t *sh, int direction)
{
    if (!sh->query) {
        error_line("no query yet");
        return;
    }
    uint32_t limit = sh->request.limit;
    if (limit == 0) {
        error_line("no pages with :limit 0");
        return;
    }
    if (direction > 0) {
        if ((uint64_t) sh->offset + limit >= sh->result->total) {
            printf("no further page: this is the last\n");
            return;
        }
        run_search(sh, sh->query, sh->offset + limit, false);
    } else {
        if (sh->offset == 0) {
            printf("no previous page: this is the first\n");
            return;
        }
        run_search(sh, sh->query, sh->offset > limit ? sh->offset - limit : 0, false);
    }
}

/* ---- Commands ----------------------------------------------------------- */

static void show_record(shell_t *sh, const char *id)
{
    char *json = NULL;
    td_status_t status = td_search_show(sh->searcher, id, &json);
    if (status == TD_ERR_NOT_FOUND)
        error_line("%s is not in the index", id);
    else if (status != TD_OK)
        error_line("cannot read %s: %s", id, td_xdb_last_error(td_searcher_db(sh->searcher)));
    else if (td_render_record(stdout, json, sh->render.format, sh->render.color) != TD_OK)
        error_line("cannot print the record of %s", id);
    free(json);
}

static bool all_digits(const char *text)
{
    if (!*text)
        return false;
    for (; *text; text++)
        if (!isdigit((unsigned char) *text))
            return false;
    return true;
}

static void command_show(shell_t *sh, char *args)
{
    if (!*args) {
        error_line(":show needs the rank of a result or an NCT ID");
        return;
    }
    refresh(sh);
    char *save = NULL;
    for (char *word = strtok_r(args, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        if (!all_digits(word)) {
            show_record(sh, word);
            continue;
        }
        errno = 0;
        unsigned long rank = strtoul(word, NULL, 10);
        if (!sh->query)
            error_line("no results shown yet to pick %s from", word);
        else if (errno || rank == 0 || rank > sh->ranked_count || !sh->ranked[rank - 1])
            error_line("no result %s has been shown for this query", word);
        else
            show_record(sh, sh->ranked[rank - 1]);
    }
}

static void print_toggle(const char *name, bool on)
{
    printf("%s: %s\n", name, on ? "on" : "off");
}

static void command_format(shell_t *sh, const char *args)
{
    if (*args && !td_output_format_parse(args, &sh->render.format)) {
        error_line("unknown format '%s' (text, json, csv, ids)", args);
        return;
    }
    printf("format: %s\n", td_output_format_name(sh->render.format));
}

static const char *sort_direction(td_sort_t sort, bool ascending)
{
    switch (sort) {
    case TD_SORT_START:
    case TD_SORT_UPDATED:
        return ascending ? ", oldest first" : ", newest first";
    case TD_SORT_ENROLLMENT:
        return ascending ? ", smallest first" : ", largest first";
    case TD_SORT_DISTANCE:
        return ascending ? ", nearest first" : ", farthest first";
    default:
        return "";
    }
}

static void command_sort(shell_t *sh, const char *args)
{
    if (*args && !td_sort_parse(args, &sh->request.sort, &sh->request.ascending)) {
        error_line("unknown sort '%s' (relevance, start, updated, enrollment, distance; "
                   ":asc or :desc)",
                   args);
        return;
    }
    printf("sort: %s%s\n", td_sort_name(sh->request.sort),
           sort_direction(sh->request.sort, sh->request.ascending));
}

static void command_limit(shell_t *sh, const char *args)
{
    if (*args) {
        char *end;
        errno = 0;
        unsigned long value = strtoul(args, &end, 10);
        if (!isdigit((unsigned char) args[0]) || *end || errno || value > LIMIT_MAX) {
            error_line(":limit takes a number from 0 to %d, not '%s'", LIMIT_MAX, args);
            return;
        }
        sh->request.limit = (uint32_t) value;
    }
    printf("limit: %" PRIu32 " results per page\n", sh->request.limit);
}

/* Runs one command line (without its ':'); returns false for :quit. */
static bool run_command(shell_t *sh, char *line)
{
    char *args = line;
    while (*args && !isspace((unsigned char) *args))
        args++;
    if (*args)
        *args++ = '\0';
    while (isspace((unsigned char) *args))
        args++;
    const char *name = line;
    if (!strcmp(name, "quit") || !strcmp(name, "q"))
        return false;
    if (!strcmp(name, "next") || !strcmp(name, "n"))
        command_page(sh, +1);
    else if (!strcmp(name, "prev") || !strcmp(name, "p"))
        command_page(sh, -1);
    else if (!strcmp(name, "show"))
        command_show(sh, args);
    else if (!strcmp(name, "facets")) {
        sh->request.facets = sh->render.facets = !sh->request.facets;
        print_toggle("facets", sh->request.facets);
    } else if (!strcmp(name, "why")) {
        sh->request.explain = sh->render.explain = !sh->request.explain;
        print_toggle("why", sh->request.explain);
    } else if (!strcmp(name, "format"))
        command_format(sh, args);
    else if (!strcmp(name, "sort"))
        command_sort(sh, args);
    else if (!strcmp(name, "limit"))
        command_limit(sh, args);
    else if (!strcmp(name, "help"))
        fputs(HELP, stdout);
    else
        error_line("unknown command ':%s' (:help lists the commands)", name);
    return true;
}

/* ---- The loop ----------------------------------------------------------- */

/* Ctrl-C abandons the line being typed, as in other shells, instead of
 * killing the program (and losing the history). libedit restores the
 * terminal, passes the signal on to this handler, and readline returns
 * NULL, which the flag tells apart from Ctrl-D. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int signo)
{
    (void) signo;
    interrupted = 1;
}

static char *trim(char *text)
{
    while (isspace((unsigned char) *text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char) text[len - 1]))
        text[--len] = '\0';
    return text;
}

int td_shell_run(td_searcher_t *searcher, const td_shell_options_t *options)
{
    shell_t sh = {.searcher = searcher, .request = options->request, .render = options->render};
    /* The toggles flip both halves together, so they start out equal. */
    sh.render.facets = sh.request.facets;
    sh.render.explain = sh.request.explain;

    rl_readline_name = "trialdex"; /* for `trialdex:` lines in ~/.editrc */
    using_history();
    stifle_history(HISTORY_MAX);
    if (options->history_path)
        read_history(options->history_path); /* none yet is fine */

    struct sigaction action = {.sa_handler = on_interrupt}, previous;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);

    char *line;
    char *last_added = NULL; /* to keep repeated lines out of the history */
    bool running = true;
    while (running) {
        fflush(stdout);
        interrupted = 0;
        line = readline(PROMPT);
        if (!line && interrupted) {
            fputc('\n', stdout);
            continue;
        }
        if (!line) {
            fputc('\n', stdout); /* Ctrl-D: leave the terminal's prompt on a line of its own */
            break;
        }
        char *text = trim(line);
        if (*text && (!last_added || strcmp(last_added, text) != 0)) {
            add_history(text);
            free(last_added);
            last_added = strdup(text);
        }
        if (text[0] == ':')
            running = run_command(&sh, text + 1);
        else if (*text)
            run_search(&sh, text, 0, true);
        free(line);
    }
    fflush(stdout);
    sigaction(SIGINT, &previous, NULL);

    if (options->history_path && write_history(options->history_path) != 0)
        fprintf(stderr, "warning: cannot write the history to %s\n", options->history_path);
    clear_history();
    free(last_added);
    ranks_clear(&sh);
    td_search_result_free(sh.result);
    free(sh.query);
    return 0;
}
