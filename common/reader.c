/* reader.c - walks sources, opens archives and frames records.
 *
 * Every file goes through libarchive: archives (tar, zip, 7z, cpio) yield
 * their members, and any other file comes out as a single "raw" member,
 * decompressed by whatever filter matches (gzip, xz, bzip2, zstd...). Each
 * member is then framed into records:
 *   - XML: the whole member is one <clinical_study> document;
 *   - JSON: top-level values; a top-level array, or the "studies" array of
 *     an API page, yields its elements;
 *   - JSON Lines: one record per line; a line holding an API page yields its
 *     studies. A member is JSON Lines when its name ends .jsonl or .ndjson,
 *     or when its first value is an object that ends on its own first line
 *     with more on a later line, or that cannot go on past its first line as
 *     JSON (the line ends inside a string, or after a value where only ','
 *     or '}' may follow) while the next line starts with '{'. So a broken
 *     line costs one record only, and pretty-printed objects, one or several
 *     in a row, are still framed as values.
 * The framer tracks only nesting, strings and escapes; jansson parses each
 * framed record. Memory is bounded by the largest record.
 *
 * Every diagnostic goes through report() (or, for a record a mapper
 * rejected, finish_record()), which counts it by what it cost: nothing (a
 * warning), a record, or the rest of a file or member.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "td_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "record.h"

#define STREAM_BUFFER (64 * 1024)

typedef enum framing {
    FRAMING_NONE,    /* no member open */
    FRAMING_START,   /* member open, nothing read yet */
    FRAMING_TOP,     /* between top-level JSON values */
    FRAMING_LINES,   /* JSON Lines: one record per line */
    FRAMING_ARRAY,   /* inside a top-level array of studies */
    FRAMING_PAGE,    /* inside the "studies" array of an API page */
    FRAMING_XML,     /* a whole-member XML document */
    FRAMING_FINISHED /* member done */
} framing_t;

typedef struct buffer {
    char *data;
    size_t len;
    size_t capacity;
} buffer_t;

/* A directory by identity. Symbolic links to directories are followed (a
 * "latest -> 2024-01" link is useful), but a directory already walked is not
 * walked again, so a link back up the tree cannot loop. */
typedef struct directory_id {
    dev_t device;
    ino_t inode;
} directory_id_t;

/* What a diagnostic cost; report() counts it in the matching statistic. */
typedef enum cost {
    COST_NONE,             /* a warning: nothing was lost */
    COST_RECORD,           /* an error: one record was skipped */
    COST_SOURCE,           /* an error: the rest of a file or member was skipped */
    COST_RECORD_AND_SOURCE /* an error: the input ended inside a record */
} cost_t;

struct td_reader {
    td_format_t format;
    td_diag_fn on_diag;
    void *user;
    td_reader_stats_t stats;

    /* Paths still to visit, as a stack: the next one is on top. */
    char **pending;
    size_t pending_count;
    size_t pending_capacity;

    /* Directories walked so far, sorted by device and inode. */
    directory_id_t *directories;
    size_t directory_count;
    size_t directory_capacity;

    /* The open file and its current member. */
    struct archive *archive;
    char *path;          /* file being read */
    char *member_source; /* "path" or "path!member" */
    size_t file_members; /* regular members of the open file so far */
    framing_t framing;

    /* Buffered bytes of the current member. */
    char stream[STREAM_BUFFER];
    size_t stream_pos;
    size_t stream_len;
    bool stream_eof;
    bool stream_failed;   /* a read failed: the member ends there */
    bool archive_failed;  /* ... and the file cannot go on to another member */
    size_t line;          /* line of the next byte, from 1 */
    size_t column;        /* column of the next byte, in characters, from 1 */
    size_t record_number; /* records framed so far in this member */

    buffer_t record;      /* bytes of the record being framed */
    size_t record_column; /* column of the record's first byte on its line */
    char position[64];    /* of the record being built */

    /* An API page: the line where it starts, and when it came whole on one
     * JSON Lines line, the page itself, whose studies are mapped one per
     * call. */
    size_t page_line;
    json_t *page;
    size_t page_index;
};

bool td_format_parse(const char *name, td_format_t *out)
{
    static const struct {
        const char *name;
        td_format_t format;
    } names[] = {{"auto", TD_FORMAT_AUTO},
                 {"json", TD_FORMAT_CTGOV_JSON},
                 {"xml", TD_FORMAT_CTGOV_XML},
                 {"beir", TD_FORMAT_BEIR}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].format;
            return true;
        }
    return false;
}

const char *td_format_name(td_format_t format)
{
    switch (format) {
    case TD_FORMAT_CTGOV_JSON:
        return "json";
    case TD_FORMAT_CTGOV_XML:
        return "xml";
    case TD_FORMAT_BEIR:
        return "beir";
    case TD_FORMAT_AUTO:
        break;
    }
    return "auto";
}

/* ---- diagnostics ---- */

/* A byte for a message: 'c' when it is printable ASCII, else 0xNN. */
static const char *byte_text(int c, char out[8])
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, 8, "'%c'", c);
    else
        snprintf(out, 8, "0x%02x", (unsigned) c & 0xffu);
    return out;
}

/* "study 3, line 40" inside an array, "line 12", or "" when `line` is 0. */
static const char *format_position(char out[64], size_t study, size_t line)
{
    if (study)
        snprintf(out, 64, "study %zu, line %zu", study, line);
    else if (line)
        snprintf(out, 64, "line %zu", line);
    else
        out[0] = '\0';
    return out;
}

static void count(td_reader_t *reader, cost_t cost)
{
    switch (cost) {
    case COST_NONE:
        reader->stats.warnings++;
        break;
    case COST_RECORD:
        reader->stats.rejected++;
        break;
    case COST_SOURCE:
        reader->stats.failed_sources++;
        break;
    case COST_RECORD_AND_SOURCE:
        reader->stats.rejected++;
        reader->stats.failed_sources++;
        break;
    }
}

static void emit(td_reader_t *reader, td_diag_level_t level, const char *position,
                 const char *nct_id, const char *message)
{
    td_diagnostic_t diagnostic = {
        .level = level,
        .source =
            reader->member_source ? reader->member_source : (reader->path ? reader->path : ""),
        .position = position,
        .nct_id = nct_id,
        .message = message,
    };
    td_record_emit(reader->on_diag, reader->user, &diagnostic);
}

/* Reports a problem found by the reader itself (not by a mapper), in the
 * current file or member, at `line` (0: none) of study `study` (0: not in
 * an array), and counts it by its cost: a warning costs nothing. */
static void report(td_reader_t *reader, cost_t cost, size_t study, size_t line, const char *fmt,
                   ...) TD_PRINTF(5, 6);

static void report(td_reader_t *reader, cost_t cost, size_t study, size_t line, const char *fmt,
                   ...)
{
    char message[512], position[64];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    count(reader, cost);
    emit(reader, cost == COST_NONE ? TD_DIAG_WARNING : TD_DIAG_ERROR,
         format_position(position, study, line), "", message);
}

static bool push_pending(td_reader_t *reader, const char *path)
{
    if (reader->pending_count == reader->pending_capacity) {
        size_t capacity = reader->pending_capacity ? reader->pending_capacity * 2 : 16;
        char **grown = realloc(reader->pending, capacity * sizeof(*grown));
        if (!grown)
            return false;
        reader->pending = grown;
        reader->pending_capacity = capacity;
    }
    char *copy = strdup(path);
    if (!copy)
        return false;
    reader->pending[reader->pending_count++] = copy;
    return true;
}

static bool is_record_file_name(const char *name);

/* Adds up the sizes of the files a walk of the sources will read, for
 * progress; standard input makes the total unknown (0). nftw passes no
 * user pointer, hence the global under a mutex. */
static uint64_t walk_total;

static int add_record_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_F && (ftw->level == 0 || is_record_file_name(path + ftw->base)))
        walk_total += (uint64_t) st->st_size;
    return 0;
}

static uint64_t input_total(const char *const *sources, size_t count)
{
    static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(sources[i], "-") == 0)
            return 0;
        pthread_mutex_lock(&mutex);
        walk_total = 0;
        nftw(sources[i], add_record_file, 16, 0);
        total += walk_total;
        pthread_mutex_unlock(&mutex);
    }
    return total;
}

td_status_t td_reader_open(const char *const *sources, size_t source_count, td_format_t format,
                           td_diag_fn on_diag, void *user, td_reader_t **out)
{
    td_reader_t *reader = calloc(1, sizeof(*reader));
    if (!reader)
        return TD_ERR_NO_MEMORY;
    reader->format = format;
    reader->on_diag = on_diag;
    reader->user = user;
    for (size_t i = source_count; i-- > 0;)
        if (!push_pending(reader, sources[i])) {
            td_reader_close(reader);
            return TD_ERR_NO_MEMORY;
        }
    reader->stats.input_total = input_total(sources, source_count);
    *out = reader;
    return TD_OK;
}

static void close_member(td_reader_t *reader)
{
    free(reader->member_source);
    reader->member_source = NULL;
    json_decref(reader->page);
    reader->page = NULL;
    reader->framing = FRAMING_NONE;
}

static void close_file(td_reader_t *reader)
{
    close_member(reader);
    if (reader->archive) {
        reader->stats.input_bytes += (uint64_t) archive_filter_bytes(reader->archive, -1);
        archive_read_free(reader->archive);
    }
    reader->archive = NULL;
    free(reader->path);
    reader->path = NULL;
}

void td_reader_close(td_reader_t *reader)
{
    if (!reader)
        return;
    close_file(reader);
    for (size_t i = 0; i < reader->pending_count; i++)
        free(reader->pending[i]);
    free(reader->pending);
    free(reader->directories);
    free(reader->record.data);
    free(reader);
}

td_reader_stats_t td_reader_stats(const td_reader_t *reader)
{
    td_reader_stats_t stats = reader->stats;
    if (reader->archive)
        stats.input_bytes += (uint64_t) archive_filter_bytes(reader->archive, -1);
    return stats;
}

/* ---- the byte stream of the current member ---- */

static bool refill(td_reader_t *reader)
{
    if (reader->stream_eof)
        return false;
    la_ssize_t got = archive_read_data(reader->archive, reader->stream, sizeof(reader->stream));
    if (got > 0) {
        reader->stats.bytes += (uint64_t) got;
        reader->stream_pos = 0;
        reader->stream_len = (size_t) got;
        return true;
    }
    reader->stream_eof = true;
    if (got < 0) {
        /* A damaged member (a zip member whose CRC does not match gives
         * ARCHIVE_WARN) ends that member only; after ARCHIVE_FATAL the
         * archive cannot go on. */
        reader->stream_failed = true;
        reader->archive_failed = got == ARCHIVE_FATAL;
        bool whole_file =
            reader->archive_failed || archive_format(reader->archive) == ARCHIVE_FORMAT_RAW;
        const char *why = archive_error_string(reader->archive);
        report(reader, COST_SOURCE, 0, reader->line, "read failed, rest of %s skipped: %s",
               whole_file ? "file" : "member", why ? why : "unknown error");
    }
    return false;
}

/* Next byte of the member, or -1 at its end. Columns count characters, as
 * jansson's do. */
static int next_byte(td_reader_t *reader)
{
    if (reader->stream_pos == reader->stream_len && !refill(reader))
        return -1;
    int c = (unsigned char) reader->stream[reader->stream_pos++];
    if (c == '\n') {
        reader->line++;
        reader->column = 1;
    } else if ((c & 0xC0) != 0x80) {
        reader->column++;
    }
    return c;
}

static int peek_byte(td_reader_t *reader)
{
    if (reader->stream_pos == reader->stream_len && !refill(reader))
        return -1;
    return (unsigned char) reader->stream[reader->stream_pos];
}

static bool is_json_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int skip_json_space(td_reader_t *reader)
{
    int c;
    while ((c = peek_byte(reader)) >= 0 && is_json_space(c))
        next_byte(reader);
    return c;
}

/* Appends a byte to the record; past TD_RECORD_MAX the record is marked
 * oversized (capacity stays bounded) and later bytes are dropped. */
static bool record_append(td_reader_t *reader, int c, bool *oversized)
{
    buffer_t *b = &reader->record;
    if (*oversized)
        return true;
    if (b->len + 1 >= TD_RECORD_MAX) {
        *oversized = true;
        return true;
    }
    if (b->len + 1 >= b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : STREAM_BUFFER;
        char *grown = realloc(b->data, capacity);
        if (!grown)
            return false;
        b->data = grown;
        b->capacity = capacity;
    }
    b->data[b->len++] = (char) c;
    return true;
}

/* Skips white space like skip_json_space, keeping it in the record so that
 * the parser's line numbers stay right. */
static int append_json_space(td_reader_t *reader, bool *oversized, bool *no_memory)
{
    int c;
    while ((c = peek_byte(reader)) >= 0 && is_json_space(c))
        if (!record_append(reader, next_byte(reader), oversized)) {
            *no_memory = true;
            break;
        }
    return c;
}

/* ---- opening files and members ---- */

static const char *const compression_suffixes[] = {".gz", ".xz", ".bz2", ".zst", ""};

/* Whether `name` ends with `base` followed by an optional compression
 * suffix, ignoring case: has_suffix("a.JSONL.gz", ".jsonl") is true. */
static bool has_suffix(const char *name, const char *base)
{
    size_t len = strlen(name), base_len = strlen(base);
    for (size_t c = 0; c < sizeof(compression_suffixes) / sizeof(compression_suffixes[0]); c++) {
        size_t suffix_len = strlen(compression_suffixes[c]);
        if (len < base_len + suffix_len ||
            strcasecmp(name + len - suffix_len, compression_suffixes[c]) != 0)
            continue;
        if (strncasecmp(name + len - suffix_len - base_len, base, base_len) == 0)
            return true;
    }
    return false;
}

/* JSON Lines members are framed by lines from the start, so even a broken
 * first line costs one record only. */
static bool is_json_lines_name(const char *name)
{
    return has_suffix(name, ".jsonl") || has_suffix(name, ".ndjson");
}

/* Files a directory walk reads: records and archives, possibly compressed.
 * Anything else (README, CSV exports) is passed over silently. */
static bool is_record_file_name(const char *name)
{
    static const char *const bases[] = {".json", ".jsonl", ".ndjson", ".xml", ".zip",
                                        ".tar",  ".tgz",   ".txz",    ".7z"};
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        if (has_suffix(name, bases[b]))
            return true;
    return false;
}

static int compare_directories(const directory_id_t *a, const directory_id_t *b)
{
    if (a->device != b->device)
        return a->device < b->device ? -1 : 1;
    if (a->inode != b->inode)
        return a->inode < b->inode ? -1 : 1;
    return 0;
}

/* Adds the directory `st` describes to the walked set. Returns TD_OK, TD_DONE
 * when it was there already, or TD_ERR_NO_MEMORY. */
static td_status_t remember_directory(td_reader_t *reader, const struct stat *st)
{
    directory_id_t id = {st->st_dev, st->st_ino};
    size_t low = 0, high = reader->directory_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = compare_directories(&reader->directories[middle], &id);
        if (order == 0)
            return TD_DONE;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    if (reader->directory_count == reader->directory_capacity) {
        size_t capacity = reader->directory_capacity ? reader->directory_capacity * 2 : 16;
        directory_id_t *grown = realloc(reader->directories, capacity * sizeof(*grown));
        if (!grown)
            return TD_ERR_NO_MEMORY;
        reader->directories = grown;
        reader->directory_capacity = capacity;
    }
    memmove(reader->directories + low + 1, reader->directories + low,
            (reader->directory_count - low) * sizeof(*reader->directories));
    reader->directories[low] = id;
    reader->directory_count++;
    return TD_OK;
}

/* Queues the entries of the directory reader->path. */
static td_status_t expand_directory(td_reader_t *reader, const struct stat *st)
{
    const char *path = reader->path;
    td_status_t status = remember_directory(reader, st);
    if (status == TD_DONE) {
        report(reader, COST_NONE, 0, 0,
               "directory already read (named twice, or a symbolic link leads back to it); "
               "skipped");
        return TD_OK;
    }
    if (status != TD_OK)
        return status;
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, alphasort);
    if (n < 0) {
        report(reader, COST_SOURCE, 0, 0, "cannot read directory: %s", strerror(errno));
        return TD_OK;
    }
    /* Push in reverse so the stack pops them in name order. */
    for (int i = n; i-- > 0;) {
        const char *name = entries[i]->d_name;
        if (status == TD_OK && name[0] != '.') {
            size_t len = strlen(path) + strlen(name) + 2;
            char *child = malloc(len);
            struct stat child_st;
            if (!child) {
                status = TD_ERR_NO_MEMORY;
            } else {
                snprintf(child, len, "%s/%s", path, name);
                /* A path that cannot be examined is queued, to be reported. */
                bool wanted = stat(child, &child_st) != 0 || S_ISDIR(child_st.st_mode) ||
                              is_record_file_name(name);
                if (wanted && !push_pending(reader, child))
                    status = TD_ERR_NO_MEMORY;
            }
            free(child);
        }
        free(entries[i]);
    }
    free(entries);
    return status;
}

/* Takes the next path off the stack and opens it. Returns TD_DONE when
 * there is none left. */
static td_status_t open_next_file(td_reader_t *reader)
{
    while (reader->pending_count) {
        reader->path = reader->pending[--reader->pending_count];
        bool is_stdin = strcmp(reader->path, "-") == 0;
        struct stat st;
        if (!is_stdin && stat(reader->path, &st) != 0) {
            report(reader, COST_SOURCE, 0, 0, "cannot open: %s", strerror(errno));
            close_file(reader);
            continue;
        }
        if (!is_stdin && S_ISDIR(st.st_mode)) {
            td_status_t status = expand_directory(reader, &st);
            close_file(reader);
            if (status != TD_OK)
                return status;
            continue;
        }
        if (is_stdin) {
            free(reader->path);
            reader->path = strdup("<stdin>");
            if (!reader->path)
                return TD_ERR_NO_MEMORY;
        }
        struct archive *a = archive_read_new();
        if (!a)
            return TD_ERR_NO_MEMORY;
        reader->archive = a;
        reader->file_members = 0;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_zip(a);
        archive_read_support_format_7zip(a);
        archive_read_support_format_cpio(a);
        /* An empty input (file, stdin, compressed nothing) is a format of its
         * own; without it libarchive cannot open one. */
        archive_read_support_format_empty(a);
        archive_read_support_format_raw(a);
        int rc = is_stdin ? archive_read_open_fd(a, 0, STREAM_BUFFER)
                          : archive_read_open_filename(a, reader->path, STREAM_BUFFER);
        if (rc != ARCHIVE_OK) {
            const char *why = archive_error_string(a);
            report(reader, COST_SOURCE, 0, 0, "cannot open: %s", why ? why : "unknown error");
            close_file(reader);
            continue;
        }
        return TD_OK;
    }
    return TD_DONE;
}

/* Whether the member starts like a compressed file or an archive, which
 * libarchive does not open inside an archive. */
static bool looks_packed(const td_reader_t *reader)
{
    static const struct {
        size_t offset;
        const char *magic;
        size_t len;
    } kinds[] = {
        {0, "\x1f\x8b", 2}, /* gzip */
        {0, "BZh", 3},      /* bzip2 */
        {0,
         "\xfd"
         "7zXZ",
         5},                        /* xz */
        {0, "\x28\xb5\x2f\xfd", 4}, /* zstd */
        {0, "PK\x03\x04", 4},       /* zip */
        {0, "7z\xbc\xaf", 4},       /* 7z */
        {257, "ustar", 5},          /* tar */
    };
    const char *at = reader->stream + reader->stream_pos;
    size_t available = reader->stream_len - reader->stream_pos;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (available >= kinds[k].offset + kinds[k].len &&
            memcmp(at + kinds[k].offset, kinds[k].magic, kinds[k].len) == 0)
            return true;
    return false;
}

/* Chooses the member's framing from its first bytes. A member that is
 * neither JSON nor XML (or not the forced format) is an error: it was
 * named, or is part of an archive that was, so its records would otherwise
 * be lost without a word. */
static void start_member(td_reader_t *reader)
{
    reader->stream_pos = reader->stream_len = 0;
    reader->stream_eof = reader->stream_failed = reader->archive_failed = false;
    reader->line = reader->column = 1;
    reader->record_number = 0;
    reader->framing = FRAMING_FINISHED;
    /* Skip a UTF-8 byte order mark and leading space. */
    if (peek_byte(reader) == 0xEF) {
        next_byte(reader);
        bool bom = next_byte(reader) == 0xBB && next_byte(reader) == 0xBF;
        if (reader->stream_failed)
            return;
        if (!bom) {
            report(reader, COST_SOURCE, 0, 0, "not JSON or XML: bad byte order mark; skipped");
            return;
        }
        reader->column = 1; /* editors do not show the mark */
    }
    int c = skip_json_space(reader);
    if (reader->stream_failed)
        return;
    if (c < 0) {
        report(reader, COST_NONE, 0, 0, "empty file, no records");
        return;
    }
    char shown[8];
    bool xml = c == '<';
    if (reader->format == TD_FORMAT_AUTO && !xml && c != '{' && c != '[') {
        if (archive_format(reader->archive) != ARCHIVE_FORMAT_RAW && looks_packed(reader))
            report(reader, COST_SOURCE, 0, 0,
                   "a compressed file or archive inside an archive is not read; extract it "
                   "first");
        else
            report(reader, COST_SOURCE, 0, 0, "not JSON or XML (starts with %s); skipped",
                   byte_text(c, shown));
        return;
    }
    if (reader->format != TD_FORMAT_AUTO && xml != (reader->format == TD_FORMAT_CTGOV_XML)) {
        report(reader, COST_SOURCE, 0, 0, "not %s input (starts with %s); skipped",
               td_format_name(reader->format), byte_text(c, shown));
        return;
    }
    if (xml)
        reader->framing = FRAMING_XML;
    else if (is_json_lines_name(reader->member_source))
        reader->framing = FRAMING_LINES;
    else
        reader->framing = FRAMING_START;
}

/* Moves to the next member of the open file. Returns TD_DONE at its end. */
static td_status_t open_next_member(td_reader_t *reader)
{
    for (;;) {
        close_member(reader);
        struct archive_entry *entry;
        int rc = archive_read_next_header(reader->archive, &entry);
        const char *why = archive_error_string(reader->archive);
        if (rc == ARCHIVE_EOF) {
            if (!reader->file_members)
                report(reader, COST_NONE, 0, 0, "%s, no records",
                       archive_format(reader->archive) == ARCHIVE_FORMAT_EMPTY
                           ? "empty file"
                           : "archive without files");
            return TD_DONE;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            report(reader, COST_SOURCE, 0, 0, "damaged or truncated archive, rest skipped: %s",
                   why ? why : "unknown error");
            return TD_DONE;
        }
        if (rc == ARCHIVE_WARN)
            report(reader, COST_NONE, 0, 0, "%s", why ? why : "archive warning");
        if (archive_format(reader->archive) == ARCHIVE_FORMAT_RAW) {
            reader->member_source = strdup(reader->path);
        } else {
            if (archive_entry_filetype(entry) != AE_IFREG)
                continue;
            const char *name = archive_entry_pathname(entry);
            size_t len = strlen(reader->path) + strlen(name ? name : "") + 2;
            reader->member_source = malloc(len);
            if (reader->member_source)
                snprintf(reader->member_source, len, "%s!%s", reader->path, name ? name : "");
        }
        if (!reader->member_source)
            return TD_ERR_NO_MEMORY;
        reader->file_members++;
        reader->stats.sources++;
        start_member(reader);
        return TD_OK;
    }
}

/* ---- JSON framing ---- */

typedef enum scan_result {
    SCAN_VALUE,       /* a complete value is in reader->record */
    SCAN_PAGE,        /* an object turned out to be an API page: now inside "studies" */
    SCAN_BROKEN_LINE, /* the first line is a broken JSON Lines record, in reader->record */
    SCAN_TRUNCATED,   /* the member ended inside the value */
    SCAN_NO_MEMORY
} scan_result_t;

/* Reads a scalar element (string, number, literal, or a stray byte) into
 * reader->record. Its first byte is taken whatever it is, so the framer
 * always moves on. */
static scan_result_t scan_scalar(td_reader_t *reader, bool *oversized)
{
    int c = next_byte(reader);
    if (c < 0)
        return SCAN_TRUNCATED;
    if (!record_append(reader, c, oversized))
        return SCAN_NO_MEMORY;
    bool in_string = c == '"', escaped = false;
    for (;;) {
        c = peek_byte(reader);
        if (c < 0)
            return in_string ? SCAN_TRUNCATED : SCAN_VALUE;
        if (!in_string && (is_json_space(c) || c == ',' || c == ']' || c == '}'))
            return SCAN_VALUE;
        next_byte(reader);
        if (!record_append(reader, c, oversized))
            return SCAN_NO_MEMORY;
        if (escaped)
            escaped = false;
        else if (in_string && c == '\\')
            escaped = true;
        else if (in_string && c == '"')
            return SCAN_VALUE;
    }
}

/* Whether an object whose first line has just been read (the record ends
 * with its '\n') can go on as JSON on the next line. It cannot when the line
 * ends inside a string (JSON strings hold no line break) or after a value,
 * where only ',' or '}' may follow. */
static bool first_line_can_go_on(const td_reader_t *reader, bool in_string)
{
    if (in_string)
        return false;
    size_t i = reader->record.len - 1;
    while (i && is_json_space(reader->record.data[i - 1]))
        i--;
    if (!i)
        return true;
    char last = reader->record.data[i - 1];
    return last == '{' || last == '[' || last == ',' || last == ':';
}

/* Reads one JSON value, whose first byte is next in the stream, into
 * reader->record. Only nesting and strings are checked here.
 *
 * With detect_page, an object whose key "studies" at depth 1 holds an array
 * stops there and returns SCAN_PAGE, with the stream just past the '[';
 * unless a "protocolSection" key came first: then the object is a study.
 *
 * With detect_lines, when the object cannot go on past its first line (see
 * first_line_can_go_on) and the next non-blank byte is '{', the record is
 * cut to that line and SCAN_BROKEN_LINE returned: the member is JSON Lines
 * with a broken first line. */
static scan_result_t scan_value(td_reader_t *reader, bool detect_page, bool detect_lines,
                                bool *oversized)
{
    reader->record.len = 0;
    *oversized = false;
    int first = peek_byte(reader);
    if (first != '{' && first != '[')
        return scan_scalar(reader, oversized);
    size_t depth = 0;
    bool in_string = false, escaped = false, no_memory = false;
    bool expect_key = false; /* at depth 1 of an object, before a key */
    size_t key_start = 0;    /* record offset of the last string's opening quote */
    bool key_is_studies = false, seen_protocol = false;
    for (;;) {
        int c = next_byte(reader);
        if (c < 0)
            return SCAN_TRUNCATED;
        if (!record_append(reader, c, oversized))
            return SCAN_NO_MEMORY;
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
                if (expect_key && depth == 1 && !*oversized) {
                    size_t key_len = reader->record.len - key_start;
                    const char *key = reader->record.data + key_start;
                    key_is_studies = key_len == 9 && memcmp(key, "\"studies\"", 9) == 0;
                    if (key_len == 17 && memcmp(key, "\"protocolSection\"", 17) == 0)
                        seen_protocol = true;
                    expect_key = false;
                }
            }
        } else {
            switch (c) {
            case '"':
                in_string = true;
                key_start = reader->record.len - 1;
                break;
            case '{':
            case '[':
                depth++;
                expect_key = detect_page && depth == 1;
                break;
            case '}':
            case ']':
                if (--depth == 0)
                    return SCAN_VALUE;
                break;
            case ',':
                expect_key = detect_page && depth == 1;
                break;
            case ':':
                if (depth == 1 && key_is_studies && !seen_protocol) {
                    key_is_studies = false;
                    int next = append_json_space(reader, oversized, &no_memory);
                    if (no_memory)
                        return SCAN_NO_MEMORY;
                    if (next == '[') {
                        next_byte(reader);
                        return SCAN_PAGE;
                    }
                }
                break;
            default:
                break;
            }
        }
        if (c == '\n' && detect_lines) {
            detect_lines = false;
            if (!*oversized && !first_line_can_go_on(reader, in_string)) {
                size_t line_end = reader->record.len - 1;
                int next = append_json_space(reader, oversized, &no_memory);
                if (no_memory)
                    return SCAN_NO_MEMORY;
                if (next == '{') {
                    reader->record.len = line_end;
                    while (reader->record.len &&
                           reader->record.data[reader->record.len - 1] == '\r')
                        reader->record.len--;
                    return SCAN_BROKEN_LINE;
                }
            }
        }
    }
}

/* Reads up to the end of the line into reader->record (without the line
 * end). Returns false at the end of the member with nothing read. */
static bool read_line(td_reader_t *reader, bool *oversized, bool *no_memory)
{
    reader->record.len = 0;
    *oversized = false;
    *no_memory = false;
    int c = next_byte(reader);
    if (c < 0)
        return false;
    while (c >= 0 && c != '\n') {
        if (!record_append(reader, c, oversized)) {
            *no_memory = true;
            return true;
        }
        c = next_byte(reader);
    }
    while (reader->record.len && reader->record.data[reader->record.len - 1] == '\r')
        reader->record.len--;
    return true;
}

/* After the "studies" array of a page: skips the rest of the page object.
 * A page that also has a "protocolSection" key might be a study that
 * happens to have a "studies" member; it is read as a page, with a warning,
 * so that the study does not vanish without a word. */
static void finish_page(td_reader_t *reader)
{
    static const char protocol[] = "protocolSection";
    size_t depth = 1, key_len = 0;
    bool in_string = false, escaped = false, expect_key = false;
    bool in_key = false, key_matches = false, seen_protocol = false;
    int c;
    while (depth && (c = next_byte(reader)) >= 0) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
                key_matches = false;
            } else if (c == '"') {
                in_string = false;
                seen_protocol |= in_key && key_matches && key_len == sizeof(protocol) - 1;
            } else if (in_key) {
                key_matches =
                    key_matches && key_len < sizeof(protocol) - 1 && c == protocol[key_len];
                key_len++;
            }
        } else if (c == '"') {
            in_string = true;
            in_key = expect_key && depth == 1;
            key_matches = true;
            key_len = 0;
            expect_key = false;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',') {
            expect_key = depth == 1;
        }
    }
    /* After a failed read the failure is reported (and counted) already. */
    if (depth && !reader->stream_failed)
        report(reader, COST_SOURCE, 0, reader->line,
               "truncated API page: input ends inside the page");
    else if (!depth && seen_protocol)
        report(reader, COST_NONE, 0, reader->page_line,
               "an API page with a \"protocolSection\" key: its \"studies\" were read, the rest "
               "of it ignored");
    reader->framing = FRAMING_TOP;
}

/* Whether a JSON Lines record is a whole API page rather than a study. */
static bool is_page(const json_t *value)
{
    return json_is_array(json_object_get(value, "studies")) &&
           !json_object_get(value, "protocolSection");
}

/* ---- turning framed bytes into a trial ---- */

static td_status_t start_record(td_reader_t *reader, td_record_ctx_t *ctx, size_t first_line)
{
    *ctx = (td_record_ctx_t){
        .trial = td_trial_new(),
        .source = reader->member_source,
        .position = reader->position,
        .line_offset = first_line ? first_line - 1 : 0,
        .on_diag = reader->on_diag,
        .user = reader->user,
    };
    return ctx->trial ? TD_OK : TD_ERR_NO_MEMORY;
}

/* Maps one JSON value: a study, or in auto mode a document with "_id" or
 * "text" and no "protocolSection", which is a BEIR document. */
static td_status_t map_json(td_reader_t *reader, td_record_ctx_t *ctx, const json_t *value)
{
    if (!json_is_object(value))
        return td_record_reject(ctx, "expected a JSON object, got %s",
                                json_is_array(value) ? "an array" : "a scalar");
    bool beir = reader->format == TD_FORMAT_BEIR ||
                (reader->format == TD_FORMAT_AUTO && !json_object_get(value, "protocolSection") &&
                 (json_object_get(value, "_id") || json_object_get(value, "text")));
    return beir ? td_map_beir(ctx, value) : td_map_ctgov_json(ctx, value);
}

/* An exact copy of `text` in the trial's arena ("" stays ""). */
static const char *arena_copy(td_trial_t *trial, const char *text)
{
    size_t len = strlen(text);
    char *copy = td_trial_calloc(trial, len + 1, 1);
    if (copy)
        memcpy(copy, text, len);
    return copy;
}

/* Counts and reports what became of a mapped record; with TD_OK hands the
 * trial to the caller, otherwise frees it. */
static td_status_t finish_record(td_reader_t *reader, td_record_ctx_t *ctx, td_status_t status,
                                 td_trial_t **out)
{
    td_trial_t *trial = ctx->trial;
    reader->stats.warnings += ctx->warnings;
    if (ctx->out_of_memory)
        status = TD_ERR_NO_MEMORY;
    if (status == TD_OK) {
        trial->source = arena_copy(trial, reader->member_source);
        trial->position = arena_copy(trial, reader->position);
        if (!trial->source || !trial->position)
            status = TD_ERR_NO_MEMORY;
    }
    if (status == TD_OK) {
        reader->stats.records++;
        *out = trial;
        return TD_OK;
    }
    if (status == TD_ERR_BAD_INPUT) {
        count(reader, COST_RECORD);
        emit(reader, TD_DIAG_ERROR, reader->position, trial->nct_id, ctx->error);
    }
    td_trial_free(trial);
    return status;
}

/* Builds a trial from the framed bytes in reader->record. Returns TD_OK
 * with *out set, TD_ERR_BAD_INPUT when the record was reported and skipped,
 * TD_DONE when it was an API page whose studies follow, or
 * TD_ERR_NO_MEMORY. */
static td_status_t build_record(td_reader_t *reader, size_t first_line, td_trial_t **out)
{
    static char nothing[1];
    reader->record_number++;
    if (reader->framing == FRAMING_XML)
        reader->position[0] = '\0'; /* the record is the whole member */
    else
        format_position(reader->position,
                        reader->framing == FRAMING_ARRAY || reader->framing == FRAMING_PAGE
                            ? reader->record_number
                            : 0,
                        first_line);

    td_record_ctx_t ctx;
    if (start_record(reader, &ctx, first_line) != TD_OK)
        return TD_ERR_NO_MEMORY;
    char *data = reader->record.len ? reader->record.data : nothing;
    size_t len = reader->record.len;
    char *repaired = NULL;
    size_t repaired_len = 0;
    size_t bad = td_utf8_repair(data, len, &repaired, &repaired_len);
    if (bad == (size_t) -1) {
        td_trial_free(ctx.trial);
        return TD_ERR_NO_MEMORY;
    }
    if (bad) {
        td_record_warn(&ctx, "invalid UTF-8: %zu byte sequence%s replaced with U+FFFD", bad,
                       bad == 1 ? "" : "s");
        data = repaired;
        len = repaired_len;
    }

    td_status_t status;
    if (reader->framing == FRAMING_XML) {
        status = td_map_ctgov_xml(&ctx, data, len);
    } else {
        size_t escapes = td_json_repair_escapes(data, len);
        if (escapes)
            td_record_warn(&ctx, "%zu \\u0000 or unpaired surrogate escape%s replaced with U+FFFD",
                           escapes, escapes == 1 ? "" : "s");
        json_error_t error;
        json_t *value = json_loadb(data, len, JSON_DECODE_ANY, &error);
        if (!value) {
            /* jansson counts from the record's start, which need not be the
             * start of its line. */
            int column = error.column;
            if (error.line <= 1 && column > 0)
                column += (int) reader->record_column - 1;
            status = td_record_reject(&ctx, "malformed JSON at line %zu, column %d: %s",
                                      first_line + (size_t) (error.line > 0 ? error.line - 1 : 0),
                                      column, error.text);
        } else if (reader->framing == FRAMING_LINES && is_page(value)) {
            reader->stats.warnings += ctx.warnings;
            td_trial_free(ctx.trial);
            free(repaired);
            reader->record_number--; /* the page is not a study; its elements are */
            reader->page = value;
            reader->page_index = 0;
            reader->page_line = first_line;
            return TD_DONE;
        } else {
            status = map_json(reader, &ctx, value);
            json_decref(value);
        }
    }
    free(repaired);
    return finish_record(reader, &ctx, status, out);
}

/* The next study of an API page read whole from one line. Returns as
 * build_record, TD_DONE once the page is used up. */
static td_status_t next_page_study(td_reader_t *reader, td_trial_t **out)
{
    const json_t *studies = json_object_get(reader->page, "studies");
    if (reader->page_index >= json_array_size(studies)) {
        json_decref(reader->page);
        reader->page = NULL;
        return TD_DONE;
    }
    const json_t *study = json_array_get(studies, reader->page_index++);
    reader->record_number++;
    format_position(reader->position, reader->record_number, reader->page_line);
    td_record_ctx_t ctx;
    if (start_record(reader, &ctx, reader->page_line) != TD_OK)
        return TD_ERR_NO_MEMORY;
    return finish_record(reader, &ctx, map_json(reader, &ctx, study), out);
}

static void reject_oversized(td_reader_t *reader, bool in_array, size_t first_line,
                             const char *what)
{
    reader->record_number++;
    report(reader, COST_RECORD, in_array ? reader->record_number : 0, first_line,
           "%s larger than the %u MiB record limit; skipped", what, TD_RECORD_MAX >> 20);
}

/* Whether a byte can begin or end an element of an array. */
static bool is_element_boundary(int c)
{
    return c == ',' || c == ']' || c == '{' || c == '[' || c == '"';
}

/* Frames the next record of the current member. Returns TD_OK when
 * reader->record holds one (and *first_line where it began), TD_DONE at the
 * member's end, TD_ERR_BAD_INPUT after reporting a record that was skipped,
 * or TD_ERR_NO_MEMORY. */
static td_status_t frame_next(td_reader_t *reader, size_t *first_line)
{
    bool oversized = false;
    for (;;) {
        switch (reader->framing) {
        case FRAMING_NONE:
        case FRAMING_FINISHED:
            return TD_DONE;

        case FRAMING_XML: {
            int c;
            reader->record.len = 0;
            *first_line = reader->line; /* blank lines before it were passed over */
            while ((c = next_byte(reader)) >= 0)
                if (!record_append(reader, c, &oversized))
                    return TD_ERR_NO_MEMORY;
            if (reader->stream_failed) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            if (oversized) {
                reader->framing = FRAMING_FINISHED;
                reject_oversized(reader, false, 0, "document");
                return TD_ERR_BAD_INPUT;
            }
            return TD_OK; /* build_record sees FRAMING_XML, then the member ends */
        }

        case FRAMING_LINES: {
            bool no_memory;
            *first_line = reader->line;
            reader->record_column = 1;
            if (!read_line(reader, &oversized, &no_memory)) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            if (no_memory)
                return TD_ERR_NO_MEMORY;
            if (reader->stream_failed && reader->stream_eof) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE; /* a partial last line of a failed read */
            }
            if (oversized) {
                reject_oversized(reader, false, *first_line, "line");
                return TD_ERR_BAD_INPUT;
            }
            size_t i = 0;
            while (i < reader->record.len && is_json_space(reader->record.data[i]))
                i++;
            if (i == reader->record.len)
                continue; /* blank line */
            return TD_OK;
        }

        case FRAMING_START:
        case FRAMING_TOP: {
            int c = skip_json_space(reader);
            if (c < 0) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            *first_line = reader->line;
            reader->record_column = reader->column;
            if (c == '[') {
                next_byte(reader);
                reader->framing = FRAMING_ARRAY;
                continue;
            }
            if (c != '{') {
                char shown[8];
                report(reader, COST_SOURCE, 0, *first_line,
                       "unexpected %s where a study or array should start; rest of file skipped",
                       byte_text(c, shown));
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            bool first = reader->framing == FRAMING_START;
            scan_result_t result = scan_value(reader, true, first, &oversized);
            if (result == SCAN_NO_MEMORY)
                return TD_ERR_NO_MEMORY;
            if (result == SCAN_PAGE) {
                reader->page_line = *first_line;
                reader->framing = FRAMING_PAGE;
                continue;
            }
            if (result == SCAN_TRUNCATED) {
                reader->framing = FRAMING_FINISHED;
                if (reader->stream_failed)
                    return TD_DONE;
                report(reader, COST_RECORD_AND_SOURCE, 0, *first_line,
                       "truncated JSON: input ends inside the record that starts here");
                return TD_ERR_BAD_INPUT;
            }
            reader->framing = FRAMING_TOP;
            if (result == SCAN_BROKEN_LINE) {
                reader->framing = FRAMING_LINES;
            } else if (first && reader->line == *first_line) {
                /* An object on one line with more after a line end: JSON Lines. */
                size_t end_line = reader->line;
                if (skip_json_space(reader) >= 0 && reader->line > end_line)
                    reader->framing = FRAMING_LINES;
            }
            if (oversized) {
                reject_oversized(reader, false, *first_line, "record");
                return TD_ERR_BAD_INPUT;
            }
            return TD_OK;
        }

        case FRAMING_ARRAY:
        case FRAMING_PAGE: {
            int c = skip_json_space(reader);
            if (c == ',') {
                next_byte(reader);
                c = skip_json_space(reader);
            }
            if (c == ']') {
                next_byte(reader);
                if (reader->framing == FRAMING_PAGE)
                    finish_page(reader);
                else
                    reader->framing = FRAMING_TOP;
                continue;
            }
            *first_line = reader->line;
            reader->record_column = reader->column;
            if (c < 0) {
                reader->framing = FRAMING_FINISHED;
                if (!reader->stream_failed)
                    report(reader, COST_SOURCE, reader->record_number + 1, *first_line,
                           "truncated JSON: input ends inside the array of studies");
                return TD_DONE;
            }
            if (c == '}' || c == ',' || c == ':') {
                /* No element starts so: skip to where one might, and say so
                 * once. */
                char shown[8];
                byte_text(c, shown);
                size_t column = reader->column;
                do
                    next_byte(reader);
                while ((c = peek_byte(reader)) >= 0 && !is_element_boundary(c));
                report(reader, COST_RECORD, 0, *first_line,
                       "unexpected %s at column %zu in the array of studies; skipped to the next "
                       "study",
                       shown, column);
                return TD_ERR_BAD_INPUT;
            }
            scan_result_t result = scan_value(reader, false, false, &oversized);
            if (result == SCAN_NO_MEMORY)
                return TD_ERR_NO_MEMORY;
            if (result == SCAN_TRUNCATED) {
                reader->framing = FRAMING_FINISHED;
                if (reader->stream_failed)
                    return TD_DONE;
                report(reader, COST_RECORD_AND_SOURCE, reader->record_number + 1, *first_line,
                       "truncated JSON: input ends inside the array of studies");
                return TD_ERR_BAD_INPUT;
            }
            if (oversized) {
                reject_oversized(reader, true, *first_line, "study");
                return TD_ERR_BAD_INPUT;
            }
            return TD_OK;
        }
        }
    }
}

td_status_t td_reader_next(td_reader_t *reader, td_trial_t **out)
{
    for (;;) {
        td_status_t status;
        if (reader->page) {
            status = next_page_study(reader, out);
            if (status == TD_OK || status == TD_ERR_NO_MEMORY)
                return status;
            continue;
        }
        if (reader->framing != FRAMING_NONE) {
            size_t first_line = 1;
            status = frame_next(reader, &first_line);
            if (status == TD_OK) {
                status = build_record(reader, first_line, out);
                if (reader->framing == FRAMING_XML)
                    reader->framing = FRAMING_FINISHED;
                if (status == TD_OK || status == TD_ERR_NO_MEMORY)
                    return status;
                continue;
            }
            if (status == TD_ERR_NO_MEMORY)
                return status;
            if (status == TD_ERR_BAD_INPUT)
                continue;
            if (reader->archive_failed) {
                /* The archive cannot go on past a fatal read error. */
                close_file(reader);
                continue;
            }
            close_member(reader);
        }
        if (reader->archive) {
            status = open_next_member(reader);
            if (status == TD_DONE)
                close_file(reader);
            else if (status != TD_OK)
                return status;
            continue;
        }
        status = open_next_file(reader);
        if (status != TD_OK)
            return status;
    }
}
