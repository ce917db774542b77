/* End-to-end: the trialdex-search shell on a pseudo-terminal, as a user
 * types into it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "td_test.h"

#define PROMPT "trialdex> "
#define TIMEOUT_MS 20000 /* per reply; the sanitizer build is slow */

/* The three sample trials of trastuzumab deruxtecan (corpus/sample). */
static const char *const TDXD[] = {"NCT99000017", "NCT99000018", "NCT99000019"};

typedef struct shell {
    pid_t pid; /* 0 once it has been waited for */
    int fd;    /* the pseudo-terminal's master side */
    char *out; /* everything the shell wrote, NUL-terminated */
    size_t len, cap;
    size_t mark; /* where the reply to the last line typed starts */
} shell_t;

static shell_t shell;

static void setup(void)
{
    td_test_dir_setup();
    shell = (shell_t){.fd = -1};
}

static void teardown(void)
{
    if (shell.pid > 0) {
        kill(shell.pid, SIGKILL);
        waitpid(shell.pid, NULL, 0);
    }
    if (shell.fd >= 0)
        close(shell.fd);
    free(shell.out);
    td_test_dir_teardown();
}

TestSuite(search_shell, .init = setup, .fini = teardown, .timeout = 120);

/* Builds td_test_dir/db from `sources` with trialdex-index. */
static void build_index(const char *sources)
{
    char command[2048];
    snprintf(command, sizeof(command), "%s build -d %s/db %s >%s/build.out 2>&1", TD_INDEX_PROGRAM,
             td_test_dir, sources, td_test_dir);
    int status = system(command);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed", command);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads what the shell writes for up to `wait_ms`; false once it has closed
 * the terminal (exited). */
static bool read_some(int wait_ms)
{
    struct pollfd pfd = {.fd = shell.fd, .events = POLLIN};
    int ready = poll(&pfd, 1, wait_ms);
    if (ready <= 0)
        return ready == 0 || errno == EINTR;
    if (shell.cap - shell.len < 4097) {
        shell.cap = shell.cap * 2 + 8192;
        shell.out = realloc(shell.out, shell.cap);
        cr_assert_not_null(shell.out);
    }
    ssize_t n = read(shell.fd, shell.out + shell.len, 4096);
    if (n <= 0)
        return false; /* EIO: the other side is closed */
    shell.len += (size_t) n;
    shell.out[shell.len] = '\0';
    return true;
}

/* The reply so far: what the shell wrote since the last line typed. */
static const char *reply(void)
{
    return shell.out ? shell.out + shell.mark : "";
}

static bool reply_ends_with_prompt(void)
{
    size_t len = shell.len - shell.mark;
    return len >= strlen(PROMPT) && strcmp(reply() + len - strlen(PROMPT), PROMPT) == 0;
}

/* Waits until the shell prompts for the next line; returns the reply. */
static const char *wait_prompt(void)
{
    long deadline = now_ms() + TIMEOUT_MS;
    while (!reply_ends_with_prompt()) {
        long left = deadline - now_ms();
        cr_assert_gt(left, 0, "no prompt within %d ms; the shell wrote:\n%s", TIMEOUT_MS, reply());
        cr_assert(read_some((int) (left < 200 ? left : 200)), "the shell exited; it wrote:\n%s",
                  reply());
    }
    return reply();
}

/* Starts `trialdex-search -d td_test_dir/db --color never` on a terminal
 * with HOME in the test directory, and waits for its prompt. */
static void start_shell(void)
{
    char db[1024];
    snprintf(db, sizeof(db), "%s/db", td_test_dir);
    struct winsize size = {.ws_row = 50, .ws_col = 200};
    shell.pid = forkpty(&shell.fd, NULL, NULL, &size);
    cr_assert_neq(shell.pid, -1, "forkpty: %s", strerror(errno));
    if (shell.pid == 0) {
        setenv("HOME", td_test_dir, 1);
        setenv("TERM", "dumb", 1);
        execl(TD_SEARCH_PROGRAM, "trialdex-search", "-d", db, "--color", "never", (char *) NULL);
        _exit(127);
    }
    wait_prompt();
}

/* Waits until libedit reads keys itself, with the terminal out of line mode
 * (ICANON off; on Linux the master side reports the terminal's settings).
 * It prints the prompt a moment before: a Ctrl-C or Ctrl-D typed in between
 * goes to the terminal's line mode and is lost, with no new prompt. A person
 * never types that fast; the test must not either. */
static void wait_line_editing(void)
{
    long deadline = now_ms() + TIMEOUT_MS;
    struct termios mode;
    for (;;) {
        cr_assert_eq(tcgetattr(shell.fd, &mode), 0, "tcgetattr: %s", strerror(errno));
        if (!(mode.c_lflag & ICANON))
            return;
        cr_assert_lt(now_ms(), deadline, "the terminal stayed in line mode");
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

/* Types `text` (a line, or keys such as Ctrl-D) without waiting. */
static void type(const char *text)
{
    shell.mark = shell.len;
    size_t len = strlen(text);
    cr_assert_eq(write(shell.fd, text, len), (ssize_t) len);
}

/* Types a line and returns the shell's reply, up to its next prompt (valid
 * until the next line is typed). */
static const char *say(const char *line)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s\n", line);
    type(text);
    return wait_prompt();
}

/* Waits for the shell to exit and returns its exit status. */
static int wait_exit(void)
{
    long deadline = now_ms() + TIMEOUT_MS;
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(shell.pid, &status, WNOHANG)) == 0) {
        cr_assert_lt(now_ms(), deadline, "the shell did not exit; it wrote:\n%s", reply());
        if (!read_some(100))
            nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL); /* closed: no poll wait */
    }
    cr_assert_eq(done, shell.pid);
    shell.pid = 0;
    struct pollfd pfd = {.fd = shell.fd, .events = POLLIN};
    while (poll(&pfd, 1, 0) > 0 && read_some(0))
        ; /* what it wrote last, for the messages */
    cr_assert(WIFEXITED(status), "the shell was killed by signal %d; it wrote:\n%s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, reply());
    return WEXITSTATUS(status);
}

static size_t count_tdxd(const char *text)
{
    size_t count = 0;
    for (size_t i = 0; i < 3; i++)
        count += strstr(text, TDXD[i]) != NULL;
    return count;
}

/* The NCT ID printed at rank `rank` of a text page ("\n1. NCT..."). */
static void id_at_rank(const char *page, int rank, char id[12])
{
    char needle[32];
    snprintf(needle, sizeof(needle), "\n%d. NCT", rank);
    const char *at = strstr(page, needle);
    cr_assert_not_null(at, "no rank %d in:\n%s", rank, page);
    at = strstr(at, "NCT");
    memcpy(id, at, 11);
    id[11] = '\0';
}

Test(search_shell, queries_pages_shows_and_keeps_history)
{
    build_index(TD_SAMPLE_DIR);
    start_shell();

    cr_assert_not_null(strstr(say(":limit 2"), "limit: 2 results per page"), "%s", reply());

    char *page1 = strdup(say("trastuzumab deruxtecan"));
    cr_assert_not_null(strstr(page1, "3 trials match, showing 1-2"), "%s", page1);
    cr_assert_eq(count_tdxd(page1), 2, "%s", page1);
    cr_assert_not_null(strstr(page1, "page 1 of 2"), "%s", page1);
    cr_assert_not_null(strstr(page1, " ms"), "%s", page1);
    char first[12];
    id_at_rank(page1, 1, first);

    const char *page2 = say(":next");
    cr_assert_not_null(strstr(page2, "showing 3 "), "%s", page2);
    cr_assert_not_null(strstr(page2, "page 2 of 2"), "%s", page2);
    cr_assert_eq(count_tdxd(page2), 1, "%s", page2);
    for (size_t i = 0; i < 3; i++)
        cr_assert(!strstr(page2, TDXD[i]) || !strstr(page1, TDXD[i]),
                  "%s is on both pages:\n%s\n%s", TDXD[i], page1, page2);

    cr_assert_not_null(strstr(say(":next"), "no further page"), "%s", reply());
    cr_assert_null(strstr(reply(), "NCT"), "%s", reply());

    /* Rank 1 was shown on the page before this one. */
    const char *record = say(":show 1");
    cr_assert_not_null(strstr(record, first), "%s", record);
    cr_assert_not_null(strstr(record, "Eligibility"), "%s", record);
    cr_assert_not_null(strstr(record, "Inclusion Criteria"), "%s", record);

    cr_assert_not_null(strstr(say(":show 3"), "Eligibility"), "%s", reply());
    cr_assert_not_null(strstr(say(":show 4"), "error: no result 4"), "%s", reply());
    cr_assert_not_null(strstr(say(":show NCT99000041"), "Acupuncture"), "%s", reply());
    cr_assert_not_null(strstr(say(":show NCT00000000"), "not in the index"), "%s", reply());

    const char *back = say(":prev");
    cr_assert_not_null(strstr(back, "page 1 of 2"), "%s", back);
    cr_assert_not_null(strstr(back, first), "%s", back);
    cr_assert_not_null(strstr(say(":prev"), "no previous page"), "%s", reply());

    const char *toggled = say(":facets");
    bool facets_on = strstr(toggled, "facets: on") != NULL;
    cr_assert(facets_on || strstr(toggled, "facets: off"), "%s", toggled);
    const char *facets = say("trastuzumab deruxtecan");
    cr_assert_eq(strstr(facets, "Facets:") != NULL, facets_on, "%s", facets);
    cr_assert_not_null(strstr(say(":facets"), facets_on ? "facets: off" : "facets: on"), "%s",
                       reply());

    cr_assert_not_null(strstr(say(":why"), "why: "), "%s", reply());
    cr_assert_not_null(strstr(say(":sort enrollment:asc"), "sort: enrollment, smallest first"),
                       "%s", reply());
    cr_assert_not_null(strstr(say(":sort biggest"), "error: unknown sort 'biggest'"), "%s",
                       reply());

    cr_assert_not_null(strstr(say(":format ids"), "format: ids"), "%s", reply());
    const char *ids = say("trastuzumab deruxtecan");
    cr_assert_eq(count_tdxd(ids), 2, "%s", ids);
    cr_assert_null(strstr(ids, "trials match"), "%s", ids);

    cr_assert_not_null(strstr(say(":frobnicate"), "error: unknown command ':frobnicate'"), "%s",
                       reply());
    cr_assert_not_null(strstr(say(":help"), ":show"), "%s", reply());

    type(":quit\n");
    cr_assert_eq(wait_exit(), 0, "%s", reply());

    char *history_path = td_test_path(".trialdex_history");
    cr_assert_eq(access(history_path, F_OK), 0, "no history file at %s", history_path);
    char *history = td_test_slurp(history_path, NULL);
    /* libedit writes a space as \040. */
    cr_assert(strstr(history, "trastuzumab deruxtecan") ||
                  strstr(history, "trastuzumab\\040deruxtecan"),
              "%s", history);
    cr_assert_not_null(strstr(history, ":next"), "%s", history);
    free(history);
    free(history_path);
    free(page1);
}

Test(search_shell, malformed_query_is_reported_and_the_shell_goes_on)
{
    build_index(TD_SAMPLE_DIR);
    start_shell();

    const char *error = say("title:");
    cr_assert_not_null(strstr(error, "error: "), "%s", error);
    cr_assert_not_null(strstr(error, "\n  ^"), "no caret under the query:\n%s", error);

    cr_assert_not_null(strstr(say(":next"), "error: no query yet"), "%s", reply());
    cr_assert_eq(count_tdxd(say("trastuzumab deruxtecan")), 3, "%s", reply());

    wait_line_editing();
    type("\x04"); /* Ctrl-D */
    cr_assert_eq(wait_exit(), 0, "%s", reply());
}

Test(search_shell, ctrl_c_abandons_the_line)
{
    build_index(TD_SAMPLE_DIR);
    start_shell();

    wait_line_editing();
    type("cancer");
    long deadline = now_ms() + TIMEOUT_MS;
    while (!strstr(reply(), "cancer")) /* libedit's echo: it has read the keys */
        cr_assert(read_some(200) && now_ms() < deadline, "no echo: %s", reply());
    /* and is back in read(), where the signal interrupts it */
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    type("\x03");
    wait_prompt();
    const char *ids = say(":format ids");
    cr_assert_not_null(strstr(ids, "format: ids"), "the abandoned line was kept:\n%s", ids);

    type(":q\n");
    cr_assert_eq(wait_exit(), 0, "%s", reply());
}

Test(search_shell, a_new_index_is_used_from_the_next_query)
{
    build_index(TD_SAMPLE_DIR);
    start_shell();
    cr_assert_eq(count_tdxd(say("trastuzumab deruxtecan")), 3, "%s", reply());

    /* The nightly job swaps in an index of two of the trials. */
    for (size_t i = 0; i < 2; i++) {
        char name[64], source[1024];
        snprintf(name, sizeof(name), "new/%s.json", TDXD[i]);
        snprintf(source, sizeof(source), "%s/%s.json", TD_SAMPLE_DIR, TDXD[i]);
        size_t len = 0;
        char *data = td_test_slurp(source, &len);
        free(td_test_write(td_test_dir, name, data, len));
        free(data);
    }
    char *source = td_test_path("new");
    build_index(source);
    free(source);

    const char *after = say("trastuzumab deruxtecan");
    cr_assert_not_null(strstr(after, "index updated: revision "), "%s", after);
    cr_assert_not_null(strstr(after, ", 2 trials\r\n"), "%s", after);
    cr_assert_eq(count_tdxd(after), 2, "%s", after);

    cr_assert_null(strstr(say("trastuzumab deruxtecan"), "index updated"), "%s", reply());

    type(":quit\n");
    cr_assert_eq(wait_exit(), 0, "%s", reply());
}
