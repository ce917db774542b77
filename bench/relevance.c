/* relevance.c - `trialdex-bench relevance`: runs a topic file on an index
 * and scores the ranking against relevance judgments. */
#define _XOPEN_SOURCE 700 /* strdup, gmtime_r, getline */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bench_internal.h"
#include "td_schema.h"
#include "td_search.h"

static const char relevance_usage[] =
    "usage: trialdex-bench relevance [-d DB] [--reference] [--condensed] [--depth N]\n"
    "                                [--relevant-grade N] [--run FILE] [--per-topic]\n"
    "                                [--config FILE] [--corpus NAME] TOPICS QRELS\n"
    "\n"
    "Runs every topic of TOPICS on the index DB (default $" TD_DB_ENV ", else\n"
    "./" TD_DB_DEFAULT ") and scores the rankings against the judgments in QRELS.\n"
    "\n"
    "  TOPICS  BEIR queries, JSON Lines of {\"_id\": \"20141\", \"text\": \"...\"}, or\n"
    "          TREC topics XML, <topic number=\"N\">text</topic> (all the text\n"
    "          inside the element); told apart by their first character.\n"
    "  QRELS   BEIR TSV (query-id, corpus-id, score; a header line is skipped)\n"
    "          or trec_eval qrels (topic, iteration, doc, grade); told apart by\n"
    "          the number of fields.\n"
    "\n"
    "Each topic text is free text, not the query language: '\"', '(', ')', ':',\n"
    "'*' and '=' become spaces, a '-' that starts a word is dropped and the\n"
    "words AND, OR, NOT and NEAR are lower-cased; '+' and '-' inside or after\n"
    "a word stay (HER2-, ER+). It is searched with td_search: limit --depth\n"
    "(default 1000), relevance order, partial matches allowed (a description\n"
    "of more than 16 words is matched partially), no facets, snippets or\n"
    "explanations. A topic whose search fails is reported and scored as an\n"
    "empty ranking. A hit's document ID is its NCT ID.\n"
    "\n"
    "  --reference         plain BM25: every field boost 1.0 except exclusion\n"
    "                      criteria (0 as in the default, so the same fields\n"
    "                      score), no lexicon expansion (expand 0), no phrase\n"
    "                      boost, no patient reading (patient 0); BM25\n"
    "                      parameters as the default. Without it, trialdex's\n"
    "                      default settings.\n"
    "  --config FILE       settings applied over the configuration, as\n"
    "                      'key = value' lines (trialdex-search --config); for\n"
    "                      tuning and ablations. The report names the file.\n"
    "  --condensed         drop trials not judged for the topic from its ranking\n"
    "                      before scoring (condensed lists; trec_eval -J).\n"
    "                      Without it an unjudged trial counts as not relevant.\n"
    "  --relevant-grade N  lowest grade that counts as relevant for P@10,\n"
    "                      R@100, R@1000 and MRR (default 1; TREC 2021: 2).\n"
    "  --run FILE          write the (uncondensed) ranking as a TREC run:\n"
    "                      'topic Q0 docid rank score tag', tag trialdex or\n"
    "                      trialdex-reference; the score is the weight to 6\n"
    "                      decimals, lowered by 0.000001 where it would tie the\n"
    "                      one above, so tools that sort by score keep the order.\n"
    "  --per-topic         print every topic's scores, not only the means.\n"
    "  --corpus NAME       name of the corpus in the report (default the DB path).\n"
    "\n"
    "Metrics: nDCG@10 with gain = grade (negative grades gain 0), discount\n"
    "log2(rank + 1), the ideal ranking made from all the topic's judgments;\n"
    "P@10 = relevant in the first 10 / 10; R@100 and R@1000 = relevant in the\n"
    "first 100 / 1000 over the topic's judged relevant trials; MRR = mean of\n"
    "1 / rank of the first relevant trial (0 when none is retrieved).\n"
    "Means: nDCG@10 and P@10 over every topic with at least one judgment (a\n"
    "topic with no positive grade scores 0, as in trec_eval); R@100, R@1000\n"
    "and MRR over the topics with at least one relevant trial; the others are\n"
    "excluded and counted in the report. Topics without judgments are run\n"
    "(and written to --run) but not scored.\n"
    "\n"
    "Output: a table (the setup, per topic with --per-topic, the means), then\n"
    "one line of JSON with the means and the report fields (corpus, documents,\n"
    "index revision, topics, qrels, configuration, CPU, cores, date).\n"
    "Exit status: 0; 1 when a topic's search failed (the run completes);\n"
    "2 usage or input error; 3 the index cannot be opened, or out of memory.\n";

/* ---- metrics ---- */

void bench_score_ranking(const int *grades, size_t ranked, const int *judged, size_t judged_count,
                         int relevant_grade, bench_metrics_t *out)
{
    assert(relevant_grade >= 1);
    memset(out, 0, sizeof(*out));
    /* The ideal first 10: the 10 highest positive grades, highest first. */
    int ideal[10];
    size_t ideal_count = 0;
    for (size_t i = 0; i < judged_count; i++) {
        int grade = judged[i];
        if (grade >= relevant_grade)
            out->relevant++;
        if (grade <= 0 || (ideal_count == 10 && grade <= ideal[9]))
            continue;
        size_t at = ideal_count < 10 ? ideal_count++ : 9;
        for (; at > 0 && ideal[at - 1] < grade; at--)
            ideal[at] = ideal[at - 1];
        ideal[at] = grade;
    }
    double dcg = 0, ideal_dcg = 0;
    for (size_t i = 0; i < ideal_count; i++)
        ideal_dcg += ideal[i] / log2((double) i + 2);
    size_t in10 = 0, in100 = 0, in1000 = 0;
    for (size_t i = 0; i < ranked; i++) {
        if (i < 10 && grades[i] > 0)
            dcg += grades[i] / log2((double) i + 2);
        if (grades[i] < relevant_grade)
            continue;
        if (out->reciprocal_rank == 0)
            out->reciprocal_rank = 1.0 / (double) (i + 1);
        in10 += i < 10;
        in100 += i < 100;
        in1000 += i < 1000;
    }
    out->ndcg10 = ideal_dcg > 0 ? dcg / ideal_dcg : 0;
    out->p10 = (double) in10 / 10;
    if (out->relevant) {
        out->recall100 = (double) in100 / (double) out->relevant;
        out->recall1000 = (double) in1000 / (double) out->relevant;
    }
}

/* ---- free text -> plain words ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *bench_plain_query(const char *text)
{
    size_t len = strlen(text);
    char *q = malloc(len + 1);
    if (!q)
        return NULL;
    for (size_t i = 0; i < len; i++)
        q[i] = strchr("\"():*=", text[i]) ? ' ' : text[i];
    q[len] = '\0';
    size_t i = 0;
    while (i < len) {
        if (is_space(q[i])) {
            i++;
            continue;
        }
        /* A leading '-' excludes the word; a leading '+' is skipped by the
         * lexer, so "+AND" would still be an operator. */
        while (i < len && q[i] == '-')
            q[i++] = ' ';
        size_t start = i;
        while (start < len && q[start] == '+')
            start++;
        size_t end = start;
        while (end < len && !is_space(q[end]))
            end++;
        size_t n = end - start;
        const char *w = q + start;
        bool is_operator = (n == 3 && (memcmp(w, "AND", 3) == 0 || memcmp(w, "NOT", 3) == 0)) ||
                           (n == 2 && memcmp(w, "OR", 2) == 0) ||
                           (n >= 4 && memcmp(w, "NEAR", 4) == 0 && (n == 4 || w[4] == '/'));
        if (is_operator)
            for (size_t k = start; k < end && k < start + 4; k++)
                if (q[k] >= 'A' && q[k] <= 'Z')
                    q[k] = (char) (q[k] - 'A' + 'a');
        i = end;
    }
    return q;
}

/* ---- topics and judgments ---- */

typedef struct topic {
    char *id;
    char *text;
} topic_t;

typedef struct judgment {
    char *topic, *doc;
    int grade;
} judgment_t;

typedef struct eval_data {
    topic_t *topics;
    size_t topic_count;
    judgment_t *judgments; /* sorted by topic, then doc */
    size_t judgment_count;
    size_t duplicates; /* judgments of a (topic, doc) already judged: the higher grade is kept */
} eval_data_t;

static void eval_data_clear(eval_data_t *data)
{
    for (size_t i = 0; i < data->topic_count; i++) {
        free(data->topics[i].id);
        free(data->topics[i].text);
    }
    for (size_t i = 0; i < data->judgment_count; i++) {
        free(data->judgments[i].topic);
        free(data->judgments[i].doc);
    }
    free(data->topics);
    free(data->judgments);
    memset(data, 0, sizeof(*data));
}

/* The whole file, NUL-terminated (malloc'd), or NULL after printing why. */
static char *read_whole_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "trialdex-bench: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 1 << 16, used = 0;
    char *data = malloc(capacity);
    while (data) {
        used += fread(data + used, 1, capacity - used - 1, file);
        if (used < capacity - 1)
            break;
        char *grown = realloc(data, capacity * 2);
        if (!grown)
            free(data);
        data = grown;
        capacity *= 2;
    }
    bool failed = ferror(file);
    fclose(file);
    if (!data || failed) {
        fprintf(stderr, "trialdex-bench: cannot read %s: %s\n", path,
                data ? strerror(errno) : "out of memory");
        free(data);
        return NULL;
    }
    data[used] = '\0';
    *size = used;
    return data;
}

/* The first character that is not white space or a UTF-8 byte-order mark. */
static char first_character(const char *data)
{
    if (strncmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3;
    while (is_space(*data))
        data++;
    return *data;
}

static int add_topic(eval_data_t *data, const char *path, const char *id, const char *text)
{
    for (size_t i = 0; i < data->topic_count; i++)
        if (strcmp(data->topics[i].id, id) == 0) {
            fprintf(stderr, "trialdex-bench: %s: topic %s appears twice\n", path, id);
            return 2;
        }
    topic_t *grown = realloc(data->topics, (data->topic_count + 1) * sizeof(*grown));
    if (!grown)
        return 3;
    data->topics = grown;
    topic_t *t = &data->topics[data->topic_count];
    t->id = strdup(id);
    t->text = strdup(text);
    if (!t->id || !t->text) {
        free(t->id);
        free(t->text);
        return 3;
    }
    data->topic_count++;
    return 0;
}

static int read_topics_jsonl(eval_data_t *data, const char *path, char *content)
{
    size_t number = 0;
    for (char *line = content, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        number++;
        if (!first_character(line))
            continue;
        json_error_t error;
        json_t *object = json_loads(line, 0, &error);
        json_t *id = object ? json_object_get(object, "_id") : NULL;
        json_t *text = object ? json_object_get(object, "text") : NULL;
        char number_id[32];
        const char *id_text = json_is_string(id) ? json_string_value(id) : NULL;
        if (json_is_integer(id)) {
            snprintf(number_id, sizeof(number_id), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            id_text = number_id;
        }
        int code = 2;
        if (!object)
            fprintf(stderr, "trialdex-bench: %s:%zu: malformed JSON: %s\n", path, number,
                    error.text);
        else if (!id_text || !*id_text || !json_is_string(text))
            fprintf(stderr, "trialdex-bench: %s:%zu: a topic needs \"_id\" and \"text\"\n", path,
                    number);
        else
            code = add_topic(data, path, id_text, json_string_value(text));
        json_decref(object);
        if (code)
            return code;
    }
    return 0;
}

static int read_topics_xml(eval_data_t *data, const char *path, const char *content, size_t size)
{
    if (size > INT_MAX) {
        fprintf(stderr, "trialdex-bench: %s: too large\n", path);
        return 2;
    }
    xmlDocPtr doc = xmlReadMemory(content, (int) size, path, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *error = xmlGetLastError();
        fprintf(stderr, "trialdex-bench: %s:%d: malformed XML: %s", path, error ? error->line : 0,
                error && error->message ? error->message : "unreadable\n");
        return 2;
    }
    int code = 0;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr node = root ? root->children : NULL; node && !code; node = node->next) {
        if (node->type != XML_ELEMENT_NODE || xmlStrcmp(node->name, BAD_CAST "topic") != 0)
            continue;
        xmlChar *number = xmlGetProp(node, BAD_CAST "number");
        xmlChar *text = xmlNodeGetContent(node);
        if (!number || !*number) {
            fprintf(stderr, "trialdex-bench: %s:%d: a <topic> needs a number=\"...\"\n", path,
                    xmlGetLineNo(node) > 0 ? (int) xmlGetLineNo(node) : 0);
            code = 2;
        } else {
            code = add_topic(data, path, (const char *) number, text ? (const char *) text : "");
        }
        xmlFree(number);
        xmlFree(text);
    }
    xmlFreeDoc(doc);
    if (!code && !data->topic_count) {
        fprintf(stderr, "trialdex-bench: %s holds no <topic> elements\n", path);
        code = 2;
    }
    return code;
}

static int read_topics(eval_data_t *data, const char *path)
{
    size_t size;
    char *content = read_whole_file(path, &size);
    if (!content)
        return 2;
    char first = first_character(content);
    int code;
    if (first == '<')
        code = read_topics_xml(data, path, content, size);
    else if (first == '{')
        code = read_topics_jsonl(data, path, content);
    else {
        fprintf(stderr, "trialdex-bench: %s: not BEIR queries (JSON Lines) nor TREC topics (XML)\n",
                path);
        code = 2;
    }
    free(content);
    if (!code && !data->topic_count) {
        fprintf(stderr, "trialdex-bench: %s holds no topics\n", path);
        code = 2;
    }
    return code;
}

static int compare_judgments(const void *a, const void *b)
{
    const judgment_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : strcmp(x->doc, y->doc);
}

static bool parse_grade(const char *text, int *grade)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end || errno || value < INT_MIN / 2 || value > INT_MAX / 2)
        return false;
    *grade = (int) value;
    return true;
}

static int read_qrels(eval_data_t *data, const char *path)
{
    size_t size;
    char *content = read_whole_file(path, &size);
    if (!content)
        return 2;
    int code = 0, format = 0; /* fields per line: 3 BEIR, 4 trec_eval */
    size_t number = 0;
    for (char *line = content, *next; line && !code; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        number++;
        char *fields[5], *save = NULL;
        int count = 0;
        for (char *f = strtok_r(line, " \t\r", &save); f; f = strtok_r(NULL, " \t\r", &save))
            if (count < 5)
                fields[count++] = f;
            else
                count = 6;
        if (!count)
            continue;
        int grade;
        if (count == 3 && !format && !data->judgment_count && !parse_grade(fields[2], &grade))
            continue; /* the BEIR header, "query-id corpus-id score" */
        if ((count != 3 && count != 4) || (format && count != format)) {
            fprintf(stderr,
                    "trialdex-bench: %s:%zu: expected 'query-id corpus-id score' (BEIR) or "
                    "'topic iteration doc grade' (trec_eval), consistently\n",
                    path, number);
            code = 2;
            break;
        }
        format = count;
        if (!parse_grade(fields[count - 1], &grade)) {
            fprintf(stderr, "trialdex-bench: %s:%zu: grade '%s' is not a whole number\n", path,
                    number, fields[count - 1]);
            code = 2;
            break;
        }
        judgment_t *grown = realloc(data->judgments, (data->judgment_count + 1) * sizeof(*grown));
        if (!grown) {
            code = 3;
            break;
        }
        data->judgments = grown;
        judgment_t *j = &data->judgments[data->judgment_count];
        j->topic = strdup(fields[0]);
        j->doc = strdup(fields[count == 3 ? 1 : 2]);
        j->grade = grade;
        if (!j->topic || !j->doc) {
            free(j->topic);
            free(j->doc);
            code = 3;
            break;
        }
        data->judgment_count++;
    }
    free(content);
    if (code)
        return code;
    if (!data->judgment_count) {
        fprintf(stderr, "trialdex-bench: %s holds no judgments\n", path);
        return 2;
    }
    qsort(data->judgments, data->judgment_count, sizeof(*data->judgments), compare_judgments);
    size_t kept = 0;
    for (size_t i = 0; i < data->judgment_count; i++) {
        judgment_t *j = &data->judgments[i];
        if (kept && compare_judgments(&data->judgments[kept - 1], j) == 0) {
            judgment_t *k = &data->judgments[kept - 1];
            if (j->grade > k->grade)
                k->grade = j->grade;
            free(j->topic);
            free(j->doc);
            data->duplicates++;
        } else {
            data->judgments[kept++] = *j;
        }
    }
    data->judgment_count = kept;
    return 0;
}

/* The judgments of `topic`: [*begin, *end) of data->judgments. */
static void topic_judgments(const eval_data_t *data, const char *topic, size_t *begin, size_t *end)
{
    size_t low = 0, high = data->judgment_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (strcmp(data->judgments[mid].topic, topic) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    *begin = low;
    while (high < data->judgment_count && strcmp(data->judgments[high].topic, topic) == 0)
        high++;
    *end = high;
}

/* The judgment of `doc` among [begin, end), or NULL. */
static const judgment_t *find_judgment(const eval_data_t *data, size_t begin, size_t end,
                                       const char *doc)
{
    while (begin < end) {
        size_t mid = begin + (end - begin) / 2;
        int c = strcmp(data->judgments[mid].doc, doc);
        if (!c)
            return &data->judgments[mid];
        if (c < 0)
            begin = mid + 1;
        else
            end = mid;
    }
    return NULL;
}

/* ---- report helpers ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The NCT ID at the start of a hit's DISPLAY JSON ({"nctId":"NCT...",...},
 * td_trial_json.h) into id; false when it is not there. */
static bool hit_nct_id(const char *display, char *id, size_t size)
{
    static const char key[] = "\"nctId\":\"";
    const char *at = display ? strstr(display, key) : NULL;
    if (!at)
        return false;
    at += sizeof(key) - 1;
    size_t len = strcspn(at, "\"");
    if (!len || len >= size || at[len] != '"')
        return false;
    memcpy(id, at, len);
    id[len] = '\0';
    return true;
}

/* ---- the run ---- */

typedef struct relevance_options {
    const char *db, *topics_file, *qrels_file, *run_file, *corpus, *config_file;
    bool reference, condensed, per_topic;
    uint32_t depth;
    int relevant_grade;
} relevance_options_t;

typedef struct topic_score {
    bool judged;                    /* has at least one judgment: scored */
    bool failed;                    /* the search failed: scored as an empty ranking */
    bool partial;                   /* the searcher fell back to partial matching */
    bool no_gain;                   /* judged, but no judgment has a positive grade: nDCG@10 is 0 */
    size_t judgments, hits, scored; /* scored: the ranking's length after condensing */
    bench_metrics_t metrics;
} topic_score_t;

typedef struct means {
    size_t judged, with_relevant;
    double ndcg10, p10, recall100, recall1000, mrr;
} means_t;

static means_t mean_scores(const topic_score_t *scores, size_t count)
{
    means_t m = {0};
    for (size_t i = 0; i < count; i++) {
        const topic_score_t *s = &scores[i];
        if (!s->judged)
            continue;
        m.judged++;
        m.ndcg10 += s->metrics.ndcg10;
        m.p10 += s->metrics.p10;
        if (!s->metrics.relevant)
            continue;
        m.with_relevant++;
        m.recall100 += s->metrics.recall100;
        m.recall1000 += s->metrics.recall1000;
        m.mrr += s->metrics.reciprocal_rank;
    }
    if (m.judged) {
        m.ndcg10 /= (double) m.judged;
        m.p10 /= (double) m.judged;
    }
    if (m.with_relevant) {
        m.recall100 /= (double) m.with_relevant;
        m.recall1000 /= (double) m.with_relevant;
        m.mrr /= (double) m.with_relevant;
    }
    return m;
}

/* Runs one topic: searches, writes its run lines, scores it. Returns 0, or
 * 3 after printing why (out of memory, the run file cannot be written). */
static int run_topic(td_searcher_t *searcher, const relevance_options_t *options,
                     const eval_data_t *data, const topic_t *topic, FILE *run, double *seconds,
                     topic_score_t *score)
{
    memset(score, 0, sizeof(*score));
    size_t begin, end;
    topic_judgments(data, topic->id, &begin, &end);
    score->judgments = end - begin;
    score->judged = end > begin;

    char *query = bench_plain_query(topic->text);
    int *grades = calloc(options->depth, sizeof(*grades));
    int *judged = calloc(end - begin + 1, sizeof(*judged));
    if (!query || !grades || !judged) {
        fprintf(stderr, "trialdex-bench: out of memory\n");
        free(query);
        free(grades);
        free(judged);
        return 3;
    }
    td_search_request_t request = td_search_request_default(query);
    request.limit = options->depth;
    request.facets = false;
    request.snippets = false;
    request.explain = false;
    request.partial_ok = true;
    td_search_result_t *result = NULL;
    td_query_error_t qerr = {0};
    double start = now_seconds();
    td_status_t status = td_search(searcher, &request, &result, &qerr);
    *seconds += now_seconds() - start;
    int code = 0;
    if (status != TD_OK) {
        score->failed = true;
        fprintf(stderr, "trialdex-bench: topic %s: search failed (%s) at byte %zu: %s%s%s\n",
                topic->id, td_status_str(status), qerr.position, qerr.message,
                qerr.hint[0] ? "; " : "", qerr.hint);
    } else {
        score->partial = result->partial;
        score->hits = result->hit_count;
        long long previous = 0;
        for (size_t i = 0; i < result->hit_count && !code; i++) {
            const td_hit_t *hit = &result->hits[i];
            char id[64];
            if (!hit_nct_id(hit->display, id, sizeof(id))) {
                fprintf(stderr, "trialdex-bench: topic %s: hit %zu has no NCT ID\n", topic->id,
                        i + 1);
                continue;
            }
            if (run) {
                long long micro = llround(hit->weight * 1e6);
                if (i && micro >= previous)
                    micro = previous - 1;
                previous = micro;
                if (fprintf(run, "%s Q0 %s %zu %.6f %s\n", topic->id, id, i + 1,
                            (double) micro / 1e6,
                            options->reference ? "trialdex-reference" : "trialdex") < 0) {
                    fprintf(stderr, "trialdex-bench: cannot write %s: %s\n", options->run_file,
                            strerror(errno));
                    code = 3;
                }
            }
            const judgment_t *j = find_judgment(data, begin, end, id);
            if (j || !options->condensed)
                grades[score->scored++] = j ? j->grade : 0;
        }
    }
    score->no_gain = score->judged;
    for (size_t i = begin; i < end; i++) {
        judged[i - begin] = data->judgments[i].grade;
        if (data->judgments[i].grade > 0)
            score->no_gain = false;
    }
    if (score->judged)
        bench_score_ranking(grades, score->scored, judged, end - begin, options->relevant_grade,
                            &score->metrics);
    td_search_result_free(result);
    free(query);
    free(grades);
    free(judged);
    return code;
}

static void print_topic_row(const topic_t *topic, const topic_score_t *s, bool condensed)
{
    printf("%-10s %7zu %5zu %6zu", topic->id, s->judgments, s->metrics.relevant, s->hits);
    if (condensed)
        printf(" %7zu", s->scored);
    if (!s->judged)
        printf("  %7s %6s %6s %6s %6s", "-", "-", "-", "-", "-");
    else if (!s->metrics.relevant)
        printf("  %7.4f %6.3f %6s %6s %6s", s->metrics.ndcg10, s->metrics.p10, "-", "-", "-");
    else
        printf("  %7.4f %6.3f %6.3f %6.3f %6.3f", s->metrics.ndcg10, s->metrics.p10,
               s->metrics.recall100, s->metrics.recall1000, s->metrics.reciprocal_rank);
    printf("%s%s%s\n", s->failed ? "  search failed" : "", s->partial ? "  partial" : "",
           !s->judged ? "  not judged" : "");
}

static void print_settings_json(const td_search_settings_t *s)
{
    printf("{");
    for (int f = 0; f < TD_FIELD_COUNT; f++)
        printf("\"boost.%s\":%g,", td_field_name((td_field_t) f), s->boost[f]);
    printf("\"phrase_boost\":%g,\"expand\":%d,\"patient\":%d,\"bm25.k1\":%g,\"bm25.k2\":%g,"
           "\"bm25.k3\":%g,\"bm25.b\":%g,\"bm25.min_normlen\":%g}",
           s->phrase_boost, s->expand ? 1 : 0, s->patient ? 1 : 0, s->bm25.k1, s->bm25.k2,
           s->bm25.k3, s->bm25.b, s->bm25.min_normlen);
}

static int relevance_fail(const char *fmt, const char *value)
{
    fprintf(stderr, "trialdex-bench: ");
    fprintf(stderr, fmt, value);
    fprintf(stderr, "\n%s", relevance_usage);
    return 2;
}

static bool parse_number(const char *text, long low, long high, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end || errno || value < low || value > high)
        return false;
    *out = value;
    return true;
}

static int parse_options(int argc, char **argv, relevance_options_t *o)
{
    const char *env = getenv(TD_DB_ENV);
    *o = (relevance_options_t){
        .db = env && *env ? env : TD_DB_DEFAULT, .depth = 1000, .relevant_grade = 1};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = strcmp(arg, "-d") == 0 || strcmp(arg, "--db") == 0 ||
                           strcmp(arg, "--depth") == 0 || strcmp(arg, "--run") == 0 ||
                           strcmp(arg, "--relevant-grade") == 0 || strcmp(arg, "--corpus") == 0 ||
                           strcmp(arg, "--config") == 0;
        if (takes_value && !value)
            return relevance_fail("%s needs a value", arg);
        long number;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(relevance_usage, stdout);
            return -1;
        } else if (strcmp(arg, "-d") == 0 || strcmp(arg, "--db") == 0)
            o->db = value;
        else if (strcmp(arg, "--depth") == 0) {
            if (!parse_number(value, 1, 100000, &number))
                return relevance_fail("--depth takes 1 to 100000, not '%s'", value);
            o->depth = (uint32_t) number;
        } else if (strcmp(arg, "--relevant-grade") == 0) {
            if (!parse_number(value, 1, 1000, &number))
                return relevance_fail("--relevant-grade takes 1 to 1000, not '%s'", value);
            o->relevant_grade = (int) number;
        } else if (strcmp(arg, "--run") == 0)
            o->run_file = value;
        else if (strcmp(arg, "--corpus") == 0)
            o->corpus = value;
        else if (strcmp(arg, "--config") == 0)
            o->config_file = value;
        else if (strcmp(arg, "--reference") == 0)
            o->reference = true;
        else if (strcmp(arg, "--condensed") == 0)
            o->condensed = true;
        else if (strcmp(arg, "--per-topic") == 0)
            o->per_topic = true;
        else if (arg[0] == '-' && arg[1])
            return relevance_fail("unknown option '%s'", arg);
        else if (!o->topics_file)
            o->topics_file = arg;
        else if (!o->qrels_file)
            o->qrels_file = arg;
        else
            return relevance_fail("one topics file and one qrels file only ('%s')", arg);
        if (takes_value)
            i++;
    }
    if (!o->qrels_file)
        return relevance_fail("a topics file and a qrels file are required%s", "");
    if (!o->corpus)
        o->corpus = o->db;
    return 0;
}

/* The searcher's settings for the configuration. */
static void relevance_settings(bool reference, td_search_settings_t *s)
{
    td_search_settings_default(s);
    if (!reference)
        return;
    /* Exclusion criteria keep their 0 so that both configurations score the
     * same fields; only the weighing differs. */
    for (int f = 0; f < TD_FIELD_COUNT; f++)
        if (f != TD_FIELD_EXCLUSION)
            s->boost[f] = 1.0;
    s->phrase_boost = 0;
    s->expand = false;
    s->patient = false;
}

typedef struct machine {
    char cpu[256]; /* CPU model */
    long cores;
    char date[32]; /* UTC, ISO 8601 */
} machine_t;

static void print_report(const relevance_options_t *o, const machine_t *machine,
                         const td_searcher_t *searcher, const td_search_settings_t *settings,
                         const eval_data_t *data, const topic_score_t *scores, size_t failed,
                         size_t partial, size_t unknown_topics, double search_seconds,
                         double wall_seconds)
{
    means_t m = mean_scores(scores, data->topic_count);
    size_t no_gain = 0;
    for (size_t i = 0; i < data->topic_count; i++)
        no_gain += scores[i].no_gain;
    const char *config = o->reference ? "reference" : "default";

    printf("\n");
    printf("means      %s over %zu judged topics", config, m.judged);
    printf(" (R@100, R@1000, MRR over the %zu with a trial of grade >= %d)\n", m.with_relevant,
           o->relevant_grade);
    printf("  nDCG@10 %.4f   P@10 %.4f   R@100 %.4f   R@1000 %.4f   MRR %.4f\n", m.ndcg10, m.p10,
           m.recall100, m.recall1000, m.mrr);
    printf("  %zu topics run, %zu judged, %zu excluded from the recall and MRR means (no "
           "relevant trial), %zu with no positive grade (nDCG@10 0)\n",
           data->topic_count, m.judged, m.judged - m.with_relevant, no_gain);
    printf("  %zu searches failed, %zu partial; %zu judged topics not in the topics file; "
           "%zu duplicate judgments (higher grade kept)\n",
           failed, partial, unknown_topics, data->duplicates);
    printf("  %.2f s in td_search (%.1f ms per topic), %.2f s in all\n", search_seconds,
           data->topic_count ? search_seconds * 1e3 / (double) data->topic_count : 0.0,
           wall_seconds);

    printf("{\"bench\":\"relevance\",\"config\":\"%s\",\"corpus\":", config);
    bench_print_json_string(o->corpus);
    printf(",\"db\":");
    bench_print_json_string(o->db);
    printf(",\"documents\":%u,\"revision\":%llu,\"topics_file\":", td_searcher_doc_count(searcher),
           (unsigned long long) td_searcher_revision(searcher));
    bench_print_json_string(o->topics_file);
    printf(",\"qrels_file\":");
    bench_print_json_string(o->qrels_file);
    printf(",\"judgments\":%zu,\"topics\":%zu,\"judged_topics\":%zu,"
           "\"topics_with_relevant\":%zu,\"excluded_from_recall_mrr\":%zu,"
           "\"no_positive_grade\":%zu,\"unknown_judged_topics\":%zu,\"failed\":%zu,"
           "\"partial\":%zu,\"depth\":%u,\"relevant_grade\":%d,\"condensed\":%s,",
           data->judgment_count, data->topic_count, m.judged, m.with_relevant,
           m.judged - m.with_relevant, no_gain, unknown_topics, failed, partial, o->depth,
           o->relevant_grade, o->condensed ? "true" : "false");
    printf("\"ndcg_at_10\":%.4f,\"p_at_10\":%.4f,\"recall_at_100\":%.4f,\"recall_at_1000\":%.4f,"
           "\"mrr\":%.4f,\"search_s\":%.3f,\"wall_s\":%.3f,\"settings\":",
           m.ndcg10, m.p10, m.recall100, m.recall1000, m.mrr, search_seconds, wall_seconds);
    print_settings_json(settings);
    printf(",\"config_file\":");
    if (o->config_file)
        bench_print_json_string(o->config_file);
    else
        printf("null");
    printf(",\"run_file\":");
    if (o->run_file)
        bench_print_json_string(o->run_file);
    else
        printf("null");
    printf(",\"cpu\":");
    bench_print_json_string(machine->cpu);
    printf(",\"cores\":%ld,\"date\":\"%s\"}\n", machine->cores, machine->date);
}

int bench_relevance(int argc, char **argv)
{
    double wall_start = now_seconds();
    relevance_options_t o;
    int code = parse_options(argc, argv, &o);
    if (code)
        return code < 0 ? 0 : code;
    eval_data_t data = {0};
    code = read_topics(&data, o.topics_file);
    if (!code)
        code = read_qrels(&data, o.qrels_file);
    if (code) {
        if (code == 3)
            fprintf(stderr, "trialdex-bench: out of memory\n");
        eval_data_clear(&data);
        return code;
    }
    /* Judged topics that the topics file does not hold: counted, not scored. */
    size_t unknown_topics = 0;
    for (size_t i = 0; i < data.judgment_count; i++) {
        if (i && strcmp(data.judgments[i].topic, data.judgments[i - 1].topic) == 0)
            continue;
        bool known = false;
        for (size_t t = 0; t < data.topic_count && !known; t++)
            known = strcmp(data.topics[t].id, data.judgments[i].topic) == 0;
        unknown_topics += !known;
    }

    td_search_settings_t settings;
    relevance_settings(o.reference, &settings);
    char *error = NULL;
    if (o.config_file && td_search_settings_load(&settings, o.config_file, &error) != TD_OK) {
        fprintf(stderr, "trialdex-bench: %s\n", error ? error : "cannot read the settings");
        free(error);
        eval_data_clear(&data);
        return 2;
    }
    td_searcher_t *searcher = NULL;
    if (td_searcher_open(o.db, &settings, &searcher, &error) != TD_OK) {
        fprintf(stderr, "trialdex-bench: %s\n", error ? error : "cannot open the index");
        free(error);
        eval_data_clear(&data);
        return 3;
    }
    FILE *run = NULL;
    if (o.run_file && !(run = fopen(o.run_file, "w"))) {
        fprintf(stderr, "trialdex-bench: cannot write %s: %s\n", o.run_file, strerror(errno));
        td_searcher_free(searcher);
        eval_data_clear(&data);
        return 2;
    }
    topic_score_t *scores = calloc(data.topic_count, sizeof(*scores));
    if (!scores) {
        fprintf(stderr, "trialdex-bench: out of memory\n");
        code = 3;
    }

    printf("relevance  %s: %s%s%s\n", o.reference ? "reference" : "default",
           o.reference ? "plain BM25 (every field boost 1.0, exclusion 0; no lexicon; no "
                         "phrase boost; no patient reading)"
                       : "trialdex's default settings (field boosts, lexicon, phrase boost, "
                         "patient reading)",
           o.config_file ? ", then " : "", o.config_file ? o.config_file : "");
    printf("corpus     %s (%u trials, index revision %llu, %s)\n", o.corpus,
           td_searcher_doc_count(searcher), (unsigned long long) td_searcher_revision(searcher),
           o.db);
    printf("topics     %s (%zu)\n", o.topics_file, data.topic_count);
    printf("qrels      %s (%zu judgments)\n", o.qrels_file, data.judgment_count);
    machine_t machine = {.cores = sysconf(_SC_NPROCESSORS_ONLN)};
    bench_cpu_model(machine.cpu, sizeof(machine.cpu));
    time_t now = time(NULL);
    struct tm utc;
    strftime(machine.date, sizeof(machine.date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    printf("machine    %s, %ld cores; %s\n", machine.cpu, machine.cores, machine.date);
    printf("protocol   depth %u; relevant = grade >= %d; %s\n", o.depth, o.relevant_grade,
           o.condensed ? "condensed lists (unjudged trials dropped)"
                       : "unjudged trials count as not relevant");
    if (o.per_topic) {
        printf("\n%-10s %7s %5s %6s", "topic", "judged", "rel", "hits");
        if (o.condensed)
            printf(" %7s", "scored");
        printf("  %7s %6s %6s %6s %6s\n", "nDCG@10", "P@10", "R@100", "R@1000", "RR");
    }
    fflush(stdout);

    double search_seconds = 0;
    size_t failed = 0, partial = 0;
    for (size_t t = 0; t < data.topic_count && !code; t++) {
        code = run_topic(searcher, &o, &data, &data.topics[t], run, &search_seconds, &scores[t]);
        failed += scores[t].failed;
        partial += scores[t].partial;
        if (!code && o.per_topic)
            print_topic_row(&data.topics[t], &scores[t], o.condensed);
    }
    if (run && fclose(run) != 0 && !code) {
        fprintf(stderr, "trialdex-bench: cannot write %s: %s\n", o.run_file, strerror(errno));
        code = 3;
    }
    if (!code)
        print_report(&o, &machine, searcher, &settings, &data, scores, failed, partial,
                     unknown_topics, search_seconds, now_seconds() - wall_start);
    free(scores);
    td_searcher_free(searcher);
    eval_data_clear(&data);
    return code ? code : failed ? 1 : 0;
}
