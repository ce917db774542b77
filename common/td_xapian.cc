/* td_xapian.cc - the C binding over Xapian; the contract is in td_xapian.h. */
#include "td_xapian.h"

#include <xapian.h>

#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

static_assert(sizeof(td_xdocid_t) == sizeof(Xapian::docid), "docid width");
static_assert(sizeof(uint32_t) == sizeof(Xapian::doccount), "doccount width");
static_assert(sizeof(uint32_t) == sizeof(Xapian::termcount), "termcount width");

namespace
{

constexpr bool same_flag(unsigned ours, unsigned xapians)
{
    return ours == xapians;
}

} // namespace

static_assert(same_flag(TD_XQP_BOOLEAN, Xapian::QueryParser::FLAG_BOOLEAN) &&
                  same_flag(TD_XQP_PHRASE, Xapian::QueryParser::FLAG_PHRASE) &&
                  same_flag(TD_XQP_LOVEHATE, Xapian::QueryParser::FLAG_LOVEHATE) &&
                  same_flag(TD_XQP_BOOLEAN_ANY_CASE, Xapian::QueryParser::FLAG_BOOLEAN_ANY_CASE) &&
                  same_flag(TD_XQP_WILDCARD, Xapian::QueryParser::FLAG_WILDCARD) &&
                  same_flag(TD_XQP_PURE_NOT, Xapian::QueryParser::FLAG_PURE_NOT) &&
                  same_flag(TD_XQP_PARTIAL, Xapian::QueryParser::FLAG_PARTIAL) &&
                  same_flag(TD_XQP_SYNONYM, Xapian::QueryParser::FLAG_SYNONYM) &&
                  same_flag(TD_XQP_AUTO_SYNONYMS, Xapian::QueryParser::FLAG_AUTO_SYNONYMS) &&
                  same_flag(TD_XQP_AUTO_MULTIWORD_SYNONYMS,
                            Xapian::QueryParser::FLAG_AUTO_MULTIWORD_SYNONYMS),
              "parser flags are passed through unchanged");
static_assert(same_flag(TD_XRANGE_SUFFIX, Xapian::RP_SUFFIX) &&
                  same_flag(TD_XRANGE_REPEATED, Xapian::RP_REPEATED) &&
                  same_flag(TD_XRANGE_PREFER_MDY, Xapian::RP_DATE_PREFER_MDY),
              "range flags are passed through unchanged");

namespace
{

constexpr size_t error_size = 512;

const char *system_error(const Xapian::Error &error) noexcept
{
    // Xapian builds this string lazily, so even reading it may throw.
    try {
        return error.get_error_string();
    } catch (...) {
        return nullptr;
    }
}

// Writes "<action> '<subject>': <type>: <detail> (<cause>)" (the parts that
// are present) into `sink`, when there is one, and returns `status`. Never
// allocates, so it is safe while handling bad_alloc.
td_status_t fail(char *sink, const char *action, const char *subject, td_status_t status,
                 const char *type, const char *detail, const char *cause = nullptr) noexcept
{
    if (!sink)
        return status;
    size_t used = 0;
    auto append = [&](const char *format, const char *text) {
        if (used >= error_size - 1)
            return;
        int n = std::snprintf(sink + used, error_size - used, format, text);
        if (n > 0)
            used = std::min(used + static_cast<size_t>(n), error_size - 1);
    };
    sink[0] = '\0';
    append("%s", action);
    if (subject)
        append(" '%s'", subject);
    if (type)
        append(": %s", type);
    append(": %s", detail);
    if (cause)
        append(" (%s)", cause);
    for (char *c = sink; *c; ++c)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return status;
}

td_status_t fail_xapian(char *sink, const char *action, const char *subject, td_status_t status,
                        const Xapian::Error &e) noexcept
{
    return fail(sink, action, subject, status, e.get_type(), e.get_msg().c_str(), system_error(e));
}

// The one mapping from exceptions to status codes. It must be called from a
// catch block: Xapian::Error has no virtual functions, so the exception in
// flight is rethrown to be sorted by type, most derived first.
td_status_t fail_current(char *sink, const char *action, const char *subject) noexcept
{
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_LOCKED, e);
    } catch (const Xapian::DatabaseNotFoundError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_NOT_FOUND, e);
    } catch (const Xapian::DocNotFoundError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_NOT_FOUND, e);
    } catch (const Xapian::DatabaseCorruptError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_CORRUPT, e);
    } catch (const Xapian::DatabaseVersionError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_CORRUPT, e);
    } catch (const Xapian::DatabaseOpeningError &e) {
        // Missing paths raise DatabaseNotFoundError (above); what is left is
        // a path that is not a database, unless the system itself refused.
        return fail_xapian(sink, action, subject, system_error(e) ? TD_ERR_IO : TD_ERR_CORRUPT, e);
    } catch (const Xapian::DatabaseModifiedError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_MODIFIED, e);
    } catch (const Xapian::DatabaseClosedError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_INVALID, e);
    } catch (const Xapian::DatabaseError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_IO, e);
    } catch (const Xapian::NetworkError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_IO, e);
    } catch (const Xapian::QueryParserError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_BAD_QUERY, e);
    } catch (const Xapian::WildcardError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_BAD_QUERY, e);
    } catch (const Xapian::RangeError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_RANGE, e);
    } catch (const Xapian::InvalidArgumentError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_RANGE, e);
    } catch (const Xapian::InvalidOperationError &e) {
        return fail_xapian(sink, action, subject, TD_ERR_INVALID, e);
    } catch (const Xapian::UnimplementedError &e) {
        // "Not on this backend" (synonyms on a remote database): a state
        // problem, not a fault in Xapian.
        return fail_xapian(sink, action, subject, TD_ERR_INVALID, e);
    } catch (const Xapian::Error &e) {
        return fail_xapian(sink, action, subject, TD_ERR_INTERNAL, e);
    } catch (const std::bad_alloc &) {
        return fail(sink, action, subject, TD_ERR_NO_MEMORY, nullptr, "out of memory");
    } catch (const std::exception &e) {
        return fail(sink, action, subject, TD_ERR_INTERNAL, nullptr, e.what());
    } catch (...) {
        return fail(sink, action, subject, TD_ERR_INTERNAL, nullptr, "unknown exception");
    }
}

// The one exception boundary: every entry point that calls into Xapian or
// allocates runs its body through here.
template <typename Body>
td_status_t guard(char *sink, const char *action, const char *subject, Body &&body) noexcept
{
    try {
        return body();
    } catch (...) {
        return fail_current(sink, action, subject);
    }
}

// A malloc'd, NUL-terminated copy for the caller to free().
char *copy_out(const std::string &text, size_t *len)
{
    char *copy = static_cast<char *>(std::malloc(text.size() + 1));
    if (!copy)
        throw std::bad_alloc();
    std::memcpy(copy, text.data(), text.size());
    copy[text.size()] = '\0';
    if (len)
        *len = text.size();
    return copy;
}

Xapian::Query::op op_of(td_xop_t op)
{
    switch (op) {
    case TD_XOP_AND:
        return Xapian::Query::OP_AND;
    case TD_XOP_OR:
        return Xapian::Query::OP_OR;
    case TD_XOP_AND_NOT:
        return Xapian::Query::OP_AND_NOT;
    case TD_XOP_AND_MAYBE:
        return Xapian::Query::OP_AND_MAYBE;
    case TD_XOP_FILTER:
        return Xapian::Query::OP_FILTER;
    case TD_XOP_PHRASE:
        return Xapian::Query::OP_PHRASE;
    case TD_XOP_NEAR:
        return Xapian::Query::OP_NEAR;
    case TD_XOP_ELITE_SET:
        return Xapian::Query::OP_ELITE_SET;
    case TD_XOP_SYNONYM:
        return Xapian::Query::OP_SYNONYM;
    }
    assert(!"unknown td_xop_t");
    return Xapian::Query::OP_OR;
}

Xapian::QueryParser::stem_strategy strategy_of(td_xstem_strategy_t strategy)
{
    switch (strategy) {
    case TD_XSTEM_NONE:
        return Xapian::QueryParser::STEM_NONE;
    case TD_XSTEM_SOME:
        return Xapian::QueryParser::STEM_SOME;
    case TD_XSTEM_SOME_FULL_POS:
        return Xapian::QueryParser::STEM_SOME_FULL_POS;
    case TD_XSTEM_ALL:
        return Xapian::QueryParser::STEM_ALL;
    case TD_XSTEM_ALL_Z:
        return Xapian::QueryParser::STEM_ALL_Z;
    }
    assert(!"unknown td_xstem_strategy_t");
    return Xapian::QueryParser::STEM_SOME;
}

struct hit {
    td_xdocid_t docid;
    uint32_t rank;
    double weight;
    int percent;
    uint32_t collapse_count;
};

} // namespace

struct td_xlist {
    std::vector<std::pair<std::string, uint64_t>> entries;
};

struct td_xdb {
    std::unique_ptr<Xapian::Database> db;
    bool writable = false;
    std::string name; // path or host:port, for messages
    char error[error_size] = "";
};

struct td_xdoc {
    Xapian::Document doc;
    char error[error_size] = "";
};

struct td_xquery {
    Xapian::Query query;
};

struct td_xstem {
    Xapian::Stem stem;
};

struct td_xqp {
    Xapian::QueryParser parser;
    char error[error_size] = "";
};

struct td_xspy {
    Xapian::ValueCountMatchSpy spy;
    explicit td_xspy(unsigned slot) : spy(slot)
    {
    }
};

// Settings only: each search builds a fresh Xapian::Enquire from them, which
// the result set then keeps, so a result set never sees a later query.
struct td_xenquire {
    Xapian::Database db;
    std::string name;
    Xapian::Query query;
    td_xbm25_t bm25 = {1.0, 0.0, 1.0, 0.5, 0.5};
    td_xsort_t sort = TD_XSORT_RELEVANCE;
    unsigned sort_slot = 0;
    bool descending = false;
    unsigned collapse_slot = 0;
    uint32_t collapse_max = 0;
    std::vector<std::unique_ptr<td_xspy>> spies;
    char error[error_size] = "";
};

struct td_xmset {
    Xapian::Enquire enquire; // answers "why matched" and snippets for this mset
    Xapian::MSet mset;
    std::string name;
    // Copied out once so that the per-hit getters touch no Xapian code.
    std::vector<hit> hits;
    uint32_t estimated = 0;
    uint32_t lower_bound = 0;
    uint32_t upper_bound = 0;
    char error[error_size] = "";
    td_xmset(Xapian::Enquire enquire_, Xapian::MSet mset_, std::string name_)
        : enquire(std::move(enquire_)), mset(std::move(mset_)), name(std::move(name_))
    {
    }
};

namespace
{

Xapian::WritableDatabase &writable(td_xdb_t *db)
{
    assert(db->writable);
    return static_cast<Xapian::WritableDatabase &>(*db->db);
}

// Hands the message of a function without a handle to its caller: a
// malloc'd copy in *error on failure (NULL if that cannot be had), NULL on
// success. Returns `status`.
td_status_t hand_over(td_status_t status, const char *message, char **error) noexcept
{
    if (error) {
        *error = nullptr;
        if (status != TD_OK) {
            size_t len = std::strlen(message) + 1;
            *error = static_cast<char *>(std::malloc(len));
            if (*error)
                std::memcpy(*error, message, len);
        }
    }
    return status;
}

template <typename Open>
td_status_t open_database(const char *action, const char *name, bool is_writable, td_xdb_t **out,
                          char **error, Open &&open)
{
    char message[error_size] = "";
    td_status_t status = guard(message, action, name, [&] {
        auto handle = std::make_unique<td_xdb>();
        handle->name = name;
        handle->db = open();
        handle->writable = is_writable;
        *out = handle.release();
        return TD_OK;
    });
    return hand_over(status, message, error);
}

// Resolves a user metadata key set in several shards to the value of the
// first shard, in the caller's order, that has it. Xapian hands over the
// competing values in no defined order (its merge breaks ties between equal
// keys arbitrarily), so they are looked up again.
class first_shard_metadata : public Xapian::Compactor
{
  public:
    explicit first_shard_metadata(const std::vector<Xapian::Database> &shards) : shards(shards)
    {
    }

    std::string resolve_duplicate_metadata(const std::string &key, size_t,
                                           const std::string tags[]) override
    {
        // Glass (1.4.22) passes the key as stored in its postlist table,
        // behind the two bytes that mark user metadata.
        static const std::string table_prefix("\0\xc0", 2);
        std::string user_key = key;
        if (user_key.compare(0, table_prefix.size(), table_prefix) == 0)
            user_key.erase(0, table_prefix.size());
        for (const Xapian::Database &shard : shards) {
            std::string value = shard.get_metadata(user_key);
            if (!value.empty())
                return value;
        }
        return tags[0];
    }

  private:
    const std::vector<Xapian::Database> &shards;
};

td_status_t new_list(td_xlist_t **out, std::vector<std::pair<std::string, uint64_t>> entries)
{
    *out = new td_xlist{std::move(entries)};
    return TD_OK;
}

} // namespace

/* ---- Lists ---- */

size_t td_xlist_count(const td_xlist_t *list)
{
    assert(list);
    return list->entries.size();
}

const char *td_xlist_string(const td_xlist_t *list, size_t index, size_t *len)
{
    assert(list && index < list->entries.size());
    const std::string &text = list->entries[index].first;
    if (len)
        *len = text.size();
    return text.c_str();
}

uint64_t td_xlist_number(const td_xlist_t *list, size_t index)
{
    assert(list && index < list->entries.size());
    return list->entries[index].second;
}

void td_xlist_free(td_xlist_t *list)
{
    delete list;
}

/* ---- Values ---- */

size_t td_xsortable_serialise(double value, char *out)
{
    assert(out);
    // At most 9 bytes, which std::string keeps inline: nothing here can throw.
    std::string encoded = Xapian::sortable_serialise(value);
    assert(encoded.size() <= TD_XSORTABLE_MAX);
    std::memcpy(out, encoded.data(), encoded.size());
    return encoded.size();
}

td_status_t td_xlatlong_serialise(const double *latitudes, const double *longitudes, size_t count,
                                  char **out, size_t *len)
{
    assert((latitudes && longitudes) || count == 0);
    assert(out && len);
    return guard(nullptr, nullptr, nullptr, [&] {
        Xapian::LatLongCoords coords;
        for (size_t i = 0; i < count; i++)
            coords.append(Xapian::LatLongCoord(latitudes[i], longitudes[i]));
        *out = copy_out(coords.serialise(), len);
        return TD_OK;
    });
}

/* ---- Databases ---- */

td_status_t td_xdb_open(const char *path, td_xdb_mode_t mode, td_xdb_t **out, char **error)
{
    assert(path && out);
    int action = 0;
    switch (mode) {
    case TD_XDB_READ:
        break;
    case TD_XDB_OPEN:
        action = Xapian::DB_OPEN;
        break;
    case TD_XDB_CREATE:
        action = Xapian::DB_CREATE;
        break;
    case TD_XDB_CREATE_OR_OPEN:
        action = Xapian::DB_CREATE_OR_OPEN;
        break;
    case TD_XDB_OVERWRITE:
        action = Xapian::DB_CREATE_OR_OVERWRITE;
        break;
    }
    bool is_writable = mode != TD_XDB_READ;
    return open_database("cannot open index", path, is_writable, out, error,
                         [&]() -> std::unique_ptr<Xapian::Database> {
                             if (!is_writable)
                                 return std::make_unique<Xapian::Database>(path);
                             return std::make_unique<Xapian::WritableDatabase>(path, action);
                         });
}

td_status_t td_xdb_open_remote(const char *host, unsigned port, unsigned timeout_ms, bool writable,
                               td_xdb_t **out, char **error)
{
    assert(host && out);
    char name[300];
    std::snprintf(name, sizeof name, "%s:%u", host, port);
    return open_database("cannot open remote index", name, writable, out, error,
                         [&]() -> std::unique_ptr<Xapian::Database> {
                             if (!writable)
                                 return std::make_unique<Xapian::Database>(
                                     Xapian::Remote::open(host, port, timeout_ms, timeout_ms));
                             return std::make_unique<Xapian::WritableDatabase>(
                                 Xapian::Remote::open_writable(host, port, timeout_ms, timeout_ms));
                         });
}

td_status_t td_xdb_add_database(td_xdb_t *db, const td_xdb_t *other)
{
    assert(db && other && !db->writable);
    return guard(db->error, "cannot add shard", other->name.c_str(), [&] {
        db->db->add_database(*other->db);
        return TD_OK;
    });
}

void td_xdb_close(td_xdb_t *db)
{
    if (!db)
        return;
    // Only a writable database is closed explicitly: that releases the lock
    // now, while a read-only one may still be shared by a sharded handle.
    if (db->writable)
        guard(nullptr, nullptr, nullptr, [&] {
            db->db->close();
            return TD_OK;
        });
    delete db;
}

const char *td_xdb_last_error(const td_xdb_t *db)
{
    assert(db);
    return db->error;
}

td_status_t td_xdb_reopen(td_xdb_t *db, bool *changed)
{
    assert(db);
    return guard(db->error, "cannot reopen", db->name.c_str(), [&] {
        bool reopened = db->db->reopen();
        if (changed)
            *changed = reopened;
        return TD_OK;
    });
}

td_status_t td_xdb_doc_count(td_xdb_t *db, uint32_t *out)
{
    assert(db && out);
    return guard(db->error, "cannot count documents in", db->name.c_str(), [&] {
        *out = db->db->get_doccount();
        return TD_OK;
    });
}

td_status_t td_xdb_term_exists(td_xdb_t *db, const char *term, bool *out)
{
    assert(db && term && out);
    return guard(db->error, "cannot look up term", term, [&] {
        *out = db->db->term_exists(term);
        return TD_OK;
    });
}

td_status_t td_xdb_termfreq(td_xdb_t *db, const char *term, uint32_t *out)
{
    assert(db && term && out);
    return guard(db->error, "cannot look up term", term, [&] {
        *out = db->db->get_termfreq(term);
        return TD_OK;
    });
}

td_status_t td_xdb_find_unique(td_xdb_t *db, const char *term, td_xdocid_t *out)
{
    assert(db && term && out);
    return guard(db->error, "cannot find a document with term", term, [&] {
        // Xapian reads the empty term as "every document".
        if (!*term)
            return fail(db->error, "cannot find a document with term", term, TD_ERR_RANGE, nullptr,
                        "the term is empty");
        Xapian::PostingIterator it = db->db->postlist_begin(term);
        if (it == db->db->postlist_end(term))
            return fail(db->error, "cannot find a document with term", term, TD_ERR_NOT_FOUND,
                        nullptr, "no document has it");
        *out = *it;
        return TD_OK;
    });
}

td_status_t td_xdb_terms_with_prefix(td_xdb_t *db, const char *prefix, td_xlist_t **out)
{
    assert(db && prefix && out);
    return guard(db->error, "cannot list the terms with prefix", prefix, [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        for (auto it = db->db->allterms_begin(prefix); it != db->db->allterms_end(prefix); ++it)
            entries.emplace_back(*it, it.get_termfreq());
        return new_list(out, std::move(entries));
    });
}

td_status_t td_xdb_revision(td_xdb_t *db, uint64_t *out)
{
    assert(db && out);
    return guard(db->error, "cannot read the revision of", db->name.c_str(), [&] {
        *out = db->db->get_revision();
        return TD_OK;
    });
}

td_status_t td_xdb_uuid(td_xdb_t *db, char **out)
{
    assert(db && out);
    return guard(db->error, "cannot read the UUID of", db->name.c_str(), [&] {
        *out = copy_out(db->db->get_uuid(), nullptr);
        return TD_OK;
    });
}

td_status_t td_xdb_stats(td_xdb_t *db, td_xdb_stats_t *out)
{
    assert(db && out);
    return guard(db->error, "cannot read the statistics of", db->name.c_str(), [&] {
        td_xdb_stats_t stats = {};
        stats.doc_count = db->db->get_doccount();
        stats.total_length = db->db->get_total_length();
        stats.average_length = db->db->get_average_length();
        stats.last_docid = db->db->get_lastdocid();
        stats.has_positions = db->db->has_positions();
        try {
            stats.revision = db->db->get_revision();
        } catch (const Xapian::InvalidOperationError &) {
            // Sharded: no single revision. Left 0, as documented.
        } catch (const Xapian::UnimplementedError &) {
            // Remote: the backend does not give it.
        }
        *out = stats;
        return TD_OK;
    });
}

td_status_t td_xdb_get_document(td_xdb_t *db, td_xdocid_t docid, td_xdoc_t **out)
{
    assert(db && out);
    return guard(db->error, "cannot read a document from", db->name.c_str(), [&] {
        auto doc = std::make_unique<td_xdoc>();
        doc->doc = db->db->get_document(docid);
        *out = doc.release();
        return TD_OK;
    });
}

td_status_t td_xdb_get_metadata(td_xdb_t *db, const char *key, char **value, size_t *len)
{
    assert(db && key && value);
    return guard(db->error, "cannot read metadata", key, [&] {
        std::string stored = db->db->get_metadata(key);
        // Xapian cannot store an empty value: empty means absent.
        if (stored.empty())
            return fail(db->error, "cannot read metadata", key, TD_ERR_NOT_FOUND, nullptr,
                        "no such key");
        *value = copy_out(stored, len);
        return TD_OK;
    });
}

td_status_t td_xdb_set_metadata(td_xdb_t *db, const char *key, const char *value, size_t len)
{
    assert(db && key && (value || len == 0));
    return guard(db->error, "cannot write metadata", key, [&] {
        writable(db).set_metadata(key, std::string(value ? value : "", len));
        return TD_OK;
    });
}

td_status_t td_xdb_replace_document(td_xdb_t *db, const char *unique_term, const td_xdoc_t *doc,
                                    td_xdocid_t *docid)
{
    assert(db && unique_term && doc);
    return guard(db->error, "cannot store document", unique_term, [&] {
        Xapian::docid id = writable(db).replace_document(unique_term, doc->doc);
        if (docid)
            *docid = id;
        return TD_OK;
    });
}

td_status_t td_xdb_delete_document(td_xdb_t *db, const char *unique_term)
{
    assert(db && unique_term);
    return guard(db->error, "cannot delete document", unique_term, [&] {
        writable(db).delete_document(std::string(unique_term));
        return TD_OK;
    });
}

td_status_t td_xdb_commit(td_xdb_t *db)
{
    assert(db);
    return guard(db->error, "cannot commit", db->name.c_str(), [&] {
        writable(db).commit();
        return TD_OK;
    });
}

td_status_t td_xdb_begin_transaction(td_xdb_t *db, bool flushed)
{
    assert(db);
    return guard(db->error, "cannot begin a transaction on", db->name.c_str(), [&] {
        writable(db).begin_transaction(flushed);
        return TD_OK;
    });
}

td_status_t td_xdb_commit_transaction(td_xdb_t *db)
{
    assert(db);
    return guard(db->error, "cannot commit the transaction on", db->name.c_str(), [&] {
        writable(db).commit_transaction();
        return TD_OK;
    });
}

td_status_t td_xdb_cancel_transaction(td_xdb_t *db)
{
    assert(db);
    return guard(db->error, "cannot cancel the transaction on", db->name.c_str(), [&] {
        writable(db).cancel_transaction();
        return TD_OK;
    });
}

td_status_t td_xdb_add_spelling(td_xdb_t *db, const char *word, uint32_t freq)
{
    assert(db && word);
    return guard(db->error, "cannot add spelling", word, [&] {
        writable(db).add_spelling(word, freq);
        return TD_OK;
    });
}

td_status_t td_xdb_remove_spelling(td_xdb_t *db, const char *word, uint32_t freq)
{
    assert(db && word);
    return guard(db->error, "cannot remove spelling", word, [&] {
        writable(db).remove_spelling(word, freq);
        return TD_OK;
    });
}

td_status_t td_xdb_spelling_suggestion(td_xdb_t *db, const char *word, unsigned max_edit_distance,
                                       char **out)
{
    assert(db && word && out);
    return guard(db->error, "cannot suggest a spelling for", word, [&] {
        std::string suggestion = db->db->get_spelling_suggestion(word, max_edit_distance);
        if (suggestion.empty())
            return fail(db->error, "cannot suggest a spelling for", word, TD_ERR_NOT_FOUND, nullptr,
                        "no dictionary word is close enough");
        *out = copy_out(suggestion, nullptr);
        return TD_OK;
    });
}

td_status_t td_xdb_add_synonym(td_xdb_t *db, const char *term, const char *synonym)
{
    assert(db && term && synonym);
    return guard(db->error, "cannot add a synonym of", term, [&] {
        writable(db).add_synonym(term, synonym);
        return TD_OK;
    });
}

td_status_t td_xdb_clear_synonyms(td_xdb_t *db, const char *term)
{
    assert(db && term);
    return guard(db->error, "cannot clear the synonyms of", term, [&] {
        writable(db).clear_synonyms(term);
        return TD_OK;
    });
}

td_status_t td_xdb_synonyms(td_xdb_t *db, const char *term, td_xlist_t **out)
{
    assert(db && term && out);
    return guard(db->error, "cannot read the synonyms of", term, [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        for (auto it = db->db->synonyms_begin(term); it != db->db->synonyms_end(term); ++it)
            entries.emplace_back(*it, 0);
        return new_list(out, std::move(entries));
    });
}

td_status_t td_xdb_spellings(td_xdb_t *db, td_xlist_t **out)
{
    assert(db && out);
    return guard(db->error, "cannot read the spelling dictionary of", db->name.c_str(), [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        for (auto it = db->db->spellings_begin(); it != db->db->spellings_end(); ++it)
            entries.emplace_back(*it, it.get_termfreq());
        return new_list(out, std::move(entries));
    });
}

td_status_t td_xdb_compact(td_xdb_t *db, const char *destination, bool multipass)
{
    assert(db && destination);
    return guard(db->error, "cannot compact into", destination, [&] {
        db->db->compact(destination, multipass ? Xapian::DBCOMPACT_MULTIPASS : 0);
        return TD_OK;
    });
}

td_status_t td_xdb_compact_shards(const char *const *sources, size_t count, const char *destination,
                                  char **error)
{
    assert(sources && count > 0 && destination);
    char message[error_size] = "";
    std::vector<Xapian::Database> shards;
    td_status_t status = TD_OK;
    for (size_t i = 0; status == TD_OK && i < count; ++i) {
        assert(sources[i]);
        status = guard(message, "cannot open shard", sources[i], [&] {
            shards.emplace_back(sources[i]);
            return TD_OK;
        });
    }
    if (status == TD_OK)
        status = guard(message, "cannot compact into", destination, [&] {
            Xapian::Database merged;
            for (const Xapian::Database &shard : shards)
                merged.add_database(shard);
            first_shard_metadata compactor(shards);
            merged.compact(destination, Xapian::DBCOMPACT_MULTIPASS, 0, compactor);
            return TD_OK;
        });
    return hand_over(status, message, error);
}

td_status_t td_xdb_check(const char *path, size_t *errors, char **report)
{
    assert(path && errors && report);
    const char *action = "cannot check index";
    char message[error_size] = "";
    std::ostringstream output;
    td_status_t status = guard(message, action, path, [&] {
        // Xapian reports a missing path as a failure to open it.
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT)
            return fail(message, action, path, TD_ERR_NOT_FOUND, nullptr,
                        "no such file or directory");
        size_t found = 0;
        try {
            // Options 0: every check; the tree-printing options only add output.
            found = Xapian::Database::check(path, 0, &output);
        } catch (const Xapian::DatabaseModifiedError &) {
            throw;
        } catch (const Xapian::DatabaseError &e) {
            // The checker stops at damage it cannot read past, often with a
            // plain DatabaseError; only one carrying a system error is I/O.
            if (system_error(e))
                throw;
            return fail_xapian(message, action, path, TD_ERR_CORRUPT, e);
        }
        *report = copy_out(output.str(), nullptr);
        *errors = found;
        return TD_OK;
    });
    if (status == TD_OK)
        return TD_OK;
    if (status == TD_ERR_CORRUPT)
        *errors = 1;
    *report = nullptr;
    guard(nullptr, nullptr, nullptr, [&] {
        std::string text = status == TD_ERR_CORRUPT ? output.str() : std::string();
        text += message;
        text += '\n';
        *report = copy_out(text, nullptr);
        return TD_OK;
    });
    return status;
}

/* ---- Documents ---- */

td_status_t td_xdoc_new(td_xdoc_t **out)
{
    assert(out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = new td_xdoc();
        return TD_OK;
    });
}

void td_xdoc_free(td_xdoc_t *doc)
{
    delete doc;
}

const char *td_xdoc_last_error(const td_xdoc_t *doc)
{
    assert(doc);
    return doc->error;
}

td_status_t td_xdoc_add_term(td_xdoc_t *doc, const char *term, uint32_t wdf)
{
    assert(doc && term);
    return guard(doc->error, "cannot add term", term, [&] {
        doc->doc.add_term(term, wdf);
        return TD_OK;
    });
}

td_status_t td_xdoc_add_boolean_term(td_xdoc_t *doc, const char *term)
{
    assert(doc && term);
    return guard(doc->error, "cannot add term", term, [&] {
        doc->doc.add_boolean_term(term);
        return TD_OK;
    });
}

td_status_t td_xdoc_add_posting(td_xdoc_t *doc, const char *term, uint32_t position, uint32_t wdf)
{
    assert(doc && term);
    return guard(doc->error, "cannot add posting", term, [&] {
        doc->doc.add_posting(term, position, wdf);
        return TD_OK;
    });
}

td_status_t td_xdoc_index_text(td_xdoc_t *doc, const td_xstem_t *stem, const char *text, size_t len,
                               const char *prefix, uint32_t *position)
{
    assert(doc && text && prefix && position);
    return guard(doc->error, "cannot index text", prefix, [&] {
        Xapian::TermGenerator generator;
        if (stem)
            generator.set_stemmer(stem->stem);
        generator.set_document(doc->doc);
        generator.set_termpos(*position);
        generator.index_text(std::string(text, len), 1, prefix);
        *position = generator.get_termpos();
        return TD_OK;
    });
}

td_status_t td_xdoc_remove_term(td_xdoc_t *doc, const char *term)
{
    assert(doc && term);
    return guard(doc->error, "cannot remove term", term, [&] {
        // Xapian reports a missing term as InvalidArgumentError; callers
        // need to tell "not there" from a bad argument.
        Xapian::TermIterator it = doc->doc.termlist_begin();
        it.skip_to(term);
        if (it == doc->doc.termlist_end() || *it != term)
            return fail(doc->error, "cannot remove term", term, TD_ERR_NOT_FOUND, nullptr,
                        "the document has no such term");
        doc->doc.remove_term(term);
        return TD_OK;
    });
}

td_status_t td_xdoc_set_value(td_xdoc_t *doc, unsigned slot, const char *value, size_t len)
{
    assert(doc && (value || len == 0));
    return guard(doc->error, "cannot set a value", nullptr, [&] {
        doc->doc.add_value(slot, std::string(value ? value : "", len));
        return TD_OK;
    });
}

td_status_t td_xdoc_get_value(td_xdoc_t *doc, unsigned slot, char **value, size_t *len)
{
    assert(doc && value);
    return guard(doc->error, "cannot read a value", nullptr, [&] {
        std::string stored = doc->doc.get_value(slot);
        if (stored.empty())
            return fail(doc->error, "cannot read a value", nullptr, TD_ERR_NOT_FOUND, nullptr,
                        ("slot " + std::to_string(slot) + " is empty").c_str());
        *value = copy_out(stored, len);
        return TD_OK;
    });
}

td_status_t td_xdoc_set_data(td_xdoc_t *doc, const char *data, size_t len)
{
    assert(doc && (data || len == 0));
    return guard(doc->error, "cannot set document data", nullptr, [&] {
        doc->doc.set_data(std::string(data ? data : "", len));
        return TD_OK;
    });
}

td_status_t td_xdoc_get_data(td_xdoc_t *doc, char **data, size_t *len)
{
    assert(doc && data);
    return guard(doc->error, "cannot read document data", nullptr, [&] {
        *data = copy_out(doc->doc.get_data(), len);
        return TD_OK;
    });
}

td_status_t td_xdoc_terms(td_xdoc_t *doc, td_xlist_t **out)
{
    assert(doc && out);
    return guard(doc->error, "cannot read the terms of a document", nullptr, [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        for (auto it = doc->doc.termlist_begin(); it != doc->doc.termlist_end(); ++it)
            entries.emplace_back(*it, it.get_wdf());
        return new_list(out, std::move(entries));
    });
}

td_status_t td_xdoc_values(td_xdoc_t *doc, td_xlist_t **out)
{
    assert(doc && out);
    return guard(doc->error, "cannot read the values of a document", nullptr, [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        for (auto it = doc->doc.values_begin(); it != doc->doc.values_end(); ++it)
            entries.emplace_back(*it, it.get_valueno());
        return new_list(out, std::move(entries));
    });
}

/* ---- Queries ---- */

namespace
{

template <typename Make> td_status_t new_query(td_xquery_t **out, Make &&make)
{
    assert(out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = new td_xquery{make()};
        return TD_OK;
    });
}

} // namespace

td_status_t td_xquery_new_term(const char *term, uint32_t wdf, uint32_t position, td_xquery_t **out)
{
    assert(term && *term);
    return new_query(out, [&] { return Xapian::Query(term, wdf, position); });
}

td_status_t td_xquery_new_compound(td_xop_t op, const td_xquery_t *const *children, size_t count,
                                   uint32_t window, td_xquery_t **out)
{
    assert(children || count == 0);
    return new_query(out, [&] {
        std::vector<Xapian::Query> subqueries;
        subqueries.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            assert(children[i]);
            subqueries.push_back(children[i]->query);
        }
        bool windowed = op == TD_XOP_PHRASE || op == TD_XOP_NEAR || op == TD_XOP_ELITE_SET;
        return Xapian::Query(op_of(op), subqueries.begin(), subqueries.end(),
                             windowed ? window : 0);
    });
}

td_status_t td_xquery_new_scaled(const td_xquery_t *query, double factor, td_xquery_t **out)
{
    assert(query && factor >= 0);
    return new_query(
        out, [&] { return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, query->query, factor); });
}

td_status_t td_xquery_new_constant(double weight, td_xquery_t **out)
{
    assert(weight >= 0);
    // A standard posting source, so a remote database can run it too.
    return new_query(out, [&] {
        return Xapian::Query((new Xapian::FixedWeightPostingSource(weight))->release());
    });
}

td_status_t td_xquery_new_value_range(unsigned slot, const char *low, size_t low_len,
                                      const char *high, size_t high_len, td_xquery_t **out)
{
    assert(low || high);
    return new_query(out, [&] {
        if (!high)
            return Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, std::string(low, low_len));
        if (!low)
            return Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, std::string(high, high_len));
        return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, std::string(low, low_len),
                             std::string(high, high_len));
    });
}

td_status_t td_xquery_new_match_all(td_xquery_t **out)
{
    // A fresh query, not a copy of the static Xapian::Query::MatchAll: its
    // reference count is not atomic, so copies of it made on two threads
    // corrupt it (searchers run on several threads). The empty term is
    // Xapian's way of saying "every document".
    return new_query(out, [] { return Xapian::Query(std::string()); });
}

td_status_t td_xquery_new_match_nothing(td_xquery_t **out)
{
    return new_query(out, [] { return Xapian::Query(); }); // shares nothing
}

td_status_t td_xquery_new_distance(unsigned slot, double latitude, double longitude,
                                   double max_metres, td_xquery_t **out)
{
    assert(out);
    if (latitude < -90 || latitude > 90 || max_metres < 0)
        return TD_ERR_RANGE;
    return new_query(out, [&] {
        Xapian::LatLongCoord centre(latitude, longitude);
        Xapian::GreatCircleMetric metric;
        // k1 and k2 are Xapian's defaults: the weight falls with distance.
        auto *source =
            new Xapian::LatLongDistancePostingSource(slot, centre, metric, max_metres, 1000, 1);
        return Xapian::Query(source->release());
    });
}

td_status_t td_xquery_describe(const td_xquery_t *query, char **out)
{
    assert(query && out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = copy_out(query->query.get_description(), nullptr);
        return TD_OK;
    });
}

void td_xquery_free(td_xquery_t *query)
{
    delete query;
}

/* ---- Stemmer ---- */

td_status_t td_xstem_new(const char *language, td_xstem_t **out)
{
    assert(language && out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = new td_xstem{Xapian::Stem(language)};
        return TD_OK;
    });
}

void td_xstem_free(td_xstem_t *stem)
{
    delete stem;
}

td_status_t td_xstem_word(const td_xstem_t *stem, const char *word, char **out)
{
    assert(stem && word && out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = copy_out(stem->stem(word), nullptr);
        return TD_OK;
    });
}

/* ---- Query parser ---- */

td_status_t td_xqp_new(td_xqp_t **out)
{
    assert(out);
    return guard(nullptr, nullptr, nullptr, [&] {
        *out = new td_xqp();
        return TD_OK;
    });
}

void td_xqp_free(td_xqp_t *qp)
{
    delete qp;
}

const char *td_xqp_last_error(const td_xqp_t *qp)
{
    assert(qp);
    return qp->error;
}

td_status_t td_xqp_set_stemmer(td_xqp_t *qp, const td_xstem_t *stem, td_xstem_strategy_t strategy)
{
    assert(qp);
    return guard(qp->error, "cannot set the stemmer", nullptr, [&] {
        qp->parser.set_stemmer(stem ? stem->stem : Xapian::Stem());
        qp->parser.set_stemming_strategy(strategy_of(strategy));
        return TD_OK;
    });
}

td_status_t td_xqp_set_default_op(td_xqp_t *qp, td_xop_t op)
{
    assert(qp);
    return guard(qp->error, "cannot set the default operator", nullptr, [&] {
        qp->parser.set_default_op(op_of(op));
        return TD_OK;
    });
}

td_status_t td_xqp_set_database(td_xqp_t *qp, td_xdb_t *db)
{
    assert(qp && db);
    return guard(qp->error, "cannot set the database", db->name.c_str(), [&] {
        qp->parser.set_database(*db->db);
        return TD_OK;
    });
}

td_status_t td_xqp_add_prefix(td_xqp_t *qp, const char *field, const char *prefix)
{
    assert(qp && field && prefix);
    return guard(qp->error, "cannot add field", field, [&] {
        qp->parser.add_prefix(field, prefix);
        return TD_OK;
    });
}

td_status_t td_xqp_add_boolean_prefix(td_xqp_t *qp, const char *field, const char *prefix,
                                      const char *grouping)
{
    assert(qp && field && prefix);
    return guard(qp->error, "cannot add boolean field", field, [&] {
        if (grouping) {
            std::string group(grouping);
            qp->parser.add_boolean_prefix(field, prefix, &group);
        } else {
            qp->parser.add_boolean_prefix(field, prefix);
        }
        return TD_OK;
    });
}

td_status_t td_xqp_add_number_range(td_xqp_t *qp, unsigned slot, const char *marker, unsigned flags)
{
    assert(qp && marker && (flags & ~(TD_XRANGE_SUFFIX | TD_XRANGE_REPEATED)) == 0);
    return guard(qp->error, "cannot add number range", marker, [&] {
        // release() hands the processor to the parser, which frees it.
        qp->parser.add_rangeprocessor(
            (new Xapian::NumberRangeProcessor(slot, marker, flags))->release());
        return TD_OK;
    });
}

td_status_t td_xqp_add_date_range(td_xqp_t *qp, unsigned slot, const char *marker, unsigned flags)
{
    assert(qp && marker &&
           (flags & ~(TD_XRANGE_SUFFIX | TD_XRANGE_REPEATED | TD_XRANGE_PREFER_MDY)) == 0);
    return guard(qp->error, "cannot add date range", marker, [&] {
        qp->parser.add_rangeprocessor(
            (new Xapian::DateRangeProcessor(slot, marker, flags))->release());
        return TD_OK;
    });
}

td_status_t td_xqp_parse(td_xqp_t *qp, const char *text, unsigned flags, const char *default_prefix,
                         td_xquery_t **out)
{
    const unsigned known = TD_XQP_DEFAULT | TD_XQP_BOOLEAN_ANY_CASE | TD_XQP_WILDCARD |
                           TD_XQP_PURE_NOT | TD_XQP_PARTIAL | TD_XQP_SYNONYM |
                           TD_XQP_AUTO_SYNONYMS | TD_XQP_AUTO_MULTIWORD_SYNONYMS;
    assert(qp && text && out && (flags & ~known) == 0);
    (void) known;
    return guard(qp->error, "cannot parse query", text, [&] {
        Xapian::Query query =
            qp->parser.parse_query(text, flags, default_prefix ? default_prefix : "");
        *out = new td_xquery{std::move(query)};
        return TD_OK;
    });
}

/* ---- Searching ---- */

td_status_t td_xenquire_new(td_xdb_t *db, td_xenquire_t **out)
{
    assert(db && out);
    return guard(db->error, "cannot search", db->name.c_str(), [&] {
        auto enquire = std::make_unique<td_xenquire>();
        enquire->db = *db->db;
        enquire->name = db->name;
        *out = enquire.release();
        return TD_OK;
    });
}

void td_xenquire_free(td_xenquire_t *enquire)
{
    delete enquire;
}

const char *td_xenquire_last_error(const td_xenquire_t *enquire)
{
    assert(enquire);
    return enquire->error;
}

void td_xenquire_set_query(td_xenquire_t *enquire, const td_xquery_t *query)
{
    assert(enquire && query);
    enquire->query = query->query;
}

void td_xenquire_set_bm25(td_xenquire_t *enquire, td_xbm25_t params)
{
    assert(enquire);
    enquire->bm25 = params;
}

void td_xenquire_set_sort(td_xenquire_t *enquire, td_xsort_t order, unsigned slot, bool descending)
{
    assert(enquire);
    enquire->sort = order;
    enquire->sort_slot = slot;
    enquire->descending = descending;
}

void td_xenquire_set_collapse(td_xenquire_t *enquire, unsigned slot, uint32_t max)
{
    assert(enquire);
    enquire->collapse_slot = slot;
    enquire->collapse_max = max;
}

td_status_t td_xenquire_add_spy(td_xenquire_t *enquire, unsigned slot, td_xspy_t **out)
{
    assert(enquire && out);
    return guard(enquire->error, "cannot add a facet spy", nullptr, [&] {
        enquire->spies.push_back(std::make_unique<td_xspy>(slot));
        *out = enquire->spies.back().get();
        return TD_OK;
    });
}

td_status_t td_xenquire_mset(td_xenquire_t *e, uint32_t first, uint32_t max,
                             uint32_t check_at_least, td_xmset_t **out)
{
    assert(e && out);
    return guard(e->error, "cannot search", e->name.c_str(), [&] {
        Xapian::Enquire enquire(e->db);
        enquire.set_query(e->query);
        enquire.set_weighting_scheme(
            Xapian::BM25Weight(e->bm25.k1, e->bm25.k2, e->bm25.k3, e->bm25.b, e->bm25.min_normlen));
        switch (e->sort) {
        case TD_XSORT_RELEVANCE:
            enquire.set_sort_by_relevance();
            break;
        case TD_XSORT_VALUE:
            enquire.set_sort_by_value(e->sort_slot, e->descending);
            break;
        case TD_XSORT_VALUE_THEN_RELEVANCE:
            enquire.set_sort_by_value_then_relevance(e->sort_slot, e->descending);
            break;
        case TD_XSORT_RELEVANCE_THEN_VALUE:
            enquire.set_sort_by_relevance_then_value(e->sort_slot, e->descending);
            break;
        }
        if (e->collapse_max > 0)
            enquire.set_collapse_key(e->collapse_slot, e->collapse_max);
        for (const auto &spy : e->spies)
            enquire.add_matchspy(&spy->spy);
        Xapian::MSet mset = enquire.get_mset(first, max, check_at_least);
        // The result set keeps this enquire, which must not point at spies
        // that td_xenquire_free may delete first.
        enquire.clear_matchspies();

        auto result = std::make_unique<td_xmset>(std::move(enquire), std::move(mset), e->name);
        result->estimated = result->mset.get_matches_estimated();
        result->lower_bound = result->mset.get_matches_lower_bound();
        result->upper_bound = result->mset.get_matches_upper_bound();
        result->hits.reserve(result->mset.size());
        for (auto it = result->mset.begin(); it != result->mset.end(); ++it)
            result->hits.push_back(
                {*it, it.get_rank(), it.get_weight(), it.get_percent(), it.get_collapse_count()});
        *out = result.release();
        return TD_OK;
    });
}

size_t td_xspy_total(const td_xspy_t *spy)
{
    assert(spy);
    return spy->spy.get_total();
}

td_status_t td_xspy_values(const td_xspy_t *spy, size_t top, td_xlist_t **out)
{
    assert(spy && out);
    return guard(nullptr, nullptr, nullptr, [&] {
        std::vector<std::pair<std::string, uint64_t>> entries;
        const Xapian::ValueCountMatchSpy &counts = spy->spy;
        auto end = top ? counts.top_values_end(top) : counts.values_end();
        for (auto it = top ? counts.top_values_begin(top) : counts.values_begin(); it != end; ++it)
            entries.emplace_back(*it, it.get_termfreq());
        return new_list(out, std::move(entries));
    });
}

/* ---- Result sets ---- */

size_t td_xmset_size(const td_xmset_t *mset)
{
    assert(mset);
    return mset->hits.size();
}

uint32_t td_xmset_matches_estimated(const td_xmset_t *mset)
{
    assert(mset);
    return mset->estimated;
}

uint32_t td_xmset_matches_lower_bound(const td_xmset_t *mset)
{
    assert(mset);
    return mset->lower_bound;
}

uint32_t td_xmset_matches_upper_bound(const td_xmset_t *mset)
{
    assert(mset);
    return mset->upper_bound;
}

td_xdocid_t td_xmset_docid(const td_xmset_t *mset, size_t index)
{
    assert(mset && index < mset->hits.size());
    return mset->hits[index].docid;
}

uint32_t td_xmset_rank(const td_xmset_t *mset, size_t index)
{
    assert(mset && index < mset->hits.size());
    return mset->hits[index].rank;
}

double td_xmset_weight(const td_xmset_t *mset, size_t index)
{
    assert(mset && index < mset->hits.size());
    return mset->hits[index].weight;
}

int td_xmset_percent(const td_xmset_t *mset, size_t index)
{
    assert(mset && index < mset->hits.size());
    return mset->hits[index].percent;
}

uint32_t td_xmset_collapse_count(const td_xmset_t *mset, size_t index)
{
    assert(mset && index < mset->hits.size());
    return mset->hits[index].collapse_count;
}

const char *td_xmset_last_error(const td_xmset_t *mset)
{
    assert(mset);
    return mset->error;
}

td_status_t td_xmset_data(td_xmset_t *mset, size_t index, char **data, size_t *len)
{
    assert(mset && index < mset->hits.size() && data);
    return guard(mset->error, "cannot read a hit from", mset->name.c_str(), [&] {
        *data = copy_out(mset->mset[index].get_document().get_data(), len);
        return TD_OK;
    });
}

td_status_t td_xmset_document(td_xmset_t *mset, size_t index, td_xdoc_t **out)
{
    assert(mset && index < mset->hits.size() && out);
    return guard(mset->error, "cannot read a hit from", mset->name.c_str(), [&] {
        auto doc = std::make_unique<td_xdoc>();
        doc->doc = mset->mset[index].get_document();
        *out = doc.release();
        return TD_OK;
    });
}

namespace
{

// The query terms a hit contains, in query order, each with its wdf in the
// hit's document.
std::vector<std::pair<std::string, uint64_t>> matching_terms(const td_xmset_t *mset, size_t index)
{
    Xapian::MSetIterator hit = mset->mset[index];
    std::vector<std::pair<std::string, uint64_t>> entries;
    for (auto it = mset->enquire.get_matching_terms_begin(hit);
         it != mset->enquire.get_matching_terms_end(hit); ++it)
        entries.emplace_back(*it, 0);

    // One pass over the document's sorted term list finds every wdf.
    std::vector<size_t> by_term(entries.size());
    for (size_t i = 0; i < by_term.size(); ++i)
        by_term[i] = i;
    std::sort(by_term.begin(), by_term.end(),
              [&](size_t a, size_t b) { return entries[a].first < entries[b].first; });
    Xapian::Document doc = hit.get_document();
    Xapian::TermIterator term = doc.termlist_begin();
    for (size_t i : by_term) {
        term.skip_to(entries[i].first);
        if (term != doc.termlist_end() && *term == entries[i].first)
            entries[i].second = term.get_wdf();
    }
    return entries;
}

} // namespace

td_status_t td_xmset_matching_terms(td_xmset_t *mset, size_t index, td_xlist_t **out)
{
    assert(mset && index < mset->hits.size() && out);
    return guard(mset->error, "cannot read the matching terms of a hit from", mset->name.c_str(),
                 [&] { return new_list(out, matching_terms(mset, index)); });
}

td_status_t td_xmset_snippet(td_xmset_t *mset, const char *text, size_t length,
                             const td_xstem_t *stem, const char *hi_start, const char *hi_end,
                             char **out)
{
    assert(mset && text && hi_start && hi_end && out);
    return guard(mset->error, "cannot make a snippet", nullptr, [&] {
        std::string snippet = mset->mset.snippet(text, length, stem ? stem->stem : Xapian::Stem(),
                                                 Xapian::MSet::SNIPPET_BACKGROUND_MODEL |
                                                     Xapian::MSet::SNIPPET_EXHAUSTIVE,
                                                 hi_start, hi_end);
        *out = copy_out(snippet, nullptr);
        return TD_OK;
    });
}

void td_xmset_free(td_xmset_t *mset)
{
    delete mset;
}
