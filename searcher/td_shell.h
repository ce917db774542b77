/* td_shell.h - the interactive shell of `trialdex-search`.
 *
 * A line editor (libedit) with history: each line is a query, or a command
 * starting with ':' (see :help):
 *   :next, :prev (:n, :p)  page through the last query's results
 *   :show N|NCT...         print whole records (N: the rank of a result shown
 *                          for the last query, on any page)
 *   :facets                toggle facet counts
 *   :why                   toggle "why matched"
 *   :format FORMAT         text, json, csv or ids
 *   :sort KEY              relevance, start, updated, enrollment, distance (:asc/:desc)
 *   :limit N               results per page
 *   :help, :quit (:q)      (Ctrl-D quits too; Ctrl-C abandons the line typed)
 * The toggles, :format, :sort and :limit print the new setting (without an
 * argument, the current one). A query prints its results, then the page
 * ("page 2 of 5") and the query time. A malformed query prints the error,
 * with a caret under its position, and the shell goes on.
 * Before each query and :show the shell refreshes the searcher, so a new
 * index swapped in by the nightly job is used at once (and said so).
 * Everything goes to standard output, warnings to standard error.
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
 * exit status for the program (0). The searcher stays the caller's (it is
 * refreshed in place); nothing of `options` is kept after the call. The
 * history file is read at the start (a missing one is fine) and written
 * at the end, at most 1,000 lines. */
int td_shell_run(td_searcher_t *searcher, const td_shell_options_t *options);

#endif
