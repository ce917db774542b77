/* reader.c - walks sources, opens archives and frames records.
 *
 * Every file goes through libarchive: archives (tar, zip, 7z, cpio) yield
 * their members, and any other file comes out as a single "raw" member,
 * decompressed by whatever filter matches (gzip, xz, bzip2, zstd...). Each
 * member is then framed into records:
 *   - XML: the whole member is one <clinical_study> document;
 *   - JSON: top-level values; a top-level array, or the "studies" array of
 *     an API page, yields its elements. When the first value is an object
 *     that ends on its own first line, the member is taken as JSON Lines and
 *     framed line by line, so one broken line costs one record only.
 * The framer tracks only nesting, strings and escapes; jansson parses each
 * framed record. Memory is bounded by the largest record.
 */
#include "td_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct td_reader {
    td_format_t format;
    td_diag_fn on_diag;
    void *user;
    td_reader_stats_t stats;

    /* Paths still to visit, as a stack: the next one is on top. */
    char **pending;
    size_t pending_count;
    size_t pending_capacity;

    /* The open file and its current member. */
    struct archive *archive;
    char *path;          /* file being read */
    char *member_source; /* "path" or "path!member" */
    framing_t framing;
    td_format_t member_format;

    /* Buffered bytes of the current member. */
    char stream[STREAM_BUFFER];
    size_t stream_pos;
    size_t stream_len;
    bool stream_eof;
    bool stream_failed;
    size_t line;          /* line of the next byte, from 1 */
    size_t record_number; /* records framed so far in this member */

    buffer_t record; /* bytes of the record being framed */
    char position[64];
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

/* Diagnostics about a member or file, not about one mapped record. */
static void diag(td_reader_t *reader, td_diag_level_t level, const char *position, const char *fmt,
                 ...) TD_PRINTF(4, 5);

static void diag(td_reader_t *reader, td_diag_level_t level, const char *position, const char *fmt,
                 ...)
{
    if (level == TD_DIAG_WARNING)
        reader->stats.warnings++;
    if (!reader->on_diag)
        return;
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    td_diagnostic_t diagnostic = {
        .level = level,
        .source =
            reader->member_source ? reader->member_source : (reader->path ? reader->path : ""),
        .position = position ? position : "",
        .nct_id = "",
        .message = message,
    };
    reader->on_diag(&diagnostic, reader->user);
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
    *out = reader;
    return TD_OK;
}

static void close_member(td_reader_t *reader)
{
    free(reader->member_source);
    reader->member_source = NULL;
    reader->framing = FRAMING_NONE;
}

static void close_file(td_reader_t *reader)
{
    close_member(reader);
    if (reader->archive)
        archive_read_free(reader->archive);
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
    free(reader->record.data);
    free(reader);
}

td_reader_stats_t td_reader_stats(const td_reader_t *reader)
{
    return reader->stats;
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
        reader->stream_failed = true;
        char where[64];
        snprintf(where, sizeof(where), "line %zu", reader->line);
        diag(reader, TD_DIAG_ERROR, where, "read failed, rest of file skipped: %s",
             archive_error_string(reader->archive) ? archive_error_string(reader->archive)
                                                   : "unknown error");
    }
    return false;
}

/* Next byte of the member, or -1 at its end. */
static int next_byte(td_reader_t *reader)
{
    if (reader->stream_pos == reader->stream_len && !refill(reader))
        return -1;
    int c = (unsigned char) reader->stream[reader->stream_pos++];
    if (c == '\n')
        reader->line++;
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

/* ---- opening files and members ---- */

static const char *const compression_suffixes[] = {".gz", ".xz", ".bz2", ".zst", ""};

/* Whether `name` ends with `base` followed by an optional compression
 * suffix: has_suffix("a.jsonl.gz", ".jsonl") is true. */
static bool has_suffix(const char *name, const char *base)
{
    size_t len = strlen(name), base_len = strlen(base);
    for (size_t c = 0; c < sizeof(compression_suffixes) / sizeof(compression_suffixes[0]); c++) {
        size_t suffix_len = strlen(compression_suffixes[c]);
        if (len < base_len + suffix_len ||
            strcmp(name + len - suffix_len, compression_suffixes[c]) != 0)
            continue;
        if (strncmp(name + len - suffix_len - base_len, base, base_len) == 0)
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

static td_status_t expand_directory(td_reader_t *reader, const char *path)
{
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, alphasort);
    if (n < 0) {
        diag(reader, TD_DIAG_ERROR, NULL, "cannot read directory '%s': %s", path, strerror(errno));
        reader->stats.failed_sources++;
        return TD_OK;
    }
    td_status_t status = TD_OK;
    /* Push in reverse so the stack pops them in name order. */
    for (int i = n; i-- > 0;) {
        const char *name = entries[i]->d_name;
        if (status == TD_OK && name[0] != '.') {
            size_t len = strlen(path) + strlen(name) + 2;
            char *child = malloc(len);
            struct stat st;
            if (!child) {
                status = TD_ERR_NO_MEMORY;
            } else {
                snprintf(child, len, "%s/%s", path, name);
                bool wanted =
                    stat(child, &st) != 0 || S_ISDIR(st.st_mode) || is_record_file_name(name);
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
        char *path = reader->pending[--reader->pending_count];
        bool is_stdin = strcmp(path, "-") == 0;
        struct stat st;
        if (!is_stdin && stat(path, &st) != 0) {
            reader->path = path;
            diag(reader, TD_DIAG_ERROR, NULL, "cannot open: %s", strerror(errno));
            reader->stats.failed_sources++;
            free(path);
            reader->path = NULL;
            continue;
        }
        if (!is_stdin && S_ISREG(st.st_mode) && st.st_size == 0) {
            /* libarchive cannot tell the format of nothing. */
            reader->path = path;
            diag(reader, TD_DIAG_WARNING, NULL, "empty file, no records");
            free(path);
            reader->path = NULL;
            continue;
        }
        if (!is_stdin && S_ISDIR(st.st_mode)) {
            td_status_t status = expand_directory(reader, path);
            free(path);
            if (status != TD_OK)
                return status;
            continue;
        }
        struct archive *a = archive_read_new();
        if (!a) {
            free(path);
            return TD_ERR_NO_MEMORY;
        }
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_zip(a);
        archive_read_support_format_7zip(a);
        archive_read_support_format_cpio(a);
        archive_read_support_format_raw(a);
        int rc = is_stdin ? archive_read_open_fd(a, 0, STREAM_BUFFER)
                          : archive_read_open_filename(a, path, STREAM_BUFFER);
        reader->path = is_stdin ? (free(path), strdup("<stdin>")) : path;
        reader->archive = a;
        if (!reader->path)
            return TD_ERR_NO_MEMORY;
        if (rc != ARCHIVE_OK) {
            diag(reader, TD_DIAG_ERROR, NULL, "cannot open: %s", archive_error_string(a));
            reader->stats.failed_sources++;
            close_file(reader);
            continue;
        }
        return TD_OK;
    }
    return TD_DONE;
}

/* Chooses the member's format from its first byte when not forced. */
static void start_member(td_reader_t *reader)
{
    reader->stream_pos = reader->stream_len = 0;
    reader->stream_eof = reader->stream_failed = false;
    reader->line = 1;
    reader->record_number = 0;
    reader->framing = FRAMING_START;
    reader->member_format = reader->format;
    /* Skip a UTF-8 byte order mark and leading space. */
    if (peek_byte(reader) == 0xEF) {
        next_byte(reader);
        if (next_byte(reader) != 0xBB || next_byte(reader) != 0xBF) {
            diag(reader, TD_DIAG_ERROR, "byte 0", "not JSON or XML (bad byte order mark)");
            reader->framing = FRAMING_FINISHED;
            return;
        }
    }
    int c = skip_json_space(reader);
    if (c < 0) {
        if (!reader->stream_failed)
            diag(reader, TD_DIAG_WARNING, NULL, "empty file, no records");
        reader->framing = FRAMING_FINISHED;
        return;
    }
    bool xml = c == '<';
    if (reader->member_format == TD_FORMAT_AUTO) {
        if (!xml && c != '{' && c != '[') {
            diag(reader, TD_DIAG_WARNING, NULL,
                 "skipped: not JSON or XML (first byte 0x%02x); use --format to force one", c);
            reader->framing = FRAMING_FINISHED;
            return;
        }
    } else if (xml != (reader->member_format == TD_FORMAT_CTGOV_XML)) {
        diag(reader, TD_DIAG_ERROR, NULL, "not %s input (starts with '%c')",
             td_format_name(reader->member_format), c);
        reader->framing = FRAMING_FINISHED;
        return;
    }
    if (xml)
        reader->framing = FRAMING_XML;
    else if (is_json_lines_name(reader->member_source))
        reader->framing = FRAMING_LINES;
}

/* Moves to the next member of the open file. Returns TD_DONE at its end. */
static td_status_t open_next_member(td_reader_t *reader)
{
    for (;;) {
        close_member(reader);
        struct archive_entry *entry;
        int rc = archive_read_next_header(reader->archive, &entry);
        if (rc == ARCHIVE_EOF)
            return TD_DONE;
        if (rc == ARCHIVE_FATAL) {
            diag(reader, TD_DIAG_ERROR, NULL, "damaged or truncated archive, rest skipped: %s",
                 archive_error_string(reader->archive));
            reader->stats.failed_sources++;
            return TD_DONE;
        }
        if (rc == ARCHIVE_WARN)
            diag(reader, TD_DIAG_WARNING, NULL, "%s", archive_error_string(reader->archive));
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
        reader->stats.sources++;
        start_member(reader);
        return TD_OK;
    }
}

/* ---- JSON framing ---- */

typedef enum scan_result {
    SCAN_VALUE,     /* a complete value is in reader->record */
    SCAN_PAGE,      /* an object turned out to be an API page: now inside "studies" */
    SCAN_TRUNCATED, /* the member ended inside the value */
    SCAN_NO_MEMORY
} scan_result_t;

/* Reads a scalar element (string, number, literal) into reader->record. */
static scan_result_t scan_scalar(td_reader_t *reader, bool *oversized)
{
    bool in_string = peek_byte(reader) == '"', escaped = false;
    if (in_string && !record_append(reader, next_byte(reader), oversized))
        return SCAN_NO_MEMORY;
    for (;;) {
        int c = peek_byte(reader);
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

/* Reads one JSON value, whose first byte is next in the stream, into
 * reader->record. With detect_page, an object whose key "studies" at depth 1
 * holds an array stops there and returns SCAN_PAGE, with the stream just
 * past the '['. Only nesting and strings are checked here. */
static scan_result_t scan_value(td_reader_t *reader, bool detect_page, bool *oversized)
{
    reader->record.len = 0;
    *oversized = false;
    int first = peek_byte(reader);
    if (first != '{' && first != '[')
        return scan_scalar(reader, oversized);
    size_t depth = 0;
    bool in_string = false, escaped = false;
    bool expect_key = false; /* at depth 1 of an object, before a key */
    size_t key_start = 0;    /* record offset of the last string's opening quote */
    bool key_is_studies = false;
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
                    key_is_studies = reader->record.len - key_start == 9 &&
                                     memcmp(reader->record.data + key_start, "\"studies\"", 9) == 0;
                    expect_key = false;
                }
            }
            continue;
        }
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
            if (depth == 1 && key_is_studies) {
                key_is_studies = false;
                if (skip_json_space(reader) == '[') {
                    next_byte(reader);
                    return SCAN_PAGE;
                }
            }
            break;
        default:
            break;
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

/* After the "studies" array of a page: skips the rest of the page object. */
static void finish_page(td_reader_t *reader)
{
    size_t depth = 1;
    bool in_string = false, escaped = false;
    int c;
    while (depth && (c = next_byte(reader)) >= 0) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    if (depth) {
        diag(reader, TD_DIAG_ERROR, NULL, "truncated API page: input ends inside the page");
        reader->stats.failed_sources++;
    }
    reader->framing = FRAMING_TOP;
}

/* ---- turning framed bytes into a trial ---- */

/* Builds a trial from the framed bytes in reader->record. Returns TD_OK
 * with *out set, TD_ERR_BAD_INPUT when the record was reported and skipped,
 * or TD_ERR_NO_MEMORY. */
static td_status_t build_record(td_reader_t *reader, size_t first_line, td_trial_t **out)
{
    reader->record_number++;
    if (reader->framing == FRAMING_XML)
        reader->position[0] = '\0';
    else if (reader->framing == FRAMING_ARRAY || reader->framing == FRAMING_PAGE)
        snprintf(reader->position, sizeof(reader->position), "study %zu, line %zu",
                 reader->record_number, first_line);
    else
        snprintf(reader->position, sizeof(reader->position), "line %zu", first_line);

    td_trial_t *trial = td_trial_new();
    if (!trial)
        return TD_ERR_NO_MEMORY;
    td_record_ctx_t ctx = {
        .trial = trial,
        .source = reader->member_source,
        .position = reader->position,
        .on_diag = reader->on_diag,
        .user = reader->user,
    };
    const char *data = reader->record.data ? reader->record.data : "";
    size_t len = reader->record.len;
    char *repaired = NULL;
    size_t repaired_len = 0;
    size_t bad = td_utf8_repair(data, len, &repaired, &repaired_len);
    if (bad == (size_t) -1) {
        td_trial_free(trial);
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
        json_error_t error;
        json_t *value = json_loadb(data, len, JSON_DECODE_ANY, &error);
        if (!value) {
            status = td_record_reject(&ctx, "malformed JSON at line %zu, column %d: %s",
                                      first_line + (size_t) (error.line > 0 ? error.line - 1 : 0),
                                      error.column, error.text);
        } else if (!json_is_object(value)) {
            status = td_record_reject(&ctx, "expected a JSON object, got %s",
                                      json_is_array(value) ? "an array" : "a scalar");
            json_decref(value);
        } else {
            /* In auto mode a document with "_id" or "text" and no
             * "protocolSection" is a BEIR document. */
            bool beir = reader->member_format == TD_FORMAT_BEIR ||
                        (reader->member_format == TD_FORMAT_AUTO &&
                         !json_object_get(value, "protocolSection") &&
                         (json_object_get(value, "_id") || json_object_get(value, "text")));
            status = beir ? td_map_beir(&ctx, value) : td_map_ctgov_json(&ctx, value);
            json_decref(value);
        }
    }
    free(repaired);
    reader->stats.warnings += ctx.warnings;
    if (ctx.out_of_memory)
        status = TD_ERR_NO_MEMORY;

    if (status == TD_OK) {
        trial->source =
            td_trial_strndup(trial, reader->member_source, strlen(reader->member_source), NULL);
        trial->position = td_trial_strndup(trial, reader->position, strlen(reader->position), NULL);
        reader->stats.records++;
        *out = trial;
        return TD_OK;
    }
    if (status == TD_ERR_BAD_INPUT) {
        reader->stats.rejected++;
        if (reader->on_diag) {
            td_diagnostic_t diagnostic = {
                .level = TD_DIAG_ERROR,
                .source = reader->member_source,
                .position = reader->position,
                .nct_id = trial->nct_id,
                .message = ctx.error,
            };
            reader->on_diag(&diagnostic, reader->user);
        }
    }
    td_trial_free(trial);
    return status;
}

static void reject_oversized(td_reader_t *reader, size_t first_line, const char *what)
{
    char where[64];
    reader->record_number++;
    snprintf(where, sizeof(where), "line %zu", first_line);
    reader->stats.rejected++;
    diag(reader, TD_DIAG_ERROR, where, "%s larger than the %u MiB record limit; skipped", what,
         TD_RECORD_MAX >> 20);
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
            *first_line = 1;
            while ((c = next_byte(reader)) >= 0)
                if (!record_append(reader, c, &oversized))
                    return TD_ERR_NO_MEMORY;
            if (reader->stream_failed) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            if (oversized) {
                reader->framing = FRAMING_FINISHED;
                reject_oversized(reader, 1, "document");
                return TD_ERR_BAD_INPUT;
            }
            return TD_OK; /* build_record sees FRAMING_XML, then the member ends */
        }

        case FRAMING_LINES: {
            bool no_memory;
            *first_line = reader->line;
            if (!read_line(reader, &oversized, &no_memory)) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE;
            }
            if (no_memory)
                return TD_ERR_NO_MEMORY;
            if (oversized) {
                reject_oversized(reader, *first_line, "line");
                return TD_ERR_BAD_INPUT;
            }
            size_t i = 0;
            while (i < reader->record.len && is_json_space(reader->record.data[i]))
                i++;
            if (i == reader->record.len)
                continue; /* blank line */
            if (reader->stream_failed && reader->stream_eof) {
                reader->framing = FRAMING_FINISHED;
                return TD_DONE; /* a partial last line of a failed read */
            }
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
            if (c == '[') {
                next_byte(reader);
                reader->framing = FRAMING_ARRAY;
                continue;
            }
            if (c != '{') {
                char where[64];
                snprintf(where, sizeof(where), "line %zu", *first_line);
                diag(reader, TD_DIAG_ERROR, where,
                     "unexpected '%c' where a study or array should start; rest of file "
                     "skipped",
                     c);
                reader->framing = FRAMING_FINISHED;
                reader->stats.failed_sources++;
                return TD_DONE;
            }
            bool first = reader->framing == FRAMING_START;
            scan_result_t result = scan_value(reader, true, &oversized);
            if (result == SCAN_NO_MEMORY)
                return TD_ERR_NO_MEMORY;
            if (result == SCAN_PAGE) {
                reader->framing = FRAMING_PAGE;
                continue;
            }
            if (result == SCAN_TRUNCATED) {
                reader->framing = FRAMING_FINISHED;
                if (reader->stream_failed)
                    return TD_DONE;
                char where[64];
                snprintf(where, sizeof(where), "line %zu", *first_line);
                reader->stats.rejected++;
                reader->stats.failed_sources++;
                diag(reader, TD_DIAG_ERROR, where,
                     "truncated JSON: input ends inside the record that starts here");
                return TD_ERR_BAD_INPUT;
            }
            reader->framing = FRAMING_TOP;
            if (first && reader->line == *first_line) {
                /* An object on one line with more after a line end: JSON Lines. */
                size_t end_line = reader->line;
                if (skip_json_space(reader) >= 0 && reader->line > end_line)
                    reader->framing = FRAMING_LINES;
            }
            if (oversized) {
                reject_oversized(reader, *first_line, "record");
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
            scan_result_t result = c < 0 ? SCAN_TRUNCATED : scan_value(reader, false, &oversized);
            if (result == SCAN_NO_MEMORY)
                return TD_ERR_NO_MEMORY;
            if (result == SCAN_TRUNCATED) {
                reader->framing = FRAMING_FINISHED;
                if (reader->stream_failed)
                    return TD_DONE;
                char where[64];
                snprintf(where, sizeof(where), "study %zu, line %zu", reader->record_number + 1,
                         *first_line);
                diag(reader, TD_DIAG_ERROR, where,
                     "truncated JSON: input ends inside the array of studies");
                reader->stats.failed_sources++;
                if (c >= 0)
                    reader->stats.rejected++;
                return c >= 0 ? TD_ERR_BAD_INPUT : TD_DONE;
            }
            if (oversized) {
                reject_oversized(reader, *first_line, "study");
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
        if (reader->framing != FRAMING_NONE) {
            size_t first_line = 1;
            td_status_t status = frame_next(reader, &first_line);
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
            if (reader->stream_failed) {
                /* The archive cannot go on past a failed read. */
                reader->stats.failed_sources++;
                close_file(reader);
                continue;
            }
            close_member(reader);
        }
        if (reader->archive) {
            td_status_t status = open_next_member(reader);
            if (status == TD_DONE)
                close_file(reader);
            else if (status != TD_OK)
                return status;
            continue;
        }
        td_status_t status = open_next_file(reader);
        if (status != TD_OK)
            return status;
    }
}
