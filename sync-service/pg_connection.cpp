#include "pg_connection.hpp"

#include <cerrno>
#include <cstdlib>

namespace rsync {
namespace {

std::string one_line(const char* s) {
    std::string out = s ? s : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    for (char& c : out) {
        if (c == '\n' || c == '\t') c = ' ';
    }
    return out;
}

}  // namespace

int64_t PgResult::i64(int row, int col) const {
    if (is_null(row, col)) throw PgError("unexpected NULL in column " + std::to_string(col), "", false);
    std::string s = str(row, col);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || end == s.c_str() || *end != '\0')
        throw PgError("not an integer in column " + std::to_string(col), "", false);
    return v;
}

std::unique_ptr<PgConnection> PgConnection::connect(const std::string& conninfo, std::string* error) {
    // Defaults first: settings in `conninfo` (expanded from "dbname") override them.
    const char* keys[] = {"connect_timeout", "keepalives",   "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "application_name", "dbname", nullptr};
    const char* vals[] = {"5", "1", "10", "5", "3", "routeshift-sync",
                          conninfo.empty() ? nullptr : conninfo.c_str(), nullptr};
    if (conninfo.empty()) keys[6] = nullptr;
    PGconn* c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        *error = "out of memory";
        return nullptr;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        *error = one_line(PQerrorMessage(c));
        PQfinish(c);
        return nullptr;
    }
    return std::unique_ptr<PgConnection>(new PgConnection(c));
}

PgConnection::~PgConnection() {
    if (conn_) PQfinish(conn_);
}

PgResult PgConnection::check(PGresult* r, const std::string& what) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return PgResult(r);
    std::string msg = r ? one_line(PQresultErrorMessage(r)) : one_line(PQerrorMessage(conn_));
    if (msg.empty()) msg = one_line(PQerrorMessage(conn_));
    std::string state;
    if (r) {
        const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (s) state = s;
        PQclear(r);
    }
    bool lost = PQstatus(conn_) != CONNECTION_OK;
    (void)what;
    throw PgError(msg, state, lost);
}

PgResult PgConnection::exec(const std::string& sql) { return check(PQexec(conn_, sql.c_str()), sql); }

PgResult PgConnection::exec_params(const std::string& sql,
                                   const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 sql);
}

bool PgConnection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

int PgConnection::socket() const { return conn_ ? PQsocket(conn_) : -1; }

bool PgConnection::consume_input() {
    if (PQconsumeInput(conn_) != 1) return false;
    return PQstatus(conn_) == CONNECTION_OK;
}

std::vector<PgNotification> PgConnection::take_notifications() {
    std::vector<PgNotification> out;
    while (PGnotify* n = PQnotifies(conn_)) {
        out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid});
        PQfreemem(n);
    }
    return out;
}

std::string PgConnection::error_message() const { return one_line(PQerrorMessage(conn_)); }

std::string pg_quote_ident(PgConnection& c, std::string_view ident) {
    char* q = PQescapeIdentifier(c.raw(), ident.data(), ident.size());
    if (!q) throw PgError("cannot quote identifier", "", false);
    std::string out = q;
    PQfreemem(q);
    return out;
}

}  // namespace rsync
