// Thin RAII wrapper around libpq: one connection, results, typed accessors, LISTEN/NOTIFY.
// Errors are reported as PgError exceptions (message from the server, SQLSTATE kept).
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rsync {

struct PgError : std::runtime_error {
    std::string sqlstate;
    bool connection_lost = false;
    PgError(const std::string& msg, std::string state, bool lost)
        : std::runtime_error(msg), sqlstate(std::move(state)), connection_lost(lost) {}
};

class PgResult {
public:
    explicit PgResult(PGresult* r = nullptr) : r_(r) {}
    PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    PgResult& operator=(PgResult&& o) noexcept {
        if (this != &o) {
            if (r_) PQclear(r_);
            r_ = o.r_;
            o.r_ = nullptr;
        }
        return *this;
    }
    PgResult(const PgResult&) = delete;
    PgResult& operator=(const PgResult&) = delete;
    ~PgResult() {
        if (r_) PQclear(r_);
    }

    int rows() const { return r_ ? PQntuples(r_) : 0; }
    int cols() const { return r_ ? PQnfields(r_) : 0; }
    bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
    std::string_view text(int row, int col) const {
        return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
    }
    std::string str(int row, int col) const { return std::string(text(row, col)); }
    std::optional<std::string> opt_str(int row, int col) const {
        if (is_null(row, col)) return std::nullopt;
        return str(row, col);
    }
    int64_t i64(int row, int col) const;  // throws PgError on NULL/non-integer
    std::optional<int64_t> opt_i64(int row, int col) const {
        if (is_null(row, col)) return std::nullopt;
        return i64(row, col);
    }
    bool boolean(int row, int col) const { return text(row, col) == "t"; }
    std::string command_tuples() const { return r_ ? PQcmdTuples(r_) : ""; }

private:
    PGresult* r_;
};

struct PgNotification {
    std::string channel;
    std::string payload;
    int backend_pid = 0;
};

class PgConnection {
public:
    // `conninfo`: a libpq connection string or URI ("" = libpq defaults / PG* environment).
    // Adds connect_timeout=5, TCP keepalives and application_name unless the string sets them.
    static std::unique_ptr<PgConnection> connect(const std::string& conninfo, std::string* error);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // Simple query protocol (may contain several statements; the last result is returned).
    PgResult exec(const std::string& sql);
    // Extended protocol, text parameters ($1, $2 ...); nullopt = SQL NULL.
    PgResult exec_params(const std::string& sql, const std::vector<std::optional<std::string>>& params);

    bool ok() const;
    int socket() const;
    // Reads whatever arrived on the socket; false when the connection broke.
    bool consume_input();
    std::vector<PgNotification> take_notifications();
    std::string error_message() const;  // last libpq error, single line
    PGconn* raw() { return conn_; }

private:
    explicit PgConnection(PGconn* c) : conn_(c) {}
    PgResult check(PGresult* r, const std::string& what);
    PGconn* conn_;
};

// Quotes an identifier for LISTEN etc.
std::string pg_quote_ident(PgConnection& c, std::string_view ident);

}  // namespace rsync
