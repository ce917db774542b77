/* td_test.h - helpers shared by the Criterion suites. */
#ifndef TD_TEST_H
#define TD_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "td_reader.h"

/* What one run of a reader produced. */
typedef struct td_test_diag {
    td_diag_level_t level;
    char source[512];
    char position[64];
    char nct_id[16];
    char message[512];
} td_test_diag_t;

typedef struct td_test_run {
    td_trial_t **trials;
    size_t trial_count;
    td_test_diag_t *diags;
    size_t diag_count;
    td_reader_stats_t stats;
    td_status_t status; /* what td_reader_next ended with: TD_DONE normally */
} td_test_run_t;

/* Reads every record from the sources into *run (asserting no failure of
 * the harness itself). Free with td_test_run_free. */
void td_test_read(const char *const *sources, size_t count, td_format_t format, td_test_run_t *run);
void td_test_read_one(const char *source, td_format_t format, td_test_run_t *run);
void td_test_run_free(td_test_run_t *run);

/* A td_diag_fn that appends a copy of each diagnostic to the
 * td_test_run_t `run` points to, for a mapper called directly. Start from a
 * zeroed run; td_test_run_free frees the copies. */
void td_test_collect_diag(const td_diagnostic_t *diagnostic, void *run);

/* The trial with this NCT ID, or NULL. */
const td_trial_t *td_test_find(const td_test_run_t *run, const char *nct_id);

/* The first diagnostic whose message contains `needle`, or NULL. */
const td_test_diag_t *td_test_find_diag(const td_test_run_t *run, const char *needle);

/* Asserts that the run has a diagnostic number `index` (from 0) and that it
 * has this level, position and, exactly, this message. */
void td_test_assert_diag(const td_test_run_t *run, size_t index, td_diag_level_t level,
                         const char *position, const char *message);

/* Asserts that `list` holds exactly the `count` strings of `expected`, in
 * order. TD_TEST_ASSERT_LIST(list, "a", "b") is the same for a literal list. */
void td_test_assert_list(const td_strlist_t *list, const char *const *expected, size_t count);

#define TD_TEST_ASSERT_LIST(list, ...)                                                             \
    do {                                                                                           \
        const char *const expected_[] = {__VA_ARGS__};                                             \
        td_test_assert_list(&(list), expected_, sizeof(expected_) / sizeof(expected_[0]));         \
    } while (0)

/* Asserts every part of a date. */
void td_test_assert_date(td_date_t date, int year, int month, int day,
                         td_date_precision_t precision, td_actuality_t type);

/* A fresh temporary directory (removed by td_test_rmtree). Returns a
 * malloc'd path. */
char *td_test_tmpdir(void);
void td_test_rmtree(const char *path);

/* A fresh temporary directory for each test of a suite declared with
 * TestSuite(name, .init = td_test_dir_setup, .fini = td_test_dir_teardown):
 * td_test_dir is its malloc'd path, valid during the test; the directory and
 * all in it are removed after the test. */
extern char *td_test_dir;
void td_test_dir_setup(void);
void td_test_dir_teardown(void);

/* Writes bytes to dir/name, creating parent directories; returns a malloc'd
 * full path. */
char *td_test_write(const char *dir, const char *name, const void *data, size_t len);

/* Reads a whole file into a malloc'd NUL-terminated buffer. */
char *td_test_slurp(const char *path, size_t *len);

/* One member of an archive built by td_test_archive. */
typedef struct td_test_member {
    const char *name;
    const char *path; /* file whose bytes become the member */
} td_test_member_t;

/* Writes an archive with libarchive. `format` is "tar", "zip", "zip-store"
 * (members stored uncompressed, so their bytes can be found and altered) or
 * "raw" (a single compressed file); `filter` is "none", "gzip", "xz" or
 * "bzip2". */
void td_test_archive(const char *out, const char *format, const char *filter,
                     const td_test_member_t *members, size_t count);

/* Forks a child that holds the writer lock of the index at `db` the way a
 * running job does, and returns once it holds it. Release with
 * td_test_release_lock. */
int td_test_hold_lock(const char *db);
void td_test_release_lock(int pid);

/* What a command run through the shell did. */
typedef struct td_test_command {
    int exit_code;
    char *out; /* its standard output and error, malloc'd */
    char *err;
} td_test_command_t;

/* Runs `command` through the shell in td_test_dir, capturing both streams
 * (asserting it exited normally). Free with td_test_command_free. */
td_test_command_t td_test_command(const char *command);
void td_test_command_free(td_test_command_t *result);

/* td_test_dir + "/" + name, malloc'd. */
char *td_test_path(const char *name);

/* Every trial of the index at `db` as "NCT… hash" lines in ID order: what
 * two indexes of the same data must agree on (the content hash covers the
 * whole record). Returns a malloc'd string. */
char *td_test_index_content(const char *db);

#endif
