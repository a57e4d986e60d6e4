#include "migrations.hpp"

#include "key_hash.hpp"
#include "log.hpp"

#include <map>
#include <set>
#include <stdexcept>

namespace rsync {
namespace {

constexpr const char* kBootstrap =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version text PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now());"
    "COMMENT ON TABLE schema_migrations IS "
    "'Migrations applied by routeshift-sync migrate (one row per sql/NNN_name.sql file).';"
    "COMMENT ON COLUMN schema_migrations.version IS 'Numeric prefix of the file (\"001\").';"
    "COMMENT ON COLUMN schema_migrations.name IS 'Rest of the file name without .sql.';"
    "COMMENT ON COLUMN schema_migrations.checksum IS 'Hex SHA-256 of the file as applied.';"
    "COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied.';";

// Arbitrary constant identifying our advisory lock ("RSMIGRAT").
constexpr const char* kLockKey = "5972848449155974740";

std::map<std::string, std::pair<std::string, std::string>> applied_versions(PgConnection& conn) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    PgResult exists = conn.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists.boolean(0, 0)) return out;
    PgResult r = conn.exec("SELECT version, checksum, applied_at::text FROM schema_migrations ORDER BY version");
    for (int i = 0; i < r.rows(); ++i) out[r.str(i, 0)] = {r.str(i, 1), r.str(i, 2)};
    return out;
}

}  // namespace

std::vector<Migration> embedded_migrations() {
    std::vector<Migration> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < kEmbeddedMigrationCount; ++i) {
        std::string file = kEmbeddedMigrations[i].file;
        size_t digits = 0;
        while (digits < file.size() && file[digits] >= '0' && file[digits] <= '9') ++digits;
        if (digits == 0 || digits >= file.size() || file[digits] != '_' || file.size() < 5 ||
            file.substr(file.size() - 4) != ".sql")
            throw std::runtime_error("malformed migration file name: " + file);
        Migration m;
        m.version = file.substr(0, digits);
        m.name = file.substr(digits + 1, file.size() - digits - 5);
        m.file = file;
        m.sql = kEmbeddedMigrations[i].sql;
        m.checksum = virtual_key_hash_hex(m.sql);  // plain SHA-256 hex
        if (!seen.insert(m.version).second) throw std::runtime_error("duplicate migration version " + m.version);
        if (!out.empty() && out.back().version >= m.version)
            throw std::runtime_error("migrations out of order at " + file);
        out.push_back(std::move(m));
    }
    return out;
}

MigrateResult run_migrations(PgConnection& conn) {
    std::vector<Migration> all = embedded_migrations();
    MigrateResult res;
    conn.exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
    try {
        conn.exec("SET client_min_messages = warning");
        conn.exec(kBootstrap);
        auto applied = applied_versions(conn);
        for (const Migration& m : all) {
            auto it = applied.find(m.version);
            if (it != applied.end()) {
                if (it->second.first != m.checksum)
                    LOG_WARN("migration %s was applied with a different checksum (file changed since); "
                             "not re-applied", m.file.c_str());
                ++res.already;
                continue;
            }
            conn.exec("BEGIN");
            try {
                conn.exec(std::string(m.sql));
                conn.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                 {m.version, m.name, m.checksum});
                conn.exec("COMMIT");
            } catch (const PgError& e) {
                if (conn.ok()) {
                    try {
                        conn.exec("ROLLBACK");
                    } catch (const PgError&) {
                    }
                }
                throw PgError("migration " + m.file + " failed (rolled back): " + e.what(), e.sqlstate,
                              e.connection_lost);
            }
            LOG_INFO("applied migration %s", m.file.c_str());
            ++res.applied;
        }
    } catch (...) {
        if (conn.ok()) {
            try {
                conn.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
            } catch (const PgError&) {
            }
        }
        throw;
    }
    conn.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
    return res;
}

std::string schema_problem(PgConnection& conn) {
    auto applied = applied_versions(conn);
    std::string missing;
    for (const Migration& m : embedded_migrations()) {
        if (!applied.count(m.version)) missing += (missing.empty() ? "" : ", ") + m.file;
    }
    if (missing.empty()) return "";
    return "database schema is not up to date (pending: " + missing + "); run `routeshift-sync migrate`";
}

std::vector<std::string> migration_status(PgConnection& conn) {
    auto applied = applied_versions(conn);
    std::vector<std::string> out;
    for (const Migration& m : embedded_migrations()) {
        auto it = applied.find(m.version);
        std::string state = it == applied.end() ? "pending" : "applied " + it->second.second;
        if (it != applied.end() && it->second.first != m.checksum) state += " (checksum differs)";
        out.push_back(m.version + " " + m.name + " " + state);
    }
    return out;
}

}  // namespace rsync
