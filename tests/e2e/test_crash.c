/* A nightly update killed with SIGKILL at random points, many times, leaves
 * an index that opens, passes the check, and holds every trial in either
 * its old or its new version: nothing lost, nothing half-written. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "td_schema.h"
#include "td_test.h"
#include "td_xapian.h"

#define COPIES 40 /* of the 41 sample trials: 1,640 trials */
#define KILLS 12

TestSuite(crash, .init = td_test_dir_setup, .fini = td_test_dir_teardown, .timeout = 600);

/* Writes COPIES renumbered copies of the sample corpus as JSON Lines; with
 * `suffix`, every brief title gets it appended (the "new" version). */
static char *make_corpus(const char *name, const char *suffix)
{
    size_t capacity = 1 << 24, len = 0;
    char *out = malloc(capacity);
    for (int i = 1; i <= 41; i++) {
        char path[600];
        snprintf(path, sizeof(path), TD_SAMPLE_DIR "/NCT990000%02d.json", i);
        char *text = td_test_slurp(path, NULL);
        /* One line per study: the pretty-printed file without its newlines. */
        for (char *p = text; *p; p++)
            if (*p == '\n')
                *p = ' ';
        char *title = strstr(text, "\"briefTitle\": \"");
        cr_assert_not_null(title);
        char *title_end = strchr(title + 15, '"');
        for (int copy = 0; copy < COPIES; copy++) {
            char id[16];
            snprintf(id, sizeof(id), "NCT9%02d%05d", copy, i);
            char *at = strstr(text, "\"nctId\": \"");
            cr_assert_not_null(at);
            memcpy(at + 10, id, 11);
            size_t head = (size_t) (title_end - text);
            cr_assert_lt(len + strlen(text) + 64, capacity);
            memcpy(out + len, text, head);
            len += head;
            len += (size_t) sprintf(out + len, "%s%s\n", suffix, title_end);
        }
        free(text);
    }
    char *path = td_test_write(td_test_dir, name, out, len);
    free(out);
    return path;
}

static int run(const char *command)
{
    int status = system(command);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(crash, killed_updates_leave_old_or_new_versions_only)
{
    char *old_corpus = make_corpus("old.jsonl", "");
    char *new_corpus = make_corpus("new.jsonl", " (amended)");
    char command[4096];

    /* What the index must hold entirely at the start and at the end. */
    snprintf(command, sizeof(command), "%s build --quiet -d %s/new.db %s >/dev/null",
             TD_INDEX_PROGRAM, td_test_dir, new_corpus);
    cr_assert_eq(run(command), 0);
    snprintf(command, sizeof(command), "%s/new.db", td_test_dir);
    char *expected_new = td_test_index_content(command);
    snprintf(command, sizeof(command), "%s build --quiet -d %s/db %s >/dev/null", TD_INDEX_PROGRAM,
             td_test_dir, old_corpus);
    cr_assert_eq(run(command), 0);
    char db[600];
    snprintf(db, sizeof(db), "%s/db", td_test_dir);
    char *expected_old = td_test_index_content(db);
    cr_assert_str_neq(expected_old, expected_new);

    srand((unsigned) time(NULL));
    size_t kills = 0, mixed = 0;
    for (int round = 0; round < KILLS; round++) {
        pid_t child = fork();
        if (child == 0) {
            int null = open("/dev/null", 1);
            dup2(null, 1);
            dup2(null, 2);
            /* Small transactions, so kills land between commits too. */
            execl(TD_INDEX_PROGRAM, TD_INDEX_PROGRAM, "update", "--quiet", "--commit-every", "97",
                  "-d", db, new_corpus, (char *) NULL);
            _exit(127);
        }
        /* Somewhere between just started and well into the job. */
        long delay = 20000 + rand() % 1500000; /* microseconds */
        nanosleep(&(struct timespec){delay / 1000000, (delay % 1000000) * 1000}, NULL);
        kill(child, SIGKILL);
        int status;
        waitpid(child, &status, 0);
        kills += WIFSIGNALED(status);

        size_t errors = 1;
        char *report = NULL;
        char version[4096] = "", path[8192];
        cr_assert_gt(readlink(db, version, sizeof(version) - 1), 0);
        snprintf(path, sizeof(path), "%s/%s", td_test_dir, version);
        cr_assert_eq(td_xdb_check(path, &errors, &report), TD_OK, "round %d: %s", round, report);
        cr_assert_eq(errors, 0, "round %d: %s", round, report);
        free(report);

        /* Every trial is there, in one of its two versions. */
        char *got = td_test_index_content(db);
        size_t lines = 0, olds = 0;
        for (char *line = strtok(got, "\n"); line; line = strtok(NULL, "\n"), lines++) {
            char needle[64];
            snprintf(needle, sizeof(needle), "%s\n", line);
            bool old = strstr(expected_old, needle) != NULL;
            cr_assert(old || strstr(expected_new, needle),
                      "round %d: %s is neither the old nor the new version", round, line);
            olds += old;
        }
        cr_assert_eq(lines, 41 * COPIES, "round %d: no trial lost", round);
        mixed += olds > 0 && olds < lines;
        free(got);
    }
    cr_assert_gt(kills, KILLS / 2, "most rounds were really killed mid-job");
    cr_assert_gt(mixed, 0, "some kill left a mix of old and new versions (between commits)");

    /* Run to the end: everything new. */
    snprintf(command, sizeof(command), "%s update --quiet -d %s %s >/dev/null", TD_INDEX_PROGRAM,
             db, new_corpus);
    cr_assert_eq(run(command), 0);
    char *final = td_test_index_content(db);
    cr_assert_str_eq(final, expected_new);
    free(final);
    free(expected_old);
    free(expected_new);
    free(old_corpus);
    free(new_corpus);
}
