/* report.c - what every benchmark report prints: JSON strings and the
 * machine it ran on. Shared by trialdex-bench and the peers. */
#define _GNU_SOURCE /* getline under strict C11 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

void bench_print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

void bench_cpu_model(char *model, size_t size)
{
    snprintf(model, size, "unknown");
    FILE *file = fopen("/proc/cpuinfo", "r");
    char *line = NULL;
    size_t line_size = 0;
    while (file && getline(&line, &line_size, file) >= 0) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(model, size, "%s", colon);
            break;
        }
    }
    free(line);
    if (file)
        fclose(file);
}

void bench_query_set_clear(bench_query_set_t *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->texts[i]);
    free(set->texts);
    free(set->lines);
    memset(set, 0, sizeof(*set));
}

int bench_read_queries(const char *program, const char *path, bench_query_set_t *set)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "%s: cannot open %s: %s\n", program, path, strerror(errno));
        return 2;
    }
    char *line = NULL;
    size_t size = 0, number = 0;
    ssize_t len;
    int code = 0;
    while ((len = getline(&line, &size, file)) >= 0) {
        number++;
        while (len > 0 && strchr(" \t\r\n", line[len - 1]))
            line[--len] = '\0';
        const char *start = line + strspn(line, " \t");
        if (!*start || *start == '#')
            continue;
        char **texts = realloc(set->texts, (set->count + 1) * sizeof(*texts));
        if (texts)
            set->texts = texts;
        size_t *lines = realloc(set->lines, (set->count + 1) * sizeof(*lines));
        if (lines)
            set->lines = lines;
        if (!texts || !lines || !(set->texts[set->count] = strdup(start))) {
            fprintf(stderr, "%s: out of memory\n", program);
            code = 3;
            break;
        }
        set->lines[set->count++] = number;
    }
    if (!code && ferror(file)) {
        fprintf(stderr, "%s: cannot read %s: %s\n", program, path, strerror(errno));
        code = 2;
    }
    if (!code && !set->count) {
        fprintf(stderr, "%s: %s holds no queries\n", program, path);
        code = 2;
    }
    free(line);
    fclose(file);
    return code;
}
