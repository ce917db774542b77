/* td_test.c - helpers shared by the Criterion suites. */
#define _XOPEN_SOURCE 700
#include "td_test.h"

#include "td_schema.h"
#include "td_xapian.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <ftw.h>
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void td_test_collect_diag(const td_diagnostic_t *d, void *user)
{
    td_test_run_t *run = user;
    run->diags = realloc(run->diags, (run->diag_count + 1) * sizeof(*run->diags));
    cr_assert_not_null(run->diags);
    td_test_diag_t *out = &run->diags[run->diag_count++];
    out->level = d->level;
    snprintf(out->source, sizeof(out->source), "%s", d->source);
    snprintf(out->position, sizeof(out->position), "%s", d->position);
    snprintf(out->nct_id, sizeof(out->nct_id), "%s", d->nct_id);
    snprintf(out->message, sizeof(out->message), "%s", d->message);
}

void td_test_read(const char *const *sources, size_t count, td_format_t format, td_test_run_t *run)
{
    memset(run, 0, sizeof(*run));
    td_reader_t *reader;
    cr_assert_eq(td_reader_open(sources, count, format, td_test_collect_diag, run, &reader), TD_OK);
    td_trial_t *trial;
    while ((run->status = td_reader_next(reader, &trial)) == TD_OK) {
        run->trials = realloc(run->trials, (run->trial_count + 1) * sizeof(*run->trials));
        cr_assert_not_null(run->trials);
        run->trials[run->trial_count++] = trial;
    }
    run->stats = td_reader_stats(reader);
    td_reader_close(reader);
}

void td_test_read_one(const char *source, td_format_t format, td_test_run_t *run)
{
    td_test_read(&source, 1, format, run);
}

void td_test_run_free(td_test_run_t *run)
{
    for (size_t i = 0; i < run->trial_count; i++)
        td_trial_free(run->trials[i]);
    free(run->trials);
    free(run->diags);
    memset(run, 0, sizeof(*run));
}

const td_trial_t *td_test_find(const td_test_run_t *run, const char *nct_id)
{
    for (size_t i = 0; i < run->trial_count; i++)
        if (strcmp(run->trials[i]->nct_id, nct_id) == 0)
            return run->trials[i];
    return NULL;
}

const td_test_diag_t *td_test_find_diag(const td_test_run_t *run, const char *needle)
{
    for (size_t i = 0; i < run->diag_count; i++)
        if (strstr(run->diags[i].message, needle))
            return &run->diags[i];
    return NULL;
}

void td_test_assert_diag(const td_test_run_t *run, size_t index, td_diag_level_t level,
                         const char *position, const char *message)
{
    cr_assert_lt(index, run->diag_count, "diagnostic %zu missing", index);
    const td_test_diag_t *d = &run->diags[index];
    cr_assert_eq(d->level, level, "diagnostic %zu: level", index);
    cr_assert_str_eq(d->position, position, "diagnostic %zu: position", index);
    cr_assert_str_eq(d->message, message, "diagnostic %zu", index);
}

void td_test_assert_list(const td_strlist_t *list, const char *const *expected, size_t count)
{
    cr_assert_eq(list->count, count, "list has %zu items, expected %zu", list->count, count);
    for (size_t i = 0; i < count; i++)
        cr_assert_str_eq(list->items[i], expected[i]);
}

void td_test_assert_date(td_date_t date, int year, int month, int day,
                         td_date_precision_t precision, td_actuality_t type)
{
    cr_assert_eq(date.year, year);
    cr_assert_eq(date.month, month);
    cr_assert_eq(date.day, day);
    cr_assert_eq(date.precision, precision);
    cr_assert_eq(date.type, type);
}

char *td_test_tmpdir(void)
{
    char *path = strdup("/tmp/trialdex-test-XXXXXX");
    cr_assert_not_null(path);
    cr_assert_not_null(mkdtemp(path));
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

void td_test_rmtree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *td_test_dir;

void td_test_dir_setup(void)
{
    td_test_dir = td_test_tmpdir();
}

void td_test_dir_teardown(void)
{
    td_test_rmtree(td_test_dir);
    free(td_test_dir);
    td_test_dir = NULL;
}

char *td_test_write(const char *dir, const char *name, const void *data, size_t len)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    cr_assert_not_null(path);
    snprintf(path, size, "%s/%s", dir, name);
    for (char *slash = path + strlen(dir) + 1; (slash = strchr(slash, '/')); slash++) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

char *td_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t) size + 1);
    cr_assert_not_null(data);
    cr_assert_eq(fread(data, 1, (size_t) size, f), (size_t) size);
    data[size] = '\0';
    fclose(f);
    if (len)
        *len = (size_t) size;
    return data;
}

void td_test_archive(const char *out, const char *format, const char *filter,
                     const td_test_member_t *members, size_t count)
{
    struct archive *a = archive_write_new();
    cr_assert_not_null(a);
    if (strcmp(format, "tar") == 0)
        cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    else if (strcmp(format, "zip") == 0 || strcmp(format, "zip-store") == 0)
        cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    else
        cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
    if (strcmp(format, "zip-store") == 0)
        cr_assert_eq(archive_write_zip_set_compression_store(a), ARCHIVE_OK);
    if (strcmp(filter, "gzip") == 0)
        cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    else if (strcmp(filter, "xz") == 0)
        cr_assert_eq(archive_write_add_filter_xz(a), ARCHIVE_OK);
    else if (strcmp(filter, "bzip2") == 0)
        cr_assert_eq(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, out), ARCHIVE_OK, "%s", archive_error_string(a));
    for (size_t i = 0; i < count; i++) {
        size_t len;
        char *data = td_test_slurp(members[i].path, &len);
        struct archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, members[i].name);
        archive_entry_set_size(entry, (la_int64_t) len);
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        cr_assert_eq(archive_write_header(a, entry), ARCHIVE_OK, "%s", archive_error_string(a));
        cr_assert_eq(archive_write_data(a, data, len), (la_ssize_t) len);
        archive_entry_free(entry);
        free(data);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

int td_test_hold_lock(const char *db)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s.lock", db);
        int fd = open(path, O_RDWR | O_CREAT, 0644);
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_SETLK, &lock) != 0 || write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char byte;
    cr_assert_eq(read(ready[0], &byte, 1), 1, "the lock holder started");
    close(ready[0]);
    close(ready[1]);
    return (int) child;
}

void td_test_release_lock(int pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

char *td_test_path(const char *name)
{
    char *path = malloc(strlen(td_test_dir) + strlen(name) + 2);
    cr_assert_not_null(path);
    sprintf(path, "%s/%s", td_test_dir, name);
    return path;
}

char *td_test_index_content(const char *db)
{
    td_xdb_t *x;
    char *error = NULL;
    cr_assert_eq(td_xdb_open(db, TD_XDB_READ, &x, &error), TD_OK, "%s", error);
    td_xlist_t *ids;
    cr_assert_eq(td_xdb_terms_with_prefix(x, TD_PREFIX_ID, &ids), TD_OK);
    size_t n = td_xlist_count(ids);
    char *out = calloc(n * 40 + 1, 1), *end = out;
    cr_assert_not_null(out);
    for (size_t i = 0; i < n; i++) {
        const char *id = td_xlist_string(ids, i, NULL);
        td_xdocid_t docid;
        td_xdoc_t *doc;
        char *hash;
        size_t len;
        cr_assert_eq(td_xdb_find_unique(x, id, &docid), TD_OK);
        cr_assert_eq(td_xdb_get_document(x, docid, &doc), TD_OK);
        cr_assert_eq(td_xdoc_get_value(doc, TD_SLOT_CONTENT_HASH, &hash, &len), TD_OK);
        end += sprintf(end, "%s %.*s\n", id + 1, (int) len, hash);
        free(hash);
        td_xdoc_free(doc);
    }
    td_xlist_free(ids);
    td_xdb_close(x);
    return out;
}

td_test_command_t td_test_command(const char *command)
{
    size_t size = strlen(command) + strlen(td_test_dir) + 32;
    char *line = malloc(size);
    cr_assert_not_null(line);
    snprintf(line, size, "cd '%s' && %s >out 2>err", td_test_dir, command);
    int status = system(line);
    cr_assert(WIFEXITED(status), "%s did not exit normally", line);
    free(line);
    td_test_command_t r = {.exit_code = WEXITSTATUS(status)};
    char *path = td_test_path("out");
    r.out = td_test_slurp(path, NULL);
    free(path);
    path = td_test_path("err");
    r.err = td_test_slurp(path, NULL);
    free(path);
    return r;
}

void td_test_command_free(td_test_command_t *result)
{
    free(result->out);
    free(result->err);
}
