/* td_shell.h - the interactive shell of `trialdex-search`.
 *
 * A line editor with history: each line is a query (results, facets and the
 * query time are printed), or a command starting with ':' (see :help):
 *   :next, :prev        page through the last query's results
 *   :show N|NCT...      print a whole record (N: the rank of a result shown)
 *   :facets             toggle facet counts
 *   :why                toggle "why matched"
 *   :format FORMAT      text, json, csv or ids
 *   :sort KEY           relevance, start, updated, enrollment, distance (:asc/:desc)
 *   :limit N            results per page
 *   :help, :quit        (also Ctrl-D)
 * Before each query the shell refreshes the searcher, so a new index swapped
 * in by the nightly job is used at once (and said so).
 */
#ifndef TD_SHELL_H
#define TD_SHELL_H

#include <stdbool.h>
#include <stdio.h>

#include "td_format.h"
#include "td_search.h"

typedef struct td_shell_options {
    td_search_request_t request; /* limit, sort, facets, explain to start with */
    td_render_options_t render;  /* format and colour to start with */
    const char *history_path;    /* NULL: no history file */
} td_shell_options_t;

/* Runs the shell on the terminal until :quit or end of input; returns the
 * exit status for the program (0). */
int td_shell_run(td_searcher_t *searcher, const td_shell_options_t *options);

#endif
