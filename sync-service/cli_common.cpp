#include "cli.hpp"

#include "migrations.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace rsync {

std::unique_ptr<PgConnection> open_db(const Context& ctx) {
    std::string err;
    auto db = PgConnection::connect(ctx.conninfo, &err);
    if (!db) throw CommandError("cannot connect to Postgres: " + err);
    return db;
}

void require_schema(PgConnection& db) {
    std::string problem = schema_problem(db);
    if (!problem.empty()) throw CommandError(problem);
}

SecretBox load_secret_box(const Context& ctx) {
    std::string err;
    auto box = SecretBox::from_environment(ctx.secret_file, &err);
    if (!box) throw UsageError(err);
    return std::move(*box);
}

namespace {
bool all_digits(const std::string& s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
}  // namespace

int64_t resolve_provider(PgConnection& db, const std::string& v) {
    PgResult r = all_digits(v) ? db.exec_params("SELECT id FROM providers WHERE id = $1::bigint OR name = $1 "
                                                "ORDER BY (name = $1) DESC LIMIT 1", {v})
                               : db.exec_params("SELECT id FROM providers WHERE name = $1", {v});
    if (r.rows() != 1) throw CommandError("no provider named '" + v + "'");
    return r.i64(0, 0);
}

std::optional<std::string> provider_filter(PgConnection& db, const Context& ctx) {
    if (auto p = ctx.args.get("--provider")) return std::to_string(resolve_provider(db, *p));
    return std::nullopt;
}

int64_t resolve_team(PgConnection& db, const std::string& v) {
    PgResult r = all_digits(v) ? db.exec_params("SELECT id FROM teams WHERE id = $1::bigint OR name = $1 "
                                                "ORDER BY (name = $1) DESC LIMIT 1", {v})
                               : db.exec_params("SELECT id FROM teams WHERE name = $1", {v});
    if (r.rows() != 1) throw CommandError("no team '" + v + "' (create it with `routeshift-sync team add --name " + v + "`)");
    return r.i64(0, 0);
}

std::optional<std::string> opt_num(const Context& ctx, const char* name, long long lo, long long hi) {
    auto v = ctx.args.get_int(name, lo, hi);
    if (!v) return std::nullopt;
    return std::to_string(*v);
}

int64_t find_provider_key(PgConnection& db, const Context& ctx) {
    if (auto id = ctx.args.get_int("--id", 1, INT64_MAX)) {
        PgResult r = db.exec_params("SELECT id FROM provider_keys WHERE id = $1", {std::to_string(*id)});
        if (r.rows() != 1) throw CommandError("no provider key with id " + std::to_string(*id));
        return *id;
    }
    if (!ctx.args.has("--provider") || !ctx.args.has("--label"))
        throw UsageError("address the key with --id N, or with --provider P --label L");
    int64_t pid = resolve_provider(db, ctx.args.require("--provider"));
    PgResult r = db.exec_params("SELECT id FROM provider_keys WHERE provider_id = $1 AND label = $2",
                                {std::to_string(pid), ctx.args.require("--label")});
    if (r.rows() != 1)
        throw CommandError("provider " + ctx.args.require("--provider") + " has no key labelled '" +
                           ctx.args.require("--label") + "'");
    return r.i64(0, 0);
}

std::string read_secret_from_stdin(const char* what) {
    std::string s;
    if (isatty(STDIN_FILENO)) {
        std::fprintf(stderr, "%s (input hidden): ", what);
        std::fflush(stderr);
        termios old{}, quiet{};
        bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
        if (restore) {
            quiet = old;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        std::getline(std::cin, s);
        if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        std::fprintf(stderr, "\n");
    } else {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
            s.append(buf, n);
            if (s.size() > 65536) {
                wipe(s);
                throw UsageError(std::string(what) + " is too long (> 64 KiB)");
            }
        }
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t lead = 0;
    while (lead < s.size() && (s[lead] == ' ' || s[lead] == '\t')) ++lead;
    if (lead) s.erase(0, lead);
    if (s.empty()) throw UsageError(std::string(what) + " is empty: pass it on standard input");
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            wipe(s);
            throw UsageError(std::string(what) + " contains control characters (one line expected)");
        }
    }
    return s;
}

void print_table(const PgResult& r, const std::vector<std::string>& headers) {
    std::string line;
    for (size_t i = 0; i < headers.size(); ++i) line += (i ? "\t" : "") + headers[i];
    std::printf("%s\n", line.c_str());
    for (int row = 0; row < r.rows(); ++row) {
        line.clear();
        for (int col = 0; col < r.cols(); ++col) {
            if (col) line += '\t';
            line += r.is_null(row, col) ? std::string("-") : r.str(row, col);
        }
        std::printf("%s\n", line.c_str());
    }
}

void print_aligned_table(const std::vector<std::vector<std::string>>& rows, size_t first_right_aligned) {
    std::vector<size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            if (c) line += "  ";
            std::string pad(width[c] - row[c].size(), ' ');
            if (c >= first_right_aligned) line += pad + row[c];
            else line += c + 1 == row.size() ? row[c] : row[c] + pad;
        }
        std::printf("%s\n", line.c_str());
    }
}

std::string subcommand(const Context& ctx, const char* command, const char* choices) {
    if (ctx.args.positional.size() < 2)
        throw UsageError(std::string(command) + ": missing subcommand (" + choices + ")");
    if (ctx.args.positional.size() > 2)
        throw UsageError(std::string(command) + ": unexpected argument '" + ctx.args.positional[2] + "'");
    return ctx.args.positional[1];
}

}  // namespace rsync
