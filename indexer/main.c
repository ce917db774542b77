/* trialdex-index: reads trial records, builds and maintains the index. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_indexer.h"
#include "td_reader.h"
#include "td_schema.h"
#include "td_trial.h"

enum exit_code {
    EXIT_CLEAN = 0,    /* everything read */
    EXIT_REJECTED = 1, /* some records or files were skipped */
    EXIT_USAGE = 2,
    EXIT_FATAL = 3,  /* out of memory or an internal failure */
    EXIT_LOCKED = 4, /* another writer holds the index */
    EXIT_INDEX = 5,  /* the index is missing, damaged or of another schema */
    EXIT_SYNC = 6    /* sync: the API could not be read; nothing was applied */
};

static const char usage[] =
    "usage: trialdex-index read [--format FMT] [--quiet] SRC...\n"
    "       trialdex-index build [-d DB] [--format FMT] [--threads N] [--strict] SRC...\n"
    "       trialdex-index update [-d DB] [--delete-missing] [--commit-every N] [--format FMT]\n"
    "                             [--strict] SRC...\n"
    "       trialdex-index sync [-d DB] --api URL [--since YYYY-MM-DD]\n"
    "       trialdex-index delete [-d DB] NCT...\n"
    "       trialdex-index stats|check|compact [-d DB]\n"
    "       trialdex-index --help\n"
    "\n"
    "Commands:\n"
    "  read     Read trial records and print one line per trial:\n"
    "           NCT ID, overall status, phases, brief title (tab-separated;\n"
    "           tab, line breaks and backslash in the title as \\t \\n \\r \\\\).\n"
    "           Problems go to standard error as SOURCE:POSITION: LEVEL: [NCT] MESSAGE,\n"
    "           then one summary line. Use it to check input before indexing.\n"
    "  build    Build a new index from SRC in a fresh directory, one shard per core,\n"
    "           and swap it in atomically: searchers see the old index until then.\n"
    "  update   Add and replace the records of SRC (unchanged ones are skipped by\n"
    "           content hash) in transactions; --delete-missing treats SRC as a full\n"
    "           snapshot and removes trials it lacks. Builds the index if there is none.\n"
    "  sync     The nightly job: fetch the studies changed since the last\n"
    "           successful sync (or --since) from a ClinicalTrials.gov API v2\n"
    "           endpoint (e.g. https://clinicaltrials.gov/api/v2), following page\n"
    "           tokens and retrying with backoff, then apply them as update does.\n"
    "           The high-water mark is stored only with a successful commit, so a\n"
    "           failed or killed sync is simply run again.\n"
    "  delete   Remove trials by NCT ID.\n"
    "  stats    Print the index's size, trials, fields, revision and last sync.\n"
    "  check    Check every table of the index; exit 0 only for a sound index.\n"
    "  compact  Rewrite the index compactly and swap it in atomically.\n"
    "\n"
    "The index is DB, or $TRIALDEX_DB, or ./trialdex.db. DB is a link to the\n"
    "current version, a directory in DB.data/. Only one writer runs at a time;\n"
    "a second one stops at once with \"index locked by pid N\". Readers never wait.\n"
    "Bad records are reported and skipped; --strict stops at the first one.\n"
    "On a terminal, build and update show progress; otherwise they print one\n"
    "summary line of JSON on standard output.\n"
    "\n"
    "Sources: files, directories (read recursively), archives (tar, tar.gz,\n"
    "tar.xz, zip) and '-' for standard input; any file may be gzip, xz, bzip2\n"
    "or zstd compressed.\n"
    "\n"
    "Options:\n"
    "  --format FMT  auto (default), json (ClinicalTrials.gov API v2: a study,\n"
    "                an array, an API page or JSON Lines), xml (legacy\n"
    "                <clinical_study>), beir ({\"_id\", \"title\", \"text\"} lines)\n"
    "  --quiet       print only problems and the summary (no progress)\n"
    "  -d DB         the index (default $TRIALDEX_DB, else ./trialdex.db)\n"
    "  --threads N   build workers (default: one per core)\n"
    "  --strict      stop at the first bad record or unreadable file\n"
    "  --commit-every N  update: records per transaction (default 2000)\n"
    "\n"
    "Exit status: 0 done, every record read; 1 done, but some records or files\n"
    "were skipped, or --strict stopped the job before anything was applied,\n"
    "or check found damage; 2 usage error; 3 out of memory or\n"
    "an internal failure; 4 the index is locked by another writer; 5 the index\n"
    "is missing, damaged, of another schema or not writable; 6 sync could not\n"
    "fetch or read the API's pages (nothing was applied).\n";

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

/* ---- index commands ---- */

typedef struct arguments {
    const char *db;
    const char *api;   /* sync */
    const char *since; /* sync */
    td_index_options_t options;
    bool quiet;
    const char **positional;
    size_t positional_count;
} arguments_t;

/* Parses the options every index command shares; the rest are positional.
 * `allowed` lists the options this command takes, as "-d --format ...". */
static int parse_arguments(const char *command, int argc, char **argv, const char *allowed,
                           arguments_t *a)
{
    memset(a, 0, sizeof(*a));
    a->db = td_index_default_path();
    a->options.format = TD_FORMAT_AUTO;
    a->positional = calloc((size_t) argc + 1, sizeof(*a->positional));
    if (!a->positional)
        return EXIT_FATAL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool takes_value = strcmp(arg, "-d") == 0 || strcmp(arg, "--format") == 0 ||
                           strcmp(arg, "--threads") == 0 || strcmp(arg, "--commit-every") == 0 ||
                           strcmp(arg, "--api") == 0 || strcmp(arg, "--since") == 0;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            a->positional[a->positional_count++] = arg;
            continue;
        }
        char needle[64];
        snprintf(needle, sizeof(needle), " %s ", arg);
        char haystack[256];
        snprintf(haystack, sizeof(haystack), " %s ", allowed);
        if (!strstr(haystack, needle)) {
            fprintf(stderr, "trialdex-index %s: unknown option '%s' (see --help)\n", command, arg);
            return EXIT_USAGE;
        }
        if (takes_value && i + 1 == argc) {
            fprintf(stderr, "trialdex-index %s: %s needs a value\n", command, arg);
            return EXIT_USAGE;
        }
        if (strcmp(arg, "-d") == 0) {
            a->db = argv[++i];
        } else if (strcmp(arg, "--api") == 0) {
            a->api = argv[++i];
        } else if (strcmp(arg, "--since") == 0) {
            a->since = argv[++i];
        } else if (strcmp(arg, "--format") == 0) {
            if (!td_format_parse(argv[++i], &a->options.format)) {
                fprintf(stderr, "trialdex-index %s: unknown format '%s' (auto, json, xml, beir)\n",
                        command, argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(arg, "--threads") == 0) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 16) {
                fprintf(stderr, "trialdex-index %s: --threads takes 1 to 16, not '%s'\n", command,
                        argv[i]);
                return EXIT_USAGE;
            }
            a->options.threads = (unsigned) n;
        } else if (strcmp(arg, "--commit-every") == 0) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1000000) {
                fprintf(stderr, "trialdex-index %s: --commit-every takes 1 to 1000000, not '%s'\n",
                        command, argv[i]);
                return EXIT_USAGE;
            }
            a->options.commit_every = (unsigned) n;
        } else if (strcmp(arg, "--strict") == 0) {
            a->options.strict = true;
        } else if (strcmp(arg, "--delete-missing") == 0) {
            a->options.delete_missing = true;
        } else if (strcmp(arg, "--quiet") == 0) {
            a->quiet = true;
        }
    }
    a->options.db = a->db;
    a->options.on_diag = print_diagnostic;
    return EXIT_CLEAN;
}

/* Records, rate, and when the input's size is known, percent and ETA. */
static void show_progress(const td_index_progress_t *p, void *user)
{
    (void) user;
    double rate = p->seconds > 0 ? (double) p->records / p->seconds : 0.0;
    fprintf(stderr, "\r%zu records, %.0f records/s", p->records, rate);
    if (p->input_total && p->input_bytes && p->input_bytes <= p->input_total) {
        double done = (double) p->input_bytes / (double) p->input_total;
        double eta = p->seconds * (1 - done) / done;
        fprintf(stderr, ", %.0f%%, ETA %.0f s", done * 100, eta);
    } else {
        fprintf(stderr, ", %.1f MB read", (double) p->bytes / 1e6);
    }
    fputs("   ", stderr);
}

static int exit_for(td_status_t status)
{
    switch (status) {
    case TD_OK:
        return EXIT_CLEAN;
    case TD_ERR_LOCKED:
        return EXIT_LOCKED;
    case TD_ERR_NO_MEMORY:
    case TD_ERR_INTERNAL:
        return EXIT_FATAL;
    case TD_ERR_BAD_INPUT:
        return EXIT_REJECTED;
    default:
        return EXIT_INDEX;
    }
}

/* One line of JSON when the output is not a terminal, a sentence when it is. */
static void print_summary(const char *command, const char *db, const td_index_stats_t *s)
{
    double rate = s->seconds > 0 ? (double) s->read / s->seconds : 0.0;
    if (isatty(STDOUT_FILENO)) {
        printf("%s %s: %u trials; read %zu (%zu rejected, %zu files failed), added %zu, "
               "updated %zu, unchanged %zu, deleted %zu in %.1f s (%.0f records/s)\n",
               command, db, s->documents, s->read, s->rejected, s->failed_sources, s->added,
               s->updated, s->unchanged, s->deleted, s->seconds, rate);
        return;
    }
    printf("{\"command\":\"%s\",\"read\":%zu,\"added\":%zu,\"updated\":%zu,\"unchanged\":%zu,"
           "\"deleted\":%zu,\"rejected\":%zu,\"failed_sources\":%zu,\"documents\":%u,"
           "\"seconds\":%.3f,\"records_per_s\":%.0f,\"bytes\":%llu}\n",
           command, s->read, s->added, s->updated, s->unchanged, s->deleted, s->rejected,
           s->failed_sources, s->documents, s->seconds, rate, (unsigned long long) s->bytes);
}

typedef td_status_t (*write_fn)(const char *const *items, size_t count,
                                const td_index_options_t *options, td_index_stats_t *stats,
                                char **error);

/* build, update and delete: run, report, and choose the exit status. */
static int run_writer(const char *command, write_fn write, const arguments_t *a, const char *what)
{
    if (!a->positional_count && write) {
        fprintf(stderr, "trialdex-index %s: no %s given (see --help)\n", command, what);
        return EXIT_USAGE;
    }
    td_index_options_t options = a->options;
    bool terminal = isatty(STDERR_FILENO) && !a->quiet;
    if (terminal)
        options.on_progress = show_progress;
    td_index_stats_t stats;
    char *error = NULL;
    td_status_t status = write ? write(a->positional, a->positional_count, &options, &stats, &error)
                               : td_index_compact(&options, &stats, &error);
    if (terminal)
        fputc('\n', stderr);
    if (status != TD_OK) {
        fprintf(stderr, "trialdex-index %s: %s\n", command, error ? error : td_status_str(status));
        free(error);
        return exit_for(status);
    }
    print_summary(command, a->db, &stats);
    return stats.rejected || stats.failed_sources ? EXIT_REJECTED : EXIT_CLEAN;
}

static uint64_t disk_usage;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) path;
    (void) ftw;
    if (flag == FTW_F)
        disk_usage += (uint64_t) st->st_size;
    return 0;
}

static void print_metadata(td_xdb_t *db, const char *label, const char *key)
{
    char *value = NULL;
    size_t len = 0;
    if (td_xdb_get_metadata(db, key, &value, &len) == TD_OK)
        printf("%-14s %.*s\n", label, (int) len, value);
    else
        printf("%-14s -\n", label);
    free(value);
}

static int command_stats(const arguments_t *a)
{
    char *path = NULL, *error = NULL;
    td_status_t status = td_index_version_path(a->db, &path, &error);
    td_xdb_t *db = NULL;
    if (status == TD_OK)
        status = td_xdb_open(path, TD_XDB_READ, &db, &error);
    td_xdb_stats_t stats;
    if (status == TD_OK && (status = td_xdb_stats(db, &stats)) != TD_OK)
        error = strdup(td_xdb_last_error(db));
    if (status != TD_OK) {
        fprintf(stderr, "trialdex-index stats: %s\n", error ? error : td_status_str(status));
        free(error);
        free(path);
        td_xdb_close(db);
        return exit_for(status);
    }
    disk_usage = 0;
    nftw(path, add_size, 16, FTW_PHYS);
    printf("%-14s %s -> %s\n", "index", a->db, path);
    printf("%-14s %u\n", "trials", stats.doc_count);
    printf("%-14s %.1f MB (%.1f KB per trial)\n", "size", (double) disk_usage / 1e6,
           stats.doc_count ? (double) disk_usage / 1e3 / stats.doc_count : 0.0);
    printf("%-14s %llu\n", "revision", (unsigned long long) stats.revision);
    printf("%-14s %.0f terms\n", "avg length", stats.average_length);
    print_metadata(db, "schema", TD_META_SCHEMA);
    print_metadata(db, "built", TD_META_BUILT);
    print_metadata(db, "last sync", TD_META_LAST_SYNC);
    static const struct {
        const char *name, *prefix;
    } fields[] = {{"title", TD_PREFIX_TITLE},
                  {"condition", TD_PREFIX_CONDITION},
                  {"keyword", TD_PREFIX_KEYWORD},
                  {"intervention", TD_PREFIX_INTERVENTION},
                  {"description", TD_PREFIX_DESCRIPTION},
                  {"outcome", TD_PREFIX_OUTCOME},
                  {"inclusion", TD_PREFIX_INCLUSION},
                  {"exclusion", TD_PREFIX_EXCLUSION},
                  {"sponsor", TD_PREFIX_SPONSOR},
                  {"location", TD_PREFIX_LOCATION},
                  {"arm", TD_PREFIX_ARM},
                  {"biomarker", TD_PREFIX_BIOMARKER},
                  {"filter", TD_PREFIX_FILTER}};
    printf("fields (distinct terms):\n");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        td_xlist_t *terms = NULL;
        if (td_xdb_terms_with_prefix(db, fields[i].prefix, &terms) == TD_OK)
            printf("  %-12s %-3s %zu\n", fields[i].name, fields[i].prefix, td_xlist_count(terms));
        td_xlist_free(terms);
    }
    td_xdb_close(db);
    free(path);
    return EXIT_CLEAN;
}

static int command_check(const arguments_t *a)
{
    char *path = NULL, *error = NULL, *report = NULL;
    size_t errors = 0;
    td_status_t status = td_index_version_path(a->db, &path, &error);
    if (status == TD_OK)
        status = td_xdb_check(path, &errors, &report);
    if (report && (!a->quiet || errors || status != TD_OK))
        fputs(report, stdout);
    td_xdb_t *db = NULL;
    if (status == TD_OK && !errors && td_xdb_open(path, TD_XDB_READ, &db, &error) == TD_OK) {
        char *schema = NULL;
        size_t len = 0;
        if (td_xdb_get_metadata(db, TD_META_SCHEMA, &schema, &len) != TD_OK ||
            atoi(schema) != TD_SCHEMA_VERSION) {
            printf("schema: %s, expected %d\n", schema ? schema : "missing", TD_SCHEMA_VERSION);
            errors++;
        }
        free(schema);
    }
    td_xdb_close(db);
    free(report);
    free(path);
    if (status != TD_OK && status != TD_ERR_CORRUPT) {
        fprintf(stderr, "trialdex-index check: %s\n", error ? error : td_status_str(status));
        free(error);
        return exit_for(status);
    }
    free(error);
    printf("%s: %s\n", a->db, errors ? "DAMAGED" : "sound");
    return errors ? EXIT_REJECTED : EXIT_CLEAN;
}

static int command_sync(const arguments_t *a)
{
    if (!a->api) {
        fprintf(stderr, "trialdex-index sync: --api URL is required (see --help)\n");
        return EXIT_USAGE;
    }
    td_index_options_t options = a->options;
    bool terminal = isatty(STDERR_FILENO) && !a->quiet;
    if (terminal)
        options.on_progress = show_progress;
    td_index_stats_t stats;
    char *error = NULL;
    td_status_t status = td_index_sync(a->api, a->since, &options, &stats, &error);
    if (terminal)
        fputc('\n', stderr);
    if (status != TD_OK) {
        fprintf(stderr, "trialdex-index sync: %s\n", error ? error : td_status_str(status));
        free(error);
        if (status == TD_ERR_IO || status == TD_ERR_BAD_INPUT)
            return a->options.strict && status == TD_ERR_BAD_INPUT ? EXIT_REJECTED : EXIT_SYNC;
        if (status == TD_ERR_NOT_FOUND || status == TD_ERR_RANGE)
            return EXIT_USAGE;
        return exit_for(status);
    }
    print_summary("sync", a->db, &stats);
    return stats.rejected ? EXIT_REJECTED : EXIT_CLEAN;
}

static int command_index(const char *command, int argc, char **argv)
{
    static const struct {
        const char *name, *options, *what;
        write_fn write;
    } commands[] = {
        {"build", "-d --format --threads --strict --quiet", "sources", td_index_build},
        {"update", "-d --format --threads --strict --quiet --delete-missing --commit-every",
         "sources", td_index_update},
        {"delete", "-d --quiet", "NCT IDs", td_index_delete},
        {"sync", "-d --api --since --strict --quiet --commit-every", NULL, NULL},
        {"compact", "-d --quiet", NULL, NULL},
        {"stats", "-d", NULL, NULL},
        {"check", "-d --quiet", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(command, commands[i].name) != 0)
            continue;
        arguments_t a;
        int code = parse_arguments(command, argc, argv, commands[i].options, &a);
        if (code == EXIT_CLEAN && !commands[i].what && a.positional_count) {
            fprintf(stderr, "trialdex-index %s: unexpected argument '%s'\n", command,
                    a.positional[0]);
            code = EXIT_USAGE;
        }
        if (code == EXIT_CLEAN) {
            if (strcmp(command, "stats") == 0)
                code = command_stats(&a);
            else if (strcmp(command, "sync") == 0)
                code = command_sync(&a);
            else if (strcmp(command, "check") == 0)
                code = command_check(&a);
            else
                code = run_writer(command, commands[i].write, &a, commands[i].what);
        }
        free(a.positional);
        return code;
    }
    return -1;
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
    int code = command_index(argv[1], argc - 2, argv + 2);
    if (code >= 0)
        return code;
    fprintf(stderr, "trialdex-index: unknown command '%s'\n%s", argv[1], usage);
    return EXIT_USAGE;
}
