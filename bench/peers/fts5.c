/* trialdex-peer-fts5: SQLite FTS5 as trialdex's peer, on the same records
 * (read with trialdex's own readers) and the same query file, translated
 * from trialdex's query language to FTS5 by a small translator of its own.
 * See bench/peers/README.md for the schema and the translation rules. */
#define _XOPEN_SOURCE 700 /* getline, strcasecmp */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "td_eligibility.h"
#include "td_reader.h"
#include "td_trial.h"
#include "bench_internal.h"

static const char usage[] =
    "usage: trialdex-peer-fts5 build [--meta-table] -o DB.sqlite SRC...\n"
    "       trialdex-peer-fts5 latency -d DB.sqlite [--runs N] [--warmup N]\n"
    "                                  [--plan two|one-pass] [--filters unindexed|table]\n"
    "                                  QUERYFILE\n"
    "       trialdex-peer-fts5 translate [-d DB.sqlite] QUERYFILE\n"
    "\n"
    "  build      Read every record of SRC with trialdex's readers and index it in\n"
    "             one FTS5 table (one column per trialdex field, bm25 weights as\n"
    "             trialdex's default boosts), in one transaction with\n"
    "             journal_mode=OFF and synchronous=OFF; then run FTS5's 'optimize'\n"
    "             and time it apart. Prints one line of JSON. --meta-table also\n"
    "             writes the filter values to an ordinary table, meta.\n"
    "  latency    Translate every query of QUERYFILE (one per line; blank lines\n"
    "             and '#' comments skipped) to FTS5, then run each as a search\n"
    "             (the top 10 by bm25 and the exact total): --warmup passes\n"
    "             (default 1; the first sets aside queries that fail), then --runs\n"
    "             timed passes (default 5). Each search is timed whole:\n"
    "             translation, preparing and running the statements. Prints the\n"
    "             setup and the median, p90, p99 and max latency as JSON lines,\n"
    "             with the queries that could not be translated.\n"
    "             --plan two (default): a top-10 statement (ORDER BY bm25 LIMIT 10)\n"
    "             and a count(*) statement; one-pass: one statement scoring every\n"
    "             match, the top 10 and the count kept in C. --filters unindexed\n"
    "             (default): filters on t's UNINDEXED columns; table: on the meta\n"
    "             table (a database built with --meta-table).\n"
    "  translate  Print each query of QUERYFILE with its FTS5 MATCH expression and\n"
    "             SQL filters (or why it was skipped), one JSON line each; with\n"
    "             -d, also its total and hits as the search finds them.\n";

/* ---- small utilities ---- */

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (!p) {
        fputs("trialdex-peer-fts5: out of memory\n", stderr);
        exit(3);
    }
    return p;
}

static char *xstrdup(const char *text)
{
    size_t len = strlen(text) + 1;
    return memcpy(xrealloc(NULL, len), text, len);
}

typedef struct buffer {
    char *data;
    size_t len, capacity;
} buffer_t;

static void buffer_append(buffer_t *b, const char *text, size_t len)
{
    if (b->len + len + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : 256;
        while (capacity < b->len + len + 1)
            capacity *= 2;
        b->data = xrealloc(b->data, capacity);
        b->capacity = capacity;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void buffer_puts(buffer_t *b, const char *text)
{
    buffer_append(b, text, strlen(text));
}

static void buffer_printf(buffer_t *b, const char *fmt, ...)
{
    char small[256];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, args);
    va_end(args);
    if (n < 0)
        return;
    if ((size_t) n < sizeof(small)) {
        buffer_append(b, small, (size_t) n);
        return;
    }
    char *big = xrealloc(NULL, (size_t) n + 1);
    va_start(args, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, args);
    va_end(args);
    buffer_append(b, big, (size_t) n);
    free(big);
}

static void buffer_clear(buffer_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static const char *buffer_text(const buffer_t *b)
{
    return b->data ? b->data : "";
}

static void buffer_free(buffer_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double median_of(double *values, size_t count)
{
    qsort(values, count, sizeof(*values), compare_doubles);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* The value at percentile p of `sorted` (nearest rank), as trialdex-bench. */
static double percentile(const double *sorted, size_t count, double p)
{
    size_t rank = (size_t) (p / 100.0 * (double) count + 0.999999);
    return sorted[rank ? rank - 1 : 0];
}

/* Prints ,"cpu":...,"cores":N,"date":"..." for a JSON line. */
static void print_machine(void)
{
    char cpu[256];
    bench_cpu_model(cpu, sizeof(cpu));
    char date[32];
    time_t now = time(NULL);
    struct tm utc;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    printf(",\"cpu\":");
    bench_print_json_string(cpu);
    printf(",\"cores\":%ld,\"date\":\"%s\"", sysconf(_SC_NPROCESSORS_ONLN), date);
}

/* ---- the schema ---- */

/* One FTS5 column per trialdex field, in this order; the weights are
 * trialdex's default boosts (td_search_settings_default) and are FTS5's
 * bm25() column weights. */
enum {
    COL_TITLE,
    COL_CONDITION,
    COL_KEYWORD,
    COL_INTERVENTION,
    COL_BIOMARKER,
    COL_SUMMARY,
    COL_OUTCOME,
    COL_INCLUSION,
    COL_EXCLUSION,
    COL_SPONSOR,
    COL_SITE,
    COL_ARM,
    TEXT_COLUMNS
};

static const struct {
    const char *name;
    double weight;
} COLUMNS[TEXT_COLUMNS] = {
    {"title", 1.0},     {"condition", 0.95}, {"keyword", 0.5}, {"intervention", 0.8},
    {"biomarker", 0.8}, {"summary", 0.5},    {"outcome", 0.4}, {"inclusion", 0.5},
    {"exclusion", 0.0}, {"sponsor", 0.4},    {"site", 0.35},   {"arm", 0.4},
};

/* UNINDEXED columns after the text, for the filters. */
static const char *const META_COLUMNS[] = {
    "nct_id",       "status",       "phases",       "study_type",      "sex",
    "countries",    "start_date",   "updated_date", "completion_date", "enrollment",
    "min_age_days", "max_age_days", "healthy",      "results",
};
#define META_COUNT (sizeof(META_COLUMNS) / sizeof(META_COLUMNS[0]))

#define TOKENIZER "porter unicode61 remove_diacritics 2"

/* Columns an unscoped word searches: every column that scores (exclusion
 * criteria weigh 0 and are searched only when named, as in trialdex); and
 * in the partial fallback those weighted 0.5 or more, as trialdex. */
static unsigned default_mask(bool partial)
{
    unsigned mask = 0;
    for (int c = 0; c < TEXT_COLUMNS; c++)
        if (COLUMNS[c].weight > 0 && (!partial || COLUMNS[c].weight >= 0.5))
            mask |= 1u << c;
    return mask;
}

/* ---- build ---- */

static void add_text(buffer_t *column, const char *text)
{
    if (!text || !*text)
        return;
    if (column->len)
        buffer_append(column, "\n", 1);
    buffer_puts(column, text);
}

static void add_list(buffer_t *column, const td_strlist_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        add_text(column, list->items[i]);
}

static void add_lower(buffer_t *b, const char *text)
{
    for (; *text; text++) {
        char c = (char) tolower((unsigned char) *text);
        buffer_append(b, &c, 1);
    }
}

#define MAX_SECTIONS 64

/* The text columns, filled from the trial as indexer/document.c fills
 * trialdex's fields. */
static void fill_text(const td_trial_t *t, buffer_t *columns)
{
    for (int c = 0; c < TEXT_COLUMNS; c++)
        buffer_clear(&columns[c]);
    add_text(&columns[COL_TITLE], t->brief_title);
    add_text(&columns[COL_TITLE], t->official_title);
    add_text(&columns[COL_TITLE], t->acronym);
    add_list(&columns[COL_CONDITION], &t->conditions);
    add_list(&columns[COL_CONDITION], &t->condition_mesh_terms);
    add_list(&columns[COL_KEYWORD], &t->keywords);
    for (size_t i = 0; i < t->intervention_count; i++) {
        add_text(&columns[COL_INTERVENTION], t->interventions[i].name);
        add_list(&columns[COL_INTERVENTION], &t->interventions[i].other_names);
        add_text(&columns[COL_INTERVENTION], t->interventions[i].description);
    }
    add_list(&columns[COL_INTERVENTION], &t->intervention_mesh_terms);
    for (size_t i = 0; i < t->arm_group_count; i++) {
        add_text(&columns[COL_ARM], t->arm_groups[i].label);
        add_text(&columns[COL_ARM], t->arm_groups[i].description);
    }
    add_text(&columns[COL_SUMMARY], t->brief_summary);
    add_text(&columns[COL_SUMMARY], t->detailed_description);
    for (size_t i = 0; i < t->primary_outcome_count; i++) {
        add_text(&columns[COL_OUTCOME], t->primary_outcomes[i].measure);
        add_text(&columns[COL_OUTCOME], t->primary_outcomes[i].description);
    }
    for (size_t i = 0; i < t->secondary_outcome_count; i++) {
        add_text(&columns[COL_OUTCOME], t->secondary_outcomes[i].measure);
        add_text(&columns[COL_OUTCOME], t->secondary_outcomes[i].description);
    }
    if (t->eligibility_criteria) {
        /* As the indexer: text under a general heading counts as inclusion. */
        const char *criteria = t->eligibility_criteria;
        size_t len = strlen(criteria);
        td_criteria_section_t sections[MAX_SECTIONS];
        size_t count = td_eligibility_split(criteria, len, sections, MAX_SECTIONS);
        if (count > MAX_SECTIONS) {
            sections[MAX_SECTIONS - 1].end = len;
            count = MAX_SECTIONS;
        }
        for (size_t i = 0; i < count; i++) {
            buffer_t *column =
                &columns[sections[i].kind == TD_CRITERIA_EXCLUSION ? COL_EXCLUSION : COL_INCLUSION];
            if (sections[i].end == sections[i].start)
                continue;
            if (column->len)
                buffer_append(column, "\n", 1);
            buffer_append(column, criteria + sections[i].start,
                          sections[i].end - sections[i].start);
        }
    }
    add_text(&columns[COL_SPONSOR], t->lead_sponsor.name);
    for (size_t i = 0; i < t->collaborator_count; i++)
        add_text(&columns[COL_SPONSOR], t->collaborators[i].name);
    for (size_t i = 0; i < t->location_count; i++) {
        add_text(&columns[COL_SITE], t->locations[i].facility);
        add_text(&columns[COL_SITE], t->locations[i].city);
        add_text(&columns[COL_SITE], t->locations[i].state);
        add_text(&columns[COL_SITE], t->locations[i].country);
    }
    /* COL_BIOMARKER stays empty: FTS5 has nothing that finds biomarkers. */
}

static int compare_strings_nocase(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *) a, *(const char *const *) b);
}

/* Distinct countries, lower case, as "|china|france|" ("" when none). */
static void fill_countries(const td_trial_t *t, buffer_t *out, const char ***scratch,
                           size_t *scratch_size)
{
    buffer_clear(out);
    if (*scratch_size < t->location_count) {
        *scratch = xrealloc(*scratch, t->location_count * sizeof(**scratch));
        *scratch_size = t->location_count;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->location_count; i++)
        if (t->locations[i].country && *t->locations[i].country)
            (*scratch)[n++] = t->locations[i].country;
    qsort(*scratch, n, sizeof(**scratch), compare_strings_nocase);
    for (size_t i = 0; i < n; i++) {
        if (i && strcasecmp((*scratch)[i], (*scratch)[i - 1]) == 0)
            continue;
        buffer_append(out, "|", 1);
        add_lower(out, (*scratch)[i]);
    }
    if (out->len)
        buffer_append(out, "|", 1);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
}

static void bind_date(sqlite3_stmt *stmt, int index, const td_date_t *date)
{
    if (date->precision == TD_DATE_NONE)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_int64(stmt, index,
                           (sqlite3_int64) date->year * 10000 + date->month * 100 + date->day);
}

/* An enumeration name in lower case into `out` ("" for unset). */
static const char *lower_name(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (; name && name[n] && n + 1 < size; n++)
        out[n] = (char) tolower((unsigned char) name[n]);
    out[n] = '\0';
    return out;
}

typedef struct insert_state {
    buffer_t columns[TEXT_COLUMNS];
    buffer_t phases, countries;
    char status[48], type[48], sex[16];
    const char **scratch;
    size_t scratch_size;
} insert_state_t;

/* Fills the filter values of `t` into `s`. */
static void fill_meta(insert_state_t *s, const td_trial_t *t)
{
    char phase[32];
    buffer_clear(&s->phases);
    for (unsigned bit = 1; bit <= TD_PHASE_4; bit <<= 1)
        if (t->phases & bit)
            buffer_printf(&s->phases, "|%s",
                          lower_name(td_phase_name((td_phase_t) bit), phase, sizeof(phase)));
    if (s->phases.len)
        buffer_append(&s->phases, "|", 1);
    fill_countries(t, &s->countries, &s->scratch, &s->scratch_size);
    lower_name(td_overall_status_name(t->overall_status), s->status, sizeof(s->status));
    lower_name(td_study_type_name(t->study_type), s->type, sizeof(s->type));
    lower_name(td_sex_name(t->sex), s->sex, sizeof(s->sex));
}

/* Binds the filter values, META_COLUMNS after nct_id, from parameter `p`. */
static void bind_meta(sqlite3_stmt *stmt, int p, const insert_state_t *s, const td_trial_t *t)
{
    bind_text(stmt, p++, s->status);
    bind_text(stmt, p++, buffer_text(&s->phases));
    bind_text(stmt, p++, s->type);
    bind_text(stmt, p++, s->sex);
    bind_text(stmt, p++, buffer_text(&s->countries));
    bind_date(stmt, p++, &t->start_date);
    bind_date(stmt, p++, &t->last_update_date);
    bind_date(stmt, p++, &t->primary_completion_date);
    if (t->enrollment >= 0)
        sqlite3_bind_int64(stmt, p++, t->enrollment);
    else
        sqlite3_bind_null(stmt, p++);
    const td_age_t *ages[2] = {&t->minimum_age, &t->maximum_age};
    for (int i = 0; i < 2; i++) {
        if (ages[i]->days >= 0)
            sqlite3_bind_int64(stmt, p++, ages[i]->days);
        else
            sqlite3_bind_null(stmt, p++);
    }
    bind_text(stmt, p++,
              t->healthy_volunteers == TD_YES  ? "yes"
              : t->healthy_volunteers == TD_NO ? "no"
                                               : NULL);
    sqlite3_bind_int(stmt, p, t->has_results);
}

static int step_once(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Inserts the trial into t, and into meta when `meta` is not NULL. */
static int insert_trial(sqlite3_stmt *stmt, sqlite3_stmt *meta, insert_state_t *s,
                        const td_trial_t *t)
{
    fill_text(t, s->columns);
    fill_meta(s, t);
    /* The rowid is the NCT number, so id: needs no lookup by content. */
    sqlite3_int64 rowid = strtoll(t->nct_id + 3, NULL, 10);
    sqlite3_bind_int64(stmt, 1, rowid);
    for (int c = 0; c < TEXT_COLUMNS; c++)
        bind_text(stmt, 2 + c, buffer_text(&s->columns[c]));
    bind_text(stmt, 2 + TEXT_COLUMNS, t->nct_id);
    bind_meta(stmt, 3 + TEXT_COLUMNS, s, t);
    int rc = step_once(stmt);
    if (rc == SQLITE_OK && meta) {
        sqlite3_bind_int64(meta, 1, rowid);
        bind_meta(meta, 2, s, t);
        rc = step_once(meta);
    }
    return rc;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long) st.st_size : -1;
}

static bool exec_sql(sqlite3 *db, const char *sql)
{
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) == SQLITE_OK)
        return true;
    fprintf(stderr, "trialdex-peer-fts5: %s: %s\n", sql, error ? error : sqlite3_errmsg(db));
    sqlite3_free(error);
    return false;
}

static void build_schema_sql(buffer_t *sql)
{
    buffer_puts(sql, "CREATE VIRTUAL TABLE t USING fts5(");
    for (int c = 0; c < TEXT_COLUMNS; c++)
        buffer_printf(sql, "%s, ", COLUMNS[c].name);
    for (size_t m = 0; m < META_COUNT; m++)
        buffer_printf(sql, "%s UNINDEXED, ", META_COLUMNS[m]);
    buffer_puts(sql, "tokenize='" TOKENIZER "')");
}

static void bm25_weights(buffer_t *out)
{
    for (int c = 0; c < TEXT_COLUMNS; c++)
        buffer_printf(out, "%s%g", c ? ", " : "", COLUMNS[c].weight);
}

static int command_build(int argc, char **argv)
{
    const char *path = NULL;
    const char **sources = xrealloc(NULL, ((size_t) argc + 1) * sizeof(*sources));
    size_t count = 0;
    bool meta_table = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--meta-table") == 0)
            meta_table = true;
        else
            sources[count++] = argv[i];
    }
    if (!path || !count) {
        fputs(usage, stderr);
        free(sources);
        return 2;
    }
    /* A fresh database each run. */
    char side[4096];
    if (remove(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "trialdex-peer-fts5: cannot remove %s: %s\n", path, strerror(errno));
        free(sources);
        return 2;
    }
    snprintf(side, sizeof(side), "%s-journal", path);
    remove(side);

    double start = now_seconds();
    td_reader_t *reader = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *insert = NULL, *insert_meta = NULL;
    buffer_t sql = {0};
    int code = 3;
    if (td_reader_open(sources, count, TD_FORMAT_AUTO, NULL, NULL, &reader) != TD_OK)
        goto done;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "trialdex-peer-fts5: cannot create %s: %s\n", path, sqlite3_errmsg(db));
        goto done;
    }
    build_schema_sql(&sql);
    if (!exec_sql(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF") ||
        !exec_sql(db, buffer_text(&sql)))
        goto done;
    /* ORDER BY rank uses the same weights as bm25(t, ...) in the queries. */
    buffer_clear(&sql);
    buffer_puts(&sql, "INSERT INTO t(t, rank) VALUES('rank', 'bm25(");
    bm25_weights(&sql);
    buffer_puts(&sql, ")')");
    if (!exec_sql(db, buffer_text(&sql)) || !exec_sql(db, "BEGIN"))
        goto done;
    buffer_clear(&sql);
    buffer_puts(&sql, "INSERT OR REPLACE INTO t(rowid");
    for (int c = 0; c < TEXT_COLUMNS; c++)
        buffer_printf(&sql, ", %s", COLUMNS[c].name);
    for (size_t m = 0; m < META_COUNT; m++)
        buffer_printf(&sql, ", %s", META_COLUMNS[m]);
    buffer_puts(&sql, ") VALUES(?");
    for (size_t i = 0; i < TEXT_COLUMNS + META_COUNT; i++)
        buffer_puts(&sql, ", ?");
    buffer_puts(&sql, ")");
    if (sqlite3_prepare_v2(db, buffer_text(&sql), -1, &insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "trialdex-peer-fts5: %s\n", sqlite3_errmsg(db));
        goto done;
    }
    if (meta_table) {
        /* The filter values again, in an ordinary table (latency --filters
         * table), so that filtering needs no FTS5 content row. */
        buffer_clear(&sql);
        buffer_puts(&sql, "CREATE TABLE meta(id INTEGER PRIMARY KEY");
        for (size_t m = 1; m < META_COUNT; m++)
            buffer_printf(&sql, ", %s", META_COLUMNS[m]);
        buffer_puts(&sql, ")");
        if (!exec_sql(db, buffer_text(&sql)))
            goto done;
        buffer_clear(&sql);
        buffer_puts(&sql, "INSERT OR REPLACE INTO meta VALUES(?");
        for (size_t m = 1; m < META_COUNT; m++)
            buffer_puts(&sql, ", ?");
        buffer_puts(&sql, ")");
        if (sqlite3_prepare_v2(db, buffer_text(&sql), -1, &insert_meta, NULL) != SQLITE_OK) {
            fprintf(stderr, "trialdex-peer-fts5: %s\n", sqlite3_errmsg(db));
            goto done;
        }
    }
    insert_state_t state = {0};
    td_trial_t *trial;
    td_status_t status;
    int rc = SQLITE_OK;
    while (rc == SQLITE_OK && (status = td_reader_next(reader, &trial)) == TD_OK) {
        rc = insert_trial(insert, insert_meta, &state, trial);
        if (rc != SQLITE_OK)
            fprintf(stderr, "trialdex-peer-fts5: %s: cannot insert: %s\n", trial->nct_id,
                    sqlite3_errmsg(db));
        td_trial_free(trial);
    }
    for (int c = 0; c < TEXT_COLUMNS; c++)
        buffer_free(&state.columns[c]);
    buffer_free(&state.phases);
    buffer_free(&state.countries);
    free(state.scratch);
    if (rc != SQLITE_OK || status != TD_DONE || !exec_sql(db, "COMMIT"))
        goto done;
    double seconds = now_seconds() - start;
    long long bytes = file_size(path);

    double optimize_start = now_seconds();
    if (!exec_sql(db, "INSERT INTO t(t) VALUES('optimize')"))
        goto done;
    double optimize_seconds = now_seconds() - optimize_start;
    long long optimized_bytes = file_size(path);

    sqlite3_stmt *stmt = NULL;
    long long documents = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        documents = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    td_reader_stats_t stats = td_reader_stats(reader);
    printf("{\"bench\":\"index_peer_fts5\",\"sqlite\":\"%s\",\"tokenizer\":\"" TOKENIZER "\","
           "\"pragmas\":\"journal_mode=OFF,synchronous=OFF\",\"transactions\":1,\"meta_table\":%s,"
           "\"records\":%zu,\"documents\":%lld,\"rejected\":%zu,\"input_bytes\":%llu,"
           "\"seconds\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f,\"db_bytes\":%lld,"
           "\"bytes_per_record\":%.0f,\"optimize_s\":%.3f,\"db_bytes_optimized\":%lld,"
           "\"bytes_per_record_optimized\":%.0f,\"peak_rss_mb\":%.0f,\"db\":",
           sqlite3_libversion(), meta_table ? "true" : "false", stats.records, documents,
           stats.rejected, (unsigned long long) stats.bytes, seconds, (double) documents / seconds,
           (double) stats.bytes / 1e6 / seconds, bytes,
           documents ? (double) bytes / (double) documents : 0.0, optimize_seconds, optimized_bytes,
           documents ? (double) optimized_bytes / (double) documents : 0.0,
           (double) usage.ru_maxrss / 1024.0);
    bench_print_json_string(path);
    printf(",\"sources\":[");
    for (size_t i = 0; i < count; i++) {
        printf("%s", i ? "," : "");
        bench_print_json_string(sources[i]);
    }
    printf("]");
    print_machine();
    printf("}\n");
    code = stats.rejected || stats.failed_sources ? 1 : 0;
done:
    sqlite3_finalize(insert);
    sqlite3_finalize(insert_meta);
    sqlite3_close(db);
    td_reader_close(reader);
    buffer_free(&sql);
    free(sources);
    return code;
}

/* ---- translating trialdex queries to FTS5 ---- */

typedef enum token_kind {
    TOKEN_END,
    TOKEN_OPEN,
    TOKEN_CLOSE,
    TOKEN_WORD,
    TOKEN_PHRASE,
    TOKEN_FIELD,
    TOKEN_AND,
    TOKEN_OR,
    TOKEN_NOT,
    TOKEN_MINUS,
    TOKEN_NEAR
} token_kind_t;

typedef struct token {
    token_kind_t kind;
    size_t start, end;     /* the whole token in the query */
    size_t text, text_len; /* a word's or phrase's text, a field's name */
    bool prefix;           /* word* */
    int window;            /* NEAR/n */
} token_t;

typedef enum node_kind {
    NODE_TERM,
    NODE_PHRASE,
    NODE_NEAR,
    NODE_AND,
    NODE_OR,
    NODE_NOT,
    NODE_FILTER
} node_kind_t;

typedef struct node {
    node_kind_t kind;
    char *text;            /* a term's or phrase's text; a filter's SQL */
    bool prefix;           /* a term with a trailing * */
    unsigned mask;         /* the columns a term or phrase searches; 0 for the default */
    int window;            /* NEAR */
    int first, last, next; /* children and siblings, as node indexes; -1 for none */
} node_t;

#define MAX_NODES 512
#define MAX_DEPTH 32
/* Queries of more words than this go straight to partial matching, as in
 * trialdex (searcher/search.c). */
#define DESCRIPTION_WORDS 16

typedef struct translator {
    const char *q;
    size_t len, at;
    token_t token, previous;
    bool have_token;
    node_t nodes[MAX_NODES];
    int node_count;
    int depth;
    bool failed;
    char why[200];
} translator_t;

static void fail(translator_t *tr, const char *fmt, ...)
{
    if (tr->failed)
        return;
    tr->failed = true;
    va_list args;
    va_start(args, fmt);
    vsnprintf(tr->why, sizeof(tr->why), fmt, args);
    va_end(args);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ends_word(char c)
{
    return !c || is_space(c) || c == '(' || c == ')' || c == '"';
}

/* A gene-like word (HER2, ER, EGFR): 2-6 ASCII capitals and digits, with a
 * capital first; " -low" after it is a level, not an exclusion. */
static bool is_gene_like(const char *text, size_t len)
{
    if (len < 2 || len > 6 || !isupper((unsigned char) text[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isupper((unsigned char) text[i]) && !isdigit((unsigned char) text[i]))
            return false;
    return true;
}

static bool lex(translator_t *tr, token_t *t)
{
    const char *q = tr->q;
    while (tr->at < tr->len && is_space(q[tr->at]))
        tr->at++;
    size_t start = tr->at;
    *t = (token_t){.start = start, .end = start};
    if (start >= tr->len) {
        t->kind = TOKEN_END;
        return true;
    }
    char c = q[start];
    if (c == '(' || c == ')') {
        t->kind = c == '(' ? TOKEN_OPEN : TOKEN_CLOSE;
        t->end = tr->at = start + 1;
        return true;
    }
    bool exact = false;
    if (c == '=' && start + 1 < tr->len && !is_space(q[start + 1])) {
        exact = true; /* FTS5 cannot turn stemming off for one word */
        c = q[++start];
    }
    if (c == '"') {
        const char *close = memchr(q + start + 1, '"', tr->len - start - 1);
        if (!close) {
            fail(tr, "unterminated quote at character %zu", start + 1);
            return false;
        }
        t->kind = TOKEN_PHRASE;
        t->text = start + 1;
        t->text_len = (size_t) (close - q) - t->text;
        t->end = tr->at = (size_t) (close - q) + 1;
        return true;
    }
    bool space_before = start == 0 || is_space(q[start - 1]);
    if (c == '-' && !exact && space_before && start + 1 < tr->len && !ends_word(q[start + 1]) &&
        q[start + 1] != '-') {
        bool glued = tr->previous.kind == TOKEN_WORD && !tr->previous.prefix &&
                     tr->previous.end + 1 == start &&
                     is_gene_like(q + tr->previous.text, tr->previous.text_len);
        if (!glued) {
            t->kind = TOKEN_MINUS;
            t->end = tr->at = start + 1;
            return true;
        }
        start++; /* "HER2 -low": the word "low" */
    }
    if (c == '+' && !exact && start + 1 < tr->len && !ends_word(q[start + 1]))
        start++; /* +word: required, as every word is */
    size_t end = start;
    while (end < tr->len && !ends_word(q[end]))
        end++;
    t->end = tr->at = end;
    size_t colon = start;
    while (colon < end && (isalpha((unsigned char) q[colon]) || (colon > start && q[colon] == '-')))
        colon++;
    if (!exact && colon > start && colon < end && q[colon] == ':') {
        t->kind = TOKEN_FIELD;
        t->text = start;
        t->text_len = colon - start;
        t->end = tr->at = colon + 1;
        return true;
    }
    t->kind = TOKEN_WORD;
    t->text = start;
    t->text_len = end - start;
    if (!exact) {
        static const struct {
            const char *word;
            token_kind_t kind;
        } operators[] = {{"AND", TOKEN_AND}, {"OR", TOKEN_OR}, {"NOT", TOKEN_NOT}};
        for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
            if (t->text_len == strlen(operators[i].word) &&
                memcmp(q + start, operators[i].word, t->text_len) == 0)
                t->kind = operators[i].kind;
        if (t->text_len >= 4 && memcmp(q + start, "NEAR", 4) == 0) {
            char *stop;
            if (t->text_len == 4) {
                t->kind = TOKEN_NEAR;
                t->window = 10;
            } else if (q[start + 4] == '/') {
                long window = strtol(q + start + 5, &stop, 10);
                if (stop != q + end || window < 1 || window > 1000) {
                    fail(tr, "bad NEAR window at character %zu", start + 1);
                    return false;
                }
                t->kind = TOKEN_NEAR;
                t->window = (int) window;
            }
        }
    }
    if (t->kind == TOKEN_WORD && q[end - 1] == '*') {
        if (t->text_len < 3 || memchr(q + start, '*', t->text_len - 1)) {
            fail(tr, "bad wildcard at character %zu", start + 1);
            return false;
        }
        t->prefix = true;
        t->text_len--;
    }
    return true;
}

static token_t *peek(translator_t *tr)
{
    if (!tr->have_token) {
        if (!lex(tr, &tr->token))
            tr->token = (token_t){.kind = TOKEN_END, .start = tr->len, .end = tr->len};
        tr->have_token = true;
    }
    return &tr->token;
}

static void advance(translator_t *tr)
{
    tr->previous = tr->token;
    tr->have_token = false;
}

static int new_node(translator_t *tr, node_kind_t kind)
{
    if (tr->node_count == MAX_NODES) {
        fail(tr, "query too long");
        return -1;
    }
    int index = tr->node_count++;
    tr->nodes[index] = (node_t){.kind = kind, .first = -1, .last = -1, .next = -1};
    return index;
}

static void add_child(translator_t *tr, int parent, int child)
{
    node_t *p = &tr->nodes[parent];
    if (p->last < 0)
        p->first = child;
    else
        tr->nodes[p->last].next = child;
    p->last = child;
}

static char *copy_text(const translator_t *tr, size_t start, size_t len)
{
    char *text = xrealloc(NULL, len + 1);
    memcpy(text, tr->q + start, len);
    text[len] = '\0';
    return text;
}

static int text_node(translator_t *tr, const token_t *t)
{
    int index = new_node(tr, t->kind == TOKEN_PHRASE ? NODE_PHRASE : NODE_TERM);
    if (index >= 0) {
        tr->nodes[index].text = copy_text(tr, t->text, t->text_len);
        tr->nodes[index].prefix = t->prefix;
    }
    return index;
}

/* ---- filters: SQL over the UNINDEXED columns ---- */

/* Splits a comma list in place into lower-case items, '-' and ' ' made '_'
 * with `underscores`; returns the count. */
static size_t split_list(char *value, char **items, size_t max, bool underscores)
{
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r(value, ",", &save); item && n < max;
         item = strtok_r(NULL, ",", &save)) {
        while (is_space(*item))
            item++;
        size_t len = strlen(item);
        while (len && is_space(item[len - 1]))
            item[--len] = '\0';
        for (char *c = item; *c; c++) {
            *c = (char) tolower((unsigned char) *c);
            if (underscores && (*c == '-' || *c == ' '))
                *c = '_';
        }
        if (*item)
            items[n++] = item;
    }
    return n;
}

/* Appends 'text' as an SQL string literal. */
static void sql_string(buffer_t *sql, const char *text)
{
    char *quoted = sqlite3_mprintf("%Q", text);
    if (!quoted) {
        fputs("trialdex-peer-fts5: out of memory\n", stderr);
        exit(3);
    }
    buffer_puts(sql, quoted);
    sqlite3_free(quoted);
}

static bool filter_status(translator_t *tr, char *value, buffer_t *sql)
{
    static const char *const names[][2] = {
        {"recruiting", "recruiting"},
        {"rec", "recruiting"},
        {"not_yet_recruiting", "not_yet_recruiting"},
        {"not", "not_yet_recruiting"},
        {"nyr", "not_yet_recruiting"},
        {"active_not_recruiting", "active_not_recruiting"},
        {"active", "active_not_recruiting"},
        {"act", "active_not_recruiting"},
        {"enrolling_by_invitation", "enrolling_by_invitation"},
        {"enr", "enrolling_by_invitation"},
        {"completed", "completed"},
        {"com", "completed"},
        {"terminated", "terminated"},
        {"ter", "terminated"},
        {"suspended", "suspended"},
        {"sus", "suspended"},
        {"withdrawn", "withdrawn"},
        {"wit", "withdrawn"},
        {"unknown", "unknown"},
        {"unk", "unknown"},
        {"available", "available"},
        {"no_longer_available", "no_longer_available"},
        {"temporarily_not_available", "temporarily_not_available"},
        {"approved_for_marketing", "approved_for_marketing"},
        {"withheld", "withheld"},
    };
    char *items[16];
    size_t n = split_list(value, items, 16, true);
    if (!n) {
        fail(tr, "status: without a value");
        return false;
    }
    buffer_puts(sql, "status IN (");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(items[i], "open") == 0) {
            buffer_puts(sql, "'recruiting', 'not_yet_recruiting', 'enrolling_by_invitation', "
                             "'available'");
        } else {
            const char *found = NULL;
            for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !found; k++)
                if (strcmp(items[i], names[k][0]) == 0)
                    found = names[k][1];
            if (!found) {
                fail(tr, "unknown status '%s'", items[i]);
                return false;
            }
            sql_string(sql, found);
        }
        buffer_puts(sql, i + 1 < n ? ", " : ")");
    }
    return true;
}

static int phase_index(const char *text)
{
    static const char *const names[][3] = {
        {"0", "early", "early_phase1"}, {"1", "phase1", "i"},  {"2", "phase2", "ii"},
        {"3", "phase3", "iii"},         {"4", "phase4", "iv"},
    };
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++)
            if (strcmp(text, names[i][k]) == 0)
                return i;
    return -1;
}

/* phase:2, phase:2-3 (any of 2 to 3), phase:2/3 (both), phase:1,3, phase:na;
 * phases are stored as "|phase2|phase3|". */
static bool filter_phase(translator_t *tr, char *value, buffer_t *sql)
{
    static const char *const values[] = {"early_phase1", "phase1", "phase2", "phase3", "phase4"};
    char *items[8];
    size_t n = split_list(value, items, 8, false);
    if (!n) {
        fail(tr, "phase: without a value");
        return false;
    }
    buffer_puts(sql, "(");
    for (size_t i = 0; i < n; i++) {
        char *item = items[i];
        if (i)
            buffer_puts(sql, " OR ");
        if (strcmp(item, "na") == 0 || strcmp(item, "n/a") == 0) {
            buffer_puts(sql, "instr(phases, '|na|') > 0");
            continue;
        }
        char *split = strpbrk(item, "-/");
        bool all = split && *split == '/';
        if (split)
            *split = '\0';
        int low = phase_index(item), high = split ? phase_index(split + 1) : low;
        if (low < 0 || high < low) {
            fail(tr, "bad phase '%s'", item);
            return false;
        }
        buffer_puts(sql, "(");
        for (int k = low; k <= high; k++)
            buffer_printf(sql, "%sinstr(phases, '|%s|') > 0",
                          k > low ? (all ? " AND " : " OR ") : "", values[k]);
        buffer_puts(sql, ")");
    }
    buffer_puts(sql, ")");
    return true;
}

/* A choice among fixed values, each naming up to two stored values. */
static bool filter_choice(translator_t *tr, const char *column, const char *const (*choices)[3],
                          size_t count, char *value, buffer_t *sql)
{
    char *items[8];
    size_t n = split_list(value, items, 8, true);
    if (!n) {
        fail(tr, "%s: without a value", column);
        return false;
    }
    buffer_printf(sql, "%s IN (", column);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < count && strcmp(items[i], choices[k][0]) != 0)
            k++;
        if (k == count) {
            fail(tr, "unknown %s '%s'", column, items[i]);
            return false;
        }
        sql_string(sql, choices[k][1]);
        if (choices[k][2]) {
            buffer_puts(sql, ", ");
            sql_string(sql, choices[k][2]);
        }
        buffer_puts(sql, i + 1 < n ? ", " : ")");
    }
    return true;
}

static const char *const TYPES[][3] = {
    {"interventional", "interventional", NULL},
    {"int", "interventional", NULL},
    {"observational", "observational", NULL},
    {"obs", "observational", NULL},
    {"expanded_access", "expanded_access", NULL},
    {"expanded", "expanded_access", NULL},
    {"ea", "expanded_access", NULL},
};
/* A trial for all sexes admits a woman too. */
static const char *const SEXES[][3] = {
    {"female", "female", "all"}, {"f", "female", "all"}, {"women", "female", "all"},
    {"male", "male", "all"},     {"m", "male", "all"},   {"men", "male", "all"},
    {"all", "all", NULL},
};
static const char *const YES_NO[][3] = {
    {"yes", "yes", NULL}, {"y", "yes", NULL}, {"no", "no", NULL}, {"n", "no", NULL}};

static bool filter_country(translator_t *tr, char *value, buffer_t *sql)
{
    static const char *const aliases[][2] = {
        {"us", "united states"},
        {"usa", "united states"},
        {"u.s.", "united states"},
        {"america", "united states"},
        {"uk", "united kingdom"},
        {"britain", "united kingdom"},
        {"england", "united kingdom"},
        {"korea", "korea, republic of"},
        {"south korea", "korea, republic of"},
        {"russia", "russian federation"},
        {"iran", "iran, islamic republic of"},
    };
    char *items[16];
    size_t n = split_list(value, items, 16, false);
    if (!n) {
        fail(tr, "country: without a value");
        return false;
    }
    buffer_puts(sql, "(");
    for (size_t i = 0; i < n; i++) {
        const char *country = items[i];
        for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++)
            if (strcmp(country, aliases[k][0]) == 0)
                country = aliases[k][1];
        char *needle = sqlite3_mprintf("|%s|", country);
        if (!needle) {
            fputs("trialdex-peer-fts5: out of memory\n", stderr);
            exit(3);
        }
        buffer_printf(sql, "%sinstr(countries, ", i ? " OR " : "");
        sql_string(sql, needle);
        buffer_puts(sql, ") > 0");
        sqlite3_free(needle);
    }
    buffer_puts(sql, ")");
    return true;
}

/* age:45, age:18mo, age:3w, age:10d: the trial's limits admit that age. */
static bool filter_age(translator_t *tr, const char *value, buffer_t *sql)
{
    static const struct {
        const char *unit;
        double days;
    } units[] = {{"", 365.25},    {"y", 365.25},      {"yr", 365.25},
                 {"yrs", 365.25}, {"year", 365.25},   {"years", 365.25},
                 {"mo", 30.4375}, {"month", 30.4375}, {"months", 30.4375},
                 {"w", 7},        {"week", 7},        {"weeks", 7},
                 {"d", 1},        {"day", 1},         {"days", 1}};
    char *end;
    double number = strtod(value, &end);
    if (end == value || number < 0 || number > 200) {
        fail(tr, "bad age '%s'", value);
        return false;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].unit) == 0) {
            long long days = (long long) (number * units[i].days + 1e-9);
            buffer_printf(sql,
                          "(min_age_days IS NULL OR min_age_days <= %lld) AND "
                          "(max_age_days IS NULL OR max_age_days >= %lld)",
                          days, days);
            return true;
        }
    fail(tr, "bad age unit in '%s'", value);
    return false;
}

/* "2020", "2020-05", "2020-05-17" as YYYYMMDD: the first day it covers, or
 * with `high` past the last (month and day 99, as trialdex). */
static bool date_bound(const char *text, size_t len, bool high, long long *out)
{
    char copy[16];
    if (!len || len >= sizeof(copy))
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    int year = 0, month = 0, day = 0, used = 0;
    int fields = sscanf(copy, "%4d-%2d-%2d%n", &year, &month, &day, &used);
    if (fields < 3) {
        used = 0;
        fields = sscanf(copy, "%4d-%2d%n", &year, &month, &used);
        if (fields < 2) {
            used = 0;
            fields = sscanf(copy, "%4d%n", &year, &used);
        }
    }
    if (fields < 1 || (size_t) used != len || year < 1800 || year > 2200 || month < 0 ||
        month > 12 || day < 0 || day > 31)
        return false;
    if (fields < 2)
        month = high ? 99 : 0;
    if (fields < 3)
        day = high ? 99 : 0;
    *out = (long long) year * 10000 + month * 100 + day;
    return true;
}

static bool number_bound(const char *text, size_t len, bool high, long long *out)
{
    (void) high;
    char copy[32], *end;
    if (!len || len >= sizeof(copy))
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    double value = strtod(copy, &end);
    if (end == copy || *end || value < 0 || value > 1e15)
        return false;
    *out = (long long) value;
    return true;
}

/* a..b, a.., ..b or a, over an integer column. */
static bool filter_range(translator_t *tr, const char *name, const char *column, const char *value,
                         bool (*bound)(const char *, size_t, bool, long long *), buffer_t *sql)
{
    const char *dots = strstr(value, "..");
    const char *low = value, *high = value;
    size_t low_len = strlen(value), high_len = low_len;
    if (dots) {
        low_len = (size_t) (dots - value);
        high = dots + 2;
        high_len = strlen(high);
    }
    long long bounds[2] = {0, 0};
    if ((!low_len && !high_len) || (low_len && !bound(low, low_len, false, &bounds[0])) ||
        (high_len && !bound(high, high_len, true, &bounds[1]))) {
        fail(tr, "bad range '%s' for %s:", value, name);
        return false;
    }
    if (low_len && high_len)
        buffer_printf(sql, "%s BETWEEN %lld AND %lld", column, bounds[0], bounds[1]);
    else if (low_len)
        buffer_printf(sql, "%s >= %lld", column, bounds[0]);
    else
        buffer_printf(sql, "%s <= %lld", column, bounds[1]);
    return true;
}

static bool translate_filter(translator_t *tr, const char *name, char *value, buffer_t *sql)
{
    if (strcmp(name, "status") == 0)
        return filter_status(tr, value, sql);
    if (strcmp(name, "phase") == 0)
        return filter_phase(tr, value, sql);
    if (strcmp(name, "type") == 0)
        return filter_choice(tr, "study_type", TYPES, sizeof(TYPES) / sizeof(TYPES[0]), value, sql);
    if (strcmp(name, "sex") == 0)
        return filter_choice(tr, "sex", SEXES, sizeof(SEXES) / sizeof(SEXES[0]), value, sql);
    if (strcmp(name, "healthy") == 0)
        return filter_choice(tr, "healthy", YES_NO, 4, value, sql);
    if (strcmp(name, "results") == 0) {
        char *items[2];
        size_t n = split_list(value, items, 2, false);
        if (n != 1 || (strcmp(items[0], "yes") && strcmp(items[0], "y") && strcmp(items[0], "no") &&
                       strcmp(items[0], "n"))) {
            fail(tr, "results: takes yes or no");
            return false;
        }
        buffer_printf(sql, "results = %d", items[0][0] == 'y');
        return true;
    }
    if (strcmp(name, "country") == 0)
        return filter_country(tr, value, sql);
    if (strcmp(name, "age") == 0)
        return filter_age(tr, value, sql);
    if (strcmp(name, "start") == 0)
        return filter_range(tr, name, "start_date", value, date_bound, sql);
    if (strcmp(name, "updated") == 0)
        return filter_range(tr, name, "updated_date", value, date_bound, sql);
    if (strcmp(name, "completion") == 0)
        return filter_range(tr, name, "completion_date", value, date_bound, sql);
    if (strcmp(name, "enrollment") == 0)
        return filter_range(tr, name, "enrollment", value, number_bound, sql);
    fail(tr, "unknown filter '%s:'", name);
    return false;
}

/* ---- the parser: the grammar of trialdex's query language ---- */

static int parse_or(translator_t *tr);

static bool is_filter(const char *name)
{
    static const char *const filters[] = {"status",  "phase",   "type",       "sex",
                                          "results", "healthy", "country",    "age",
                                          "start",   "updated", "completion", "enrollment"};
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        if (strcmp(name, filters[i]) == 0)
            return true;
    return false;
}

/* The column mask of a scope, 0 when the name is no scope. biomarker:
 * searches the default columns: trialdex finds biomarkers anywhere in the
 * record, and the peer has no biomarker column to fill. */
static unsigned scope_mask(const char *name)
{
    static const struct {
        const char *name;
        int column;
    } scopes[] = {
        {"title", COL_TITLE},
        {"cond", COL_CONDITION},
        {"condition", COL_CONDITION},
        {"drug", COL_INTERVENTION},
        {"intervention", COL_INTERVENTION},
        {"outcome", COL_OUTCOME},
        {"sponsor", COL_SPONSOR},
        {"site", COL_SITE},
        {"inc", COL_INCLUSION},
        {"exc", COL_EXCLUSION},
        {"keyword", COL_KEYWORD},
        {"summary", COL_SUMMARY},
        {"arm", COL_ARM},
    };
    if (strcmp(name, "biomarker") == 0)
        return default_mask(false);
    for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
        if (strcmp(name, scopes[i].name) == 0)
            return 1u << scopes[i].column;
    return 0;
}

static void set_mask(translator_t *tr, int index, unsigned mask)
{
    node_t *node = &tr->nodes[index];
    if ((node->kind == NODE_TERM || node->kind == NODE_PHRASE) && !node->mask)
        node->mask = mask;
    for (int child = node->first; child >= 0; child = tr->nodes[child].next)
        set_mask(tr, child, mask);
}

static int parse_field(translator_t *tr)
{
    token_t field = *peek(tr);
    advance(tr);
    char name[32];
    if (field.text_len >= sizeof(name)) {
        fail(tr, "unknown field at character %zu", field.start + 1);
        return -1;
    }
    for (size_t i = 0; i < field.text_len; i++)
        name[i] = (char) tolower((unsigned char) tr->q[field.text + i]);
    name[field.text_len] = '\0';
    if (strcmp(name, "near") == 0 || strcmp(name, "recruiting-near") == 0 ||
        strcmp(name, "within") == 0) {
        fail(tr, "%s: needs geographic search, which FTS5 does not have", name);
        return -1;
    }
    token_t *value = peek(tr);
    if (tr->failed)
        return -1;
    if (value->start != field.end) {
        fail(tr, "%s: without a value", name);
        return -1;
    }
    if (is_filter(name) || strcmp(name, "id") == 0) {
        if (value->kind != TOKEN_WORD && value->kind != TOKEN_PHRASE) {
            fail(tr, "%s: without a value", name);
            return -1;
        }
        /* The value as written (a word's trailing * included). */
        char *text =
            copy_text(tr, value->text,
                      value->kind == TOKEN_PHRASE ? value->text_len : value->end - value->text);
        advance(tr);
        buffer_t sql = {0};
        bool ok;
        if (strcmp(name, "id") == 0) {
            char *end;
            long long number = strtoll(text + 3, &end, 10);
            ok = strncasecmp(text, "NCT", 3) == 0 && strlen(text) == 11 && !*end;
            if (ok)
                buffer_printf(&sql, "rowid = %lld", number);
            else
                fail(tr, "id:%s is not an NCT ID (the peer keeps no other IDs)", text);
        } else {
            ok = translate_filter(tr, name, text, &sql);
        }
        free(text);
        int index = ok ? new_node(tr, NODE_FILTER) : -1;
        if (index >= 0)
            tr->nodes[index].text = xstrdup(buffer_text(&sql));
        buffer_free(&sql);
        return index;
    }
    unsigned mask = scope_mask(name);
    if (!mask) {
        fail(tr, "unknown field '%s:'", name);
        return -1;
    }
    int index;
    if (value->kind == TOKEN_OPEN) {
        advance(tr);
        if (++tr->depth > MAX_DEPTH) {
            fail(tr, "too deeply nested");
            return -1;
        }
        index = parse_or(tr);
        tr->depth--;
        if (index < 0)
            return -1;
        if (peek(tr)->kind != TOKEN_CLOSE) {
            fail(tr, "missing ) after %s:(", name);
            return -1;
        }
        advance(tr);
    } else if (value->kind == TOKEN_WORD || value->kind == TOKEN_PHRASE) {
        index = text_node(tr, value);
        advance(tr);
    } else {
        fail(tr, "%s: without a value", name);
        return -1;
    }
    if (index >= 0)
        set_mask(tr, index, mask);
    return index;
}

static int parse_primary(translator_t *tr)
{
    token_t *t = peek(tr);
    if (tr->failed)
        return -1;
    switch (t->kind) {
    case TOKEN_OPEN: {
        advance(tr);
        if (++tr->depth > MAX_DEPTH) {
            fail(tr, "too deeply nested");
            return -1;
        }
        int index = parse_or(tr);
        tr->depth--;
        if (index < 0)
            return -1;
        if (peek(tr)->kind != TOKEN_CLOSE) {
            fail(tr, "unmatched (");
            return -1;
        }
        advance(tr);
        return index;
    }
    case TOKEN_FIELD:
        return parse_field(tr);
    case TOKEN_WORD:
    case TOKEN_PHRASE: {
        int index = text_node(tr, t);
        advance(tr);
        return index;
    }
    default:
        fail(tr, "a word expected at character %zu", t->start + 1);
        return -1;
    }
}

static int parse_near(translator_t *tr)
{
    int left = parse_primary(tr);
    if (left < 0 || peek(tr)->kind != TOKEN_NEAR)
        return left;
    int near = new_node(tr, NODE_NEAR);
    if (near < 0)
        return -1;
    add_child(tr, near, left);
    while (!tr->failed && peek(tr)->kind == TOKEN_NEAR) {
        if (peek(tr)->window > tr->nodes[near].window)
            tr->nodes[near].window = peek(tr)->window;
        advance(tr);
        int right = parse_primary(tr);
        if (right < 0)
            return -1;
        add_child(tr, near, right);
    }
    for (int child = tr->nodes[near].first; child >= 0; child = tr->nodes[child].next) {
        const node_t *c = &tr->nodes[child];
        if ((c->kind != NODE_TERM && c->kind != NODE_PHRASE) || c->prefix) {
            fail(tr, "NEAR joins words or phrases");
            return -1;
        }
    }
    return tr->failed ? -1 : near;
}

static int parse_unary(translator_t *tr)
{
    token_t *t = peek(tr);
    if (tr->failed)
        return -1;
    if (t->kind == TOKEN_NOT || t->kind == TOKEN_MINUS) {
        advance(tr);
        if (++tr->depth > MAX_DEPTH) {
            fail(tr, "too deeply nested");
            return -1;
        }
        int child = parse_unary(tr);
        tr->depth--;
        if (child < 0)
            return -1;
        int index = new_node(tr, NODE_NOT);
        if (index >= 0)
            add_child(tr, index, child);
        return index;
    }
    return parse_near(tr);
}

static bool starts_unary(token_kind_t kind)
{
    return kind == TOKEN_OPEN || kind == TOKEN_FIELD || kind == TOKEN_PHRASE ||
           kind == TOKEN_WORD || kind == TOKEN_NOT || kind == TOKEN_MINUS;
}

static int parse_and(translator_t *tr)
{
    int and = new_node(tr, NODE_AND);
    if (and < 0)
        return -1;
    int count = 0;
    while (!tr->failed) {
        token_t *t = peek(tr);
        if (tr->failed)
            break;
        if (t->kind == TOKEN_AND && count) {
            advance(tr);
            if (!starts_unary(peek(tr)->kind))
                fail(tr, "AND without a word after it");
            continue;
        }
        if (!starts_unary(t->kind))
            break;
        int child = parse_unary(tr);
        if (child < 0)
            return -1;
        add_child(tr, and, child);
        count++;
    }
    if (tr->failed)
        return -1;
    if (!count) {
        fail(tr, "a word expected at character %zu", peek(tr)->start + 1);
        return -1;
    }
    return count == 1 ? tr->nodes[and].first : and;
}

static int parse_or(translator_t *tr)
{
    int first = parse_and(tr);
    if (first < 0 || peek(tr)->kind != TOKEN_OR)
        return first;
    int or = new_node(tr, NODE_OR);
    if (or < 0)
        return -1;
    add_child(tr, or, first);
    while (!tr->failed && peek(tr)->kind == TOKEN_OR) {
        advance(tr);
        int next = parse_and(tr);
        if (next < 0)
            return -1;
        add_child(tr, or, next);
    }
    return tr->failed ? -1 : or ;
}

/* ---- emitting FTS5 ---- */

typedef struct emitter {
    translator_t *tr;
    buffer_t *where; /* SQL conditions, ANDed */
    bool partial;    /* the partial fallback: positive parts ORed */
    int words;       /* unquoted words emitted */
} emitter_t;

/* Whether unicode61 will find a token in `text`: an ASCII letter or digit,
 * or a character past U+00BF outside the punctuation and symbol blocks
 * (U+2000-U+2BFF, U+3000-U+303F). An FTS5 string without tokens makes an
 * AND match nothing, so such words are left out. */
static bool has_token(const char *text)
{
    const unsigned char *s = (const unsigned char *) text;
    for (size_t i = 0; s[i]; i++) {
        if (isalnum(s[i]))
            return true;
        if (s[i] >= 0xc3 && s[i] < 0xe2)
            return true; /* U+00C0 .. U+1FFF */
        if (s[i] == 0xe3 && s[i + 1] && (s[i + 1] != 0x80))
            return true; /* U+3040 .. U+3FFF */
        if (s[i] > 0xe3 && s[i] != 0xef)
            return true; /* U+4000 and on, but the specials at U+FFxx */
    }
    return false;
}

static void fts5_string(buffer_t *out, const char *text)
{
    buffer_append(out, "\"", 1);
    for (const char *c = text; *c; c++)
        buffer_append(out, *c == '"' ? "\"\"" : c, *c == '"' ? 2 : 1); /* a quote doubled */
    buffer_append(out, "\"", 1);
}

static void column_set(const emitter_t *e, buffer_t *out, unsigned mask)
{
    if (!mask)
        mask = default_mask(e->partial);
    buffer_puts(out, "{");
    bool first = true;
    for (int c = 0; c < TEXT_COLUMNS; c++)
        if (mask & (1u << c)) {
            buffer_printf(out, "%s%s", first ? "" : " ", COLUMNS[c].name);
            first = false;
        }
    buffer_puts(out, "} : ");
}

/* Emits the node into `out`: 1 when it wrote an expression, 0 when the node
 * gave none (no tokens, or a filter moved to SQL), -1 when it cannot be
 * translated (the translator says why). Filters are allowed at the top
 * level and in ANDs reached from it only. */
static int emit(emitter_t *e, int index, buffer_t *out, bool top)
{
    translator_t *tr = e->tr;
    const node_t *node = &tr->nodes[index];
    switch (node->kind) {
    case NODE_TERM:
    case NODE_PHRASE:
        if (!has_token(node->text))
            return 0;
        column_set(e, out, node->mask);
        fts5_string(out, node->text);
        if (node->prefix)
            buffer_puts(out, " *");
        e->words += node->kind == NODE_TERM;
        return 1;
    case NODE_NEAR: {
        buffer_t phrases = {0};
        int count = 0;
        for (int child = node->first; child >= 0; child = tr->nodes[child].next)
            if (has_token(tr->nodes[child].text)) {
                if (count++)
                    buffer_puts(&phrases, " ");
                fts5_string(&phrases, tr->nodes[child].text);
                e->words += tr->nodes[child].kind == NODE_TERM;
            }
        if (count) {
            column_set(e, out, tr->nodes[node->first].mask);
            if (count > 1)
                buffer_printf(out, "NEAR(%s, %d)", buffer_text(&phrases), node->window);
            else
                buffer_puts(out, buffer_text(&phrases));
        }
        buffer_free(&phrases);
        return count ? 1 : 0;
    }
    case NODE_FILTER:
        if (!top) {
            fail(tr, "a filter under OR or NOT");
            return -1;
        }
        if (e->where->len)
            buffer_puts(e->where, " AND ");
        buffer_puts(e->where, node->text);
        return 0;
    case NODE_NOT:
        fail(tr, "NOT with nothing to subtract from (FTS5's NOT is binary)");
        return -1;
    case NODE_OR: {
        buffer_t part = {0};
        int count = 0;
        for (int child = node->first; child >= 0; child = tr->nodes[child].next) {
            buffer_clear(&part);
            int r = emit(e, child, &part, false);
            if (r < 0) {
                buffer_free(&part);
                return -1;
            }
            if (r)
                buffer_printf(out, "%s%s", count++ ? " OR " : "(", buffer_text(&part));
        }
        if (count)
            buffer_puts(out, ")");
        buffer_free(&part);
        return count ? 1 : 0;
    }
    case NODE_AND: {
        buffer_t positive = {0}, negative = {0}, part = {0};
        int positives = 0, negatives = 0, result = 0;
        for (int child = node->first; child >= 0 && result >= 0; child = tr->nodes[child].next) {
            const node_t *c = &tr->nodes[child];
            buffer_clear(&part);
            bool is_not = c->kind == NODE_NOT;
            int r = emit(e, is_not ? c->first : child, &part, top && !is_not);
            if (r < 0)
                result = -1;
            else if (r && is_not) {
                buffer_printf(&negative, " NOT %s", buffer_text(&part));
                negatives++;
            } else if (r) {
                buffer_printf(&positive, "%s%s", positives++ ? (e->partial ? " OR " : " AND ") : "",
                              buffer_text(&part));
            }
        }
        if (result == 0 && !positives && negatives) {
            fail(tr, "only exclusions (FTS5's NOT is binary)");
            result = -1;
        }
        if (result == 0 && positives) {
            buffer_printf(out, "(%s%s%s%s)", negatives ? "(" : "", buffer_text(&positive),
                          negatives ? ")" : "", buffer_text(&negative));
            result = 1;
        }
        buffer_free(&positive);
        buffer_free(&negative);
        buffer_free(&part);
        return result;
    }
    }
    return -1;
}

typedef struct translation {
    buffer_t match; /* the FTS5 expression; empty when only filters */
    buffer_t where; /* SQL conditions; empty when none */
    int words;
    bool partial;
    char why[200]; /* why it could not be translated */
} translation_t;

static void translation_free(translation_t *t)
{
    buffer_free(&t->match);
    buffer_free(&t->where);
}

/* Translates `query`; false (with t->why) when it cannot be. */
static bool translate(const char *query, bool partial, translation_t *t)
{
    translator_t *tr = calloc(1, sizeof(*tr));
    if (!tr) {
        fputs("trialdex-peer-fts5: out of memory\n", stderr);
        exit(3);
    }
    tr->q = query;
    tr->len = strlen(query);
    buffer_clear(&t->match);
    buffer_clear(&t->where);
    t->why[0] = '\0';
    t->partial = partial;
    int root = parse_or(tr);
    if (root >= 0 && !tr->failed && peek(tr)->kind != TOKEN_END)
        fail(tr, "unexpected '%.*s' at character %zu", (int) (peek(tr)->end - peek(tr)->start),
             query + peek(tr)->start, peek(tr)->start + 1);
    emitter_t e = {.tr = tr, .where = &t->where, .partial = partial};
    if (root >= 0 && !tr->failed && emit(&e, root, &t->match, true) >= 0 && !t->match.len &&
        !t->where.len)
        fail(tr, "no word that FTS5 can search");
    t->words = e.words;
    bool ok = !tr->failed;
    if (!ok)
        snprintf(t->why, sizeof(t->why), "%s", tr->why);
    for (int i = 0; i < tr->node_count; i++)
        free(tr->nodes[i].text);
    free(tr);
    return ok;
}

/* ---- searching ---- */

typedef struct searcher {
    sqlite3 *db;
    char weights[256]; /* "1, 0.95, ..." */
    bool one_pass;     /* --plan one-pass */
    bool meta_table;   /* --filters table */
} searcher_t;

#define TOP 10

typedef struct search_result {
    long long total;
    int hits;
    bool partial;
    char ids[TOP][TD_NCT_ID_LEN + 1]; /* the hits' NCT IDs */
} search_result_t;

/* Steps `stmt` to its end, calling row(stmt, user) for each row. */
static int step_all(sqlite3_stmt *stmt, void (*row)(sqlite3_stmt *, void *), void *user)
{
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        row(stmt, user);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void take_id(sqlite3_stmt *stmt, void *user)
{
    search_result_t *out = user;
    const unsigned char *id = sqlite3_column_text(stmt, 0);
    if (out->hits < TOP)
        snprintf(out->ids[out->hits++], sizeof(out->ids[0]), "%s", id ? (const char *) id : "");
}

static void take_count(sqlite3_stmt *stmt, void *user)
{
    *(long long *) user = sqlite3_column_int64(stmt, 0);
}

typedef struct top_rows {
    long long count;
    int kept;
    sqlite3_int64 rowid[TOP];
    double score[TOP]; /* bm25(): lower is better */
} top_rows_t;

/* Keeps the best TOP rows by score (ties: the earlier row) and counts all. */
static void take_scored(sqlite3_stmt *stmt, void *user)
{
    top_rows_t *top = user;
    double score = sqlite3_column_double(stmt, 1);
    top->count++;
    if (top->kept == TOP && score >= top->score[TOP - 1])
        return;
    int at = top->kept < TOP ? top->kept++ : TOP - 1;
    while (at > 0 && top->score[at - 1] > score) {
        top->score[at] = top->score[at - 1];
        top->rowid[at] = top->rowid[at - 1];
        at--;
    }
    top->score[at] = score;
    top->rowid[at] = sqlite3_column_int64(stmt, 0);
}

static int run_sql(searcher_t *s, const char *sql, const char *match,
                   void (*row)(sqlite3_stmt *, void *), void *user)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK && match)
        rc = sqlite3_bind_text(stmt, 1, match, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = step_all(stmt, row, user);
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs one translation: the top 10 by bm25 with their NCT IDs (read from the
 * table for those 10 only), and the exact total. Returns an SQLite code,
 * with *error set (sqlite3_free it). */
static int run_translation(searcher_t *s, const translation_t *t, search_result_t *out,
                           char **error)
{
    bool has_match = t->match.len > 0, has_where = t->where.len > 0;
    const char *match = has_match ? buffer_text(&t->match) : NULL;
    buffer_t condition = {0}, sql = {0};
    if (has_match)
        buffer_puts(&condition, "t MATCH ?1");
    /* The unary + keeps SQLite from handing the IN list to FTS5 as rowid
     * lookups, which would run the MATCH once per listed row. */
    if (has_where)
        buffer_printf(&condition,
                      s->meta_table ? "%s+t.rowid IN (SELECT id FROM meta WHERE %s)" : "%s(%s)",
                      has_match ? " AND " : "", buffer_text(&t->where));
    const char *where = buffer_text(&condition);
    out->total = 0;
    out->hits = 0;
    int rc;
    if (has_match && s->one_pass) {
        /* One statement scores every match; the count and the top 10 are
         * kept here, as SQLite's sorter would keep the top 10. */
        top_rows_t top = {0};
        buffer_printf(&sql, "SELECT rowid, bm25(t, %s) FROM t WHERE %s", s->weights, where);
        rc = run_sql(s, buffer_text(&sql), match, take_scored, &top);
        out->total = top.count;
        sqlite3_stmt *lookup = NULL;
        if (rc == SQLITE_OK && top.kept)
            rc = sqlite3_prepare_v2(s->db, "SELECT nct_id FROM t WHERE rowid = ?1", -1, &lookup,
                                    NULL);
        for (int i = 0; i < top.kept && rc == SQLITE_OK; i++) {
            sqlite3_bind_int64(lookup, 1, top.rowid[i]);
            rc = step_all(lookup, take_id, out);
            sqlite3_reset(lookup);
        }
        sqlite3_finalize(lookup);
    } else {
        if (has_match)
            buffer_printf(&sql,
                          "SELECT t.nct_id FROM (SELECT rowid AS id, bm25(t, %s) AS score FROM t "
                          "WHERE %s ORDER BY score LIMIT %d) AS s JOIN t ON t.rowid = s.id "
                          "ORDER BY s.score",
                          s->weights, where, TOP);
        else
            buffer_printf(&sql, "SELECT nct_id FROM t WHERE %s LIMIT %d", where, TOP);
        rc = run_sql(s, buffer_text(&sql), match, take_id, out);
        if (rc == SQLITE_OK) {
            buffer_clear(&sql);
            buffer_printf(&sql, "SELECT count(*) FROM t WHERE %s", where);
            rc = run_sql(s, buffer_text(&sql), match, take_count, &out->total);
        }
    }
    if (rc != SQLITE_OK)
        *error = sqlite3_mprintf("%s", sqlite3_errmsg(s->db));
    buffer_free(&condition);
    buffer_free(&sql);
    return rc;
}

/* One search as trialdex does it: translate, run; a query of more than 16
 * words, or one whose every-word form finds nothing, is run as the partial
 * fallback (positive parts ORed, in the columns weighted 0.5 or more). */
static int run_search(searcher_t *s, const char *query, translation_t *t, search_result_t *out,
                      char **error)
{
    if (!translate(query, false, t)) {
        *error = sqlite3_mprintf("%s", t->why);
        return SQLITE_MISUSE;
    }
    bool description = t->match.len && t->words > DESCRIPTION_WORDS;
    int rc = SQLITE_OK;
    if (!description)
        rc = run_translation(s, t, out, error);
    out->partial = false;
    if (rc == SQLITE_OK && t->match.len && (description || out->total == 0)) {
        if (!translate(query, true, t)) {
            *error = sqlite3_mprintf("%s", t->why);
            return SQLITE_MISUSE;
        }
        rc = run_translation(s, t, out, error);
        out->partial = true;
    }
    return rc;
}

/* ---- the query file ---- */

/* translate [-d DB] QUERYFILE: each query's translation, and with a
 * database its total and hits as a search finds them (the partial fallback
 * included), to compare with trialdex-search's. */
static int command_translate(int argc, char **argv)
{
    const char *path = NULL, *query_file = NULL;
    bool bad = false;
    for (int i = 0; i < argc && !bad; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (argv[i][0] != '-' && !query_file)
            query_file = argv[i];
        else
            bad = true;
    }
    if (bad || !query_file) {
        fputs(usage, stderr);
        return 2;
    }
    bench_query_set_t queries = {0};
    int code = bench_read_queries("trialdex-peer-fts5", query_file, &queries);
    if (code)
        return code;
    searcher_t s = {.one_pass = true};
    if (path && sqlite3_open_v2(path, &s.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "trialdex-peer-fts5: cannot open %s: %s\n", path, sqlite3_errmsg(s.db));
        sqlite3_close(s.db);
        bench_query_set_clear(&queries);
        return 3;
    }
    buffer_t weights = {0};
    bm25_weights(&weights);
    snprintf(s.weights, sizeof(s.weights), "%s", buffer_text(&weights));
    buffer_free(&weights);
    translation_t t = {0};
    for (size_t i = 0; i < queries.count; i++) {
        printf("{\"line\":%zu,\"query\":", queries.lines[i]);
        bench_print_json_string(queries.texts[i]);
        search_result_t result;
        char *error = NULL;
        bool ok = path ? run_search(&s, queries.texts[i], &t, &result, &error) == SQLITE_OK
                       : translate(queries.texts[i], false, &t);
        if (!path && ok && t.match.len && t.words > DESCRIPTION_WORDS)
            ok = translate(queries.texts[i], true, &t);
        if (!ok) {
            printf(",\"skipped\":");
            bench_print_json_string(error ? error : t.why);
        } else {
            printf(",\"partial\":%s,\"match\":", t.partial ? "true" : "false");
            bench_print_json_string(buffer_text(&t.match));
            printf(",\"where\":");
            bench_print_json_string(buffer_text(&t.where));
            if (path) {
                printf(",\"total\":%lld,\"hits\":[", result.total);
                for (int h = 0; h < result.hits; h++)
                    printf("%s\"%s\"", h ? "," : "", result.ids[h]);
                printf("]");
            }
        }
        sqlite3_free(error);
        printf("}\n");
    }
    translation_free(&t);
    sqlite3_close(s.db);
    bench_query_set_clear(&queries);
    return 0;
}

typedef struct slow_query {
    size_t index;
    double median;
} slow_query_t;

static int compare_slow_queries(const void *a, const void *b)
{
    double x = ((const slow_query_t *) a)->median, y = ((const slow_query_t *) b)->median;
    return (x < y) - (x > y);
}

static bool parse_count(const char *text, int low, int *out)
{
    char *end;
    long value = text ? strtol(text, &end, 10) : 0;
    if (!text || end == text || *end || value < low || value > 1000)
        return false;
    *out = (int) value;
    return true;
}

static int command_latency(int argc, char **argv)
{
    const char *path = NULL, *query_file = NULL;
    int runs = 5, warmup = 1;
    bool one_pass = false, meta_table = false;
    for (int i = 0; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "-d") == 0 && value) {
            path = value;
            i++;
        } else if (strcmp(argv[i], "--runs") == 0 && parse_count(value, 1, &runs)) {
            i++;
        } else if (strcmp(argv[i], "--warmup") == 0 && parse_count(value, 1, &warmup)) {
            i++;
        } else if (strcmp(argv[i], "--plan") == 0 && value &&
                   (strcmp(value, "two") == 0 || strcmp(value, "one-pass") == 0)) {
            one_pass = value[0] == 'o';
            i++;
        } else if (strcmp(argv[i], "--filters") == 0 && value &&
                   (strcmp(value, "unindexed") == 0 || strcmp(value, "table") == 0)) {
            meta_table = value[0] == 't';
            i++;
        } else if (argv[i][0] != '-' && !query_file) {
            query_file = argv[i];
        } else {
            fprintf(stderr, "trialdex-peer-fts5: bad argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (!path || !query_file) {
        fputs(usage, stderr);
        return 2;
    }
    bench_query_set_t queries = {0};
    int code = bench_read_queries("trialdex-peer-fts5", query_file, &queries);
    if (code)
        return code;
    searcher_t s = {.one_pass = one_pass, .meta_table = meta_table};
    if (sqlite3_open_v2(path, &s.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "trialdex-peer-fts5: cannot open %s: %s\n", path, sqlite3_errmsg(s.db));
        sqlite3_close(s.db);
        bench_query_set_clear(&queries);
        return 3;
    }
    buffer_t weights = {0};
    bm25_weights(&weights);
    snprintf(s.weights, sizeof(s.weights), "%s", buffer_text(&weights));
    buffer_free(&weights);
    long long documents = 0;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(s.db, "SELECT count(*) FROM t", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        documents = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);

    size_t count = queries.count;
    bool *skipped = calloc(count, sizeof(*skipped));
    char **why = calloc(count, sizeof(*why));
    size_t total = count * (size_t) runs;
    double *seconds = calloc(total, sizeof(*seconds));
    double *sorted = calloc(total, sizeof(*sorted));
    slow_query_t *slow = calloc(count, sizeof(*slow));
    if (!skipped || !why || !seconds || !sorted || !slow) {
        fputs("trialdex-peer-fts5: out of memory\n", stderr);
        exit(3);
    }
    translation_t t = {0};
    search_result_t result;
    size_t partial = 0, empty = 0, skip_count = 0;
    /* Warm-up passes; the first finds the queries that cannot be run. */
    for (int w = 0; w < warmup; w++)
        for (size_t i = 0; i < count; i++) {
            if (skipped[i])
                continue;
            char *error = NULL;
            if (run_search(&s, queries.texts[i], &t, &result, &error) != SQLITE_OK) {
                skipped[i] = true;
                why[i] = xstrdup(error ? error : "failed");
                skip_count++;
            } else if (w == 0) {
                partial += result.partial;
                empty += result.total == 0;
            }
            sqlite3_free(error);
        }
    size_t ran = count - skip_count, searches = ran * (size_t) runs, k = 0;
    for (int r = 0; r < runs; r++)
        for (size_t i = 0; i < count; i++) {
            if (skipped[i])
                continue;
            char *error = NULL;
            double start = now_seconds();
            int rc = run_search(&s, queries.texts[i], &t, &result, &error);
            seconds[i * (size_t) runs + (size_t) r] = now_seconds() - start;
            if (rc != SQLITE_OK) {
                fprintf(stderr, "trialdex-peer-fts5: %s:%zu: %s\n", query_file, queries.lines[i],
                        error ? error : "failed");
                exit(3);
            }
            sqlite3_free(error);
        }
    double sum = 0;
    size_t slow_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (skipped[i])
            continue;
        for (int r = 0; r < runs; r++)
            sum += sorted[k++] = seconds[i * (size_t) runs + (size_t) r];
        slow[slow_count++] =
            (slow_query_t){i, median_of(&seconds[i * (size_t) runs], (size_t) runs)};
    }
    if (!searches) {
        fputs("trialdex-peer-fts5: no query could be translated\n", stderr);
        exit(3);
    }
    qsort(sorted, searches, sizeof(*sorted), compare_doubles);
    qsort(slow, slow_count, sizeof(*slow), compare_slow_queries);

    printf("{\"bench\":\"latency_setup\",\"peer\":\"sqlite_fts5\",\"sqlite\":\"%s\",\"db\":",
           sqlite3_libversion());
    bench_print_json_string(path);
    printf(",\"db_bytes\":%lld,\"documents\":%lld,\"query_file\":", file_size(path), documents);
    bench_print_json_string(query_file);
    printf(",\"queries\":%zu,\"translated\":%zu,\"skipped\":%zu,\"runs\":%d,\"warmup\":%d,"
           "\"threads\":1,\"plan\":\"%s\",\"filters\":\"%s\"",
           count, ran, skip_count, runs, warmup, one_pass ? "one-pass" : "two",
           meta_table ? "table" : "unindexed");
    print_machine();
    printf("}\n");
    printf("{\"bench\":\"latency\",\"peer\":\"sqlite_fts5\",\"plan\":\"%s\",\"filters\":\"%s\","
           "\"facets\":false,\"queries\":%zu,"
           "\"runs\":%d,\"searches\":%zu,\"median_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"max_ms\":%.3f,\"mean_ms\":%.3f,\"queries_per_s\":%.0f,\"partial\":%zu,"
           "\"no_hits\":%zu,\"skipped\":%zu,\"skipped_queries\":[",
           one_pass ? "one-pass" : "two", meta_table ? "table" : "unindexed", ran, runs, searches,
           median_of(sorted, searches) * 1e3, percentile(sorted, searches, 90) * 1e3,
           percentile(sorted, searches, 99) * 1e3, sorted[searches - 1] * 1e3,
           sum / (double) searches * 1e3, (double) searches / sum, partial, empty, skip_count);
    bool first = true;
    for (size_t i = 0; i < count; i++)
        if (skipped[i]) {
            printf("%s{\"line\":%zu,\"query\":", first ? "" : ",", queries.lines[i]);
            bench_print_json_string(queries.texts[i]);
            printf(",\"why\":");
            bench_print_json_string(why[i]);
            printf("}");
            first = false;
        }
    printf("],\"slowest\":[");
    for (size_t n = 0; n < slow_count && n < 5; n++) {
        printf("%s{\"median_ms\":%.3f,\"line\":%zu,\"query\":", n ? "," : "", slow[n].median * 1e3,
               queries.lines[slow[n].index]);
        bench_print_json_string(queries.texts[slow[n].index]);
        printf("}");
    }
    printf("]}\n");

    for (size_t i = 0; i < count; i++)
        free(why[i]);
    free(why);
    free(skipped);
    free(seconds);
    free(sorted);
    free(slow);
    translation_free(&t);
    sqlite3_close(s.db);
    bench_query_set_clear(&queries);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "build") == 0)
        return command_build(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "latency") == 0)
        return command_latency(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "translate") == 0)
        return command_translate(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
