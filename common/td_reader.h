/* td_reader.h - streaming readers for trial records.
 *
 * A reader walks a list of sources (files, directories, archives, or "-" for
 * standard input) and yields one td_trial_t at a time. Memory stays bounded
 * by the largest single record, whatever the size of the input.
 *
 * Formats (detected per file or archive member unless one is forced):
 *   TD_FORMAT_CTGOV_JSON  ClinicalTrials.gov API v2 JSON: one study object
 *                         (or several in a row), a JSON array of studies, an
 *                         API page ({"studies": [...], "nextPageToken": ...})
 *                         or JSON Lines of studies or of API pages. An object
 *                         is a page when its "studies" member is an array and
 *                         it has no "protocolSection" before it.
 *   TD_FORMAT_CTGOV_XML   legacy ClinicalTrials.gov <clinical_study> XML,
 *                         one study per file.
 *   TD_FORMAT_BEIR        JSON Lines of {"_id", "title"?, "text"} documents
 *                         whose _id is an NCT ID.
 * A file is read as JSON Lines when its name ends .jsonl or .ndjson (before
 * any compression suffix), or when its first object ends on its first line
 * with more after it, or cannot go on past its first line as JSON and the
 * next line starts with '{' (a broken first line: standard input has no
 * name to go by). Either way a broken line costs that record only.
 *
 * Any file may be gzip-, xz-, bzip2- or zstd-compressed, and tar, tar.gz,
 * tar.xz and zip archives are read member by member (the ClinicalTrials.gov
 * bulk downloads are such archives); a compressed file or archive inside an
 * archive is not opened. Directories are walked recursively in name order,
 * reading the files named *.json, *.jsonl, *.ndjson, *.xml, *.zip, *.tar,
 * *.tgz, *.txz or *.7z (each possibly ending .gz, .xz, .bz2 or .zst; case is
 * ignored) and passing over the rest; symbolic links are followed, but no
 * directory is walked twice. A file named explicitly is always read.
 *
 * Bad input never stops the reader: each problem is reported through the
 * diagnostic callback with its source and position, counted (see
 * td_reader_stats_t), and reading goes on. A malformed record is skipped
 * (an error) and reading goes on with the next record. A file or archive
 * member that is not JSON or XML (or not the forced format), cannot be read,
 * or ends early (truncation, a damaged member) is an error too; what was
 * read before the damage is kept and reading goes on with the next member
 * or file. An empty file is a warning.
 */
#ifndef TD_READER_H
#define TD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "td_status.h"
#include "td_trial.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest record a reader accepts, in bytes: a study's JSON or XML text, or
 * one line of JSON Lines. Larger records are reported and skipped. */
#define TD_RECORD_MAX (64u << 20)

typedef enum td_format {
    TD_FORMAT_AUTO = 0,
    TD_FORMAT_CTGOV_JSON,
    TD_FORMAT_CTGOV_XML,
    TD_FORMAT_BEIR
} td_format_t;

/* Parses a --format name: "auto", "json", "xml", "beir". Returns false for
 * anything else. */
bool td_format_parse(const char *name, td_format_t *out);

/* The --format name of a format ("json", ...). Static string. */
const char *td_format_name(td_format_t format);

typedef enum td_diag_level {
    TD_DIAG_WARNING, /* nothing was skipped: a record was kept with something in it
                        altered or dropped, or a file held no records */
    TD_DIAG_ERROR    /* a record, or the rest of a file or member, was skipped */
} td_diag_level_t;

/* One problem found while reading. All strings are valid only during the
 * callback.
 *
 * Positions: "line 12" is where a study object, a JSON Lines line or the
 * problem starts; "study 3, line 40" is the third element of an array or
 * API page, starting on line 40; "" means the whole file or member (an XML
 * document, or a problem such as "not JSON or XML"). Lines count from 1 in the
 * decompressed file or member; messages that quote a parser's line and
 * column ("malformed JSON at line 41, column 7") count the same way, columns
 * in characters from 1. */
typedef struct td_diagnostic {
    td_diag_level_t level;
    const char *source;   /* file, "archive!member", or "<stdin>" */
    const char *position; /* as above */
    const char *nct_id;   /* NCT ID of the record when known, else "" */
    const char *message;  /* one line, no trailing newline */
} td_diagnostic_t;

typedef void (*td_diag_fn)(const td_diagnostic_t *diagnostic, void *user);

/* Every diagnostic is counted once: a warning in `warnings`, an error in
 * `rejected` (a record was skipped), in `failed_sources` (the rest of a file
 * or member was), or in both (the input ended inside a record). */
typedef struct td_reader_stats {
    size_t sources;        /* files and archive members opened */
    size_t records;        /* trials returned */
    size_t rejected;       /* records skipped with an error */
    size_t warnings;       /* warnings reported */
    size_t failed_sources; /* files or members not read to their end: missing,
                              unreadable, not JSON or XML, truncated, damaged */
    uint64_t bytes;        /* bytes of record data read, after decompression */
    uint64_t input_bytes;  /* bytes of the source files consumed so far, as stored */
    uint64_t input_total;  /* the sources' total size as stored, or 0 when unknown
                              (standard input); input_bytes / input_total is the
                              progress */
} td_reader_stats_t;

typedef struct td_reader td_reader_t;

/* Opens a reader over `source_count` paths ("-" reads standard input).
 * Paths are checked lazily, as reading reaches them; a missing path is
 * reported as an error diagnostic. `on_diag` may be NULL to ignore
 * diagnostics (they are still counted).
 * Returns TD_OK with *out set (free with td_reader_close), or
 * TD_ERR_NO_MEMORY. */
td_status_t td_reader_open(const char *const *sources, size_t source_count, td_format_t format,
                           td_diag_fn on_diag, void *user, td_reader_t **out);

/* Reads the next trial. Returns TD_OK with *out set to a trial the caller
 * owns (free with td_trial_free), TD_DONE when every source is exhausted, or
 * TD_ERR_NO_MEMORY. Bad records never surface here: they go to the
 * diagnostic callback. */
td_status_t td_reader_next(td_reader_t *reader, td_trial_t **out);

/* Counters so far. */
td_reader_stats_t td_reader_stats(const td_reader_t *reader);

/* Closes the reader. Accepts NULL. */
void td_reader_close(td_reader_t *reader);

#ifdef __cplusplus
}
#endif

#endif
