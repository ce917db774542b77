/* trialdex-index: reads trial records and (in later stages) builds the index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_reader.h"
#include "td_trial.h"

enum exit_code {
    EXIT_CLEAN = 0,    /* everything read */
    EXIT_REJECTED = 1, /* some records or files were skipped */
    EXIT_USAGE = 2,
    EXIT_FATAL = 3
};

static const char usage[] =
    "usage: trialdex-index read [--format FMT] [--quiet] SRC...\n"
    "       trialdex-index --help\n"
    "\n"
    "Commands:\n"
    "  read     Read trial records and print one line per trial:\n"
    "           NCT ID, overall status, phases, brief title (tab-separated;\n"
    "           tab, line breaks and backslash in the title as \\t \\n \\r \\\\).\n"
    "           Problems go to standard error as SOURCE:POSITION: LEVEL: [NCT] MESSAGE,\n"
    "           then one summary line. Use it to check input before indexing.\n"
    "\n"
    "Sources: files, directories (read recursively), archives (tar, tar.gz,\n"
    "tar.xz, zip) and '-' for standard input; any file may be gzip, xz, bzip2\n"
    "or zstd compressed.\n"
    "\n"
    "Options:\n"
    "  --format FMT  auto (default), json (ClinicalTrials.gov API v2: a study,\n"
    "                an array, an API page or JSON Lines), xml (legacy\n"
    "                <clinical_study>), beir ({\"_id\", \"title\", \"text\"} lines)\n"
    "  --quiet       print only problems and the summary\n"
    "\n"
    "Exit status: 0 all records read; 1 some records or files were skipped;\n"
    "2 usage error; 3 out of memory.\n";

static void print_diagnostic(const td_diagnostic_t *d, void *user)
{
    (void) user;
    fflush(stdout); /* keep problems in order with the records around them */
    fprintf(stderr, "%s%s%s: %s: %s%s%s%s\n", d->source, d->position[0] ? ":" : "", d->position,
            d->level == TD_DIAG_ERROR ? "error" : "warning", d->nct_id[0] ? "[" : "", d->nct_id,
            d->nct_id[0] ? "] " : "", d->message);
}

/* Prints text for a tab-separated line: tab, line breaks and backslash are
 * escaped (\t, \n, \r, \\), so a title cannot start a new field or row. */
static void print_field(const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        default:
            putchar(*p);
        }
    }
}

static void print_phases(unsigned phases)
{
    if (!phases) {
        fputs("-", stdout);
        return;
    }
    const char *separator = "";
    for (unsigned bit = 1; bit <= TD_PHASE_4; bit <<= 1)
        if (phases & bit) {
            printf("%s%s", separator, td_phase_name((td_phase_t) bit));
            separator = "|";
        }
}

static int command_read(int argc, char **argv)
{
    td_format_t format = TD_FORMAT_AUTO;
    bool quiet = false;
    const char **sources = calloc((size_t) argc, sizeof(*sources));
    size_t source_count = 0;
    if (!sources)
        return EXIT_FATAL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "trialdex-index: --format needs a value (auto, json, xml, beir)\n");
                free(sources);
                return EXIT_USAGE;
            }
            if (!td_format_parse(argv[++i], &format)) {
                fprintf(stderr, "trialdex-index: unknown format '%s' (auto, json, xml, beir)\n",
                        argv[i]);
                free(sources);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "trialdex-index: unknown option '%s'\n%s", argv[i], usage);
            free(sources);
            return EXIT_USAGE;
        } else {
            sources[source_count++] = argv[i];
        }
    }
    if (!source_count) {
        fprintf(stderr, "trialdex-index read: no sources given\n%s", usage);
        free(sources);
        return EXIT_USAGE;
    }

    td_reader_t *reader;
    if (td_reader_open(sources, source_count, format, print_diagnostic, NULL, &reader) != TD_OK) {
        free(sources);
        return EXIT_FATAL;
    }
    td_status_t status;
    td_trial_t *trial;
    while ((status = td_reader_next(reader, &trial)) == TD_OK) {
        if (!quiet) {
            printf("%s\t%s\t", trial->nct_id,
                   trial->overall_status ? td_overall_status_name(trial->overall_status) : "-");
            print_phases(trial->phases);
            putchar('\t');
            print_field(trial->brief_title ? trial->brief_title : "");
            putchar('\n');
        }
        td_trial_free(trial);
    }
    td_reader_stats_t stats = td_reader_stats(reader);
    td_reader_close(reader);
    free(sources);
    if (status != TD_DONE) {
        fprintf(stderr, "trialdex-index read: %s\n", td_status_str(status));
        return EXIT_FATAL;
    }
    fflush(stdout);
    fprintf(stderr,
            "read %zu records from %zu sources: %zu rejected, %zu warnings, %zu files failed\n",
            stats.records, stats.sources, stats.rejected, stats.warnings, stats.failed_sources);
    return stats.rejected || stats.failed_sources ? EXIT_REJECTED : EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(argv[1], "read") == 0)
        return command_read(argc - 2, argv + 2);
    fprintf(stderr, "trialdex-index: unknown command '%s'\n%s", argv[1], usage);
    return EXIT_USAGE;
}
